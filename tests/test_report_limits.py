"""A study whose estimates are partly undefined renders, and says which analyses could not be made and why.

The results are hand-made in the shape the pipeline writes for one adopting municipality among ten: the
randomization-inference interval is unbounded (too few reassignments), the network-foster share has no main
row, every event time rests on one adopter, HonestDiD wrote no bounds, the Callaway-Sant'Anna standard
error is missing and the Goodman-Bacon decomposition has a single adoption cohort.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluation.report import build_report
from evaluation.report.inputs import load_results
from evaluation.report.limits import WORDS, analysis_limits, limits_markdown
from evaluation.report.sentences import read_sentences
from report_fixtures import write_inference_results, write_later_results, write_result
from test_report_build import ESTIMATES, REPORTS_SOURCE, STUDY, write_results

INF = math.inf
NAN = math.nan
#: outcome, inference, chosen, weight_type, G*, estimate, p_value, ci_low, ci_high, draws: one adopter of ten
ONE_ADOPTER_INFERENCE = [
    ("sdq", "randomization_inference", True, None, 1.0, -1.05, 0.3, -INF, INF, 9),
    ("sdq", "cluster_robust", False, None, 1.0, -1.05, 0.04, -2.0, -0.1, 0),
    ("cost_per_child", "randomization_inference", True, None, 1.0, -41234.5, 0.2, -INF, 5000.0, 9),
    ("cost_per_child", "cluster_robust", False, None, 1.0, -41234.5, 0.01, -70000.0, -12000.0, 0),
]


def one_adopter_results(results: Path) -> Path:
    """Results of a study with Herning as the only adopter among ten municipalities (see the module docstring)."""
    write_results(results)
    write_later_results(results)
    study = {**STUDY, "treated": [{"municipality": 657, "name": "Herning", "adoption_year": 2013}],
             "n_municipalities": 10, "min_treated_municipalities": 3}  # fmt: skip
    (results / "study.json").write_text(json.dumps(study), encoding="utf-8")
    estimates = pd.DataFrame(ESTIMATES, columns=pd.read_csv(results / "estimates.csv").columns)
    main = estimates["analysis"] == "main"
    estimates.loc[main & (estimates["outcome"] == "sdq"), ["ci_low", "ci_high"]] = [-INF, INF]
    estimates.loc[main & (estimates["outcome"] == "cost_per_child"), ["ci_low", "ci_high"]] = [-INF, 5000.0]
    placements = pd.DataFrame(
        [
            ("main", "placement_rate", "did_imputation", "all", -0.04, 0.02, -0.08, 0.01, 0.3, 190, 210),
            ("main", "breakdown_rate", "did_imputation", "all", 1.4, 2.9, -0.5, INF, 0.5, 40, 50),
            ("main", "caseload", "did_imputation", "all", -23.2, 0.6, -34.8, -11.4, 0.1, 1, 9),
        ],
        columns=estimates.columns,
    )  # network_foster_share: not estimated, no row
    pd.concat([estimates, placements], ignore_index=True).pipe(write_result, results / "estimates.csv")
    write_inference_results(results, ONE_ADOPTER_INFERENCE)
    inference = pd.read_csv(results / "estimate" / "inference.csv").assign(n_clusters=10, n_treated_clusters=1)
    inference.pipe(write_result, results / "estimate" / "inference.csv")
    folder = results / "estimate"
    events = pd.read_csv(folder / "event_study_main.csv")
    events = events.assign(few_municipalities=1, ci_low=None, ci_high=None, p_value=None, n_treated_municipalities=1)
    events.pipe(write_result, folder / "event_study_main.csv")
    honest = pd.read_csv(folder / "honest_did.csv")
    honest.iloc[0:0].pipe(write_result, folder / "honest_did.csv")
    robust = pd.read_csv(folder / "naive_vs_robust.csv")
    robust.loc[robust["estimator"].isin(["cs_simple", "cs_dynamic"]), ["se", "ci_low", "ci_high", "p_value"]] = None
    robust.pipe(write_result, folder / "naive_vs_robust.csv")
    synth = results / "synth"
    synth.mkdir()
    sdid = [
        (o, m, 2013 if m == "657" else None, att, 1.0, att - 2.0, att + 2.0, 0.3, 0.95, 3, 11, 9, 1)
        for o, att in (("spending_per_child", -3906.3), ("placement_rate", -7.23))
        for m in ("657", "average")
    ]
    columns = ["outcome", "municipality", "adoption_year", "att", "se", "ci_low", "ci_high", "p_value", "level",
               "pre_years", "post_years", "n_controls", "adopters"]  # fmt: skip
    pd.DataFrame(sdid, columns=columns).pipe(write_result, synth / "sdid.csv")
    bacon = pd.read_csv(folder / "bacon.csv")
    bacon.loc[bacon["comparison"].isin(["treated_vs_never", "twfe"])].pipe(write_result, folder / "bacon.csv")
    return results


@pytest.fixture()
def one_adopter(tmp_path: Path) -> tuple[Path, Path]:
    results = one_adopter_results(tmp_path / "results")
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    return results, reports


def test_the_limits_name_each_analysis_that_could_not_be_made(one_adopter) -> None:
    results, reports = one_adopter
    limits = analysis_limits(load_results(results))
    codes = [limit.code for limit in limits]
    assert codes == [
        "few_treated",
        "unbounded_interval",
        "main_not_estimated",
        "economics_few_treated",  # one adopter: the stratified bootstrap draws Herning every time
        "event_study_intervals",
        "honest_did_few_treated",
        "staggered_no_se",
        "staggered_pretrend",  # school absence: no pre-treatment estimate in the fixture
        "bacon_one_cohort",
    ]
    facts = {limit.code: limit.values for limit in limits}
    # every headline interval is by randomization inference: breakdowns' open end is named with the others
    assert facts["unbounded_interval"]["outcomes"] == ["sdq", "cost_per_child", "breakdown_rate"]
    assert facts["main_not_estimated"]["outcomes"] == ["network_foster_share"]
    text = limits_markdown(limits, read_sentences(reports, "en", WORDS), language="en")
    bounded = "- A bounded confidence interval for SDQ score, cost per child and breakdowns per placed child-year"
    assert f"{bounded}: with 10 municipalities" in text
    assert "HonestDiD): it needs an adoption-year effect that rests on at least 3 adopting municipalities, and the " \
           "analysis has 1." in text  # fmt: skip
    assert "- Intervals of the economic evaluation that include the differences between adopting municipalities: " \
           "its bootstrap draws municipalities among the adopting ones and among the others, and with 1 adopting " \
           "municipality the draws" in text  # fmt: skip
    assert "{" not in text and "}" not in text


def test_every_limit_has_a_sentence_in_both_languages() -> None:
    codes = {"few_treated", "unbounded_interval", "main_not_estimated", "event_study_intervals", "pretrend_main",
             "honest_did_few_treated", "honest_did_few_years", "staggered_not_estimated", "staggered_no_se",
             "staggered_pretrend", "bacon_one_cohort", "heterogeneity", "synth_not_fitted",
             "unbounded_relative", "relative_undefined", "economics_few_treated"}  # fmt: skip
    da, en = read_sentences(REPORTS_SOURCE, "da", WORDS), read_sentences(REPORTS_SOURCE, "en", WORDS)
    assert set(da) == set(en) and codes <= set(en)


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_study_with_undefined_estimates_renders_and_says_why(one_adopter, language) -> None:
    results, reports = one_adopter
    formats = ("html", "pdf") if language == "da" else ("html",)
    written = build_report(
        results, reports, engine="offline", language=language, formats=formats, progress=lambda _m: None
    )
    text = " ".join(written["html"].read_text(encoding="utf-8").split())
    minus_inf, inf = "\u2212\u221e", "\u221e"
    if language == "en":
        assert "Analyses that could not be made, and why." in text
        assert "Why this report leads with methods for few adopting municipalities.</strong> The analysis has one " \
               "adopting municipality: Herning (2013)." in text  # fmt: skip
        assert "with 1 adopting municipality they are not reliable" in text
        assert (
            "By synthetic difference-in-differences, the effects in Herning from adoption on are: spending per child "
            "aged 0-17 \u22123,906 (95% CI: \u22123,908 to \u22123,904; p = 0.300) and children placed per 1,000 "
            "children \u22127.2 (95% CI: \u22129.2 to \u22125.2; p = 0.300)."
        ) in text
        assert "an open case in the one municipality that adopted the model with matched children" in text
        assert f"the estimate is \u22121.5 points (95% CI: {minus_inf} to {inf})" in text
        assert f"(95% CI: DKK {minus_inf} to 5,000)" in text
        assert "The main analysis of share of new placements in network or foster care: the outcome" in text
        # the opening on few adopters comes before the key findings
        assert text.index("Why this report leads") < text.index("Key findings") < text.index("could not be made")
    else:
        assert "Analyser, der ikke kunne gennemføres, og hvorfor." in text
        assert "Analysen har én kommune, der har indført modellen: Herning (2013)." in text
        assert f"95 %-KI: {minus_inf} til {inf}" in text
        assert written["pdf"].read_bytes().startswith(b"%PDF")
    assert "{{<" not in text and not re.search(r"\b(nan|inf)\b", text, flags=re.IGNORECASE)


def test_an_open_interval_of_a_relative_change_is_named_without_randomization_inference(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results")
    write_inference_results(results)  # the headline outcome (SDQ) by the wild cluster bootstrap
    write_later_results(results)
    estimates = pd.read_csv(results / "estimates.csv")
    row = ("main", "breakdown_rate", "did_imputation", "all", 1.4, 2.9, -0.5, INF, 0.5, 129, 271)
    estimates = pd.concat([estimates, pd.DataFrame([row], columns=estimates.columns)])
    estimates.pipe(write_result, results / "estimates.csv")
    limits = {limit.code: limit.values for limit in analysis_limits(load_results(results))}
    assert "few_treated" not in limits and "unbounded_interval" not in limits
    assert limits["unbounded_relative"]["outcomes"] == ["breakdown_rate"]
    # the fixture has HonestDiD bounds for SDQ only (the cost's adoption-year effect missing, say)
    assert limits["honest_did_few_years"]["outcomes"] == ["cost_per_child"]


def test_a_relative_change_without_a_point_estimate_is_named_as_such(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results")
    write_inference_results(results)
    write_later_results(results)
    estimates = pd.read_csv(results / "estimates.csv")
    # the counterfactual level estimated at or below zero: no estimate, the interval [f(ci_low), inf)
    row = ("main", "breakdown_rate", "did_imputation", "all", NAN, NAN, -0.5, INF, 0.5, 129, 271)
    estimates = pd.concat([estimates, pd.DataFrame([row], columns=estimates.columns)])
    estimates.pipe(write_result, results / "estimates.csv")
    limits = analysis_limits(load_results(results))
    facts = {limit.code: limit.values for limit in limits}
    assert facts["relative_undefined"]["outcomes"] == ["breakdown_rate"]
    assert "unbounded_relative" not in facts and "breakdown_rate" not in facts["main_not_estimated"]["outcomes"]
    text = limits_markdown(limits, read_sentences(REPORTS_SOURCE, "en", WORDS), language="en")
    assert "- A point estimate of breakdowns per placed child-year: the effect is a change relative" in text
    # under randomization inference too: the open end is the level's, not the inference's
    results = one_adopter_results(tmp_path / "one_adopter")
    estimates = pd.read_csv(results / "estimates.csv")
    breakdowns = (estimates["analysis"] == "main") & (estimates["outcome"] == "breakdown_rate")
    estimates.loc[breakdowns, ["estimate", "se"]] = NAN
    estimates.pipe(write_result, results / "estimates.csv")
    facts = {limit.code: limit.values for limit in analysis_limits(load_results(results))}
    assert facts["relative_undefined"]["outcomes"] == ["breakdown_rate"]
    assert facts["unbounded_interval"]["outcomes"] == ["sdq", "cost_per_child"]


def test_a_study_where_everything_could_be_made_has_no_such_list(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results")
    estimates = pd.read_csv(results / "estimates.csv")
    rows = [("main", o, "did_imputation", "all", -0.1, 0.05, -0.2, 0.0, 0.2, 400, 500)
            for o in ("placement_rate", "network_foster_share", "breakdown_rate", "caseload")]  # fmt: skip
    pd.concat([estimates, pd.DataFrame(rows, columns=estimates.columns)]).pipe(write_result, results / "estimates.csv")
    assert analysis_limits(load_results(results)) == []
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    written = build_report(results, reports, engine="offline", formats=("html",), progress=lambda _m: None)
    text = written["html"].read_text(encoding="utf-8")
    assert "ikke kunne gennemføres" not in text and "Hvorfor rapporten bygger" not in text


@pytest.mark.parametrize(
    "name",
    ["estimate/inference.csv", "estimate/event_study_main.csv", "economics/ceac.csv", "power/mde.csv",
     "estimate/honest_did.csv", "estimate/heterogeneity.csv"],
)  # fmt: skip
def test_a_step_that_estimated_nothing_does_not_stop_the_report(tmp_path: Path, name: str) -> None:
    """A results file with a header only (every outcome failed) renders its part as missing and names it."""
    results = write_results(tmp_path / "results")
    write_later_results(results)
    write_inference_results(results)
    path = results / name
    pd.read_csv(path).iloc[0:0].to_csv(path, index=False)
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    written = build_report(results, reports, engine="offline", formats=("html",), language="en", progress=print)
    text = " ".join(written["html"].read_text(encoding="utf-8").split())
    if name in ("estimate/inference.csv", "estimate/event_study_main.csv", "power/mde.csv"):
        assert "no outcome could be estimated with these data, so the step wrote no result." in text
