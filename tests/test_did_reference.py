"""ATT(g,t) and aggregations against stored outputs of R did's Python port (``tests/reference/did``).

The reference outputs come from ``moderndid`` 0.2.0 (a port of R ``did`` 2.x / ``DRDID`` 1.2) and are
cross-checked against ``csdid``; see ``tests/reference/did/README.md``. Point estimates agree at 1e-6
(absolute) and analytic standard errors at relative 1e-6.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.methods.did import att_gt

REF = Path(__file__).parent / "reference" / "did"
sys.path.insert(0, str(REF))
from staggered_panel import staggered_panel  # noqa: E402

ATT_REF = pd.read_csv(REF / "att_gt_reference.csv")
AGG_REF = pd.read_csv(REF / "aggte_reference.csv")
KEYS = ["method", "control", "base", "covariates", "weights"]
CONFIGS = ATT_REF[KEYS].drop_duplicates().to_dict("records")
MPDTA = REF / "mpdta.csv"


def _spec(dataset: str) -> dict:
    if dataset == "synthetic":
        return {"data": staggered_panel(), "y": "y", "t": "year", "id": "id", "g": "first_treat", "x": ["x1", "x2"]}
    if not MPDTA.exists():
        pytest.skip("mpdta.csv (GPL-2 data of R did) is not stored; see tests/reference/did/README.md")
    data = pd.read_csv(MPDTA)
    data["w"] = 1.0 + (data["countyreal"] % 7) / 10
    return {"data": data, "y": "lemp", "t": "year", "id": "countyreal", "g": "first.treat", "x": ["lpop"]}


_CACHE: dict = {}


def _fit(dataset: str, cfg: dict):
    key = (dataset, *[cfg[k] for k in KEYS])
    if key not in _CACHE:
        spec = _spec(dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[key] = att_gt(
                spec["data"],
                outcome=spec["y"],
                unit=spec["id"],
                time=spec["t"],
                group=spec["g"],
                covariates=spec["x"] if cfg["covariates"] == "x" else None,
                control_group="never_treated" if cfg["control"] == "nevertreated" else "not_yet_treated",
                method=cfg["method"],
                base_period=cfg["base"],
                weights="w" if cfg["weights"] else None,
            )
    return _CACHE[key]


def _select(frame: pd.DataFrame, dataset: str, cfg: dict) -> pd.DataFrame:
    mask = frame["dataset"] == dataset
    for k in KEYS:
        mask &= frame[k] == cfg[k]
    return frame[mask]


def _id(cfg: dict) -> str:
    return "-".join(str(cfg[k]) for k in KEYS)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_att_gt_matches_reference(cfg: dict, dataset: str = "synthetic") -> None:
    result = _fit(dataset, cfg)
    ref = _select(ATT_REF, dataset, cfg)
    ours = result.table.assign(group=result.table["group"].astype(int), time=result.table["time"].astype(int))
    merged = ref.merge(ours, on=["group", "time"], suffixes=("_ref", ""), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    np.testing.assert_allclose(merged["att"], merged["att_ref"], atol=1e-6, rtol=0)
    both = merged["se_ref"].notna() & (merged["se_ref"] > 1e-10)
    np.testing.assert_allclose(merged.loc[both, "se"], merged.loc[both, "se_ref"], rtol=1e-6)
    assert merged.loc[~both, "se"].isna().all()


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_aggregations_match_reference(cfg: dict, kind: str, dataset: str = "synthetic") -> None:
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
    finite = rows["se"].to_numpy() > 1e-10
    np.testing.assert_allclose(agg.table["se"].to_numpy()[finite], rows["se"].to_numpy()[finite], rtol=1e-6)


@pytest.mark.parametrize("dataset", ["synthetic", "mpdta"])
@pytest.mark.parametrize(
    ("tag", "kwargs"), [("dynamic_min_e-2_max_e2", {"min_e": -2, "max_e": 2}), ("dynamic_balance_e1", {"balance_e": 1})]
)
def test_dynamic_window_and_balance_match_reference(dataset: str, tag: str, kwargs: dict) -> None:
    cfg = {"method": "dr", "control": "nevertreated", "base": "varying", "covariates": "none", "weights": False}
    ref = _select(AGG_REF, dataset, cfg)
    ref = ref[ref["kind"] == tag]
    agg = _fit(dataset, cfg).aggregate("dynamic", **kwargs)
    rows = ref[ref["label"] != "overall"]
    np.testing.assert_array_equal(agg.table["event_time"].to_numpy(), rows["label"].astype(int).to_numpy())
    np.testing.assert_allclose(agg.table["att"], rows["att"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(agg.table["se"], rows["se"], rtol=1e-6)
    overall = ref[ref["label"] == "overall"].iloc[0]
    assert agg.overall.estimate == pytest.approx(overall["att"], abs=1e-6)
    assert agg.overall.se == pytest.approx(overall["se"], rel=1e-6)


def test_mpdta_matches_reference_in_every_configuration() -> None:
    """R did's own example data (when ``mpdta.csv`` is present): every configuration and aggregation."""
    _spec("mpdta")
    for cfg in CONFIGS:
        test_att_gt_matches_reference(cfg, dataset="mpdta")
        for kind in ["simple", "dynamic", "group", "calendar"]:
            test_aggregations_match_reference(cfg, kind, dataset="mpdta")
    # R's published numbers (did vignette, analytic SEs): simple ATT -0.0400, dynamic -0.0772
    default = {"method": "dr", "control": "nevertreated", "base": "varying", "covariates": "none", "weights": False}
    assert _fit("mpdta", default).aggregate("simple").overall.estimate == pytest.approx(-0.0400, abs=5e-5)
    assert _fit("mpdta", default).aggregate("dynamic").overall.estimate == pytest.approx(-0.0772, abs=5e-5)


def test_reference_ports_agree_with_each_other() -> None:
    """csdid and moderndid (the two ports) give the same default ATT(g,t): the reference is not one port's quirk."""
    cross = pd.read_csv(REF / "csdid_crosscheck.csv")
    cfg = {"method": "dr", "control": "nevertreated", "base": "varying", "covariates": "none", "weights": False}
    for dataset, part in cross.groupby("dataset"):
        ref = _select(ATT_REF, dataset, cfg).merge(part, on=["group", "time"], suffixes=("", "_csdid"))
        assert len(ref) == len(part)
        np.testing.assert_allclose(ref["att"], ref["att_csdid"], atol=1e-8)
        np.testing.assert_allclose(ref["se"], ref["se_csdid"], rtol=1e-6)
