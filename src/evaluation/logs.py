"""Logging of pipeline steps: progress with counts to the rule's log file and to stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluation.errors import EvaluationError

Progress = Callable[[str], None]


@contextmanager
def step_log(path: str | Path, step: str) -> Iterator[Progress]:
    """Open the log of a pipeline step and yield a ``progress`` function.

    Each message goes to the log file and to stderr, prefixed with the step.
    An :class:`~evaluation.errors.EvaluationError` raised inside the block is
    written to the log before it propagates, so the log says why a step stopped.

    Parameters
    ----------
    path
        The log file (``logs/<rule>.log``); its folder is created.
    step
        Name of the step, used as prefix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:

        def progress(message: str) -> None:
            line = f"[{step}] {message}"
            handle.write(line + "\n")
            handle.flush()
            print(line, file=sys.stderr, flush=True)

        try:
            yield progress
        except EvaluationError as err:
            progress(f"ERROR: {err}")
            raise
