"""Logging of pipeline steps: progress with counts to the rule's log file and to stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluation.errors import EvaluationError

Progress = Callable[[str], None]


@contextmanager
def step_log(path: str | Path, step: str, *, threads: int = 1) -> Iterator[Progress]:
    """Open the log of a pipeline step and yield a ``progress`` function.

    Each message goes to the log file and to stderr, prefixed with the step.
    An :class:`~evaluation.errors.EvaluationError` raised inside the block is
    written to the log before it propagates, so the log says why a step stopped.

    Inside the block the linear-algebra thread pools (OpenBLAS, MKL, OpenMP) are held to
    ``threads`` (default one; every rule declares ``threads: 1`` but ``ingest`` and ``render_report``, whose
    second core runs a second process): Snakemake runs other jobs on the remaining cores, and a pool that
    takes every core of the machine only contends with them (on 2 cores with another job running, the
    economics bootstrap took twice as long with OpenBLAS's default pool). One thread also fixes the order of
    BLAS sums, run after run.

    Parameters
    ----------
    path
        The log file (``logs/<rule>.log``); its folder is created.
    step
        Name of the step, used as prefix.
    threads
        Threads the linear-algebra pools may use in the step.
    """
    # the libraries whose thread pools are held must be loaded first; only a running step pays for them
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:

        def progress(message: str) -> None:
            line = f"[{step}] {message}"
            handle.write(line + "\n")
            handle.flush()
            print(line, file=sys.stderr, flush=True)

        try:
            with threadpool_limits(limits=int(threads)):
                yield progress
        except EvaluationError as err:
            progress(f"ERROR: {err}")
            raise
