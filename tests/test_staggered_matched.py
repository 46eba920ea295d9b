"""The staggered step on the matched children: weighted municipality-year means and the Goodman-Bacon decomposition.

The panel is built so that the comparison municipalities' means are confounded and the matched, weighted
means are not: every municipality has children of two types, and type B's outcome trends up by one point
a year while type A's is flat. Adopting municipalities have 8 of 10 children of type B, the others 2 of 10.
Unweighted, the adopters' means trend faster (0.8 a year against 0.2), which every DiD reads as an effect.
The matching weights (1 for the adopters' children; 4 for type B and 1/4 for type A in the comparison
municipalities) give the comparison municipalities the adopters' mix, 8 of 10 of type B, so their
weighted means trend as the adopters' would have: the robust estimators then recover the planted effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.contract.results import header_problem
from evaluation.errors import EvaluationError
from evaluation.steps.staggered import (
    WEIGHT,
    balanced_municipalities,
    matched_child_years,
    municipality_panel,
    run_staggered,
)
from test_staggered import COHORTS, FILE_PRECISION, YEARS, hand_extracts

EFFECT = 2.0  # constant, so that TWFE is unbiased too when the comparison is right
CHILDREN = 10
TYPE_B = {True: 8, False: 2}  # children of type B in an adopting / other municipality
MATCH_WEIGHT = {True: 4.0, False: 0.25}  # weight of a comparison child of type B / type A
DROPPED = 12  # a comparison municipality without children in 2013: not in the balanced panel
TOLERANCE = 1e-6


def confounded_panel(seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Child-year panel (``sdq`` noise-free, ``school_absence`` noisy) and the matched children with weights."""
    rng = np.random.default_rng(seed)
    rows, matched = [], []
    for m, g in COHORTS.items():
        adopter = g > 0
        for i in range(CHILDREN):
            person = f"c{m:02d}_{i}"
            type_b = i < TYPE_B[adopter]
            weight = 1.0 if adopter else MATCH_WEIGHT[type_b]
            matched.append({"person_id": person, "municipality": m, "treat": int(adopter), "weight": weight})
            for year in YEARS:
                if m == DROPPED and year == 2013:
                    continue
                rows.append(
                    {
                        "person_id": person,
                        "municipality": m,
                        "year": year,
                        "first_treat": g,
                        "type_b": int(type_b),
                        "sex": 1 + i % 2,
                        "age_at_entry": (i * 5) % 18,
                        "entry_year": 2010,
                    }
                )
    panel = pd.DataFrame(rows)
    first = panel["first_treat"]
    post = ((first > 0) & (panel["year"] >= first)).astype(float)
    trend = panel["type_b"] * (panel["year"] - 2010)
    panel["sdq"] = 10 + panel["municipality"] / 2 + trend + EFFECT * post
    panel["school_absence"] = 5 + panel["municipality"] + 0.5 * trend + EFFECT * post + rng.normal(0, 1, len(panel))
    panel["treated_unit"] = (first > 0).astype(int)
    panel["post"] = post.astype(int)
    panel["treated"] = panel["post"]
    return panel, pd.DataFrame(matched)


def config() -> dict:
    return {
        "outcomes": {"primary": ["sdq"], "secondary": ["school_absence"]},
        "estimation": {
            "alpha": 0.05,
            "staggered": {"bootstrap": False, "seed": 3},
            "heterogeneity": {"subgroups": ["sex"]},
        },
        "disclosure": {"min_cell": 5},
    }


def _run(tmp, panel, matched, estimates=None):
    panel_path = tmp / "panel.parquet"
    panel.to_parquet(panel_path)
    ingest = tmp / "ingest"
    ingest.mkdir(exist_ok=True)
    hand_extracts(panel, ingest)
    matched_path = None
    if matched is not None:
        matched_path = tmp / "matched.parquet"
        matched.to_parquet(matched_path)
    estimates_path = None
    if estimates is not None:
        estimates_path = tmp / "estimates.csv"
        estimates.to_csv(estimates_path, index=False)
    messages: list[str] = []
    written = run_staggered(
        panel_path,
        ingest,
        config(),
        tmp / "out",
        matched_path=matched_path,
        estimates_path=estimates_path,
        progress=messages.append,
    )
    for path in written.values():  # every table has the columns the results registry declares, bootstrap or not
        assert header_problem(f"results/final/estimate/{path.name}", list(pd.read_csv(path).columns)) is None
    return {name: pd.read_csv(path) for name, path in written.items()}, messages


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    panel, matched = confounded_panel()
    estimates = pd.DataFrame(
        {
            "analysis": ["main", "main", "twfe_matched"],
            "outcome": ["sdq", "school_absence", "sdq"],
            "estimator": ["did_imputation", "did_imputation", "did_twfe_matched"],
            "subgroup": ["all", "all", "all"],
            "estimate": [1.9, 2.1, 1.5],
            "se": [0.1, 0.4, 0.2],
            "ci_low": [1.7, 1.3, 1.1],
            "ci_high": [2.1, 2.9, 1.9],
            "p_value": [0.0001, 0.001, 0.002],
            "n_treated": [60, 60, 60],
            "n_control": [60, 60, 60],
        }
    )
    with_matching, messages = _run(tmp_path_factory.mktemp("matched"), panel, matched, estimates)
    without, _ = _run(tmp_path_factory.mktemp("unmatched"), panel, None, estimates)
    return {"panel": panel, "matched": matched, "with": with_matching, "without": without, "messages": messages}


