r"""Nearest-neighbour matching on the Mahalanobis distance, alone or within a score caliper.

The distance between units :math:`i` and :math:`j` is
:math:`d_{ij} = \sqrt{(x_i - x_j)' S^{-1} (x_i - x_j)}` (Rubin 1980, *Biometrics*
36, 293-298), where, as in MatchIt (``mahalanobis_dist``) and optmatch,
:math:`S` is the **pooled within-group** covariance matrix: each covariate is
centred on its group mean (treated, control), and the cross-products are
divided by :math:`n - 2`. It is computed on the units not discarded.
Categorical covariates enter as one indicator per level divided by
:math:`\sqrt 2`; covariates without variance are left out; a singular
:math:`S` is inverted by the Moore-Penrose pseudo-inverse. The covariates are
then transformed so that Euclidean distance equals Mahalanobis distance
(:math:`z = x L` with :math:`L L' = S^{-1}`).

Within a score caliper (Rosenbaum & Rubin 1985, *The American Statistician*
39, 33-38; MatchIt's ``mahvars``), a pair is allowed only when the scores
differ by at most the caliper, and among the allowed controls the nearest in
Mahalanobis distance is taken.

- :func:`mahalanobis_with_replacement` works on blocks of treated units at a
  time (a dense block of distances, no loop over units); controls tied with the
  :math:`k`-th nearest (within a relative 1e-9) all count as matches and share
  the weight, as R's Matching does.
- :func:`mahalanobis_greedy` is MatchIt's greedy algorithm without replacement:
  treated units in the given order, in ``ratio`` rounds, each taking the
  nearest control still available (the first in data order on a tie). The loop
  over treated units is inherent to greedy matching; each step is one
  vectorised distance computation over the controls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["mahalanobis_greedy", "mahalanobis_transform", "mahalanobis_with_replacement"]

#: Relative tolerance under which two Mahalanobis distances count as tied.
MAHALANOBIS_TIE = 1e-9
#: Largest number of treated-by-control distances held in memory at once.
BLOCK_CELLS = 4_000_000


def mahalanobis_matrix(df: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    """Return the covariates as a float matrix, categorical ones as all-level indicators over sqrt(2).

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    covariates : sequence of str
        Covariate columns.

    Returns
    -------
    numpy.ndarray
        One column per numeric covariate and per level of each categorical one.
    """
    parts = []
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.to_numpy(dtype=float)[:, None])
        else:
            levels = sorted(pd.unique(s.dropna()), key=str)
            parts.append(np.column_stack([(s == lv).to_numpy(dtype=float) for lv in levels]) / np.sqrt(2.0))
    return np.hstack(parts) if parts else np.empty((len(df), 0))


def mahalanobis_transform(x: np.ndarray, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Transform covariates so that Euclidean distance equals the pooled-covariance Mahalanobis distance.

    Parameters
    ----------
    x : numpy.ndarray
        Covariate matrix (units by covariates).
    treat : numpy.ndarray
        0/1 treatment (the groups of the pooled covariance).
    keep : numpy.ndarray of bool
        Units the covariance is computed on.

    Returns
    -------
    numpy.ndarray
        The transformed matrix :math:`z = x L`, one row per unit.
    """
    xk = x[keep]
    spread = xk.max(axis=0) - xk.min(axis=0) if len(xk) else np.zeros(x.shape[1])
    varying = spread >= np.sqrt(np.finfo(float).eps)
    if not varying.any():
        return x[:, :1] if x.shape[1] else np.zeros((len(x), 1))
    x = x[:, varying]
    xk, tk = x[keep], treat[keep]
    centred = xk.copy()
    for g in (0, 1):
        rows = tk == g
        if rows.any():
            centred[rows] -= centred[rows].mean(axis=0)
    pooled = centred.T @ centred / (len(xk) - 2)
    vals, vecs = np.linalg.eigh(pooled)
    tol = vals.max() * max(pooled.shape) * np.finfo(float).eps
    inv_sqrt = np.where(vals > tol, 1.0 / np.sqrt(np.where(vals > tol, vals, 1.0)), 0.0)
    return x @ (vecs * inv_sqrt[None, :])


