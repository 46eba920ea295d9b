"""Tables and numbers of the appendix on comparison municipalities.

Reads ``compare/municipalities.csv`` and ``compare/municipality_balance.csv`` of the pipeline
step ``compare_municipalities`` (:mod:`evaluation.municipality_comparison`): for each adopting
municipality its nearest never-adopting municipalities on pre-reform features, with distances,
and the balance of the features. Nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd

from evaluation.errors import ReportError
from evaluation.report.numbers import check_language, format_number

__all__ = ["municipality_balance_table", "municipality_table", "municipality_variables"]

#: feature -> decimals shown
DECIMALS = {
    "children_log": 2,
    "parent_basic_education_share": 3,
    "parent_income": 0,
    "placement_rate_level": 1,
    "placement_rate_trend": 2,
    "spending_per_child_level": 0,
    "spending_per_child_trend": 0,
}
_WORDS = {
    "da": {
        "features": {
            "children_log": "Børn 0-17 år (log)",
            "parent_basic_education_share": "Andel børn med forældre med grundskole som højeste uddannelse",
            "parent_income": "Forældres gns. indkomst (1.000 kr.)",
            "placement_rate_level": "Anbragte pr. 1.000 børn, niveau",
            "placement_rate_trend": "Anbragte pr. 1.000 børn, udvikling pr. år",
            "spending_per_child_level": "Udgift pr. barn (kr.), niveau",
            "spending_per_child_trend": "Udgift pr. barn (kr.), udvikling pr. år",
        },
        "table": ["Indsatskommune", "Sammenligningskommuner (nærmeste først)", "Gns. afstand"],
        "balance": ["Kendetegn", "Indsatskommuner", "Valgte sammenligningskommuner", "Alle øvrige kommuner",
                    "SMD, valgte", "SMD, alle øvrige"],
    },
    "en": {
        "features": {
            "children_log": "Children aged 0-17 (log)",
            "parent_basic_education_share": "Share of children whose parents have basic schooling only",
            "parent_income": "Parents' mean income (DKK 1,000)",
            "placement_rate_level": "Placed per 1,000 children, level",
            "placement_rate_trend": "Placed per 1,000 children, change per year",
            "spending_per_child_level": "Spending per child (DKK), level",
            "spending_per_child_trend": "Spending per child (DKK), change per year",
        },
        "table": ["Adopting municipality", "Comparison municipalities (nearest first)", "Mean distance"],
        "balance": ["Characteristic", "Adopters", "Selected comparisons", "All other municipalities",
                    "SMD, selected", "SMD, all others"],
    },
}  # fmt: skip


def municipality_table(distances: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """One row per adopting municipality: its selected comparison municipalities and their mean distance.

    Parameters
    ----------
    distances : pandas.DataFrame
        ``compare/municipalities.csv``: ``treated, treated_name, comparison, comparison_name, distance, rank,
        selected``.
    language : {"da", "en"}

    Returns
    -------
    pandas.DataFrame
        Three text columns, adopters in order of their code.

    Raises
    ------
    ReportError
        If no comparison municipality is selected.
    """
    words = _WORDS[check_language(language)]
    chosen = distances.loc[distances["selected"].astype(bool)].sort_values(["treated", "rank"])
    if chosen.empty:
        raise ReportError("compare/municipalities.csv selects no comparison municipality: rerun compare_municipalities")
    rows = []
    for _, group in chosen.groupby("treated", sort=True):
        rows.append(
            [
                str(group["treated_name"].iloc[0]),
                ", ".join(group["comparison_name"].astype(str)),
                format_number(float(group["distance"].mean()), 2, language=language),
            ]
        )
    return pd.DataFrame(rows, columns=words["table"])


def municipality_balance_table(balance: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """Pre-reform means of each feature and standardised differences, adopters against comparisons.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``compare/municipality_balance.csv``: ``feature, treated, selected, candidates, smd_selected,
        smd_candidates``.
    language : {"da", "en"}

    Returns
    -------
    pandas.DataFrame
        One row per feature, formatted.
    """
    words = _WORDS[check_language(language)]
    rows = []
    for row in balance.itertuples(index=False):
        decimals = DECIMALS.get(row.feature, 2)
        rows.append(
            [
                words["features"].get(row.feature, row.feature),
                *(format_number(float(v), decimals, language=language) for v in (row.treated, row.selected,
                                                                                 row.candidates)),
                *(format_number(float(v), 2, language=language, sign=True) for v in (row.smd_selected,
                                                                                     row.smd_candidates)),
            ]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=words["balance"])


def municipality_variables(distances: pd.DataFrame, balance: pd.DataFrame, *, language: str = "da") -> dict[str, str]:
    """Numbers of the appendix text: ``mun_k``, ``mun_n_adopters``, ``mun_n_candidates``, ``mun_max_smd``."""
    chosen = distances.loc[distances["selected"].astype(bool)]
    per = chosen.groupby("treated").size()
    return {
        "mun_k": str(int(per.max())) if len(per) else "0",
        "mun_n_adopters": str(int(distances["treated"].nunique())),
        "mun_n_candidates": str(int(distances["comparison"].nunique())),
        "mun_max_smd": format_number(float(balance["smd_selected"].abs().max()), 2, language=language),
    }
