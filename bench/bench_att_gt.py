"""Benchmark: evaluation.did.att_gt against the Python ports of R did on the same simulated panel.

Peers (``csdid``, ``differences``, ``moderndid``) are not project dependencies: install them in a
scratch virtualenv that also sees the project (``pip install -e /work/main csdid differences moderndid``)
and run this script there; peers that are not installed are skipped. Prints a markdown table of
wall-clock seconds for ATT(g,t) with analytic standard errors (no bootstrap), never-treated
comparisons, ``dr`` estimation without and with one covariate.

Usage::

    python bench/bench_att_gt.py --units 20000 --periods 10
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from evaluation.did import att_gt


def make_panel(n_units: int, n_periods: int, seed: int = 0) -> pd.DataFrame:
    """Staggered panel with four cohorts, never-treated units, a covariate and dynamic effects."""
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


def run_ours(df: pd.DataFrame, covariates: bool) -> None:
    att_gt(df, outcome="y", unit="id", time="year", group="g", covariates=["x"] if covariates else None).aggregate(
        "dynamic"
    )


def run_csdid(df: pd.DataFrame, covariates: bool) -> None:
    from csdid.att_gt import ATTgt

    ATTgt(yname="y", tname="year", idname="id", gname="g", data=df, xformla="y ~ x" if covariates else None).fit(
        est_method="dr", bstrap=False
    )


def run_differences(df: pd.DataFrame, covariates: bool) -> None:
    from differences import ATTgt

    data = df.assign(g=df["g"].replace(0, np.nan)).set_index(["id", "year"])
    ATTgt(data=data, cohort_column="g").fit(formula="y ~ x" if covariates else "y", est_method="dr", progress_bar=False)


def run_moderndid(df: pd.DataFrame, covariates: bool) -> None:
    import moderndid

    moderndid.att_gt(
        df,
        yname="y",
        tname="year",
        idname="id",
        gname="g",
        xformla="~ x" if covariates else None,
        boot=False,
        cband=False,
    )


PEERS: dict[str, tuple[str | None, Callable[[pd.DataFrame, bool], None]]] = {
    "evaluation.did": (None, run_ours),
    "csdid": ("csdid", run_csdid),
    "differences": ("differences", run_differences),
    "moderndid": ("moderndid", run_moderndid),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    df = make_panel(args.units, args.periods)
    print(f"{args.units} units x {args.periods} periods ({len(df)} rows)\n")
    print("| implementation | no covariates (s) | one covariate (s) |")
    print("|---|---|---|")
    for name, (module, fn) in PEERS.items():
        if module is not None and importlib.util.find_spec(module) is None:
            print(f"| {name} | not installed | not installed |")
            continue
        cells = []
        for covariates in (False, True):
            best = np.inf
            for _ in range(args.repeat):
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fn(df, covariates)
                except Exception as exc:  # noqa: BLE001 - a failing peer is reported, not fatal
                    best = np.nan
                    print(f"<!-- {name} failed: {exc!r} -->")
                    break
                best = min(best, time.perf_counter() - start)
            cells.append("failed" if np.isnan(best) else f"{best:.2f}")
        print(f"| {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