def _sq_dist(zt: np.ndarray, zc: np.ndarray) -> np.ndarray:
    d = (zt**2).sum(axis=1)[:, None] + (zc**2).sum(axis=1)[None, :] - 2.0 * zt @ zc.T
    return np.maximum(d, 0.0)


def mahalanobis_with_replacement(
    z_t: np.ndarray,
    z_c: np.ndarray,
    ratio: int,
    score_t: np.ndarray | None = None,
    score_c: np.ndarray | None = None,
    caliper: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match each treated unit to its ``ratio`` nearest controls (with replacement, ties kept).

    Parameters
    ----------
    z_t, z_c : numpy.ndarray
        Transformed covariates (:func:`mahalanobis_transform`) of treated and controls.
    ratio : int
        Controls per treated unit.
    score_t, score_c : numpy.ndarray, optional
        Scores for the caliper.
    caliper : float or None
        Largest allowed absolute score difference.

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions of the matched pairs (treated, then controls by distance).
    """
    n_t, n_c = len(z_t), len(z_c)
    if n_t == 0 or n_c == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    k = min(ratio, n_c)
    block = max(1, BLOCK_CELLS // n_c)
    out_t, out_c = [], []
    for start in range(0, n_t, block):
        stop = min(n_t, start + block)
        d = _sq_dist(z_t[start:stop], z_c)
        if caliper is not None and score_t is not None and score_c is not None:
            d[np.abs(score_t[start:stop, None] - score_c[None, :]) > caliper] = np.inf
        kth = np.partition(d, k - 1, axis=1)[:, k - 1]
        limit = kth + MAHALANOBIS_TIE * (1.0 + kth)
        rows, cols = np.nonzero((d <= limit[:, None]) & np.isfinite(d))
        order = np.lexsort((d[rows, cols], rows))
        out_t.append(rows[order] + start)
        out_c.append(cols[order])
    return np.concatenate(out_t), np.concatenate(out_c)


def mahalanobis_greedy(
    z_t: np.ndarray,
    z_c: np.ndarray,
    ratio: int,
    visit_order: np.ndarray,
    score_t: np.ndarray | None = None,
    score_c: np.ndarray | None = None,
    caliper: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy Mahalanobis matching without replacement (MatchIt's algorithm), optionally within a caliper.

    Parameters
    ----------
    z_t, z_c : numpy.ndarray
        Transformed covariates of treated and controls.
    ratio : int
        Controls per treated unit, taken in rounds.
    visit_order : numpy.ndarray
        Positions of the treated units in the order they choose.
    score_t, score_c : numpy.ndarray, optional
        Scores for the caliper.
    caliper : float or None
        Largest allowed absolute score difference.

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions of the matched pairs.
    failed_no_control : numpy.ndarray of bool
        Per treated unit: its first-round match failed because no control was left.
    """
    n_t, n_c = len(z_t), len(z_c)
    failed = np.zeros(n_t, dtype=bool)
    if n_c == 0:
        failed[:] = True
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), failed
    used = np.zeros(n_c, dtype=bool)
    cc = (z_c**2).sum(axis=1)
    use_caliper = caliper is not None and score_t is not None and score_c is not None
    out_t: list[int] = []
    out_c: list[int] = []
    for rnd in range(ratio):
        for i in visit_order.tolist():
            if used.all():
                if rnd == 0:
                    failed[i] = True
                continue
            d = np.maximum(cc - 2.0 * z_c @ z_t[i] + z_t[i] @ z_t[i], 0.0)
            d[used] = np.inf
            if use_caliper:
                d[np.abs(score_c - score_t[i]) > caliper] = np.inf
            j = int(np.argmin(d))
            if not np.isfinite(d[j]):
                continue
            used[j] = True
            out_t.append(i)
            out_c.append(j)
    return np.asarray(out_t, dtype=np.int64), np.asarray(out_c, dtype=np.int64), failed
