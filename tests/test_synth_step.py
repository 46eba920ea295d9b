"""Synthetic control step: municipality-year outcomes by hand, and a planted effect recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.fewclusters.synth_step import TABLE_COLUMNS, municipality_outcomes, synth_tables, write_synth

PRICES = {
    "price_year": 2020,
    "items": {
        "network": {"dkk_per_year": 183000},
        "foster": {"dkk_per_year": 366000},
        "institution": {"dkk_per_year": 732000},
        "residential": {"dkk_per_year": 900000},
        "other": {"dkk_per_year": 500000},
        "preventive": {"dkk_per_year": 36600},
    },
}
D = pd.Timestamp


def _extracts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    population = pd.DataFrame(
        {
            "year": [2020] * 5,
            "person_id": ["A", "B", "C", "D", "E"],
            # ages on 1 January 2020: 9, 14, 20 (not a child), 0, 8
            "birth_date": [D("2010-06-01"), D("2005-03-03"), D("2000-01-01"), D("2019-12-31"), D("2012-01-01")],
            "municipality": [1, 1, 1, 1, 2],
        }
    )
    placements = pd.DataFrame(
        {
            "person_id": ["A", "B", "B", "C"],
            "municipality": [1, 1, 1, 1],
            "placement_type": [21, 9, 1, 21],  # foster, institution, network, foster
            "start_date": [D("2020-01-01"), D("2020-01-01"), D("2020-07-01"), D("2020-01-01")],
            "end_date": [D("2020-12-31"), D("2020-06-30"), D("2020-12-31"), D("2020-12-31")],
        }
    )
    preventive = pd.DataFrame(
        {
            "person_id": ["D"],
            "municipality": [1],
            "measure": [2],
            "start_date": [D("2020-01-01")],
            "end_date": [D("2020-12-31")],
        }
    )
    return population, placements, preventive


def test_municipality_outcomes_by_hand():
    notes: list[str] = []
    out = municipality_outcomes(*_extracts(), PRICES, min_cell=5, progress=notes.append).set_index("municipality")
    # 2020 has 366 days. A: 366000; B: 182/366*732000 + 184/366*183000 = 364000 + 92000; C (adult): 366000;
    # D preventive: 36600. Total 1,224,600 over the 3 children A, B, D.
    assert out.loc[1, "children"] == 3
    assert out.loc[1, "spending_per_child"] == pytest.approx(1224600 / 3, rel=1e-12)
    # placed children of child age: A and B (C is 20)
    assert out.loc[1, "placed"] == 2
    assert out.loc[1, "placement_rate"] == pytest.approx(1000 * 2 / 3, rel=1e-12)
    # A all days in foster care (1), B 184 of 366 placement days in network care
    assert out.loc[1, "family_care_share"] == pytest.approx((1 + 184 / 366) / 2, rel=1e-12)
    assert out.loc[2, "children"] == 1
    assert out.loc[2, "spending_per_child"] == 0
    assert out.loc[2, "placement_rate"] == 0
    assert np.isnan(out.loc[2, "family_care_share"])
    assert len(notes) == 1 and "1/2020" in notes[0] and "2/2020" in notes[0]


def _panel() -> tuple[pd.DataFrame, dict[int, float]]:
    """Six donors with random paths; 657 = 0.3 d1 + 0.7 d2 + 5 from 2013; 167 = 0.5 d3 + 0.5 d4 + 2 from 2015."""
    rng = np.random.default_rng(20240505)
    years = np.arange(2005, 2019)
    donors = {m: 10 + rng.normal(0, 1, len(years)).cumsum() for m in (101, 102, 103, 104, 105, 106)}
    herning = 0.3 * donors[101] + 0.7 * donors[102] + np.where(years >= 2013, 5.0, 0.0)
    hvidovre = 0.5 * donors[103] + 0.5 * donors[104] + np.where(years >= 2015, 2.0, 0.0)
    units = {**donors, 657: herning, 167: hvidovre}
    rows = [
        {"municipality": m, "year": int(y), "spending_per_child": v, "placement_rate": 2 * v}
        for m, path in units.items()
        for y, v in zip(years, path, strict=True)
    ]
    return pd.DataFrame(rows), {657: 5.0, 167: 2.0}


def test_planted_jump_recovered():
    panel, jumps = _panel()
    table, average, gaps = synth_tables(
        panel, {657: 2013, 167: 2015, 999: 2015}, outcomes=["spending_per_child", "placement_rate"]
    )
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == 4  # 999 is not in the panel
    for _, row in table.iterrows():
        scale = 2 if row["outcome"] == "placement_rate" else 1
        assert row["att"] == pytest.approx(scale * jumps[row["adopter"]], abs=1e-3)
        assert row["pre_rmspe"] < 1e-3
    herning = table[table["adopter"] == 657]
    # exact pre-period fit: Herning's RMSPE ratio is the largest of the 7 units
    assert herning["p_value"].tolist() == pytest.approx([1 / 7, 1 / 7])
    assert table.loc[table["adopter"] == 167, "p_value"].isna().all()
    avg = average.set_index("outcome")["att_average"]
    assert avg["spending_per_child"] == pytest.approx(3.5, abs=1e-3)
    assert avg["placement_rate"] == pytest.approx(7.0, abs=2e-3)
    assert list(gaps.columns) == ["outcome", "unit", "role", "year", "gap"]
    one = gaps[gaps["outcome"] == "spending_per_child"]
    assert (one["role"] == "treated").sum() == 14 and (one["role"] == "placebo").sum() == 6 * 14
    assert set(one.loc[one["role"] == "placebo", "unit"]) == {101, 102, 103, 104, 105, 106}


def test_unknown_outcome_rejected():
    panel, _ = _panel()
    with pytest.raises(EvaluationError, match="unknown outcome"):
        synth_tables(panel, {657: 2013}, outcomes=["spending"])


def test_inactive_writes_empty_files(tmp_path):
    paths = [tmp_path / "synth" / f"{n}.csv" for n in ("table", "average", "gaps")]
    write_synth(tmp_path, {"synth": {"activate": False}}, *paths)
    table = pd.read_csv(paths[0])
    assert table.empty and list(table.columns) == list(TABLE_COLUMNS)
    assert pd.read_csv(paths[2]).columns.tolist() == ["outcome", "unit", "role", "year", "gap"]


def _synth_fixture(results) -> None:
    """Hand-made results/synth files: Herning and one other adopter, two placebo donors."""
    folder = results / "synth"
    folder.mkdir()
    rows = []
    for outcome, att in (("spending_per_child", -12345.0), ("placement_rate", -2.5), ("family_care_share", 0.125)):
        rows.append((657, outcome, 2013, att, 0.5, 3.0, 6.0, 0.25))
        rows.append((167, outcome, 2015, att / 2, 1.0, 2.0, 2.0, None))
    pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).to_csv(folder / "table.csv", index=False)
    gaps = [
        (outcome, unit, role, year, (1.0 if role == "treated" else 0.2) * (year - 2012))
        for outcome in ("spending_per_child", "placement_rate", "family_care_share")
        for unit, role in ((657, "treated"), (101, "placebo"), (102, "placebo"))
        for year in range(2010, 2016)
    ]
    pd.DataFrame(gaps, columns=["outcome", "unit", "role", "year", "gap"]).to_csv(folder / "gaps.csv", index=False)


@pytest.mark.parametrize(
    ("language", "heading", "cell", "mean"),
    [("da", "Syntetisk kontrolgruppe", "\u221212.345", "\u22129.259"), ("en", "Synthetic control", "\u221212,345",
                                                                        "\u22129,259")],
)  # fmt: skip
def test_report_shows_synth_section(tmp_path, language, heading, cell, mean):
    import shutil

    from evaluation.report import build_report
    from test_report_build import REPORTS_SOURCE, write_results

    results = write_results(tmp_path / "results")
    _synth_fixture(results)
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    written = build_report(results, reports, engine="offline", formats=("html",), language=language)
    text = written["html"].read_text(encoding="utf-8")
    assert heading in text
    table = (reports / "_generated" / "tbl-synth.md").read_text(encoding="utf-8")
    # Herning's ATT, and the mean over the two adopters (-12345 - 6172.5) / 2 = -9258.75
    assert cell in table and mean in table
    assert "fig-synth" in written and "{{<" not in text
