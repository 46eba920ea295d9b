"""Implementation monitoring and factsheet key figures: hand-built extracts with hand-computed figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.steps.implementation import (
    aggregate,
    assessment_records,
    caseload_records,
    conversation_records,
    followup_records,
    implementation_tables,
    indicator_records,
    screening_records,
)
from evaluation.steps.keyfigures import comparison_sets, figure_records, municipality_figures

T = pd.Timestamp


def _ratio(records: pd.DataFrame, indicator: str) -> float:
    rows = records[records["indicator"] == indicator]
    return float(rows["numerator"].sum() / rows["denominator"].sum())


def _events(rows: list[tuple[str, int, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["person_id", "municipality", "date", "event_type"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["notification_id"] = pd.array([None] * len(frame), dtype="string")
    return frame


def test_caseload_is_cases_over_fte_and_turnover_is_leavers_over_average_headcount() -> None:
    months = pd.date_range("2020-01-01", periods=12, freq="MS")
    a = pd.DataFrame({"caseworker_id": "A", "month": months[:6], "fte": 1.0, "active_cases": 20})
    b = pd.DataFrame({"caseworker_id": "B", "month": months, "fte": 0.5, "active_cases": 10})
    workers = pd.concat([a, b], ignore_index=True).assign(municipality=101)
    workers["employed_to"] = np.where(workers["caseworker_id"] == "A", T("2020-06-30"), pd.NaT)
    records = caseload_records(workers)
    # cases: 6*20 + 12*10 = 240; FTE-months: 6*1.0 + 12*0.5 = 12 -> 20 cases per FTE
    assert _ratio(records, "caseload_per_worker") == pytest.approx(20.0)
    # one leaver; average head count (6 + 12) / 12 = 1.5 -> 2/3
    assert _ratio(records, "caseworker_turnover") == pytest.approx(1 / 1.5)


def test_screening_within_24_hours_counts_same_and_next_day_only() -> None:
    notes = pd.DataFrame(
        {
            "notification_id": ["U1", "U2", "U3", "U4"],
            "person_id": ["p1", "p2", "p3", "p4"],
            "date": pd.to_datetime(["2020-03-01", "2020-03-01", "2020-03-01", "2020-03-01"]),
            "municipality": 101,
        }
    )
    events = _events([("p1", 101, "2020-03-01", 1), ("p2", 101, "2020-03-02", 1), ("p3", 101, "2020-03-03", 1)])
    events["notification_id"] = pd.array(["U1", "U2", "U3"], dtype="string")
    # U1 same day, U2 next day: on time; U3 two days late; U4 never screened
    assert _ratio(screening_records(notes, events), "screened_24h") == pytest.approx(0.5)


def test_assessment_deadline_is_four_calendar_months_and_open_ones_near_the_end_are_censored() -> None:
    events = _events(
        [
            ("a", 101, "2020-01-10", 2),
            ("a", 101, "2020-05-10", 3),  # exactly four months: on time
            ("b", 101, "2020-02-01", 2),
            ("b", 101, "2020-06-02", 3),  # one day late
            ("c", 101, "2020-03-01", 2),  # never finished, deadline passed: late
            ("d", 101, "2023-11-01", 2),  # unfinished, deadline after the data end: censored
        ]
    )
    records = assessment_records(events, T("2023-12-31"))
    assert len(records) == 3
    assert _ratio(records, "assessment_4_months") == pytest.approx(1 / 3)


def test_conversation_counts_only_within_the_window_before_the_decision() -> None:
    events = _events(
        [
            ("a", 101, "2020-05-01", 4),
            ("a", 101, "2020-06-01", 5),  # conversation 31 days before: yes
            ("b", 101, "2019-01-01", 4),
            ("b", 101, "2020-06-01", 5),  # conversation 517 days before: no
            ("c", 101, "2020-06-02", 4),
            ("c", 101, "2020-06-01", 5),  # conversation after the decision: no
        ]
    )
    assert _ratio(conversation_records(events, window_days=180), "conversation_before_decision") == pytest.approx(1 / 3)
    assert _ratio(conversation_records(events, window_days=600), "conversation_before_decision") == pytest.approx(2 / 3)


def test_followups_are_per_child_year_with_a_measure() -> None:
    spells = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "municipality": 101,
            "start_date": pd.to_datetime(["2020-01-01", "2020-03-01"]),
            "end_date": pd.to_datetime(["2020-12-31", "2021-02-01"]),
        }
    )
    events = _events([("a", 101, "2020-04-01", 6), ("a", 101, "2020-10-01", 6), ("b", 101, "2020-09-01", 6)])
    records = followup_records(events, spells, T("2021-12-31"))
    in_2020 = records[records["year"] == 2020]
    assert _ratio(in_2020, "followups_per_child") == pytest.approx(3 / 2)
    assert _ratio(records[records["year"] == 2021], "followups_per_child") == 0.0  # b's measure, no follow-up


def test_pooled_figures_are_ratios_of_sums_and_small_cells_are_suppressed() -> None:
    records = pd.DataFrame(
        {
            "indicator": "screened_24h",
            "municipality": [1] * 1 + [2] * 6,
            "year": 2020,
            "numerator": [1.0] + [0.0] * 6,
            "denominator": 1.0,
            "person": [f"p{i}" for i in range(7)],
        }
    )
    by_muni = aggregate(records, ["municipality"], min_cell=5).set_index("municipality")
    assert bool(by_muni.loc[1, "suppressed"]) and pd.isna(by_muni.loc[1, "value"])  # one child
    assert by_muni.loc[2, "value"] == 0.0 and by_muni.loc[2, "n_persons"] == 6
    tables = implementation_tables(records, {1: 2019}, min_cell=5)
    groups = tables["group_year"].set_index("group")
    assert groups.loc["national", "value"] == pytest.approx(1 / 7)  # not the mean of the rates (1 and 0)
    assert bool(groups.loc["treated", "suppressed"])
    municipal = tables["municipality_year"]
    assert not {"numerator", "denominator", "n_persons"} & set(municipal.columns)  # no counts to subtract
    assert municipal.set_index("municipality").loc[1, "adopted"] == 1


def test_missing_extract_is_named() -> None:
    with pytest.raises(EvaluationError, match="sagsbehandlere"):
        indicator_records({}, pd.DataFrame(), first_year=2010, last_year=2020)


def test_key_figures_per_1000_and_comparison_groups() -> None:
    children = pd.DataFrame({"municipality": [101, 751], "year": 2020, "children": [1000, 1000]})
    open_case = [f"c{i}" for i in range(40)] + [f"c{i}" for i in range(1000, 1010)]
    panel = pd.DataFrame(
        {
            "person_id": open_case,
            "municipality": [101] * 40 + [751] * 10,
            "year": 2020,
            "sdq": 10.0,
            "cost_per_child": 1000.0,
        }
    )
    placements = pd.DataFrame(
        {
            "person_id": ["c0", "c1", "c2", "c3", "c4", "c5"],
            "municipality": 101,
            "placement_type": [1, 21, 21, 9, 27, 22],  # network, foster, foster, institution, opholdssted, foster
            "start_date": T("2020-02-01"),
            "end_date": T("2020-08-01"),
        }
    )
    workers = pd.DataFrame(
        columns=["caseworker_id", "municipality", "month", "fte", "active_cases", "employed_to"]
    ).astype({"month": "datetime64[ns]", "employed_to": "datetime64[ns]", "municipality": "int64"})
    records = figure_records(children, panel, placements, workers, first_year=2020, last_year=2020)
    sets = comparison_sets([101, 657], adopters=[657])
    assert sets[101] == ("largest_cities", [751, 461, 851, 561, 730])
    assert sets[657][0] == "non_adopters" and 657 not in sets[657][1]
    table = municipality_figures(records, {101: sets[101]}, min_cell=5).set_index(["level", "figure"])["value"]
    assert table[("municipality", "open_case_per_1000")] == pytest.approx(40.0)
    assert table[("comparison", "open_case_per_1000")] == pytest.approx(10.0)  # Aarhus alone has data
    assert table[("national", "open_case_per_1000")] == pytest.approx(25.0)
    assert table[("municipality", "placed_per_1000")] == pytest.approx(6.0)
    assert table[("municipality", "family_care_share")] == pytest.approx(4 / 6)
    with pytest.raises(EvaluationError, match="no comparison group"):
        comparison_sets([147], adopters=[657])
