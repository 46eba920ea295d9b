"""Benchmark: evaluation.methods.did.att_gt against the Python ports of R's did package and diff-diff, one panel.

Peers: ``csdid`` and ``moderndid`` (ports of R ``did``), ``differences`` (an independent Python
implementation of Callaway and Sant'Anna) and ``diff-diff`` (``CallawaySantAnna``, another independent
one), pinned in ``bench/requirements.txt`` and installed by ``make bench`` in ``.venv-bench``; a peer
that is not installed is reported as such. diff-diff picks its backend when it is imported
(``DIFF_DIFF_BACKEND``): it is measured with each, its compiled Rust backend (``rust``; a run fails,
and says so, where the backend is missing) and its NumPy one (``python``), and the target is judged
against the faster of the two. Every implementation estimates ATT(g,t) with analytic standard errors
(no bootstrap), never-treated comparisons, varying base period, ``dr`` (R ``drdid_panel``), without and
with one covariate, on one Parquet file written once per run. Before timing, each peer's ATT(g,t) and
standard errors are checked against ours (ATT within 1e-6, SEs within 1e-6 relative, the tolerances of
``tests/test_did_reference.py``). diff-diff 3.13.0's ``dr`` is not R's ``drdid_panel`` with covariates: it
divides the comparison units' inverse-probability-weighted augmentation by the number of treated units,
where ``drdid_panel`` (and ours, csdid and moderndid) divide by the sum of those weights; without
covariates the two coincide (the logit's score equations make the weights sum to the number of treated
units), with them they differ by a term that shrinks with the sample (about 2e-4 on the 98 x 14 panel,
1e-8 at 2,000 units). Measurement: :mod:`measure` (fresh process per run, warm-up on a
slice, medians).

Usage (in ``.venv-bench``)::

    .venv-bench/bin/python bench/bench_att_gt.py --units 2000 --periods 10 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from measure import Implementation, print_rows, run_bench

CASES = {
    "dr": "dr, never-treated, analytic SEs, no covariates",
    "dr_x": "dr, never-treated, analytic SEs, one covariate",
}
ATT_ATOL = 1e-6
SE_RTOL = 1e-6
DIFF_DIFF_DR = (
    "diff-diff 3.13.0's dr divides the comparison units' weighted augmentation by the number of treated "
    "units, R's drdid_panel (and ours) by the sum of their weights; with covariates these differ in finite samples"
)


def make_panel(n_units: int, n_periods: int, seed: int = 0) -> pd.DataFrame:
    """Balanced staggered panel: four cohorts (one never treated), a covariate, dynamic effects."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + n_periods)
    cohorts = np.array([0, years[2], years[n_periods // 2], years[-2]])
    g = cohorts[rng.integers(0, 4, size=n_units)]
    x = rng.normal(size=n_units)
    frames = []
    for t in years:
        e = t - g
        y = x + 0.1 * (t - years[0]) + np.where((g > 0) & (e >= 0), 1 + 0.2 * e, 0) + rng.normal(size=n_units)
        frames.append(pd.DataFrame({"id": np.arange(n_units), "year": t, "y": y, "g": g, "x": x}))
    return pd.concat(frames, ignore_index=True)


def load_data(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def warmup_slice(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df["id"] < 400].reset_index(drop=True)


def _tidy(group, time, att, se) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "group": np.asarray(group, dtype=float).astype(int),
            "time": np.asarray(time, dtype=float).astype(int),
            "att": np.asarray(att, dtype=float),
            "se": np.asarray(se, dtype=float),
        }
    )
    return out.sort_values(["group", "time"], ignore_index=True)


def run_ours(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from evaluation.methods.did import att_gt

    fit = att_gt(
        df,
        outcome="y",
        unit="id",
        time="year",
        group="g",
        covariates=["x"] if case == "dr_x" else None,
        method="dr",
        control_group="never_treated",
        base_period="varying",
    )
    t = fit.table
    return _tidy(t["group"], t["time"], t["att"], t["se"])


def run_csdid(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ATTgt(
            yname="y", tname="year", idname="id", gname="g", data=df, xformla="y ~ x" if case == "dr_x" else None
        ).fit(est_method="dr", bstrap=False)
    res = fit.results
    return _tidy(res["group"], res["year"], res["att"], res["se"])


def run_moderndid(df: pd.DataFrame, case: str) -> pd.DataFrame:
    import moderndid

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = moderndid.att_gt(
            df,
            yname="y",
            tname="year",
            idname="id",
            gname="g",
            xformla="~ x" if case == "dr_x" else None,
            est_method="dr",
            control_group="nevertreated",
            base_period="varying",
            boot=False,
            cband=False,
        )
    return _tidy(res.groups, res.times, res.att_gt, res.se_gt)


def run_differences(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from differences import ATTgt

    data = df.assign(g=df["g"].replace(0, np.nan)).set_index(["id", "year"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = (
            ATTgt(data=data, cohort_column="g", base_period="varying")
            .fit(
                formula="y ~ x" if case == "dr_x" else "y",
                est_method="dr",
                control_group="never_treated",
                progress_bar=False,
            )
            .to_pandas()
            .reset_index()
        )
    res.columns = [col[-1] or col[0] for col in res.columns]
    return _tidy(res["cohort"], res["time"], res["ATT"], res["std_error"])


def run_diff_diff(df: pd.DataFrame, case: str) -> pd.DataFrame:
    import diff_diff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = diff_diff.CallawaySantAnna(
            control_group="never_treated", estimation_method="dr", base_period="varying", n_bootstrap=0
        ).fit(df, outcome="y", unit="id", time="year", first_treat="g", covariates=["x"] if case == "dr_x" else None)
    cells = res.group_time_effects
    return _tidy(
        [g for g, _ in cells],
        [t for _, t in cells],
        [c["effect"] for c in cells.values()],
        [c["se"] for c in cells.values()],
    )


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.did.att_gt", run_ours),
    "csdid": Implementation("csdid", run_csdid, "csdid"),
    "moderndid": Implementation("moderndid", run_moderndid, "moderndid"),
    "differences": Implementation("differences", run_differences, "differences"),
    "diff_diff": Implementation(
        "diff-diff CallawaySantAnna (Rust backend)",
        run_diff_diff,
        "diff_diff",
        env={"DIFF_DIFF_BACKEND": "rust"},
        why_different=DIFF_DIFF_DR,
    ),
    "diff_diff_python": Implementation(
        "diff-diff CallawaySantAnna (Python backend)",
        run_diff_diff,
        "diff_diff",
        env={"DIFF_DIFF_BACKEND": "python"},
        why_different=DIFF_DIFF_DR,
    ),
}


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """Same (g,t) cells, ATT within ``ATT_ATOL``, SEs within ``SE_RTOL`` relative."""
    cells = ours.merge(theirs, on=["group", "time"], how="outer", suffixes=("", "_peer"), indicator=True)
    if (cells["_merge"] != "both").any():
        return False, f"different (g,t) cells: {len(ours)} vs {len(theirs)}"
    d_att = float(np.max(np.abs(cells["att"] - cells["att_peer"])))
    d_se = float(np.max(np.abs(cells["se_peer"] / cells["se"] - 1)))
    detail = f"max abs diff ATT {d_att:.1e}, max rel diff SE {d_se:.1e}"
    return bool(d_att <= ATT_ATOL and d_se <= SE_RTOL), detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "panel.parquet"
        make_panel(args.units, args.periods).to_parquet(path)
        rows = run_bench("bench_att_gt", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print(f"\n{args.units:,} units x {args.periods} periods\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
