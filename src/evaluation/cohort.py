"""The study cohort: children with an open case, as a child-year panel with treatment timing.

The cohort step turns the ingested extracts (readable field names, see
:mod:`evaluation.contract.extracts`) into

* ``panel.parquet``: one row per child-year with an open case, with the
  municipality's treatment timing (``first_treat``, ``treated_unit``, ``post``,
  ``treated``), the child's age and sex, baseline covariates fixed at the
  child's first open-case year (the *entry* year) and the outcomes (SDQ,
  school absence, cost per child-year);
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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import ConfigError, ExtractError, ExtractValidationError

#: Extracts the cohort step reads from the interim folder.
COHORT_EXTRACTS = ("befolkning", "foraeldre", "underretninger", "forebyggende", "anbringelser_forloeb", "udfald")

#: Outcome columns of the panel and the ``udfald`` measure code each comes from.
OUTCOME_MEASURES = {"sdq": "SDQ", "school_absence": "FRAVAER"}

#: Education level (HFAUDD level) meaning basic schooling only (grundskole).
BASIC_EDUCATION_LEVEL = 10

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


def adoption_years(config: Mapping[str, Any]) -> dict[int, int]:
    """Return the adoption year of each adopting municipality from ``treatment.adoptions``.

    Parameters
    ----------
    config
        The study configuration; keys of ``treatment.adoptions`` may be int or str codes.

    Returns
    -------
    dict
        Municipality code -> first calendar year under the Herning model.

    Raises
    ------
    ConfigError
        For a code that is not one of the 98 municipalities, or a year that is not a whole number.
    """
    adoptions = (config.get("treatment") or {}).get("adoptions") or {}
    out: dict[int, int] = {}
    for code, year in adoptions.items():
        try:
            kom = int(code)
        except (TypeError, ValueError):
            raise ConfigError(
                f"treatment.adoptions: {code!r} is not a municipality code (a number such as 657)."
            ) from None
        if kom not in MUNICIPALITY:
            raise ConfigError(
                f"treatment.adoptions: {kom} is not one of the 98 municipality codes; "
                "see src/evaluation/data/municipalities.csv."
            )
        try:
            out[kom] = int(year)
        except (TypeError, ValueError):
            raise ConfigError(
                f"treatment.adoptions.{kom} = {year!r}: the adoption year must be a whole number."
            ) from None
    return out


def first_treat(municipality: pd.Series, adoptions: Mapping[int, int]) -> pd.Series:
    """Map municipality codes to their first year under the model (0 = never adopts).

    Parameters
    ----------
    municipality
        Municipality codes.
    adoptions
        Output of :func:`adoption_years`.

    Returns
    -------
    pandas.Series
        int64, aligned with ``municipality``.
    """
    return municipality.astype("int64").map(dict(adoptions)).fillna(0).astype("int64")


# --------------------------------------------------------------------------- cut-off


def apply_cutoff(
    extracts: Mapping[str, pd.DataFrame], cutoff: str | None
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Leave out everything recorded after the data cut-off.

    Notifications dated after the cut-off are dropped; spells starting after it
    are dropped and spells ending after it (or still open) are truncated at it;
    population, parents' and outcome rows of years after the cut-off year are dropped.

    Parameters
    ----------
    extracts
        Ingested extracts by name (see :data:`COHORT_EXTRACTS`).
    cutoff
        ``YYYY-MM-DD`` or None (no cut-off: everything is returned unchanged).

    Returns
    -------
    (dict, dict)
        The extracts after the cut-off, and the number of records removed
        (``<extract>``) or truncated (``<extract>_truncated``).

    Raises
    ------
    ConfigError
        When ``cutoff`` is not a valid ``YYYY-MM-DD`` date.
    """
    out = dict(extracts)
    if cutoff is None:
        return out, {}
    try:
        cut = pd.Timestamp(str(cutoff))
    except ValueError:
        raise ConfigError(f"report.cutoff_date = {cutoff!r} is not a date; write it as YYYY-MM-DD.") from None
    removed: dict[str, int] = {}
    for name in ("befolkning", "foraeldre", "udfald"):
        if name in out:
            keep = out[name]["year"] <= cut.year
            removed[name] = int((~keep).sum())
            out[name] = out[name].loc[keep].reset_index(drop=True)
    if "underretninger" in out:
        keep = out["underretninger"]["date"] <= cut
        removed["underretninger"] = int((~keep).sum())
        out["underretninger"] = out["underretninger"].loc[keep].reset_index(drop=True)
    for name in ("forebyggende", "anbringelser_forloeb"):
        if name in out:
            spells = out[name]
            keep = spells["start_date"] <= cut
            removed[name] = int((~keep).sum())
            spells = spells.loc[keep].reset_index(drop=True)
            late = spells["end_date"].isna() | (spells["end_date"] > cut)
            removed[f"{name}_truncated"] = int(late.sum())
            spells = spells.assign(end_date=spells["end_date"].where(~late, cut))
            out[name] = spells
    return out, removed


