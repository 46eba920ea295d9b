"""Tests of the DiD estimates and trends on constructed panels with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.steps import estimate

TAU = -1.5
LEVEL_GAP = 5.0
YEARS = range(2011, 2017)
# municipality -> first_treat (0 = never); three children each
MUNIS = {657: 2013, 167: 2015, 101: 0, 751: 0, 461: 0}


def make_panel(tau=TAU, gap=LEVEL_GAP, noise=0.0, seed=1) -> pd.DataFrame:
    """y = child effect + gap * treated_unit + (year - 2011) + tau * treated (+ noise).

    Child effects are -1, 0, 1 within each municipality, so they average to zero.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for kom, ft in MUNIS.items():
        for j, c in enumerate((-1.0, 0.0, 1.0)):
            pid = f"{kom}_{j}"
            for year in YEARS:
                post = int(ft > 0 and year >= ft)
                y = c + gap * (ft > 0) + (year - 2011) + tau * post + noise * rng.standard_normal()
                rows.append(
                    {
                        "person_id": pid,
                        "municipality": kom,
                        "year": year,
                        "first_treat": ft,
                        "treated_unit": int(ft > 0),
                        "post": post,
                        "treated": post,
                        "sdq": y,
                        "cost_per_child": 1000.0 * y,
                        "school_absence": np.nan,
                    }
                )
    return pd.DataFrame(rows)


def make_matched(panel: pd.DataFrame) -> pd.DataFrame:
    children = panel.drop_duplicates("person_id")[["person_id", "municipality", "treated_unit"]]
    weight = np.where(children["treated_unit"] == 1, 1.0, np.where(children["person_id"].str.endswith("_0"), 0.5, 1.5))
    return pd.DataFrame(
        {
            "person_id": children["person_id"],
            "municipality": children["municipality"],
            "treat": children["treated_unit"],
            "weight": weight,
            "subclass": pd.NA,
        }
    )


def quiet(_msg):
    return None


def test_twfe_recovers_constant_effect_exactly_with_and_without_weights():
    panel = make_panel()
    unweighted = estimate.did_twfe(panel, "sdq", progress=quiet)
    weighted = estimate.did_twfe(
        estimate.matched_sample(panel, make_matched(panel)), "sdq", weights="weight", progress=quiet
    )
    assert unweighted.estimate == pytest.approx(TAU, abs=1e-9)
    assert weighted.estimate == pytest.approx(TAU, abs=1e-9)
    # treated children: the 6 of 657 and 167; controls: the 9 of never-adopters
    assert (unweighted.n_treated, unweighted.n_control) == (6, 9)


def test_naive_difference_in_means_is_biased_by_level_differences():
    panel = make_panel()
    naive = estimate.diff_in_means(panel, "sdq", progress=quiet)
    # treated rows: 657 children in 2013-16 (year effects 2..5), 167 children in 2015-16 (4, 5):
    # mean year effect (4 * 3.5 + 2 * 4.5) / 6 = 23/6; controls in 2013-16: 3.5.
    assert naive.estimate == pytest.approx(TAU + LEVEL_GAP + 23 / 6 - 3.5, abs=1e-9)
    assert (naive.n_treated, naive.n_control) == (6, 9)
    did = estimate.did_twfe(panel, "sdq", progress=quiet)
    assert abs(naive.estimate - TAU) > 5 * abs(did.estimate - TAU) + 1


@pytest.mark.parametrize("alpha", [0.05, 0.10])
def test_intervals_use_t_with_clusters_minus_one_df(alpha):
    panel = make_panel(noise=1.0)
    g = panel["municipality"].nunique()
    for est in (
        estimate.did_twfe(panel, "sdq", alpha=alpha, progress=quiet),
        estimate.diff_in_means(panel, "sdq", alpha=alpha, progress=quiet),
    ):
        q = stats.t.ppf(1 - alpha / 2, g - 1)
        assert est.se > 0
        assert est.ci_high - est.estimate == pytest.approx(q * est.se, rel=1e-9)
        assert est.estimate - est.ci_low == pytest.approx(q * est.se, rel=1e-9)
        assert est.p_value == pytest.approx(2 * stats.t.sf(abs(est.estimate / est.se), g - 1), rel=1e-9)


