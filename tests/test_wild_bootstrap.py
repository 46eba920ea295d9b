"""Wild cluster bootstrap: against wildboottest 0.3.2 (full Rademacher enumeration) and known properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.inference import bootstrap_weights, wild_cluster_bootstrap
from evaluation.methods.panel import fixed_effects

REF = Path(__file__).parent / "reference" / "wildboot"
CASES = {
    "panel": {"data": "panel_data.csv", "pvalues": "panel_pvalues.csv", "unit": "id", "time": "year"},
    "ols": {"data": "ols_data.csv", "pvalues": "ols_pvalues.csv", "unit": None, "time": None},
}


def run(case: str, null: float = 0.0, **kw):
    c = CASES[case]
    df = pd.read_csv(REF / c["data"])
    return wild_cluster_bootstrap(
        df, "y", "treated", cluster="m", controls=["x2"], unit=c["unit"], time=c["time"], null=null, **kw
    )


@pytest.mark.parametrize("case", list(CASES))
def test_p_values_match_wildboottest_on_a_grid(case: str) -> None:
    ref = pd.read_csv(REF / CASES[case]["pvalues"])
    first = run(case, confidence_interval=False)
    n_draws = first.n_boot
    assert first.enumerated and n_draws == 2**first.n_clusters
    for beta0, p_ref in zip(ref["beta0"], ref["p_value"], strict=True):
        p = run(case, null=beta0, confidence_interval=False).p_value
        # Identical draws; the only freedom is the two sign vectors +-1, whose |t*| equals |t|
        # exactly: we never count them (ties excluded), wildboottest counts them when rounding
        # happens to put |t*| above |t|. So p_ref - p is 0, 1/2^G or 2/2^G.
        assert p <= p_ref + 1e-12
        assert p_ref - p <= 2 / n_draws + 1e-12


@pytest.mark.parametrize("case", list(CASES))
def test_confidence_interval_inverts_the_reference_test(case: str) -> None:
    ref = pd.read_csv(REF / CASES[case]["pvalues"])
    res = run(case)
    slack = 2 / res.n_boot
    inside = ref.loc[ref["p_value"] >= 0.05 + slack, "beta0"]
    outside = ref.loc[ref["p_value"] < 0.05, "beta0"]
    assert res.ci_low <= inside.min() and res.ci_high >= inside.max()
    below, above = outside[outside < res.estimate], outside[outside > res.estimate]
    # A bound beyond the grid is consistent when no grid point on that side is rejected.
    assert res.ci_low > below.max() if len(below) else res.ci_low < ref["beta0"].min()
    assert res.ci_high < above.min() if len(above) else res.ci_high > ref["beta0"].max()


def test_estimate_and_se_match_the_fixed_effects_estimator() -> None:
    df = pd.read_csv(REF / "panel_data.csv")
    res = run("panel")
    fe = fixed_effects(df, "y", ["treated", "x2"], "id", "year", cluster="m").table.loc["treated"]
    assert res.estimate == pytest.approx(fe["coef"], rel=1e-10)
    assert res.se == pytest.approx(fe["se"], rel=1e-10)


def test_weighted_estimate_and_se_match_the_fixed_effects_estimator() -> None:
    df = pd.read_csv(REF / "panel_data.csv")
    df["w"] = 1.0 + (df["id"] % 3)
    res = wild_cluster_bootstrap(df, "y", "treated", cluster="m", unit="id", time="year", weights="w")
    fe = fixed_effects(df, "y", ["treated"], "id", "year", cluster="m", weights="w").table.loc["treated"]
    assert res.estimate == pytest.approx(fe["coef"], rel=1e-10)
    assert res.se == pytest.approx(fe["se"], rel=1e-10)


def test_p_value_is_one_at_the_estimate_and_falls_away_from_it() -> None:
    res = run("panel", confidence_interval=False)
    assert run("panel", null=res.estimate, confidence_interval=False).p_value == pytest.approx(1.0)
    assert run("panel", null=res.estimate + 10 * res.se, confidence_interval=False).p_value < 0.01


def test_webb_draws_are_seeded_and_six_point() -> None:
    a, enum_a = bootstrap_weights(20, weight_type="webb", n_boot=500, seed=4)
    b, _ = bootstrap_weights(20, weight_type="webb", n_boot=500, seed=4)
    assert not enum_a and a.shape == (500, 20)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(sorted(np.unique(a) ** 2), [0.5, 0.5, 1, 1, 1.5, 1.5])
    full, enumerated = bootstrap_weights(5)
    assert enumerated and len({tuple(r) for r in full}) == 32


def test_webb_bootstrap_runs_with_random_draws() -> None:
    res = run("panel", weight_type="webb", n_boot=999, seed=1)
    assert not res.enumerated and res.n_boot == 999
    assert res.ci_low < res.estimate < res.ci_high


def test_unknown_weight_type_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="weight_type"):
        run("panel", weight_type="mammen")
