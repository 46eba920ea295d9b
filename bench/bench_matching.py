"""Benchmark: nearest-neighbour matching of 50,000 treated against 1,000,000 candidates.

Three cases, on one Parquet file of 1,050,000 units written once per run:

``kernel_replace``
    1:1 nearest neighbour with replacement on a given score (treated ~ Beta(3, 5), candidates ~
    Beta(2, 6)): :func:`evaluation.methods.matching.nearest.nearest_with_replacement` (sorted candidates,
    ``searchsorted`` windows, R Matching's tie rule) against the straightforward implementation,
    ``scipy.spatial.cKDTree`` queries. Checked: the same nearest distance for every treated unit.
``kernel_greedy``
    Greedy 1:1 matching without replacement, largest score first (MatchIt's default order):
    :func:`evaluation.methods.matching.nearest.greedy_without_replacement`, timed alone (no peer).
``match_pipeline``
    The whole :func:`evaluation.methods.matching.match` call with the pipeline's settings (``config.yaml``:
    logit propensity score on five covariates, 1:1 nearest with replacement, caliper 0.2 SD of the
    score, exact on sex; balance table included) against the straightforward implementation a user
    would write: statsmodels' binomial GLM for the score (fitted to the same tolerance, 1e-12, so that
    the scores agree), then per sex a ``cKDTree`` of the candidates, the nearest one kept when it lies
    within the caliper. Checked: the same treated units kept and the same normalised control weights.

Measurement: :mod:`measure`. Target: under 30 s.

Usage (in ``.venv-bench`` or ``.venv``)::

    .venv-bench/bin/python bench/bench_matching.py --treated 5000 --candidates 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from measure import Implementation, print_rows, run_bench

CASES = {
    "kernel_replace": "1:1 nearest with replacement on a given score",
    "kernel_greedy": "greedy 1:1 without replacement on a given score, largest first",
    "match_pipeline": "match(): logit score, 1:1 with replacement, caliper 0.2 SD, exact on sex (pipeline settings)",
}
COVARIATES = ["sex", "age_at_entry", "parent_income", "parent_basic_education", "prior_notifications"]
CALIPER = 0.2


def make_units(n_treated: int, n_candidates: int, seed: int = 20130101) -> pd.DataFrame:
    """Treated units and candidates with five covariates and, for the kernel cases, a given score."""
    rng = np.random.default_rng(seed)
    n = n_treated + n_candidates
    df = pd.DataFrame(
        {
            "sex": rng.integers(0, 2, n),
            "age_at_entry": rng.uniform(0, 17, n),
            "parent_income": rng.lognormal(12, 0.5, n) / 1e5,
            "parent_basic_education": rng.integers(0, 2, n),
            "prior_notifications": rng.poisson(1.5, n),
        }
    )
    linear = -0.6 * df["parent_income"] + 0.04 * df["age_at_entry"] + 0.5 * df["parent_basic_education"]
    linear = linear + 0.2 * df["prior_notifications"]
    p = np.exp(linear.to_numpy())
    treated = np.zeros(n, dtype=np.int64)
    treated[rng.choice(n, n_treated, replace=False, p=p / p.sum())] = 1
    df["treated"] = treated
    df["score"] = np.where(treated == 1, rng.beta(3, 5, n), rng.beta(2, 6, n))
    return df


def load_data(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def warmup_slice(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[:20_000].reset_index(drop=True)


def _scores(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    treated = df["treated"].to_numpy() == 1
    score = df["score"].to_numpy()
    return score[treated], score[~treated]


def _nearest_distance(n_treated: int, treated_pos: np.ndarray, distance: np.ndarray) -> pd.DataFrame:
    nearest = np.full(n_treated, np.inf)
    np.minimum.at(nearest, treated_pos, distance)
    return pd.DataFrame({"nearest": nearest})


def run_ours(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from evaluation.methods.matching import match
    from evaluation.methods.matching.nearest import greedy_without_replacement, nearest_with_replacement

    if case == "match_pipeline":
        result = match(df, "treated", COVARIATES, ratio=1, replace=True, caliper=CALIPER, exact=["sex"])
        matched = result.matched
        return _normalised(matched.index.to_numpy(), matched["treated"].to_numpy(), matched["weight"].to_numpy())
    d_t, d_c = _scores(df)
    if case == "kernel_replace":
        tp, cp = nearest_with_replacement(d_t, d_c, 1, None)
        return _nearest_distance(len(d_t), tp, np.abs(d_c[cp] - d_t[tp]))
    tp, cp, _ = greedy_without_replacement(d_t, d_c, 1, None, np.argsort(-d_t, kind="stable"))
    return pd.DataFrame({"treated_pos": tp, "control_pos": cp})


def run_reference(df: pd.DataFrame, case: str) -> pd.DataFrame:
    import statsmodels.api as sm
    from scipy.spatial import cKDTree

    if case == "kernel_replace":
        d_t, d_c = _scores(df)
        distance, _ = cKDTree(d_c[:, None]).query(d_t[:, None], k=1)
        return pd.DataFrame({"nearest": distance})
    treated = df["treated"].to_numpy()
    design = sm.add_constant(df[COVARIATES].to_numpy(dtype=float), has_constant="add")
    fit = sm.GLM(treated.astype(float), design, family=sm.families.Binomial()).fit(tol=1e-12, maxiter=100)
    score = fit.predict(design)
    caliper = CALIPER * score.std(ddof=1)
    rows, weights = [], []
    for sex in (0, 1):
        cell = df["sex"].to_numpy() == sex
        t_rows = np.flatnonzero(cell & (treated == 1))
        c_rows = np.flatnonzero(cell & (treated == 0))
        distance, nearest = cKDTree(score[c_rows, None]).query(score[t_rows, None], k=1)
        kept = distance <= caliper
        used, counts = np.unique(c_rows[nearest[kept]], return_counts=True)
        rows += [t_rows[kept], used]
        weights += [np.ones(kept.sum()), counts.astype(float)]
    rows_all = np.concatenate(rows)
    return _normalised(rows_all, treated[rows_all], np.concatenate(weights))


def _normalised(rows: np.ndarray, treated: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Rows kept, their group and their weight as a share of their group's total weight."""
    out = pd.DataFrame({"row": rows, "treated": treated.astype(np.int64), "weight": weight.astype(float)})
    out["weight"] = out["weight"] / out.groupby("treated")["weight"].transform("sum")
    return out.sort_values("row", ignore_index=True)


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.matching", run_ours),
    "reference": Implementation(
        "straightforward: scipy cKDTree (score: statsmodels GLM)",
        run_reference,
        cases=("kernel_replace", "match_pipeline"),
    ),
}


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """Nearest distances equal (kernel), or the same rows kept with the same normalised weights (match)."""
    if "nearest" in ours.columns:
        diff = float(np.max(np.abs(ours["nearest"].to_numpy() - theirs["nearest"].to_numpy())))
        return diff <= 1e-12, f"max abs diff of the nearest distance {diff:.1e}"
    if not np.array_equal(ours["row"].to_numpy(), theirs["row"].to_numpy()):
        n_diff = len(set(ours["row"]).symmetric_difference(theirs["row"]))
        return False, f"{n_diff} rows kept by one implementation only ({len(ours):,} vs {len(theirs):,})"
    diff = float(np.max(np.abs(ours["weight"].to_numpy() - theirs["weight"].to_numpy())))
    return diff <= 1e-12, f"same {len(ours):,} rows kept, max abs diff of normalised weights {diff:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--treated", type=int, default=50_000)
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "units.parquet"
        make_units(args.treated, args.candidates).to_parquet(path)
        rows = run_bench("bench_matching", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print(f"\n{args.treated:,} treated vs {args.candidates:,} candidates\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
