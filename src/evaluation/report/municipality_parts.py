"""Tables and numbers of the appendix on comparison municipalities.

Reads ``compare/municipalities.csv`` and ``compare/municipality_balance.csv`` of the pipeline
step ``compare_municipalities`` (:mod:`evaluation.steps.municipality_comparison`): for each adopting
municipality its nearest never-adopting municipalities on pre-reform features, with distances,
and the balance of the features. Nothing is recomputed here.

The tables' words are in ``reports/_text/<language>/municipalities.yml`` (:data:`WORDS`), read by the caller
(:func:`evaluation.report.sentences.read_sentences`). The file is flat: a feature's name is
``feature_<feature>``, a column heading ``table_<code>`` (:func:`municipality_table`) or ``balance_<code>``
(:func:`municipality_balance_table`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.errors import ReportError
from evaluation.report.inputs import declared
from evaluation.report.numbers import check_language, format_number

__all__ = ["WORDS", "municipality_balance_table", "municipality_table", "municipality_variables"]

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
#: the file of the words (the features' names, column headings), in ``reports/_text/<language>/``
WORDS = "municipalities.yml"
#: the codes of the columns of :func:`municipality_table` (``table_<code>`` in :data:`WORDS`), in order
_TABLE_COLUMNS = ("adopter", "comparisons", "distance")
#: the codes of the columns of :func:`municipality_balance_table` (``balance_<code>`` in :data:`WORDS`), in order
_BALANCE_COLUMNS = declared("compare/municipality_balance.csv").names


def municipality_table(distances: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> pd.DataFrame:
    """One row per adopting municipality: its selected comparison municipalities and their mean distance.

    Parameters
    ----------
    distances : pandas.DataFrame
        ``compare/municipalities.csv``: ``treated, treated_name, comparison, comparison_name, distance, rank,
        selected``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}
        Number format.

    Returns
    -------
    pandas.DataFrame
        Three text columns, adopters in order of their code.

    Raises
    ------
    ReportError
        If no comparison municipality is selected.
    """
    language = check_language(language)
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
    return pd.DataFrame(rows, columns=[sentences[f"table_{code}"] for code in _TABLE_COLUMNS])


def municipality_balance_table(
    balance: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """Pre-reform means of each feature and standardised differences, adopters against comparisons.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``compare/municipality_balance.csv``: ``feature, treated, selected, candidates, smd_selected,
        smd_candidates``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}
        Number format.

    Returns
    -------
    pandas.DataFrame
        One row per feature, formatted.
    """
    language = check_language(language)
    rows = []
    for row in balance.itertuples(index=False):
        decimals = DECIMALS.get(row.feature, 2)
        rows.append(
            [
                sentences.get(f"feature_{row.feature}", row.feature),
                *(format_number(float(v), decimals, language=language) for v in (row.treated, row.selected,
                                                                                 row.candidates)),
                *(format_number(float(v), 2, language=language, sign=True) for v in (row.smd_selected,
                                                                                     row.smd_candidates)),
            ]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=[sentences[f"balance_{code}"] for code in _BALANCE_COLUMNS])


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