# --------------------------------------------------------------------------- child-years and open cases


def age_on_january_first(birth_date: pd.Series, year: pd.Series) -> pd.Series:
    """Age in whole years on 1 January of ``year``.

    Parameters
    ----------
    birth_date
        Dates of birth (datetime64).
    year
        Calendar years, aligned with ``birth_date``.

    Returns
    -------
    pandas.Series
        int64 ages; a child born on 1 January is a year older than one born on 2 January.
    """
    born_jan1 = (birth_date.dt.month == 1) & (birth_date.dt.day == 1)
    return (year.astype("int64") - birth_date.dt.year.astype("int64") - 1 + born_jan1.astype("int64")).astype("int64")


def spell_years(spells: pd.DataFrame, open_end: pd.Timestamp, *, source: str = "spells") -> pd.DataFrame:
    """Expand spells to the calendar years they overlap.

    Parameters
    ----------
    spells
        Frame with ``person_id``, ``start_date`` and ``end_date`` (NaT = ongoing).
    open_end
        The date an ongoing spell is taken to last until (end of the data).
    source
        Name of the extract, for error messages.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year``, one row per spell and overlapped year (duplicates possible).

    Raises
    ------
    ExtractValidationError
        When a spell ends before it starts.
    """
    end = spells["end_date"].fillna(open_end)
    bad = end < spells["start_date"]
    if bad.any():
        first = spells.loc[bad].iloc[0]
        raise ExtractValidationError(
            f"{source}: {int(bad.sum())} spell(s) end before they start, e.g. spell {first.get('spell_id', '?')} "
            f"(start_date {first['start_date']:%Y-%m-%d}, end_date {first['end_date']:%Y-%m-%d}); "
            "correct the dates in the extract."
        )
    start_year = spells["start_date"].dt.year.to_numpy(dtype="int64")
    n_years = end.dt.year.to_numpy(dtype="int64") - start_year + 1
    idx = np.repeat(np.arange(len(spells)), n_years)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(n_years) - n_years, n_years)
    return pd.DataFrame({"person_id": spells["person_id"].to_numpy()[idx], "year": start_year[idx] + offset})


def open_case_years(
    notifications: pd.DataFrame, preventive: pd.DataFrame, placements: pd.DataFrame, open_end: pd.Timestamp
) -> pd.DataFrame:
    """Return the distinct (person_id, year) pairs with an open case.

    A year is open iff a notification is dated in it or a preventive or
    placement spell overlaps it (see the module docstring).

    Parameters
    ----------
    notifications, preventive, placements
        Ingested ``underretninger``, ``forebyggende`` and ``anbringelser_forloeb``.
    open_end
        End date assumed for ongoing spells.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year`` with an ``open_case`` column of 1, sorted.
    """
    parts = [
        pd.DataFrame({"person_id": notifications["person_id"], "year": notifications["date"].dt.year.astype("int64")}),
        spell_years(preventive, open_end, source="forebyggende"),
        spell_years(placements, open_end, source="anbringelser_forloeb"),
    ]
    years = pd.concat(parts, ignore_index=True).drop_duplicates().sort_values(["person_id", "year"])
    return years.assign(open_case=1).reset_index(drop=True)


# --------------------------------------------------------------------------- baseline covariates


