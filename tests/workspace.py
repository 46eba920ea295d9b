"""Run the real Snakemake pipeline on the ``tiny`` synthetic registry in a temporary workspace.

Shared by the end-to-end tests (``conftest.py``'s shared run, ``test_slurm.py``, ``test_small_study.py``). A workspace
holds what a clone holds of the workflow (``Snakefile``, ``workflow/``, ``config/``,
``reports/`` without rendered or generated files, and ``docs/accessibility.md``, which the
report step renders beside the landing pages); the ``evaluation`` package is the installed one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TIMEOUT = 1800
#: Names of the files under results/ that record the run itself (its date) and may differ between runs by
#: design (see evaluation.steps.provenance), wherever they are under results/; everything else must be byte-identical.
RUN_SPECIFIC = frozenset({"run_info.json"})


def rule_blocks() -> dict[str, tuple[str, str]]:
    """Every rule of ``workflow/rules/*.smk``: rule name -> (rules file name, the rule's text up to the next rule)."""
    blocks = {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:$)", path.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
            blocks[re.match(r"rule (\w+):", block).group(1)] = (path.name, block)
    return blocks


def make_workspace(dest: Path) -> Path:
    """Copy what a clone holds of the workflow into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, dest / folder)
    shutil.copytree(
        ROOT / "reports", dest / "reports", ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml")
    )
    (dest / "docs").mkdir(exist_ok=True)
    shutil.copy(ROOT / "docs" / "accessibility.md", dest / "docs" / "accessibility.md")
    return dest


def copy_run(source: Path, dest: Path) -> Path:
    """Copy a finished run (its workspace, outputs and Snakemake's records) to ``dest``, keeping file times.

    A test that plants files works on such a copy, so that the shared run stays as it was for the tests
    reading it at the same time: Snakemake sees the copy as up to date, as it saw the original.
    """
    shutil.copytree(source, dest, symlinks=True)
    return dest


def snakemake_env() -> dict[str, str]:
    """The environment of a run: this one, without a pseudonymisation key (the synthetic registry needs none)."""
    return {k: v for k, v in os.environ.items() if k != "EVALUATION_PSEUDONYM_KEY"}


#: The config of the tests' runs of the tiny pipeline: the tiny registry; 20 placebo draws of the synthetic DiD
#: instead of 200 (its default, R synthdid's), which were a quarter of a tiny run's computing (about 15 s a release);
#: the economics bootstrap with 199 replications instead of 499, in two jobs instead of four (a job costs a second to
#: start, four on SLURM); and factsheets for the adopters and one other municipality (Copenhagen) instead of six
#: others, which the renderer and the browser test went through page by page. Every step and file of the run stays,
#: the bootstrap's parts and their gathering and a factsheet of a municipality that did not adopt too, and so do
#: the byte-for-byte comparisons.
TINY_OVERRIDES: dict = {
    "synthetic": {"scale": "tiny"},
    "synth": {"sdid": {"replications": 20}},
    "economics": {"bootstrap": {"jobs": 2, "replications": 199}},
    "report": {"factsheets": [101]},
}
#: :data:`TINY_OVERRIDES` as Snakemake's ``--config`` arguments (``key=<YAML>``; Snakemake merges them into the config).
TINY_CONFIG = tuple(
    f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}" for key, value in TINY_OVERRIDES.items()
)


def tiny_config(workdir: Path) -> dict:
    """The config of a tiny run in ``workdir``: its ``config/config.yaml`` with :data:`TINY_OVERRIDES`."""
    from evaluation.config import load_config

    return load_config(workdir / "config" / "config.yaml", TINY_OVERRIDES)


def snakemake_command(cores: int, *extra: str) -> list[str]:
    """The Snakemake command line of a run of the tiny pipeline (:data:`TINY_CONFIG`)."""
    return [SNAKEMAKE, "--cores", str(cores), "--config", *TINY_CONFIG, *extra]


def start_run(workdir: Path, cores: int, *extra: str, log: Path | None = None) -> subprocess.Popen:
    """Start a run in ``workdir``, in its own process group, so that the whole run can be killed.

    Its output goes to pipes that :func:`finish_run` reads, or, with ``log``, to that file: a caller that
    polls for a file instead of reading the pipes must pass ``log``, or the run blocks once the pipes' buffer
    (64 KiB) is full and never gets there.
    """
    if log is None:
        return subprocess.Popen(
            snakemake_command(cores, *extra),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=snakemake_env(),
            start_new_session=True,
        )
    with open(log, "w", encoding="utf-8") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(
            snakemake_command(cores, *extra),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=snakemake_env(),
            start_new_session=True,
        )


def finish_run(proc: subprocess.Popen) -> str:
    """Wait for a run; fail the test with the end of its log if it failed. Returns its log."""
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    if proc.returncode != 0:
        pytest.fail(f"the pipeline failed (exit {proc.returncode}):\n{out[-3000:]}\n{err[-6000:]}")
    return out + err


def result_bytes(workdir: Path) -> dict[str, bytes]:
    """Every file under ``results/`` except the run-specific ones: path relative to results/ -> bytes."""
    base = workdir / "results"
    files = (p for p in sorted(base.rglob("*")) if p.is_file() and p.name not in RUN_SPECIFIC)
    return {str(p.relative_to(base)): p.read_bytes() for p in files}


def differing_results(one: Path, other: Path, *, under: tuple[str, ...] = ()) -> list[str]:
    """The files under ``results/`` whose bytes differ between two runs (:func:`result_bytes`).

    With ``under``, only the files in those folders of ``results/`` (``("ingest", "final")``). Both runs must have
    written the same files there, and more than a handful of them.
    """
    first, second = result_bytes(one), result_bytes(other)
    if under:
        first, second = ({k: v for k, v in files.items() if k.split("/")[0] in under} for files in (first, second))
    assert len(first) >= 6
    assert sorted(first) == sorted(second)
    return [name for name in first if first[name] != second[name]]


def jobs_run(log: str) -> dict[str, int]:
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


#: Where :func:`kill_and_resume` records the resume, in the workspace (outside ``results/``).
RESUME_RECORD = "resume.json"


def kill_and_resume(workdir: Path, cores: int) -> None:
    """Run the whole pipeline in ``workdir``, killed with ``SIGKILL`` after ingestion and resumed.

    The run is killed as soon as a step after ingestion starts (the log of ``build_panel`` of either
    release appears), unlocked with ``--unlock`` (which must change no file) and resumed with
    ``--rerun-incomplete``. :data:`RESUME_RECORD` keeps the modification times of the files the killed run
    had finished (the ingested extracts, the manifest of the registry, the row accounting), taken before the
    resume, and the jobs the resume ran, for :func:`resume_record`.
    """
    log = workdir.parent / f"{workdir.name}-killed.log"  # a file, not a pipe: nobody reads it while we wait
    proc = start_run(workdir, cores, log=log)
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
    stamps = {str(p.relative_to(workdir)): p.stat().st_mtime_ns for p in finished}
    finish_run(start_run(workdir, cores, "--unlock"))
    unlocked = {str(p.relative_to(workdir)): p.stat().st_mtime_ns for p in finished}
    jobs = jobs_run(finish_run(start_run(workdir, cores, "--rerun-incomplete")))
    record = {"finished": stamps, "after_unlock": unlocked, "resumed_jobs": jobs}
    (workdir / RESUME_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")


def resume_record(workdir: Path) -> dict:
    """What :func:`kill_and_resume` recorded: ``finished`` and ``after_unlock`` (path -> mtime in ns) and
    ``resumed_jobs`` (rule -> jobs run by the resume)."""
    path = workdir / RESUME_RECORD
    if not path.exists():
        pytest.fail(f"{workdir} holds no {RESUME_RECORD}: it was not made by workspace.kill_and_resume")
    return json.loads(path.read_text(encoding="utf-8"))
