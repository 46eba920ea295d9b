"""Describe the machine and write ``bench/results.md`` from the measurements of :mod:`run`."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

PACKAGES = [
    "evaluation",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pyarrow",
    "snakemake",
    "csdid",
    "drdid",
    "moderndid",
    "differences",
    "polars",
    "pyfixest",
]
PIPELINE_TARGET_S = 20 * 60
ATT_TARGET_RATIO = 10.0
MATCH_TARGET_S = 30.0
MATCH_TARGET_SIZE = (50_000, 1_000_000)


def _first(path: str, key: str) -> str:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def machine(root: Path) -> dict[str, str]:
    """CPU, cores, memory, OS, Python, package versions and the commit measured."""
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "CPU": _first("/proc/cpuinfo", "model name"),
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable by this process",
        "memory": f"{int(mem_kb) / 1024**2:.1f} GiB" if mem_kb.isdigit() else "unknown",
        "OS": f"{_first('/etc/os-release', 'PRETTY_NAME')}, Linux {platform.release()}",
        "Python": platform.python_version(),
        "packages": ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
        "commit": _git(root),
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None or value != value else f"{value:,.{digits}f}"


def _seconds(row: dict) -> str:
    return f"{row['seconds']:.3f} ({row['seconds_min']:.3f}-{row['seconds_max']:.3f})"


def estimator_table(rows: list[dict]) -> list[str]:
    """Markdown table of one bench's rows (with ``size`` and ``ratio`` filled in)."""
    lines = [
        "| size | case | implementation | equal results | median s (min-max) | time / ours | peak RSS MB | added MB |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        head = f"| {row['size']} | {row['case']} | {row['label']} |"
        if row.get("status") != "ok":
            lines.append(f"{head} {row.get('status')} | | | | |")
            continue
        equal = ("yes" if row["equal"] else "**no**") + f" ({row['detail']})"
        lines.append(
            f"{head} {equal} | {_seconds(row)} | {_fmt(row.get('ratio'))} | {_fmt(row['peak_mb'], 0)} "
            f"| {_fmt(row['added_mb'], 0)} |"
        )
    return lines


def targets(pipelines: list[dict], estimators: dict[str, list[dict]], sizes: dict[str, object]) -> list[tuple]:
    """(target, measured, met) for the targets of issue #9."""
    out = []
    national = next((p for p in pipelines if p["scale"] == "national"), None)
    if national is None:
        out.append(("whole pipeline at national scale < 20 min on 2 cores", "not run (national not in --scales)", "-"))
    else:
        met = national["status"] == "ok" and national["seconds"] < PIPELINE_TARGET_S and national["cores"] == 2
        measured = f"{national['seconds'] / 60:.1f} min on {national['cores']} cores ({national['status']})"
        out.append(("whole pipeline at national scale < 20 min on 2 cores", measured, "yes" if met else "**no**"))
    for size in dict.fromkeys(r["size"] for r in estimators.get("bench_att_gt", [])):
        peers = [r for r in estimators["bench_att_gt"] if r["size"] == size and r["implementation"] != "ours"]
        agreeing = [r for r in peers if r.get("status") == "ok" and r["equal"]]
        parts = [f"{r['label']} ({r['case']}) {r['ratio']:.1f}" for r in agreeing]
        parts += [f"{r['label']} {r['case']}: {r.get('status')}" for r in peers if r.get("status") != "ok"]
        parts += [
            f"{r['label']} {r['case']}: results differ" for r in peers if r.get("status") == "ok" and not r["equal"]
        ]
        worst = min((r["ratio"] for r in agreeing), default=None)
        met = "-" if worst is None else ("yes" if worst >= ATT_TARGET_RATIO else "**no**")
        label = f"ATT(g,t) >= 10x faster than each did port at equal results ({size})"
        out.append((label, "time / ours: " + "; ".join(parts) if parts else "no peer installed", met))
    fe = estimators.get("bench_fixed_effects", [])
    for case in dict.fromkeys(r["case"] for r in fe):
        peers = [r for r in fe if r["case"] == case and r["implementation"] != "ours" and r.get("status") == "ok"]
        agreeing = [r for r in peers if r["equal"]]
        parts = [f"{r['label']} {r['ratio']:.2f}" + ("" if r["equal"] else " (results differ)") for r in peers]
        fastest = min((r["ratio"] for r in agreeing), default=None)
        met = "-" if fastest is None else ("yes" if fastest >= 1 else "**no**")
        size = fe[0]["size"] if fe else ""
        measured = "time / ours: " + "; ".join(parts) if parts else "not run"
        out.append((f"fixed effects no slower than pyfixest ({case}, {size})", measured, met))
    matching = [r for r in estimators.get("bench_matching", []) if r["implementation"] == "ours"]
    at_size = (sizes.get("match_treated"), sizes.get("match_candidates")) == MATCH_TARGET_SIZE
    for row in matching:
        if row["case"] not in ("match_pipeline", "kernel_replace") or row.get("status") != "ok":
            continue
        label = f"matching 50,000 treated vs 1,000,000 candidates < 30 s ({row['case']})"
        if not at_size:
            out.append((label, f"{row['seconds']:.2f} s at {row['size']} (not the target size)", "-"))
            continue
        out.append((label, f"{row['seconds']:.2f} s", "yes" if row["seconds"] < MATCH_TARGET_S else "**no**"))
    return out


def write_results(path: Path, context: dict) -> None:
    """Write the markdown report of one ``bench/run.py`` run."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{context['command']}` on {context['date']}. Every number below comes from that run;",
        "do not edit this file by hand. How the numbers are measured: `bench/README.md`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in context["machine"].items()]
    lines += [f"| load average (1, 5, 15 min) at start | {context['load_start']} |"]
    lines += [f"| load average (1, 5, 15 min) at end | {context['load_end']} |", ""]

    lines += ["## Targets", "", "| target | measured | met? |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {ok} |" for t, m, ok in context["targets"]]
    lines.append("")

    pipelines = context["pipelines"]
    if pipelines:
        lines += [
            "## Pipeline",
            "",
            "Default target (both releases, report rendering, output guard; no Monte Carlo study), fresh work",
            "folder, `snakemake --cores <cores>`. CPU time and largest-process peak RSS: `os.wait4` on the",
            "Snakemake process (exact). Per step: the rule's Snakemake `benchmark:` file (`s`, `max_rss`,",
            "`cpu_time`; memory sampled every 0.5 s for 30 s, then every 30 s).",
            "",
            "| scale | status | wall time | CPU time | largest process peak RSS MB | jobs |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for p in pipelines:
            lines.append(
                f"| {p['scale']} | {p['status']} | {p['seconds'] / 60:.1f} min ({p['seconds']:.0f} s) "
                f"| {p['cpu_seconds']:.0f} s | {p['largest_process_mb']:.0f} | {p['jobs']} |"
            )
        lines += ["", "| scale | rule | release | seconds | peak RSS MB | CPU s |", "|---|---|---|---:|---:|---:|"]
        for p in pipelines:
            for s in sorted(p["steps"], key=lambda s: -s["seconds"]):
                lines.append(
                    f"| {s['scale']} | {s['rule']} | {s['release'] or '-'} | {s['seconds']:.1f} "
                    f"| {_fmt(s['max_rss_mb'], 0)} | {_fmt(s['cpu_seconds'], 1)} |"
                )
        for p in pipelines:
            if p["unbenchmarked"]:
                jobs = ", ".join(f"`{rule}` ({n})" for rule, n in p["unbenchmarked"].items())
                lines.append(f"\nJobs at `{p['scale']}` without a `benchmark:` file (not in the table): {jobs}.")
        lines.append("")

    if context["estimators"]:
        lines += [
            "## Estimators",
            "",
            "Same data for every implementation (one Parquet file per bench and size). Each run in a fresh",
            "process after a warm-up call on a slice; results checked against ours before timing; median of",
            f"{context['repeat']} timed runs (min-max). Time / ours > 1: ours is faster. Peak RSS: the process's",
            "peak during the call (kernel high-water mark, reset before the call); added: peak minus the RSS",
            "before the call.",
            "",
        ]
        titles = {
            "bench_att_gt": "ATT(g,t): `evaluation.did.att_gt` vs the ports of R did",
            "bench_fixed_effects": "Fixed effects: `evaluation.panel.fixed_effects` vs pyfixest",
            "bench_matching": "Matching: `evaluation.matching` vs a straightforward nearest-neighbour implementation",
        }
        for bench, rows in context["estimators"].items():
            lines += [f"### {titles.get(bench, bench)}", ""]
            descriptions = dict.fromkeys(f"`{r['case']}`: {r['description']}" for r in rows)
            lines += [f"- {d}" for d in descriptions] + [""]
            lines += estimator_table(rows) + [""]
    path.write_text("\n".join(lines))
