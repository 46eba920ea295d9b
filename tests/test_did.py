"""Unit tests of evaluation.methods.did: hand-computed 2x2 cases, invariances, option semantics, errors, bootstrap."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.errors import EvaluationError
from evaluation.methods.did import att_gt
from evaluation.methods.did.estimators import did_panel

REF = Path(__file__).parent / "reference" / "did"
sys.path.insert(0, str(REF))
from staggered_panel import staggered_panel  # noqa: E402

METHODS = ["dr", "dr_imp", "ipw", "reg"]


def two_by_two() -> pd.DataFrame:
    """Three treated and four never-treated units over two periods; effect built into the numbers."""
    y0 = {1: 1.0, 2: 2.0, 3: 4.0, 4: 0.0, 5: 1.0, 6: 3.0, 7: 2.0}
    dy = {1: 3.0, 2: 2.0, 3: 4.0, 4: 1.0, 5: 0.0, 6: 2.0, 7: 1.0}
    rows = []
    for i in y0:
        g = 2 if i <= 3 else 0
        rows += [{"id": i, "year": 1, "y": y0[i], "g": g}, {"id": i, "year": 2, "y": y0[i] + dy[i], "g": g}]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("method", METHODS)
def test_two_by_two_by_hand(method: str) -> None:
    # treated changes 3, 2, 4 (mean 3, population variance 2/3); controls 1, 0, 2, 1 (mean 1, variance 1/2)
    r = att_gt(two_by_two(), outcome="y", unit="id", time="year", group="g", method=method)
    row = r.table.iloc[0]
    assert (row["group"], row["time"], row["base_period"]) == (2, 2, 1)
    assert row["att"] == pytest.approx(2.0, abs=1e-12)
    assert row["se"] == pytest.approx(np.sqrt((2 / 3) / 3 + 0.5 / 4), rel=1e-10)
    z = stats.norm.ppf(0.975)
    assert row["ci_low"] == pytest.approx(2.0 - z * row["se"])
    assert (row["n_treated"], row["n_control"]) == (3, 4)


def test_estimators_agree_without_covariates_and_differ_with() -> None:
    data = staggered_panel()
    plain = [att_gt(data, outcome="y", unit="id", time="year", group="first_treat", method=m).table for m in METHODS]
    for other in plain[1:]:
        np.testing.assert_allclose(other["att"], plain[0]["att"], atol=1e-10)
        np.testing.assert_allclose(other["se"], plain[0]["se"], rtol=1e-8)
    cov = [
        att_gt(data, outcome="y", unit="id", time="year", group="first_treat", covariates=["x1", "x2"], method=m)
        for m in METHODS
    ]
    assert np.max(np.abs(cov[0].table["att"] - cov[3].table["att"])) > 1e-4


def test_dr_imp_matches_drdid_imp_panel_reference() -> None:
    ref = pd.read_csv(REF / "drdid_imp_reference.csv")
    data = staggered_panel()
    for _, case in ref.iterrows():
        sub = data[data["first_treat"].isin([case["group"], 0])]
        wide = sub.pivot(index="id", columns="year", values="y")
        units = sub.drop_duplicates("id").set_index("id").loc[wide.index]
        x = np.column_stack([np.ones(len(units)), units["x1"], units["x2"]])
        w = units["w"].to_numpy() if case["weights"] else np.ones(len(units))
        d = (units["first_treat"] == case["group"]).to_numpy(float)
        att, psi = did_panel(wide[case["time"]].to_numpy(), wide[case["base"]].to_numpy(), d, x, w, "dr_imp")
        assert att == pytest.approx(case["att"], abs=1e-6)
        assert np.sqrt(np.mean(psi**2) / len(psi)) == pytest.approx(case["se"], rel=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_invariant_to_unit_levels_common_shocks_and_weight_scale(method: str) -> None:
    data = staggered_panel()
    base = att_gt(
        data,
        outcome="y",
        unit="id",
        time="year",
        group="first_treat",
        covariates=["x1", "x2"],
        method=method,
        weights="w",
    ).table
    rng = np.random.default_rng(1)
    shifted = data.assign(
        y=data["y"] + rng.normal(size=600)[data["id"]] * 5 + (data["year"] - 2000) ** 2 * 0.3,
        w=data["w"] * 7.5,
        id=data["id"] + 1000,
    )
    other = att_gt(
        shifted,
        outcome="y",
        unit="id",
        time="year",
        group="first_treat",
        covariates=["x1", "x2"],
        method=method,
        weights="w",
    ).table
    np.testing.assert_allclose(other["att"], base["att"], atol=1e-9)
    np.testing.assert_allclose(other["se"], base["se"], rtol=1e-7)
    assert not base.equals(
        att_gt(
            data, outcome="y", unit="id", time="year", group="first_treat", covariates=["x1", "x2"], method=method
        ).table
    )


def noise_free(effect: dict[tuple[int, int], float]) -> pd.DataFrame:
    """Parallel trends without noise: every estimator must return the planted ATT(g,t) exactly."""
    rows = []
    cohorts = [3, 4, 0, 0]
    for i in range(40):
        g = cohorts[i % 4]
        for t in range(1, 6):
            y = i * 0.1 + t * 0.7 + (i % 3) * t * 0.0 + effect.get((g, t), 0.0)
            rows.append({"id": i, "year": t, "y": y, "g": g, "x": float(i % 5)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_noise_free_panel_recovers_planted_effects(control_group: str, base_period: str) -> None:
    effect = {(3, 3): 1.0, (3, 4): 2.0, (3, 5): 3.0, (4, 4): -1.0, (4, 5): -0.5}
    r = att_gt(
        noise_free(effect),
        outcome="y",
        unit="id",
        time="year",
        group="g",
        covariates=["x"],
        control_group=control_group,
        base_period=base_period,
    )
    for _, row in r.table.iterrows():
        assert row["att"] == pytest.approx(effect.get((row["group"], row["time"]), 0.0), abs=1e-9)


def test_base_period_semantics() -> None:
    data = staggered_panel()
    vary = att_gt(data, outcome="y", unit="id", time="year", group="first_treat").table
    univ = att_gt(data, outcome="y", unit="id", time="year", group="first_treat", base_period="universal").table
    # varying: pre-periods are short differences starting in 2002; universal: every period incl. the base
    g4 = vary[vary["group"] == 2004]
    assert g4["time"].tolist() == [2002, 2003, 2004, 2005, 2006]
    assert g4["base_period"].tolist() == [2001, 2002, 2003, 2003, 2003]
    u4 = univ[univ["group"] == 2004].set_index("time")
    assert u4.index.tolist() == [2001, 2002, 2003, 2004, 2005, 2006]
    assert u4.loc[2003, "att"] == 0.0 and np.isnan(u4.loc[2003, "se"])
    post_v = vary[vary["post"]].reset_index(drop=True)
    post_u = univ[univ["post"]].reset_index(drop=True)
    np.testing.assert_allclose(post_u["att"], post_v["att"], atol=1e-12)
    # universal pre-period = long difference = minus the sum of varying short differences back to the base
    wide = data.pivot(index="id", columns="year", values="y")
    g = data.drop_duplicates("id").set_index("id")["first_treat"]
    long_diff = wide[2001] - wide[2003]
    expected = long_diff[g == 2004].mean() - long_diff[g == 0].mean()
    assert u4.loc[2001, "att"] == pytest.approx(expected, abs=1e-12)


def test_not_yet_treated_comparison_group_by_hand() -> None:
    data = staggered_panel()
    r = att_gt(data, outcome="y", unit="id", time="year", group="first_treat", control_group="not_yet_treated")
    row = r.table[(r.table["group"] == 2003) & (r.table["time"] == 2004)].iloc[0]
    wide = data.pivot(index="id", columns="year", values="y")
    g = data.drop_duplicates("id").set_index("id")["first_treat"]
    change = wide[2004] - wide[2002]
    control = (g == 0) | (g > 2004)
    assert row["n_control"] == int(control.sum())
    assert row["att"] == pytest.approx(change[g == 2003].mean() - change[control].mean(), abs=1e-12)


def test_anticipation_moves_the_base_period() -> None:
    r = att_gt(staggered_panel(), outcome="y", unit="id", time="year", group="first_treat", anticipation=1)
    post = r.table[r.table["post"]]
    assert (post["base_period"] == post["group"] - 2).all()
    # R drops only cohorts with g <= first period + anticipation (2002); cohort 2003 keeps base 2001
    assert set(r.table["group"]) == {2003, 2004, 2006}
    with pytest.warns(UserWarning, match="already treated"):
        att_gt(
            staggered_panel().replace({"first_treat": {2003: 2002}}),
            outcome="y",
            unit="id",
            time="year",
            group="first_treat",
            anticipation=1,
        )


def test_checks_and_errors() -> None:
    data = staggered_panel()
    with pytest.raises(EvaluationError, match="method"):
        att_gt(data, outcome="y", unit="id", time="year", group="first_treat", method="ols")  # type: ignore[arg-type]
    with pytest.raises(EvaluationError, match="control_group"):
        att_gt(data, outcome="y", unit="id", time="year", group="first_treat", control_group="never")  # type: ignore[arg-type]
    with pytest.raises(EvaluationError, match="base_period"):
        att_gt(data, outcome="y", unit="id", time="year", group="first_treat", base_period="fixed")  # type: ignore[arg-type]
    with pytest.raises(EvaluationError, match="not in the data"):
        att_gt(data, outcome="nope", unit="id", time="year", group="first_treat")
    with pytest.raises(EvaluationError, match="constant within each unit"):
        att_gt(
            data.assign(first_treat=np.where(data["year"] == 2001, 0, data["first_treat"])),
            outcome="y",
            unit="id",
            time="year",
            group="first_treat",
        )
    with pytest.raises(EvaluationError, match="repeats ids"):
        att_gt(data, outcome="y", unit="id", time="year", group="first_treat", panel=False)
    with pytest.warns(UserWarning, match="not observed in every period"):
        r = att_gt(data.drop(index=[0]), outcome="y", unit="id", time="year", group="first_treat")
    assert r.n_units == 599
    with pytest.warns(UserWarning, match="already treated in the first period"):
        att_gt(
            data.assign(first_treat=np.where(data["id"] == 0, 2001, data["first_treat"])),
            outcome="y",
            unit="id",
            time="year",
            group="first_treat",
        )


def _same_fit(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table)
    np.testing.assert_array_equal(a.influence, b.influence)


def test_the_order_of_the_rows_does_not_matter() -> None:
    """Rows by unit, by period (years stacked) or shuffled give the same fit, bit for bit."""
    data = staggered_panel()
    kw = {"outcome": "y", "unit": "id", "time": "year", "group": "first_treat", "covariates": ["x1"], "weights": "w"}
    by_unit = att_gt(data.sort_values(["id", "year"]), **kw)
    _same_fit(by_unit, att_gt(data.sort_values(["year", "id"]), **kw))
    _same_fit(by_unit, att_gt(data.sample(frac=1.0, random_state=3), **kw))
    with pytest.raises(EvaluationError, match="constant within each unit"):
        att_gt(data.sort_values(["year", "id"]).assign(w=lambda d: np.where(d["year"] == 2004, 1.0, d["w"])), **kw)
    with pytest.raises(EvaluationError, match="twice in one period"):
        att_gt(pd.concat([data, data.iloc[[5]]]), **kw)


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_rows_dropped_by_the_checks_fit_as_if_never_there(control_group: str) -> None:
    """Units treated in the first period, and periods after the last cohort starts, leave no trace in the fit."""
    data = staggered_panel()
    kw = {"outcome": "y", "unit": "id", "time": "year", "group": "first_treat", "covariates": ["x1"]}
    early = data.assign(first_treat=np.where(data["id"] % 7 == 0, 2001, data["first_treat"]))
    with pytest.warns(UserWarning, match="already treated in the first period"):
        fit = att_gt(early, control_group=control_group, **kw)
    _same_fit(fit, att_gt(early[early["id"] % 7 != 0], control_group=control_group, **kw))
    if control_group == "never_treated":
        # without never-treated units, the last cohort compares and periods from its start on go; in data that
        # ends before it starts, it is never treated (a cohort after the last period), so the fits are the same
        no_never = data[data["first_treat"] > 0]
        with pytest.warns(UserWarning, match="last-treated cohort"):
            fit = att_gt(no_never, control_group=control_group, **kw)
        _same_fit(fit, att_gt(no_never[no_never["year"] < 2006], control_group=control_group, **kw))
        assert fit.table["time"].max() < 2006


def test_rows_with_missing_values_are_dropped_and_counted_whatever_the_dtype() -> None:
    """A missing outcome (float NaN), covariate (nullable Float64), group (nullable Int64) or unit id (string)
    drops its row, with the count in the warning; the fit is the one without those rows."""
    data = (
        staggered_panel()
        .astype({"first_treat": "Int64", "x1": "Float64"})
        .assign(id=lambda d: "u" + d["id"].astype(str))
    )
    kw = {"outcome": "y", "unit": "id", "time": "year", "group": "first_treat", "covariates": ["x1"]}
    gaps = data.copy()
    gaps.loc[3, "y"] = np.nan
    gaps.loc[10, "x1"] = pd.NA
    gaps.loc[20, "first_treat"] = pd.NA
    gaps.loc[30, "id"] = None
    with pytest.warns(UserWarning) as caught:
        fit = att_gt(gaps, allow_unbalanced_panel=True, **kw)
    assert any("dropped 4 rows with missing values" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = att_gt(data.drop(index=[3, 10, 20, 30]), allow_unbalanced_panel=True, **kw)
    _same_fit(fit, same)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing values: no warning, and integer columns are not searched
        att_gt(staggered_panel(), **kw)


def test_analytic_clusters_sum_influence_within_clusters() -> None:
    data = staggered_panel()
    plain = att_gt(data, outcome="y", unit="id", time="year", group="first_treat")
    by_unit = att_gt(
        data.assign(c=data["id"] * 3), outcome="y", unit="id", time="year", group="first_treat", cluster="c"
    )
    np.testing.assert_allclose(by_unit.table["se"], plain.table["se"], rtol=1e-12)
    clustered = att_gt(data, outcome="y", unit="id", time="year", group="first_treat", cluster="cluster")
    codes = data.drop_duplicates("id")["cluster"].to_numpy()
    psi = plain.influence[:, 5]
    sums = np.bincount(codes, weights=psi)
    assert clustered.table["se"].iloc[5] == pytest.approx(np.sqrt(np.sum(sums**2)) / len(psi), rel=1e-12)


def test_bootstrap_is_seeded_close_to_analytic_and_bands_are_wider() -> None:
    data = staggered_panel()
    kw = {"outcome": "y", "unit": "id", "time": "year", "group": "first_treat"}
    analytic = att_gt(data, **kw)
    boot = att_gt(data, **kw, bootstrap=True, n_bootstrap=2000, random_state=3)
    again = att_gt(data, **kw, bootstrap=True, n_bootstrap=2000, random_state=3)
    pd.testing.assert_frame_equal(boot.table, again.table)
    other_seed = att_gt(data, **kw, bootstrap=True, n_bootstrap=2000, random_state=4)
    assert not np.allclose(boot.table["se"], other_seed.table["se"])
    # IQR-based bootstrap scale with B = 2000 has a relative sd of about 3 %; 10 % is over 3 sd
    np.testing.assert_allclose(boot.table["se"], analytic.table["se"], rtol=0.10)
    k = len(boot.table)
    assert stats.norm.ppf(0.975) < boot.crit_val < stats.norm.ppf(1 - 0.025 / k)
    width = boot.table["ci_high"] - boot.table["ci_low"]
    np.testing.assert_allclose(width, 2 * boot.crit_val * boot.table["se"])
    pointwise = att_gt(data, **kw, bootstrap=True, n_bootstrap=2000, random_state=3, uniform_bands=False)
    assert pointwise.crit_val == pytest.approx(stats.norm.ppf(0.975))


def test_bootstrap_with_unit_clusters_equals_unit_bootstrap() -> None:
    data = staggered_panel()
    kw = {"outcome": "y", "unit": "id", "time": "year", "group": "first_treat", "bootstrap": True, "n_bootstrap": 300}
    units = att_gt(data, **kw)
    clusters = att_gt(data.assign(c=data["id"] + 10), **kw, cluster="c")
    np.testing.assert_allclose(clusters.table["se"], units.table["se"], rtol=1e-12)
    coarse = att_gt(data, **kw, cluster="cluster")
    assert not np.allclose(coarse.table["se"], units.table["se"])


def test_staggered_dynamics_recovered_where_twfe_is_biased() -> None:
    """Effects that grow with exposure: CS recovers them, TWFE (forbidden comparisons) does not."""
    from evaluation.methods.panel import fixed_effects

    rng = np.random.default_rng(11)
    n, years = 900, np.arange(2010, 2020)
    cohort = rng.choice([2012, 2015, 2018, 0], size=n, p=[0.3, 0.3, 0.2, 0.2])
    rows = []
    for t in years:
        e = t - cohort
        tau = np.where((cohort > 0) & (e >= 0), 1.0 + 1.0 * e, 0.0)
        y = rng.normal(size=n) * 0.2 + 0.3 * (t - 2010) + tau + np.arange(n) * 0.001
        rows.append(pd.DataFrame({"id": np.arange(n), "year": t, "y": y, "g": cohort, "tau": tau}))
    data = pd.concat(rows, ignore_index=True)
    data["d"] = ((data["g"] > 0) & (data["year"] >= data["g"])).astype(float)
    truth = data.loc[data["d"] == 1, "tau"].mean()  # ATT over treated unit-years
    r = att_gt(data, outcome="y", unit="id", time="year", group="g")
    dyn = r.aggregate("dynamic")
    for _, row in dyn.table.iterrows():
        planted = 1.0 + row["event_time"] if row["event_time"] >= 0 else 0.0
        assert row["ci_low"] <= planted <= row["ci_high"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twfe = fixed_effects(data, outcome="y", regressors=["d"], unit="id", time="year", cluster="id")
    ci = twfe.table.loc["d", ["ci_low", "ci_high"]]
    assert not ci["ci_low"] <= truth <= ci["ci_high"]
    assert twfe.table.loc["d", "coef"] < truth - 1.0
