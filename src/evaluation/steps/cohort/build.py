"""Build the study cohort: children with an open case, as a child-year panel with treatment timing.

The cohort step turns the ingested extracts (readable field names, see
:mod:`evaluation.contract.extracts`) into

* ``panel.parquet``: one row per child-year with an open case, with the
  municipality's treatment timing (``first_treat``, ``treated_unit``, ``post``,
  ``treated``), the child's age and sex, baseline covariates fixed at the
  child's first open-case year (the *entry* year) and the outcomes (SDQ,
  school absence, cost per child-year) and the placement outcomes of
  :mod:`evaluation.steps.cohort.placements` (entry into care, network or foster share of new
  placements, breakdowns);
* a sample flow (CONSORT-style) of distinct children, treated and control.

Definitions
-----------
Child-year
    A row of ``befolkning``: a child aged ``cohort.min_age``-``cohort.max_age``
    on 1 January of the year.
Open case
    A child-year has an open case iff the child has a notification dated in the
    calendar year, or a preventive-measure spell or placement spell that
    overlaps the calendar year. Spells without an end date are ongoing until
    the end of the last year in the population (or the data cut-off).
Treatment timing
    ``first_treat`` is the first year under the Herning model of the child-year's
    municipality (``treatment.adoptions``), 0 for never-adopting municipalities.
    ``post = year >= first_treat > 0`` and ``treated = treated_unit & post``.
Treated and control children
    A child belongs to the group of its municipality in its entry year (the
    synthetic registry has no moves; with real data the number of children
    who change municipality inside the panel is logged).

The logic is in pure functions on data frames (tested directly):
:func:`build_cohort` assembles them; :func:`build_panel` only reads and writes files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import effective_cutoff, setting
from evaluation.contract.results import columns_of
from evaluation.errors import ExtractValidationError
from evaluation.io import ExtractFiles, write_csv, write_table
from evaluation.io import read_extracts as _read_extracts
from evaluation.steps.cohort.cases import age_on_january_first, open_case_years
from evaluation.steps.cohort.covariates import baseline_covariates, outcome_values
from evaluation.steps.cohort.placements import placement_outcomes
from evaluation.steps.cohort.timing import adoption_years, apply_cutoff, first_treat

__all__ = [
    "COHORT_COLUMNS",
    "COHORT_EXTRACTS",
    "FLOW_COLUMNS",
    "PANEL_COLUMNS",
    "CohortResult",
    "build_cohort",
    "build_panel",
    "read_extracts",
    "sample_flow",
]

#: Extracts the cohort step reads from the interim folder.
COHORT_EXTRACTS = (
    "befolkning",
    "foraeldre",
    "underretninger",
    "forebyggende",
    "anbringelser_forloeb",
    "anbringelser_haendelser",
    "udfald",
)

#: The columns of each extract the cohort step reads (the others, such as family ids, are never read).
COHORT_COLUMNS: dict[str, list[str]] = {
    "befolkning": ["year", "person_id", "sex", "birth_date", "municipality", "mother_id", "father_id", "origin"],
    "foraeldre": ["year", "person_id", "education_level", "income"],
    "underretninger": ["person_id", "date"],
    "forebyggende": ["spell_id", "person_id", "measure", "start_date", "end_date"],
    "anbringelser_forloeb": ["spell_id", "person_id", "placement_type", "start_date", "end_date", "breakdown"],
    "anbringelser_haendelser": ["person_id", "event_date", "event", "placement_type"],
    "udfald": ["person_id", "year", "measure", "value"],
}

#: Column order of the written panel.
PANEL_COLUMNS = [
    "person_id",
    "municipality",
    "year",
    "first_treat",
    "treated_unit",
    "post",
    "treated",
    "age",
    "sex",
    "origin",
    "entry_year",
    "age_at_entry",
    "entry_municipality",
    "entry_origin",
    "parent_basic_education",
    "parent_missing",
    "parent_income",
    "parent_income_missing",
    "prior_notifications",
    "sdq",
    "school_absence",
    "cost_per_child",
    "placement_rate",
    "network_foster_share",
    "breakdown_rate",
]

FLOW_COLUMNS = columns_of("results/{release}/cohort/sample_flow.csv")


@dataclass(frozen=True)
class CohortResult:
    """The outcome of :func:`build_cohort`.

    Attributes
    ----------
    panel
        Child-years with an open case (columns :data:`PANEL_COLUMNS`), sorted by person_id and year.
    flow
        Sample flow: ``step, n_treated, n_control`` (distinct children).
    cutoff_removed
        Records removed or truncated by the data cut-off, by extract (empty without a cut-off).
    """

    panel: pd.DataFrame
    flow: pd.DataFrame
    cutoff_removed: dict[str, int]


# --------------------------------------------------------------------------- treatment timing


def read_extracts(
    interim_dir: Path,
    names: tuple[str, ...] = COHORT_EXTRACTS,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the extracts the cohort step needs (:func:`evaluation.io.read_extracts`), whole or ``columns`` of them."""
    return _read_extracts(interim_dir, names, step="cohort", columns=columns)


