"""The municipal factsheet: key figures of one municipality against its comparison group and the country.

Reads ``results/factsheets/municipality_figures.csv`` (computed by
:mod:`evaluation.steps.keyfigures`) and builds the factsheet's table, figure and text
values. Nothing is recomputed: the report only selects and formats.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from evaluation.errors import ReportError
from evaluation.report.figures import small_multiples
from evaluation.report.labels import label
from evaluation.report.numbers import format_number, format_percent
from evaluation.report.tables import MISSING

FIGURE_ORDER: tuple[str, ...] = (
    "open_case_per_1000",
    "placed_per_1000",
    "family_care_share",
    "caseload_per_worker",
    "sdq_mean",
    "cost_per_child",
)
LEVEL_ORDER: tuple[str, ...] = ("municipality", "comparison", "national")
_DECIMALS = {"open_case_per_1000": 1, "placed_per_1000": 1, "caseload_per_worker": 1, "sdq_mean": 1}
_DECIMALS |= {"cost_per_child": 0}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def format_figure(figure: str, value: float, *, language: str = "da") -> str:
    """Format a key figure: per cent for the share, else its decimals; ``–`` when suppressed."""
    if pd.isna(value):
        return MISSING
    if figure == "family_care_share":
        return format_percent(value, 0, language=language)
    return format_number(value, _DECIMALS.get(figure, 1), language=language)


def municipality_rows(figures: pd.DataFrame, municipality: int) -> pd.DataFrame:
    """Return the rows of one municipality's factsheet.

    Raises
    ------
    ReportError
        If the municipality has no factsheet figures.
    """
    rows = figures[figures["municipality"].astype(int) == int(municipality)]
    if rows.empty:
        available = ", ".join(str(int(m)) for m in sorted(set(figures["municipality"])))
        raise ReportError(
            f"results/factsheets/municipality_figures.csv has no figures for municipality {municipality}: "
            f"factsheets exist for {available}"
        )
    return rows


def factsheet_year(rows: pd.DataFrame) -> int:
    """Return the latest year with a value for the municipality itself."""
    own = rows[(rows["level"] == "municipality") & rows["value"].notna()]
    return int((own if not own.empty else rows)["year"].max())


def _all_label(language: str, whole_country: bool) -> str:
    """Return the label of the level that covers every municipality: the country, or those in the data."""
    return label("group", "national" if whole_country else "all_in_data", language)


def factsheet_table(
    figures: pd.DataFrame, municipality: int, *, language: str = "da", whole_country: bool = True
) -> pd.DataFrame:
    """Key figures in the latest year: municipality, comparison group and country side by side.

    Parameters
    ----------
    figures : pandas.DataFrame
        ``results/factsheets/municipality_figures.csv``.
    municipality : int
        Municipality code.
    language : {"da", "en"}, default "da"
        Labels and numbers.
    whole_country : bool, default True
        Whether the data cover all 98 municipalities ("Hele landet"); else the level is labelled
        "all municipalities in the data".

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per key figure.
    """
    rows = municipality_rows(figures, municipality)
    year = factsheet_year(rows)
    values = rows[rows["year"] == year].set_index(["figure", "level"])["value"]
    name = str(rows["name"].iloc[0])
    kind = str(rows["comparison"].iloc[0])
    headers = {
        "municipality": name,
        "comparison": _capital(label("factsheet_comparison", kind, language)),
        "national": _all_label(language, whole_country),
    }
    shown = [f for f in FIGURE_ORDER if f in set(rows["figure"])]
    columns = {f"{label('column', 'key_figure', language)} ({year})": [label("figure", f, language) for f in shown]}
    for level in LEVEL_ORDER:
        columns[headers[level]] = [
            format_figure(f, values.get((f, level), float("nan")), language=language) for f in shown
        ]
    return pd.DataFrame(columns)


def factsheet_figure(
    figures: pd.DataFrame,
    municipality: int,
    adoption_year: int | None,
    *,
    language: str = "da",
    whole_country: bool = True,
) -> Figure:
    """Each key figure over time for the municipality, its comparison group and the country.

    Parameters
    ----------
    figures : pandas.DataFrame
        ``results/factsheets/municipality_figures.csv``.
    municipality : int
        Municipality code.
    adoption_year : int or None
        The municipality's adoption year, marked with a vertical line.
    language : {"da", "en"}, default "da"
        Labels and numbers.
    whole_country : bool, default True
        As :func:`factsheet_table`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per key figure.
    """
    rows = municipality_rows(figures, municipality)
    kind = str(rows["comparison"].iloc[0])
    data = rows.rename(columns={"figure": "panel", "level": "series"})
    shown = [f for f in FIGURE_ORDER if f in set(rows["figure"])]
    titles = {f: label("figure", f, language) + (" (%)" if f == "family_care_share" else "") for f in shown}
    series_labels = {
        "municipality": str(rows["name"].iloc[0]),
        "comparison": _capital(label("factsheet_comparison", kind, language)),
        "national": _all_label(language, whole_country),
    }
    return small_multiples(
        data,
        shown,
        titles,
        list(LEVEL_ORDER),
        series_labels,
        adoption_years=[adoption_year] if adoption_year else [],
        language=language,
        n_cols=3,
        percent=frozenset({"family_care_share"}),
    )


def factsheet_variables(
    figures: pd.DataFrame,
    municipality: int,
    adoption_year: int | None,
    *,
    language: str = "da",
    whole_country: bool = True,
) -> dict[str, str]:
    """Values the factsheet's text uses: ``fs_name``, ``fs_year``, ``fs_comparison``, ``fs_<figure>_<level>``.

    Parameters
    ----------
    figures : pandas.DataFrame
        ``results/factsheets/municipality_figures.csv``.
    municipality : int
        Municipality code.
    adoption_year : int or None
        Adoption year, or None for a municipality without the model.
    language : {"da", "en"}, default "da"
        Words and numbers.

    Returns
    -------
    dict of str to str
        Variable -> display string.
    """
    rows = municipality_rows(figures, municipality)
    year = factsheet_year(rows)
    kind = str(rows["comparison"].iloc[0])
    if adoption_year:
        adoption = label("factsheet_adoption", "adopted", language).format(year=adoption_year)
    else:
        adoption = label("factsheet_adoption", "not_adopted", language)
    values = {
        "fs_name": str(rows["name"].iloc[0]),
        "fs_code": str(int(municipality)),
        "fs_year": str(year),
        "fs_comparison": label("factsheet_comparison", kind, language),
        # mid-sentence: "hele landet", "alle kommuner i data", "Denmark", "all municipalities in the data"
        "fs_all": _all_label(language, whole_country)
        if whole_country and language == "en"
        else _all_label(language, whole_country).lower(),
        "fs_adoption": adoption,
    }
    latest = rows[rows["year"] == year]
    for figure in FIGURE_ORDER:
        for level in LEVEL_ORDER:
            match = latest[(latest["figure"] == figure) & (latest["level"] == level)]["value"]
            value = float(match.iloc[0]) if len(match) else float("nan")
            values[f"fs_{figure}_{level}"] = format_figure(figure, value, language=language)
    return values
