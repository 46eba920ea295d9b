"""Protect a table of person counts (and a table of magnitudes) published with its totals.

:func:`protect_counts` applies the threshold rule (primary suppression of
counts from 1 to ``min_cell - 1``; zero cells are published, as they rest on no
person) and complementary suppression (:mod:`evaluation.disclosure.tables`).
:func:`protect_magnitudes` does the same for a table of magnitudes (such as cost
totals) whose sensitive cells were found by another rule, such as the dominance
rule of :func:`evaluation.disclosure.rules.dominance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.disclosure.record import DisclosureError, SuppressionRecord, check_min_cell
from evaluation.disclosure.rules import below_threshold
from evaluation.disclosure.tables import PRIMARY, SECONDARY, extend, suppress_extended, table_lines

#: Label of the totals row and column.
TOTAL_LABEL = {"da": "I alt", "en": "Total"}
_STATUS = np.array(["", "primary", "secondary"], dtype=object)


@dataclass(frozen=True)
class ProtectedTable:
    """A table after disclosure control.

    Attributes
    ----------
    table
        The publishable table, with the totals row and column; suppressed cells are missing (``<NA>``).
    status
        Same shape: ``""`` (published), ``"primary"`` or ``"secondary"``.
    lower, upper
        Same shape: the interval an attacker can derive for each suppressed cell from the published
        cells (``NaN`` for published cells); ``upper`` is ``inf`` when unbounded.
    record
        Counts of suppressed cells by rule.
    """

    table: pd.DataFrame
    status: pd.DataFrame
    lower: pd.DataFrame
    upper: pd.DataFrame
    record: SuppressionRecord


def _labels(frame: pd.DataFrame, row_totals: bool, column_totals: bool, total: str) -> tuple[list, list]:
    rows = list(frame.index) + ([total] if column_totals else [])
    cols = list(frame.columns) + ([total] if row_totals else [])
    return rows, cols


def _protect(
    frame: pd.DataFrame,
    sensitive: np.ndarray,
    *,
    name: str,
    min_cell: int,
    protection: float,
    row_totals: bool,
    column_totals: bool,
    total_label: str,
    integer: bool,
) -> ProtectedTable:
    values = frame.to_numpy(dtype=float)
    ext = extend(values, row_totals=row_totals, column_totals=column_totals)
    lines = table_lines(ext.shape, row_totals=row_totals, column_totals=column_totals)
    status, lo, hi = suppress_extended(ext, sensitive, lines, protection=protection)
    rows, cols = _labels(frame, row_totals, column_totals, total_label)
    shown = pd.DataFrame(np.where(status == 0, ext, np.nan), index=rows, columns=cols)
    shown = shown.round().astype("Int64") if integer else shown
    record = SuppressionRecord(name, min_cell, cells_total=int(ext.size))
    record.add("primary" if integer else "dominance", int((status == PRIMARY).sum()))
    record.add("secondary", int((status == SECONDARY).sum()))
    return ProtectedTable(
        table=shown,
        status=pd.DataFrame(_STATUS[status], index=rows, columns=cols).astype("str"),
        lower=pd.DataFrame(lo, index=rows, columns=cols),
        upper=pd.DataFrame(hi, index=rows, columns=cols),
        record=record,
    )


def protect_counts(
    counts: pd.DataFrame | pd.Series,
    *,
    name: str,
    min_cell: int = 5,
    protection: float | None = None,
    row_totals: bool = True,
    column_totals: bool = True,
    language: str = "da",
) -> ProtectedTable:
    """Suppress small counts of persons and the complementary cells that would reveal them.

    Primary suppression hides every cell (totals included) with 1 to
    ``min_cell - 1`` persons. Complementary suppression then hides further cells
    until, for every hidden cell, the interval an attacker can derive from the
    published cells and totals by linear programming is at least ``protection``
    wide (see :mod:`evaluation.disclosure.tables`; Hundepool et al. 2012, ch. 4).

    Parameters
    ----------
    counts
        Counts of persons (whole, non-negative); a Series is a one-column table
        (published with its column total).
    name
        Name of the table in the suppression record (its report label).
    min_cell
        Threshold: the smallest count that may be published (at least 3; default 5).
    protection
        Required width of every suppressed cell's feasible interval; default ``min_cell``.
    row_totals, column_totals
        Which totals are published (a Series has no row totals).
    language
        ``"da"`` or ``"en"``: the label of the totals (``I alt`` / ``Total``).

    Returns
    -------
    ProtectedTable
        The publishable table with totals, the status of every cell, the
        attacker's intervals and the record.

    Raises
    ------
    ConfigError
        If ``min_cell`` is below 3.
    DisclosureError
        If a count is negative, missing or not whole, or ``language`` is unknown.
    """
    min_cell = check_min_cell(min_cell)
    if language not in TOTAL_LABEL:
        raise DisclosureError(f"language must be one of {', '.join(TOTAL_LABEL)}, not {language!r}")
    if isinstance(counts, pd.Series):
        counts = counts.to_frame(name=counts.name if counts.name is not None else "n")
        row_totals = False
    values = counts.to_numpy(dtype=float, na_value=np.nan)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        raise DisclosureError(f"table {name}: counts of persons must be whole, non-negative and not missing")
    ext = extend(values, row_totals=row_totals, column_totals=column_totals)
    sensitive = below_threshold(ext, min_cell)
    return _protect(
        counts,
        sensitive,
        name=name,
        min_cell=min_cell,
        protection=float(min_cell if protection is None else protection),
        row_totals=row_totals,
        column_totals=column_totals,
        total_label=TOTAL_LABEL[language],
        integer=True,
    )


def protect_magnitudes(
    totals: pd.DataFrame,
    sensitive: pd.DataFrame,
    *,
    name: str,
    min_cell: int = 5,
    protection_share: float = 0.5,
    row_totals: bool = True,
    column_totals: bool = True,
    language: str = "da",
) -> ProtectedTable:
    """Suppress sensitive cells of a magnitude table (e.g. cost totals) and their complements.

    Parameters
    ----------
    totals
        Non-negative magnitudes (e.g. DKK by municipality and year).
    sensitive
        Boolean frame of the same shape: cells that must be hidden (from
        :func:`~evaluation.disclosure.rules.dominance`). Totals are not tested.
    name
        Table name for the record.
    min_cell
        Threshold recorded with the table.
    protection_share
        Every suppressed cell's feasible interval must be at least this share of
        the largest sensitive value wide (default 0.5: the attacker cannot
        estimate a dominated total to within ±25 % of the largest).
    row_totals, column_totals, language
        As in :func:`protect_counts`.

    Returns
    -------
    ProtectedTable
        Suppressed cells are counted under ``dominance`` (primary) and ``secondary``.
    """
    min_cell = check_min_cell(min_cell)
    if sensitive.shape != totals.shape:
        raise DisclosureError(f"table {name}: the sensitive mask has shape {sensitive.shape}, not {totals.shape}")
    values = totals.to_numpy(dtype=float, na_value=np.nan)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DisclosureError(f"table {name}: magnitudes must be non-negative and not missing")
    mask = np.zeros(extend(values, row_totals=row_totals, column_totals=column_totals).shape, dtype=bool)
    mask[: values.shape[0], : values.shape[1]] = sensitive.to_numpy(dtype=bool)
    largest = float(values[mask[: values.shape[0], : values.shape[1]]].max()) if mask.any() else 0.0
    return _protect(
        totals,
        mask,
        name=name,
        min_cell=min_cell,
        protection=protection_share * largest,
        row_totals=row_totals,
        column_totals=column_totals,
        total_label=TOTAL_LABEL.get(language, "Total"),
        integer=False,
    )
