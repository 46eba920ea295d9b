"""The municipality-year panel: computed once a year at a time, it equals the whole-population aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluation.io
from evaluation.io import write_table
from evaluation.steps.municipality_comparison import FEATURES, panel_features
from evaluation.steps.municipality_panel import (
    MUNICIPALITY_PANEL_COLUMNS,
    children,
    municipality_outcomes,
    municipality_panel,
    parents_structure,
    parents_years_before,
    write_municipality_panel,
)
from evaluation.steps.municipality_panel import read_municipality_panel as read_panel

PRICES = {
    "price_year": 2019,
    "items": {
        "institution": {"dkk_per_year": 1_160_000},
        "residential": {"dkk_per_year": 1_100_000},
        "foster": {"dkk_per_year": 470_000},
        "network": {"dkk_per_year": 250_000},
        "other": {"dkk_per_year": 300_000},
        "preventive": {"dkk_per_year": 90_000},
    },
}
YEARS = range(2010, 2017)
MUNICIPALITIES = [101, 147, 657, 751]


def _ids(prefix: str, numbers: np.ndarray) -> pd.Series:
    return pd.Series([f"{prefix}{n:05d}" for n in numbers], dtype="str")


def random_extracts(seed: int = 1) -> dict[str, pd.DataFrame]:
    """A small registry with what real extracts hold: children aging in and out, missing parents, parents with
    unknown education (99) or no row in ``foraeldre``, ongoing and overlapping spells, a population in no order."""
    rng = np.random.default_rng(seed)
    n = 400
    born = pd.to_datetime("1994-01-01") + pd.to_timedelta(rng.integers(0, 22 * 365, n), unit="D")
    born = born.where(rng.random(n) > 0.05, pd.to_datetime("2004-01-01"))  # some born on 1 January
    home = rng.choice(MUNICIPALITIES, n)
    rows = []
    for i in range(n):
        for year in YEARS:
            if rng.random() < 0.9:
                mother = f"m{i:05d}" if rng.random() > 0.05 else None
                father = f"f{i:05d}" if rng.random() > 0.3 else None
                moved = home[i] if rng.random() > 0.03 else rng.choice(MUNICIPALITIES)
                rows.append((year, f"c{i:05d}", born[i], moved, mother, father))
    population = pd.DataFrame(
        rows, columns=["year", "person_id", "birth_date", "municipality", "mother_id", "father_id"]
    )
    population = population.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    population["birth_date"] = population["birth_date"].astype("datetime64[ms]")
    for col in ("person_id", "mother_id", "father_id"):
        population[col] = population[col].astype("str")
    parents = population[["year", "mother_id", "father_id"]].melt("year", value_name="person_id")[["year", "person_id"]]
    parents = parents.dropna().drop_duplicates().sample(frac=0.9, random_state=seed).reset_index(drop=True)
    parents["education_level"] = rng.choice([10, 20, 30, 40, 99], len(parents))
    parents["income"] = np.where(rng.random(len(parents)) < 0.1, np.nan, rng.normal(300_000, 80_000, len(parents)))
    n_spells = 160
    person = _ids("c", rng.integers(0, n, n_spells))
    start = pd.to_datetime("2008-06-01") + pd.to_timedelta(rng.integers(0, 8 * 365, n_spells), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 3 * 365, n_spells), unit="D")
    end = end.where(rng.random(n_spells) > 0.2)  # ongoing
    half = n_spells // 2
    spell = pd.DataFrame(
        {
            "person_id": person,
            "municipality": rng.choice(MUNICIPALITIES, n_spells),
            "start_date": start.astype("datetime64[ms]"),
            "end_date": pd.Series(end).astype("datetime64[ms]"),
        }
    )
    placements = (
        spell.iloc[:half].assign(placement_type=rng.choice([1, 21, 22, 9, 27, 11], half)).reset_index(drop=True)
    )
    preventive = spell.iloc[half:].assign(measure=rng.choice([1, 2, 3], n_spells - half)).reset_index(drop=True)
    return {
        "befolkning": population,
        "foraeldre": parents,
        "anbringelser_forloeb": placements,
        "forebyggende": preventive,
    }


def test_the_panel_is_the_aggregates_of_the_whole_population():
    """What each step computed from the whole extracts before the panel existed, column by column."""
    ex = random_extracts()
    panel = municipality_panel(ex, PRICES, min_age=0, max_age=17)
    assert list(panel.columns) == MUNICIPALITY_PANEL_COLUMNS
    # the synthetic control's outcomes, from the whole population at once
    outcomes = municipality_outcomes(ex["befolkning"], ex["anbringelser_forloeb"], ex["forebyggende"], PRICES)
    pd.testing.assert_frame_equal(panel[list(outcomes.columns)], outcomes)
    # the factsheets' children: every child-year of the ages, by municipality and year
    pop = ex["befolkning"]
    age = (
        pop["year"]
        - pop["birth_date"].dt.year
        - 1
        + ((pop["birth_date"].dt.month == 1) & (pop["birth_date"].dt.day == 1))
    )
    counts = pop[age.between(0, 17)].groupby(["municipality", "year"], sort=True).size()
    assert panel.set_index(["municipality", "year"])["children"].to_dict() == counts.to_dict()
    # the comparison's parents, from all years at once; rows without a parent id have no value
    structure = parents_structure(pop, ex["foraeldre"], children(pop, 0, 17))
    merged = panel.set_index(["municipality", "year"])[list(structure.columns)]
    pd.testing.assert_frame_equal(merged.loc[structure.index], structure, check_dtype=False)
    assert merged.drop(structure.index).isna().all().all()
    assert structure["parent_basic_education_share"].between(0, 1).all()


def test_the_features_are_those_of_the_whole_pre_reform_population():
    ex = random_extracts(seed=2)
    before = 2014
    features = panel_features(municipality_panel(ex, PRICES), before)
    assert list(features.columns) == list(FEATURES)
    pop = ex["befolkning"]
    pre = pop.loc[pop["year"] < before]
    structure = parents_structure(pop, ex["foraeldre"], children(pre, 0, 17)).groupby(level="municipality").mean()
    outcomes = municipality_outcomes(pop, ex["anbringelser_forloeb"], ex["forebyggende"], PRICES)
    outcomes = outcomes.loc[outcomes["year"] < before]
    size = np.log(outcomes.groupby("municipality")["children"].mean())
    np.testing.assert_array_equal(features["children_log"].to_numpy(), size.to_numpy())
    for column in structure.columns:
        np.testing.assert_array_equal(features[column].to_numpy(), structure[column].to_numpy(dtype=float))
    assert features["parent_basic_education_share"].dtype == np.float64  # also when an education is unknown


@pytest.mark.parametrize(("row_group_rows", "adoptions"), [(50, {}), (1024 * 1024, {}), (50, {657: 2014, 147: 2013})])
def test_the_step_reads_a_year_at_a_time_and_writes_the_panel_of_the_whole_extracts(
    tmp_path, monkeypatch, row_group_rows, adoptions
):
    monkeypatch.setattr(evaluation.io, "ROW_GROUP_ROWS", row_group_rows)  # years across row groups
    ex = random_extracts(seed=3)
    for name, frame in ex.items():
        write_table(frame, tmp_path / "cut" / f"{name}.parquet")
    config = {"prices": PRICES, "cohort": {"min_age": 2, "max_age": 15}, "treatment": {"adoptions": adoptions}}
    before = parents_years_before(config)
    notes: list[str] = []
    written = write_municipality_panel(tmp_path / "cut", config, tmp_path / "panel.parquet", progress=notes.append)
    expected = municipality_panel(ex, PRICES, min_age=2, max_age=15, parents_before=before)
    pd.testing.assert_frame_equal(read_panel(tmp_path / "panel.parquet"), expected)
    pd.testing.assert_frame_equal(written, expected)
    assert len([note for note in notes if "children" in note]) == len(YEARS)
    # the parents' figures of the years before the first adoption, as those of every year
    every_year = municipality_panel(ex, PRICES, min_age=2, max_age=15)
    early = written["year"] < before
    pd.testing.assert_frame_equal(written[early], every_year[early])
    assert before == (2013 if adoptions else 10_000)
    assert written.loc[~early, ["parent_basic_education_share", "parent_income"]].isna().all().all()
    assert (
        written.loc[~early]
        .drop(columns=["parent_basic_education_share", "parent_income"])
        .equals(every_year.loc[~early].drop(columns=["parent_basic_education_share", "parent_income"]))
    )
