"""Describe the machine and write ``bench/results.md`` from the measurements of :mod:`run`."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path

from measure import first_touch_text

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
    "diff-diff",
]
PIPELINE_TARGET_S = 20 * 60
ATT_TARGET_RATIO = 10.0
MATCH_TARGET_S = 30.0
MATCH_TARGET_SIZE = (50_000, 1_000_000)
IMPUTATION_TARGET_CHILDREN = 383_000  # the national child-year panel (bench_fixed_effects)


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


def _first_touch_text(first_touch: dict[str, float] | None) -> str:
    if not first_touch:
        return "not measured"
    return f"{first_touch_text(first_touch)} ({first_touch['megabytes']:.0f} MB each, at the start, in a fresh process)"


def machine(root: Path, first_touch: dict[str, float] | None = None) -> dict[str, str]:
    """CPU, cores, memory (with the cost of its first touch), OS, Python, package versions and the commit measured."""
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "CPU": _first("/proc/cpuinfo", "model name"),
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable by this process",
        "memory": f"{int(mem_kb) / 1024**2:.1f} GiB" if mem_kb.isdigit() else "unknown",
        "first touch of memory": _first_touch_text(first_touch),
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
        "| size | case | implementation | equal results | median s (min-max) | kernel s | time / ours | peak RSS MB "
        "| added MB |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        head = f"| {row['size']} | {row['case']} | {row['label']} |"
        if row.get("status") != "ok":
            lines.append(f"{head} {row.get('status')} | | | | | |")
            continue
        equal = ("yes" if row["equal"] else "**no**") + f" ({row['detail']})"
        lines.append(
            f"{head} {equal} | {_seconds(row)} | {_fmt(row.get('kernel_s'), 3)} | {_fmt(row.get('ratio'))} "
            f"| {_fmt(row['peak_mb'], 0)} | {_fmt(row['added_mb'], 0)} |"
        )
    return lines


def _is_diff_diff(row: dict) -> bool:
    return row["implementation"].startswith("diff_diff")


def _short(row: dict) -> str:
    """A diff-diff row's backend ("Rust backend") from its label, else the label."""
    found = re.search(r"\(([^()]*)\)$", row["label"])
    return found.group(1) if found else row["label"]


def versus_diff_diff(rows: list[dict], *, strict: bool) -> tuple[str, str]:
    """(measured, met) of "ours faster than (``strict``) or as fast as diff-diff, at equal results" over ``rows``.

    ``rows`` hold one bench's rows of one or more cases; diff-diff may be measured with several backends (one row
    each), and each case is judged against its fastest backend among those with results equal to ours. Met only
    when every case has such a row and meets the target.
    """
    parts, verdicts = [], []
    for case in dict.fromkeys(r["case"] for r in rows):
        peers = [r for r in rows if r["case"] == case and _is_diff_diff(r)]
        ours = next((r for r in rows if r["case"] == case and r["implementation"] == "ours"), None)
        if ours is None or ours.get("status") != "ok":
            parts.append(f"{case}: ours {ours.get('status') if ours else 'not run'}")
            verdicts.append("-")
            continue
        if not peers:
            parts.append(f"{case}: no diff-diff row")
            verdicts.append("-")
            continue
        ok = [r for r in peers if r.get("status") == "ok"]
        agreeing = [r for r in ok if r["equal"]]
        text = ", ".join(f"{_short(r)} {r['ratio']:.2f}" + ("" if r["equal"] else " (results differ)") for r in ok)
        text += "".join(f", {_short(r)}: {r.get('status')}" for r in peers if r.get("status") != "ok")
        if not ok:
            parts.append(f"{case}: diff-diff {text.lstrip(', ')}")
            verdicts.append("-")
            continue
        if not agreeing:
            details = "; ".join(dict.fromkeys(r["detail"] for r in ok))
            parts.append(f"{case}: time / ours {text}; not at equal results: {details}")
            verdicts.append("**no** (results differ)")
            continue
        fastest = min(r["ratio"] for r in agreeing)
        parts.append(f"{case}: time / ours {text}")
        verdicts.append("yes" if (fastest > 1 if strict else fastest >= 1) else "**no**")
    if not verdicts:
        return "not run", "-"
    for verdict in ("**no** (results differ)", "**no**", "-"):
        if verdict in verdicts:
            return "; ".join(parts), verdict
    return "; ".join(parts), "yes"


def _memory_reason(at_size: list[dict], first_touch: dict[str, float] | None) -> str:
    """Why ours is slower in a fresh process than its user time says: its kernel time and the memory it adds."""
    ours = [r for r in at_size if r["implementation"] == "ours" and r.get("status") == "ok"]
    parts = [
        f"{r['case']} {r['kernel_s']:.3f} of {r['seconds']:.3f} s for {_fmt(r['added_mb'], 0)} MB added"
        for r in ours
        if r.get("kernel_s") is not None
    ]
    if not parts:
        return ""
    text = (
        "; where ours' time goes: `bench/profile-att-gt.md`; in ours, the kernel's share of the median (first "
        "touches of fresh memory): " + ", ".join(parts)
    )
    if first_touch:
        text += f"; on this machine: {first_touch_text(first_touch)} ('Machine')"
    return text


