"""Repeated cross sections and unbalanced panels in ``evaluation.methods.did.att_gt`` (R ``did`` 2.x, ``DRDID``).

Three depths:

- R's own numbers: DRDID's numeric regression lock (``tests/testthat/test_regression_lock.R`` of R
  ``DRDID``) pins ATT and SE of the six core 2x2 estimators on data generated from ``set.seed(20240115)``;
  ``tests/reference/did/r_rng.py`` regenerates those data with R's generator.
- Stored outputs of R did's Python port (``tests/reference/did/generate_did_rc_reference.py``, README):
  ATT(g,t) at 1e-6 absolute, SEs at 1e-6 relative, for every configuration and aggregation.
- Hand-checkable cases: a 2x2 repeated cross section equals the difference of four cell means with the
  textbook variance; identities between the panel, the unbalanced-panel and the cross-section paths.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.did import att_gt
from evaluation.methods.did.estimators import did_panel
from evaluation.methods.did.estimators_rc import did_rc

REF = Path(__file__).parent / "reference" / "did"
sys.path.insert(0, str(REF))
from cross_sections import repeated_cross_sections, unbalanced_panel  # noqa: E402
from r_rng import RRandom, drdid_lock_data  # noqa: E402
from staggered_panel import staggered_panel  # noqa: E402

ATT_REF = pd.read_csv(REF / "att_gt_rc_reference.csv")
AGG_REF = pd.read_csv(REF / "aggte_rc_reference.csv")
KEYS = ["method", "control", "base", "covariates", "weights"]
CONFIGS = ATT_REF[KEYS].drop_duplicates().to_dict("records")
MPDTA = REF / "mpdta.csv"
KINDS = ["simple", "dynamic", "group", "calendar"]
METHODS = ["dr", "dr_imp", "ipw", "reg"]


def _spec(dataset: str) -> dict:
    if dataset == "rc_synthetic":
        return {"data": repeated_cross_sections(), "y": "y", "t": "year", "g": "first_treat", "x": ["x1", "x2"]}
    if dataset == "unbalanced_synthetic":
        return {"data": unbalanced_panel(), "y": "y", "t": "year", "g": "first_treat", "x": ["x1", "x2"]}
    if not MPDTA.exists():
        pytest.skip("mpdta.csv (GPL-2 data of R did) is not stored; see tests/reference/did/README.md")
    data = pd.read_csv(MPDTA)
    data["w"] = 1.0 + (data["countyreal"] % 7) / 10
    return {"data": data, "y": "lemp", "t": "year", "g": "first.treat", "x": ["lpop"]}


_CACHE: dict = {}


def _fit(dataset: str, cfg: dict):
    key = (dataset, *[cfg[k] for k in KEYS])
    if key not in _CACHE:
        spec = _spec(dataset)
        unbalanced = dataset == "unbalanced_synthetic"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[key] = att_gt(
                spec["data"],
                outcome=spec["y"],
                unit="id" if unbalanced else None,
                time=spec["t"],
                group=spec["g"],
                covariates=spec["x"] if cfg["covariates"] == "x" else None,
                control_group="never_treated" if cfg["control"] == "nevertreated" else "not_yet_treated",
                method=cfg["method"],
                base_period=cfg["base"],
                weights="w" if cfg["weights"] else None,
                panel=unbalanced,
                allow_unbalanced_panel=unbalanced,
            )
    return _CACHE[key]


def _select(frame: pd.DataFrame, dataset: str, cfg: dict) -> pd.DataFrame:
    mask = frame["dataset"] == dataset
    for k in KEYS:
        mask &= frame[k] == cfg[k]
    return frame[mask]


def _id(cfg: dict) -> str:
    return "-".join(str(cfg[k]) for k in KEYS)


# --- R's own numbers ---------------------------------------------------------------------------------


def test_r_rng_reproduces_r() -> None:
    # R 4.x: set.seed(42); runif(3) and set.seed(42); rnorm(3)
    np.testing.assert_allclose(RRandom(42).runif(3), [0.914806043496355, 0.937075413297862, 0.286139534786344])
    np.testing.assert_allclose(RRandom(42).rnorm(3), [1.37095844714667, -0.564698171396089, 0.363128411337339])


# DRDID tests/testthat/test_regression_lock.R ("core estimators reproduce locked ATT / se values")
DRDID_LOCK = {
    ("panel", "dr"): (0.6551964166, 0.0687789916),
    ("panel", "ipw"): (0.6555031513, 0.0689834951),
    ("panel", "reg"): (0.6550830747, 0.0686698690),
    ("rc", "dr"): (0.8186719766, 0.1331289343),
    ("rc", "ipw"): (0.6780615210, 0.1925907969),
    ("rc", "reg"): (0.8694663521, 0.1682145937),
}


@pytest.mark.parametrize(("design", "method"), list(DRDID_LOCK), ids=lambda v: str(v))
def test_estimators_reproduce_drdid_regression_lock(design: str, method: str) -> None:
    d = drdid_lock_data()
    w = np.ones(len(d["d"]))
    if design == "panel":
        att, psi = did_panel(d["y1"], d["y0"], d["d"], d["x"], w, method)  # type: ignore[arg-type]
    else:
        att, psi = did_rc(d["y"], d["post"], d["d"], d["x"], w, method)  # type: ignore[arg-type]
    # DRDID's se is sd(psi) * sqrt(n - 1) / n = sqrt(sum((psi - mean psi)^2)) / n
    se = np.sqrt(np.sum((psi - psi.mean()) ** 2)) / len(psi)
    assert att == pytest.approx(DRDID_LOCK[design, method][0], abs=1e-9)
    assert se == pytest.approx(DRDID_LOCK[design, method][1], abs=1e-9)


def test_drdid_rc_keeps_drdids_sign_of_the_pre_period_regression_effect() -> None:
    """DRDID adds the pre-period outcome-regression terms; the first-order expansion subtracts them.

    csdid 0.4.3 subtracts them and gets 0.13374897 on the lock data, not R's 0.1331289343 (README).
    """
    d = drdid_lock_data()
    _, psi = did_rc(d["y"], d["post"], d["d"], d["x"], np.ones(len(d["d"])), "dr")
    se = np.sqrt(np.mean(psi**2) / len(psi))
    assert abs(se - 0.13374896543) > 1e-4


def test_dr_imp_rc_matches_drdid_imp_rc_reference() -> None:
    ref = pd.read_csv(REF / "drdid_imp_rc_reference.csv")
    data = repeated_cross_sections()
    for case in ref.to_dict("records"):
        cell = data[data["first_treat"].isin([case["group"], 0]) & data["year"].isin([case["time"], case["base"]])]
        x = np.column_stack([np.ones(len(cell)), cell["x1"], cell["x2"]])
        w = cell["w"].to_numpy() if case["weights"] else np.ones(len(cell))
        post = (cell["year"] == case["time"]).to_numpy(float)
        att, psi = did_rc(
            cell["y"].to_numpy(), post, (cell["first_treat"] == case["group"]).to_numpy(float), x, w, "dr_imp"
        )
        assert att == pytest.approx(case["att"], abs=1e-6)
        assert np.sqrt(np.mean(psi**2) / len(psi)) == pytest.approx(case["se"], rel=1e-6)
    # the same cells inside att_gt (never-treated comparisons, varying base): identical numbers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = att_gt(data, unit=None, covariates=["x1", "x2"], method="dr_imp", weights="w", panel=False)
    tab = r.table.set_index(["group", "time"])
    for case in ref[ref["weights"]].to_dict("records"):
        assert tab.loc[(case["group"], case["time"]), "att"] == pytest.approx(case["att"], abs=1e-6)
        assert tab.loc[(case["group"], case["time"]), "se"] == pytest.approx(case["se"], rel=1e-6)


# --- stored outputs of R did's port -------------------------------------------------------------------

DATASETS = ["rc_synthetic", "unbalanced_synthetic"]


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_att_gt_matches_reference(cfg: dict, dataset: str) -> None:
    result = _fit(dataset, cfg)
    ref = _select(ATT_REF, dataset, cfg)
    ours = result.table.assign(group=result.table["group"].astype(int), time=result.table["time"].astype(int))
    merged = ref.merge(ours, on=["group", "time"], suffixes=("_ref", ""), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    np.testing.assert_allclose(merged["att"], merged["att_ref"], atol=1e-6, rtol=0)
    both = merged["se_ref"].notna() & (merged["se_ref"] > 1e-10)
    np.testing.assert_allclose(merged.loc[both, "se"], merged.loc[both, "se_ref"], rtol=1e-6)
    assert merged.loc[~both, "se"].isna().all()


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
@pytest.mark.parametrize("kind", KINDS)
def test_aggregations_match_reference(cfg: dict, kind: str, dataset: str) -> None:
    result = _fit(dataset, cfg)
    ref = _select(AGG_REF, dataset, cfg)
    ref = ref[ref["kind"] == kind]
    agg = result.aggregate(kind)
    overall = ref[ref["label"] == "overall"].iloc[0]
    assert agg.overall.estimate == pytest.approx(overall["att"], abs=1e-6)
    assert agg.overall.se == pytest.approx(overall["se"], rel=1e-6)
    if kind == "simple":
        return
    rows = ref[ref["label"] != "overall"]
    label = agg.table.columns[0]
    np.testing.assert_array_equal(agg.table[label].astype(int).to_numpy(), rows["label"].astype(int).to_numpy())
    np.testing.assert_allclose(agg.table["att"], rows["att"], atol=1e-6, rtol=0)
    finite = rows["se"].notna().to_numpy() & (rows["se"].to_numpy() > 1e-10)
    np.testing.assert_allclose(agg.table["se"].to_numpy()[finite], rows["se"].to_numpy()[finite], rtol=1e-6)


def test_mpdta_as_repeated_cross_sections_matches_reference() -> None:
    """R did's example data with ``panel = FALSE`` (when ``mpdta.csv`` is present): every configuration."""
    _spec("mpdta_rc")
    for cfg in CONFIGS:
        test_att_gt_matches_reference(cfg, dataset="mpdta_rc")
        for kind in KINDS:
            test_aggregations_match_reference(cfg, kind, dataset="mpdta_rc")
    # Without covariates, cross-section point estimates on a balanced panel equal the panel ones, so R's
    # published mpdta numbers (did vignette, panel): simple -0.0400, dynamic -0.0772, group -0.0310,
    # calendar -0.0417.
    default = {"method": "dr", "control": "nevertreated", "base": "varying", "covariates": "none", "weights": False}
    published = {"simple": -0.0400, "dynamic": -0.0772, "group": -0.0310, "calendar": -0.0417}
    for kind, value in published.items():
        assert _fit("mpdta_rc", default).aggregate(kind).overall.estimate == pytest.approx(value, abs=5e-5)


