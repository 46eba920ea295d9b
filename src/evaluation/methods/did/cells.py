r"""The group-time cells of :func:`evaluation.methods.did.att_gt` and their two-by-two estimates.

:func:`plan_cells` lists, in R ``did``'s order, every cell :math:`(g, t)` with its base period and
comparison group (semantics in :mod:`evaluation.methods.did.att_gt`). :func:`estimate_panel_cells` runs the
panel estimators of :mod:`evaluation.methods.did.estimators` on each cell; :func:`estimate_cross_section_cells`
runs the repeated cross-section ones of :mod:`evaluation.methods.did.estimators_rc` on the observations of the
cell's two periods, as R ``did::compute.att_gt`` does with ``panel = FALSE`` or
``allow_unbalanced_panel = TRUE``.

Influence functions are returned per unit, as one ``n x cells`` matrix. In a panel, the cell's influence function is
scaled by ``n / n_gt`` (``n_gt`` the units of the cohort and its comparison group). With repeated cross
sections it is scaled by ``n / n_gt`` with ``n_gt`` the *observations* of the cell, and then summed over the
observations of each unit: a unit seen in both periods of an unbalanced panel contributes both terms
(R ``did`` aggregates ``att.inf.func`` by ``.rowid``), and in true repeated cross sections units are rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from evaluation.methods.did.estimators import BLOCK_ROWS, Method, did_panel_change
from evaluation.methods.did.estimators_rc import did_rc
from evaluation.methods.did.prepare import CrossSectionArrays, PanelArrays

__all__ = ["Cell", "estimate_cross_section_cells", "estimate_panel_cells", "plan_cells"]

Cell = tuple[float, int, int, np.ndarray | None]
Estimates = tuple[list[dict[str, object]], np.ndarray]


def plan_cells(
    periods: np.ndarray, group: np.ndarray, control_group: str, base_period: str, anticipation: int
) -> list[Cell]:
    """(group, index of t, index of base period, comparison mask over ``group``) for every cell, as R's loop.

    ``group`` is per unit (panel) or per observation (repeated cross sections); the comparison mask has its
    length. The mask is None for the universal base period itself (ATT fixed at 0).
    """
    groups = np.unique(group[group > 0])
    groups = groups[groups > periods[0] + anticipation]
    shift = 0 if base_period == "universal" else 1
    cells: list[Cell] = []
    never = group == 0  # one mask shared by every cell that compares with the never-treated (read only)
    for g in groups:
        before = np.flatnonzero(periods + anticipation < g)
        last_pre = int(before[-1]) if before.size else None
        for t in range(len(periods) - shift):
            t_now = t + shift
            post = g <= periods[t_now]
            base = t if base_period == "varying" else last_pre
            if post or base_period == "universal":
                if last_pre is None:
                    warnings.warn(
                        f"att_gt: no pre-treatment period for group {g:g}; its cells are skipped", stacklevel=3
                    )
                    break
                base = last_pre
            if base is None:
                break
            if base_period == "universal" and base == t_now:
                cells.append((float(g), t_now, base, None))
                continue
            if control_group == "never_treated":
                control = never
            else:
                cutoff = periods[max(t, base) + shift] + anticipation
                control = (group == 0) | ((group > cutoff) & (group != g))
            cells.append((float(g), t_now, base, control))
    return cells


def _row(g: float, periods: np.ndarray, t_now: int, base: int) -> dict[str, object]:
    t_value = periods[t_now]
    return {"group": g, "time": t_value, "base_period": periods[base], "post": bool(g <= t_value)}


def _covariate_period_keys(covariates: np.ndarray) -> list[int]:
    """For every period, the first period whose covariates are identical (all units), so fits can be shared."""
    keys: list[int] = []
    for p in range(covariates.shape[0]):
        same = next((q for q in dict.fromkeys(keys) if np.array_equal(covariates[q], covariates[p])), p)
        keys.append(same)
    return keys


def _is_range(positions: list[int]) -> bool:
    """Whether ``positions`` are consecutive and increasing (a slice selects them without a copy)."""
    return positions == list(range(positions[0], positions[0] + len(positions)))


def _changes(outcome: np.ndarray, rows: np.ndarray, later: list[int], base: list[int]) -> np.ndarray:
    """Return ``outcome[rows][:, later] - outcome[rows][:, base]``, column-major, built by blocks of rows.

    Column-major because the estimators run on columns (their reductions' last bits depend on it).
    """
    dy = np.empty((len(rows), len(later)), order="F")
    for start in range(0, len(rows), BLOCK_ROWS):
        block = outcome.take(rows[start : start + BLOCK_ROWS], axis=0)
        np.subtract(block[:, later], block[:, base], out=dy[start : start + BLOCK_ROWS])
    return dy


def estimate_panel_cells(data: PanelArrays, cells: list[Cell], method: Method) -> Estimates:
    """ATT(g,t) rows and per-unit influence functions of a balanced panel (``DRDID::*_panel``).

    Cells with the same cohort, the same comparison units and the same covariate values (the
    post-treatment cells of a cohort, or all its cells when the covariates do not change over time) are
    estimated together: one propensity score and one outcome-regression design serve them all
    (:func:`evaluation.methods.did.estimators.did_panel` with matrices). Each cell's estimate is the one it
    gets alone.
    """
    n = len(data.units)
    rows: list[dict[str, object] | None] = [None] * len(cells)
    influence = np.zeros((n, len(cells)))  # written in place, cell by cell; a skipped cell's column is dropped
    cov_key = _covariate_period_keys(data.covariates)
    batches: dict[tuple, list[int]] = {}
    for i, (g, t_now, base, control) in enumerate(cells):
        treated = data.group == g
        row = _row(g, data.periods, t_now, base)
        if control is None:
            rows[i] = {**row, "att": 0.0, "n_treated": int(treated.sum()), "n_control": 0}
            continue
        if not treated.any() or not control.any():
            warnings.warn(
                f"att_gt: no comparison units for group {g:g} in period {row['time']:g}; cell skipped", stacklevel=3
            )
            continue
        batches.setdefault((g, np.packbits(control).tobytes(), cov_key[min(base, t_now)]), []).append(i)
    for (g, _, period), members in batches.items():
        treated = data.group == g
        control = cells[members[0]][3]
        sel = np.flatnonzero(treated | control)
        dy = _changes(data.outcome, sel, [cells[i][1] for i in members], [cells[i][2] for i in members])
        att, psi = did_panel_change(dy, treated[sel].astype(float), data.design(period, sel), data.weights[sel], method)
        del dy  # the doubly robust estimator kept its OLS residuals in it; freed before the next batch
        psi *= n / len(sel)
        if _is_range(members):
            influence[sel, members[0] : members[0] + len(members)] = psi
        else:
            influence[np.ix_(sel, members)] = psi
        del psi
        n_treated, n_control = int(treated.sum()), int(control.sum())
        for j, i in enumerate(members):
            g_i, t_now, b, _ = cells[i]
            rows[i] = {
                **_row(g_i, data.periods, t_now, b),
                "att": float(att[j]),
                "n_treated": n_treated,
                "n_control": n_control,
            }
    kept = [i for i, row in enumerate(rows) if row is not None]
    if len(kept) < len(cells):
        influence = influence[:, kept]
    return [rows[i] for i in kept], influence


def estimate_cross_section_cells(data: CrossSectionArrays, cells: list[Cell], method: Method) -> Estimates:
    """ATT(g,t) rows and per-unit influence functions from repeated cross sections (``DRDID::*_rc``).

    ``n_treated`` and ``n_control`` count the cell's observations (both periods), not units.
    """
    n = data.n_units
    rows: list[dict[str, object]] = []
    columns: list[np.ndarray] = []
    for g, t_now, base, control in cells:
        treated = data.group == g
        in_periods = (data.period == t_now) | (data.period == base)
        row = _row(g, data.periods, t_now, base)
        if control is None:
            rows.append({**row, "att": 0.0, "n_treated": int((treated & in_periods).sum()), "n_control": 0})
            columns.append(np.zeros(n))
            continue
        sel = in_periods & (treated | control)
        post = data.period[sel] == t_now
        d = treated[sel]
        empty = [
            label
            for label, cell in (
                (f"group {g:g} in period {row['time']:g}", d & post),
                (f"group {g:g} in base period {row['base_period']:g}", d & ~post),
                (f"the comparison group in period {row['time']:g}", ~d & post),
                (f"the comparison group in base period {row['base_period']:g}", ~d & ~post),
            )
            if not cell.any()
        ]
        if empty:
            warnings.warn(f"att_gt: no observations of {' or '.join(empty)}; cell skipped", stacklevel=3)
            continue
        att, psi = did_rc(
            data.outcome[sel], post.astype(float), d.astype(float), data.covariates[sel], data.weights[sel], method
        )
        full = np.bincount(data.unit[sel], weights=psi * n / sel.sum(), minlength=n)
        rows.append({**row, "att": att, "n_treated": int(d.sum()), "n_control": int((~d).sum())})
        columns.append(full)
    return rows, np.column_stack(columns) if columns else np.zeros((n, 0))