def _robust(tables: dict, outcome: str) -> pd.Series:
    nvr = tables["naive_vs_robust"].set_index(["outcome", "estimator"])["estimate"]
    return nvr.loc[outcome]


def test_weighted_means_have_the_adopters_mix_and_count_child_years():
    panel, matched = confounded_panel()
    sample = matched_child_years(panel, matched)
    means = municipality_panel(sample, "sdq", weight=WEIGHT).set_index(["municipality", "year"])
    # a comparison municipality m in 2015: 8 of 10 children (by weight) trend, 5 years on from 2010
    assert means.loc[(7, 2015), "sdq"] == pytest.approx(10 + 7 / 2 + 0.8 * 5, abs=1e-12)
    assert means.loc[(7, 2015), "n_child_years"] == CHILDREN  # persons' records, not weights
    assert means.loc[(7, 2015), "weight_sum"] == pytest.approx(2 * 4.0 + 8 * 0.25)
    assert means.loc[(1, 2015), "weight_sum"] == pytest.approx(CHILDREN)  # adopters' children weigh 1
    assert means.loc[(7, 2010), "unit_weight"] == pytest.approx(6 * 10.0)
    plain = municipality_panel(panel, "sdq").set_index(["municipality", "year"])
    assert plain.loc[(7, 2015), "sdq"] == pytest.approx(10 + 7 / 2 + 0.2 * 5, abs=1e-12)  # the confounded mix
    assert (plain["weight_sum"] == plain["n_child_years"]).all()


