"""Municipality-level staggered DiD by subgroup of children."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.methods.did.heterogeneity import att_gt_by_subgroup, life_phase, municipality_year_means


def test_life_phase_bins() -> None:
    phases = life_phase(pd.Series([0, 6, 7, 13, 14, 17, 18]))
    assert phases.tolist()[:6] == ["0-6", "0-6", "7-13", "7-13", "14-17", "14-17"]
    assert pd.isna(phases.iloc[6])


def child_panel() -> pd.DataFrame:
    """40 municipalities adopting in 2016, 2018 or never; the effect is -2 for girls and 0 for boys."""
    rng = np.random.default_rng(0)
    adopt = np.array([2016, 2018, 0, 0])[np.arange(40) % 4]
    rows = []
    for m in range(40):
        for t in range(2014, 2021):
            sex = rng.integers(1, 3, size=30)
            treated = adopt[m] > 0 and t >= adopt[m]
            y = 10 + 0.1 * m + 0.3 * (t - 2014) + np.where(treated & (sex == 2), -2.0, 0.0) + rng.normal(size=30)
            rows.append(pd.DataFrame({"municipality": m, "year": t, "first_treat": adopt[m], "sex": sex, "sdq": y}))
    return pd.concat(rows, ignore_index=True)


def test_means_and_subgroup_effects() -> None:
    panel = child_panel()
    means = municipality_year_means(panel, ["sdq"])
    assert len(means) == 40 * 7 and (means["n_children"] == 30).all()
    first = panel[(panel["municipality"] == 3) & (panel["year"] == 2015)]["sdq"].mean()
    assert means.set_index(["municipality", "year"]).loc[(3, 2015), "sdq"] == pytest.approx(first)
    out = att_gt_by_subgroup(panel, "sdq", "sex").set_index("subgroup")
    assert out.loc[2, "ci_low"] <= -2.0 <= out.loc[2, "ci_high"]
    assert out.loc[1, "ci_low"] <= 0.0 <= out.loc[1, "ci_high"]
    assert out.loc[2, "ci_high"] < 0 and out.loc[1, "n_treated"] == 20
