"""``make bench``: time the estimators against their peers and the pipeline's steps; write ``bench/results.md``.

Run it in ``.venv-bench`` (the project's pinned packages, the project, and the peers of
``bench/requirements.txt``), which ``make bench`` creates::

    make bench                      # scales demo and national
    make bench SCALES=demo          # quicker

or directly::

    .venv-bench/bin/python bench/run.py --scales demo national --repeat 5

Estimator benches (:mod:`bench_att_gt`, :mod:`bench_fixed_effects`, :mod:`bench_matching`,
:mod:`bench_imputation`, :mod:`bench_sdid`, :mod:`bench_honest_did`) write their data once to
``bench/_work/`` and measure every implementation on that file; the pipeline runs in fresh
work folders ``bench/pipeline/<scale>/`` (:mod:`pipeline_runs`). Numbers are only ever written by this
script. Measure on a quiet machine: the load average at start and end is recorded in the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import bench_att_gt
import bench_fixed_effects
import bench_honest_did
import bench_imputation
import bench_matching
import bench_sdid
from measure import add_ratios, measure_first_touch, run_bench
from pipeline_runs import run_pipeline
from report import machine, targets, write_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _size(text: str) -> tuple[int, int]:
    try:
        units, periods = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected UNITSxPERIODS such as 50000x10, not {text!r}") from exc
    if units < 10 or periods < 5:
        raise argparse.ArgumentTypeError(f"need at least 10 units and 5 periods, not {text!r}")
    return units, periods


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="*", default=["demo", "national"], choices=["tiny", "demo", "national"])
    parser.add_argument("--skip-pipeline", action="store_true", help="estimator benches only")
    parser.add_argument("--skip-estimators", action="store_true", help="pipeline runs only")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per estimator and case (median)")
    parser.add_argument("--cores", type=int, default=2, help="Snakemake --cores of the pipeline runs")
    parser.add_argument("--snakemake", default=str(ROOT / ".venv" / "bin" / "snakemake"))
    parser.add_argument(
        "--att-sizes",
        nargs="+",
        type=_size,
        default=[(98, 14), (50_000, 10), (500_000, 10)],
        help="UNITSxPERIODS panels for ATT(g,t); default: the pipeline's municipal panel and two child-level ones",
    )
    parser.add_argument("--fe-children", type=int, default=383_000, help="children of the fixed-effects panel")
    parser.add_argument(
        "--imputation-children", type=int, default=383_000, help="children of the imputation estimator's panel"
    )
    parser.add_argument("--match-treated", type=int, default=50_000)
    parser.add_argument("--match-candidates", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed to one estimator run")
    parser.add_argument("--pipeline-timeout", type=float, default=4 * 3600, help="seconds allowed to one pipeline")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.skip_pipeline and not Path(args.snakemake).exists():
        parser.error(f"no Snakemake at {args.snakemake}: run `make setup` or pass --snakemake")
    return args


def _progress(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def run_estimators(args: argparse.Namespace, work: Path) -> dict[str, list[dict]]:
    """The estimator benches; rows carry their data size."""
    plans = []
    for units, periods in args.att_sizes:
        path = work / f"att_gt_{units}x{periods}.parquet"
        bench_att_gt.make_panel(units, periods).to_parquet(path)
        plans.append(("bench_att_gt", bench_att_gt.CASES, path, f"{units:,} units x {periods} periods"))
    panel = bench_fixed_effects.make_child_years(args.fe_children)
    path = work / "fixed_effects.parquet"
    panel.to_parquet(path)
    fe_size = f"{len(panel):,} child-years of {args.fe_children:,} children, 14 years, 98 clusters"
    plans.append(("bench_fixed_effects", bench_fixed_effects.CASES, path, fe_size))
    del panel
    path = work / "matching.parquet"
    bench_matching.make_units(args.match_treated, args.match_candidates).to_parquet(path)
    match_size = f"{args.match_treated:,} treated vs {args.match_candidates:,} candidates"
    plans.append(("bench_matching", bench_matching.CASES, path, match_size))
    panel = bench_imputation.make_panel(args.imputation_children)
    path = work / "imputation.parquet"
    panel.to_parquet(path)
    imp_size = f"{len(panel):,} child-years of {args.imputation_children:,} children, 14 years, 98 clusters"
    plans.append(("bench_imputation", bench_imputation.CASES, path, imp_size))
    del panel
    path = work / "sdid.parquet"
    bench_sdid.make_data().to_parquet(path)
    plans.append(
        ("bench_sdid", bench_sdid.CASES, path, "prop99: 39 states x 31 years; panel_98x14: 98 units x 14 years")
    )
    path = work / "honest_did.parquet"
    bench_honest_did.make_data().to_parquet(path)
    plans.append(("bench_honest_did", bench_honest_did.CASES, path, "Benzarti-Carloni event study, 4 pre, 4 post"))

    results: dict[str, list[dict]] = {}
    for bench, cases, path, size in plans:
        _progress(f"{bench}: {size}")
        rows = run_bench(bench, path, cases, repeat=args.repeat, timeout=args.timeout, work=work, progress=_progress)
        results.setdefault(bench, []).extend(add_ratios([row | {"size": size} for row in rows]))
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = HERE / "_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    load_start = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    first_touch = measure_first_touch()
    started = dt.datetime.now(dt.UTC)

    estimators = {} if args.skip_estimators else run_estimators(args, work)
    pipelines = []
    if not args.skip_pipeline:
        for scale in args.scales:
            dest = HERE / "pipeline" / scale
            run = run_pipeline(
                scale,
                ROOT,
                dest,
                snakemake=args.snakemake,
                cores=args.cores,
                timeout=args.pipeline_timeout,
                progress=_progress,
            )
            _progress(f"pipeline / {scale}: {run['status']}, {run['seconds']:.0f} s")
            pipelines.append(run)

    sizes = {
        "match_treated": args.match_treated,
        "match_candidates": args.match_candidates,
        "imputation_children": args.imputation_children,
    }
    context = {
        "command": "python bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(ROOT, first_touch),
        "load_start": load_start,
        "load_end": ", ".join(f"{v:.2f}" for v in os.getloadavg()),
        "repeat": args.repeat,
        "estimators": estimators,
        "pipelines": pipelines,
        "targets": targets(pipelines, estimators, sizes, first_touch),
    }
    (work / "results.json").write_text(json.dumps(context, indent=1, default=str))
    write_results(args.output, context)
    _progress(f"written {args.output}")


if __name__ == "__main__":
    main()
