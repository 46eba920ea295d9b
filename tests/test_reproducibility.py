"""Reproducibility: byte-identical ``results/`` whatever the number of cores, and a clean resume after ``kill -9``.

The reference is the session's shared tiny pipeline run (``tiny_run`` in conftest.py: ``--cores 2``,
uninterrupted, rendering included). One more run, in a fresh workspace (what a clone holds of the
workflow), uses ``--cores 1``: it is killed with ``SIGKILL`` as soon as ingestion has finished (the log of
the next step appears), unlocked with ``--unlock`` and resumed with ``--rerun-incomplete``. Report rendering
(``render_report``) is left out of it with ``--omit-from``: it writes only ``reports/_output/``, which is not
compared. ``results/<release>/run_info.json`` records the date of the run and is the one file excluded from
the comparison (see :mod:`evaluation.provenance`).

* :func:`test_results_are_byte_identical_across_core_counts` compares the bytes of every file under
  ``results/`` of the 1-core run with the 2-core reference.
* :func:`test_killed_run_resumes_without_redoing_finished_steps` checks that the resume did not run the
  finished steps (``simulate``, ``ingest``) again nor rewrite their outputs, and that it ran the rest.

One run serves both: a difference in ``results/`` fails the first test and names the files, whether the core
count or the resume caused it (the second test's checks of the resume itself tell which).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from workspace import TARGET_ARGS, TIMEOUT, differing_results, finish_run, jobs_run, make_workspace, start_run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory) -> tuple[Path, dict[Path, int], dict[str, int]]:
    """A 1-core run killed after ingestion and resumed: (workspace, finished files' mtimes, jobs of the resume)."""
    base = tmp_path_factory.mktemp("killed")
    workdir = make_workspace(base / "study")
    log = base / "killed-run.log"  # a file, not a pipe: nobody reads while the test waits for the marker
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
    jobs = jobs_run(finish_run(start_run(workdir, 1, "--rerun-incomplete", *TARGET_ARGS)))
    return workdir, stamps, jobs


def test_results_are_byte_identical_across_core_counts(killed_run, tiny_run):
    one, _, jobs = killed_run
    differ = differing_results(one, tiny_run)
    assert differ == [], f"files under results/ differ between --cores 1 (resumed) and --cores 2: {differ}"
    # the rest of the pipeline ran in the resume, not a subset: every step downstream of build_panel (steps
    # that need only the cut extracts, such as municipality_panel and synthetic_control after it, may have
    # finished before the kill)
    assert {"build_panel", "match_children", "estimate_effects", "prepare_economics", "estimate_economics"} <= set(jobs)


def test_killed_run_resumes_without_redoing_finished_steps(killed_run):
    _, stamps, jobs = killed_run
    assert "estimate_effects" in jobs and "match_children" in jobs
    assert "simulate" not in jobs and "ingest" not in jobs, f"finished steps were run again: {jobs}"
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_output_guard_passes_the_pipeline_results(killed_run):
    from evaluation.guard import scan_outputs

    one, _, _ = killed_run
    assert [str(f) for f in scan_outputs([one / "results"], min_cell=5)] == []
