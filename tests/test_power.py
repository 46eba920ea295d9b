"""Power: the MDE formula against hand computation and t tables, and simulation against the formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.power import mde_formula, mde_from_power_curve, power_by_simulation, power_formula, power_table


def test_mde_by_hand_with_t_table_values() -> None:
    # G = 20, P = 1/2, m = 1, no clustering, one pre and one post period:
    # Var = 1 / (0.25 * 20) * (1 + 1) = 0.4; t(0.975, 18) = 2.1009, t(0.80, 18) = 0.8620 (tables).
    expected = (2.1009 + 0.8620) * np.sqrt(0.4)
    assert mde_formula(20, 0.5, 1, 0.0) == pytest.approx(expected, rel=2e-4)


def test_design_effect_properties() -> None:
    # ICC = 1: a cluster of m children carries the information of one child.
    assert mde_formula(30, 0.3, 50, 1.0) == pytest.approx(mde_formula(30, 0.3, 1, 0.0))
    # ICC = 0: m children per cluster shrink the MDE by sqrt(m).
    assert mde_formula(30, 0.3, 25, 0.0) == pytest.approx(mde_formula(30, 0.3, 1, 0.0) / 5)
    # MDE scales with the outcome SD, and more periods on each side halve the DiD variance factor.
    assert mde_formula(30, 0.3, 10, 0.1, sd=4.0) == pytest.approx(4 * mde_formula(30, 0.3, 10, 0.1))
    assert mde_formula(30, 0.3, 10, 0.1, pre_periods=2, post_periods=2) == pytest.approx(
        mde_formula(30, 0.3, 10, 0.1) / np.sqrt(2)
    )


def test_power_at_the_mde_is_the_target() -> None:
    mde = mde_formula(98, 17 / 98, 40, 0.05, sd=6.0, power=0.8)
    assert power_formula(mde, 98, 17 / 98, 40, 0.05, sd=6.0) == pytest.approx(0.8, abs=1e-9)


def test_simulated_power_at_the_formula_mde_is_close_to_target() -> None:
    g, g1, m, icc = 40, 10, 20, 0.1

    def draw(effect: float, rng: np.random.Generator) -> float:
        from scipy import stats

        # Cluster-period means of m children: cluster shock (var icc) + child noise (var 1 - icc) / m,
        # independent across the pre and post period (the formula's repeated cross-sections).
        shape = (g, 2)
        means = rng.normal(scale=np.sqrt(icc), size=shape) + rng.normal(scale=np.sqrt((1 - icc) / m), size=shape)
        means[:g1, 1] += effect
        change = means[:, 1] - means[:, 0]
        return float(stats.ttest_ind(change[:g1], change[g1:]).pvalue)

    mde = mde_formula(g, g1 / g, m, icc)
    curve = power_by_simulation(draw, [0.0, mde], n_sims=1000, seed=3)
    size, power = curve["power"].tolist()
    assert abs(size - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 1000)
    assert abs(power - 0.8) < 3 * np.sqrt(0.8 * 0.2 / 1000) + 0.01  # the formula ignores the far tail


def test_power_curve_interpolation_and_table() -> None:
    curve = pd.DataFrame({"effect": [0.0, 1.0, 2.0], "power": [0.05, 0.6, 0.9]})
    assert mde_from_power_curve(curve) == pytest.approx(1 + (0.8 - 0.6) / 0.3)
    assert np.isnan(mde_from_power_curve(curve, power=0.95))
    table = power_table(98, [1, 17], [20, 40], [0.0, 0.1])
    assert len(table) == 8 and (table.groupby("treated_clusters")["mde"].mean().diff().dropna() < 0).all()


def test_invalid_designs_are_errors() -> None:
    with pytest.raises(EvaluationError, match="share treated"):
        mde_formula(20, 1.0, 10, 0.1)
    with pytest.raises(EvaluationError, match="intra-cluster"):
        mde_formula(20, 0.5, 10, 1.5)
