"""The study cohort: children with an open case, as a child-year panel with treatment timing.

The cohort step turns the ingested extracts (readable field names, see
:mod:`evaluation.contract.extracts`) into

* ``panel.parquet``: one row per child-year with an open case, with the
  municipality's treatment timing (``first_treat``, ``treated_unit``, ``post``,
  ``treated``), the child's age and sex, baseline covariates fixed at the
  child's first open-case year (the *entry* year) and the outcomes (SDQ,
  school absence, cost per child-year) and the placement outcomes of
  :mod:`evaluation.cohort.placements` (entry into care, network or foster share of new
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.cohort.cases import age_on_january_first, open_case_years, spell_years
from evaluation.cohort.covariates import BASIC_EDUCATION_LEVEL, OUTCOME_MEASURES, baseline_covariates, outcome_values
from evaluation.cohort.cutoff import cut_extracts
from evaluation.cohort.placements import placement_outcomes
from evaluation.cohort.timing import adoption_years, apply_cutoff, first_treat
from evaluation.config import effective_cutoff
from evaluation.errors import ExtractValidationError
from evaluation.io import read_extracts as _read_extracts
from evaluation.io import write_table

__all__ = [
    "BASIC_EDUCATION_LEVEL",
    "FLOW_COLUMNS",
    "OUTCOME_MEASURES",
    "PANEL_COLUMNS",
    "CohortResult",
    "adoption_years",
    "age_on_january_first",
    "apply_cutoff",
    "baseline_covariates",
    "build_cohort",
    "build_panel",
    "cut_extracts",
    "first_treat",
    "open_case_years",
    "outcome_values",
    "read_extracts",
    "sample_flow",
    "spell_years",
    "write_table",
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

FLOW_COLUMNS = ["step", "description", "n_treated", "n_control"]


@dataclass(frozen=True)
class CohortResult:
    """The outcome of :func:`build_cohort`.

    Attributes
    ----------
    panel
        Child-years with an open case (columns :data:`PANEL_COLUMNS`), sorted by person_id and year.
    flow
        Sample flow: ``step, description, n_treated, n_control`` (distinct children).
    cutoff_removed
        Records removed or truncated by the data cut-off, by extract (empty without a cut-off).
    """

    panel: pd.DataFrame
    flow: pd.DataFrame
    cutoff_removed: dict[str, int]


# --------------------------------------------------------------------------- treatment timing


def read_extracts(interim_dir: Path, names: tuple[str, ...] = COHORT_EXTRACTS) -> dict[str, pd.DataFrame]:
    """Read the extracts the cohort step needs (:func:`evaluation.io.read_extracts`)."""
    return _read_extracts(interim_dir, names, step="cohort")


def _cost_per_child_year(
    extracts: Mapping[str, pd.DataFrame], prices: Mapping[str, Any], years: list[int]
) -> pd.DataFrame:
    """Cost of each child-year from the placement and preventive spells (:mod:`evaluation.costs`)."""
    from evaluation.costs import child_year_costs

    spells = pd.concat([extracts["anbringelser_forloeb"], extracts["forebyggende"]], ignore_index=True, sort=False)
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
        ``step, description, n_treated, n_control``; rows starting with "heraf" are subsets of the row above.
    """

    def split(frame: pd.DataFrame) -> tuple[int, int]:
        first = frame.sort_values(["person_id", "year"]).drop_duplicates("person_id")
        n_treated = int(first["treated_unit"].sum())
        return n_treated, len(first) - n_treated

    entry = panel.loc[panel["year"] == panel["entry_year"]]
    complete = entry.dropna(subset=["age_at_entry", "sex", "entry_origin", "parent_income", "prior_notifications"])
    rows = [
        ("population", "Alle børn 0-17 år i befolkningen", *split(population)),
        ("open_case", "Børn med mindst ét år med åben sag", *split(panel)),
        ("baseline", "Børn med baselinekovariater i indgangsåret", *split(complete)),
        (
            "parent_missing",
            "heraf uden oplysninger om forældre i indgangsåret (indikator i matchningen)",
            *split(complete.loc[complete["parent_missing"] == 1]),
        ),
        (
            "parent_income_imputed",
            "heraf med imputeret forældreindkomst (gennemsnit og indikator)",
            *split(complete.loc[complete["parent_income_missing"] == 1]),
        ),
    ]
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def build_cohort(
    extracts: Mapping[str, pd.DataFrame], config: Mapping[str, Any], progress: Callable[[str], None] = print
) -> CohortResult:
    """Build the cohort panel and sample flow from ingested extracts (pure: no files).

    Parameters
    ----------
    extracts
        Ingested extracts by name (:data:`COHORT_EXTRACTS`), readable field names.
    config
        Study configuration: ``treatment.adoptions``, ``cohort.min_age``/``max_age``,
        ``report.cutoff_date``, ``prices``.
    progress
        Called with counts of what each stage keeps and removes.

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
    cohort_cfg = config.get("cohort") or {}
    min_age, max_age = int(cohort_cfg.get("min_age", 0)), int(cohort_cfg.get("max_age", 17))
    cutoff = effective_cutoff(config)
    ex, removed = apply_cutoff(extracts, cutoff)
    for name, n in sorted(removed.items()):
        verb = "truncated" if name.endswith("_truncated") else "removed"
        progress(f"cohort: data cut-off {cutoff}: {n:,} {name.removesuffix('_truncated')} records {verb}")

    pop = ex["befolkning"]
    dup = pop.duplicated(["person_id", "year"])
    if dup.any():
        raise ExtractValidationError(
            f"befolkning: {int(dup.sum())} duplicated child-years (person_id, year); one row per child and year."
        )
    age = age_on_january_first(pop["birth_date"], pop["year"])
    in_range = age.between(min_age, max_age)
    if (~in_range).any():
        progress(f"cohort: {int((~in_range).sum()):,} befolkning rows outside ages {min_age}-{max_age} left out")
    pop = pop.loc[in_range].assign(age=age[in_range]).reset_index(drop=True)
    pop = pop.assign(first_treat=first_treat(pop["municipality"], adoptions))
    pop = pop.assign(treated_unit=(pop["first_treat"] > 0).astype("int64"))
    progress(f"cohort: {pop['person_id'].nunique():,} children, {len(pop):,} child-years aged {min_age}-{max_age}")

    last_year = int(pop["year"].max())
    open_end = pd.Timestamp(year=last_year, month=12, day=31)
    cases = open_case_years(ex["underretninger"], ex["forebyggende"], ex["anbringelser_forloeb"], open_end)
    panel = pop.merge(cases, on=["person_id", "year"], how="inner")
    outside = len(cases) - len(panel)
    progress(
        f"cohort: {len(panel):,} child-years with an open case; {outside:,} open-case years of persons "
        f"outside the population (age or years) left out"
    )
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
    base = baseline_covariates(entry, ex["foraeldre"], ex["underretninger"])
    entry = entry.drop(columns=["mother_id", "father_id", "entry_treated_unit"]).merge(base, on="person_id")
    panel = panel.merge(entry, on="person_id", how="left")
    progress(
        f"cohort: baseline: {int(base['parent_missing'].sum()):,} children without parents' data in the entry year, "
        f"{int(base['parent_income_missing'].sum()):,} with imputed parents' income"
    )

    panel = panel.merge(outcome_values(ex["udfald"]), on=["person_id", "year"], how="left")
    years = sorted(int(y) for y in pop["year"].unique())  # ongoing spells run to the end of the last one
    costs = _cost_per_child_year(ex, config["prices"], years)
    panel = panel.merge(costs, on=["person_id", "year"], how="left")
    panel["cost_per_child"] = panel["cost_per_child"].fillna(0.0).astype("float64")
    placements = placement_outcomes(
        panel[["person_id", "year"]],
        ex["anbringelser_forloeb"],
        ex["anbringelser_haendelser"],
        open_end,
        pd.Timestamp(cutoff) if cutoff is not None else None,
    )
    panel = panel.merge(placements, on=["person_id", "year"], how="left", validate="one_to_one")
    panel = panel[PANEL_COLUMNS].sort_values(["person_id", "year"]).reset_index(drop=True)
    flow = sample_flow(pop, panel)
    return CohortResult(panel=panel, flow=flow, cutoff_removed=removed)


def build_panel(
    interim_dir: Path,
    config: Mapping[str, Any],
    panel_path: Path,
    flow_path: Path,
    progress: Callable[[str], None] = print,
) -> None:
    """Pipeline step: build the cohort panel and the sample flow from the ingested extracts.

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
    """
    extracts = read_extracts(Path(interim_dir))
    result = build_cohort(extracts, config, progress=progress)
    write_table(result.panel, Path(panel_path))
    Path(flow_path).parent.mkdir(parents=True, exist_ok=True)
    result.flow.to_csv(flow_path, index=False, lineterminator="\n")
    progress(f"cohort: wrote {len(result.panel):,} child-years to {panel_path} and the sample flow to {flow_path}")
