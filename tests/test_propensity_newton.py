"""The Newton-Raphson logit of the propensity score reaches statsmodels' IRLS maximum (placebo designs use it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.matching import match
from evaluation.methods.matching.score import fit_propensity


def _children(n: int, *, seed: int, rare: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.integers(0, 2, size=n)
    region = rng.choice(["a", "b", "c"], size=n)
    base = -6.0 if rare else -0.5
    eta = base + 0.8 * x1 - 0.6 * x2 + np.where(region == "b", 0.4, 0.0)
    treat = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"treat": treat, "x1": x1, "x2": x2, "region": region})


@pytest.mark.parametrize(("n", "seed", "rare"), [(400, 1, False), (20_000, 2, False), (50_000, 3, True)])
def test_newton_reaches_the_irls_maximum(n: int, seed: int, rare: bool) -> None:
    df = _children(n, seed=seed, rare=rare)
    covariates = ["x1", "x2", "region"]
    p_irls, lin_irls = fit_propensity(df, "treat", covariates)
    p_newton, lin_newton = fit_propensity(df, "treat", covariates, solver="newton")
    assert np.max(np.abs(lin_newton - lin_irls)) < 1e-9
    assert np.max(np.abs(p_newton - p_irls)) < 1e-11
    # identical covariates, identical scores (ties as R's glm gives them)
    twins = pd.concat([df[["x2", "region"]], df["x1"].round(0).rename("x1")], axis=1)
    same = df.assign(x1=twins["x1"])
    _, lin_twins = fit_propensity(same, "treat", covariates, solver="newton")
    assert lin_twins.groupby([same[c] for c in covariates]).nunique().max() == 1


def test_newton_matches_the_same_children() -> None:
    df = _children(3_000, seed=4)
    kwargs = {"covariates": ["x1", "x2", "region"], "ratio": 2, "replace": True, "caliper": 0.2}
    irls = match(df, "treat", **kwargs)
    newton = match(df, "treat", **kwargs, score_solver="newton")
    pd.testing.assert_frame_equal(irls.matched, newton.matched)
    assert len(irls.matched) > 0
    # a probit score is always fitted by IRLS, whatever the solver asked for
    probit = match(df, "treat", **kwargs, distance="probit")
    probit_newton = match(df, "treat", **kwargs, distance="probit", score_solver="newton")
    pd.testing.assert_series_equal(probit.propensity, probit_newton.propensity)


def test_newton_falls_back_to_irls_where_the_groups_separate() -> None:
    # no maximum exists: IRLS stops where its deviance stops changing, and Newton hands over to it
    df = _children(500, seed=5)
    df["perfect"] = df["treat"] * 2.0 - 1.0
    df["partly"] = ((df["treat"] == 0) & (df["x1"] > 1.5)).astype(float)  # 1 only among comparison units
    for covariates in (["x1", "perfect"], ["x1", "x2", "partly"]):
        _, irls = fit_propensity(df, "treat", covariates)
        _, newton = fit_propensity(df, "treat", covariates, solver="newton")
        assert irls.abs().max() > 20  # the scores of the separated units run off
        pd.testing.assert_series_equal(newton, irls)
    with pytest.raises(EvaluationError, match="logit only"):
        fit_propensity(df, "treat", ["x1"], link="probit", solver="newton")
    with pytest.raises(EvaluationError, match="solver"):
        fit_propensity(df, "treat", ["x1"], solver="lbfgs")


def test_matching_without_the_balance_table_keeps_the_matches() -> None:
    df = _children(2_000, seed=6)
    kwargs = {"covariates": ["x1", "x2", "region"], "ratio": 1, "replace": True, "caliper": 0.2}
    full = match(df, "treat", **kwargs)
    bare = match(df, "treat", **kwargs, balance=False, score_solver="newton")
    pd.testing.assert_frame_equal(full.matched, bare.matched)
    assert len(full.matched) > 0 and len(full.balance) > 0 and bare.balance.empty
    assert bare.balance.columns.tolist() == full.balance.columns.tolist()
