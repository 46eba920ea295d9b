"""Event-study table and the joint pre-trend Wald test."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.methods.did import att_gt
from evaluation.methods.eventstudy import event_study, pretrend_test

REF = Path(__file__).parent / "reference" / "did"
sys.path.insert(0, str(REF))
from staggered_panel import staggered_panel  # noqa: E402


@pytest.mark.parametrize("covariates", ["none", "x"])
def test_group_time_pretest_matches_r_did_wald(covariates: str) -> None:
    ref = pd.read_csv(REF / "pretest_reference.csv")
    ref = ref[(ref["dataset"] == "synthetic") & (ref["covariates"] == covariates)].iloc[0]
    r = att_gt(
        staggered_panel(),
        outcome="y",
        unit="id",
        time="year",
        group="first_treat",
        covariates=["x1", "x2"] if covariates == "x" else None,
    )
    test = pretrend_test(r, level="group_time")
    assert test.statistic == pytest.approx(ref["wald_stat"], rel=1e-6)
    assert test.p_value == pytest.approx(ref["wald_pvalue"], abs=1e-5)  # R rounds Wpval to 5 digits


def test_event_time_pretest_by_hand() -> None:
    r = att_gt(staggered_panel(), outcome="y", unit="id", time="year", group="first_treat")
    agg = r.aggregate("dynamic")
    pre = agg.table["event_time"].to_numpy() < 0
    psi = agg.influence[:, pre]
    theta = agg.table["att"].to_numpy()[pre]
    cov = psi.T @ psi / psi.shape[0] ** 2
    w = theta @ np.linalg.inv(cov) @ theta
    test = pretrend_test(r)
    assert test.statistic == pytest.approx(w, rel=1e-10)
    assert test.df == int(pre.sum()) and test.p_value == pytest.approx(stats.chi2.sf(w, pre.sum()))
    # a planted pre-trend in the 2006 cohort must be detected
    data = staggered_panel()
    data.loc[data["first_treat"] == 2006, "y"] += 0.4 * (data["year"] - 2001)
    biased = att_gt(data, outcome="y", unit="id", time="year", group="first_treat")
    assert pretrend_test(biased).p_value < 1e-6


def test_universal_base_leaves_out_the_reference_period() -> None:
    r = att_gt(staggered_panel(), outcome="y", unit="id", time="year", group="first_treat", base_period="universal")
    test = pretrend_test(r)
    assert -1 not in test.event_times and min(test.event_times) == -5


def test_event_study_table_has_pointwise_and_band_columns() -> None:
    r = att_gt(
        staggered_panel(),
        outcome="y",
        unit="id",
        time="year",
        group="first_treat",
        bootstrap=True,
        n_bootstrap=500,
        random_state=1,
    )
    table = event_study(r)
    assert list(table["event_time"]) == [-4, -3, -2, -1, 0, 1, 2, 3]
    assert table["pre"].tolist() == [True] * 4 + [False] * 4
    assert ((table["band_high"] - table["band_low"]) > (table["ci_high"] - table["ci_low"])).all()
    np.testing.assert_allclose(table["ci_high"] - table["att"], stats.norm.ppf(0.975) * table["se"])
