"""The implementation chapter: table, figure and text values from ``results/implementation/group_year.csv``.

The figures themselves are computed by :mod:`evaluation.steps.implementation`; this
module only selects, labels and formats them (shares in per cent, caseload and
follow-ups with one decimal). Suppressed cells are shown as an en dash.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from evaluation.report.figures import small_multiples
from evaluation.report.labels import label
from evaluation.report.numbers import format_number, format_percent
from evaluation.report.tables import MISSING

#: indicators in the order the report shows them
INDICATOR_ORDER: tuple[str, ...] = (
    "caseload_per_worker",
    "screened_24h",
    "assessment_4_months",
    "conversation_before_decision",
    "followups_per_child",
    "audit_share",
    "caseworker_turnover",
)
#: indicators that are shares (shown in per cent)
SHARES: frozenset[str] = frozenset(
    {"screened_24h", "assessment_4_months", "conversation_before_decision", "audit_share", "caseworker_turnover"}
)
GROUP_ORDER: tuple[str, ...] = ("treated", "comparison", "national")


def format_indicator(indicator: str, value: float, *, language: str = "da") -> str:
    """Format one indicator value: per cent for shares, one decimal otherwise; ``–`` when suppressed.

    Parameters
    ----------
    indicator : str
        The indicator's machine name.
    value : float
        The value (NaN when suppressed).
    language : {"da", "en"}, default "da"
        Number format.

    Returns
    -------
    str
        The display string.
    """
    if pd.isna(value):
        return MISSING
    if indicator in SHARES:
        return format_percent(value, 0, language=language)
    return format_number(value, 1, language=language)


def latest_year(group_year: pd.DataFrame) -> int:
    """Return the last year with a value for the adopting municipalities."""
    shown = group_year[(group_year["group"] == "treated") & group_year["value"].notna()]
    return int((shown if not shown.empty else group_year)["year"].max())


def implementation_table(group_year: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """Each indicator in the latest year, for adopters, comparison municipalities and the country.

    Parameters
    ----------
    group_year : pandas.DataFrame
        ``results/implementation/group_year.csv``.
    language : {"da", "en"}, default "da"
        Labels and numbers.

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per indicator.
    """
    year = latest_year(group_year)
    rows = group_year[group_year["year"] == year].set_index(["indicator", "group"])["value"]
    indicators = [i for i in INDICATOR_ORDER if i in set(group_year["indicator"])]
    columns = {label("column", "indicator", language): [label("indicator", i, language) for i in indicators]}
    for group in GROUP_ORDER:
        columns[label("group", group, language)] = [
            format_indicator(i, rows.get((i, group), float("nan")), language=language) for i in indicators
        ]
    return pd.DataFrame(columns)


def implementation_figure(group_year: pd.DataFrame, adoption_years: list[int], *, language: str = "da") -> Figure:
    """Each indicator over time: adopters against comparison municipalities and the country.

    Parameters
    ----------
    group_year : pandas.DataFrame
        ``results/implementation/group_year.csv``.
    adoption_years : list of int
        Years marked with vertical lines.
    language : {"da", "en"}, default "da"
        Labels and numbers.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per indicator.
    """
    indicators = [i for i in INDICATOR_ORDER if i in set(group_year["indicator"])]
    data = group_year.rename(columns={"indicator": "panel", "group": "series"})
    titles = {i: label("indicator", i, language) + (" (%)" if i in SHARES else "") for i in indicators}
    return small_multiples(
        data,
        indicators,
        titles,
        list(GROUP_ORDER),
        {g: label("group", g, language) for g in GROUP_ORDER},
        adoption_years=adoption_years,
        language=language,
        n_cols=3,
        percent=SHARES,
    )


def implementation_variables(group_year: pd.DataFrame, *, language: str = "da") -> dict[str, str]:
    """Values the implementation chapter's text uses: ``impl_year`` and ``impl_<indicator>_<group>``.

    Parameters
    ----------
    group_year : pandas.DataFrame
        ``results/implementation/group_year.csv``.
    language : {"da", "en"}, default "da"
        Number format.

    Returns
    -------
    dict of str to str
        Variable -> display string, for the latest year.
    """
    year = latest_year(group_year)
    rows = group_year[group_year["year"] == year]
    values = {"impl_year": str(year)}
    for indicator in INDICATOR_ORDER:
        for group in GROUP_ORDER:
            match = rows[(rows["indicator"] == indicator) & (rows["group"] == group)]["value"]
            value = float(match.iloc[0]) if len(match) else float("nan")
            values[f"impl_{indicator}_{group}"] = format_indicator(indicator, value, language=language)
    return values
