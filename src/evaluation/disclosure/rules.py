"""Disclosure rules for counts, statistics, cost aggregates and figures.

* :func:`below_threshold`: the threshold rule for counts of persons, the one place it is written: a count of
  1 to ``min_cell - 1`` persons is not published; a zero is, as it rests on no person.
* :func:`protect_statistics`: a mean, median, share or standard deviation
  computed from fewer than ``min_cell`` persons is suppressed; a maximum or a
  minimum is one person's value and is never published (DST's rules for
  research output: no max/min/median that identifies a person).
* :func:`dominance`: the (n, k) dominance rule for magnitude aggregates such as
  cost totals (Hundepool et al. 2012, sec. 4.2.2): a total is sensitive when it
  rests on fewer than ``min_cell`` contributors, when the largest contributor
  makes up more than 50 % of it (n=1, k=50), or the two largest more than 85 %
  (n=2, k=85). A dominated total lets the largest contributor's value be
  estimated closely.
* :func:`mask_figure_data`: the points of a figure that rest on fewer than
  ``min_cell`` persons are removed before drawing, with a note for the caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.disclosure.record import DisclosureError, SuppressionRecord, check_min_cell

Statistic = Literal["mean", "median", "share", "sd", "sum", "max", "min"]
_STATISTICS = ("mean", "median", "share", "sd", "sum", "max", "min")
#: The (n, k) pairs of the dominance rule: the n largest contributors may make up at most k of the total.
DOMINANCE_NK: tuple[tuple[int, float], ...] = ((1, 0.50), (2, 0.85))

FIGURE_NOTE = {
    "da": "{n} {cells} med færre end {min_cell} personer er ikke vist.",
    "en": "{n} {cells} with fewer than {min_cell} persons {verb} not shown.",
}


def below_threshold(counts: np.ndarray | pd.Series, min_cell: int) -> np.ndarray | pd.Series:
    """Apply the threshold rule: mark the counts of persons that may not be published (1 to ``min_cell - 1``).

    Zero counts are published: they rest on no person (``docs/security.md``). Missing counts are not below
    the threshold (there is nothing to publish).

    Parameters
    ----------
    counts
        Counts of persons: a numpy array or a pandas Series (nullable integers and strings of numbers too).
    min_cell
        Smallest number of persons a published count may rest on (``disclosure.min_cell``).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Booleans of the same shape (a Series with the same index for a Series).
    """
    if isinstance(counts, pd.Series):
        values = pd.to_numeric(counts, errors="coerce").astype("Float64")
        return ((values > 0) & (values < min_cell)).fillna(False).astype(bool)
    values = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < min_cell)


def protect_statistics(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    n: str,
    statistic: Statistic,
    name: str,
    min_cell: int = 5,
) -> tuple[pd.DataFrame, SuppressionRecord]:
    """Suppress statistics computed from too few persons.

    Parameters
    ----------
    frame
        Aggregated rows, with the statistics in ``columns`` and the number of
        persons each rests on in column ``n``.
    columns
        Columns holding the statistic.
    n
        Column with the number of persons behind each row.
    statistic
        What the columns hold: ``"mean"``, ``"median"``, ``"share"``, ``"sd"`` or
        ``"sum"`` (suppressed when ``n < min_cell``), ``"max"`` or ``"min"``
        (always suppressed: a maximum or minimum is one person's value).
    name
        Table name for the record.
    min_cell
        Threshold (at least 3).

    Returns
    -------
    frame : pandas.DataFrame
        A copy with suppressed values missing (``NaN``); the ``n`` column is left as it is
        (protect it with :func:`~evaluation.disclosure.counts.protect_counts` if it is published).
    record : SuppressionRecord
        Cells suppressed under ``few_persons`` or ``extreme_value``.

    Raises
    ------
    DisclosureError
        If ``statistic`` is unknown, a column is missing, or ``n`` holds a missing or negative value.
    """
    min_cell = check_min_cell(min_cell)
    if statistic not in _STATISTICS:
        raise DisclosureError(f"statistic must be one of {', '.join(_STATISTICS)}, not {statistic!r}")
    missing = [c for c in [n, *columns] if c not in frame.columns]
    if missing:
        raise DisclosureError(f"table {name}: column(s) {', '.join(missing)} not found")
    persons = frame[n].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(persons).any() or (persons < 0).any():
        raise DisclosureError(f"table {name}: column {n} must give the number of persons of every row")
    out = frame.copy()
    record = SuppressionRecord(name, min_cell, cells_total=len(frame) * len(columns))
    if statistic in ("max", "min"):
        hide = np.ones(len(frame), dtype=bool)
        rule = "extreme_value"
    else:
        hide = persons < min_cell
        rule = "few_persons"
    for col in columns:
        was = out[col].notna().to_numpy()
        out[col] = out[col].astype("float64").mask(hide)
        record.add(rule, int((hide & was).sum()))
    return out, record


def dominance(
    contributions: pd.DataFrame,
    *,
    by: Sequence[str],
    value: str,
    min_cell: int = 5,
    nk: Sequence[tuple[int, float]] = DOMINANCE_NK,
) -> pd.DataFrame:
    """Apply the (n, k) dominance rule and the threshold to magnitude totals by group.

    Parameters
    ----------
    contributions
        One row per contributor (a child, or a child-year) with its non-negative
        ``value`` (e.g. cost in DKK) and the grouping columns ``by``.
    by
        Columns defining the published cells (e.g. municipality, year).
    value
        Column of the contributions.
    min_cell
        Fewest contributors a published total may rest on.
    nk
        ``(n, k)`` pairs: a total is sensitive when its ``n`` largest
        contributions exceed the share ``k`` of it. Default (1, 0.50) and (2, 0.85).

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by ``by``): ``by`` columns, ``n`` (contributors),
        ``total``, ``top1_share``, ``top2_share``, ``sensitive`` (bool) and
        ``rule`` (``""``, ``"primary"`` for too few contributors, ``"dominance"``).

    Raises
    ------
    DisclosureError
        If a contribution is missing or negative (the rule assumes non-negative contributions).
    """
    min_cell = check_min_cell(min_cell)
    by = list(by)
    vals = contributions[value].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(vals).any() or (vals < 0).any():
        raise DisclosureError(f"column {value}: the dominance rule needs non-negative contributions, none missing")
    work = contributions[by].copy()
    work["_v"] = vals
    work = work.sort_values([*by, "_v"], ascending=[True] * len(by) + [False], kind="stable")
    work["_rank"] = work.groupby(by, sort=False).cumcount()
    grouped = work.groupby(by, sort=True)
    out = grouped["_v"].agg(n="size", total="sum").reset_index()
    for k in range(1, max(2, *(n for n, _ in nk)) + 1):
        top = work[work["_rank"] < k].groupby(by, sort=True)["_v"].sum().reset_index(name=f"_top{k}")
        out = out.merge(top, on=by, how="left")
    total = out["total"].to_numpy()
    safe = np.where(total > 0, total, 1.0)

    def share(k: int) -> np.ndarray:
        return np.where(total > 0, out[f"_top{k}"].to_numpy() / safe, 0.0)

    out["top1_share"], out["top2_share"] = share(1), share(2)
    dominated = np.zeros(len(out), dtype=bool)
    for n_top, k_share in nk:
        dominated |= share(n_top) > k_share
    few = out["n"].to_numpy() < min_cell
    out["sensitive"] = few | dominated
    out["rule"] = np.where(few, "primary", np.where(dominated, "dominance", ""))
    out = out.drop(columns=[c for c in out.columns if c.startswith("_top")])
    return out.astype({"rule": "str"})


def mask_figure_data(
    frame: pd.DataFrame,
    *,
    n: str,
    name: str,
    min_cell: int = 5,
    language: Literal["da", "en"] = "da",
) -> tuple[pd.DataFrame, str, SuppressionRecord]:
    """Remove the points of a figure that rest on fewer than ``min_cell`` persons, and say so.

    Parameters
    ----------
    frame
        Aggregated data to plot, one row per point (bar, dot), with the number of persons in ``n``.
    n
        Column with the number of persons behind each point.
    name
        Figure name for the record (its report label, e.g. ``fig-trends``).
    min_cell
        Threshold (at least 3).
    language
        Language of the note.

    Returns
    -------
    frame : pandas.DataFrame
        The rows with ``n >= min_cell`` (zero-person rows are kept: they show nothing).
    note : str
        ``""`` when nothing was removed, else e.g.
        ``"2 cells with fewer than 5 persons are not shown."`` for the caption.
    record : SuppressionRecord
        Points removed under the rule ``figure``.
    """
    min_cell = check_min_cell(min_cell)
    if language not in FIGURE_NOTE:
        raise DisclosureError(f"language must be one of {', '.join(FIGURE_NOTE)}, not {language!r}")
    if n not in frame.columns:
        raise DisclosureError(f"figure {name}: column {n} (persons per point) not found")
    persons = frame[n].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(persons).any() or (persons < 0).any():
        raise DisclosureError(f"figure {name}: column {n} must give the number of persons of every point")
    small = (persons > 0) & (persons < min_cell)
    record = SuppressionRecord(name, min_cell, cells_total=len(frame))
    record.add("figure", int(small.sum()))
    count = int(small.sum())
    note = ""
    if count:
        if language == "da":
            note = FIGURE_NOTE["da"].format(n=count, cells="celle" if count == 1 else "celler", min_cell=min_cell)
        else:
            note = FIGURE_NOTE["en"].format(
                n=count, cells="cell" if count == 1 else "cells", min_cell=min_cell, verb="is" if count == 1 else "are"
            )
    return frame.loc[~small].reset_index(drop=True), note, record
