"""Shared fixtures: paths of the project, and the one tiny pipeline run that the end-to-end tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workspace import kill_and_resume, make_workspace

ROOT = Path(__file__).resolve().parents[1]

#: Linear-algebra thread pools of one thread, in the test processes and the processes they start, as every
#: pipeline step has (:func:`evaluation.logs.step_log`). ``make test`` runs two pytest-xdist workers and the
#: end-to-end pipelines on two cores; OpenBLAS's default pool of one thread per core made each worker's matrix
#: work contend with the other processes, and its waiting threads spin: the same test took 3 s or 40 s
#: depending on what ran beside it.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
for _name, _value in BLAS_THREADS.items():
    os.environ.setdefault(_name, _value)


def pytest_configure(config) -> None:
    """Hold the pools already loaded (numpy may be imported before this file) to one thread for the session."""
    from threadpoolctl import threadpool_limits

    config._blas_limits = threadpool_limits(limits=1)  # kept alive for the session; the processes end with it


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def config_path() -> Path:
    return ROOT / "config" / "config.yaml"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The whole pipeline, rendering and the output guard included, on the tiny synthetic registry, with 2 cores.

    Killed with ``SIGKILL`` once ingestion has finished and resumed (:func:`workspace.kill_and_resume`), so that
    every test of its outputs also tests a resumed run. Run once per test session in a fresh workspace (what a
    clone holds of the workflow) and shared by every end-to-end test that can read its outputs:
    ``test_pipeline.py``, ``test_browser.py``, ``test_reproducibility.py`` (the resume itself) and
    ``test_slurm.py`` (an uninterrupted run through SLURM must give the same bytes). Tests only read it; a test
    that plants a file works on a copy (:func:`workspace.copy_run`). Under pytest-xdist the first worker that
    asks runs it while the others wait on a lock, so the session still runs it once.
    ``EVALUATION_TINY_RUN=<folder>`` reads a finished run of the same kind instead (a quicker loop while working
    on the reports; CI never sets it).
    """
    reuse = os.environ.get("EVALUATION_TINY_RUN")
    if reuse:
        return Path(reuse)
    return shared_once(tmp_path_factory, "tiny_run", lambda dest: kill_and_resume(make_workspace(dest), 2))


def shared_once(tmp_path_factory, name: str, build) -> Path:
    """The folder ``name`` built by ``build(folder)`` once per test session, whichever xdist worker asks first.

    Without xdist this is a plain session fixture body. Under xdist the workers share the parent of their
    base temporary folders: the first worker holds an exclusive lock while it builds, and the others wait
    and then use its folder. A failed build is recorded, so the others fail at once with the same message
    instead of building again.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()
    if worker is None:
        folder = base / name
        build(folder)
        return folder
    import fcntl  # POSIX file locks; needed only by xdist workers

    shared = base.parent
    folder, built, failed = shared / name, shared / f"{name}.built", shared / f"{name}.failed"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if failed.exists():
            pytest.fail(f"{name} failed in another worker:\n{failed.read_text(encoding='utf-8')}")
        if not built.exists():
            try:
                build(folder)
            except BaseException as err:
                failed.write_text(f"{type(err).__name__}: {err}", encoding="utf-8")
                raise
            built.touch()
    return folder


#: The end-to-end test files, most expensive first: under pytest-xdist (``--dist loadfile``) each file runs on
#: one worker, in the order collected, and xdist hands the first two files to the two workers (then one more
#: each), so the long pipeline runs start at once and the many quick tests fill the gaps (longest first is the
#: usual greedy rule for two machines). ``test_pipeline.py`` starts the shared run and ``test_slurm.py`` its
#: SLURM run beside it (the SLURM run waits for its jobs' states, leaving the cores to the local run); the files
#: that only read the shared run come after the runs of their own.
E2E_ORDER = (
    "test_pipeline.py",
    "test_slurm.py",
    "test_small_study.py",
    "test_reproducibility.py",
    "test_montecarlo.py",
    "test_browser.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Run the end-to-end files first, in :data:`E2E_ORDER`; every other test keeps its place after them."""

    def rank(item) -> int:
        name = item.path.name
        return E2E_ORDER.index(name) if name in E2E_ORDER else len(E2E_ORDER)

    items.sort(key=rank)  # stable: the order within a file and among the other files stays