def _cost_per_child_year(
    placements: pd.DataFrame, preventive: pd.DataFrame, prices: Mapping[str, Any], years: list[int]
) -> pd.DataFrame:
    """Cost of each child-year from the placement and preventive spells (:mod:`evaluation.methods.costs`)."""
    from evaluation.methods.costs import child_year_costs

    spells = pd.concat([placements, preventive], ignore_index=True, sort=False)
    costs = child_year_costs(spells, prices, years)
    return costs.groupby(["person_id", "year"], as_index=False)["cost"].sum().rename(columns={"cost": "cost_per_child"})


def sample_flow(population: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Sample flow of distinct children, treated (adopting municipality) and control.

    Parameters
    ----------
    population
        Child-years of the population with ``person_id, year, treated_unit``; a child's group is
        that of its first year.
    panel
        The cohort panel; a child's group is that of its entry year.

    Returns
    -------
    pandas.DataFrame
        ``step, n_treated, n_control``: the step as a code (the report words it, ``sample_flow_step`` of
        ``reports/_text/<language>/labels.yml``); ``parent_missing`` and ``parent_income_imputed`` are subsets of
        ``baseline``.
    """

    def split(frame: pd.DataFrame) -> tuple[int, int]:
        first = frame.sort_values(["person_id", "year"]).drop_duplicates("person_id")
        n_treated = int(first["treated_unit"].sum())
        return n_treated, len(first) - n_treated

    entry = panel.loc[panel["year"] == panel["entry_year"]]
    complete = entry.dropna(subset=["age_at_entry", "sex", "entry_origin", "parent_income", "prior_notifications"])
    rows = [
        ("population", *split(population)),
        ("open_case", *split(panel)),
        ("baseline", *split(complete)),
        ("parent_missing", *split(complete.loc[complete["parent_missing"] == 1])),
        ("parent_income_imputed", *split(complete.loc[complete["parent_income_missing"] == 1])),
    ]
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


@dataclass(frozen=True)
class _ChildYears:
    """What the cohort needs of the population extract (:func:`_child_years`)."""

    panel: pd.DataFrame  # the child-years with an open case: population rows, in its order, with timing
    first: pd.DataFrame  # each child's first child-year (person as an integer code): the sample flow's population
    years: list[int]  # the years of the child-years
    open_end: pd.Timestamp  # the end of the last year: where ongoing spells end


def _child_years(
    pop: pd.DataFrame,
    cases: Callable[[pd.Timestamp], pd.DataFrame],
    adoptions: Mapping[int, int],
    min_age: int,
    max_age: int,
    progress: Callable[[str], None],
) -> _ChildYears:
    """Select the population's child-years of the cohort's ages, and of them those with an open case.

    ``cases`` gives the open-case years (:func:`open_case_years`) for the end of the data. Child-years
    are keyed by an integer code per person (in the order of first appearance) and the year: the
    population is the largest extract, and integer keys spare hashing and sorting its identifiers. The
    arrays over the whole population live only in this function.
    """
    person, persons = pd.factorize(pop["person_id"])  # -1 for a missing identifier
    year = pop["year"].to_numpy(dtype="int64")
    first_year = int(year.min()) if len(year) else 0
    span = int(year.max()) - first_year + 1 if len(year) else 1
    # child-year keys 0 .. (persons + 1) * span - 1: membership is a look-up in an array of flags
    child_year = (person.astype("int64") + 1) * span + (year - first_year)
    flags = np.zeros((len(persons) + 1) * span, dtype=bool)
    flags[child_year] = True
    n_duplicated = len(child_year) - int(flags.sum())
    if n_duplicated:
        raise ExtractValidationError(
            f"befolkning: {n_duplicated} duplicated child-years (person_id, year); one row per child and year."
        )
    age = age_on_january_first(pop["birth_date"], pop["year"]).to_numpy()
    in_range = (age >= min_age) & (age <= max_age)
    if (~in_range).any():
        progress(f"cohort: {int((~in_range).sum()):,} befolkning rows outside ages {min_age}-{max_age} left out")
    municipality, municipalities = pd.factorize(pop["municipality"])  # first_treat of each municipality once
    if (municipality < 0).any():  # a missing municipality: first_treat says what is wrong with it
        first_treat(pop["municipality"], adoptions)
    treat = first_treat(pd.Series(municipalities), adoptions).to_numpy()[municipality]
    # each child's first year among its child-years of the ages (a child has one row a year)
    slot = person.astype("int64") + 1
    never = np.iinfo("int64").max
    first_year_of = np.full(len(persons) + 1, never)
    np.minimum.at(first_year_of, slot[in_range], year[in_range])
    is_first = in_range & (year == first_year_of[slot])
    first = pd.DataFrame(
        {"person_id": person[is_first], "year": year[is_first], "treated_unit": (treat[is_first] > 0).astype("int64")}
    )
    n_children = int((first_year_of[1:] != never).sum())
    progress(f"cohort: {n_children:,} children, {int(in_range.sum()):,} child-years aged {min_age}-{max_age}")
    present = np.zeros(span, dtype=bool)
    present[year[in_range] - first_year] = True
    years = [first_year + int(offset) for offset in np.flatnonzero(present)]  # ongoing spells end with the last
    open_end = pd.Timestamp(year=years[-1], month=12, day=31)

    open_cases = cases(open_end)
    # the child-years of the population with an open case, in the population's order (an inner join)
    case_person = pd.Index(persons).get_indexer(open_cases["person_id"])
    case_year = open_cases["year"].to_numpy(dtype="int64")
    known = (case_person >= 0) & (case_year >= first_year) & (case_year < first_year + span)
    flags[:] = False
    flags[(case_person[known].astype("int64") + 1) * span + (case_year[known] - first_year)] = True
    has_case = in_range & flags[child_year]
    panel = pop.loc[has_case].reset_index(drop=True)
    panel = panel.assign(
        age=age[has_case],
        first_treat=treat[has_case],
        treated_unit=(treat[has_case] > 0).astype("int64"),
        open_case=1,
    )
    outside = len(open_cases) - len(panel)
    progress(
        f"cohort: {len(panel):,} child-years with an open case; {outside:,} open-case years of persons "
        f"outside the population (age or years) left out"
    )
    return _ChildYears(panel=panel, first=first, years=years, open_end=open_end)


def build_cohort(
    extracts: Mapping[str, pd.DataFrame],
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
    *,
    cut: bool = True,
) -> CohortResult:
    """Build the cohort panel and sample flow from ingested extracts (pure: no files).

    Each extract is taken from ``extracts`` once, and the population (``befolkning``) and the parents
    (``foraeldre``), the largest, only where they are used, one after the other: a mapping that reads
    an extract when it is asked for (:class:`evaluation.io.ExtractFiles`) holds one of them at a time.

    Parameters
    ----------
    extracts
        Ingested extracts by name (:data:`COHORT_EXTRACTS`), readable field names.
    config
        Study configuration: ``treatment.adoptions``, ``cohort.min_age``/``max_age``,
        ``report.cutoff_date``, ``prices``.
    progress
        Called with counts of what each stage keeps and removes.
    cut
        Apply the data cut-off (:func:`apply_cutoff`); False when the extracts are cut already (the
        pipeline's ``cut_extracts`` step), as cutting them again changes nothing.

    Returns
    -------
    CohortResult

    Raises
    ------
    ConfigError
        For unknown municipalities in ``treatment.adoptions`` or a bad cut-off date.
    ExtractValidationError
        For duplicated child-years, spells ending before they start or duplicated outcomes.
    """
    adoptions = adoption_years(config)
    min_age, max_age = int(setting(config, "cohort", "min_age")), int(setting(config, "cohort", "max_age"))
    cutoff = effective_cutoff(config)
    ex, removed = apply_cutoff(dict(extracts), cutoff) if cut else (extracts, {})
    for name, n in sorted(removed.items()):
        verb = "truncated" if name.endswith("_truncated") else "removed"
        progress(f"cohort: data cut-off {cutoff}: {n:,} {name.removesuffix('_truncated')} records {verb}")
    notifications, preventive = ex["underretninger"], ex["forebyggende"]
    spells, events = ex["anbringelser_forloeb"], ex["anbringelser_haendelser"]

    child_years = _child_years(
        ex["befolkning"],
        lambda open_end: open_case_years(notifications, preventive, spells, open_end),
        adoptions,
        min_age,
        max_age,
        progress,
    )
    panel, open_end = child_years.panel, child_years.open_end
    panel = panel.assign(
        post=((panel["first_treat"] > 0) & (panel["year"] >= panel["first_treat"])).astype("int64"),
    )
    panel = panel.assign(treated=(panel["treated_unit"] * panel["post"]).astype("int64"))

    panel = panel.sort_values(["person_id", "year"]).reset_index(drop=True)
    entry = panel.drop_duplicates("person_id")[
        ["person_id", "year", "age", "municipality", "origin", "treated_unit", "mother_id", "father_id"]
    ]
    entry = entry.rename(
        columns={
            "year": "entry_year",
            "age": "age_at_entry",
            "municipality": "entry_municipality",
            "origin": "entry_origin",
            "treated_unit": "entry_treated_unit",
        }
    )
    movers = panel.groupby("person_id")["municipality"].nunique()
    if (movers > 1).any():
        progress(
            f"cohort: {int((movers > 1).sum()):,} children change municipality inside the panel; "
            "their group is that of the entry year"
        )
    base = baseline_covariates(entry, ex["foraeldre"], notifications)
    entry = entry.drop(columns=["mother_id", "father_id", "entry_treated_unit"]).merge(base, on="person_id")
    panel = panel.merge(entry, on="person_id", how="left")
    progress(
        f"cohort: baseline: {int(base['parent_missing'].sum()):,} children without parents' data in the entry year, "
        f"{int(base['parent_income_missing'].sum()):,} with imputed parents' income"
    )

    panel = panel.merge(outcome_values(ex["udfald"]), on=["person_id", "year"], how="left")
    costs = _cost_per_child_year(spells, preventive, config["prices"], child_years.years)
    panel = panel.merge(costs, on=["person_id", "year"], how="left")
    panel["cost_per_child"] = panel["cost_per_child"].fillna(0.0).astype("float64")
    placements = placement_outcomes(
        panel[["person_id", "year"]],
        spells,
        events,
        open_end,
        pd.Timestamp(cutoff) if cutoff is not None else None,
    )
    panel = panel.merge(placements, on=["person_id", "year"], how="left", validate="one_to_one")
    panel = panel[PANEL_COLUMNS].sort_values(["person_id", "year"]).reset_index(drop=True)
    flow = sample_flow(child_years.first, panel)
    return CohortResult(panel=panel, flow=flow, cutoff_removed=removed)


def build_panel(
    interim_dir: Path,
    config: Mapping[str, Any],
    panel_path: Path,
    flow_path: Path,
    progress: Callable[[str], None] = print,
    *,
    cut: bool = True,
) -> None:
    """Pipeline step: build the cohort panel and the sample flow from the ingested extracts.

    Only the columns :data:`COHORT_COLUMNS` are read. With ``cut=False`` each extract is read when
    :func:`build_cohort` needs it, so that the population and the parents are never in memory together.

    Parameters
    ----------
    interim_dir
        Folder with the ingested extracts (``befolkning.parquet``, ...).
    config
        The validated study configuration.
    panel_path
        Output Parquet (microdata: keep it under ``data/interim``).
    flow_path
        Output CSV of the sample flow.
    progress
        Called with progress messages.
    cut
        Apply the data cut-off of ``config``; False when ``interim_dir`` holds the extracts the pipeline's
        ``cut_extracts`` step cut with it (:func:`build_cohort`).
    """
    extracts = ExtractFiles(Path(interim_dir), COHORT_EXTRACTS, step="cohort", columns=COHORT_COLUMNS)
    result = build_cohort(extracts, config, progress=progress, cut=cut)
    write_table(result.panel, Path(panel_path))
    Path(flow_path).parent.mkdir(parents=True, exist_ok=True)
    write_csv(result.flow, flow_path)
    progress(f"cohort: wrote {len(result.panel):,} child-years to {panel_path} and the sample flow to {flow_path}")
