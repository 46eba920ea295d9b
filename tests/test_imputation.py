"""The imputation estimator (Borusyak, Jaravel and Spiess 2024) and its few-cluster inference.

Reference numbers: ``tests/reference/did/imputation_reference.csv`` from diff-diff 3.13.0's
``ImputationDiD`` (see ``generate_imputation_reference.py``); point estimates against a brute-force
dummy-variable regression; inference against its defining algebra.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did.imputation import did_imputation
from evaluation.methods.did.imputation_inference import _reference as reference_groups
from evaluation.methods.did.imputation_inference import (
    _restricted_residuals,
    _restricted_scores,
    _score_matrices,
    event_study_bootstrap,
    imputation_randomization,
    restricted_wild_bootstrap,
)

REF = Path(__file__).parent / "reference" / "did"
sys.path.insert(0, str(REF))
from staggered_panel import staggered_panel  # noqa: E402

REFERENCE = pd.read_csv(REF / "imputation_reference.csv")


def _reference(data: str, cluster: str, leave_out: bool = False) -> pd.DataFrame:
    rows = (REFERENCE["data"] == data) & (REFERENCE["cluster"] == cluster) & (REFERENCE["leave_out"] == leave_out)
    return REFERENCE.loc[rows].set_index("quantity")


def _check_against(result, ref: pd.DataFrame) -> None:
    # both are exact linear algebra: agreement to rounding (1e-8 relative)
    assert result.estimate == pytest.approx(ref.loc["overall", "estimate"], rel=1e-8)
    assert result.se == pytest.approx(ref.loc["overall", "se"], rel=1e-8)
    events = result.event_study.set_index("event_time")
    for quantity, row in ref.drop(index="overall").iterrows():
        e = int(quantity.removeprefix("event_"))
        assert events.loc[e, "estimate"] == pytest.approx(row["estimate"], rel=1e-8)
        assert events.loc[e, "se"] == pytest.approx(row["se"], rel=1e-8)


@pytest.mark.parametrize("cluster", ["id", "cluster"])
def test_matches_diff_diff_on_the_staggered_panel(cluster):
    result = did_imputation(staggered_panel(), "y", unit="id", time="year", cohort="first_treat", cluster=cluster)
    _check_against(result, _reference("synthetic", cluster))
    assert result.df == result.n_clusters - 1


def test_leave_out_matches_diff_diff_leave_one_out_on_the_staggered_panel():
    """Unit clusters, one row per unit and period, no cohort of one unit: leaving out the cluster is BJS A.9."""
    result = did_imputation(staggered_panel(), "y", unit="id", time="year", cohort="first_treat", leave_out=True)
    _check_against(result, _reference("synthetic", "id", leave_out=True))
    plain = did_imputation(staggered_panel(), "y", unit="id", time="year", cohort="first_treat")
    assert result.se > plain.se


@pytest.mark.skipif(not (REF / "mpdta.csv").is_file(), reason="mpdta.csv (GPL-2 data of R did) is not stored")
@pytest.mark.parametrize("leave_out", [False, True])
def test_matches_diff_diff_on_mpdta(leave_out):
    mpdta = pd.read_csv(REF / "mpdta.csv").rename(columns={"first.treat": "first_treat"})
    result = did_imputation(mpdta, "lemp", unit="countyreal", time="year", cohort="first_treat", leave_out=leave_out)
    _check_against(result, _reference("mpdta", "countyreal", leave_out))


def _repeated_cross_sections(seed: int = 3, n_units: int = 24, noise: float = 1.0) -> pd.DataFrame:
    """Persons inside units (a repeated cross-section per unit), cohort- and time-varying effects.

    The covariate ``x`` shifts the trend and is more common in treated units: without its period-specific
    coefficients the untreated trend of the treated is wrong.
    """
    rng = np.random.default_rng(seed)
    rows = []
    cohorts = [0, 0, 0, 2013, 2015, 2017]
    for unit in range(n_units):
        g = cohorts[unit % len(cohorts)]
        for year in range(2010, 2020):
            for _ in range(int(rng.integers(2, 7))):
                x = float(rng.random() < (0.7 if g else 0.3))
                z = float(rng.normal())
                d = g > 0 and year >= g
                tau = (1.0 + 0.5 * (year - g) + 0.3 * (g == 2013)) if d else 0.0
                y = 0.2 * unit + 0.1 * (year - 2010) + 0.4 * x * (year - 2010) + 0.5 * z + tau
                rows.append((unit, year, g, x, z, y + noise * rng.normal(), tau, float(rng.uniform(0.5, 2.0))))
    return pd.DataFrame(rows, columns=["unit", "year", "g", "x", "z", "y", "tau", "w"])


def _with_lone_cohort(data: pd.DataFrame) -> pd.DataFrame:
    """Unit 0 adopts alone in 2012 (a cohort of one municipality, as Herning's)."""
    return data.assign(g=np.where(data["unit"] == 0, 2012, data["g"]))


@pytest.mark.parametrize("cluster", ["unit", "region"])
def test_leave_out_residuals_equal_the_means_of_the_other_clusters(cluster):
    """Each treated row against its cell's mean without its own cluster; a lone cluster against its event time."""
    data = _with_lone_cohort(_repeated_cross_sections()).assign(region=lambda d: d["unit"] // 3)
    kw = dict(unit="unit", time="year", cohort="g", weights="w", cluster=cluster)
    plain = did_imputation(data, "y", **kw)
    loo = did_imputation(data, "y", leave_out=True, **kw)
    assert loo.estimate == plain.estimate
    st = loo._state
    design, rows_t = st["design"], st["rows_t"]
    # tau_i of the fit, then the leave-out means by brute force
    from evaluation.methods.did.imputation import _Fit

    fit = _Fit.on(design, st["train"])
    b, alpha_m = fit.coefficients(design.y[st["train"]])
    tau = design.y[rows_t] - alpha_m[design.unit[rows_t]] - design.zb(rows_t, b)
    g, t = st["g"][rows_t], st["t_values"][rows_t]
    c, w2 = design.cluster[rows_t], design.w[rows_t] ** 2
    dev = np.empty(len(rows_t))
    lone = 0
    for i in range(len(rows_t)):
        other = (g == g[i]) & (t == t[i]) & (c != c[i])
        if not other.any():
            other = (t - g == t[i] - g[i]) & (c != c[i])
            lone += 1
        if not other.any():  # alone at its event time too: its own cell, without leave-out
            other = (g == g[i]) & (t == t[i])
        dev[i] = tau[i] - np.average(tau[other], weights=w2[other])
    assert lone > 0  # the lone cohort's rows are taken against the other cohorts at the same event time
    a = st["weights_t"]
    scores = np.bincount(c, weights=a * dev, minlength=design.n_clusters)
    v = _untreated_part(st)
    assert loo.se == pytest.approx(np.linalg.norm(v + scores), rel=1e-9)
    assert loo.se > plain.se


def _untreated_part(st) -> np.ndarray:
    """Cluster sums of v_j e_j over the untreated rows (the part of the BJS score leave-out leaves alone)."""
    from evaluation.methods.did.imputation_inference import _untreated_weights

    design, fit = st["design"], st["fit"]
    train = st["train"]
    b, alpha_m = fit.coefficients(design.y[train])
    res = design.y[train] - alpha_m[design.unit[train]] - design.zb(train, b)
    v = _untreated_weights(design, fit, st["rows_t"], st["weights_t"])
    return np.bincount(design.cluster[train], weights=v * res, minlength=design.n_clusters)


def test_recovers_effects_that_vary_by_cohort_and_time_exactly_without_noise():
    data = _repeated_cross_sections(noise=0.0)
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], weights="w")
    treated = data.loc[data["tau"] != 0]
    assert result.estimate == pytest.approx(np.average(treated["tau"], weights=treated["w"]), abs=1e-9)
    cells = result.cells.set_index(["cohort", "time"])["estimate"]
    truth = treated.groupby(["g", "year"]).apply(lambda f: np.average(f["tau"], weights=f["w"]))
    np.testing.assert_allclose(cells.to_numpy(), truth.to_numpy(), atol=1e-9)
    # without the covariate's period-specific coefficients the differential trend biases it
    plain = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["z"], weights="w")
    assert abs(plain.estimate - result.estimate) > 0.1


