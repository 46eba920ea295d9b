"""A second ingestion process: the other extracts are checked and written while the population extract is finished.

Ingestion is the first long step of a national run, and nothing else can run beside it: every later step
reads its output. Its two large extracts, ``befolkning`` and ``foraeldre``, take most of the time, and only
one rule of the others (``after_period``) needs anything from ``befolkning``: the period end, its last
year. So with two cores (the rule's ``threads``) :func:`~evaluation.ingest.pipeline.ingest_folder` starts
:class:`SecondProcess`, which checks the other extracts in contract order while the first process checks
``befolkning``, waits for the period end after its first extract's checks, and then writes them (quarantine,
pseudonyms, Parquet) while the first process writes ``befolkning``. The same functions write the same
files; the first process reports the accounting lines and messages in contract order.

The second process is a new interpreter (``python -m evaluation.ingest.parallel``), not a fork of the first:
a fork would share the first's pages at the moment of the fork and start with a copy of its threads. The
two talk through the second process's standard input and output, with :mod:`pickle`:

1. the first sends the extracts (name and file) and the :class:`~evaluation.ingest.pipeline.Settings`;
2. the first sends the period end (or closes the pipe, when it stopped: the second then ends);
3. the second sends back the :class:`~evaluation.ingest.pipeline.Written` of each extract and the
   :class:`~evaluation.errors.EvaluationError` it stopped with, if any (a stop in ``on_invalid="stop"``
   mode, for instance). Another exception ends it with its traceback on standard error.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.ingest.pipeline import Settings, Written, check_one, write_one

#: The package's folder on ``sys.path``, so that the second process imports the same code.
_SOURCE = str(Path(__file__).resolve().parents[2])


class SecondProcess:
    """The second ingestion process, started with the extracts it is to ingest.

    Parameters
    ----------
    extracts
        ``(name, file)`` of each extract, in contract order, ``befolkning`` excluded.
    settings
        The ingestion's settings.
    """

    def __init__(self, extracts: list[tuple[str, Path]], settings: Settings) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SOURCE, env.get("PYTHONPATH", "")) if p)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"  # one core each, as the first process's threadpool limit
        self._process = subprocess.Popen(
            [sys.executable, "-m", "evaluation.ingest.parallel"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self._send((list(extracts), settings))

    def _send(self, value: object) -> None:
        assert self._process.stdin is not None
        pickle.dump(value, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self._process.stdin.flush()

    def send_period_end(self, period_end: pd.Timestamp | None) -> None:
        """Send the period end of the population extract; the second process then writes its extracts."""
        self._send(period_end)

    def result(self) -> tuple[list[Written], EvaluationError | None]:
        """Wait for the second process; return what it wrote and the error it stopped with, if any.

        Raises
        ------
        RuntimeError
            If it ended without an answer (an unexpected error: its traceback is on standard error).
        """
        assert self._process.stdout is not None
        try:
            answer = pickle.load(self._process.stdout)
        except EOFError:
            code = self._process.wait()
            raise RuntimeError(
                f"The second ingestion process stopped (exit code {code}) without finishing; its traceback is "
                "above. Set the ingest rule's threads to 1 to ingest in one process."
            ) from None
        self._process.wait()
        return answer

    def close(self) -> None:
        """End the second process if it still runs (the first stopped), and close the pipes."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


def serve(incoming: BinaryIO, outgoing: BinaryIO) -> None:
    """Run the second process's side: check, wait for the period end, write, answer (see the module's steps).

    Parameters
    ----------
    incoming
        Where the extracts, the settings and then the period end arrive.
    outgoing
        Where the answer goes.
    """
    extracts, settings = pickle.load(incoming)
    done: list[Written] = []
    error: EvaluationError | None = None
    waiting, period_end = True, None
    try:
        for name, path in extracts:
            checked = check_one(name, path, settings)
            if waiting:
                try:
                    period_end = pickle.load(incoming)
                except EOFError:
                    return  # the first process stopped
                waiting = False
            done.append(write_one(checked, period_end, settings))
            del checked
    except EvaluationError as err:
        error = err
    pickle.dump((done, error), outgoing, protocol=pickle.HIGHEST_PROTOCOL)
    outgoing.flush()


def main() -> None:
    """Entry point of ``python -m evaluation.ingest.parallel``: answer on the original standard output.

    Anything a library prints goes to standard error instead, so that it cannot corrupt the answer.
    """
    answer = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        serve(sys.stdin.buffer, answer)
    answer.close()


if __name__ == "__main__":
    main()