def targets(
    pipelines: list[dict],
    estimators: dict[str, list[dict]],
    sizes: dict[str, object],
    first_touch: dict[str, float] | None = None,
) -> list[tuple]:
    """(target, measured, met) for the targets of issues #9 and #16 (``first_touch``: ``measure.first_touch_cost``)."""
    out = []
    national = next((p for p in pipelines if p["scale"] == "national"), None)
    if national is None:
        out.append(("whole pipeline at national scale < 20 min on 2 cores", "not run (national not in --scales)", "-"))
    else:
        met = national["status"] == "ok" and national["seconds"] < PIPELINE_TARGET_S and national["cores"] == 2
        measured = f"{national['seconds'] / 60:.1f} min on {national['cores']} cores ({national['status']})"
        out.append(("whole pipeline at national scale < 20 min on 2 cores", measured, "yes" if met else "**no**"))
    for size in dict.fromkeys(r["size"] for r in estimators.get("bench_att_gt", [])):
        at_size = [r for r in estimators["bench_att_gt"] if r["size"] == size]
        peers = [r for r in at_size if r["implementation"] != "ours" and not _is_diff_diff(r)]
        agreeing = [r for r in peers if r.get("status") == "ok" and r["equal"]]
        parts = [f"{r['label']} ({r['case']}) {r['ratio']:.1f}" for r in agreeing]
        parts += [f"{r['label']} {r['case']}: {r.get('status')}" for r in peers if r.get("status") != "ok"]
        parts += [
            f"{r['label']} {r['case']}: results differ" for r in peers if r.get("status") == "ok" and not r["equal"]
        ]
        worst = min((r["ratio"] for r in agreeing), default=None)
        met = "-" if worst is None else ("yes" if worst >= ATT_TARGET_RATIO else "**no**")
        label = f"ATT(g,t) >= 10x faster than each did port at equal results ({size})"
        measured = "time / ours: " + "; ".join(parts) if parts else "no peer installed"
        if met == "**no**":
            measured += _memory_reason(at_size, first_touch)
        out.append((label, measured, met))
        if any(_is_diff_diff(r) for r in at_size):
            label = f"ATT(g,t) faster than diff-diff (its fastest backend) at equal results ({size})"
            out.append((label, *versus_diff_diff(at_size, strict=True)))
    imputation = estimators.get("bench_imputation", [])
    for case in dict.fromkeys(r["case"] for r in imputation):
        rows = [r for r in imputation if r["case"] == case]
        label = f"imputation (BJS) at least as fast as diff-diff at equal results ({case}, national child-year panel)"
        measured, met = versus_diff_diff(rows, strict=False)
        if sizes.get("imputation_children") != IMPUTATION_TARGET_CHILDREN:
            measured, met = f"{measured} (at {rows[0]['size']}, not the national panel)", "-"
        out.append((label, measured, met))
    for bench, name in (("bench_sdid", "synthetic DiD"), ("bench_honest_did", "HonestDiD")):
        rows = estimators.get(bench, [])
        for case in dict.fromkeys(r["case"] for r in rows):
            label = f"{name} no slower than diff-diff at equal results ({case})"
            out.append((label, *versus_diff_diff([r for r in rows if r["case"] == case], strict=False)))
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
            "Snakemake process (exact). Per step: seconds from the rule's Snakemake `benchmark:` file; CPU time",
            "(the job's process and the processes it waited for) and peak RSS (the largest of them) from the last",
            "line of the step's log (kernel accounting, exact; marked * where the log has none and the benchmark",
            "file's sampled figures are shown).",
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
                mark = "" if s.get("exact", False) else "*"
                lines.append(
                    f"| {s['scale']} | {s['rule']} | {s['release'] or '-'} | {s['seconds']:.1f} "
                    f"| {_fmt(s['max_rss_mb'], 0)}{mark} | {_fmt(s['cpu_seconds'], 1)}{mark} |"
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
            "process after a warm-up call on a slice; results checked against ours before timing (HonestDiD:",
            "each implementation against R HonestDiD 0.2.6's stored intervals); median of",
            f"{context['repeat']} timed runs (min-max). Time / ours > 1: ours is faster. Peak RSS: the process's",
            "peak during the call (kernel high-water mark, reset before the call); added: peak minus the RSS",
            "before the call. Kernel s: the call's system CPU time, mostly first touches of memory new to the",
            "process (its cost per MB on this machine: 'Machine'). diff-diff is measured with each of its backends",
            "(`DIFF_DIFF_BACKEND`) where it has",
            "compiled code for the estimator; its targets are judged against the fastest backend with equal results.",
            "",
        ]
        titles = {
            "bench_att_gt": "ATT(g,t): `evaluation.methods.did.att_gt` vs the ports of R did and diff-diff",
            "bench_fixed_effects": "Fixed effects: `evaluation.methods.panel.fixed_effects` vs pyfixest",
            "bench_matching": (
                "Matching: `evaluation.methods.matching` vs a straightforward nearest-neighbour implementation"
            ),
            "bench_imputation": (
                "Imputation (Borusyak-Jaravel-Spiess): `evaluation.methods.did.imputation` vs diff-diff"
            ),
            "bench_sdid": "Synthetic DiD: `evaluation.methods.synth.sdid` vs diff-diff",
            "bench_honest_did": (
                "HonestDiD: `evaluation.methods.sensitivity.honest_did` vs diff-diff, both against R HonestDiD"
            ),
        }
        for bench, rows in context["estimators"].items():
            lines += [f"### {titles.get(bench, bench)}", ""]
            descriptions = dict.fromkeys(f"`{r['case']}`: {r['description']}" for r in rows)
            lines += [f"- {d}" for d in descriptions] + [""]
            lines += estimator_table(rows) + [""]
    path.write_text("\n".join(lines))