def test_point_estimate_equals_a_dummy_variable_regression_on_untreated_rows():
    data = _repeated_cross_sections()
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], weights="w")
    treated = ((data["g"] > 0) & (data["year"] >= data["g"])).to_numpy()
    design = pd.get_dummies(data[["unit", "year"]].astype(str), drop_first=True).astype(float)
    for name in ("x", "z"):
        for year in sorted(data["year"].unique()):
            design[f"{name}_{year}"] = data[name] * (data["year"] == year)
    design.insert(0, "const", 1.0)
    x0, w0 = design.to_numpy()[~treated], data["w"].to_numpy()[~treated]
    beta = np.linalg.lstsq(x0 * np.sqrt(w0)[:, None], data["y"].to_numpy()[~treated] * np.sqrt(w0), rcond=None)[0]
    tau = data["y"].to_numpy()[treated] - design.to_numpy()[treated] @ beta
    assert result.estimate == pytest.approx(np.average(tau, weights=data["w"].to_numpy()[treated]), rel=1e-9)
    # constant coefficients: the same regression without the interactions
    flat = did_imputation(
        data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], weights="w", covariate_trends=False
    )
    simple = design.loc[:, ~design.columns.str.match(r"^[xz]_")].assign(x=data["x"], z=data["z"])
    beta = np.linalg.lstsq(simple.to_numpy()[~treated] * np.sqrt(w0)[:, None], data["y"][~treated] * np.sqrt(w0))[0]
    tau = data["y"].to_numpy()[treated] - simple.to_numpy()[treated] @ beta
    assert flat.estimate == pytest.approx(np.average(tau, weights=data["w"].to_numpy()[treated]), rel=1e-9)


