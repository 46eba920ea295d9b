r"""Primary and complementary (secondary) cell suppression of tables with totals, verified by linear programming.

A table of non-negative values (counts of persons, or cost totals) is published
with its row totals, column totals and grand total. Suppressing the small cells
alone is not enough: a suppressed cell that is the only one in its row is the
row total minus the published cells. Complementary suppression hides further
cells until no suppressed cell can be recovered, or narrowed down, from what is
published (Cox 1980; Hundepool et al. 2012, *Statistical Disclosure Control*,
ch. 4.2-4.4).

The extended table
------------------
With row totals and column totals, the table is written as an ``(R+1) x (C+1)``
array ``T`` whose last column holds the row totals and last row the column
totals (the corner is the grand total). Every *line* of ``T`` is a published
linear relation:

.. math::

    \sum_{j<C} T_{ij} - T_{iC} = 0 \quad (i = 0..R), \qquad
    \sum_{i<R} T_{ij} - T_{Rj} = 0 \quad (j = 0..C).

Totals are cells like any other: a total below the threshold is itself
primary-suppressed.

Protection rule
---------------
An attacker who knows the published cells and that every cell is non-negative
can bound each suppressed cell ``k`` by solving two linear programmes (minimise
and maximise ``T_k`` subject to the line relations, the published values and
``T >= 0``). The table is *protected* when, for every suppressed cell, the
feasible interval ``[lo, hi]`` is at least ``protection`` wide (default
``min_cell``): the attacker cannot pin a cell to one value, nor to a range
narrower than the threshold (so a cell of 1 person cannot be shown to be below
the threshold). This is the "interval" or "protection level" criterion of
τ-ARGUS with symmetric protection (Hundepool et al. 2012, sec. 4.3.1).

Complementary cells are chosen greedily: in every line with a suppressed cell
whose line-wise room (the sum of the suppressed values in the line) is below
``protection``, or with exactly one suppressed cell, the smallest published
non-zero cell is suppressed (zero cells only when nothing else is left); then
the linear programmes check every suppressed cell, and a cell that fails gets
the smallest published cell of its lines added, until all pass. The greedy
choice is not the optimal (minimum-loss) pattern of an integer programme, but
the verification is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from evaluation.disclosure.record import DisclosureError

#: Status codes of cells.
PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2
_TOL = 1e-7


@dataclass(frozen=True)
class Lines:
    """The published linear relations of an extended table: one (cells, coefficients) pair per line."""

    cells: tuple[np.ndarray, ...]
    coefficients: tuple[np.ndarray, ...]


def extend(values: np.ndarray, *, row_totals: bool = True, column_totals: bool = True) -> np.ndarray:
    """Append the row totals (last column) and column totals (last row) to a table.

    Parameters
    ----------
    values
        ``(R, C)`` array of non-negative values.
    row_totals, column_totals
        Which totals are published.

    Returns
    -------
    numpy.ndarray
        ``(R + column_totals, C + row_totals)`` float array.
    """
    out = np.asarray(values, dtype=float)
    if row_totals:
        out = np.column_stack([out, out.sum(axis=1)])
    if column_totals:
        out = np.vstack([out, out.sum(axis=0)])
    return np.ascontiguousarray(out)


def table_lines(shape: tuple[int, int], *, row_totals: bool = True, column_totals: bool = True) -> Lines:
    """Return the line relations of an extended table of ``shape`` (flat indices, coefficients +1 / -1).

    Parameters
    ----------
    shape
        Shape of the *extended* table.
    row_totals, column_totals
        Whether the last column holds row totals and the last row column totals.

    Returns
    -------
    Lines
        One line per row (when ``row_totals``) and per column (when ``column_totals``).
    """
    n_rows, n_cols = shape
    index = np.arange(n_rows * n_cols).reshape(shape)
    cells, coefs = [], []
    if row_totals:
        for i in range(n_rows):
            cells.append(index[i])
            coefs.append(np.r_[np.ones(n_cols - 1), -1.0])
    if column_totals:
        for j in range(n_cols):
            cells.append(index[:, j])
            coefs.append(np.r_[np.ones(n_rows - 1), -1.0])
    return Lines(tuple(cells), tuple(coefs))


def feasible_intervals(extended: np.ndarray, suppressed: np.ndarray, lines: Lines) -> tuple[np.ndarray, np.ndarray]:
    """Return the interval an attacker can derive for every suppressed cell, by linear programming.

    For each suppressed cell ``k``: minimise and maximise ``x_k`` subject to
    every line relation (published cells fixed at their values) and ``x >= 0``
    (``scipy.optimize.linprog``, HiGHS).

    Parameters
    ----------
    extended
        The extended table (true values).
    suppressed
        Boolean mask of the same shape.
    lines
        The published relations (:func:`table_lines`).

    Returns
    -------
    lo, hi : numpy.ndarray
        Arrays of the table's shape; ``nan`` for published cells, ``hi = inf`` when unbounded.
    """
    flat = extended.ravel()
    mask = suppressed.ravel()
    lo = np.full(flat.shape, np.nan)
    hi = np.full(flat.shape, np.nan)
    hidden = np.flatnonzero(mask)
    if len(hidden) == 0:
        return lo.reshape(extended.shape), hi.reshape(extended.shape)
    position = {int(k): p for p, k in enumerate(hidden)}
    rows, rhs = [], []
    for cells, coefs in zip(lines.cells, lines.coefficients, strict=True):
        hid = mask[cells]
        if not hid.any():
            continue
        row = np.zeros(len(hidden))
        for cell, coef in zip(cells[hid], coefs[hid], strict=True):
            row[position[int(cell)]] = coef
        rows.append(row)
        rhs.append(-float(np.dot(coefs[~hid], flat[cells[~hid]])))
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    for p, k in enumerate(hidden):
        c = np.zeros(len(hidden))
        c[p] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if low.status != 0 or high.status not in (0, 3):
            raise DisclosureError(f"the suppression check failed to solve for cell {k} ({low.message}; {high.message})")
        lo[k] = low.fun
        hi[k] = np.inf if high.status == 3 else -high.fun
    return lo.reshape(extended.shape), hi.reshape(extended.shape)


def _smallest_published(extended: np.ndarray, status: np.ndarray, cells: np.ndarray) -> int | None:
    flat_v, flat_s = extended.ravel(), status.ravel()
    free = cells[flat_s[cells] == PUBLISHED]
    if len(free) == 0:
        return None
    values = flat_v[free]
    nonzero = free[values > 0]
    pool = nonzero if len(nonzero) else free
    return int(pool[np.argmin(flat_v[pool])])


def _greedy_pass(extended: np.ndarray, status: np.ndarray, lines: Lines, protection: float) -> bool:
    """Suppress complementary cells line by line until every line passes the necessary conditions."""
    changed_any = False
    changed = True
    flat_v = extended.ravel()
    while changed:
        changed = False
        for cells in lines.cells:
            flat_s = status.ravel()
            hid = flat_s[cells] != PUBLISHED
            n_hidden = int(hid.sum())
            if n_hidden == 0:
                continue
            room = float(flat_v[cells[hid]].sum())
            if n_hidden >= 2 and room >= protection - _TOL:
                continue
            pick = _smallest_published(extended, status, cells)
            if pick is None:
                continue
            np.put(status, pick, SECONDARY)
            changed = changed_any = True
    return changed_any


def suppress_extended(
    extended: np.ndarray,
    sensitive: np.ndarray,
    lines: Lines,
    *,
    protection: float,
    max_rounds: int = 1000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose complementary cells for an extended table so that every suppressed cell is protected.

    Parameters
    ----------
    extended
        The extended table of non-negative values.
    sensitive
        Boolean mask of cells that must be hidden (primary suppression).
    lines
        Its published relations.
    protection
        Required width of every suppressed cell's feasible interval.
    max_rounds
        Safety bound on verification rounds.

    Returns
    -------
    status : numpy.ndarray
        :data:`PUBLISHED`, :data:`PRIMARY` or :data:`SECONDARY` per cell.
    lo, hi : numpy.ndarray
        The feasible intervals of the final pattern (``nan`` for published cells).

    Raises
    ------
    DisclosureError
        If no safe pattern is found (only when even suppressing every cell fails,
        which cannot happen for non-negative tables).
    """
    if np.any(extended < 0) or not np.all(np.isfinite(extended)):
        raise DisclosureError("cell suppression needs finite, non-negative values")
    extended = np.ascontiguousarray(extended, dtype=float)
    status = np.ascontiguousarray(np.where(sensitive, PRIMARY, PUBLISHED), dtype=np.int8)
    if not sensitive.any():
        nan = np.full(extended.shape, np.nan)
        return status, nan, nan.copy()
    for _ in range(max_rounds):
        _greedy_pass(extended, status, lines, protection)
        lo, hi = feasible_intervals(extended, status != PUBLISHED, lines)
        weak = np.flatnonzero(((hi - lo) < protection - _TOL).ravel() & (status.ravel() != PUBLISHED))
        if len(weak) == 0:
            return status, lo, hi
        added = False
        for k in weak:
            candidates = np.concatenate([cells for cells in lines.cells if k in cells] or [np.array([], dtype=int)])
            pick = _smallest_published(extended, status, np.unique(candidates))
            if pick is not None:
                np.put(status, pick, SECONDARY)
                added = True
                break
        if not added:  # every cell sharing a line with a weak cell is hidden: widen anywhere
            pick = _smallest_published(extended, status, np.arange(extended.size))
            if pick is None:
                return status, lo, hi  # everything is suppressed; nothing is published
            np.put(status, pick, SECONDARY)
    raise DisclosureError(f"no safe suppression pattern found in {max_rounds} rounds")