def test_missing_outcome_rows_are_counted_and_left_out():
    panel = make_panel()
    panel.loc[panel["year"] == 2011, "sdq"] = np.nan
    messages = []
    est = estimate.did_twfe(panel, "sdq", progress=messages.append)
    assert est.estimate == pytest.approx(TAU, abs=1e-9)
    assert any("15 child-years without a value" in m for m in messages)  # 15 children x 1 year


def test_trends_means_weights_and_disclosure():
    panel = make_panel()
    matched = make_matched(panel)
    table = estimate.trends(panel, matched, ["sdq", "school_absence", "not_there"], min_cell=5)
    assert list(table.columns) == ["outcome", "year", "group", "mean", "n"]
    assert set(table["outcome"]) == {"sdq"}  # school_absence has no values: no cells
    t = table.loc[table["outcome"] == "sdq"].set_index(["year", "group"])
    # 2011: treated children have effects -1, 0, 1 + gap 5: mean 5; controls mean 0
    assert t.loc[(2011, "treated"), "mean"] == pytest.approx(5.0)
    assert t.loc[(2011, "treated"), "n"] == 6
    assert t.loc[(2011, "comparison_all"), "mean"] == pytest.approx(0.0)
    # matched controls: weights 0.5, 1.5, 1.5 on child effects -1, 0, 1 (each control municipality alike):
    # weighted mean (-0.5 + 0 + 1.5) / 3.5 = 1 / 3.5, plus the year effect 2 in 2013
    expected = 1 / 3.5 + 2
    assert t.loc[(2013, "comparison_matched"), "mean"] == pytest.approx(expected)
    # school absence has no values: no cells; with min_cell above the cell size everything is suppressed
    suppressed = estimate.trends(panel, matched, ["sdq"], min_cell=7)
    small = suppressed.loc[suppressed["group"] == "treated"]
    assert small["mean"].isna().all() and small["n"].isna().all()
    assert suppressed.loc[suppressed["group"] == "comparison_all", "n"].eq(9).all()


def _config(**inference):
    return {
        "outcomes": {
            "primary": ["sdq", "cost_per_child"],
            "secondary": ["school_absence_missing_col"],
            "placement": [],
        },
        "matching": {"covariates": []},
        "estimation": {"alpha": 0.05, "cluster": "municipality", "event_leads": 1},
        "inference": {"method": "cluster_robust", **inference},
        "disclosure": {"min_cell": 5},
    }


def test_run_estimates_writes_the_contracted_columns(tmp_path):
    panel = make_panel(noise=0.5)
    panel_path, matched_path = tmp_path / "panel.parquet", tmp_path / "matched.parquet"
    panel.to_parquet(panel_path, index=False)
    make_matched(panel).to_parquet(matched_path, index=False)
    out, trends_path = tmp_path / "results" / "estimates.csv", tmp_path / "results" / "trends.csv"
    events_path = tmp_path / "results" / "event_study_main.csv"
    pretrend_path, honest_path = tmp_path / "results" / "pretrend.csv", tmp_path / "results" / "honest.csv"
    estimate.run_estimates(
        panel_path,
        matched_path,
        _config(),
        out,
        trends_path,
        progress=quiet,
        events_path=events_path,
        pretrend_path=pretrend_path,
        honest_path=honest_path,
    )
    pretrend = pd.read_csv(pretrend_path)
    assert list(pretrend.columns) == estimate.PRETREND_COLUMNS
    assert pretrend.set_index("outcome").loc["sdq", "df_num"] == 1  # one placebo year (event_leads = 1)
    # HonestDiD needs two placebo years (one after making event time -1 the reference): none here
    assert list(pd.read_csv(honest_path).columns) == estimate.HONEST_COLUMNS
    table = pd.read_csv(out)
    events = pd.read_csv(events_path)
    assert list(events.columns) == estimate.EVENT_COLUMNS
    # one lead (placebo) and the post-adoption event times 0..3 of the 2013 adopter
    assert events.loc[events["outcome"] == "sdq", "event_time"].tolist() == [-1, 0, 1, 2, 3]
    # event times 2 and 3 rest on one adopting municipality (< 3): flagged, no interval
    thin = events.loc[(events["outcome"] == "sdq") & (events["event_time"] >= 2)]
    assert (thin["few_municipalities"] == 1).all() and thin["ci_low"].isna().all()
    assert list(table.columns) == [
        "analysis",
        "outcome",
        "estimator",
        "subgroup",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "n_treated",
        "n_control",
    ]
    assert len(table) == 8  # the headline and 3 comparisons x 2 outcomes present in the panel
    keys = list(zip(table["analysis"], table["outcome"], strict=True))
    assert keys == sorted(keys)
    assert set(table["estimator"]) == {"did_imputation", "did_twfe_matched", "did_twfe", "diff_in_means"}
    assert set(table.loc[table["analysis"] == "main", "estimator"]) == {"did_imputation"}
    assert (table["subgroup"] == "all").all()
    main = table.loc[(table["analysis"] == "main") & (table["outcome"] == "sdq")].iloc[0]
    assert main["ci_low"] < main["estimate"] < main["ci_high"]
    # every matched child in the sample: 6 treated, 9 controls
    assert (main["n_treated"], main["n_control"]) == (6, 9)
    first = out.read_bytes()
    estimate.run_estimates(
        panel_path, matched_path, _config(), out, trends_path, progress=quiet, events_path=events_path
    )
    assert out.read_bytes() == first
    assert pd.read_csv(trends_path)["group"].nunique() == 3