def baseline_covariates(entry: pd.DataFrame, parents: pd.DataFrame, notifications: pd.DataFrame) -> pd.DataFrame:
    """Baseline covariates of each child, fixed in its entry year.

    Parameters
    ----------
    entry
        One row per child: ``person_id, entry_year, mother_id, father_id`` (parents from the
        child's ``befolkning`` row in the entry year; missing ids allowed).
    parents
        Ingested ``foraeldre``: ``year, person_id, education_level, income``.
    notifications
        Ingested ``underretninger``.

    Returns
    -------
    pandas.DataFrame
        One row per child: ``person_id, parent_basic_education`` (any parent with basic schooling
        only, 0/1), ``parent_missing`` (no parent found in ``foraeldre`` in the entry year, 0/1),
        ``parent_income`` (mean income of the parents found, DKK 1,000; missing values imputed with
        the mean over the cohort), ``parent_income_missing`` (0/1) and ``prior_notifications``
        (notifications in the entry year).
    """
    links = pd.concat(
        [
            entry[["person_id", "entry_year", col]].rename(columns={col: "parent_id"})
            for col in ("mother_id", "father_id")
        ],
        ignore_index=True,
    )
    links = links.loc[links["parent_id"].notna()]
    rows = parents[["year", "person_id", "education_level", "income"]].rename(
        columns={"person_id": "parent_id", "year": "entry_year"}
    )
    found = links.merge(rows, on=["parent_id", "entry_year"], how="inner")
    found = found.assign(basic=(found["education_level"] == BASIC_EDUCATION_LEVEL).astype("int64"))
    per_child = found.groupby("person_id", sort=True).agg(basic=("basic", "max"), income=("income", "mean"))
    out = entry[["person_id", "entry_year"]].merge(per_child, left_on="person_id", right_index=True, how="left")
    out["parent_missing"] = out["basic"].isna().astype("int64")
    out["parent_basic_education"] = out["basic"].fillna(0).astype("int64")
    income = out["income"].astype("float64") / 1000.0
    out["parent_income_missing"] = income.isna().astype("int64")
    mean_income = float(income.mean()) if income.notna().any() else 0.0
    out["parent_income"] = income.fillna(mean_income)
    counts = (
        notifications.assign(entry_year=notifications["date"].dt.year.astype("int64"))
        .groupby(["person_id", "entry_year"])
        .size()
        .rename("prior_notifications")
        .reset_index()
    )
    out = out.merge(counts, on=["person_id", "entry_year"], how="left")
    out["prior_notifications"] = out["prior_notifications"].fillna(0).astype("int64")
    cols = [
        "person_id",
        "parent_basic_education",
        "parent_missing",
        "parent_income",
        "parent_income_missing",
        "prior_notifications",
    ]
    return out[cols]


# --------------------------------------------------------------------------- outcomes


def outcome_values(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Wide child-year outcomes from the long ``udfald`` extract.

    Parameters
    ----------
    outcomes
        Ingested ``udfald``: ``person_id, year, measure, value``.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year`` and one float column per entry of :data:`OUTCOME_MEASURES`.

    Raises
    ------
    ExtractValidationError
        When a child has two values of the same measure in one year.
    """
    wanted = outcomes.loc[outcomes["measure"].isin(list(OUTCOME_MEASURES.values()))]
    dup = wanted.duplicated(["person_id", "year", "measure"])
    if dup.any():
        row = wanted.loc[dup].iloc[0]
        raise ExtractValidationError(
            f"udfald: {int(dup.sum())} duplicated (person_id, year, measure) rows, e.g. year {row['year']}, "
            f"measure {row['measure']}; keep one value per child, year and measure."
        )
    wide = wanted.pivot(index=["person_id", "year"], columns="measure", values="value")
    wide = wide.reindex(columns=list(OUTCOME_MEASURES.values()))
    wide.columns = list(OUTCOME_MEASURES.keys())
    return wide.astype("float64").reset_index()


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to Parquet with fixed options, so that identical frames give identical bytes.

    Parameters
    ----------
    df
        The frame (its index is not written).
    path
        Output file; parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True)


def read_extracts(interim_dir: Path, names: tuple[str, ...] = COHORT_EXTRACTS) -> dict[str, pd.DataFrame]:
    """Read ingested extracts ``<name>.parquet`` from ``interim_dir``.

    Raises
    ------
    ExtractError
        When a file is missing (run the ingest step first).
    """
    out = {}
    for name in names:
        path = Path(interim_dir) / f"{name}.parquet"
        if not path.exists():
            raise ExtractError(
                f"{path} not found: the cohort step needs the ingested extract '{name}'; run the ingest step first."
            )
        out[name] = pd.read_parquet(path)
    return out


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
    cutoff = (config.get("report") or {}).get("cutoff_date")
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
