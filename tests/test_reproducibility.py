"""Reproducibility: byte-identical ``results/`` whatever the number of cores, and a clean resume after ``kill -9``.

Each test copies what a clone holds of the workflow (``Snakefile``, ``workflow/``,
``config/``, ``reports/`` without rendered or generated files) into a temporary
folder and runs the real Snakemake pipeline on the ``tiny`` synthetic registry.

Report rendering (``render_report``) is left out with ``--omit-from``: it writes
only ``reports/_output/``, which is not compared, and takes most of the run time.
``results/<release>/run_info.json`` records the date of the run and is the one file
excluded from the comparison (see :mod:`evaluation.provenance`).

* :func:`test_results_are_byte_identical_across_core_counts` runs the pipeline
  with ``--cores 1`` and ``--cores 2`` (at the same time, in two folders) and
  compares the bytes of every file under ``results/``.
* :func:`test_killed_run_resumes_without_redoing_finished_steps` starts a run in
  its own process group, kills the group with ``SIGKILL`` as soon as ingestion
  has finished (the log of the next step appears), removes the stale lock with
  ``--unlock``, reruns with ``--rerun-incomplete`` and checks that the finished steps (``simulate``,
  ``ingest``) were not run again, their outputs were not rewritten, and
  ``results/`` is byte-identical to the uninterrupted run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800
#: Files under results/ that record the run itself (its date) and may differ between runs by design
#: (see evaluation.provenance); everything else must be byte-identical.
RUN_SPECIFIC = frozenset({"interim/run_info.json", "final/run_info.json"})
#: Report rendering writes only reports/_output/ (not compared) and takes most of the time: leave it out.
TARGET_ARGS = ("--omit-from", "render_report")


def _workspace(dest: Path) -> Path:
    """Copy what a clone holds of the workflow into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, dest / folder)
    shutil.copytree(
        ROOT / "reports", dest / "reports", ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml")
    )
    return dest


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "EVALUATION_PSEUDONYM_KEY"}


def _command(cores: int, *extra: str) -> list[str]:
    return [SNAKEMAKE, "--cores", str(cores), "--config", "synthetic={scale: tiny}", *extra]


def _start(workdir: Path, cores: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        _command(cores, *extra),
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # own process group, so that the whole run can be killed
    )


def _finish(proc: subprocess.Popen) -> str:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    if proc.returncode != 0:
        pytest.fail(f"the pipeline failed (exit {proc.returncode}):\n{out[-3000:]}\n{err[-6000:]}")
    return out + err


def _results(workdir: Path) -> dict[str, bytes]:
    base = workdir / "results"
    files = (p for p in sorted(base.rglob("*")) if p.is_file())
    return {str(p.relative_to(base)): p.read_bytes() for p in files if str(p.relative_to(base)) not in RUN_SPECIFIC}


def _jobs_run(log: str) -> dict[str, int]:
    """Parse Snakemake's ``Job stats`` table: rule -> number of jobs run."""
    stats = log.split("Job stats:", 1)
    if len(stats) < 2:
        return {}
    jobs = {}
    for line in stats[1].splitlines()[3:]:
        match = re.fullmatch(r"\s*(\w+)\s+(\d+)\s*", line)
        if not match:
            break
        jobs[match.group(1)] = int(match.group(2))
    return jobs


@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory) -> tuple[Path, Path, str, str]:
    """The tiny pipeline run with 1 and with 2 cores, in two fresh workspaces, side by side."""
    one = _workspace(tmp_path_factory.mktemp("cores1") / "study")
    two = _workspace(tmp_path_factory.mktemp("cores2") / "study")
    procs = [_start(one, 1, *TARGET_ARGS), _start(two, 2, *TARGET_ARGS)]
    logs = [_finish(p) for p in procs]
    return one, two, logs[0], logs[1]


def test_results_are_byte_identical_across_core_counts(reference_runs):
    one, two, log_one, _ = reference_runs
    first, second = _results(one), _results(two)
    assert len(first) >= 6
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == [], f"files under results/ differ between --cores 1 and --cores 2: {differ}"
    # the whole pipeline ran, not a subset
    assert {"simulate", "ingest", "build_panel", "estimate_effects", "write_provenance"} <= set(_jobs_run(log_one))


def test_killed_run_resumes_without_redoing_finished_steps(reference_runs, tmp_path):
    reference, _, _, _ = reference_runs
    workdir = _workspace(tmp_path / "study")
    proc = _start(workdir, 1, *TARGET_ARGS)
    marker = workdir / "logs" / "final" / "build_panel.log"  # written when a step after ingestion starts
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed:\n{proc.stderr.read()[-4000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the run never reached build_panel")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not (workdir / "results" / "final" / "estimates.csv").exists()  # really killed midway

    finished = sorted((workdir / "data" / "interim" / "ingest").glob("*.parquet")) + [
        workdir / "data" / "raw" / "synthetic" / "manifest.json",
        workdir / "results" / "ingest" / "row_accounting.csv",
    ]
    stamps = {p: p.stat().st_mtime_ns for p in finished}

    # a killed run leaves Snakemake's lock behind: unlock (changes no file), then resume
    _finish(_start(workdir, 1, "--unlock"))
    assert {p: p.stat().st_mtime_ns for p in finished} == stamps
    log = _finish(_start(workdir, 1, "--rerun-incomplete", *TARGET_ARGS))
    jobs = _jobs_run(log)
    assert "estimate_effects" in jobs and "match_children" in jobs
    assert "simulate" not in jobs and "ingest" not in jobs, f"finished steps were run again: {jobs}"
    assert {p: p.stat().st_mtime_ns for p in finished} == stamps
    resumed, uninterrupted = _results(workdir), _results(reference)
    assert sorted(resumed) == sorted(uninterrupted)
    assert [n for n in resumed if resumed[n] != uninterrupted[n]] == []


def test_output_guard_passes_the_pipeline_results(reference_runs):
    from evaluation.guard import scan_outputs

    one, _, _, _ = reference_runs
    assert [str(f) for f in scan_outputs([one / "results"], min_cell=5)] == []