def test_restricted_bootstrap_draw_equals_the_estimator_on_the_bootstrap_sample():
    """tau*(y*) - tau_0 = sum_c r_c s_c(tau_0): the algebra every draw of the bootstrap relies on."""
    data = _repeated_cross_sections()
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x"], weights="w")
    st = result._state
    design, rows_t, a = st["design"], st["rows_t"], st["weights_t"]
    s_y, s_d = _restricted_scores(design, st["fit"], rows_t, a)
    tau0 = 0.7
    # the restricted model: untreated model on all rows, the effect tau0 imposed on the treated rows
    y0 = data["y"].to_numpy() - tau0 * st["treated_mask"]
    both = np.concatenate([st["train"], rows_t])
    from evaluation.methods.did.imputation import _Fit

    full = _Fit.on(design, both)
    fitted = full.predict(y0[both], both)
    resid = y0[both] - fitted
    r = np.random.default_rng(0).choice([-1.0, 1.0], size=design.n_clusters)
    y_star = data["y"].to_numpy().copy()
    y_star[both] = fitted + tau0 * st["treated_mask"][both] + resid * r[design.cluster[both]]
    boot = did_imputation(
        data.assign(y=y_star), "y", unit="unit", time="year", cohort="g", covariates=["x"], weights="w"
    )
    assert boot.estimate - tau0 == pytest.approx(r @ (s_y - tau0 * s_d), abs=1e-9)


