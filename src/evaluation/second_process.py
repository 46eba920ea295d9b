"""A second Python process for a step that can split its work in two: one core each.

Snakemake runs a rule's job as one process; a rule that declares ``threads: 2`` gets two cores, and some steps
can use them. Ingestion checks the other extracts while the population extract is written
(:mod:`evaluation.steps.ingest.parallel`); rendering renders half the documents (:mod:`evaluation.report.batch`).

:class:`SecondProcess` starts a new interpreter (``python -m evaluation.second_process``), not a fork: a fork
would share the first process's pages as they are at that moment and start with a copy of its threads. It calls
one function there, named ``"module:function"``, as ``function(inbox, *args)``; the function may wait for
further values from the first process (:meth:`Inbox.receive`), and what it returns comes back through
:meth:`SecondProcess.result`. Values travel as :mod:`pickle` over the second process's standard input and
output, so the arguments and the result must be picklable. Anything the libraries print in the second process
goes to standard error, which it shares with the first.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

#: The package's folder on ``sys.path``, so that the second process imports the same code.
_SOURCE = str(Path(__file__).resolve().parents[1])


class Inbox:
    """The second process's end of the pipe: the values the first process sends after the call."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def receive(self) -> Any:
        """Wait for the next value from the first process.

        Raises
        ------
        EOFError
            The first process closed the pipe (it stopped): the call should end.
        """
        return pickle.load(self._stream)


class SecondProcess:
    """Call ``function(inbox, *args)`` in a new Python process, one linear-algebra thread.

    Parameters
    ----------
    target
        ``"module:function"``: a module-level function of this package.
    *args
        Its arguments after the inbox (picklable).
    """

    def __init__(self, target: str, *args: Any) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SOURCE, env.get("PYTHONPATH", "")) if p)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"  # one core each: the first process's pools are held to one thread as well
        self._process = subprocess.Popen(
            [sys.executable, "-m", "evaluation.second_process"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.send((target, args))

    def send(self, value: Any) -> None:
        """Send a value to the call's :meth:`Inbox.receive`."""
        assert self._process.stdin is not None
        pickle.dump(value, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self._process.stdin.flush()

    def result(self) -> Any:
        """Wait for the call to return, and return its value.

        Raises
        ------
        RuntimeError
            If the second process ended without an answer (an unexpected error: its traceback is on
            standard error, or it was killed, for instance for lack of memory).
        """
        assert self._process.stdout is not None
        try:
            answer = pickle.load(self._process.stdout)
        except EOFError:
            code = self._process.wait()
            raise RuntimeError(
                f"The second process of this step stopped (exit code {code}) without finishing; its traceback, "
                "if any, is above. Give the rule one thread (snakemake --set-threads <rule>=1) to run it in one."
            ) from None
        self._process.wait()
        return answer

    def close(self) -> None:
        """End the second process if it still runs (the first stopped early), and close the pipes."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


def main() -> None:
    """Entry point of ``python -m evaluation.second_process``: read the call, run it, answer on standard output."""
    answer = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a library's print cannot corrupt the answer
    inbox = Inbox(sys.stdin.buffer)
    try:
        target, args = inbox.receive()
    except EOFError:
        return
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(module), name)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        value = function(inbox, *args)
    pickle.dump(value, answer, protocol=pickle.HIGHEST_PROTOCOL)
    answer.close()


if __name__ == "__main__":
    main()