def test_robust_rows_recover_the_effect_only_with_the_matching_weights(runs):
    matched, unmatched = _robust(runs["with"], "sdq"), _robust(runs["without"], "sdq")
    for estimator in ("twfe", "cs_simple", "cs_dynamic"):
        assert matched[estimator] == pytest.approx(EFFECT, abs=FILE_PRECISION), estimator
        assert unmatched[estimator] > EFFECT + 0.5, estimator  # the adopters' faster trend read as an effect
    # the naive 2x2 stays on all children, unweighted: the same number with or without the matched sample
    assert matched["did_2x2"] == pytest.approx(unmatched["did_2x2"], abs=FILE_PRECISION)
    assert matched["did_2x2"] > EFFECT + 0.5
    nvr = runs["with"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    assert nvr.loc[("sdq", "twfe"), "label"].endswith("matched children, weighted")
    assert "all children, unweighted" in nvr.loc[("sdq", "did_2x2"), "label"]
    assert any(m.startswith("matched sample: 120 children (60 of adopting and 60") for m in runs["messages"])


def test_event_study_pretrend_and_heterogeneity_use_the_matched_means(runs):
    es = runs["with"]["event_study"].query("outcome == 'sdq'").set_index("event_time")["att"]
    assert es.loc[es.index >= 0].to_numpy() == pytest.approx(EFFECT, abs=FILE_PRECISION)
    assert es.loc[es.index < 0].to_numpy() == pytest.approx(0, abs=FILE_PRECISION)  # parallel once weighted
    pre = runs["without"]["event_study"].query("outcome == 'sdq' and event_time < -1")["att"]
    assert (pre < -0.4).all()  # unweighted, the pre-adoption estimates show the diverging trends
    # the noisy outcome: the joint pre-trend test rejects on the confounded means, not on the weighted ones
    pretrend = {key: runs[key]["pretrend"].set_index("outcome").loc["school_absence"] for key in ("with", "without")}
    assert pretrend["with"]["p_value"] > 0.2 and pretrend["without"]["p_value"] < 0.01
    het = runs["with"]["heterogeneity"].query("outcome == 'sdq'").set_index("subgroup")
    assert het["estimate"].to_numpy() == pytest.approx(EFFECT, abs=FILE_PRECISION)
    assert het.loc["male", "n"] == runs["panel"].loc[runs["panel"]["sex"] == 1, "person_id"].nunique()


def test_headline_row_is_copied_from_the_main_rows(runs):
    nvr = runs["with"]["naive_vs_robust"].set_index(["outcome", "estimator"])
    row = nvr.loc[("sdq", "did_imputation")]
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((1.9, 1.7, 2.1))
    assert row["label"] == "Imputation estimator, matched children (headline)"
    assert set(nvr.index.get_level_values("estimator")) == {"did_2x2", "twfe", "cs_simple", "cs_dynamic",
                                                             "did_imputation"}  # fmt: skip


def test_bacon_weights_sum_to_one_and_average_to_the_twfe_row(runs):
    bacon = runs["with"]["bacon"]
    assert set(bacon["outcome"]) == {"sdq", "school_absence"}
    assert set(bacon["family"]) == {"primary", "secondary"}
    for outcome, part in bacon.groupby("outcome"):
        pairs = part.loc[part["comparison"] != "twfe"]
        total = part.loc[part["comparison"] == "twfe"].iloc[0]
        assert pairs["weight"].sum() == pytest.approx(1.0, abs=TOLERANCE), outcome
        assert (pairs["weight"] * pairs["estimate"]).sum() == pytest.approx(total["estimate"], abs=TOLERANCE)
        assert total["weight"] == pytest.approx(1.0, abs=TOLERANCE)
        assert np.isnan(total["treated_cohort"]) and np.isnan(total["control_cohort"])
        assert set(pairs["comparison"]) == {"treated_vs_never", "earlier_vs_later", "later_vs_earlier"}
        # municipality 12 lacks 2013: dropped from the balanced panel, and the file says so
        assert (part["municipalities"] == len(COHORTS) - 1).all() and (part["municipalities_dropped"] == 1).all()
        assert (part["years"] == len(YEARS)).all()
    sdq = bacon.query("outcome == 'sdq'")
    assert sdq["estimate"].to_numpy() == pytest.approx(EFFECT, abs=TOLERANCE)  # every 2x2 of the matched means


def test_bacon_twfe_row_is_the_unweighted_twfe_of_the_balanced_matched_means(runs):
    """Hand-computed: weighted means by np.average, then the two-way demeaned regression on the balanced panel."""
    panel = runs["panel"].merge(runs["matched"][["person_id", "weight"]], on="person_id")
    means = (
        panel.groupby(["municipality", "year"])
        .apply(lambda c: np.average(c["school_absence"], weights=c["weight"]), include_groups=False)
        .rename("y")
        .reset_index()
    )
    means = means.loc[means["municipality"] != DROPPED]
    y = means.pivot(index="municipality", columns="year", values="y").to_numpy()
    first = np.array([COHORTS[m] for m in sorted(means["municipality"].unique())])
    d = ((first[:, None] > 0) & (YEARS[None, :] >= first[:, None])).astype(float)
    d_tilde = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
    expected = float((y * d_tilde).sum() / (d_tilde**2).sum())
    row = runs["with"]["bacon"].query("outcome == 'school_absence' and comparison == 'twfe'").iloc[0]
    assert row["estimate"] == pytest.approx(expected, abs=TOLERANCE)


def test_balanced_municipalities_counts_the_dropped():
    means = pd.DataFrame(
        {"municipality": [1, 1, 2, 3, 3], "year": [2010, 2011, 2010, 2010, 2011], "y": [1.0, 2.0, 3.0, 4.0, None]}
    )
    balanced, dropped = balanced_municipalities(means, "y")
    assert balanced["municipality"].tolist() == [1, 1] and dropped == 2


@pytest.mark.parametrize(
    ("matched", "message"),
    [
        (pd.DataFrame({"person_id": ["a"]}), "weight"),
        (pd.DataFrame({"person_id": ["a", "a"], "weight": [1.0, 1.0]}), "more than once"),
        (pd.DataFrame({"person_id": ["a"], "weight": [-1.0]}), "non-negative"),
        (pd.DataFrame({"person_id": ["zz"], "weight": [1.0]}), "none of its"),
    ],
)
def test_matched_child_years_refuses_bad_matched_files(matched, message):
    panel = pd.DataFrame({"person_id": ["a", "b"], "municipality": [1, 1], "year": [2010, 2010]})
    with pytest.raises(EvaluationError, match=message):
        matched_child_years(panel, matched, source="matched.parquet")


def test_a_missing_matched_file_is_an_error(tmp_path):
    panel, _ = confounded_panel()
    panel_path = tmp_path / "panel.parquet"
    panel.to_parquet(panel_path)
    with pytest.raises(EvaluationError, match="run match_children"):
        run_staggered(panel_path, tmp_path, config(), tmp_path / "out", matched_path=tmp_path / "nope.parquet")


# --- the report's robust-comparison section: the headline row, the Bacon table, figure and text -------------------

M = "\u2212"


@pytest.fixture(scope="module")
def report_inputs(tmp_path_factory):
    from evaluation.report.inputs import load_results
    from report_fixtures import write_later_results
    from test_report_build import write_results

    results = write_later_results(write_results(tmp_path_factory.mktemp("bacon_report") / "results"))
    return results, load_results(results)


def test_bacon_file_is_read_with_its_disclosure_columns(report_inputs):
    _, inputs = report_inputs
    assert inputs.bacon is not None
    assert {"municipalities", "municipalities_dropped", "years"} <= set(inputs.bacon.columns)
    assert inputs.bacon["weight"].dtype == "float64"


@pytest.mark.parametrize(
    ("language", "first", "twfe", "cost"),
    [
        ("da", ["SDQ-score (0-40)", "Indførende mod kommuner uden modellen", "2", "60,0\u00a0%", f"{M}1,42"],
         ["", "TWFE uden vægte (alle sammenligninger)", "4", "100,0\u00a0%", f"{M}0,85"],
         [f"{M}14.167", f"{M}15.000", "5.000", f"{M}8.500"]),
        ("en", ["SDQ score (0-40)", "Adopters vs never-adopting municipalities", "2", "60.0%", f"{M}1.42"],
         ["", "Unweighted TWFE (all comparisons)", "4", "100.0%", f"{M}0.85"],
         [f"{M}14,167", f"{M}15,000", "5,000", f"{M}8,500"]),
    ],
)  # fmt: skip
def test_bacon_table_sums_weights_and_averages_estimates_by_type(report_inputs, language, first, twfe, cost):
    from evaluation.report.effects_parts import WORDS, bacon_table
    from evaluation.report.sentences import read_sentences
    from test_report_build import REPORTS_SOURCE

    _, inputs = report_inputs
    table = bacon_table(inputs.bacon, sentences=read_sentences(REPORTS_SOURCE, language, WORDS), language=language)
    assert len(table) == 8  # the primary outcomes only: 3 types and the TWFE each; school absence is secondary
    assert table.iloc[0].tolist() == first  # (0.25 * -2 + 0.35 * -1) / 0.6 = -1.4167
    assert table.iloc[2, 3] == ("30,0\u00a0%" if language == "da" else "30.0%")  # later vs earlier: forbidden
    assert table.iloc[3].tolist() == twfe
    assert table.iloc[4:, 4].tolist() == cost


def test_bacon_variables_and_the_headline_in_the_robust_variables(report_inputs):
    from evaluation.report.effects_parts import WORDS, bacon_variables, naive_robust_table, staggered_variables
    from evaluation.report.sentences import read_sentences
    from test_report_build import REPORTS_SOURCE

    _, inputs = report_inputs
    words = {language: read_sentences(REPORTS_SOURCE, language, WORDS) for language in ("da", "en")}
    v = bacon_variables(inputs.bacon, sentences=words["da"], language="da")
    assert (v["bacon_sdq_forbidden_weight"], v["bacon_sdq_forbidden_estimate"]) == ("30,0\u00a0%", "0,5")
    assert (v["bacon_sdq_treated_vs_never_weight"], v["bacon_sdq_twfe"]) == ("60,0\u00a0%", f"{M}0,8")
    assert (v["bacon_cost_per_child_twfe"], v["bacon_cost_per_child_forbidden_estimate"]) == (f"{M}8.500", "5.000")
    assert (v["bacon_sdq_municipalities"], v["bacon_sdq_dropped"], v["bacon_sdq_years"]) == ("78", "20", "14")
    assert v["bacon_sdq_later_vs_always_weight"] == "0,0\u00a0%" and v["bacon_sdq_later_vs_always_estimate"] == "–"
    assert v["bacon_placement_rate_twfe"] == "–"  # an outcome without rows still resolves
    assert "SDQ-score (0-40) og Udgift pr. barn (kr.)" in v["bacon_fig_alt"] and '"' not in v["bacon_fig_alt"]
    absent = bacon_variables(None, sentences=words["en"], language="en")
    assert absent["bacon_sdq_forbidden_weight"] == "–" and absent["bacon_sdq_municipalities"] == "–"
    # the headline beside the others: last row of each outcome, and quoted in the text
    headline = pd.DataFrame(
        [("sdq", "did_imputation", -1.375, 0.18, -1.87, -0.82, 0.0001, None, None, "")],
        columns=inputs.naive_vs_robust.columns,
    )
    nvr = pd.concat([inputs.naive_vs_robust, headline], ignore_index=True)
    table = naive_robust_table(nvr, sentences=words["en"], language="en")
    assert table.iloc[4].tolist()[1:3] == ["Imputation estimator, matched children (main analysis)", f"{M}1.38"]
    assert table.iloc[5, 0] == "Cost per child (DKK)"
    values = staggered_variables(nvr, None, None, None, None, sentences=words["en"], language="en")
    assert values["robust_sdq_did_imputation_estimate"] == f"{M}1.4"
    assert values["robust_cost_per_child_did_imputation_estimate"] == "–"


def test_bacon_figure_tells_types_apart_by_marker_and_colour(report_inputs):
    from evaluation.report.effects_parts import WORDS, bacon_labels, bacon_outcomes
    from evaluation.report.figures_results import BACON_SERIES, bacon_figure
    from evaluation.report.sentences import read_sentences
    from test_report_build import REPORTS_SOURCE

    _, inputs = report_inputs
    outcomes = bacon_outcomes(inputs.bacon)
    assert outcomes == ["sdq", "cost_per_child"]
    names = bacon_labels(read_sentences(REPORTS_SOURCE, "en", WORDS))
    figure = bacon_figure(inputs.bacon, outcomes, names, language="en")
    axes = [ax for ax in figure.axes if ax.collections]
    assert len(axes) == 2
    assert all(len(ax.collections) == 3 for ax in axes)  # one scatter per comparison type present
    markers = {m for _, m in BACON_SERIES.values()}
    colours = {c for c, _ in BACON_SERIES.values()}
    assert len(markers) == len(colours) == len(BACON_SERIES)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == [names[k] for k in ("treated_vs_never", "earlier_vs_later", "later_vs_earlier")] + [
        "Unweighted TWFE"
    ]


@pytest.mark.parametrize("language", ["da", "en"])
def test_robust_section_resolves_with_the_bacon_table_and_figure(report_inputs, tmp_path, language):
    """Generate the report's parts from the fixtures and resolve the section's includes and variables."""
    import dataclasses
    import shutil

    from evaluation.report.generate import write_generated
    from evaluation.report.quarto_offline import resolve_includes, resolve_variables
    from evaluation.report.values import read_variables
    from test_report_build import REPORTS_SOURCE

    _, inputs = report_inputs
    inputs = dataclasses.replace(inputs, study={**inputs.study, "language": language})
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    write_generated(inputs, reports, document="final", progress=lambda _m: None)
    part = reports / "_generated" / "text" / "effects-robust.md"
    text = resolve_includes(part.read_text(encoding="utf-8"), part.parent, source=part, root=reports)
    text = resolve_variables(text, read_variables(reports / "_variables.yml"), source=part)
    assert "{{<" not in text
    assert "#tbl-bacon" in text and "#fig-bacon" in text and "#tbl-naive-robust" in text
    assert (reports / "_generated" / "fig-bacon.png").stat().st_size > 0
    forbidden = "30,0\u00a0%" if language == "da" else "30.0%"
    assert forbidden in text  # the forbidden comparisons' weight, from bacon.csv
    assert ("forbudt" if language == "da" else "forbidden") in text
    # without bacon.csv the section says the decomposition has not been made, and shows no table
    bare = dataclasses.replace(inputs, bacon=None)
    write_generated(bare, reports, document="final", progress=lambda _m: None)
    text = (reports / "_generated" / "text" / "effects-robust-bacon.md").read_text(encoding="utf-8")
    assert "{{<" not in text and ("endnu ikke gennemført" if language == "da" else "not yet been carried out") in text


def test_dynamic_average_stops_at_the_last_event_time_enough_adopters_reach():
    from evaluation.steps.staggered.analyses import supported_max_event

    # adopters in 2013 (one), 2015 (two), 2017 (three); data to 2020
    cohorts = {1: 2013, 2: 2015, 3: 2015, 4: 2017, 5: 2017, 6: 2017, 7: 0}
    means = pd.DataFrame(
        [(m, y, g) for m, g in cohorts.items() for y in range(2010, 2021)],
        columns=["municipality", "year", "first_treat"],
    )
    # event time e is reached by cohorts g <= 2020 - e: e = 3 by all six, e = 5 by three, e = 6 by one
    assert supported_max_event(means, 3) == 5
    assert supported_max_event(means, 6) == 3
    assert supported_max_event(means, 7) is None
