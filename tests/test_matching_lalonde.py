"""Matching and weighting on Lalonde's data, compared with MatchIt, WeightIt, cobalt and R.

The references live in tests/reference/matching/ (see its README for sources and versions):
published tables of MatchIt's and WeightIt's documentation (``published_lalonde.json``),
MatchIt's own snapshot tests of nearest-neighbour matching (``matchit_nearest_snapshots.json``),
and outputs of R (MatchIt 4.5.1, stats::glm, lm + sandwich) made by
``generate_r_reference.R`` (``r_reference.json``, ``matchit451_weights.csv``).
Printed numbers are compared at their printed precision (half a unit of the last digit).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.errors import LowOverlapWarning
from evaluation.methods.matching import balance_table, match
from evaluation.methods.matching.result import weighted_difference
from evaluation.methods.weighting import weights

REF = Path(__file__).parent / "reference" / "matching"
COVARIATES = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
#: MatchIt's balance-table row names -> ours (race is a factor: one row per level)
ROWS = {"raceblack": "race_black", "racehispan": "race_hispan", "racewhite": "race_white"}


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde.csv", index_col="id")


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads((REF / "published_lalonde.json").read_text())


@pytest.fixture(scope="module")
def r_ref() -> dict:
    return json.loads((REF / "r_reference.json").read_text())


@pytest.fixture(scope="module")
def snapshots() -> dict:
    return json.loads((REF / "matchit_nearest_snapshots.json").read_text())["scenarios"]


def _printed(value: float) -> float:
    """Half a unit of the last printed digit of a value printed with 4 decimals."""
    return 0.5e-4 + 1e-12 * abs(value)


def _weights(df: pd.DataFrame, m) -> np.ndarray:
    w = pd.Series(0.0, index=df.index)
    w[m.matched.index] = m.matched["weight"]
    return w.to_numpy()


def _group_means(df: pd.DataFrame, w: np.ndarray, name: str) -> tuple[float, float]:
    if name in df.columns:
        x = df[name].to_numpy(dtype=float)
    else:
        col, level = name.split("_", 1)
        x = (df[col] == level).to_numpy(dtype=float)
    t = df["treat"].to_numpy() == 1
    return float(np.average(x[t], weights=w[t])), float(np.average(x[~t], weights=w[~t]))


def _assert_matchit_table(df: pd.DataFrame, w: np.ndarray, expected: dict, *, stats=None) -> None:
    """Compare a MatchIt ``summary()`` table with ours (binary covariates standardised, as MatchIt)."""
    tab = balance_table(df, "treat", [c for c in [*COVARIATES, "distance"] if c in df.columns], w, binary="std")
    stats = stats or ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]
    for row, want in expected.items():
        name = ROWS.get(row, row)
        mt, mc = _group_means(df, w, name)
        got = {
            "mean_treated": mt,
            "mean_control": mc,
            "smd": tab.loc[name, "smd_after"],
            "var_ratio": tab.loc[name, "var_ratio_after"],
            "ecdf_mean": tab.loc[name, "ecdf_mean_after"],
            "ecdf_max": tab.loc[name, "ecdf_max_after"],
        }
        for stat in stats:
            if want[stat] is None:
                assert np.isnan(got[stat]), (row, stat)
            else:
                assert got[stat] == pytest.approx(want[stat], abs=_printed(want[stat])), (row, stat, got[stat])


def test_data_is_matchit_lalonde(lalonde):
    assert lalonde.shape == (614, 9)
    assert int(lalonde["treat"].sum()) == 185
    assert lalonde["race"].value_counts().to_dict() == {"white": 299, "black": 243, "hispan": 72}
    assert list(lalonde.index[:2]) == ["NSW1", "NSW2"] and lalonde.index[-1] == "PSID429"


def test_propensity_score_equals_r_glm_and_statsmodels(lalonde, r_ref):
    m = match(lalonde, "treat", COVARIATES)
    # R's glm stops when the deviance changes by less than 1e-8 (relative): fitted values agree to ~1e-8
    np.testing.assert_allclose(m.propensity.to_numpy(), r_ref["propensity"]["fitted"], rtol=0, atol=1e-7)
    x = pd.get_dummies(lalonde[COVARIATES], columns=["race"], drop_first=True, dtype=float)
    logit = sm.Logit(lalonde["treat"], sm.add_constant(x)).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    np.testing.assert_allclose(m.propensity.to_numpy(), logit.predict(), rtol=1e-9)


def test_getting_started_balance_before_matching(lalonde, published):
    ref = published["matchit_getting_started_all_data"]
    m = match(lalonde, "treat", COVARIATES)
    df = lalonde.assign(distance=m.propensity)
    _assert_matchit_table(df, np.ones(len(df)), ref["balance"])


def test_getting_started_nearest_neighbour(lalonde, published):
    ref = published["matchit_getting_started_nearest"]
    m = match(lalonde, "treat", COVARIATES)
    df = lalonde.assign(distance=m.propensity)
    _assert_matchit_table(df, _weights(lalonde, m), ref["balance"])
    treated = m.matched["treat"] == 1
    sizes = ref["sample_sizes"]
    assert int(treated.sum()) == sizes["matched"]["treated"]
    assert int((~treated).sum()) == sizes["matched"]["control"]
    assert 429 - int((~treated).sum()) == sizes["unmatched"]["control"]
    assert m.n_dropped == {}
    # the balance table of match() itself follows MatchIt's summary(): binary covariates standardised too
    default = m.balance
    for covariate in ("married", "nodegree", "age", "re74"):
        published_smd = ref["balance"][covariate]["smd"]
        assert default.loc[covariate, "smd_after"] == pytest.approx(published_smd, abs=_printed(published_smd))


def _our_matches(m) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for _, grp in m.matched.groupby("subclass"):
        t = grp.index[grp["treat"] == 1][0]
        out[t] = sorted(grp.index[grp["treat"] == 0], key=lambda s: int(s[4:]))
    return out


def _pairs_with_replacement(lalonde: pd.DataFrame, m, ratio: int, caliper: float | None) -> dict[str, list[str]]:
    """Rebuild the matches of matching with replacement from the engine, with match()'s inputs."""
    from evaluation.methods.matching.nearest import nearest_with_replacement

    d = m.distance.to_numpy()
    treat = lalonde["treat"].to_numpy() == 1
    rank = np.empty(len(d), dtype=np.int64)
    rank[np.argsort(d, kind="stable")] = np.arange(len(d))
    it, ic = np.flatnonzero(treat), np.flatnonzero(~treat)
    tp, cp = nearest_with_replacement(d[it], d[ic], ratio, caliper, rank[it], rank[ic])
    out: dict[str, list[str]] = {}
    for a, b in zip(tp, cp, strict=True):
        out.setdefault(lalonde.index[it[a]], []).append(lalonde.index[ic[b]])
    return {k: sorted(v, key=lambda s: int(s[4:])) for k, v in out.items()}


