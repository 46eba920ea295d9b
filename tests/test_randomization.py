"""Randomization inference over municipalities and the inference policy (hand-computed cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ConfigError, EvaluationError
from evaluation.methods.inference import (
    choose_inference,
    effective_clusters,
    effective_clusters_balanced,
    effective_clusters_from_data,
    randomization_inference,
    reassign_adoption,
)


def units_frame(y: list[float], first_treat: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"municipality": range(len(y)), "y": y, "first_treat": first_treat, "year": 2020})


def diff_in_means(df: pd.DataFrame) -> float:
    treated = df["first_treat"] > 0
    return float(df.loc[treated, "y"].mean() - df.loc[~treated, "y"].mean())


def test_exact_p_value_with_one_treated_unit() -> None:
    # Treated unit 0 (y = 10) against 1, 2, 3: the four assignments give 8, -4, -8/3, -4/3,
    # so only the observed one is at least as extreme: p = 1/4.
    df = units_frame([10, 1, 2, 3], [2015, 0, 0, 0])
    res = randomization_inference(df, diff_in_means, time=None)
    assert res.exact and res.n_permutations == 4
    assert res.statistic == pytest.approx(8.0)
    np.testing.assert_allclose(sorted(res.null_distribution), sorted([8, -4, -8 / 3, -4 / 3]))
    assert res.p_value == pytest.approx(0.25)


def test_enumeration_covers_every_distinct_schedule_once() -> None:
    # Two adopt in 2013, one in 2015, two never: 5!/(2! 1! 2!) = 30 distinct schedules.
    seen = []

    def record(df: pd.DataFrame) -> float:
        seen.append(tuple(df.sort_values("municipality")["first_treat"]))
        return 0.0

    df = units_frame([1, 2, 3, 4, 5], [2013, 2013, 2015, 0, 0])
    res = randomization_inference(df, record, time=None)
    schedules = seen[1:]  # the first call is the observed statistic
    assert res.exact and res.n_permutations == 30 and len(set(schedules)) == 30
    assert all(sorted(s) == [0, 0, 2013, 2013, 2015] for s in schedules)


def test_random_reassignments_use_the_plus_one_formula_and_the_seed() -> None:
    rng = np.random.default_rng(2)
    df = units_frame(list(rng.normal(size=30)), [2015] * 5 + [0] * 25)
    a = randomization_inference(df, diff_in_means, time=None, n_permutations=199, seed=5)
    b = randomization_inference(df, diff_in_means, time=None, n_permutations=199, seed=5)
    assert not a.exact and a.n_permutations == 199
    k = int(np.sum(np.abs(a.null_distribution) >= abs(a.statistic) * (1 - 1e-10)))
    assert a.p_value == pytest.approx((1 + k) / 200)
    np.testing.assert_array_equal(a.null_distribution, b.null_distribution)


def test_reassignment_recomputes_the_treatment_columns() -> None:
    df = pd.DataFrame(
        {"municipality": [1, 1, 2, 2], "year": [2014, 2016, 2014, 2016], "first_treat": [2015, 2015, 0, 0]}
    ).assign(treated_unit=[1, 1, 0, 0], post=[0, 1, 0, 0], treated=[0, 1, 0, 0])
    out = reassign_adoption(df, {1: 0, 2: 2015}, unit="municipality", first_treat="first_treat", time="year")
    assert out["first_treat"].tolist() == [0, 0, 2015, 2015]
    assert out["treated_unit"].tolist() == [0, 0, 1, 1]
    assert out["treated"].tolist() == [0, 0, 0, 1] and out["post"].tolist() == [0, 0, 0, 1]


def test_schedule_must_be_constant_within_units() -> None:
    df = pd.DataFrame({"municipality": [1, 1], "first_treat": [2015, 2016], "y": [0.0, 1.0]})
    with pytest.raises(EvaluationError, match="varies within"):
        randomization_inference(df, diff_in_means, time=None)


def test_effective_clusters_hand_cases() -> None:
    # Equal gamma_g in every cluster: G* = G.
    assert effective_clusters(np.array([1.0, -1, 1, -1]), np.array([0, 0, 1, 1]), rho=0) == pytest.approx(2.0)
    # gamma = (4, 1, 1, 1) (rho = 0): mean 7/4, Gamma = mean((gamma - 7/4)^2) / (7/4)^2 = (27/16) / (49/16).
    x = np.array([2.0, 1.0, 1.0, 1.0])
    assert effective_clusters(x, np.arange(4), rho=0) == pytest.approx(4 / (1 + 27 / 49))
    # rho = 1 uses the squared cluster sums: clusters {2, -1} and {1, 1} give gamma = (1, 4).
    g = effective_clusters(np.array([2.0, -1.0, 1.0, 1.0]), np.array([0, 0, 1, 1]), rho=1)
    assert g == pytest.approx(2 / (1 + (2.25 / 6.25)))


def test_balanced_effective_clusters_formula() -> None:
    assert effective_clusters_balanced(49, 98) == pytest.approx(98.0)
    p = 1 / 98
    assert effective_clusters_balanced(1, 98) == pytest.approx(98 * p * (1 - p) / (p * (1 - p) + (1 - 2 * p) ** 2))
    # Data version: balanced cluster-level treatment, no fixed effects -> the same value (any rho).
    df = pd.DataFrame({"m": np.repeat(np.arange(10), 4)}).assign(treated=lambda d: (d["m"] < 2).astype(float))
    for rho in (0.0, 1.0):
        assert effective_clusters_from_data(df, "treated", cluster="m", rho=rho) == pytest.approx(
            effective_clusters_balanced(2, 10)
        )


@pytest.mark.parametrize(
    ("treated", "method", "weights"),
    [
        (1, "randomization_inference", None),
        (4, "randomization_inference", None),
        (5, "wild_cluster_bootstrap", "webb"),
        (11, "wild_cluster_bootstrap", "webb"),
        (12, "wild_cluster_bootstrap", "rademacher"),
        (29, "wild_cluster_bootstrap", "rademacher"),
        (30, "cluster_robust", None),
    ],
)
def test_policy_thresholds(treated: int, method: str, weights: str | None) -> None:
    choice = choose_inference(treated, 98, None)
    assert choice.method == method and choice.weight_type == weights
    assert choice.effective_clusters == pytest.approx(effective_clusters_balanced(treated, 98))
    assert f"{treated} treated of 98" in choice.reason


def test_policy_can_be_forced_and_checks_config() -> None:
    forced = choose_inference(1, 98, {"inference": {"method": "cluster_robust"}}, effective=1.3)
    assert forced.method == "cluster_robust" and forced.effective_clusters == 1.3
    with pytest.raises(ConfigError, match="inference.method"):
        choose_inference(1, 98, {"inference": {"method": "bayes"}})