def test_children_with_one_child_year_are_not_counted_in_did():
    panel = make_panel()
    # keep only 2016 for one control child: its child effect absorbs it
    lone = (panel["person_id"] == "101_0") & (panel["year"] < 2016)
    est = estimate.did_twfe(panel.loc[~lone], "sdq", progress=quiet)
    assert est.estimate == pytest.approx(TAU, abs=1e-9)
    assert (est.n_treated, est.n_control) == (6, 8)
    naive = estimate.diff_in_means(panel.loc[~lone], "sdq", progress=quiet)
    assert naive.n_control == 9


def test_headline_takes_lone_adopters_against_each_other_unless_leave_out_is_off():
    """Each adopter is a cohort of its own: without leave-out their treated residuals are zero."""
    from evaluation.methods.did.imputation import did_imputation

    panel = make_panel(noise=0.5).merge(make_matched(make_panel())[["person_id", "weight"]], on="person_id")
    plain_cfg = _config()
    plain_cfg["estimation"] = {**plain_cfg["estimation"], "leave_out": False}
    default = estimate.headline_fit(panel, "sdq", [], _config())
    plain = estimate.headline_fit(panel, "sdq", [], plain_cfg)
    reference = did_imputation(
        panel, "sdq", unit="municipality", time="year", cohort="first_treat", weights="weight", leads=1
    )
    assert plain.se == pytest.approx(reference.se, rel=1e-12)
    assert default.estimate == pytest.approx(plain.estimate, rel=1e-12)
    assert default.se > plain.se


def test_an_indicator_outcomes_interval_is_cut_to_the_effects_it_can_have():
    """Randomization inference with two adopters of five cannot bound the effect; a 0/1 outcome's effect still
    lies between the treated mean minus one and the treated mean, and the interval says so."""
    panel = make_panel(noise=0.5)
    rng = np.random.default_rng(3)
    panel["placement_rate"] = (rng.random(len(panel)) < 0.3).astype(float)
    config = _config(method="randomization_inference", permutations=99)
    config["outcomes"] = {"primary": ["sdq"], "secondary": [], "placement": ["placement_rate"]}
    sample, covariates, controls = estimate.headline_sample(panel, make_matched(panel), config, quiet)
    fit = estimate.headline_fit(sample, "placement_rate", covariates, config, controls=controls)
    rows, _, _ = estimate._headline_rows(
        sample, covariates, controls, ["placement_rate", "sdq"], config, None, quiet, event_study=False
    )
    rows = {row["outcome"]: row for row in rows}
    low, high = rows["placement_rate"]["ci_low"], rows["placement_rate"]["ci_high"]
    assert fit.treated_mean - 1.0 <= low <= rows["placement_rate"]["estimate"] <= high <= fit.treated_mean
    # SDQ is not a 0/1 outcome: its interval is the inference's own (here unbounded on at least one side)
    assert not (np.isfinite(rows["sdq"]["ci_low"]) and np.isfinite(rows["sdq"]["ci_high"]))
    assert estimate.within_possible_effects(0.4, -np.inf, np.inf) == (-0.6, 0.4)
    assert estimate.within_possible_effects(0.4, -0.2, 0.1) == (-0.2, 0.1)  # inside: unchanged
    assert estimate.within_possible_effects(0.4, 0.5, 0.9) == (0.5, 0.9)  # wholly outside: left as it is
