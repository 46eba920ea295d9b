r"""The municipality-year panel: one table of municipal aggregates, computed once per release.

Three steps describe the municipalities year by year from the cut extracts: the comparison
municipalities (:mod:`evaluation.steps.municipality_comparison`: pre-reform size, parents and outcomes), the
synthetic control (:mod:`evaluation.steps.fewclusters.synth_step`: the outcomes) and the factsheets
(:mod:`evaluation.steps.keyfigures`: the child population). The rule ``municipality_panel`` computes these
aggregates once, from the population and parents extracts read a year at a time (a year of the
national population is about 1.2 million child-years), and writes one row per municipality and year:

``children``
    Children aged ``cohort.min_age``-``cohort.max_age`` (age on 1 January) living in the municipality
    that year (``befolkning``; a child-year counted once).
``placed``, ``spending_per_child``, ``placement_rate``, ``family_care_share``
    The outcomes of the synthetic control (:func:`municipality_outcomes` gives the definitions).
``parent_basic_education_share``, ``parent_income``
    Among those children, the share whose best-educated known parent has only basic schooling
    (``HFAUDD_NIV`` 10; unknown education, code 99, left out), and the mean over children of their
    parents' mean income, in DKK 1,000 (:func:`parents_structure`); missing where no child has a
    parent in ``foraeldre`` that year. Only for the years before the first adoption year
    (:func:`parents_years_before`): the comparison municipalities are chosen on them, and looking up
    every child's parents is the costliest part of the panel; missing in the later years.

The panel holds counts of persons (``children``, ``placed``) and stays under ``data/interim``; the
steps that read it publish rates and features only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation.config import setting
from evaluation.errors import ExtractError
from evaluation.io import read_extracts, write_table
from evaluation.methods.costs import spell_year_costs
from evaluation.steps.cohort.cases import age_on_january_first
from evaluation.steps.cohort.keys import among

__all__ = [
    "MUNICIPALITY_PANEL_COLUMNS",
    "MUNICIPAL_OUTCOMES",
    "PANEL_EXTRACT_COLUMNS",
    "children",
    "municipality_outcomes",
    "municipality_panel",
    "parents_structure",
    "parents_years_before",
    "read_municipality_panel",
    "write_municipality_panel",
]

#: The outcomes of the synthetic control among the panel's columns.
MUNICIPAL_OUTCOMES = ("spending_per_child", "placement_rate", "family_care_share")
#: Columns of the written panel, sorted by municipality and year.
MUNICIPALITY_PANEL_COLUMNS = [
    "municipality",
    "year",
    "children",
    "placed",
    *MUNICIPAL_OUTCOMES,
    "parent_basic_education_share",
    "parent_income",
]
#: The columns of each cut extract the panel is computed from (the other columns are never read).
PANEL_EXTRACT_COLUMNS: dict[str, list[str]] = {
    "befolkning": ["year", "person_id", "birth_date", "municipality", "mother_id", "father_id"],
    "foraeldre": ["year", "person_id", "education_level", "income"],
    "anbringelser_forloeb": ["person_id", "municipality", "placement_type", "start_date", "end_date"],
    "forebyggende": ["person_id", "municipality", "measure", "start_date", "end_date"],
}
#: The parents' figures of the panel, by municipality and year.
PARENTS = ["municipality", "year", "parent_basic_education_share", "parent_income"]
FAMILY_GROUPS = ("network", "foster")
PLACEMENT_GROUPS = ("network", "foster", "institution", "residential", "other")
BASIC_EDUCATION = 10
UNKNOWN_EDUCATION = 99


def children(population: pd.DataFrame, min_age: int, max_age: int) -> pd.DataFrame:
    """Return the child-years of ``min_age``-``max_age`` (age on 1 January): ``person_id, year, municipality``.

    A child-year listed twice in ``population`` is kept once (the first row).
    """
    age = age_on_january_first(pd.to_datetime(population["birth_date"]), population["year"])
    keep = (age >= min_age) & (age <= max_age)
    return population.loc[keep, ["person_id", "year", "municipality"]].drop_duplicates(["person_id", "year"])


def _spells(placements: pd.DataFrame, preventive: pd.DataFrame) -> pd.DataFrame:
    """Placement and preventive spells in one frame, for :func:`evaluation.methods.costs.spell_year_costs`."""
    cols = ["person_id", "municipality", "start_date", "end_date"]
    spells = pd.concat(
        [
            placements[[*cols, "placement_type"]].assign(measure=pd.NA),
            preventive[[*cols, "measure"]].assign(placement_type=pd.NA),
        ],
        ignore_index=True,
    )
    spells["placement_type"] = spells["placement_type"].astype("Int64")
    spells["measure"] = spells["measure"].astype("Int64")
    return spells


def _outcomes(
    denom: pd.Series,
    child_years: pd.MultiIndex,
    years: list[int],
    placements: pd.DataFrame,
    preventive: pd.DataFrame,
    prices: Mapping[str, Any],
) -> pd.DataFrame:
    """Compute the outcomes of :func:`municipality_outcomes` from the children per municipality-year (``denom``).

    ``child_years`` holds the (person_id, year) pairs of the children (at least those of the persons
    placed), ``years`` their years.
    """
    spells = _spells(placements, preventive)
    per = spell_year_costs(spells, prices, years)
    per["municipality"] = spells["municipality"].to_numpy()[per["spell"].to_numpy()]
    spend = per.groupby(["municipality", "year"])["cost"].sum().rename("spending")

    # placed children of the counted ages: days in placement and in family or network care by child-year
    placed = per.loc[per["group"].isin(list(PLACEMENT_GROUPS))].copy()
    placed = placed.loc[pd.MultiIndex.from_arrays([placed["person_id"], placed["year"]]).isin(child_years)]
    placed["family_days"] = np.where(placed["group"].isin(FAMILY_GROUPS), placed["days"], 0.0)
    child = placed.groupby(["municipality", "year", "person_id"])[["days", "family_days"]].sum()
    child["share"] = child["family_days"] / child["days"]
    by_mun = child.groupby(level=["municipality", "year"]).agg(placed=("share", "size"), family=("share", "sum"))

    out = pd.concat([denom, spend, by_mun], axis=1).loc[denom.index]
    out[["spending", "placed", "family"]] = out[["spending", "placed", "family"]].fillna(0.0)
    out["spending_per_child"] = out["spending"] / out["children"]
    out["placement_rate"] = 1000.0 * out["placed"] / out["children"]
    out["family_care_share"] = (out["family"] / out["placed"]).where(out["placed"] > 0)
    out = out.reset_index()[["municipality", "year", "children", "placed", *MUNICIPAL_OUTCOMES]].sort_values(
        ["municipality", "year"], ignore_index=True
    )
    out["placed"] = out["placed"].astype(int)
    return out


def small_cell_note(outcomes: pd.DataFrame, min_cell: int) -> str | None:
    """Name the municipality-years with fewer than ``min_cell`` placed children (None when there are none)."""
    small = outcomes.loc[outcomes["placed"] < min_cell]
    if not len(small):
        return None
    cells = ", ".join(f"{m}/{y}" for m, y in zip(small["municipality"][:20], small["year"][:20], strict=True))
    return (
        f"note: {len(small)} municipality-years have fewer than {min_cell} placed children in the numerator "
        f"of placement_rate and family_care_share (e.g. {cells}); these are rates of whole municipal "
        "populations, kept as computed"
    )


def municipality_outcomes(
    population: pd.DataFrame,
    placements: pd.DataFrame,
    preventive: pd.DataFrame,
    prices: Mapping[str, Any],
    *,
    min_age: int = 0,
    max_age: int = 17,
    min_cell: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    r"""Build the municipality-year outcomes of the synthetic control.

    * ``spending_per_child``: the micro-costed spending on placement and preventive spells
      (:func:`evaluation.methods.costs.spell_year_costs`, the per-spell form of
      :func:`evaluation.methods.costs.child_year_costs`, so the same price definition) of spells the
      municipality holds, divided by the number of children aged ``min_age``-``max_age`` (age on
      1 January) living in the municipality that year (``befolkning``), in DKK;
    * ``placement_rate``: children of those ages with a placement spell of the municipality
      overlapping the year, per 1,000 children of those ages living there;
    * ``family_care_share``: among those placed children, the share in family or network care
      (``PLACEMENT_GROUP`` ``network`` or ``foster``); a child placed in several ways in the year
      counts by the share of its placement days spent in family or network care, so that
      :math:`s_{mt} = \frac{1}{P_{mt}} \sum_i d^{fam}_{it} / d_{it}` with :math:`P_{mt}` placed children.

    Parameters
    ----------
    population
        ``befolkning``: ``year, person_id, birth_date, municipality``.
    placements
        ``anbringelser_forloeb``: ``person_id, municipality, placement_type, start_date, end_date``.
    preventive
        ``forebyggende``: ``person_id, municipality, measure, start_date, end_date``.
    prices
        The config's ``prices`` section.
    min_age, max_age
        Ages (on 1 January) of the children counted.
    min_cell
        When given, municipality-years with fewer placed children than this are named through ``progress``.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, children, placed, spending_per_child, placement_rate, family_care_share``,
        one row per municipality-year of ``population``; ``family_care_share`` is NaN without placed children.
    """
    kids = children(population, min_age, max_age)
    years = sorted(kids["year"].unique().tolist())
    denom = kids.groupby(["municipality", "year"]).size().rename("children")
    out = _outcomes(denom, kids.set_index(["person_id", "year"]).index, years, placements, preventive, prices)
    if min_cell is not None and progress is not None and (note := small_cell_note(out, min_cell)):
        progress(note)
    return out


def parents_structure(population: pd.DataFrame, parents: pd.DataFrame, kids: pd.DataFrame) -> pd.DataFrame:
    """Municipality-year share of children with basically educated parents, and mean parental income (DKK 1,000).

    Parameters
    ----------
    population
        ``befolkning``: ``person_id, year, mother_id, father_id``.
    parents
        ``foraeldre``: ``person_id, year, education_level, income``.
    kids
        The children described (:func:`children`): ``person_id, year, municipality``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``municipality, year``: ``parent_basic_education_share`` (children whose best-educated
        known parent has only basic schooling, among the children with a known education) and
        ``parent_income`` (the mean over children of their parents' mean income); only the
        municipality-years where a child has a parent id.
    """
    kids = kids.merge(population[["person_id", "year", "mother_id", "father_id"]], on=["person_id", "year"], how="left")
    known = parents.loc[parents["education_level"] != UNKNOWN_EDUCATION, ["person_id", "year", "education_level"]]
    rows = []
    for role in ("mother_id", "father_id"):
        part = kids[["person_id", "year", "municipality", role]].rename(columns={role: "parent_id"}).dropna()
        rows.append(part)
    links = pd.concat(rows, ignore_index=True)
    links = links.merge(
        parents[["person_id", "year", "income"]].rename(columns={"person_id": "parent_id"}),
        on=["parent_id", "year"],
        how="left",
    ).merge(known.rename(columns={"person_id": "parent_id"}), on=["parent_id", "year"], how="left")
    per_child = links.groupby(["municipality", "year", "person_id"]).agg(
        best=("education_level", "max"), income=("income", "mean")
    )
    # 1.0 / 0.0, and missing where no parent's education is known (float, whether or not one is missing)
    per_child["basic"] = (per_child["best"] == BASIC_EDUCATION).astype("float64").where(per_child["best"].notna())
    out = per_child.groupby(level=["municipality", "year"]).agg(
        parent_basic_education_share=("basic", "mean"), parent_income=("income", "mean")
    )
    out["parent_income"] = out["parent_income"] / 1000.0
    return out


def _year_parts(
    population: pd.DataFrame, parents: pd.DataFrame, parents_before: int | None
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
    """Yield the population and the parents (None from ``parents_before`` on) of each year, in year order."""
    for year, pop in population.groupby("year", sort=True):
        wanted = parents_before is None or int(year) < parents_before
        yield pop, parents.loc[parents["year"] == year] if wanted else None


def _panel(
    parts: Iterable[tuple[pd.DataFrame, pd.DataFrame | None]],
    placements: pd.DataFrame,
    preventive: pd.DataFrame,
    prices: Mapping[str, Any],
    min_age: int,
    max_age: int,
    progress: Callable[[str], None],
) -> pd.DataFrame:
    """Assemble the panel from the population and parents of each year, one year at a time.

    Every aggregate is of one municipality-year, so that a year's rows give that year's figures,
    whatever the other years hold. A year without parents (None) has no parents' figures.
    """
    placed_persons = placements["person_id"]
    counts, members, structure = [], [], []
    for pop, par in parts:
        kids = children(pop, min_age, max_age)
        if kids.empty:
            continue
        counts.append(kids.groupby(["municipality", "year"]).size())
        members.append(kids.loc[among(kids["person_id"], placed_persons), ["person_id", "year"]])
        if par is not None:
            structure.append(parents_structure(pop, par, kids))
        progress(
            f"municipality panel: {int(kids['year'].iloc[0])}: {len(kids):,} children"
            + ("" if par is not None else " (parents' figures not needed)")
        )
    if not counts:
        raise ExtractError("municipality panel: the population extract holds no child of the cohort's ages")
    denom = pd.concat(counts).sort_index().rename("children")
    years = sorted(denom.index.get_level_values("year").unique().tolist())
    child_years = pd.concat(members).set_index(["person_id", "year"]).index
    out = _outcomes(denom, child_years, years, placements, preventive, prices)
    if structure:
        parents = pd.concat(structure).sort_index().reset_index()
    else:
        parents = pd.DataFrame(
            {name: pd.Series(dtype="int64" if name in ("municipality", "year") else "float64") for name in PARENTS}
        )
    out = out.merge(parents, on=["municipality", "year"], how="left", validate="one_to_one")
    return out[MUNICIPALITY_PANEL_COLUMNS]


def municipality_panel(
    extracts: Mapping[str, pd.DataFrame],
    prices: Mapping[str, Any],
    *,
    min_age: int = 0,
    max_age: int = 17,
    parents_before: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Build the municipality-year panel (module docstring) from extracts in memory.

    Parameters
    ----------
    extracts
        The cut extracts ``befolkning``, ``foraeldre``, ``anbringelser_forloeb`` and ``forebyggende``
        (the columns :data:`PANEL_EXTRACT_COLUMNS` at least).
    prices
        The config's ``prices`` section (for the spending per child).
    min_age, max_age
        Ages (on 1 January) of the children described.
    parents_before
        The parents' figures of the years before this one only (None: every year); the later years
        have none.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        :data:`MUNICIPALITY_PANEL_COLUMNS`, one row per municipality-year with children, sorted.

    Raises
    ------
    ExtractError
        When the population holds no child of those ages.
    """
    return _panel(
        _year_parts(extracts["befolkning"], extracts["foraeldre"], parents_before),
        extracts["anbringelser_forloeb"],
        extracts["forebyggende"],
        prices,
        min_age,
        max_age,
        progress or (lambda _msg: None),
    )


def _years(path: Path) -> list[int]:
    """Return the calendar years of an extract's ``year`` column, sorted."""
    years = pq.read_table(path, columns=["year"]).column("year")
    return sorted(int(y) for y in pc.unique(years).to_pylist() if y is not None)


def _read_year(path: Path, year: int, columns: list[str]) -> pd.DataFrame:
    """Read the rows of one calendar year of an extract (only the row groups holding that year are decoded)."""
    return pd.read_parquet(path, columns=columns, filters=[("year", "==", year)])


def parents_years_before(config: Mapping[str, Any]) -> int:
    """Return the year before which the panel holds the parents' figures: the first adoption year.

    The comparison municipalities are chosen on the years before any municipality adopted the model
    (:mod:`evaluation.steps.municipality_comparison`), the only use of these figures; they are the costliest
    part of the panel (every child's parents looked up), so later years go without.
    """
    adoptions = (config.get("treatment") or {}).get("adoptions") or {}
    return min((int(year) for year in adoptions.values()), default=10_000)


def write_municipality_panel(
    extracts_dir: Path,
    config: Mapping[str, Any],
    panel_path: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Pipeline step ``municipality_panel``: the municipality-year panel of a release, written once.

    The population and parents extracts are read a year at a time, and only the columns
    :data:`PANEL_EXTRACT_COLUMNS`; the panel equals :func:`municipality_panel` of the whole extracts.

    Parameters
    ----------
    extracts_dir
        Folder of the cut extracts.
    config
        The pipeline config (``prices``, ``cohort``, and ``treatment.adoptions`` for the years of the
        parents' figures, :func:`parents_years_before`).
    panel_path
        Output Parquet file (counts of persons: keep it under ``data/interim``).
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        The panel written.
    """
    say = progress or (lambda _msg: None)
    extracts_dir = Path(extracts_dir)
    spells = read_extracts(
        extracts_dir, ("anbringelser_forloeb", "forebyggende"), step="municipality_panel", columns=PANEL_EXTRACT_COLUMNS
    )
    paths = {name: extracts_dir / f"{name}.parquet" for name in ("befolkning", "foraeldre")}
    for name, path in paths.items():
        if not path.is_file():
            raise ExtractError(
                f"{path} not found: the municipality_panel step needs the extract '{name}'; run the ingest step first."
            )
    before = parents_years_before(config)
    parents = paths["foraeldre"]
    columns = PANEL_EXTRACT_COLUMNS
    parts = (
        (
            _read_year(paths["befolkning"], year, columns["befolkning"]),
            _read_year(parents, year, columns["foraeldre"]) if year < before else None,
        )
        for year in _years(paths["befolkning"])
    )
    panel = _panel(
        parts,
        spells["anbringelser_forloeb"],
        spells["forebyggende"],
        config["prices"],
        int(setting(config, "cohort", "min_age")),
        int(setting(config, "cohort", "max_age")),
        say,
    )
    write_table(panel, Path(panel_path))
    say(f"municipality panel: wrote {len(panel):,} municipality-years to {panel_path}")
    return panel


def read_municipality_panel(path: Path) -> pd.DataFrame:
    """Read the municipality-year panel written by :func:`write_municipality_panel`.

    Raises
    ------
    ExtractError
        When the file is missing (run the ``municipality_panel`` step first).
    """
    path = Path(path)
    if not path.is_file():
        raise ExtractError(f"{path} not found: run the municipality_panel step first.")
    return pd.read_parquet(path)
