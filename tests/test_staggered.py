"""Tests of the staggered DiD step (evaluation.steps.staggered): hand-built panels and the tiny synthetic registry."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.config import load_config, merge
from evaluation.errors import ConfigError
from evaluation.methods.did import att_gt
from evaluation.steps.staggered import (
    FILES,
    StaggeredSettings,
    caseload_panel,
    prior_placement,
    run_staggered,
    suppress_counts,
)

YEARS = np.arange(2010, 2016)
FILE_PRECISION = 5e-7  # the results files are written with six decimals
#: municipality -> first_treat; cohorts 2012 and 2014 (three municipalities each), six never adopting
COHORTS = {m: 2012 for m in (1, 2, 3)} | {m: 2014 for m in (4, 5, 6)} | {m: 0 for m in range(7, 13)}
REQUIRED = {
    "att_gt": ["outcome", "group", "time", "att", "se", "ci_low", "ci_high", "n_treated", "n_control"],
    "event_study": ["outcome", "event_time", "att", "se", "ci_low", "ci_high", "band_low", "band_high"],
    "pretrend": ["outcome", "statistic", "df", "p_value"],
    "naive_vs_robust": ["outcome", "estimator", "estimate", "se", "ci_low", "ci_high", "label"],
    "heterogeneity": ["outcome", "subgroup_variable", "subgroup", "estimate", "se", "ci_low", "ci_high", "n"],
    "dose_response": ["outcome", "estimate", "se", "ci_low", "ci_high", "per"],
    "multiplicity": ["outcome", "estimator", "family", "p_value", "p_holm", "p_bh"],
    "bacon": ["outcome", "family", "comparison", "treated_cohort", "control_cohort", "weight", "estimate"],
}


def dynamic_effect(first_treat: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Planted effect 1 + e at event time e >= 0 (growing effects), 0 before adoption and when never treated."""
    e = year - first_treat
    return np.where((first_treat > 0) & (e >= 0), 1.0 + e, 0.0)


