"""Inverse probability weights and entropy balancing: known properties and hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.weighting import entropy_balance, weights


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 2000
    age = rng.normal(10, 4, n)
    poor = rng.binomial(1, 0.3, n)
    region = rng.choice(["north", "south", "east"], n)
    lin = -1.5 + 0.2 * (age - 10) + 0.8 * poor + 0.4 * (region == "south")
    treat = rng.binomial(1, 1 / (1 + np.exp(-lin)))
    return pd.DataFrame({"treat": treat, "age": age, "poor": poor, "region": region})


def _logit(df):
    x = sm.add_constant(df[["age", "poor"]].astype(float))
    return sm.Logit(df["treat"], x).fit(disp=0).predict(x).to_numpy()


@pytest.mark.parametrize(
    "estimand, treated_w, control_w",
    [
        ("ATT", lambda p: np.ones_like(p), lambda p: p / (1 - p)),
        ("ATC", lambda p: (1 - p) / p, lambda p: np.ones_like(p)),
        ("ATE", lambda p: 1 / p, lambda p: 1 / (1 - p)),
    ],
)
def test_ipw_formulas(data, estimand, treated_w, control_w):
    p = _logit(data)
    w = weights(data, "treat", ["age", "poor"], method="ipw", estimand=estimand)
    t = data["treat"].to_numpy() == 1
    assert w.index.equals(data.index) and w.name == "weight"
    np.testing.assert_allclose(w[t], treated_w(p[t]), rtol=1e-7)
    np.testing.assert_allclose(w[~t], control_w(p[~t]), rtol=1e-7)


def test_ipw_normalize_sums_to_group_size_and_keeps_ratios(data):
    raw = weights(data, "treat", ["age", "poor"], estimand="ATE")
    norm = weights(data, "treat", ["age", "poor"], estimand="ATE", normalize=True)
    for g in (0, 1):
        rows = data["treat"] == g
        assert norm[rows].sum() == pytest.approx(rows.sum())
        np.testing.assert_allclose(norm[rows] / raw[rows], norm[rows].iloc[0] / raw[rows].iloc[0])


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
def test_entropy_reproduces_target_means(data, estimand):
    cov = ["age", "poor", "region"]
    w = weights(data, "treat", cov, method="entropy", estimand=estimand).to_numpy()
    x = pd.get_dummies(data[cov], columns=["region"], dtype=float).to_numpy()
    t = data["treat"].to_numpy() == 1
    targets = {"ATT": [(~t, x[t].mean(0))], "ATC": [(t, x[~t].mean(0))], "ATE": [(~t, x.mean(0)), (t, x.mean(0))]}
    for rows, target in targets[estimand]:
        np.testing.assert_allclose(np.average(x[rows], axis=0, weights=w[rows]), target, rtol=0, atol=1e-8)
        assert w[rows].sum() == pytest.approx(rows.sum())
    if estimand == "ATT":
        assert (w[t] == 1).all()


def test_entropy_second_moments_balance_variances(data):
    w = weights(data, "treat", ["age"], method="entropy", moments=2).to_numpy()
    t = data["treat"].to_numpy() == 1
    age = data["age"].to_numpy()
    m_c = np.average(age[~t], weights=w[~t])
    v_c = np.average((age[~t] - m_c) ** 2, weights=w[~t])
    assert m_c == pytest.approx(age[t].mean(), abs=1e-8)
    assert v_c == pytest.approx(age[t].var(), rel=1e-9)


def test_entropy_by_hand_two_units():
    # two controls at 0 and 1, target mean 0.25 -> weights 3/4 and 1/4 (the only solution)
    p = entropy_balance(np.array([[0.0], [1.0]]), np.array([0.25]))
    assert p == pytest.approx([0.75, 0.25], abs=1e-12)
    # three controls 0, 1, 2 with target 1: maximum entropy gives equal weights
    p3 = entropy_balance(np.array([[0.0], [1.0], [2.0]]), np.array([1.0]))
    assert p3 == pytest.approx([1 / 3] * 3, abs=1e-12)


def test_entropy_infeasible_raises():
    df = pd.DataFrame({"treat": [1, 1, 0, 0, 0], "x": [5.0, 6.0, 0.0, 1.0, 2.0]})
    with pytest.raises(ModelNotIdentifiedError, match="range"):
        weights(df, "treat", ["x"], method="entropy")


@pytest.mark.parametrize(
    "kwargs, message",
    [({"method": "cbps"}, "method"), ({"estimand": "ATO"}, "estimand"), ({"moments": 3}, "moments")],
)
def test_bad_options(data, kwargs, message):
    with pytest.raises(EvaluationError, match=message):
        weights(data, "treat", ["age"], **kwargs)
