"""Benchmark: evaluation.methods.panel.fixed_effects against pyfixest.feols on the same child-year panel.

The model is the pipeline's difference-in-differences of ``estimate_effects``
(:func:`evaluation.steps.estimate.did_estimate`): ``y ~ treated + x | person_id + year`` with standard errors
clustered by municipality, unweighted (the unmatched DiD, on the whole child-year panel) and with
analytic weights (the matched DiD's matching weights). The default size is the national panel of
``build_panel``: the ``tiny`` synthetic registry (3 % of national) holds 38,468 child-years of 11,496
children over 14 years in 98 municipalities, so the national one holds about 1.3 million child-years of
about 380,000 children. Children are observed in spells (3.4 years on average), so the panel is
unbalanced, and they stay in one municipality, so the person effects are nested in the clusters (the
case that fixest's and pyfixest's ``k_fixef = "nonnested"`` and our ``K_c`` handle).

Before timing, the coefficients and standard errors of each pyfixest configuration are checked against
ours at ``rtol = 1e-6``. pyfixest is run twice: with its defaults (alternating projections to
``fixef_tol = 1e-6``), and with ``fixef_tol = 1e-8``, where its standard errors match ours to 1e-6 (the
defaults leave relative SE differences of a few 1e-6 on this panel; ours sweeps the person effects out
exactly). Both keep singletons (``fixef_rm = "none"``), as ours and R's ``feols`` do. Measurement:
:mod:`measure`.

Usage (in ``.venv-bench``)::

    .venv-bench/bin/python bench/bench_fixed_effects.py --children 20000 --repeat 3
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
    "unweighted": "y ~ treated + x | person_id + year, clustered by municipality (unmatched DiD)",
    "weighted": "the same with analytic weights (matched DiD)",
}
RTOL = 1e-6
FORMULA = "y ~ treated + x | person_id + year"


def make_child_years(n_children: int, n_years: int = 14, n_municipalities: int = 98, seed: int = 0) -> pd.DataFrame:
    """Unbalanced panel of ``n_children`` children: spells of open cases, staggered municipal adoption, weights."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + n_years)
    draws = int(1.3 * n_children) + 100
    entry = rng.integers(years[0] - 3, years[-1] + 1, draws)
    length = rng.geometric(0.24, draws)
    start = np.maximum(entry, years[0])
    stop = np.minimum(entry + length, years[-1] + 1)
    ids = np.flatnonzero(stop > start)[:n_children]  # children with at least one year in the window
    start, n_rows = start[ids], (stop - start)[ids]
    offset = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    year = np.repeat(start, n_rows) + offset
    municipality = np.repeat(rng.integers(0, n_municipalities, len(ids)), n_rows)
    adoption = np.where(rng.random(n_municipalities) < 0.4, rng.integers(years[2], years[-2], n_municipalities), 0)
    treated = ((adoption[municipality] > 0) & (year >= adoption[municipality])).astype(float)
    person_effect = np.repeat(rng.normal(size=len(ids)), n_rows)
    x = rng.normal(size=len(year)) + 0.3 * person_effect
    y = 0.5 * treated + 0.2 * x + person_effect + 0.05 * (year - years[0]) + rng.normal(size=len(year))
    weight = np.repeat(rng.uniform(0.5, 2.0, len(ids)), n_rows)
    return pd.DataFrame(
        {
            "person_id": np.repeat(ids, n_rows),
            "year": year,
            "municipality": municipality,
            "treated": treated,
            "x": x,
            "y": y,
            "w": weight,
        }
    )


def load_data(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def warmup_slice(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df["person_id"] < 5000].reset_index(drop=True)


def run_ours(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from evaluation.methods.panel import fixed_effects

    fit = fixed_effects(
        df,
        outcome="y",
        regressors=["treated", "x"],
        unit="person_id",
        time="year",
        cluster="municipality",
        weights="w" if case == "weighted" else None,
    )
    return pd.DataFrame(
        {"coef": fit.table["coef"].to_numpy(), "se": fit.table["se"].to_numpy()}, index=["treated", "x"]
    )


def _pyfixest(df: pd.DataFrame, case: str, fixef_tol: float | None) -> pd.DataFrame:
    import pyfixest as pf

    options = {}
    if fixef_tol is not None:
        from pyfixest.demeaners import MapDemeaner

        options["demeaner"] = MapDemeaner(fixef_tol=fixef_tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(
            FORMULA,
            data=df,
            vcov={"CRV1": "municipality"},
            weights="w" if case == "weighted" else None,
            fixef_rm="none",
            **options,
        )
    coef, se = fit.coef(), fit.se()
    return pd.DataFrame({"coef": coef.to_numpy(), "se": se.to_numpy()}, index=list(coef.index))


def run_pyfixest_default(df: pd.DataFrame, case: str) -> pd.DataFrame:
    return _pyfixest(df, case, None)


def run_pyfixest_tight(df: pd.DataFrame, case: str) -> pd.DataFrame:
    return _pyfixest(df, case, 1e-8)


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.panel.fixed_effects", run_ours),
    "pyfixest": Implementation("pyfixest.feols (defaults, fixef_tol 1e-6)", run_pyfixest_default, "pyfixest"),
    "pyfixest_tol8": Implementation("pyfixest.feols (fixef_tol 1e-8)", run_pyfixest_tight, "pyfixest"),
}


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """Same regressors; coefficients and standard errors within ``RTOL`` relative."""
    if sorted(ours.index) != sorted(theirs.index):
        return False, f"different regressors: {list(ours.index)} vs {list(theirs.index)}"
    theirs = theirs.loc[ours.index]
    d_coef = float(np.max(np.abs(theirs["coef"] / ours["coef"] - 1)))
    d_se = float(np.max(np.abs(theirs["se"] / ours["se"] - 1)))
    return bool(d_coef <= RTOL and d_se <= RTOL), f"max rel diff coef {d_coef:.1e}, SE {d_se:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=383_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "child_years.parquet"
        df = make_child_years(args.children)
        df.to_parquet(path)
        rows = run_bench("bench_fixed_effects", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print(f"\n{len(df):,} child-years of {df['person_id'].nunique():,} children\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
