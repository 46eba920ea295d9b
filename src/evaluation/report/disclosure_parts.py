"""Table and numbers of the appendix on statistical disclosure control.

Reads ``disclosure/summary.csv`` of the pipeline step ``audit_disclosure``
(:func:`evaluation.disclosure.write_audit`): for every table the release publishes,
the cells checked (``cells_total``; 0 for a table without person-level cells) and
the cells suppressed under each rule. Nothing is counted here: every number comes
from the summary.

The table's words are in ``reports/_text/<language>/disclosure.yml`` (:data:`WORDS`), read by the caller
(:func:`evaluation.report.sentences.read_sentences`); a rule's column heading is ``rule_<rule>``, a published
file's name ``file_<path>`` (:func:`table_name`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from evaluation.errors import ReportError
from evaluation.report.numbers import check_language, format_count

__all__ = ["ALWAYS_SHOWN", "WORDS", "disclosure_table", "disclosure_variables", "file_code", "table_name"]

#: rules with a column in the table even when nothing was suppressed under them; others only when used
ALWAYS_SHOWN: tuple[str, ...] = ("primary", "secondary", "few_persons")
_RULE_ORDER = ("primary", "secondary", "few_persons", "extreme_value", "dominance", "figure")
#: the file of the table's words (column headings, the total row, the rules, the tables' names), in
#: ``reports/_text/<language>/``
WORDS = "disclosure.yml"


def table_name(path: str, sentences: Mapping[str, str]) -> str:
    """Name a published file in the appendix: its name in :data:`WORDS` (:func:`file_code`), else its path.

    Parameters
    ----------
    path : str
        The file inside the release folder, e.g. ``"cohort/sample_flow.csv"``.
    sentences : mapping
        The words of :data:`WORDS` in the report's language.

    Returns
    -------
    str
    """
    return sentences.get(file_code(path), path)


def file_code(path: str) -> str:
    """Return the code of a published file's name in :data:`WORDS`: ``file_`` and the path, non-alphanumerics as _."""
    return "file_" + re.sub(r"[^A-Za-z0-9]", "_", path)


def _by_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per table (in the summary's order): ``cells_total`` and one column per rule."""
    unknown = sorted(set(summary["rule"].astype(str)) - set(_RULE_ORDER))
    if unknown:
        raise ReportError(f"disclosure/summary.csv names unknown rule(s) {unknown}: rerun audit_disclosure")
    order = list(dict.fromkeys(summary["table"].astype(str)))
    wide = summary.pivot_table(index="table", columns="rule", values="cells_suppressed", aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=order, columns=list(_RULE_ORDER), fill_value=0)
    wide.insert(0, "cells_total", summary.groupby("table", sort=False)["cells_total"].max().reindex(order))
    return wide


def disclosure_table(summary: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> pd.DataFrame:
    """One row per table with person-level cells: cells checked, suppressed in all and by rule, and a total row.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``disclosure/summary.csv``: ``table, rule, cells_suppressed, cells_total, min_cell``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}
        The number format.

    Returns
    -------
    pandas.DataFrame
        Display strings. Rules of :data:`ALWAYS_SHOWN` always have a column, the others when
        a cell was suppressed under them.

    Raises
    ------
    ReportError
        If the summary names an unknown rule, or no table has person-level cells.
    """
    language = check_language(language)
    wide = _by_table(summary)
    wide = wide.loc[wide["cells_total"] > 0]
    if wide.empty:
        raise ReportError("disclosure/summary.csv checks no table with person-level cells: rerun audit_disclosure")
    rules = [r for r in _RULE_ORDER if r in ALWAYS_SHOWN or wide[r].sum() > 0]
    totals = wide.sum(axis=0)
    rows = []
    for table, values in [*wide.iterrows(), (None, totals)]:
        name = sentences["total"] if table is None else table_name(str(table), sentences)
        rows.append(
            [
                name,
                format_count(values["cells_total"], language=language),
                format_count(sum(values[r] for r in _RULE_ORDER), language=language),
                *(format_count(values[r], language=language) for r in rules),
            ]
        )
    columns = [
        *(sentences[code] for code in ("table", "cells", "suppressed")),
        *(sentences[f"rule_{r}"] for r in rules),
    ]
    return pd.DataFrame(rows, columns=columns)


def disclosure_variables(summary: pd.DataFrame, min_cell: int, *, language: str = "da") -> dict[str, str]:
    """Numbers of the appendix text, all from the summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``disclosure/summary.csv``.
    min_cell : int
        The threshold of ``study.json``; the summary must have been made with the same.
    language : {"da", "en"}

    Returns
    -------
    dict of str to str
        ``disclosure_suppressed`` (cells suppressed, all tables and rules), ``disclosure_cells``
        (cells checked), ``disclosure_tables`` (tables with person-level cells),
        ``disclosure_tables_other`` (tables without), ``disclosure_primary``,
        ``disclosure_secondary``, ``disclosure_few_persons`` and ``disclosure_below`` (``min_cell - 1``).

    Raises
    ------
    ReportError
        If the summary was made with another threshold than the study's.
    """
    language = check_language(language)
    thresholds = sorted({int(v) for v in summary["min_cell"]})
    if thresholds and thresholds != [int(min_cell)]:
        raise ReportError(
            f"disclosure/summary.csv was made with min_cell {thresholds}, the study has {min_cell}: "
            "rerun audit_disclosure"
        )
    wide = _by_table(summary)
    totals = wide.sum(axis=0)
    count = lambda value: format_count(value, language=language)  # noqa: E731
    checked = int((wide["cells_total"] > 0).sum())
    return {
        "disclosure_suppressed": count(sum(totals[r] for r in _RULE_ORDER)),
        "disclosure_cells": count(totals["cells_total"]),
        "disclosure_tables": count(checked),
        "disclosure_tables_other": count(len(wide) - checked),
        "disclosure_primary": count(totals["primary"]),
        "disclosure_secondary": count(totals["secondary"]),
        "disclosure_few_persons": count(totals["few_persons"]),
        "disclosure_below": count(int(min_cell) - 1),
    }