def _sorted(matches: dict) -> dict:
    return {k: sorted(v, key=lambda s: int(s[4:])) for k, v in matches.items() if v}


SCENARIOS = {
    "baseline_largest": {},
    "m_order_data": {"m_order": "data"},
    "ratio3_without_replacement": {"ratio": 3},
    "ratio2_caliper_0.1_raw": {"ratio": 2, "caliper_raw": 0.1},
    "largest_caliper_0.1_raw": {"m_order": "largest", "caliper_raw": 0.1},
    "mahvars_m_order_data": {"method": "mahalanobis", "mahvars": ["age", "educ", "re74", "re75"], "m_order": "data"},
}


def _raw_caliper(lalonde: pd.DataFrame, caliper: float) -> float:
    """MatchIt's ``std.caliper = FALSE`` (a caliper on the score's own scale) in our units of score SDs."""
    ps = match(lalonde, "treat", COVARIATES).propensity
    return caliper / float(np.std(ps, ddof=1))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_nearest_neighbour_units_equal_matchit_snapshots(lalonde, snapshots, scenario):
    kwargs = dict(SCENARIOS[scenario])
    caliper_raw = kwargs.pop("caliper_raw", None)
    if caliper_raw is not None:
        kwargs["caliper"] = _raw_caliper(lalonde, caliper_raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        m = match(lalonde, "treat", COVARIATES, **kwargs)
    assert _our_matches(m) == _sorted(snapshots[scenario]["matches"])


@pytest.mark.parametrize(
    "scenario, ratio, caliper_raw",
    [("ratio3_with_replacement", 3, None), ("ratio2_caliper_0.1_raw_with_replacement", 2, 0.1)],
)
def test_nearest_with_replacement_units_equal_matchit_snapshots(lalonde, snapshots, scenario, ratio, caliper_raw):
    caliper = None if caliper_raw is None else _raw_caliper(lalonde, caliper_raw)
    m = match(lalonde, "treat", COVARIATES, ratio=ratio, replace=True, caliper=caliper)
    expected = _sorted(snapshots[scenario]["matches"])
    assert _pairs_with_replacement(lalonde, m, ratio, m.caliper) == expected
    # match()'s weights are MatchIt's: sum over treated of 1 / (number of matches), scaled to the matched count
    raw = pd.Series(0.0, index=lalonde.index)
    for controls in expected.values():
        for c in controls:
            raw[c] += 1 / len(controls)
    ctrl = raw[raw > 0]
    assert sorted(m.matched.index[m.matched["treat"] == 0]) == sorted(ctrl.index)
    np.testing.assert_allclose(
        m.matched.loc[ctrl.index, "weight"].to_numpy(), (ctrl * len(ctrl) / ctrl.sum()).to_numpy(), rtol=1e-12
    )


def test_readme_mahalanobis_with_replacement(lalonde, published):
    ref = published["matchit_readme_mahalanobis_replace"]
    m = match(lalonde, "treat", COVARIATES, distance="mahalanobis", replace=True)
    # means, SMDs and eCDF statistics do not depend on which of identical controls is taken
    tie_invariant = ["mean_treated", "mean_control", "smd", "ecdf_mean", "ecdf_max"]
    _assert_matchit_table(lalonde, _weights(lalonde, m), ref["balance"], stats=tie_invariant)
    assert int((m.matched["treat"] == 1).sum()) == 185


def test_readme_variance_ratios_from_matchit_weights(lalonde, published):
    # The README's variance ratios come from MatchIt 4.5.x's choice among identical controls; with
    # that version's weights (matchit451_weights.csv) balance_table reproduces them and the sample sizes.
    ref = published["matchit_readme_mahalanobis_replace"]
    w = pd.read_csv(REF / "matchit451_weights.csv", index_col="id")["mahalanobis_replace_451"].to_numpy()
    _assert_matchit_table(lalonde, w, ref["balance"])
    control = lalonde["treat"].to_numpy() == 0
    assert int((w[control] > 0).sum()) == ref["sample_sizes"]["matched"]["control"]
    ess = w[control].sum() ** 2 / (w[control] ** 2).sum()
    assert round(ess) == ref["sample_sizes"]["matched_ess_control"]


@pytest.mark.parametrize(
    "column, kwargs",
    [
        ("exact", {"covariates": ["race", "married", "nodegree"], "method": "exact"}),
        ("exact_ate", {"covariates": ["race", "married", "nodegree"], "method": "exact", "estimand": "ATE"}),
        ("cem", {"method": "cem"}),
        ("cem_cut3", {"method": "cem", "cutpoints": 3}),
        ("cem_age4_re74q5", {"method": "cem", "cutpoints": {"age": 4, "re74": "q5"}}),
    ],
)
def test_exact_and_cem_weights_equal_matchit(lalonde, column, kwargs):
    expected = pd.read_csv(REF / "matchit451_weights.csv", index_col="id")[column].to_numpy()
    args = {"covariates": COVARIATES} | kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        m = match(lalonde, "treat", **args)
    np.testing.assert_allclose(_weights(lalonde, m), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "key, kwargs",
    [
        ("nearest_1to1_cluster_subclass", {}),
        ("nearest_ratio3_replace_hc3", {"ratio": 3, "replace": True}),
        ("cem_default_hc3", {"method": "cem"}),
        ("exact_ate_hc3", {"covariates": ["race", "married", "nodegree"], "method": "exact", "estimand": "ATE"}),
    ],
)
def test_effect_and_standard_error_equal_r_lm_sandwich(lalonde, r_ref, key, kwargs):
    # MatchIt's "Estimating Effects": lm(re78 ~ treat, weights) with vcovCL(~subclass) for pairs, HC3 otherwise
    args = {"covariates": COVARIATES} | kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        m = match(lalonde, "treat", **args)
    est = m.effect("re78")
    ref = r_ref["effects"][key]
    assert len(m.matched) == ref["n"]
    assert est.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert est.se == pytest.approx(ref["se"], rel=1e-8)


def _ess(w: pd.Series) -> float:
    return float(w.sum() ** 2 / (w**2).sum())


def test_weightit_ps_att(lalonde, published):
    ref = published["weightit_ps_att"]
    w = weights(lalonde, "treat", COVARIATES, method="ipw", estimand="ATT")
    t = lalonde["treat"] == 1
    lo, hi = ref["weight_range"]["control"]
    assert w[~t].min() == pytest.approx(lo, abs=_printed(lo)) and w[~t].max() == pytest.approx(hi, abs=_printed(hi))
    assert (w[t] == 1).all()
    np.testing.assert_allclose(np.sort(w[~t])[-5:], ref["top5_control_weights"], atol=0.5e-4)
    # WeightIt prints the unit numbers (row positions) of the five largest control weights
    top_units = {lalonde.index.get_loc(i) + 1 for i in w[~t].nlargest(5).index}
    assert top_units == set(ref["top5_control_units"])
    assert _ess(w[~t]) == pytest.approx(ref["ess"]["control"], abs=0.005)
    df = lalonde.assign(**{"prop.score": match(lalonde, "treat", COVARIATES).propensity})
    tab = balance_table(df, "treat", [*COVARIATES, "prop.score"], w.to_numpy())  # cobalt: binary raw, SD of treated
    for name, value in ref["diff_adj"].items():
        assert tab.loc[name, "smd_after"] == pytest.approx(value, abs=_printed(value)), name
    for name, value in ref["diff_un"].items():
        assert tab.loc[name, "smd_before"] == pytest.approx(value, abs=_printed(value)), name
    for name, value in ref["v_ratio_adj"].items():
        assert tab.loc[name, "var_ratio_after"] == pytest.approx(value, abs=_printed(value)), name


def test_weightit_ps_ate(lalonde, published):
    ref = published["weightit_ps_ate_readme"]
    w = weights(lalonde, "treat", COVARIATES, method="ipw", estimand="ATE")
    t = lalonde["treat"] == 1
    for group, sel in (("treated", t), ("control", ~t)):
        lo, hi = ref["weight_range"][group]
        assert w[sel].min() == pytest.approx(lo, abs=_printed(lo))
        assert w[sel].max() == pytest.approx(hi, abs=_printed(hi))
        assert _ess(w[sel]) == pytest.approx(ref["ess"][group], abs=0.0005)
    np.testing.assert_allclose(np.sort(w[t])[-5:], ref["top5_treated_weights"], atol=0.5e-4)
    np.testing.assert_allclose(np.sort(w[~t])[-5:], ref["top5_control_weights"], atol=0.5e-4)
    df = lalonde.assign(**{"prop.score": match(lalonde, "treat", COVARIATES).propensity})
    tab = balance_table(df, "treat", [*COVARIATES, "prop.score"], w.to_numpy(), estimand="ATE")  # pooled SD
    for name, value in ref["diff_adj"].items():
        assert tab.loc[name, "smd_after"] == pytest.approx(value, abs=_printed(value)), name
    for name, value in ref["diff_un"].items():
        assert tab.loc[name, "smd_before"] == pytest.approx(value, abs=_printed(value)), name


def test_weightit_entropy_balancing_att(lalonde, published):
    ref = published["weightit_ebal_att"]
    w = weights(lalonde, "treat", COVARIATES, method="entropy", estimand="ATT")
    t = lalonde["treat"] == 1
    assert w[~t].sum() == pytest.approx((~t).sum())  # current WeightIt's scale: control weights sum to n_control
    # WeightIt 0.10.2 scaled them to sum to n_treated: compare on that scale
    scaled = w[~t] * t.sum() / (~t).sum()
    lo, hi = ref["weight_range"]["control"]
    assert scaled.min() == pytest.approx(lo, abs=0.5e-4) and scaled.max() == pytest.approx(hi, abs=0.5e-3)
    tab = balance_table(lalonde, "treat", COVARIATES, w.to_numpy())
    assert tab["smd_after"].abs().max() < 1e-8  # exact balance on the means (WeightIt 0.10.2 stopped at 2e-4)
    for name in ("age", "educ"):  # variance ratios not moved by that early stop at the printed precision
        value = ref["v_ratio_adj"][name]
        assert tab.loc[name, "var_ratio_after"] == pytest.approx(value, abs=_printed(value)), name


def test_weightit_entropy_balancing_current_version(lalonde, published):
    ref = published["weightit_ebal_att_current_thirdparty"]
    cov = ["age", "educ", "married", "nodegree", "re74"]
    w = weights(lalonde, "treat", cov, method="entropy", estimand="ATT")
    c = w[lalonde["treat"] == 0]
    lo, hi = ref["weight_range"]["control"]
    assert c.min() == pytest.approx(lo, abs=0.5e-2) and c.max() == pytest.approx(hi, abs=0.5e-3)
    np.testing.assert_allclose(np.sort(c)[-5:], ref["top5_control_weights"], atol=0.5e-3)
    assert _ess(c) == pytest.approx(ref["ess"]["control"], abs=0.005)


def test_entropy_balancing_effect_is_weighted_difference(lalonde):
    # the effect estimate after weighting: WLS of re78 on treat (WeightIt's svyglm example), HC3 SE
    w = weights(lalonde, "treat", COVARIATES, method="entropy", estimand="ATT").to_numpy()
    y, treat = lalonde["re78"].to_numpy(), lalonde["treat"].to_numpy(dtype=float)
    est = weighted_difference(y, treat, w)
    fit = sm.WLS(y, sm.add_constant(treat), weights=w).fit(cov_type="HC3")
    assert est.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert est.se == pytest.approx(fit.bse[1], rel=1e-8)
    # WeightIt 0.10.2 printed 1272.955 from weights balanced only to |SMD| <= 2e-4 (README of the references);
    # it is not compared here.