@pytest.mark.parametrize("leave_out", [False, True])
@pytest.mark.parametrize("cluster", ["unit", "region"])
def test_studentised_draw_has_the_standard_error_of_the_estimator_on_the_bootstrap_sample(cluster, leave_out):
    """|B(tau_0) r| is the BJS standard error of the bootstrap sample: the studentised draws rely on it."""
    data = _with_lone_cohort(_repeated_cross_sections()).assign(region=lambda d: d["unit"] // 3)
    kw = dict(unit="unit", time="year", cohort="g", covariates=["x"], weights="w", cluster=cluster)
    kw["leave_out"] = leave_out
    result = did_imputation(data, "y", **kw)
    st = result._state
    design, fit, rows_t, a = st["design"], st["fit"], st["rows_t"], st["weights_t"]
    u_y, u_d = _restricted_residuals(design, fit, rows_t, a)
    ref = reference_groups(st, rows_t)
    b_y, b_d = _score_matrices(design, fit, rows_t, a, ref, u_y, u_d)
    both = np.concatenate([st["train"], rows_t])
    for tau0 in (0.0, 0.7):
        u = u_y - tau0 * u_d
        for seed in range(3):
            r = np.random.default_rng(seed).choice([-1.0, 1.0], size=design.n_clusters)
            y_star = data["y"].to_numpy().copy()
            y_star[both] += u * (r[design.cluster[both]] - 1.0)  # restricted fit + tau0 D + u r
            boot = did_imputation(data.assign(y=y_star), "y", **kw)
            assert boot.se == pytest.approx(np.linalg.norm((b_y - tau0 * b_d) @ r), rel=1e-9)


def test_bootstrap_interval_holds_its_ends_and_rejects_outside():
    data = _repeated_cross_sections(seed=5)
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x"], weights="w")
    wild = restricted_wild_bootstrap(result, n_boot=999, seed=1)
    assert wild.ci_low < result.estimate < wild.ci_high
    assert wild.p_value < 0.05  # the effect is large against the noise
    again = restricted_wild_bootstrap(result, n_boot=999, seed=1)
    assert (again.ci_low, again.ci_high) == (wild.ci_low, wild.ci_high)
    table = event_study_bootstrap(result, n_boot=999, seed=1)
    assert (table["ci_low"] < table["estimate"]).all() and (table["estimate"] < table["ci_high"]).all()


def test_randomization_with_one_adopter_enumerates_every_reassignment():
    rng = np.random.default_rng(11)
    rows = []
    for unit in range(8):
        g = 2014 if unit == 0 else 0
        for year in range(2010, 2018):
            for _ in range(3):
                rows.append((unit, year, g, unit * 0.3 + 0.2 * year + (2.0 if g and year >= g else 0) + rng.normal()))
    data = pd.DataFrame(rows, columns=["unit", "year", "g", "y"])
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g")
    ri = imputation_randomization(result, n_permutations=999)
    assert ri.exact and ri.draws == 8
    # by hand: the adoption moved to each unit in turn
    stats = []
    for u in range(8):
        moved = data.assign(g=np.where(data["unit"] == u, 2014, 0))
        stats.append(did_imputation(moved, "y", unit="unit", time="year", cohort="g").estimate)
    assert ri.p_value == pytest.approx(np.mean(np.abs(stats) >= abs(result.estimate) * (1 - 1e-10)))
    assert ri.p_value == pytest.approx(1 / 8)
    assert ri.ci_low <= result.estimate <= ri.ci_high
    # studentised: each reassignment's estimate over its own standard error, the fit of that assignment by hand
    t_stats = []
    for u in range(8):
        moved = data.assign(g=np.where(data["unit"] == u, 2014, 0))
        fit = did_imputation(moved, "y", unit="unit", time="year", cohort="g")
        t_stats.append(fit.estimate / fit.se)
    ri_t = imputation_randomization(result, n_permutations=999, studentize=True)
    expected = np.mean(np.abs(t_stats) >= abs(result.estimate / result.se) * (1 - 1e-10))
    assert ri_t.draws == 8 and ri_t.p_value == pytest.approx(expected)
    # and under a hypothesised effect tau0 the statistic is that of the fit of y - tau0 * D_obs
    tau0 = 1.5
    shifted = data.assign(y=data["y"] - tau0 * ((data["g"] > 0) & (data["year"] >= data["g"])))
    t0 = []
    for u in range(8):
        fit = did_imputation(shifted.assign(g=np.where(shifted["unit"] == u, 2014, 0)), "y", unit="unit", time="year",
                             cohort="g")  # fmt: skip
        t0.append(fit.estimate / fit.se)
    observed = abs(result.estimate - tau0) / result.se
    inside = np.mean(np.abs(t0) >= observed * (1 - 1e-10)) > 0.05
    assert inside == (ri_t.ci_low <= tau0 <= ri_t.ci_high)


def test_rows_that_cannot_be_imputed_are_counted_and_warned_about():
    data = _repeated_cross_sections()
    data.loc[data["unit"] == 3, "g"] = 2010  # treated from the first year: no untreated row of its own
    with pytest.warns(UserWarning, match="left out"):
        result = did_imputation(data, "y", unit="unit", time="year", cohort="g")
    assert result.n_dropped_treated == int((data["unit"] == 3).sum())


def test_relative_effect_and_input_errors():
    data = _repeated_cross_sections()
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x"])
    rel = result.relative()
    base = result.treated_mean - result.estimate
    assert rel.estimate == pytest.approx(result.treated_mean / base - 1)
    # the interval is the ATT's interval mapped through f(tau) = mean / (mean - tau) - 1, end by end
    assert rel.ci_low == pytest.approx(result.treated_mean / (result.treated_mean - result.ci_low) - 1)
    assert rel.ci_high == pytest.approx(result.treated_mean / (result.treated_mean - result.ci_high) - 1)
    assert rel.ci_low < rel.estimate < rel.ci_high
    assert rel.se == pytest.approx(result.treated_mean / base**2 * result.se)
    # the map is convex: the upper side is longer than the lower one (the delta method made them equal)
    assert rel.ci_high - rel.estimate > rel.estimate - rel.ci_low
    # an ATT interval reaching the treated mean (a counterfactual mean of zero) has no finite upper end
    wide = replace(result, ci_high=result.treated_mean + 1.0)
    assert wide.relative().ci_high == float("inf")
    # a counterfactual mean estimated at or below zero has no relative point estimate, but the ATT's
    # interval still bounds the relative change from below
    mu = result.treated_mean
    beyond = replace(result, estimate=mu + 0.1, ci_low=mu - 0.5 * abs(mu), ci_high=mu + 1.0).relative()
    assert np.isnan(beyond.estimate) and np.isnan(beyond.se)
    assert beyond.ci_low == pytest.approx(mu / (0.5 * abs(mu)) - 1) and beyond.ci_high == float("inf")
    nowhere = replace(result, estimate=mu + 1.0, ci_low=mu + 0.5, ci_high=mu + 2.0).relative()
    assert np.isnan(nowhere.ci_low) and np.isnan(nowhere.ci_high)
    with pytest.raises(EvaluationError, match="not in the data"):
        did_imputation(data, "missing", unit="unit", time="year", cohort="g")
    with pytest.raises(EvaluationError, match="varies within"):
        did_imputation(data.assign(g=np.where(data.index % 2, 2013, 0)), "y", unit="unit", time="year", cohort="g")
    with pytest.raises(ModelNotIdentifiedError, match="no treated"):
        did_imputation(data.assign(g=0), "y", unit="unit", time="year", cohort="g")
    with pytest.raises(EvaluationError, match="alpha"):
        did_imputation(data, "y", unit="unit", time="year", cohort="g", alpha=1.5)
    with pytest.raises(EvaluationError, match=r"\['x'\] hold infinite values"):  # was numpy's LinAlgError
        log_of_zero = data.assign(x=np.where(data.index == 3, -np.inf, 0.0))
        did_imputation(log_of_zero, "y", unit="unit", time="year", cohort="g", covariates=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        did_imputation(data, "y", unit="unit", time="year", cohort="g", leads=2)


def test_placebo_leads_are_zero_without_pre_trends_and_keep_each_cohorts_earliest_year():
    data = _repeated_cross_sections(noise=0.0)
    result = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], leads=3)
    pre = result.event_study.loc[result.event_study["pre"] == 1]
    assert pre["event_time"].tolist() == [-3, -2, -1]
    np.testing.assert_allclose(pre["estimate"], 0.0, atol=1e-9)
    # the 2013 cohort (data from 2010) can only lend 2011 and 2012 to the leads: its 2010 stays in the fit
    assert result.event_study.loc[result.event_study["event_time"] == -3, "n_treated_clusters"].item() == 8
    assert result.event_covariance.shape == (len(result.event_study),) * 2


