"""Where ``evaluation.methods.did.att_gt`` spends its time, on the ``bench_att_gt`` panels: ``bench/profile-att-gt.md``.

``bench/results.md`` shows ATT(g,t) short of its target (10 times csdid and moderndid) at some sizes. This
script shows where the remaining time goes, on the same Parquet files the bench times
(``bench/_work/att_gt_<units>x<periods>.parquet``, written by ``make bench``; made here when missing): one
warm-up call, then each case (``dr``, ``dr_x``) once untimed, timed without a profiler (median of
``--repeat`` calls) and once under :mod:`cProfile`. The tables list the functions with the most time of
their own, and the functions of the ``evaluation`` package with the most time including what they call. Then
each case in a fresh process, as ``results.md`` measures it (``measure.measure_once``), with the call's
kernel time and the memory it added, beside the machine's cost of touching fresh memory
(``measure.first_touch_cost``): the gap between the warm median and the fresh-process one. Every number in
the file comes from the run; run it on a quiet machine, in ``.venv-bench`` or ``.venv``::

    .venv/bin/python bench/profile_att_gt.py --sizes 98x14 50000x10 500000x10
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import time
from pathlib import Path

import bench_att_gt
from measure import first_touch_text, measure_first_touch, measure_once, summarise

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
TOP = 12


def _size(text: str) -> tuple[int, int]:
    units, periods = (int(part) for part in text.lower().split("x"))
    return units, periods


def _panel(units: int, periods: int) -> Path:
    path = WORK / f"att_gt_{units}x{periods}.parquet"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        bench_att_gt.make_panel(units, periods).to_parquet(path, index=False)
    return path


def fresh_process(path: Path, case: str, repeat: int) -> dict | None:
    """Medians of ``repeat`` measurements in fresh processes (``measure.measure_once``); None if one fails."""
    runs = [measure_once("bench_att_gt", "ours", case, path, None, timeout=600) for _ in range(repeat)]
    if any("error" in run for run in runs):
        return None
    return summarise(runs)


def _where(key: tuple[str, int, str]) -> str:
    """``file:line(function)`` with the path cut to the package (``evaluation/methods/did/...``, ``numpy/...``)."""
    filename, line, function = key
    parts = Path(filename).parts
    for anchor in ("evaluation", "numpy", "pandas", "scipy", "numba"):
        if anchor in parts:
            filename = "/".join(parts[len(parts) - parts[::-1].index(anchor) - 1 :])
            break
    return f"`{filename}:{line}({function})`" if line else f"`{function}`"


def profile_case(df, case: str, repeat: int) -> dict:  # noqa: ANN001
    """Median wall time of ``repeat`` warm calls (after an untimed one), and the profile of one more."""
    bench_att_gt.run_ours(df, case)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        bench_att_gt.run_ours(df, case)
        times.append(time.perf_counter() - start)
    profiler = cProfile.Profile()
    profiler.enable()
    bench_att_gt.run_ours(df, case)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # key -> (primitive calls, calls, own time, cumulative time, callers)
    total = sum(own for _, _, own, _, _ in stats.values())
    own = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    ours = [item for item in stats.items() if "evaluation" in Path(item[0][0]).parts]
    cumulative = sorted(ours, key=lambda item: item[1][3], reverse=True)[:TOP]
    return {"median": statistics.median(times), "profiled": total, "own": own, "cumulative": cumulative}


def _fresh_text(res: dict, first_touch: dict | None) -> str:
    fresh = res.get("fresh")
    if fresh is None:
        return "Not measured in a fresh process."
    text = (
        f"In a fresh process, as `results.md` measures it: median {fresh['seconds']:.3f} s, of which "
        f"{fresh['kernel_s']:.3f} s in the kernel, for {fresh['added_mb']:.0f} MB added at the peak"
    )
    if first_touch:
        text += f" (this machine: {first_touch_text(first_touch)})"
    gap = fresh["seconds"] - res["median"]
    if gap > 0 and fresh["kernel_s"] >= gap / 2:
        return text + ". Most of the gap to the warm median is the kernel's: first touches of memory new to it."
    return text + ". The kernel's part is small here: the time is the call's own work (tables below)."


def write_markdown(path: Path, results: dict, command: str, first_touch: dict | None = None) -> None:
    """Write the profile tables."""
    lines = [
        "# Where ATT(g,t) spends its time",
        "",
        f"Written by `{command}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; do not edit by hand. "
        "`evaluation.methods.did.att_gt` (dr, never-treated, varying base period, analytic SEs) on the panels of "
        "`bench/bench_att_gt.py`. Median: calls without a profiler; the tables: one call under cProfile "
        "(which adds its own overhead to every Python-level call).",
        "",
    ]
    for (units, periods, case), res in results.items():
        lines += [
            f"## {units:,} units x {periods} periods, `{case}` ({bench_att_gt.CASES[case]})",
            "",
            f"Median {res['median']:.3f} s without a profiler (warm: after other calls in the same process); "
            f"{res['profiled']:.3f} s of own time under cProfile.",
            "",
            _fresh_text(res, first_touch),
            "",
            "Functions with the most time of their own:",
            "",
            "| function | calls | own s | share of the profiled time |",
            "|---|---:|---:|---:|",
        ]
        for key, (_, calls, own, _, _) in res["own"]:
            lines.append(f"| {_where(key)} | {calls:,} | {own:.3f} | {own / res['profiled']:.0%} |")
        lines += [
            "",
            "Functions of the `evaluation` package with the most time including what they call:",
            "",
            "| function | calls | cumulative s | share of the profiled time |",
            "|---|---:|---:|---:|",
        ]
        for key, (_, calls, _, cumulative, _) in res["cumulative"]:
            share = cumulative / res["profiled"]
            lines.append(f"| {_where(key)} | {calls:,} | {cumulative:.3f} | {share:.0%} |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=_size, default=[(98, 14), (50_000, 10), (500_000, 10)])
    parser.add_argument("--cases", nargs="+", default=list(bench_att_gt.CASES), choices=list(bench_att_gt.CASES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "profile-att-gt.md")
    args = parser.parse_args(argv)
    first_touch = measure_first_touch()
    results = {}
    for units, periods in args.sizes:
        path = _panel(units, periods)
        df = bench_att_gt.load_data(path)
        bench_att_gt.run_ours(bench_att_gt.warmup_slice(df), "dr")  # imports and first-call costs
        for case in args.cases:
            res = results[(units, periods, case)] = profile_case(df, case, args.repeat)
            res["fresh"] = fresh_process(path, case, args.repeat)
            print(f"{units:,} x {periods} {case}: median {res['median']:.3f} s")
        del df
    sizes = " ".join(f"{u}x{p}" for u, p in args.sizes)
    command = f"python bench/profile_att_gt.py --sizes {sizes} --repeat {args.repeat}"
    write_markdown(args.output, results, command, first_touch)
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
