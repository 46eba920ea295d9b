"""Benchmark: evaluation.methods.did.imputation.did_imputation against diff-diff's ImputationDiD, one child-year panel.

The estimator is the headline's imputation estimator of Borusyak, Jaravel and Spiess (2024): the untreated
model (person and year effects) is fitted on the untreated child-years only, each treated child-year's
effect is its outcome minus the imputed one, the ATT is their mean, and the standard error is BJS
Theorem 3's conservative one (cohort x year cells for the treated residuals, no small-sample factor),
clustered by municipality. Peer: ``diff-diff`` (``ImputationDiD``), pinned in ``bench/requirements.txt``.
diff-diff picks its backend when it is imported (``DIFF_DIFF_BACKEND``): it is measured with its Rust
backend (``rust``; a run fails, and says so, where it is missing) and its NumPy one (``python``), and
the target is judged against the faster of the two.

The data are the national child-year panel of :func:`bench_fixed_effects.make_child_years` (383,000
children, about 1.28 million child-years over 14 years in 98 municipalities), with ``first_treat`` each
municipality's first year with ``treated == 1`` (0 if never): the cohorts are municipalities' adoption
years and the fixed-effect unit is the child, as in the pipeline's child-level estimates. Some children
are first seen after their municipality adopted, so they have treated rows but no untreated one; both
implementations leave those rows out (ours warns; the warnings are silenced in both).

Cases:

``plain``
    person and year effects: ``did_imputation(df, "y", unit="person_id", time="year",
    cohort="first_treat", cluster="municipality")`` and ``ImputationDiD(cluster="municipality").fit(df,
    outcome="y", unit="person_id", time="year", first_treat="first_treat")``.
``control_x``
    the same with the time-varying covariate ``x`` and one coefficient for it: ours ``controls=["x"]``,
    diff-diff ``covariates=["x"]`` (diff-diff's covariates enter the untreated model with one coefficient
    each). Our ``covariates=`` (time-invariant covariates with period-specific coefficients, conditional
    parallel trends) has no counterpart in diff-diff 3.13.0, so that model is not benchmarked.

Before timing, diff-diff's overall ATT and its standard error are checked against ours: both within
1e-8 relative, the tolerance of ``tests/test_imputation.py`` (both are exact linear algebra; on the
national panel they agreed to 6e-10 (ATT) and 1e-9 (SE) when this bench was written). Measurement:
:mod:`measure` (fresh process per run, warm-up on a slice, medians).

Usage (in ``.venv-bench``)::

    .venv-bench/bin/python bench/bench_imputation.py --children 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import bench_fixed_effects
import numpy as np
import pandas as pd
from measure import Implementation, att_result, compare_att, print_rows, run_bench

CASES = {
    "plain": "person and year effects, SE clustered by municipality (BJS Theorem 3)",
    "control_x": "the same with a time-varying covariate (one coefficient)",
}
RTOL = 1e-8


def make_panel(n_children: int) -> pd.DataFrame:
    """The child-year panel of :func:`bench_fixed_effects.make_child_years` with each municipality's adoption year."""
    df = bench_fixed_effects.make_child_years(n_children)
    adoption = df.loc[df["treated"] == 1].groupby("municipality")["year"].min()
    df["first_treat"] = df["municipality"].map(adoption).fillna(0).astype(np.int64)
    return df


def load_data(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def warmup_slice(df: pd.DataFrame) -> pd.DataFrame:
    return bench_fixed_effects.warmup_slice(df)


def run_ours(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from evaluation.methods.did.imputation import did_imputation

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = did_imputation(
            df,
            "y",
            unit="person_id",
            time="year",
            cohort="first_treat",
            cluster="municipality",
            controls=["x"] if case == "control_x" else (),
        )
    row = fit.tidy().set_index("term").loc["ATT"]
    return att_result(row["estimate"], row["se"])


def run_diff_diff(df: pd.DataFrame, case: str) -> pd.DataFrame:
    import diff_diff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = diff_diff.ImputationDiD(cluster="municipality").fit(
            df,
            outcome="y",
            unit="person_id",
            time="year",
            first_treat="first_treat",
            covariates=["x"] if case == "control_x" else None,
        )
    return att_result(res.overall_att, res.overall_se)


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.did.imputation.did_imputation", run_ours),
    "diff_diff": Implementation(
        "diff-diff ImputationDiD (Rust backend)", run_diff_diff, "diff_diff", env={"DIFF_DIFF_BACKEND": "rust"}
    ),
    "diff_diff_python": Implementation(
        "diff-diff ImputationDiD (Python backend)", run_diff_diff, "diff_diff", env={"DIFF_DIFF_BACKEND": "python"}
    ),
}


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """Overall ATT and its standard error within ``RTOL`` relative."""
    return compare_att(ours, theirs, RTOL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=383_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "child_years.parquet"
        df = make_panel(args.children)
        df.to_parquet(path)
        rows = run_bench("bench_imputation", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print(f"\n{len(df):,} child-years of {df['person_id'].nunique():,} children\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