def test_leads_that_leave_no_treated_unit_identified_give_the_post_periods_only():
    """One adopter (unit 3, 2013) observed from 2011: its untreated years 2011-2012 are both leads, so the fit
    that leaves the leads out has nothing to impute its rows from."""
    data = _repeated_cross_sections()
    data = data.loc[(data["g"] == 0) | (data["unit"] == 3)]
    data = data.loc[(data["unit"] != 3) | (data["year"] >= 2011)].assign(g=lambda d: np.where(d["unit"] == 3, 2013, 0))
    plain = did_imputation(data, "y", unit="unit", time="year", cohort="g")
    with pytest.warns(UserWarning, match="no event study with leads"):
        result = did_imputation(data, "y", unit="unit", time="year", cohort="g", leads=2)
    assert result.estimate == plain.estimate
    assert (result.event_study["pre"] == 0).all()
    assert result.event_study["event_time"].tolist() == list(range(0, 7))


def test_honest_did_rows_use_the_event_study_relative_to_the_year_before_adoption():
    from evaluation.steps.estimate import _normalised_event_study, sensitivity_rows

    data = _repeated_cross_sections(seed=8)
    fit = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], leads=3)
    beta, cov, n_pre, n_post = _normalised_event_study(fit, min_treated=1)
    table = fit.event_study.set_index("event_time")
    assert (n_pre, n_post) == (2, int((table["pre"] == 0).sum()))
    assert beta[0] == pytest.approx(table.loc[-3, "estimate"] - table.loc[-1, "estimate"])
    assert beta[n_pre] == pytest.approx(table.loc[0, "estimate"] - table.loc[-1, "estimate"])
    var_e0 = fit.event_covariance[3, 3] + fit.event_covariance[2, 2] - 2 * fit.event_covariance[2, 3]
    assert cov[n_pre, n_pre] == pytest.approx(var_e0)
    config = {"estimation": {"alpha": 0.05, "min_treated_municipalities": 1}}
    pretrend, rows = sensitivity_rows(fit, "y", config)
    assert pretrend["df_num"] == 3 and 0 <= pretrend["p_value"] <= 1
    honest = pd.DataFrame(rows)
    assert set(honest["method"]) == {"relative_magnitudes", "smoothness"}
    rm = honest.loc[honest["method"] == "relative_magnitudes"].sort_values("m")
    widths = (rm["ci_high"] - rm["ci_low"]).to_numpy()
    assert np.all(np.diff(widths) >= -1e-9)  # intervals widen with M


