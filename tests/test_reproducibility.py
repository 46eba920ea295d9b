"""Reproducibility: a run killed with ``kill -9`` resumes cleanly and gives the bytes of an uninterrupted run.

The session's shared tiny pipeline run (``tiny_run`` in conftest.py, 2 cores, rendering included) is itself
killed with ``SIGKILL`` as soon as ingestion has finished (the log of the next step appears), unlocked with
``--unlock`` and resumed with ``--rerun-incomplete`` (:func:`workspace.kill_and_resume`). So every
end-to-end test of its outputs tests a resumed run. This file checks the resume itself:

* :func:`test_killed_run_resumes_without_redoing_finished_steps`: the resume did not run the finished steps
  (``simulate``, ``ingest``) again nor rewrite their outputs, and ``--unlock`` changed no file;
* :func:`test_the_resume_ran_everything_after_ingestion`: it ran every step downstream of ``build_panel``;
* :func:`test_output_guard_passes_the_pipeline_results`: the output guard finds nothing in ``results/``.

That the resumed run's ``results/`` equal an uninterrupted run's, byte for byte, is checked by
``test_slurm.py``: the SLURM run is uninterrupted, runs every job in a process of its own, in another order
than the local run, and must give the same bytes (``run_info.json``, the date of the run, aside; see
:mod:`evaluation.steps.provenance`). CI requires the SLURM test (``EVALUATION_SLURM_TEST=require``).
"""

from __future__ import annotations

import pytest

from workspace import resume_record

pytestmark = pytest.mark.e2e


def test_killed_run_resumes_without_redoing_finished_steps(tiny_run):
    record = resume_record(tiny_run)
    jobs = record["resumed_jobs"]
    assert "estimate_effects" in jobs and "match_children" in jobs
    assert "simulate" not in jobs and "ingest" not in jobs, f"finished steps were run again: {jobs}"
    assert len(record["finished"]) > 3
    assert record["after_unlock"] == record["finished"], "--unlock changed a finished file"
    now = {path: (tiny_run / path).stat().st_mtime_ns for path in record["finished"]}
    assert now == record["finished"], "the resume rewrote a finished file"


def test_the_resume_ran_everything_after_ingestion(tiny_run):
    # every step downstream of build_panel (steps that need only the cut extracts, such as municipality_panel
    # and synthetic_control after it, may have finished before the kill), rendering and the guard included
    jobs = resume_record(tiny_run)["resumed_jobs"]
    downstream = {"build_panel", "match_children", "estimate_effects", "prepare_economics", "estimate_economics"}
    assert downstream | {"render_report", "check_outputs"} <= set(jobs)


def test_output_guard_passes_the_pipeline_results(tiny_run):
    from evaluation.steps.guard import scan_outputs

    assert [str(f) for f in scan_outputs([tiny_run / "results"], min_cell=5)] == []