def hand_panel(seed: int = 3) -> pd.DataFrame:
    """Balanced child-year panel: municipality m has 3 + m children in every year 2010-2015.

    ``school_absence`` is noise-free, ``10 + m/2 + (year - 2010)/4 + (1 + e) * post``, so parallel trends
    hold exactly and the planted effect grows with event time. ``sdq`` and ``cost_per_child`` are noisy.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for m, g in COHORTS.items():
        n = 3 + m
        for year in YEARS:
            rows.append(
                pd.DataFrame(
                    {
                        "person_id": [f"p{m:02d}_{i}" for i in range(n)],
                        "municipality": m,
                        "year": year,
                        "first_treat": g,
                        "sex": np.where(np.arange(n) % 2 == 0, 1, 2),
                        "age_at_entry": (np.arange(n) * 5) % 18,
                        "entry_year": 2010,
                    }
                )
            )
    panel = pd.concat(rows, ignore_index=True)
    eff = dynamic_effect(panel["first_treat"].to_numpy(), panel["year"].to_numpy())
    base = panel["municipality"] / 2 + (panel["year"] - 2010) / 4
    panel["school_absence"] = 10 + base + eff
    panel["sdq"] = 12 + base - 1.5 * (eff > 0) + rng.normal(0, 2, len(panel))
    panel["cost_per_child"] = 1e5 + 1e4 * base + rng.normal(0, 2e4, len(panel))
    first = panel["first_treat"]
    panel["treated_unit"] = (first > 0).astype(int)
    panel["post"] = ((first > 0) & (panel["year"] >= first)).astype(int)
    panel["treated"] = panel["post"]
    return panel


def hand_extracts(panel: pd.DataFrame, folder: Path) -> None:
    """Ingested-style ``sagsbehandlere`` (two caseworkers a municipality-month) and ``anbringelser_forloeb``."""
    months = pd.date_range("2010-01-01", "2015-12-01", freq="MS")
    munis = np.array(sorted(COHORTS))
    grid = pd.DataFrame(
        {
            "municipality": np.repeat(munis, len(months) * 2),
            "month": np.tile(np.repeat(months, 2), len(munis)),
            "worker": np.tile([0, 1], len(munis) * len(months)),
        }
    )
    rng = np.random.default_rng(8)
    caseworkers = pd.DataFrame(
        {
            "caseworker_id": "cw" + grid["municipality"].astype(str) + "_" + grid["worker"].astype(str),
            "municipality": grid["municipality"],
            "month": grid["month"],
            "fte": np.where(grid["worker"] == 0, 1.0, 0.5),
            "active_cases": rng.integers(10, 50, len(grid)).astype(float),
            "employed_to": pd.NaT,
        }
    )
    caseworkers.to_parquet(folder / "sagsbehandlere.parquet")
    children = panel["person_id"].drop_duplicates().to_numpy()[::4]
    pd.DataFrame(
        {"person_id": children, "start_date": pd.Timestamp("2009-03-01"), "end_date": pd.Timestamp("2011-06-30")}
    ).to_parquet(folder / "anbringelser_forloeb.parquet")


def hand_config(**staggered) -> dict:
    return {
        "outcomes": {"primary": ["sdq", "cost_per_child"], "secondary": ["school_absence"]},
        "estimation": {"alpha": 0.05, "staggered": {"n_bootstrap": 199, "seed": 11, **staggered}},
        "disclosure": {"min_cell": 5},
    }


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("staggered_hand")
    panel = hand_panel()
    panel_path = tmp / "panel.parquet"
    panel.to_parquet(panel_path)
    ingest = tmp / "ingest"
    ingest.mkdir()
    hand_extracts(panel, ingest)
    estimates = pd.DataFrame(
        {
            "analysis": ["main", "main", "main", "naive"],
            "outcome": ["sdq", "cost_per_child", "school_absence", "sdq"],
            "estimator": ["did_imputation"] * 3 + ["diff_in_means"],
            "estimate": [-1.0, 10.0, -0.5, 3.0],
            "se": [0.5, 20.0, 0.5, 1.0],
            "ci_low": [-2.0, -30.0, -1.5, 1.0],
            "ci_high": [0.0, 50.0, 0.5, 5.0],
            "p_value": [0.04, 0.60, 0.30, 0.001],
        }
    )
    estimates_path = tmp / "estimates.csv"
    estimates.to_csv(estimates_path, index=False)
    messages: list[str] = []
    written = run_staggered(
        panel_path,
        ingest,
        hand_config(),
        tmp / "out",
        matched_path=None,
        estimates_path=estimates_path,
        progress=messages.append,
    )
    tables = {name: pd.read_csv(path) for name, path in written.items()}
    return {"panel": panel, "tables": tables, "written": written, "messages": messages, "estimates": estimates}


def test_every_file_is_written_with_its_columns(hand_run):
    assert set(hand_run["written"]) == set(FILES)
    for name, columns in REQUIRED.items():
        table = hand_run["tables"][name]
        assert not table.empty, name
        assert set(columns) <= set(table.columns), (name, set(columns) - set(table.columns))
        assert set(table["outcome"]) == {"sdq", "cost_per_child", "school_absence"}, name


def test_cs_simple_equals_att_gt_on_hand_computed_means(hand_run):
    """The written CS simple ATT is att_gt(...).aggregate("simple") on means and weights computed here."""
    panel = hand_run["panel"]
    means = panel.groupby(["municipality", "year"], as_index=False).agg(
        sdq=("sdq", "mean"), n=("sdq", "size"), first_treat=("first_treat", "first")
    )
    means["w"] = means.groupby("municipality")["n"].transform("sum")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = att_gt(
            means,
            outcome="sdq",
            unit="municipality",
            time="year",
            group="first_treat",
            control_group="not_yet_treated",
            method="dr",
            base_period="universal",
            bootstrap=True,
            n_bootstrap=199,
            random_state=11,
            weights="w",
        ).aggregate("simple")
    nvr = hand_run["tables"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    row = nvr.loc[("sdq", "cs_simple")]
    assert row["estimate"] == pytest.approx(direct.overall.estimate, rel=1e-6, abs=1e-6)
    assert row["se"] == pytest.approx(direct.overall.se, rel=1e-5)
    assert row["ci_low"] == pytest.approx(direct.overall.ci_low, rel=1e-5, abs=1e-6)


def test_exact_dynamic_effects_are_recovered_and_twfe_is_biased(hand_run):
    """Noise-free outcome with effects 1 + e: CS is exact, TWFE with already-treated controls is pulled down."""
    panel = hand_run["panel"]
    size = panel.groupby("first_treat")["person_id"].nunique()  # children of a cohort = child-years / 6 years
    w12, w14 = size[2012], size[2014]
    # simple ATT: post cells weighted by cohort size; 2012 has e = 0..3 (effects 1..4), 2014 has e = 0, 1
    truth_simple = (w12 * (1 + 2 + 3 + 4) + w14 * (1 + 2)) / (4 * w12 + 2 * w14)
    nvr = hand_run["tables"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    assert nvr.loc[("school_absence", "cs_simple"), "estimate"] == pytest.approx(truth_simple, abs=FILE_PRECISION)
    dynamic = nvr.loc[("school_absence", "cs_dynamic"), "estimate"]
    assert dynamic == pytest.approx((1 + 2 + 3 + 4) / 4, abs=FILE_PRECISION)
    es = hand_run["tables"]["event_study"].query("outcome == 'school_absence'").set_index("event_time")["att"]
    assert es.loc[[0, 1, 2, 3]].to_numpy() == pytest.approx([1, 2, 3, 4], abs=FILE_PRECISION)
    assert es.loc[es.index < 0].to_numpy() == pytest.approx(0, abs=FILE_PRECISION)
    assert nvr.loc[("school_absence", "twfe"), "estimate"] < truth_simple - 0.2
    # the 2x2 DiD: cohort 2012 vs never adopting, years 2012-2015 vs 2010-2011: mean effect 2.5 exactly
    assert nvr.loc[("school_absence", "did_2x2"), "estimate"] == pytest.approx(2.5, abs=FILE_PRECISION)


def test_two_by_two_is_the_difference_of_four_child_year_means(hand_run):
    p = hand_run["panel"]
    cells = p.loc[p["first_treat"].isin([0, 2012])].assign(after=lambda f: f["year"] >= 2012)
    m = cells.groupby([cells["first_treat"] > 0, "after"])["sdq"].mean()
    expected = (m[(True, True)] - m[(True, False)]) - (m[(False, True)] - m[(False, False)])
    nvr = hand_run["tables"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    assert nvr.loc[("sdq", "did_2x2"), "estimate"] == pytest.approx(expected, abs=FILE_PRECISION)


def test_headline_rows_are_copied_from_estimates_and_the_2x2_is_labelled_naive(hand_run):
    nvr = hand_run["tables"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    main = hand_run["estimates"].query("analysis == 'main'").set_index("outcome")
    for outcome, row in main.iterrows():
        copied = nvr.loc[(outcome, "did_imputation")]
        for column in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            assert copied[column] == pytest.approx(row[column], abs=FILE_PRECISION), (outcome, column)
        assert np.isnan(copied["n_treated"]) and np.isnan(copied["n_control"])  # children are counted in estimates.csv
        assert copied["label"] == "Imputation estimator, matched children (headline)"
    assert nvr.loc[("sdq", "did_2x2"), "label"].startswith("Naive 2x2 DiD")
    assert nvr.loc[("sdq", "twfe"), "label"].endswith("all children, unweighted")  # run without a matched sample
    assert any("no matched sample given" in m for m in hand_run["messages"])
    # the headline is compared, not adjusted twice: multiplicity holds it once per outcome
    mult = hand_run["tables"]["multiplicity"]
    assert (mult["analysis"] == "main").sum() == 3


def test_no_count_below_min_cell_is_written(hand_run):
    for name, table in hand_run["tables"].items():
        for column in [c for c in table.columns if c == "n" or c.startswith("n_")]:
            values = table[column].dropna()
            assert ((values >= 5) | (values == 0)).all(), (name, column)  # zeros rest on no person
    att = hand_run["tables"]["att_gt"]
    assert att["n_treated"].isna().all()  # three municipalities per cohort: all suppressed
    shown = att.loc[att["n_control"].notna(), "n_control"]
    assert ((shown >= 5) | (shown == 0)).all() and (shown >= 5).any()


def test_suppress_counts_blanks_small_counts_only():
    frame = pd.DataFrame({"n": [4, 5, 0], "n_control": [10, 2, 7], "estimate": [1.0, 2.0, 3.0], "df": [1, 2, 3]})
    out = suppress_counts(frame, 5)
    assert out["n"].isna().tolist() == [True, False, False]  # a zero rests on no person: published
    assert out["n"].iloc[2] == 0
    assert out["n_control"].isna().tolist() == [False, True, False]
    assert out["estimate"].tolist() == [1.0, 2.0, 3.0] and out["df"].tolist() == [1, 2, 3]


def test_multiplicity_adjusts_within_families(hand_run):
    mult = hand_run["tables"]["multiplicity"]
    assert set(mult["analysis"]) == {"main", "staggered"}  # the naive row of estimates.csv is not included
    assert mult.groupby("family").size().to_dict() == {"primary": 4, "secondary": 2}
    for _, fam in mult.groupby("family"):
        p = np.sort(fam["p_value"].to_numpy())
        m = len(p)
        holm = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p), 1)
        # p-values are read back at six decimals; Holm multiplies their rounding error by at most m
        assert np.sort(fam["p_holm"].to_numpy()) == pytest.approx(holm, abs=(m + 1) * FILE_PRECISION)
    main_sdq = mult.query("analysis == 'main' and outcome == 'sdq'").iloc[0]
    assert main_sdq["family"] == "primary" and main_sdq["p_value"] == pytest.approx(0.04)


def test_heterogeneity_subgroups_and_counts(hand_run):
    het = hand_run["tables"]["heterogeneity"]
    sdq = het.query("outcome == 'sdq'")
    assert set(sdq["subgroup_variable"]) == {"life_phase", "sex", "prior_placement"}
    assert set(sdq.loc[sdq["subgroup_variable"] == "sex", "subgroup"]) == {"male", "female"}
    assert set(sdq.loc[sdq["subgroup_variable"] == "life_phase", "subgroup"]) == {"0-6", "7-13", "14-17"}
    panel = hand_run["panel"]
    boys = panel.loc[panel["sex"] == 1, "person_id"].nunique()
    assert sdq.loc[sdq["subgroup"] == "male", "n"].iloc[0] == boys
    # noise-free outcome: each subgroup's simple ATT is the cohort-size weighted mean of its exact effects
    exact = het.query("outcome == 'school_absence' and subgroup_variable == 'sex'").set_index("subgroup")
    for code, label in ((1, "male"), (2, "female")):
        size = panel.loc[panel["sex"] == code].groupby("first_treat")["person_id"].nunique()
        expected = (size[2012] * 10 + size[2014] * 3) / (4 * size[2012] + 2 * size[2014])
        assert exact.loc[label, "estimate"] == pytest.approx(expected, abs=FILE_PRECISION)


def test_prior_placement_counts_spells_starting_by_the_entry_year():
    panel = pd.DataFrame({"person_id": ["a", "b", "c", "d"], "entry_year": [2011, 2011, 2011, 2011]})
    spells = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "c"],
            "start_date": pd.to_datetime(["2009-05-01", "2012-01-01", "2011-12-31", "2014-01-01"]),
        }
    )
    assert prior_placement(panel, spells).tolist() == ["yes", "no", "yes", "no"]


def test_caseload_panel_is_cases_over_fte():
    cw = pd.DataFrame(
        {
            "caseworker_id": ["x", "y", "x", "y"],
            "municipality": [1, 1, 1, 1],
            "month": pd.to_datetime(["2013-01-01", "2013-01-01", "2013-02-01", "2013-02-01"]),
            "fte": [1.0, 0.5, 1.0, 0.5],
            "active_cases": [30.0, 12.0, 24.0, 9.0],
            "employed_to": pd.NaT,
        }
    )
    out = caseload_panel(cw)
    assert out["caseload_per_worker"].tolist() == pytest.approx([(30 + 12 + 24 + 9) / 3.0])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("control_group", "everyone", "control_group"),
        ("method", "ols", "method"),
        ("base_period", "fixed", "base_period"),
        ("n_bootstrap", 1, "n_bootstrap"),
    ],
)
def test_bad_settings_raise_config_error(key, value, message):
    with pytest.raises(ConfigError, match=message):
        StaggeredSettings.from_config(hand_config(**{key: value}))


def test_settings_defaults_and_families():
    s = StaggeredSettings.from_config({"outcomes": {"primary": ["sdq"], "secondary": ["school_absence"]}})
    assert (s.control_group, s.method, s.base_period, s.bootstrap, s.n_bootstrap) == (
        "not_yet_treated",
        "dr",
        "universal",
        True,
        999,
    )
    assert s.family("sdq") == "primary" and s.family("school_absence") == "secondary"


def _staggered_on_tiny_registry(tmp_path, root, effects=None):
    """Tiny synthetic registry -> ingest -> cohort -> staggered; returns the written files and the SDQ truth."""
    from evaluation.steps.cohort import build_panel
    from evaluation.steps.ingest import ingest_folder, load_key
    from evaluation.steps.simulate import simulate

    cfg = load_config(root / "config" / "config.yaml", {"synthetic": {"scale": "tiny", "effects": effects or {}}})
    cfg = merge(cfg, {"estimation": {"staggered": {"n_bootstrap": 99}}, "report": {"cutoff_date": None}})  # all data
    raw, interim = tmp_path / "raw", tmp_path / "interim"
    simulate(raw, scale="tiny", seed=int(cfg["synthetic"]["seed"]), config=cfg, progress=None)
    ingest_folder(
        raw,
        interim,
        on_invalid="stop",
        quarantine_dir=tmp_path / "quarantine",
        accounting_path=tmp_path / "accounting.csv",
        key=load_key(raw),
        progress=lambda _: None,
    )
    panel_path = tmp_path / "panel.parquet"
    build_panel(interim, cfg, panel_path, tmp_path / "flow.csv", progress=lambda _: None)
    written = run_staggered(panel_path, interim, cfg, tmp_path / "out", matched_path=None, progress=lambda _: None)
    truth = json.loads((raw / "truth.json").read_text())["att_sdq"]["value"]
    return written, truth


def test_end_to_end_tiny_registry_recovers_planted_sdq_effect(tmp_path, root):
    """The planted SDQ effect lies in the CS 95 % CI; the naive 2x2 misses it."""
    written, truth = _staggered_on_tiny_registry(tmp_path, root)
    nvr = pd.read_csv(written["naive_vs_robust"]).set_index(["outcome", "estimator"])
    cs = nvr.loc[("sdq", "cs_simple")]
    assert cs["ci_low"] <= truth <= cs["ci_high"], (truth, cs.to_dict())
    assert cs["ci_high"] < 0  # the effect is detected
    # the naive 2x2 of the first adopter against never adopting misses the truth (confounded trends)
    naive = nvr.loc[("sdq", "did_2x2")]
    assert not naive["ci_low"] <= truth <= naive["ci_high"]
    mult = pd.read_csv(written["multiplicity"])
    assert set(mult["estimator"]) == {"cs_simple"} and set(mult["family"]) == {"primary", "secondary"}


def test_planted_dynamics_bias_twfe_but_not_callaway_santanna(tmp_path, root):
    """An SDQ effect that grows with years since adoption: CS covers the truth, TWFE misses it."""
    written, truth = _staggered_on_tiny_registry(tmp_path, root, {"sdq_change_per_year": -0.4})
    nvr = pd.read_csv(written["naive_vs_robust"]).set_index(["outcome", "estimator"])
    cs, twfe = nvr.loc[("sdq", "cs_simple")], nvr.loc[("sdq", "twfe")]
    assert cs["ci_low"] <= truth <= cs["ci_high"], (truth, cs.to_dict())
    assert not twfe["ci_low"] <= truth <= twfe["ci_high"], (truth, twfe.to_dict())
    assert abs(twfe["estimate"] - truth) > abs(cs["estimate"] - truth)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_one_adopting_municipality_runs_and_keeps_every_event_time(tmp_path):
    """With fewer adopters than min_treated_municipalities at every event time, the dynamic average keeps them all;
    the noise-free outcome's cluster-robust variances, a hair below zero by rounding, are 0 without a warning."""
    panel = hand_panel()
    first = np.where(panel["municipality"] == 1, 2012, 0)
    panel = panel.assign(first_treat=first, treated_unit=(first > 0).astype(int))
    panel["post"] = ((first > 0) & (panel["year"] >= first)).astype(int)
    panel["treated"] = panel["post"]
    base = panel["municipality"] / 2 + (panel["year"] - 2010) / 4
    panel["school_absence"] = 10 + base + dynamic_effect(first, panel["year"].to_numpy())
    panel.to_parquet(tmp_path / "panel.parquet")
    (tmp_path / "ingest").mkdir()
    hand_extracts(panel, tmp_path / "ingest")
    written = run_staggered(
        tmp_path / "panel.parquet",
        tmp_path / "ingest",
        hand_config(),
        tmp_path / "out",
        matched_path=None,
        progress=lambda _m: None,
    )
    robust = pd.read_csv(written["naive_vs_robust"]).set_index(["outcome", "estimator"])
    dynamic = robust.loc[("school_absence", "cs_dynamic"), "estimate"]
    # noise-free outcome: effects 1 + e at event times 0..3, averaged with equal weights
    assert dynamic == pytest.approx(np.mean([1.0, 2.0, 3.0, 4.0]), abs=FILE_PRECISION)