def test_honest_did_uses_consecutive_years_with_estimates_and_needs_the_adoption_year():
    """An event time without an estimate (NaN) neither spreads NaN into the bounds' inputs nor leaves a gap."""
    from dataclasses import replace

    from evaluation.steps.estimate import _normalised_event_study, sensitivity_rows

    data = _repeated_cross_sections(seed=8)
    fit = did_imputation(data, "y", unit="unit", time="year", cohort="g", covariates=["x", "z"], leads=3)
    table = fit.event_study.reset_index(drop=True)
    last = int(table["event_time"].max())
    gap = replace(fit, event_study=table.assign(estimate=table["estimate"].where(table["event_time"] != last - 1)))
    beta, cov, n_pre, n_post = _normalised_event_study(gap, min_treated=1)
    assert np.isfinite(beta).all() and np.isfinite(cov).all()
    assert (n_pre, n_post) == (2, last - 1)  # the effects stop before the missing year
    lead = replace(fit, event_study=table.assign(estimate=table["estimate"].where(table["event_time"] != -2)))
    assert _normalised_event_study(lead, min_treated=1) is None  # one lead left after the gap
    no_zero = replace(fit, event_study=table.assign(estimate=table["estimate"].where(table["event_time"] != 0)))
    assert _normalised_event_study(no_zero, min_treated=1) is None
    config = {"estimation": {"alpha": 0.05, "min_treated_municipalities": 1}}
    assert sensitivity_rows(no_zero, "y", config)[1] == []  # no bounds, and no error
