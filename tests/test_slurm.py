"""The tiny pipeline through a real SLURM cluster: every job a SLURM job, and the local run's results byte for byte.

The test needs the single-node test cluster that ``sudo .ci/slurm-local.sh`` starts on this
machine (Debian's ``slurm-wlm`` and ``munge``; ``.ci/run`` starts it in CI). Without it the
tests are skipped with the reason; ``EVALUATION_SLURM_TEST=require`` (set by ``.ci/run`` once
the cluster is up) turns the skip into a failure. Jobs go only to that cluster, recognised by
its name (:data:`TEST_CLUSTER`), never to a real cluster whose ``sinfo`` happens to be on the
PATH.

The final release of the tiny pipeline (:data:`TARGET`: every results file of the release, up to the disclosure
audit; every rule but rendering and the output guard, which write nothing under ``results/``) runs uninterrupted
in a fresh workspace with ``--profile workflow/profiles/slurm``, as a researcher would run it, plus
:data:`CLUSTER_ARGS` for the test cluster. Its ``results/`` (``ingest/`` and ``final/``) must be byte-identical to
the session's local run (``tiny_run`` in conftest.py: 2 cores, both releases, killed after ingestion and resumed)
except the run-specific ``run_info.json``: one comparison for the number of processes, the order of jobs and the
resume. The interim release runs the same rules with a data cut-off; leaving it to the local run halves the
SLURM run, whose every job starts a Snakemake process of its own.
SLURM's own record (``squeue``) must show every job of the run completed, with the memory and
time limit that Snakemake resolved for it (the rule's resources or the profile's defaults).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from workspace import differing_results, finish_run, jobs_run, make_workspace, start_run

pytestmark = pytest.mark.e2e

#: ClusterName of the test cluster that .ci/slurm-local.sh starts; the test submits to no other cluster.
TEST_CLUSTER = "evaluation-test"
HOW_TO_START = "start the local test cluster with `sudo .ci/slurm-local.sh` (apt-get install slurm-wlm munge first)"
#: On top of the profile, for the test cluster: it has no accounting database, so job states come from squeue
#: instead of sacct; its jobs take seconds, so their states are first checked after 1 s instead of 40 s.
CLUSTER_ARGS = (
    "--profile",
    "workflow/profiles/slurm",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "1",
)
#: Lines of the plugin's log: the run's ID (the name of all its SLURM jobs) and each submission.
RUN_ID = re.compile(r"^SLURM run ID: (\S+)$", re.MULTILINE)
SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) ", re.MULTILINE)
#: What the SLURM run makes: the disclosure audit of the final release, which reads every results file of the release.
TARGET = "results/final/disclosure/summary.csv"
#: The folders of ``results/`` the SLURM run writes.
COMPARED = ("ingest", "final")
#: The heavy steps, which must run on the cluster whatever else runs there.
HEAVY_RULES = {"simulate", "ingest", "build_panel", "match_children", "estimate_effects"}


def _unavailable() -> str | None:
    """Why the local test cluster cannot take jobs, or None when it can."""
    if shutil.which("sinfo") is None:
        return f"SLURM is not installed (no sinfo on PATH): {HOW_TO_START}"
    try:
        config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
        nodes = subprocess.run(["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"the SLURM cluster does not respond ({err}): {HOW_TO_START}"
    if config.returncode != 0 or nodes.returncode != 0:
        return f"the SLURM cluster does not respond ({(config.stderr + nodes.stderr).strip()}): {HOW_TO_START}"
    name = re.search(r"^ClusterName\s*=\s*(\S+)", config.stdout, re.MULTILINE)
    if name is None or name.group(1) != TEST_CLUSTER:
        found = name.group(1) if name else "unknown"
        return f"sinfo answers for cluster '{found}', not the local test cluster '{TEST_CLUSTER}': {HOW_TO_START}"
    states = nodes.stdout.split()
    if not {"idle", "mix", "alloc"} & set(states):
        return f"no node of the test cluster is up (node states: {states}): {HOW_TO_START}"
    return None


@pytest.fixture(scope="module")
def slurm_cluster() -> None:
    """Skip (or fail, with EVALUATION_SLURM_TEST=require) unless the local test cluster takes jobs."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("EVALUATION_SLURM_TEST") == "require":
        pytest.fail(f"EVALUATION_SLURM_TEST=require, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def runs(slurm_cluster, request, tmp_path_factory) -> tuple[Path, Path, str]:
    """The tiny pipeline run through SLURM, beside the session's local run: (local, SLURM workspace, SLURM log).

    The SLURM run starts before the session's local run is asked for, so that the two can run at once.
    """
    cluster = make_workspace(tmp_path_factory.mktemp("slurm") / "study")
    proc = start_run(cluster, 1, *CLUSTER_ARGS, TARGET)
    try:
        local = request.getfixturevalue("tiny_run")
        log = finish_run(proc)
    finally:  # when the run failed or was interrupted, stop it and cancel its SLURM jobs
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            run_id = RUN_ID.search("".join(proc.communicate()))
            if run_id:
                subprocess.run(["scancel", f"--name={run_id.group(1)}"], timeout=30, check=False)
    return local, cluster, log


def _resolved_resources(log: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Snakemake's job blocks in a log: jobid -> (rule, resources as printed, e.g. mem_mb -> "8000")."""
    jobs = {}
    for block in re.split(r"^(?=(?:local)?rule \w+:$)", log, flags=re.MULTILINE):
        head = re.match(r"(?:local)?rule (\w+):\n", block)
        jobid = re.search(r"^\s+jobid: (\d+)$", block, re.MULTILINE)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if head and jobid:
            pairs = (item.split("=", 1) for item in resources.group(1).split(", ")) if resources else ()
            jobs[jobid.group(1)] = (head.group(1), dict(pairs))
    return jobs


def _minutes(limit: str) -> int:
    """A SLURM time limit as squeue prints it ("30:00", "1:00:00", "2-00:00:00") in minutes."""
    days, _, clock = limit.rpartition("-")
    hours, minutes, _ = ([0, 0] + [int(part) for part in clock.split(":")])[-3:]
    return int(days or 0) * 1440 + hours * 60 + minutes


def _megabytes(memory: str) -> int:
    """A memory request as squeue prints it ("4000M", "2G") in MB."""
    number, unit = re.fullmatch(r"(\d+)([KMGT])", memory).groups()
    return int(number) * {"K": 1, "M": 1024, "G": 1024**2, "T": 1024**3}[unit] // 1024


def test_cluster_run_gives_the_local_results_byte_for_byte(runs):
    local, cluster, _ = runs
    differ = differing_results(local, cluster, under=COMPARED)
    assert differ == [], f"files under results/ differ between the local (resumed) and the SLURM run: {differ}"


def test_every_job_ran_as_a_slurm_job_with_its_resources(runs):
    _, _, log = runs
    resolved = _resolved_resources(log)
    submitted = dict(SUBMITTED.findall(log))  # Snakemake jobid -> SLURM jobid
    local_rules = Counter(re.findall(r"^localrule (\w+):$", log, re.MULTILINE))
    jobs = Counter({rule: n for rule, n in jobs_run(log).items() if rule != "total"})
    assert Counter(resolved[job][0] for job in submitted) + local_rules == jobs
    assert HEAVY_RULES <= {resolved[job][0] for job in submitted}

    # SLURM's own record of the run's jobs (named by the run ID; squeue keeps finished jobs for MinJobAge)
    run_id = RUN_ID.search(log).group(1)
    queue = subprocess.run(
        ["squeue", "--states=all", "--noheader", f"--name={run_id}", "--format=%i|%T|%m|%l"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    record = {line.split("|")[0]: line.split("|")[1:] for line in queue.stdout.splitlines()}
    assert sorted(record) == sorted(submitted.values())
    for job, slurm_job in submitted.items():
        rule, resources = resolved[job]
        state, memory, limit = record[slurm_job]
        assert state == "COMPLETED", f"{rule}: SLURM job {slurm_job} is {state}"
        assert _megabytes(memory) == int(resources["mem_mb"]), f"{rule}: SLURM job {slurm_job} got {memory}"
        assert _minutes(limit) == int(resources["runtime"]), f"{rule}: SLURM job {slurm_job} got {limit}"
