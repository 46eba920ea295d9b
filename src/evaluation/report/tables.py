"""The report's tables, built from results files as Markdown pipe tables.

Each builder returns a :class:`pandas.DataFrame` of display strings; the
function :func:`to_markdown` turns it into a pipe table with a Quarto caption
line (``: caption {#tbl-label}``) that both Quarto and the offline renderer
number as a cross-reference. Counts of persons pass through
:func:`suppress_small` (disclosure control: no cell below ``min_cell``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from evaluation.errors import ReportError
from evaluation.report.labels import (
    ANALYSIS_ORDER,
    OUTCOME_ORDER,
    label,
    ordered,
    outcome_decimals,
    sample_flow_descriptions,
)
from evaluation.report.numbers import format_count, format_number, format_p_value

MISSING = "–"


def suppress_small(values: Iterable[float | int | None], min_cell: int, *, language: str = "da") -> list[str]:
    """Format counts and hide those between 1 and ``min_cell - 1``.

    Statistics Denmark lets no table cell show fewer than ``min_cell`` persons.
    A count of zero reveals no person and is shown as ``0``; a count of 1 to
    ``min_cell - 1`` is shown as ``"<min_cell"`` (``"<5"``). Missing values are
    shown as an en dash.

    Parameters
    ----------
    values : iterable of int, float or None
        Counts (whole numbers of 0 or more); ``None`` or ``NaN`` for missing.
    min_cell : int
        The smallest count that may be shown, 1 or more.
    language : {"da", "en"}, default "da"
        Thousands separator convention.

    Returns
    -------
    list of str
        One display string per value, in order.

    Raises
    ------
    ReportError
        If ``min_cell`` is below 1 or a value is negative or not a whole number.

    Examples
    --------
    >>> suppress_small([0, 3, 5, 12345], 5)
    ['0', '<5', '5', '12.345']
    """
    if isinstance(min_cell, bool) or int(min_cell) != min_cell or min_cell < 1:
        raise ReportError(f"min_cell must be a whole number of 1 or more, got {min_cell!r} (disclosure.min_cell)")
    shown: list[str] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            shown.append(MISSING)
            continue
        text = format_count(value, language=language)
        shown.append(f"<{int(min_cell)}" if 0 < float(value) < min_cell else text)
    return shown


def _escape_cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(
    table: pd.DataFrame,
    caption: str,
    label_id: str,
    *,
    align: Iterable[str] | None = None,
    source: str | None = None,
) -> str:
    """Write a display table as a Markdown pipe table with a cross-reference caption.

    Parameters
    ----------
    table : pandas.DataFrame
        Display strings; the column names become the header.
    caption : str
        The caption text, without number (the renderer numbers it).
    label_id : str
        The cross-reference label, starting with ``tbl-``.
    align : iterable of str, optional
        One of ``"left"``, ``"right"`` or ``"center"`` per column; default left.
    source : str, optional
        A source line ("Kilde: ..."), set in italics below the table.

    Returns
    -------
    str
        The Markdown text, ending in a newline.

    Raises
    ------
    ReportError
        If the label does not start with ``tbl-`` or ``align`` has the wrong length.
    """
    if not label_id.startswith("tbl-"):
        raise ReportError(f"table label {label_id!r} must start with 'tbl-' for cross-references")
    columns = [str(column) for column in table.columns]
    alignment = list(align) if align is not None else ["left"] * len(columns)
    if len(alignment) != len(columns):
        raise ReportError(f"table {label_id}: {len(alignment)} alignments for {len(columns)} columns")
    if any(a not in ("left", "right", "center") for a in alignment):
        raise ReportError(f"table {label_id}: alignments must be left, right or center, got {alignment}")
    # The number of dashes sets the relative column widths pandoc gives wide tables.
    # Bold header words cannot wrap inside a word, so a header counts a little wider than its letters.
    widths = [
        max([round(1.25 * len(_escape_cell(column))) + 1, *(len(_escape_cell(cell)) for cell in table[key])], default=3)
        for column, key in zip(columns, table.columns, strict=True)
    ]
    rules = [
        {"left": ":" + "-" * w, "right": "-" * w + ":", "center": ":" + "-" * max(w - 1, 1) + ":"}[a]
        for a, w in zip(alignment, widths, strict=True)
    ]
    lines = [
        "| " + " | ".join(_escape_cell(column) for column in columns) + " |",
        "|" + "|".join(rules) + "|",
    ]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_escape_cell(cell) for cell in row) + " |")
    lines.append("")
    lines.append(f": {caption} {{#{label_id}}}")
    if source:
        lines += ["", f"*{source}*"]
    return "\n".join(lines) + "\n"


def row_accounting_table(row_accounting: pd.DataFrame, min_cell: int, *, language: str = "da") -> pd.DataFrame:
    """Rows read, accepted and quarantined per extract file.

    The counts are rows of files, not persons, yet quarantined rows between 1 and
    ``min_cell - 1`` are still suppressed, as a quarantine can concern one person.

    Parameters
    ----------
    row_accounting : pandas.DataFrame
        ``results/ingest/row_accounting.csv``.
    min_cell : int
        Disclosure threshold.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, sorted by extract and file.

    Raises
    ------
    ReportError
        If a row's counts do not add up (read = accepted + quarantined + exact duplicates dropped).
    """
    frame = row_accounting.sort_values(["extract", "file"], kind="stable").reset_index(drop=True)
    duplicates = frame["rows_duplicate_dropped"] if "rows_duplicate_dropped" in frame else 0
    mismatch = frame["rows_read"] != frame["rows_accepted"] + frame["rows_quarantined"] + duplicates
    if mismatch.any():
        row = frame[mismatch].iloc[0]
        raise ReportError(
            f"row accounting for {row['extract']} ({row['file']}): rows_read {row['rows_read']:.0f} is not "
            f"rows_accepted {row['rows_accepted']:.0f} + rows_quarantined {row['rows_quarantined']:.0f} + exact "
            "duplicates dropped; rerun the ingest step"
        )
    return pd.DataFrame(
        {
            label("column", "extract", language): frame["extract"].astype(str).tolist(),
            label("column", "file", language): frame["file"].astype(str).tolist(),
            label("column", "rows_read", language): [format_count(v, language=language) for v in frame["rows_read"]],
            label("column", "rows_accepted", language): [
                format_count(v, language=language) for v in frame["rows_accepted"]
            ],
            label("column", "rows_quarantined", language): suppress_small(
                frame["rows_quarantined"], min_cell, language=language
            ),
        }
    )


def sample_flow_table(sample_flow: pd.DataFrame, min_cell: int, *, language: str = "da") -> pd.DataFrame:
    """Children at each step of the sample selection, by group (CONSORT-style).

    Parameters
    ----------
    sample_flow : pandas.DataFrame
        ``results/cohort/sample_flow.csv``, steps in order.
    min_cell : int
        Disclosure threshold.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, in the file's order of steps. Each step is worded from its code (``labels.yml``,
        ``sample_flow_step``) in the report's language; a code without a label keeps the file's description.
    """
    descriptions = sample_flow_descriptions(sample_flow, language)
    return pd.DataFrame(
        {
            label("column", "step", language): [str(i + 1) for i in range(len(sample_flow))],
            label("column", "description", language): descriptions,
            label("column", "n_treated", language): suppress_small(
                sample_flow["n_treated"], min_cell, language=language
            ),
            label("column", "n_control", language): suppress_small(
                sample_flow["n_control"], min_cell, language=language
            ),
        }
    )


def balance_table(balance: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """Standardised mean differences and variance ratios before and after matching.

    When the file has them, the largest eCDF difference after matching and the
    flags (``smd_flag``: |SMD| after above the threshold; ``var_ratio_flag``:
    variance ratio after outside [0.5, 2]) are shown too.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``results/compare/balance.csv``.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per covariate in the file's order.
    """

    def fmt(values: pd.Series, decimals: int) -> list[str]:
        return [MISSING if pd.isna(v) else format_number(v, decimals, language=language) for v in values]

    table = {
        label("column", "covariate", language): [label("covariate", c, language) for c in balance["covariate"]],
        label("column", "smd_before", language): fmt(balance["smd_before"], 3),
        label("column", "smd_after", language): fmt(balance["smd_after"], 3),
        label("column", "var_ratio_before", language): fmt(balance["var_ratio_before"], 2),
        label("column", "var_ratio_after", language): fmt(balance["var_ratio_after"], 2),
    }
    if "ecdf_max_after" in balance.columns:
        table[label("result_column", "ecdf_max_after", language)] = fmt(balance["ecdf_max_after"], 3)
    if {"smd_flag", "var_ratio_flag"} <= set(balance.columns):
        names = ("SMD", label("column", "var_ratio_short", language))
        table[label("result_column", "flags", language)] = [
            ", ".join(n for n, on in zip(names, (_true(a), _true(b)), strict=True) if on) or MISSING
            for a, b in zip(balance["smd_flag"], balance["var_ratio_flag"], strict=True)
        ]
    return pd.DataFrame(table)


def _true(value: object) -> bool:
    """Read a flag from CSV: True, "True", 1 or "1" (missing is False)."""
    return str(value).strip().lower() in ("true", "1", "1.0")


def order_estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    """Sort estimates by outcome, analysis and subgroup in the report's order.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``results/estimates.csv``.

    Returns
    -------
    pandas.DataFrame
        The same rows, sorted, with a fresh index.
    """
    outcome_rank = {name: i for i, name in enumerate(ordered(set(estimates["outcome"].astype(str)), OUTCOME_ORDER))}
    analysis_rank = {name: i for i, name in enumerate(ordered(set(estimates["analysis"].astype(str)), ANALYSIS_ORDER))}
    frame = estimates.assign(
        _outcome=estimates["outcome"].astype(str).map(outcome_rank),
        _analysis=estimates["analysis"].astype(str).map(analysis_rank),
        _subgroup=estimates["subgroup"].fillna("all").astype(str),
    )
    frame = frame.sort_values(["_outcome", "_analysis", "_subgroup", "estimator"], kind="stable")
    return frame.drop(columns=["_outcome", "_analysis", "_subgroup"]).reset_index(drop=True)


def estimates_table(estimates: pd.DataFrame, min_cell: int, *, language: str = "da") -> pd.DataFrame:
    """All effect estimates with standard error, 95 % CI, p-value and group sizes.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``results/estimates.csv``.
    min_cell : int
        Disclosure threshold for the group sizes.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings; a subgroup column only when a subgroup other than "all" occurs.
    """
    frame = order_estimates(estimates)
    subgroups = frame["subgroup"].fillna("all").astype(str)
    to = label("column", "ci_to", language)
    columns: dict[str, list[str]] = {
        label("column", "outcome", language): [label("outcome", o, language) for o in frame["outcome"]],
        label("column", "analysis", language): [label("analysis", a, language) for a in frame["analysis"]],
    }
    if (subgroups != "all").any():
        columns[label("column", "subgroup", language)] = [label("subgroup", s, language) for s in subgroups]
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]

    def fmt(column: str) -> list[str]:
        return [
            MISSING if pd.isna(v) else format_number(v, d, language=language)
            for v, d in zip(frame[column], decimals, strict=True)
        ]

    low, high = fmt("ci_low"), fmt("ci_high")
    columns[label("column", "estimate", language)] = fmt("estimate")
    columns[label("column", "se", language)] = fmt("se")
    columns[label("column", "ci", language)] = [f"{a} {to} {b}" for a, b in zip(low, high, strict=True)]
    columns[label("column", "p_value", language)] = [
        MISSING if pd.isna(p) else format_p_value(p, language=language) for p in frame["p_value"]
    ]
    columns[label("column", "n_treated_short", language)] = suppress_small(
        frame["n_treated"], min_cell, language=language
    )
    columns[label("column", "n_control_short", language)] = suppress_small(
        frame["n_control"], min_cell, language=language
    )
    return pd.DataFrame(columns)


def contract_table(*, language: str = "da") -> pd.DataFrame:
    """Summarise the data contract: each extract's file name, title, number of columns and key.

    The contract is a fixed part of the package (:data:`evaluation.contract.EXTRACTS`), not a result.

    Parameters
    ----------
    language : {"da", "en"}, default "da"
        Column labels, and the extracts' titles (``labels.yml``, ``extract_title``; the Danish ones are the
        contract's own titles, and the contract's title is shown for an extract without a label).

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per extract in the contract's order.
    """
    from evaluation.contract import EXTRACTS

    extracts = list(EXTRACTS.values())
    return pd.DataFrame(
        {
            label("column", "extract", language): [f"`{e.name}`" for e in extracts],
            label("column", "contract_title", language): [
                label("extract_title", e.name, language, default=e.title) for e in extracts
            ],
            label("column", "contract_columns", language): [str(len(e.columns)) for e in extracts],
            label("column", "contract_key", language): [", ".join(e.key) or MISSING for e in extracts],
        }
    )