def test_reference_ports_agree_on_cross_sections_except_drdid_rc_standard_errors() -> None:
    """csdid agrees with the stored port on every ATT(g,t) and on SEs except DR with covariates (README)."""
    cross = pd.read_csv(REF / "csdid_rc_crosscheck.csv")
    base = {"control": "nevertreated", "base": "varying", "weights": False}
    for (dataset, method, cov), part in cross.groupby(["dataset", "method", "covariates"]):
        ref = _select(ATT_REF, dataset, {**base, "method": method, "covariates": cov})
        merged = ref.merge(part, on=["group", "time"], suffixes=("", "_csdid"))
        assert len(merged) == len(part) == len(ref)
        np.testing.assert_allclose(merged["att"], merged["att_csdid"], atol=1e-8)
        ratio = merged["se_csdid"] / merged["se"]
        if method == "dr" and cov == "x":
            assert np.max(np.abs(ratio - 1)) > 1e-4
        else:
            np.testing.assert_allclose(ratio, 1, rtol=1e-6)


# --- hand-checkable cases ------------------------------------------------------------------------------


def two_by_two_cross_sections() -> pd.DataFrame:
    """Different people in each period: treated 1, 2, 3 then 5, 6; comparison 0, 2 then 1, 2, 3."""
    rows = [(1, 2, y) for y in (1.0, 2.0, 3.0)] + [(1, 0, y) for y in (0.0, 2.0)]
    rows += [(2, 2, y) for y in (5.0, 6.0)] + [(2, 0, y) for y in (1.0, 2.0, 3.0)]
    return pd.DataFrame(rows, columns=["year", "g", "y"])


