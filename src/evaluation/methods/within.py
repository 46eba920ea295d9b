"""The within transformation: subtracting weighted group means, the core of every fixed-effects fit here.

Shared by :func:`evaluation.methods.panel.fixed_effects` and the bootstrap's
:func:`evaluation.methods.economics.resample.twfe_coefficients`. Groups are integer codes ``0 .. n_levels - 1``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["demean", "demeaned_dummies"]


def demean(values: np.ndarray, codes: np.ndarray, n_levels: int, w: np.ndarray) -> np.ndarray:
    """Subtract the weighted mean of its group from every value (each column of a matrix on its own).

    Parameters
    ----------
    values
        Vector or ``n x k`` matrix.
    codes
        Group of each row.
    n_levels
        Number of groups.
    w
        Weight of each row (a group of zero total weight keeps its values).

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``.
    """
    two_d = values.ndim == 2
    arr = values if two_d else values[:, None]
    wsum = np.bincount(codes, weights=w, minlength=n_levels)
    wsum = np.where(wsum > 0, wsum, 1.0)
    out = np.empty(arr.shape, dtype=float)
    for j in range(arr.shape[1]):
        means = np.bincount(codes, weights=w * arr[:, j], minlength=n_levels) / wsum
        out[:, j] = arr[:, j] - means[codes]
    return out if two_d else out[:, 0]


def demeaned_dummies(codes: np.ndarray, n_levels: int, within: np.ndarray, n_within: int, w: np.ndarray) -> np.ndarray:
    """Dummies of levels ``1 ..`` of one factor, each less its weighted mean within the levels of another.

    Equal to ``demean(dummies, within, n_within, w)`` for the ``n x (n_levels - 1)`` dummy matrix, in one
    pass over the rows: the weight of every (within, level) cell divided by the weight of its ``within``
    level is the mean to subtract.

    Parameters
    ----------
    codes
        Level of the dummied factor (for example the year) of each row; level 0 has no dummy.
    n_levels
        Levels of the dummied factor.
    within
        Group (for example the person) of each row.
    n_within
        Number of groups.
    w
        Weight of each row.

    Returns
    -------
    numpy.ndarray
        ``n x (n_levels - 1)``.
    """
    cell_weight = np.bincount(within * n_levels + codes, weights=w, minlength=n_within * n_levels)
    group_weight = np.bincount(within, weights=w, minlength=n_within)
    share = cell_weight.reshape(n_within, n_levels) / np.where(group_weight > 0, group_weight, 1.0)[:, None]
    out = -share[within, 1:]
    rows = np.flatnonzero(codes > 0)
    out[rows, codes[rows] - 1] += 1.0
    return out
