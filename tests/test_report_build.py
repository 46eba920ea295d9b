"""Tests of the report build: results fixtures -> tables, figures, variables, offline HTML and PDF."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaluation.errors import ReportError
from evaluation.report import build_report
from evaluation.report.inputs import load_results
from evaluation.report.sentences import read_sentences
from evaluation.report.values import WORDS, collect_variables
from report_fixtures import write_result

REPORTS_SOURCE = Path(__file__).resolve().parents[1] / "reports"

STUDY = {
    "title": "Evaluering af Herning-modellen",
    "subtitle": "Delrapport",
    "language": "da",
    "publisher": "Evalueringsprojektet",
    "project_number": "P-0000",
    "year_published": 2025,
    "scale": "tiny",
    "source": "synthetic",
    "seed": 20130101,
    "first_year": 2010,
    "last_year": 2023,
    "cutoff_date": "2022-12-31",
    "treated": [
        {"municipality": 167, "name": "Hvidovre", "adoption_year": 2015},
        {"municipality": 657, "name": "Herning", "adoption_year": 2013},
        {"municipality": 510, "name": "Haderslev", "adoption_year": 2015},
    ],
    "n_municipalities": 98,
    "config_sha256": "0123456789abcdef" * 4,
    "package_version": "0.1.0",
    "min_cell": 5,
    "min_treated_municipalities": 3,
}

ESTIMATES = [
    # analysis, outcome, estimator, subgroup, estimate, se, ci_low, ci_high, p_value, n_treated, n_control
    ("main", "sdq", "did_twfe", "all", -1.47, 0.30, -2.06, -0.88, 0.0000012, 1843, 1843),
    ("main", "cost_per_child", "did_twfe", "all", -41234.5, 15000.0, -70634.5, -11834.5, 0.006, 1843, 1843),
    ("main", "school_absence", "did_twfe", "all", -0.85, 0.41, -1.65, -0.05, 0.038, 1843, 1843),
    ("unmatched_did", "sdq", "did_twfe", "all", -0.91, 0.28, -1.46, -0.36, 0.0012, 1843, 20511),
    ("unmatched_did", "cost_per_child", "did_twfe", "all", -15020.0, 14000.0, -42460.0, 12420.0, 0.28, 1843, 20511),
    ("naive", "sdq", "difference_in_means", "all", 0.62, 0.25, 0.13, 1.11, 0.013, 1843, 20511),
    ("naive", "cost_per_child", "difference_in_means", "all", 85000.0, 20000.0, 45800.0, 124200.0, 0.00002, 1843, 3),
]


def write_results(results: Path) -> Path:
    """Write a small, realistic set of results files (hand-made, not from the pipeline)."""
    (results / "ingest").mkdir(parents=True)
    (results / "cohort").mkdir()
    (results / "compare").mkdir()
    (results / "estimate").mkdir()
    (results / "study.json").write_text(json.dumps(STUDY), encoding="utf-8")
    pd.DataFrame(
        {
            "extract": ["population", "placements", "outcomes"],
            "file": ["bef.parquet", "anbringelser.parquet", "udfald.parquet"],
            "rows_read": [120345, 8123, 45000],
            "rows_accepted": [120345, 8120, 44000],
            "rows_quarantined": [0, 3, 1000],
            "rows_duplicate_dropped": [0, 0, 0],
        }
    ).pipe(write_result, results / "ingest" / "row_accounting.csv")
    pd.DataFrame(
        {
            "step": ["all_children", "open_case", "covariates", "matched"],
            "n_treated": [25000, 2100, 1900, 1843],
            "n_control": [1100000, 21000, 20511, 1843],
        }
    ).pipe(write_result, results / "cohort" / "sample_flow.csv")
    pd.DataFrame(
        {
            "covariate": ["sex", "age_at_entry", "parent_basic_education", "prior_notifications"],
            "smd_before": [0.02, 0.15, 0.31, -0.22],
            "smd_after": [0.0, 0.03, 0.041, -0.02],
            "var_ratio_before": [1.0, 1.1, 1.3, 1.4],
            "var_ratio_after": [1.0, 1.02, 1.05, 0.98],
        }
    ).pipe(write_result, results / "compare" / "balance.csv")
    columns = ["analysis", "outcome", "estimator", "subgroup", "estimate", "se", "ci_low", "ci_high", "p_value"]
    pd.DataFrame(ESTIMATES, columns=[*columns, "n_treated", "n_control"]).pipe(write_result, results / "estimates.csv")
    rows = []
    for outcome, base in (("sdq", 14.0), ("cost_per_child", 300000.0), ("school_absence", 8.0)):
        for year in range(2010, 2024):
            for g, (group, shift) in enumerate((("treated", 1.0), ("comparison_matched", 0.8), ("comparison_all", 0))):
                n = 3 if (group == "treated" and year == 2010 and outcome == "sdq") else 400 + 10 * g
                rows.append((outcome, year, group, base * (1 + 0.01 * (year - 2010)) + shift, n))
    pd.DataFrame(rows, columns=["outcome", "year", "group", "mean", "n"]).pipe(
        write_result, results / "estimate" / "trends.csv"
    )
    return results


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path]:
    results = write_results(tmp_path / "results")
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    return results, reports


def test_missing_results_file_names_file_and_step(project: tuple[Path, Path]) -> None:
    results, reports = project
    (results / "estimates.csv").unlink()
    with pytest.raises(ReportError, match=r"estimates\.csv is missing: run the estimate_effects step first"):
        build_report(results, reports, engine="offline", progress=lambda _m: None)


def test_non_numeric_value_names_row_and_column(project: tuple[Path, Path]) -> None:
    results, reports = project
    frame = pd.read_csv(results / "estimates.csv")
    frame["se"] = frame["se"].astype(object)
    frame.loc[2, "se"] = "abc"
    frame.pipe(write_result, results / "estimates.csv")
    with pytest.raises(ReportError, match=r"row 4, column se: 'abc'"):
        load_results(results)


@pytest.mark.parametrize(("option", "value"), [("engine", "latex"), ("formats", ("docx",))])
def test_unknown_option_is_refused(project: tuple[Path, Path], option: str, value: object) -> None:
    results, reports = project
    with pytest.raises(ReportError, match="unknown"):
        build_report(results, reports, progress=lambda _m: None, **{option: value})


def test_quarto_engine_without_quarto_is_an_error(project: tuple[Path, Path], monkeypatch) -> None:
    results, reports = project
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(ReportError, match="Quarto CLI is not on PATH"):
        build_report(results, reports, engine="quarto", formats=("html",), progress=lambda _m: None)


def test_variables_hold_hand_formatted_numbers(tmp_path: Path) -> None:
    words = read_sentences(REPORTS_SOURCE, "da", WORDS)
    values = collect_variables(load_results(write_results(tmp_path / "results")), sentences=words)
    # -1.47 with two decimals, and the size in running text with one decimal
    assert values["main_sdq_estimate"] == "\u22121,47"
    assert values["main_sdq_abs"] == "1,5"
    assert values["main_sdq_direction"] == "faldt"
    assert (values["main_sdq_ci_low_text"], values["main_sdq_ci_high_text"]) == ("\u22122,1", "\u22120,9")
    assert values["main_sdq_significance"].startswith("statistisk signifikant")
    # cost: whole kroner with a thousands point
    assert values["main_cost_per_child_abs"] == "41.234"
    # naive 0.62 minus main -1.47 = +2.09 -> "+2,1"; 85000 - (-41234.5) = 126234.5 -> 126.234 (half to even)
    assert values["naive_sdq_gap"] == "+2,1"
    assert values["naive_cost_per_child_gap_abs"] == "126.234"
    # unmatched cost CI spans zero
    assert values["unmatched_did_cost_per_child_significance"].startswith("ikke")
    # p-values: 0.0000012 is below 0.001, 0.006 is shown with three decimals
    assert values["main_sdq_p_text"] == "p < 0,001"
    assert values["main_cost_per_child_p_text"] == "p = 0,006"
    # n_control of 3 is suppressed; rows quarantined total 1003 is not
    assert values["naive_cost_per_child_n_control"] == "<5"
    assert values["rows_quarantined_total"] == "1.003"
    assert values["treated_list"] == "Herning (2013), Haderslev (2015) og Hvidovre (2015)"
    assert values["n_comparison_municipalities"] == "95"
    assert values["data_cutoff"] == "31. december 2022"
    assert values["first_year"] == "2010"  # a year, not "2.010"


def test_duplicate_estimate_rows_are_refused(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results")
    frame = pd.read_csv(results / "estimates.csv")
    pd.concat([frame, frame.iloc[[0]]]).pipe(write_result, results / "estimates.csv")
    with pytest.raises(ReportError, match="more than one row for analysis 'main', outcome 'sdq'"):
        collect_variables(load_results(results), sentences=read_sentences(REPORTS_SOURCE, "da", WORDS))


def test_offline_render_writes_html_and_pdf(project: tuple[Path, Path], tmp_path: Path) -> None:
    results, reports = project
    messages: list[str] = []
    written = build_report(results, reports, engine="offline", progress=messages.append)

    html, pdf = written["html"], written["pdf"]
    assert html == reports / "_output" / "interim.html"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = html.read_text(encoding="utf-8")
    assert "{{<" not in text
    assert "\u22121,47" in text  # the main SDQ estimate, formatted in Danish
    assert "estimatet er \u22121,5 point (95 %-KI: \u22122,1 til \u22120,9)" in text.replace("\n", " ")
    assert "Tabel 3: Estimerede effekter" in text and "Figur 3" in text  # implementation absent
    assert "@tbl-" not in text and "@fig-" not in text
    assert "data:image/png;base64," in text  # figures embedded
    assert "ISBN: (tildeles ved udgivelse)" in text
    assert "Analysen er endnu ikke gennemført i denne version af rapporten." in text
    typ = (reports / "_generated" / "interim.typ").read_text(encoding="utf-8")
    assert "#callout(" in typ and "{{<" not in typ
    variables = yaml.safe_load((reports / "_variables.yml").read_text(encoding="utf-8"))
    assert variables["main_sdq_estimate"] == "\u22121,47"
    assert any("left out of fig-trends" in m for m in messages)  # the n=3 yearly mean

    # a rerun elsewhere gives byte-identical HTML, PDF and figures
    again = tmp_path / "again"
    shutil.copytree(REPORTS_SOURCE, again, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    second = build_report(results, again, engine="offline", progress=lambda _m: None)
    for key in ("html", "pdf", "fig-trends", "fig-estimates", "fig-sample-flow", "tbl-main", "variables"):
        assert second[key].read_bytes() == written[key].read_bytes(), key
