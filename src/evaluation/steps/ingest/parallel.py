"""Ingestion on two cores: the other extracts are checked and written while the population extract is finished.

Ingestion is the first long step of a national run, and nothing else can run beside it: every later step
reads its output. Its two large extracts, ``befolkning`` and ``foraeldre``, take most of the time, and only
one rule of the others (``after_period``) needs anything from ``befolkning``: the period end, its last
year. So with two cores (the rule's ``threads``) :func:`~evaluation.steps.ingest.pipeline.ingest_folder` runs
:func:`serve` in a :class:`~evaluation.second_process.SecondProcess`, which checks the other extracts in
contract order while the first process checks ``befolkning``, receives the period end after its first
extract's checks, and then writes them (quarantine, pseudonyms, Parquet) while the first process writes
``befolkning``. The same functions write the same files; the first process reports the accounting lines and
messages in contract order.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.errors import EvaluationError
from evaluation.second_process import Inbox
from evaluation.steps.ingest.pipeline import Settings, Written, check_one, write_one


def serve(
    inbox: Inbox, extracts: list[tuple[str, Path]], settings: Settings
) -> tuple[list[Written], EvaluationError | None] | None:
    """Check, receive the period end, write: the second process's part of an ingestion.

    Parameters
    ----------
    inbox
        Where the period end arrives (after the first extract is checked).
    extracts
        ``(name, file)`` of each extract, in contract order, ``befolkning`` excluded.
    settings
        The ingestion's settings.

    Returns
    -------
    tuple or None
        What was written, extract by extract (the last one may carry the row problem that stops the
        ingestion in ``on_invalid="stop"`` mode), and another :class:`~evaluation.errors.EvaluationError`
        the work stopped with (an unreadable file, for instance), or None; None instead of the pair when the
        first process stopped before it sent the period end.
    """
    done: list[Written] = []
    waiting, period_end = True, None
    try:
        for name, path in extracts:
            checked = check_one(name, path, settings)
            if waiting:
                try:
                    period_end = inbox.receive()
                except EOFError:
                    return None
                waiting = False
            done.append(write_one(checked, period_end, settings))
            del checked
            if done[-1].error is not None:
                break  # the first process reports the lines before it and raises the error, as in one process
    except EvaluationError as err:
        return done, err
    return done, None
