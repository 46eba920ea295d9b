"""Tests of the study cohort: open-case rule, ages, treatment timing, baseline, cut-off, flow.

The extracts are built by hand (ingested form: readable field names) and every
expected number below is worked out from them in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ConfigError, ExtractError, ExtractValidationError
from evaluation.io import ExtractFiles, write_table
from evaluation.steps import cohort
from evaluation.steps.cohort.keys import among
from evaluation.steps.cohort.timing import apply_cutoff

NA = None


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ms]")


def make_extracts() -> dict[str, pd.DataFrame]:
    """Five children in four municipalities, 2011-2015.

    A: Herning (657, adopts 2013), born 2005-06-15, placement 2012-11-01..2014-02-01 (foster, 21).
    B: København (101, never), born 2000-01-01, notifications 2013-05-05 and 2013-08-01.
    C: Hvidovre (167, adopts 2015), born 2010-03-03, ongoing preventive spell from 2014-03-01, no parents.
    D: Aarhus (751, never), born 1996-01-02, no case, in the population 2011-2013.
    E: København (101), born 1993-07-01, 17 in 2011, a 2012 row at age 18 and a notification in 2012.
    """
    people = {
        "A": ("2005-06-15", 657, "MA", "FA", 1, 1, range(2011, 2016)),
        "B": ("2000-01-01", 101, "MB", NA, 2, 2, range(2011, 2016)),
        "C": ("2010-03-03", 167, NA, NA, 1, 3, range(2011, 2016)),
        "D": ("1996-01-02", 751, "MD", NA, 2, 1, range(2011, 2014)),
        "E": ("1993-07-01", 101, "ME", NA, 1, 1, range(2011, 2013)),
    }
    rows = []
    for pid, (born, kom, mother, father, sex, origin, years) in people.items():
        for year in years:
            rows.append((year, pid, sex, born, kom, mother, father, f"fam{pid}", origin))
    befolkning = pd.DataFrame(
        rows,
        columns=[
            "year",
            "person_id",
            "sex",
            "birth_date",
            "municipality",
            "mother_id",
            "father_id",
            "family_id",
            "origin",
        ],
    )
    befolkning["birth_date"] = _dates(befolkning["birth_date"])
    for col in ("person_id", "mother_id", "father_id", "family_id"):
        befolkning[col] = befolkning[col].astype("str").where(befolkning[col].notna(), None).astype("string")
    foraeldre = pd.DataFrame(
        {
            "year": [2012, 2012, 2013, 2011],
            "person_id": ["MA", "FA", "MB", "MD"],
            "education_level": [10, 30, 50, 10],
            "income": [200_000.0, 400_000.0, 500_000.0, 100_000.0],
            "socio_status": [133, 131, 131, 210],
        }
    )
    underretninger = pd.DataFrame(
        {
            "notification_id": ["n1", "n2", "n3"],
            "person_id": ["B", "B", "E"],
            "date": _dates(["2013-05-05", "2013-08-01", "2012-03-01"]),
            "municipality": [101, 101, 101],
            "notifier": [1, 4, 1],
            "reason": [1, 2, 1],
        }
    )
    forebyggende = pd.DataFrame(
        {
            "spell_id": ["p1"],
            "person_id": ["C"],
            "municipality": [167],
            "measure": [3],
            "start_date": _dates(["2014-03-01"]),
            "end_date": _dates([None]),
        }
    )
    anbringelser = pd.DataFrame(
        {
            "spell_id": ["a1"],
            "person_id": ["A"],
            "municipality": [657],
            "placement_type": [21],
            "legal_basis": [101],
            "start_date": _dates(["2012-11-01"]),
            "end_date": _dates(["2014-02-01"]),
            "breakdown": [0],
            "exit_destination": pd.array([1], dtype="Int64"),
        }
    )
    haendelser = pd.DataFrame(
        {
            "person_id": ["A", "A"],
            "municipality": [657, 657],
            "event_date": _dates(["2012-11-01", "2014-02-01"]),
            "event": [0, 5],
            "placement_type": [21, 21],
        }
    )
    udfald = pd.DataFrame(
        {
            "person_id": ["A", "A", "A", "B"],
            "year": [2011, 2013, 2013, 2013],
            "measure": ["SDQ", "SDQ", "FRAVAER", "SDQ"],
            "value": [30.0, 12.0, 5.5, 20.0],
        }
    )
    return {
        "befolkning": befolkning,
        "foraeldre": foraeldre,
        "underretninger": underretninger,
        "forebyggende": forebyggende,
        "anbringelser_forloeb": anbringelser,
        "anbringelser_haendelser": haendelser,
        "udfald": udfald,
    }


def make_config(cutoff=None) -> dict:
    return {
        "treatment": {"adoptions": {657: 2013, "167": 2015}},
        "cohort": {"min_age": 0, "max_age": 17},
        "report": {"cutoff_date": cutoff},
        "prices": {
            "price_year": 2019,
            "items": {
                "institution": {"dkk_per_year": 1_160_000},
                "residential": {"dkk_per_year": 1_160_000},
                "foster": {"dkk_per_year": 470_000},
                "network": {"dkk_per_year": 250_000},
                "other": {"dkk_per_year": 300_000},
                "preventive": {"dkk_per_year": 90_000},
            },
        },
    }


# ----------------------------------------------------------------------------- pure helpers


def test_spell_years_counts_every_overlapped_calendar_year():
    spells = pd.DataFrame(
        {
            "person_id": ["x", "y"],
            "start_date": _dates(["2012-11-01", "2015-12-31"]),
            "end_date": _dates(["2014-02-01", None]),
        }
    )
    years = cohort.spell_years(spells, pd.Timestamp("2017-12-31"))
    assert sorted(years.loc[years["person_id"] == "x", "year"]) == [2012, 2013, 2014]
    # an ongoing spell runs to the end of the data
    assert sorted(years.loc[years["person_id"] == "y", "year"]) == [2015, 2016, 2017]


def test_spell_ending_before_start_is_an_error():
    spells = pd.DataFrame(
        {
            "spell_id": ["s9"],
            "person_id": ["x"],
            "start_date": _dates(["2014-01-01"]),
            "end_date": _dates(["2013-01-01"]),
        }
    )
    with pytest.raises(ExtractValidationError, match="s9"):
        cohort.spell_years(spells, pd.Timestamp("2017-12-31"))


def test_age_on_january_first():
    born = _dates(["2005-06-15", "2000-01-01", "2000-01-02", "2010-12-31"])
    ages = cohort.age_on_january_first(born, pd.Series([2012, 2013, 2013, 2011]))
    assert ages.tolist() == [6, 13, 12, 0]


def test_adoption_years_accepts_str_and_int_keys_and_rejects_unknown_codes():
    assert cohort.adoption_years({"treatment": {"adoptions": {657: 2013, "167": "2015"}}}) == {657: 2013, 167: 2015}
    with pytest.raises(ConfigError, match="999"):
        cohort.adoption_years({"treatment": {"adoptions": {999: 2013}}})
    with pytest.raises(ConfigError, match="abc"):
        cohort.adoption_years({"treatment": {"adoptions": {"abc": 2013}}})


def test_first_treat_is_zero_for_never_adopters():
    out = cohort.first_treat(pd.Series([657, 101, 167]), {657: 2013, 167: 2015})
    assert out.tolist() == [2013, 0, 2015]


# ----------------------------------------------------------------------------- the whole cohort


@pytest.fixture(scope="module")
def result():
    return cohort.build_cohort(make_extracts(), make_config(), progress=lambda _m: None)


def _years(panel, pid):
    return panel.loc[panel["person_id"] == pid, "year"].tolist()


def test_open_case_rule_year_by_year(result):
    panel = result.panel
    assert _years(panel, "A") == [2012, 2013, 2014]  # placement 2012-11-01..2014-02-01
    assert _years(panel, "B") == [2013]  # two notifications in 2013
    assert _years(panel, "C") == [2014, 2015]  # ongoing preventive spell from 2014-03-01
    assert set(panel["person_id"]) == {"A", "B", "C"}  # D has no case; E's case is at age 18
    assert panel[["person_id", "year"]].equals(panel[["person_id", "year"]].sort_values(["person_id", "year"]))


def test_treatment_timing(result):
    p = result.panel.set_index(["person_id", "year"])
    assert p.loc[("A", 2012), "first_treat"] == 2013
    assert p.loc[("A", 2012), ["treated_unit", "post", "treated"]].tolist() == [1, 0, 0]
    assert p.loc[("A", 2013), ["treated_unit", "post", "treated"]].tolist() == [1, 1, 1]
    assert p.loc[("C", 2014), ["first_treat", "post", "treated"]].tolist() == [2015, 0, 0]
    assert p.loc[("C", 2015), ["post", "treated"]].tolist() == [1, 1]
    assert p.loc[("B", 2013), ["first_treat", "treated_unit", "post", "treated"]].tolist() == [0, 0, 0, 0]


def test_ages_and_baseline_covariates(result):
    p = result.panel.set_index(["person_id", "year"])
    assert p.loc[("A", 2014), "age"] == 8
    # A enters in 2012 aged 6; mother basic schooling (10); income mean(200, 400) = 300 (DKK 1,000)
    a = p.loc[("A", 2014)]
    assert (a["entry_year"], a["age_at_entry"], a["parent_basic_education"], a["parent_missing"]) == (2012, 6, 1, 0)
    assert a["parent_income"] == pytest.approx(300.0)
    assert a["parent_income_missing"] == 0
    assert a["prior_notifications"] == 0
    b = p.loc[("B", 2013)]
    assert (b["age_at_entry"], b["parent_basic_education"], b["prior_notifications"]) == (13, 0, 2)
    assert b["parent_income"] == pytest.approx(500.0)
    # C has no parents: indicator set, income imputed with the cohort mean of (300, 500)
    c = p.loc[("C", 2015)]
    assert (c["entry_year"], c["age_at_entry"], c["parent_missing"], c["parent_income_missing"]) == (2014, 3, 1, 1)
    assert c["parent_income"] == pytest.approx(400.0)
    assert c["parent_basic_education"] == 0


def test_outcomes(result):
    p = result.panel.set_index(["person_id", "year"])
    assert p.loc[("A", 2013), "sdq"] == 12.0
    assert p.loc[("A", 2013), "school_absence"] == 5.5
    assert pd.isna(p.loc[("A", 2012), "sdq"])
    assert p.loc[("B", 2013), "sdq"] == 20.0
    # A is in foster care all of 2013: a full year at DKK 470,000; B has no spell
    assert p.loc[("A", 2013), "cost_per_child"] == pytest.approx(470_000.0)
    assert p.loc[("B", 2013), "cost_per_child"] == 0.0
    # 2012-11-01..2012-12-31 is 61 days of the leap year 2012
    assert p.loc[("A", 2012), "cost_per_child"] == pytest.approx(470_000 * 61 / 366)
    # C's ongoing preventive spell from 2014-03-01: 306 days of 2014, then all of 2015 (end of the data)
    assert p.loc[("C", 2014), "cost_per_child"] == pytest.approx(90_000 * 306 / 365)
    assert p.loc[("C", 2015), "cost_per_child"] == pytest.approx(90_000)


def test_sample_flow_counts_children(result):
    flow = result.flow.set_index("step")
    assert list(result.flow.columns) == ["step", "n_treated", "n_control"]  # codes, not words
    assert flow.loc["population", ["n_treated", "n_control"]].tolist() == [2, 3]  # A, C | B, D, E
    assert flow.loc["open_case", ["n_treated", "n_control"]].tolist() == [2, 1]  # A, C | B
    assert flow.loc["baseline", ["n_treated", "n_control"]].tolist() == [2, 1]
    assert flow.loc["parent_missing", ["n_treated", "n_control"]].tolist() == [1, 0]  # C
    assert flow.loc["parent_income_imputed", ["n_treated", "n_control"]].tolist() == [1, 0]


def test_cutoff_truncates_spells_and_drops_later_records():
    res = cohort.build_cohort(make_extracts(), make_config(cutoff="2013-12-31"), progress=lambda _m: None)
    assert _years(res.panel, "A") == [2012, 2013]  # placement truncated at the cut-off
    assert "C" not in set(res.panel["person_id"])  # C's spell starts after the cut-off
    # befolkning rows after 2013: A, B, C two each
    assert res.cutoff_removed["befolkning"] == 6
    assert res.cutoff_removed["forebyggende"] == 1
    assert res.cutoff_removed["anbringelser_forloeb_truncated"] == 1
    assert res.cutoff_removed["underretninger"] == 0
    assert res.panel["year"].max() == 2013


def test_bad_cutoff_and_unknown_municipality_are_config_errors():
    with pytest.raises(ConfigError, match="cutoff_date"):
        cohort.build_cohort(make_extracts(), make_config(cutoff="2013-13-45"), progress=lambda _m: None)
    cfg = make_config()
    cfg["treatment"]["adoptions"][12345] = 2014
    with pytest.raises(ConfigError, match="12345"):
        cohort.build_cohort(make_extracts(), cfg, progress=lambda _m: None)


def test_duplicated_child_year_is_an_error():
    ex = make_extracts()
    ex["befolkning"] = pd.concat([ex["befolkning"], ex["befolkning"].iloc[[0]]], ignore_index=True)
    with pytest.raises(ExtractValidationError, match="duplicated"):
        cohort.build_cohort(ex, make_config(), progress=lambda _m: None)


def test_build_panel_writes_identical_bytes(tmp_path):
    interim = tmp_path / "interim"
    interim.mkdir()
    for name, frame in make_extracts().items():
        frame.to_parquet(interim / f"{name}.parquet", index=False)
    for run in ("one", "two"):
        cohort.build_panel(
            interim,
            make_config(),
            tmp_path / run / "panel.parquet",
            tmp_path / run / "flow.csv",
            progress=lambda _m: None,
        )
    assert (tmp_path / "one" / "panel.parquet").read_bytes() == (tmp_path / "two" / "panel.parquet").read_bytes()
    panel = pd.read_parquet(tmp_path / "one" / "panel.parquet")
    assert list(panel.columns) == cohort.PANEL_COLUMNS
    flow = pd.read_csv(tmp_path / "one" / "flow.csv")
    assert flow["step"].tolist()[:3] == ["population", "open_case", "baseline"]


def test_placement_outcomes_of_the_panel(result):
    p = result.panel.set_index(["person_id", "year"])
    # A's episode starts in 2012 in foster care (21) and runs to 2014 without a breakdown
    assert p.loc[("A", 2012), "placement_rate"] == 1.0 and p.loc[("A", 2012), "network_foster_share"] == 1.0
    assert p.loc[("A", 2013), "placement_rate"] == 0.0 and np.isnan(p.loc[("A", 2013), "network_foster_share"])
    assert (p.loc["A", "breakdown_rate"] == 0.0).all()  # placed in 2012-2014, no breakdown
    assert np.isnan(p.loc[("B", 2013), "breakdown_rate"])  # never placed


def test_placement_outcome_rules():
    from evaluation.steps.cohort.placements import caseload_per_fte, placement_outcomes

    keys = pd.DataFrame({"person_id": ["X", "X", "X", "Y"], "year": [2015, 2016, 2017, 2016]})
    spells = pd.DataFrame(
        {
            "person_id": ["X", "X", "Y"],
            "start_date": _dates(["2015-03-01", "2016-06-01", "2016-02-01"]),
            "end_date": _dates(["2016-06-01", None, "2017-12-31"]),
            "breakdown": [1, 0, 1],
        }
    )
    events = pd.DataFrame(
        {
            "person_id": ["X", "X", "Y"],
            "event_date": _dates(["2015-03-01", "2016-06-01", "2016-02-01"]),
            "event": [0, 1, 0],
            "placement_type": [9, 1, 9],  # institution, then network (a change, not a start); Y institution
        }
    )
    out = placement_outcomes(keys, spells, events, pd.Timestamp("2017-12-31"), cutoff=pd.Timestamp("2017-12-31"))
    out = out.set_index(["person_id", "year"])
    assert out["placement_rate"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert out.loc[("X", 2015), "network_foster_share"] == 0.0 and np.isnan(
        out.loc[("X", 2016), "network_foster_share"]
    )
    # X's first spell breaks down in 2016; Y's spell ends at the cut-off, which is no breakdown
    assert out["breakdown_rate"].tolist() == [0.0, 1.0, 0.0, 0.0]
    caseworkers = pd.DataFrame(
        {
            "caseworker_id": ["a", "b", "a", "a"],
            "municipality": [1, 1, 1, 1],
            "month": _dates(["2016-01-01", "2016-01-01", "2016-02-01", "2017-01-01"]),
            "active_cases": [20, 30, 24, 10],
            "fte": [1.0, 0.5, 0.8, 0.25],
        }
    )
    load = caseload_per_fte(caseworkers).set_index("year")
    # per worked FTE, not per head: January 50 cases over 1.5 FTE, February 24 over 0.8
    assert load.loc[2016, "caseload"] == pytest.approx((50 / 1.5 + 24 / 0.8) / 2)
    assert load.loc[2017, "caseload"] == pytest.approx(40) and load.loc[2016, "n_months"] == 2


class CountingFiles(ExtractFiles):
    """Extract files that record which extract is read, in order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: list[str] = []

    def __getitem__(self, name):
        self.read.append(name)
        return super().__getitem__(name)