@pytest.mark.parametrize("method", METHODS)
def test_two_by_two_cross_sections_by_hand(method: str) -> None:
    # cell means 2, 1 (base) and 5.5, 2 (later): ATT = (5.5 - 2) - (2 - 1) = 2.5; without covariates every
    # estimator is the four-means DiD, whose variance is the sum of the cells' population variances over
    # their sizes: (2/3)/3 + 1/2 + (1/4)/2 + (2/3)/3 = 77/72
    r = att_gt(two_by_two_cross_sections(), unit=None, time="year", group="g", method=method, panel=False)
    row = r.table.iloc[0]
    assert (row["group"], row["time"], row["base_period"]) == (2, 2, 1)
    assert row["att"] == pytest.approx(2.5, abs=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(77 / 72), rel=1e-10)
    assert (row["n_treated"], row["n_control"], r.n_units) == (5, 5, 10)


def test_cross_sections_of_a_balanced_panel_reproduce_panel_point_estimates_without_covariates() -> None:
    """Without covariates the DiD of means equals the mean of differences; SEs ignore the panel correlation."""
    data = staggered_panel()
    for control in ("never_treated", "not_yet_treated"):
        panel = att_gt(data, control_group=control)
        rc = att_gt(data, unit=None, control_group=control, panel=False)
        np.testing.assert_allclose(rc.table["att"], panel.table["att"], atol=1e-10)
        assert (rc.table["se"] > panel.table["se"]).all()  # unit effects make outcomes positively correlated
        assert rc.n_units == len(data)


