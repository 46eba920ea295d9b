"""Small-cell suppression and the Markdown tables of the report."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evaluation.errors import ReportError
from evaluation.report.tables import (
    estimates_table,
    row_accounting_table,
    sample_flow_table,
    suppress_small,
    to_markdown,
)


def test_suppress_small_hides_one_to_min_cell_minus_one() -> None:
    assert suppress_small([0, 1, 4, 5, 6, 12345], 5) == ["0", "<5", "<5", "5", "6", "12.345"]


def test_suppress_small_threshold_is_configurable_and_missing_is_a_dash() -> None:
    assert suppress_small([2, 3, None, math.nan], 3) == ["<3", "3", "–", "–"]
    assert suppress_small([1], 1) == ["1"]


@pytest.mark.parametrize(("values", "min_cell"), [([-1], 5), ([2.5], 5), ([3], 0), ([3], 2.5)])
def test_suppress_small_refuses_bad_input(values: list[float], min_cell: float) -> None:
    with pytest.raises(ReportError):
        suppress_small(values, min_cell)  # type: ignore[arg-type]


def test_sample_flow_table_suppresses_person_counts() -> None:
    flow = pd.DataFrame(
        {"step": ["a", "b"], "description": ["Alle", "Matchet"], "n_treated": [120.0, 4.0], "n_control": [9000.0, 0.0]}
    )
    table = sample_flow_table(flow, 5)
    assert table["Indsatsgruppe"].tolist() == ["120", "<5"]
    assert table["Sammenligningsgruppe"].tolist() == ["9.000", "0"]
    assert table["Trin"].tolist() == ["1", "2"]


def test_sample_flow_steps_are_worded_in_the_reports_language() -> None:
    # the steps write codes; the report words each step from its code, in the report's language
    from evaluation.report.labels import labels

    flow = pd.DataFrame(
        {
            "step": ["population", "matched", "dropped_no_exact_match", "dropped_something_new"],
            "n_treated": [100.0, 50.0, 10.0, 7.0],
            "n_control": [900.0, 40.0, 0.0, 6.0],
        }
    )
    english = sample_flow_table(flow, 5, language="en")["Description"].tolist()
    assert english[:3] == [
        "All children aged 0-17 in the population",
        "Matched children: treated and comparison children used",
        "Treated children without a comparison child in the same exact-matching cell (not matched)",
    ]
    assert english[3] == "dropped_something_new"  # a step without a label is shown as its code
    danish = sample_flow_table(flow, 5, language="da")["Beskrivelse"].tolist()
    assert danish[0] == "Alle børn 0-17 år i befolkningen"
    # every step the pipeline writes has a label in both languages: the cohort's steps, the match, and each reason
    # the matching methods give for leaving a treated child unmatched (MatchResult.n_dropped)
    codes = {"population", "open_case", "baseline", "parent_missing", "parent_income_imputed", "matched"}
    reasons = ("discarded", "no_exact_match", "no_match_within_caliper", "no_control_left", "other")
    codes |= {f"dropped_{reason}" for reason in reasons}
    for language in ("da", "en"):
        assert codes <= set(labels(language)["sample_flow_step"]), language


def test_the_contract_table_has_the_extracts_titles_in_the_reports_language() -> None:
    from evaluation.contract import EXTRACTS
    from evaluation.report.tables import contract_table

    danish = contract_table(language="da")
    english = contract_table(language="en")
    assert danish["Titel"].tolist() == [e.title for e in EXTRACTS.values()]  # the contract's own titles
    assert english.columns.tolist() == ["Extract", "Title", "Columns", "Key"]
    assert english["Title"].tolist()[:2] == ["Population (BEF)", "Parents' socio-economic status"]
    from evaluation.report.labels import labels

    for language in ("da", "en"):  # every extract has a title, and no stray names
        assert set(labels(language)["extract_title"]) == set(EXTRACTS), language


def test_row_accounting_suppresses_few_quarantined_rows_and_checks_sums() -> None:
    accounting = pd.DataFrame(
        {
            "extract": ["population", "outcomes"],
            "file": ["bef.csv", "udfald.csv"],
            "rows_read": [1000.0, 50.0],
            "rows_accepted": [998.0, 50.0],
            "rows_quarantined": [2.0, 0.0],
        }
    )
    table = row_accounting_table(accounting, 5)
    assert table["Udtræk"].tolist() == ["outcomes", "population"]  # sorted
    assert table["Rækker i karantæne"].tolist() == ["0", "<5"]
    broken = accounting.assign(rows_accepted=[990.0, 50.0])
    with pytest.raises(ReportError, match="rows_read 1000 is not rows_accepted 990 \\+ rows_quarantined 2"):
        row_accounting_table(broken, 5)


def test_estimates_table_orders_rows_and_formats_ci() -> None:
    estimates = pd.DataFrame(
        {
            "analysis": ["naive", "main"],
            "outcome": ["sdq", "sdq"],
            "estimator": ["mean_difference", "did"],
            "subgroup": ["all", "all"],
            "estimate": [0.5, -1.234],
            "se": [0.2, 0.3],
            "ci_low": [0.1, -1.822],
            "ci_high": [0.9, -0.646],
            "p_value": [0.0123, 0.00001],
            "n_treated": [100.0, 100.0],
            "n_control": [2.0, 100.0],
        }
    )
    table = estimates_table(estimates, 5)
    assert table["Analyse"].tolist() == ["Imputationsestimator, matchede børn (hovedanalyse)", "Naiv sammenligning"]
    assert table["95 %-KI"].tolist() == ["\u22121,82 til \u22120,65", "0,10 til 0,90"]
    assert table["p-værdi"].tolist() == ["<0,001", "0,012"]
    assert table["N sammenligning"].tolist() == ["100", "<5"]
    assert "Undergruppe" not in table.columns


def test_to_markdown_writes_pipe_table_with_crossref_caption() -> None:
    table = pd.DataFrame({"A": ["x|y"], "B": ["1,5"]})
    text = to_markdown(table, "Min tabel", "tbl-test", align=["left", "right"])
    lines = text.splitlines()
    assert lines[0] == "| A | B |"
    assert lines[1] == "|:----|---:|"  # dashes as wide as the widest cell ("x\\|y"), at least 3
    assert lines[2] == "| x\\|y | 1,5 |"
    assert lines[-1] == ": Min tabel {#tbl-test}"
    with pytest.raises(ReportError, match="must start with 'tbl-'"):
        to_markdown(table, "c", "test")


def test_row_accounting_counts_exact_duplicates_dropped_at_ingestion() -> None:
    accounting = pd.DataFrame(
        {
            "extract": ["population"],
            "file": ["bef.csv"],
            "rows_read": [1000.0],
            "rows_accepted": [990.0],
            "rows_quarantined": [2.0],
            "rows_duplicate_dropped": [8.0],
        }
    )
    assert len(row_accounting_table(accounting, 5)) == 1  # 990 + 2 + 8 = 1000 adds up
    with pytest.raises(ReportError, match="duplicates dropped"):
        row_accounting_table(accounting.assign(rows_duplicate_dropped=[7.0]), 5)
