"""Key figures for the municipal factsheets: a municipality against its comparison group and the country.

For each factsheet municipality and year, :func:`municipality_figures` computes

- ``open_case_per_1000``: children with an open case (cohort panel) per 1,000 children aged ``cohort.min_age``-
  ``cohort.max_age`` (the municipality-year panel, :mod:`evaluation.steps.municipality_panel`);
- ``placed_per_1000``: children with a placement spell in the year per 1,000 children;
- ``family_care_share``: share of placement spell-years in network or foster care
  (:data:`evaluation.contract.codes.PLACEMENT_GROUP` ``network`` or ``foster``);
- ``caseload_per_worker``: open cases per full-time caseworker (as in :mod:`evaluation.steps.implementation`);
- ``sdq_mean`` and ``cost_per_child``: means over the panel's child-years with a value,

for the municipality itself (level ``municipality``), its comparison group (level
``comparison``) and all municipalities (level ``national``). The comparison group
of an adopting municipality is the municipalities that never adopted the model;
that of one of the six largest cities is the other five of them. Pooled figures
are ratios of pooled sums. A figure resting on fewer than ``min_cell`` children
(for rates per 1,000: children counted in the numerator, as the population is
public) or caseworkers is suppressed, and no count is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract.codes import MUNICIPALITY, PLACEMENT_GROUP
from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError
from evaluation.io import read_extracts, write_csv
from evaluation.scope import SIX_CITIES
from evaluation.steps.cohort.cases import spell_years
from evaluation.steps.implementation import _records, aggregate, caseload_records
from evaluation.steps.municipality_panel import read_municipality_panel

#: the six largest cities (domain brief): København, Aarhus, Odense, Aalborg, Esbjerg, Randers
LARGEST_CITIES: tuple[int, ...] = SIX_CITIES
FIGURES: tuple[str, ...] = (
    "open_case_per_1000",
    "placed_per_1000",
    "family_care_share",
    "caseload_per_worker",
    "sdq_mean",
    "cost_per_child",
)
LEVELS: tuple[str, ...] = ("municipality", "comparison", "national")


def figure_records(
    children: pd.DataFrame,
    panel: pd.DataFrame,
    placements: pd.DataFrame,
    caseworkers: pd.DataFrame,
    *,
    first_year: int,
    last_year: int,
) -> pd.DataFrame:
    """Build the records behind every key figure, with numerator, denominator and person (microdata).

    Parameters
    ----------
    children : pandas.DataFrame
        Children aged ``cohort.min_age``-``cohort.max_age`` by municipality and year: ``municipality, year,
        children`` (the municipality-year panel, :mod:`evaluation.steps.municipality_panel`), sorted.
    panel : pandas.DataFrame
        Cohort panel (person_id, municipality, year, sdq, cost_per_child).
    placements : pandas.DataFrame
        Ingested ``anbringelser_forloeb``.
    caseworkers : pandas.DataFrame
        Ingested ``sagsbehandlere``.
    first_year, last_year : int
        Years covered.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator`` (the figure), ``municipality, year, numerator, denominator, person``.
        Population rows carry no person: the disclosure count of a rate is its numerator's children.
    """
    data_end = pd.Timestamp(f"{last_year}-12-31")
    counts = children[["municipality", "year", "children"]]
    parts = []
    for figure in ("open_case_per_1000", "placed_per_1000"):
        parts.append(
            _records(
                figure, counts["municipality"], counts["year"], 0.0, counts["children"] / 1000, [None] * len(counts)
            )
        )
    parts.append(_records("open_case_per_1000", panel["municipality"], panel["year"], 1.0, 0.0, panel["person_id"]))
    spells = placements[placements["start_date"] <= data_end].reset_index(drop=True)
    years = spell_years(spells, data_end, source="anbringelser_forloeb")
    n_years = (spells["end_date"].fillna(data_end).dt.year - spells["start_date"].dt.year + 1).to_numpy()
    years["municipality"] = np.repeat(spells["municipality"].to_numpy(), n_years)
    family = np.repeat(spells["placement_type"].map(PLACEMENT_GROUP).isin(["network", "foster"]).to_numpy(), n_years)
    placed = years.drop_duplicates(["person_id", "municipality", "year"])
    parts.append(_records("placed_per_1000", placed["municipality"], placed["year"], 1.0, 0.0, placed["person_id"]))
    parts.append(
        _records(
            "family_care_share", years["municipality"], years["year"], family.astype(float), 1.0, years["person_id"]
        )
    )
    load = caseload_records(caseworkers)
    parts.append(load[load["indicator"] == "caseload_per_worker"])
    for column, figure in (("sdq", "sdq_mean"), ("cost_per_child", "cost_per_child")):
        rows = panel[panel[column].notna()]
        parts.append(_records(figure, rows["municipality"], rows["year"], rows[column], 1.0, rows["person_id"]))
    records = pd.concat(parts, ignore_index=True)
    return records[records["year"].between(first_year, last_year)].reset_index(drop=True)


def comparison_sets(
    subjects: Iterable[int], adopters: Iterable[int], municipalities: Iterable[int] | None = None
) -> dict[int, tuple[str, list[int]]]:
    """Choose the comparison group of each factsheet municipality.

    Parameters
    ----------
    subjects : iterable of int
        Factsheet municipalities.
    adopters : iterable of int
        Municipalities that adopted the model.
    municipalities : iterable of int, optional
        The municipalities in the data (default: all 98); comparison groups are drawn from them.

    Returns
    -------
    dict of int to (str, list of int)
        Municipality -> (``"non_adopters"`` or ``"largest_cities"``, the comparison municipalities).

    Raises
    ------
    EvaluationError
        If a subject is neither an adopter nor one of :data:`LARGEST_CITIES`, or is not a municipality code.
    """
    adopters = sorted({int(a) for a in adopters})
    present = set(MUNICIPALITY) if municipalities is None else {int(m) for m in municipalities}
    others = sorted(present - set(adopters))
    sets: dict[int, tuple[str, list[int]]] = {}
    for kom in subjects:
        kom = int(kom)
        if kom not in MUNICIPALITY:
            raise EvaluationError(f"factsheet municipality {kom} is not a municipality code (see kommuner)")
        if kom in adopters:
            sets[kom] = ("non_adopters", others)
        elif kom in LARGEST_CITIES:
            sets[kom] = ("largest_cities", [c for c in LARGEST_CITIES if c != kom and c in present])
        else:
            raise EvaluationError(
                f"factsheet municipality {kom} ({MUNICIPALITY[kom]}) has no comparison group: factsheets cover "
                "adopting municipalities and the six largest cities"
            )
    return sets


def municipality_figures(
    records: pd.DataFrame, subjects: Mapping[int, tuple[str, list[int]]], min_cell: int
) -> pd.DataFrame:
    """Key figures of each factsheet municipality, its comparison group and the country, by year.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`figure_records`.
    subjects : mapping
        Output of :func:`comparison_sets`.
    min_cell : int
        Disclosure threshold (persons).

    Returns
    -------
    pandas.DataFrame
        ``municipality, name, comparison, level, figure, year, value, suppressed``, sorted.
    """
    national = aggregate(records, [], min_cell).assign(level="national")
    comparisons: dict[tuple[int, ...], pd.DataFrame] = {}  # every adopter shares one group: summed once
    parts = []
    for kom, (kind, group) in sorted(subjects.items()):
        own = aggregate(records[records["municipality"] == kom], [], min_cell).assign(level="municipality")
        key = tuple(group)
        if key not in comparisons:
            comparisons[key] = aggregate(records[records["municipality"].isin(group)], [], min_cell)
        comp = comparisons[key].assign(level="comparison")
        parts.append(pd.concat([own, comp, national], ignore_index=True).assign(municipality=kom, comparison=kind))
    table = pd.concat(parts, ignore_index=True).rename(columns={"indicator": "figure"})
    table["name"] = table["municipality"].map(MUNICIPALITY)
    table["_f"] = table["figure"].map({f: i for i, f in enumerate(FIGURES)})
    table["_l"] = table["level"].map({v: i for i, v in enumerate(LEVELS)})
    table = table.sort_values(["municipality", "_f", "_l", "year"]).reset_index(drop=True)
    return table[columns_of("results/{release}/factsheets/municipality_figures.csv")]


def write_municipality_figures(
    extracts_dir: Path,
    panel_path: Path,
    output: Path,
    *,
    municipality_panel: Path,
    adoptions: Mapping[int, int],
    first_year: int,
    last_year: int,
    min_cell: int,
    extra_municipalities: Iterable[int] = LARGEST_CITIES,
    municipalities: Iterable[int] | None = None,
) -> Path:
    """Pipeline step: write ``results/factsheets/municipality_figures.csv``.

    Parameters
    ----------
    extracts_dir : Path
        Folder of the cut Parquet extracts (``anbringelser_forloeb`` and ``sagsbehandlere`` are read).
    panel_path : Path
        Cohort panel.
    output : Path
        The CSV to write.
    municipality_panel : Path
        The municipality-year panel (:func:`evaluation.steps.municipality_panel.write_municipality_panel`): the
        children of the cohort's ages by municipality and year.
    adoptions : mapping of int to int
        ``treatment.adoptions``: every adopter gets a factsheet.
    first_year, last_year : int
        Years covered.
    min_cell : int
        ``disclosure.min_cell``.
    extra_municipalities : iterable of int, default the six largest cities
        Further factsheet municipalities.
    municipalities : iterable of int, optional
        The municipalities in the data (the study's scope; default all 98): comparison groups and the
        "all municipalities" level cover only these.

    Returns
    -------
    Path
        ``output``.
    """
    frames = read_extracts(
        Path(extracts_dir),
        ("anbringelser_forloeb", "sagsbehandlere"),
        step="factsheet_figures",
        columns={
            "anbringelser_forloeb": ["person_id", "municipality", "placement_type", "start_date", "end_date"],
            "sagsbehandlere": ["caseworker_id", "municipality", "month", "fte", "active_cases", "employed_to"],
        },
    )
    panel = pd.read_parquet(panel_path, columns=["person_id", "municipality", "year", "sdq", "cost_per_child"])
    records = figure_records(
        read_municipality_panel(Path(municipality_panel)),
        panel,
        frames["anbringelser_forloeb"],
        frames["sagsbehandlere"],
        first_year=first_year,
        last_year=last_year,
    )
    subjects = comparison_sets(
        list(dict.fromkeys([*map(int, adoptions), *extra_municipalities])), adoptions, municipalities
    )
    table = municipality_figures(records, subjects, min_cell)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, output)
    return output