def test_allow_unbalanced_panel_on_a_balanced_panel_is_the_panel_estimator() -> None:
    data = staggered_panel()
    kw = {"covariates": ["x1", "x2"], "weights": "w"}
    pd.testing.assert_frame_equal(att_gt(data, **kw, allow_unbalanced_panel=True).table, att_gt(data, **kw).table)


def test_unbalanced_panel_is_cross_sections_with_influence_summed_within_units() -> None:
    """R's unbalanced path: the cross-section estimator per cell, its influence function summed by unit."""
    data = unbalanced_panel()
    kw = {"covariates": ["x1", "x2"], "weights": "w", "method": "dr"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        balanced = att_gt(data, **kw)
    unbalanced = att_gt(data, **kw, allow_unbalanced_panel=True)
    rc = att_gt(data, **kw, unit=None, panel=False)
    assert balanced.n_units < 600 == unbalanced.n_units
    assert unbalanced.settings["design"] == "unbalanced_panel" and rc.settings["design"] == "repeated_cross_sections"
    np.testing.assert_allclose(unbalanced.table["att"], rc.table["att"], atol=1e-12)
    codes = pd.factorize(data["id"], sort=True)[0]
    summed = np.zeros_like(unbalanced.influence)
    np.add.at(summed, codes, rc.influence * unbalanced.n_units / rc.n_units)
    np.testing.assert_allclose(unbalanced.influence, summed, atol=1e-10)
    assert not np.allclose(unbalanced.table["se"], rc.table["se"], rtol=1e-3)


def test_unbalanced_panel_whose_units_appear_once_equals_cross_sections() -> None:
    """When no unit is seen twice, summing within units changes nothing: the two paths coincide exactly."""
    data = repeated_cross_sections()
    kw = {"covariates": ["x1", "x2"], "weights": "w", "control_group": "not_yet_treated"}
    rc = att_gt(data, **kw, unit=None, panel=False)
    once = att_gt(data, **kw, unit="id", allow_unbalanced_panel=True)
    named = att_gt(data, **kw, unit="id", panel=False)
    np.testing.assert_allclose(once.table[["att", "se"]], rc.table[["att", "se"]], rtol=1e-10)
    np.testing.assert_allclose(named.table[["att", "se"]], rc.table[["att", "se"]], rtol=1e-12)
    for kind in KINDS:
        assert once.aggregate(kind).overall.se == pytest.approx(rc.aggregate(kind).overall.se, rel=1e-10)


def test_group_shares_of_cross_sections_use_observation_weights() -> None:
    data = repeated_cross_sections()
    r = att_gt(data, unit=None, weights="w", panel=False)
    w = data["w"] / data["w"].mean()
    post = r.table[r.table["group"] <= r.table["time"]]
    pg = post["group"].map(lambda g: float(np.mean(w * (data["first_treat"] == g))))
    expected = float(np.sum(post["att"] * pg) / pg.sum())
    assert r.aggregate("simple").overall.estimate == pytest.approx(expected, abs=1e-12)
    unweighted = att_gt(data, unit=None, panel=False).aggregate("simple").overall.estimate
    assert abs(unweighted - expected) > 1e-4


def test_clusters_and_bootstrap_with_cross_sections() -> None:
    data = repeated_cross_sections()
    kw = {"unit": None, "panel": False}
    plain = att_gt(data, **kw)
    own = att_gt(data.assign(c=np.arange(len(data))), **kw, cluster="c")
    np.testing.assert_allclose(own.table["se"], plain.table["se"], rtol=1e-12)
    clustered = att_gt(data, **kw, cluster="cluster")
    sums = np.zeros((30, plain.influence.shape[1]))
    np.add.at(sums, data["cluster"].to_numpy(), plain.influence)
    np.testing.assert_allclose(clustered.table["se"], np.sqrt((sums**2).sum(axis=0)) / len(data), rtol=1e-12)
    boot = att_gt(data, **kw, bootstrap=True, n_bootstrap=2000, random_state=5)
    # IQR-based bootstrap scale with B = 2000 has a relative sd of about 3 %; 10 % is over 3 sd
    np.testing.assert_allclose(boot.table["se"], plain.table["se"], rtol=0.10)


def test_cross_section_checks_and_warnings() -> None:
    panel = staggered_panel()
    with pytest.raises(EvaluationError, match="unit=None"):
        att_gt(panel, panel=False)  # ids repeat across periods: not cross sections
    with pytest.raises(EvaluationError, match="needs the `unit` column"):
        att_gt(panel, unit=None)
    data = repeated_cross_sections()
    thin = data[~((data["first_treat"] == 2004) & (data["year"] == 2003))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = att_gt(thin, unit=None, panel=False)
    messages = [str(w.message) for w in caught]
    assert any("no observations of group 2004 in base period 2003; cell skipped" in m for m in messages)
    assert any("no observations of group 2004 in period 2003; cell skipped" in m for m in messages)
    cohort = r.table[r.table["group"] == 2004]
    assert cohort["time"].tolist() == [2002]  # only the placebo 2002 vs 2001 keeps both of its periods
    with pytest.warns(UserWarning, match="observations already treated in the first period"):
        att_gt(data.assign(first_treat=np.where(data["id"] < 5, 2001, data["first_treat"])), unit=None, panel=False)
