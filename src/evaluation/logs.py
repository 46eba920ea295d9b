"""Logging of pipeline steps: progress with counts to the rule's log file and to stderr.

A step that finishes ends its log with what it used (:func:`resources_line`), which ``make bench`` reads.
"""

from __future__ import annotations

import re
import sys
import time
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

        start = time.perf_counter()
        try:
            with threadpool_limits(limits=int(threads)):
                yield progress
        except EvaluationError as err:
            progress(f"ERROR: {err}")
            raise
        progress(resources_line(time.perf_counter() - start))


#: The last line of a step's log: its wall time, the CPU time of its process and the processes it waited for
#: (from its start, imports included), and the peak resident memory of the largest of them (kernel accounting).
RESOURCES = re.compile(r"resources: (?P<seconds>[\d.]+) s, CPU (?P<cpu>[\d.]+) s, largest process (?P<mb>[\d,]+) MB$")


def resources_line(seconds: float) -> str:
    """Describe what a step used (``seconds`` of wall time), in the form :data:`RESOURCES` reads back.

    Where the operating system keeps no such accounting (Windows), the wall time only.
    """
    try:
        import resource
    except ImportError:
        return f"resources: {seconds:.1f} s"
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    peak_mb = max(own.ru_maxrss, children.ru_maxrss) / 1024  # kilobytes on Linux
    return f"resources: {seconds:.1f} s, CPU {cpu:.1f} s, largest process {peak_mb:,.0f} MB"
