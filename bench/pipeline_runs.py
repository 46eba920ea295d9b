"""Run the real pipeline in a fresh work folder and collect the time and memory of every step.

``bench/pipeline/<scale>/`` receives what a clone holds of the workflow (``Snakefile``, ``workflow/``,
``config/``, ``reports/`` without rendered or generated files, ``docs/accessibility.md``, as
``tests/workspace.py`` copies it);
the ``evaluation`` package is the installed one. Snakemake then runs the default target (the whole
study, both releases, report rendering and the output guard; not the Monte Carlo study, which is not
part of the default target) with ``--cores <cores> --config 'synthetic={scale: <scale>}'``.

Measured:

* the wall time of the whole run (``time.perf_counter`` around the Snakemake process), and, from
  ``os.wait4``, the CPU time of the whole process tree and the peak RSS of its largest single process
  (kernel accounting, exact);
* per step, the wall seconds ``s`` of the ``benchmark:`` file each rule writes
  (``benchmarks/<release>/<rule>.tsv`` or ``benchmarks/<rule>.tsv``), and from the last line of the step's
  log (``evaluation.logs.resources_line``, beside it under ``logs/``) the CPU time of the job's process and
  of the processes it waited for, and the peak RSS of the largest of them: kernel accounting, exact. (The
  ``benchmark:`` file's ``max_rss`` and ``cpu_time`` are sampled, every 0.5 s for the first 30 s and every
  30 s after that, and miss most of a long step; they are used only for a step whose log has no such line.)
* the jobs the run logged, so that rules without a ``benchmark:`` directive are listed, not silently
  left out.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from evaluation.logs import RESOURCES

JOB_LINE = re.compile(r"^(?:local)?rule (\w+):", re.MULTILINE)


def make_workspace(root: Path, dest: Path) -> Path:
    """Copy what a clone holds of the workflow from ``root`` into a fresh ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(root / "Snakefile", dest / "Snakefile")
    for folder in ("workflow", "config"):
        shutil.copytree(root / folder, dest / folder)
    shutil.copytree(
        root / "reports", dest / "reports", ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml")
    )
    (dest / "docs").mkdir()
    shutil.copy(root / "docs" / "accessibility.md", dest / "docs" / "accessibility.md")  # rendered beside the reports
    return dest


def run_pipeline(
    scale: str, root: Path, dest: Path, *, snakemake: str, cores: int, timeout: float, progress=print
) -> dict:
    """Run the whole pipeline at ``scale`` in a fresh ``dest``; return the run's and the steps' measurements."""
    make_workspace(root, dest)
    if os.sep in snakemake:  # a path relative to where bench/run.py was started, not to the workspace
        snakemake = str(Path(snakemake).resolve())
    command = [snakemake, "--cores", str(cores), "--config", f"synthetic={{scale: {scale}}}"]
    env = {k: v for k, v in os.environ.items() if k != "EVALUATION_PSEUDONYM_KEY"}
    log_path = dest / "snakemake.log"
    progress(f"pipeline / {scale}: {' '.join(command)} in {dest}")
    with open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=dest, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = start + timeout
        status = "ok"
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, wait_status, usage = os.wait4(proc.pid, 0)
                status = f"killed after the time limit of {timeout:.0f} s"
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    if status == "ok" and proc.returncode != 0:
        status = f"failed (exit code {proc.returncode}; see {log_path})"
    log_text = log_path.read_text(errors="replace")
    jobs = Counter(m for m in JOB_LINE.findall(log_text) if m != "all")
    steps = collect_steps(dest / "benchmarks", scale, logs=dest / "logs")
    benchmarked = {step["rule"].split()[0] for step in steps}
    return {
        "scale": scale,
        "cores": cores,
        "status": status,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "largest_process_mb": usage.ru_maxrss / 1024,
        "jobs": sum(jobs.values()),
        "unbenchmarked": {rule: n for rule, n in sorted(jobs.items()) if rule not in benchmarked},
        "steps": steps,
        "log": str(log_path),
    }


def _logged_resources(log: Path) -> dict[str, float] | None:
    """The CPU seconds and peak MB the step's log ends with (``evaluation.logs.RESOURCES``), if it does."""
    if not log.is_file():
        return None
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    found = RESOURCES.search(lines[-1]) if lines else None
    if found is None:
        return None
    return {"cpu_seconds": float(found["cpu"]), "max_rss_mb": float(found["mb"].replace(",", ""))}


def collect_steps(benchmarks: Path, scale: str, logs: Path | None = None) -> list[dict]:
    """One row per ``benchmark:`` file under ``benchmarks``: rule, release, seconds, peak RSS, CPU time.

    ``benchmarks/<release>/<rule>.tsv`` and ``benchmarks/<rule>.tsv`` name the rule; a job of a rule with
    several jobs per release (``benchmarks/<release>/<rule>/<part>.tsv``) is named ``<rule> <part>``. The
    CPU time and peak RSS come from the job's log at the same place under ``logs`` where it has them
    (``exact`` True), else from the benchmark file (sampled).
    """
    steps = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        relative = path.relative_to(benchmarks)
        parts = relative.parts
        rule = path.stem if len(parts) <= 2 else f"{parts[1]} {path.stem}"
        record = pd.read_csv(path, sep="\t", na_values=["NA", "-"]).iloc[0]
        logged = _logged_resources((logs / relative).with_suffix(".log")) if logs is not None else None
        steps.append(
            {
                "scale": scale,
                "rule": rule,
                "release": parts[0] if len(parts) > 1 else "",
                "seconds": float(record["s"]),
                "max_rss_mb": float(record.get("max_rss", float("nan"))) if logged is None else logged["max_rss_mb"],
                "cpu_seconds": float(record.get("cpu_time", float("nan"))) if logged is None else logged["cpu_seconds"],
                "exact": logged is not None,
            }
        )
    return steps
