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
import signal
import time
from pathlib import Path

import pytest

from workspace import TARGET_ARGS, TIMEOUT, finish_run, jobs_run, make_workspace, result_bytes, start_run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory) -> tuple[Path, Path, str, str]:
    """The tiny pipeline run with 1 and with 2 cores, in two fresh workspaces, side by side."""
    one = make_workspace(tmp_path_factory.mktemp("cores1") / "study")
    two = make_workspace(tmp_path_factory.mktemp("cores2") / "study")
    procs = [start_run(one, 1, *TARGET_ARGS), start_run(two, 2, *TARGET_ARGS)]
    logs = [finish_run(p) for p in procs]
    return one, two, logs[0], logs[1]


def test_results_are_byte_identical_across_core_counts(reference_runs):
    one, two, log_one, _ = reference_runs
    first, second = result_bytes(one), result_bytes(two)
    assert len(first) >= 6
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == [], f"files under results/ differ between --cores 1 and --cores 2: {differ}"
    # the whole pipeline ran, not a subset
    assert {"simulate", "ingest", "build_panel", "estimate_effects", "write_provenance"} <= set(jobs_run(log_one))


def test_killed_run_resumes_without_redoing_finished_steps(reference_runs, tmp_path):
    reference, _, _, _ = reference_runs
    workdir = make_workspace(tmp_path / "study")
    log = tmp_path / "killed-run.log"  # a file, not a pipe: nobody reads while the test waits for the marker
    proc = start_run(workdir, 1, *TARGET_ARGS, log=log)
    # written when a step after ingestion starts (the interim or the final release's, whichever comes first)
    markers = [workdir / "logs" / release / "build_panel.log" for release in ("interim", "final")]
    deadline = time.monotonic() + TIMEOUT
    while not any(marker.exists() for marker in markers):
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed:\n{log.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the run never reached build_panel")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (workdir / "results" / "final" / "estimates.csv").exists()  # really killed midway

    finished = sorted((workdir / "data" / "interim" / "ingest").glob("*.parquet")) + [
        workdir / "data" / "raw" / "synthetic" / "manifest.json",
        workdir / "results" / "ingest" / "row_accounting.csv",
    ]
    stamps = {p: p.stat().st_mtime_ns for p in finished}

    # a killed run leaves Snakemake's lock behind: unlock (changes no file), then resume
    finish_run(start_run(workdir, 1, "--unlock"))
    assert {p: p.stat().st_mtime_ns for p in finished} == stamps
    log = finish_run(start_run(workdir, 1, "--rerun-incomplete", *TARGET_ARGS))
    jobs = jobs_run(log)
    assert "estimate_effects" in jobs and "match_children" in jobs
    assert "simulate" not in jobs and "ingest" not in jobs, f"finished steps were run again: {jobs}"
    assert {p: p.stat().st_mtime_ns for p in finished} == stamps
    resumed, uninterrupted = result_bytes(workdir), result_bytes(reference)
    assert sorted(resumed) == sorted(uninterrupted)
    assert [n for n in resumed if resumed[n] != uninterrupted[n]] == []


def test_output_guard_passes_the_pipeline_results(reference_runs):
    from evaluation.guard import scan_outputs

    one, _, _, _ = reference_runs
    assert [str(f) for f in scan_outputs([one / "results"], min_cell=5)] == []
