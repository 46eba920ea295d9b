r"""Adjusted p-values for families of hypotheses: Holm (1979) and Benjamini-Hochberg (1995).

Outcomes are declared in config as primary or secondary; each declared family is adjusted on its own
(:func:`adjust_within_families`), so a secondary outcome never dilutes the primary ones.

Holm's step-down procedure controls the family-wise error rate. With the :math:`m` p-values sorted,
:math:`p_{(1)} \le \dots \le p_{(m)}`, the adjusted values are
:math:`\tilde p_{(i)} = \min\{1, \max_{j \le i} (m - j + 1) p_{(j)}\}` (Holm 1979, eq. 2.1 in adjusted form).

Benjamini and Hochberg's step-up procedure controls the false discovery rate:
:math:`\tilde p_{(i)} = \min\{1, \min_{j \ge i} m p_{(j)} / j\}` (Benjamini and Hochberg 1995, section 3).

Missing p-values are left missing and do not count in :math:`m`.

References: Holm, S. (1979), "A simple sequentially rejective multiple test procedure", *Scandinavian
Journal of Statistics* 6(2), 65-70. Benjamini, Y. and Hochberg, Y. (1995), "Controlling the false
discovery rate", *Journal of the Royal Statistical Society B* 57(1), 289-300.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["holm", "benjamini_hochberg", "adjust_within_families"]


def _clean(p_values: np.ndarray | list[float] | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float)
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise EvaluationError("p-values must lie in [0, 1]")
    return p, ok


def holm(p_values: np.ndarray | list[float] | pd.Series) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as the input; NaN stays NaN)."""
    p, ok = _clean(p_values)
    out = np.full(p.shape, np.nan)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    stepped = np.maximum.accumulate((m - np.arange(m)) * q[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[ok] = adjusted
    return out


def benjamini_hochberg(p_values: np.ndarray | list[float] | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (same order as the input; NaN stays NaN)."""
    p, ok = _clean(p_values)
    out = np.full(p.shape, np.nan)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    scaled = q[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[ok] = adjusted
    return out


def adjust_within_families(
    table: pd.DataFrame,
    *,
    p_value: str = "p_value",
    family: str = "family",
    methods: tuple[Literal["holm", "bh"], ...] = ("holm", "bh"),
) -> pd.DataFrame:
    """Add adjusted p-values computed separately within each family (e.g. primary, secondary outcomes).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per hypothesis with a p-value column and a family column.
    p_value, family : str
        Column names.
    methods : tuple of {"holm", "bh"}
        Which adjustments to add, as columns ``p_holm`` and ``p_bh``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with the adjusted columns.
    """
    functions = {"holm": holm, "bh": benjamini_hochberg}
    for method in methods:
        if method not in functions:
            raise EvaluationError(f"adjustment method must be 'holm' or 'bh'; got {method!r}")
    for column in (p_value, family):
        if column not in table.columns:
            raise EvaluationError(f"adjust_within_families: column {column!r} not in the table")
    out = table.copy()
    for method in methods:
        adjusted = pd.Series(np.nan, index=out.index)
        for _, rows in out.groupby(family, sort=False, dropna=False):
            adjusted.loc[rows.index] = functions[method](rows[p_value].to_numpy())
        out[f"p_{method}"] = adjusted
    return out