@pytest.mark.parametrize("cutoff", [None, "2013-12-31"])
def test_the_step_on_cut_files_writes_the_cohort_of_the_whole_extracts(tmp_path, cutoff):
    """build_panel reads only COHORT_COLUMNS of the files the cut-off step wrote, and gives the panel
    and sample flow of build_cohort on the whole, uncut extracts in memory, byte for byte."""
    config = make_config(cutoff=cutoff)
    extracts = make_extracts()
    # the population in no particular order, and a child-year outside the ages among them
    extracts["befolkning"] = extracts["befolkning"].sample(frac=1.0, random_state=3).reset_index(drop=True)
    cut, _ = apply_cutoff(extracts, cutoff)
    for name, frame in cut.items():
        write_table(frame, tmp_path / "cut" / f"{name}.parquet")
    cohort.build_panel(tmp_path / "cut", config, tmp_path / "panel.parquet", tmp_path / "flow.csv", cut=False)
    expected = cohort.build_cohort(extracts, config, progress=lambda _m: None)
    write_table(expected.panel, tmp_path / "expected.parquet")
    expected.flow.to_csv(tmp_path / "expected.csv", index=False, lineterminator="\n")
    assert (tmp_path / "panel.parquet").read_bytes() == (tmp_path / "expected.parquet").read_bytes()
    assert (tmp_path / "flow.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()


def test_the_cohort_takes_each_extract_once_and_the_population_before_the_parents(tmp_path):
    for name, frame in make_extracts().items():
        write_table(frame, tmp_path / f"{name}.parquet")
    files = CountingFiles(tmp_path, cohort.COHORT_EXTRACTS, step="cohort", columns=cohort.COHORT_COLUMNS)
    result = cohort.build_cohort(files, make_config(), progress=lambda _m: None, cut=False)
    assert sorted(files.read) == sorted(cohort.COHORT_EXTRACTS)
    assert files.read.index("befolkning") < files.read.index("foraeldre")
    in_memory = cohort.build_cohort(make_extracts(), make_config(), progress=lambda _m: None)
    pd.testing.assert_frame_equal(result.panel, in_memory.panel)


def test_extract_files_read_when_asked_and_name_a_missing_file(tmp_path):
    write_table(make_extracts()["udfald"], tmp_path / "udfald.parquet")
    files = ExtractFiles(tmp_path, ["udfald"], step="test", columns={"udfald": ["year", "value"]})
    assert list(files) == ["udfald"] and len(files) == 1
    assert list(files["udfald"].columns) == ["year", "value"]
    with pytest.raises(KeyError):
        files["befolkning"]
    with pytest.raises(ExtractError, match="befolkning.parquet not found: the cohort step"):
        ExtractFiles(tmp_path, ["udfald", "befolkning"], step="cohort")


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", "b", None, "c", "a"], dtype="str"),
        pd.Series(["a", "b", None, "c", "a"], dtype="object"),
        pd.Series([1, 2, None, 3, 1], dtype="Int64"),
        pd.Series(["a", 2, None, "c", "a"], dtype="object"),  # no single Arrow type: pandas looks them up
    ],
)
def test_among_is_isin_for_the_values_that_are_not_missing(values):
    wanted = pd.Series([values.iloc[0], None, values.iloc[3], "zz" if values.dtype != "Int64" else 99])
    if values.dtype == "Int64":
        wanted = wanted.astype("Int64")
    expected = (values.isin(wanted.dropna()) & values.notna()).to_numpy()
    assert among(values, wanted).tolist() == expected.tolist() == [True, False, False, True, True]
