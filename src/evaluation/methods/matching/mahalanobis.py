r"""Nearest-neighbour matching on the Mahalanobis distance, alone or within a score caliper.

The distance between units :math:`i` and :math:`j` is
:math:`d_{ij} = \sqrt{(x_i - x_j)' S^{-1} (x_i - x_j)}` (Rubin 1980, *Biometrics*
36, 293-298), where, as in MatchIt (``mahalanobis_dist``) and optmatch,
:math:`S` is the **pooled within-group** covariance matrix: each covariate is
centred on its group mean (treated, control), and the cross-products are
divided by :math:`n - 2`. It is computed on the units not discarded.
Categorical covariates enter as one indicator per level divided by
:math:`\sqrt 2`; covariates without variance are left out; a singular
:math:`S` is inverted by a generalised inverse. The covariates are then
transformed so that Euclidean distance equals Mahalanobis distance, step by
step as MatchIt does it (:func:`mahalanobis_transform`).

Within a score caliper (Rosenbaum & Rubin 1985, *The American Statistician*
39, 33-38; MatchIt's ``mahvars``), a pair is allowed only when the scores
differ by at most the caliper, and among the allowed controls the nearest in
Mahalanobis distance is taken.

Ties follow MatchIt (``find_control_mahcovs``): MatchIt sorts the units by
the first coordinate of its own transformation of the covariates
(:func:`matchit_sort_key`) and visits the candidates of a focal unit walking
outwards through that order, one step left, one step right; of equally
distant controls with identical covariates the one visited *last* wins
(:func:`_pick` describes distances equal only mathematically). The positions
in that order are passed in as ``rank_*``; without them, the visit order is the
controls' order.

- :func:`mahalanobis_with_replacement` works on blocks of treated units at a
  time (a dense block of distances, no loop over units) and keeps the
  ``ratio`` nearest controls of each.
- :func:`mahalanobis_greedy` is MatchIt's greedy algorithm without replacement:
  treated units in the given order, in ``ratio`` rounds, each taking the
  nearest control still available. The loop over treated units is inherent to
  greedy matching; each step is one vectorised distance computation over the
  controls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.linalg import lapack

__all__ = [
    "mahalanobis_greedy",
    "mahalanobis_matrix",
    "mahalanobis_transform",
    "mahalanobis_with_replacement",
    "matchit_sort_key",
]

#: Relative difference under which two distances count as equal (MatchIt decides them by rounding).
NEAR_TIE = 1e-12
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


def _r_mean(x: np.ndarray) -> np.ndarray:
    """Column means accumulated in extended precision, as R's ``colMeans``."""
    return (x.astype(np.longdouble).sum(axis=0) / len(x)).astype(float)


def mahalanobis_transform(x: np.ndarray, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    r"""Transform covariates so that Euclidean distance equals the pooled-covariance Mahalanobis distance.

    Follows MatchIt's ``transform_covariates(method = "mahalanobis")`` step by
    step, so that distances agree with MatchIt's to rounding and MatchIt's
    ordering coordinate (the first column) is reproduced: covariates without
    variance over all units are dropped; the others are standardised over all
    units (R's ``scale``); the pooled within-group covariance :math:`S` of the
    standardised covariates is computed over the kept units; :math:`S^{-1}` is
    the inverse when :math:`\det S > 10^{-8}`, otherwise MatchIt's generalised
    inverse (SVD, singular values below :math:`10^{-8}` of the largest
    dropped); and :math:`z = x_s R_{\cdot \pi^{-1}}'` with :math:`R` the
    pivoted upper Cholesky factor of :math:`S^{-1}` (LAPACK ``dpstrf``, as R's
    ``chol(pivot = TRUE)``).

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
        The transformed matrix, one row per unit.
    """
    spread = x.max(axis=0) - x.min(axis=0) if len(x) else np.zeros(x.shape[1])
    varying = spread >= np.sqrt(np.finfo(float).eps)
    if not varying.any():
        return x[:, :1].astype(float) if x.shape[1] else np.zeros((len(x), 1))
    x = x[:, varying].astype(float)
    centred_all = x - _r_mean(x)
    sd = np.sqrt((centred_all.astype(np.longdouble) ** 2).sum(axis=0).astype(float) / max(1, len(x) - 1))
    xs = centred_all / sd
    xk, tk = xs[keep], treat[keep]
    centred = xk.copy()
    for g in (0, 1):
        rows = tk == g
        if rows.any():
            centred[rows] -= _r_mean(centred[rows])
    centred -= _r_mean(centred)
    centred_ld = centred.astype(np.longdouble)
    cross = centred_ld.T @ centred_ld
    pooled = (cross / (len(xk) - 1)).astype(float) * (len(xk) - 1) / (len(xk) - 2)
    if np.linalg.det(pooled) > 1e-8:
        inv = np.linalg.inv(pooled)
    else:
        u, s, vt = np.linalg.svd(pooled)
        pos = s > max(1e-8 * s[0], 0.0)
        inv = vt.T[:, pos] @ ((1.0 / s[pos])[:, None] * u[:, pos].T)
    factor, piv, _, _ = lapack.dpstrf(inv, lower=0)
    factor = np.triu(factor)
    return xs @ factor[:, np.argsort(piv - 1)].T


def matchit_sort_key(z: np.ndarray) -> np.ndarray:
    """Return the coordinate by which MatchIt orders units for Mahalanobis matching.

    MatchIt's C++ code (``nn_matchC_mahcovs``) sorts the units by the first
    column of the transformed covariates and walks outwards through that order
    to find candidates; the order decides which of equally distant controls is
    chosen.

    Parameters
    ----------
    z : numpy.ndarray
        Output of :func:`mahalanobis_transform`.

    Returns
    -------
    numpy.ndarray
        One value per unit.
    """
    return z[:, 0]


def _sq_dist(zt: np.ndarray, zc: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, summed column by column as MatchIt's ``euc_dist_sq`` does.

    Direct differences (no expansion of the square) keep identical rows exactly
    tied and avoid cancellation, so that ties are the same as MatchIt's.
    """
    d = np.zeros((len(zt), len(zc)))
    for col in range(zt.shape[1]):
        diff = zt[:, col, None] - zc[None, :, col]
        d += diff * diff
    return d


def _visit_key(rank_t: np.ndarray | None, rank_c: np.ndarray | None, rows: slice | int, n_c: int) -> np.ndarray:
    """MatchIt's visit order of controls for focal units: smaller = visited earlier."""
    if rank_t is None or rank_c is None:
        return np.arange(n_c)[None, :]
    rt = np.atleast_1d(rank_t[rows])[:, None]
    gap = rank_c[None, :] - rt
    return 2 * np.abs(gap) + (gap > 0)


def _pick(d: np.ndarray, visit: np.ndarray, row_id: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` controls MatchIt keeps among candidates at (nearly) equal distances.

    ``d``, ``visit`` and ``row_id`` describe the candidates. MatchIt keeps the
    nearest; a candidate replaces an equally distant one, so of controls with
    *identical* covariates the one visited last wins. Distances of different
    covariate vectors that are equal only mathematically (say ages 2 years
    above and below) are decided in MatchIt by floating-point rounding, which
    differs between machines; they are treated here as ordered by visit
    (the first visited wins), which reproduces MatchIt's published outputs.
    """
    order = np.argsort(d, kind="stable")
    ds = d[order]
    cluster = np.concatenate([[0], np.cumsum(ds[1:] > ds[:-1] * (1 + NEAR_TIE) + 1e-300)])
    cl = np.empty(len(d), dtype=np.int64)
    cl[order] = cluster
    first_visit = {}
    for c, r, v in zip(cl.tolist(), row_id.tolist(), visit.tolist(), strict=True):
        first_visit[(c, r)] = min(first_visit.get((c, r), v), v)
    group = np.array([first_visit[(c, r)] for c, r in zip(cl.tolist(), row_id.tolist(), strict=True)])
    return np.lexsort((-visit, group, cl))[:k]


def mahalanobis_with_replacement(
    z_t: np.ndarray,
    z_c: np.ndarray,
    ratio: int,
    score_t: np.ndarray | None = None,
    score_c: np.ndarray | None = None,
    caliper: float | None = None,
    rank_t: np.ndarray | None = None,
    rank_c: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match each treated unit to its ``ratio`` nearest controls, with replacement, as MatchIt does.

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
    rank_t, rank_c : numpy.ndarray, optional
        Positions of the units in MatchIt's order (:func:`matchit_sort_key`);
        they decide ties (see the module docstring).

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions of the matched pairs (treated, then controls by distance).
    """
    n_t, n_c = len(z_t), len(z_c)
    if n_t == 0 or n_c == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    k = min(ratio, n_c)
    row_id = np.unique(z_c, axis=0, return_inverse=True)[1].ravel()
    block = max(1, BLOCK_CELLS // n_c)
    out_t, out_c = [], []
    for start in range(0, n_t, block):
        stop = min(n_t, start + block)
        d = _sq_dist(z_t[start:stop], z_c)
        if caliper is not None and score_t is not None and score_c is not None:
            d[np.abs(score_t[start:stop, None] - score_c[None, :]) > caliper] = np.inf
        kth = np.partition(d, k - 1, axis=1)[:, k - 1]
        chosen = (d <= kth[:, None] * (1 + NEAR_TIE)) & np.isfinite(d)
        crowded = np.flatnonzero(chosen.sum(axis=1) > k)
        if len(crowded):
            key = np.broadcast_to(_visit_key(rank_t, rank_c, slice(start, stop), n_c), d.shape)
            for r in crowded:
                cand = np.flatnonzero(chosen[r])
                best = cand[_pick(d[r, cand], key[r, cand], row_id[cand], k)]
                chosen[r] = False
                chosen[r, best] = True
        rows, cols = np.nonzero(chosen)
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
    rank_t: np.ndarray | None = None,
    rank_c: np.ndarray | None = None,
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
    rank_t, rank_c : numpy.ndarray, optional
        Positions of the units in MatchIt's order (:func:`matchit_sort_key`);
        they decide ties (see the module docstring).

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
    row_id = np.unique(z_c, axis=0, return_inverse=True)[1].ravel()
    use_caliper = caliper is not None and score_t is not None and score_c is not None
    out_t: list[int] = []
    out_c: list[int] = []
    for rnd in range(ratio):
        for i in visit_order.tolist():
            if used.all():
                if rnd == 0:
                    failed[i] = True
                continue
            d = _sq_dist(z_t[i : i + 1], z_c)[0]
            d[used] = np.inf
            if use_caliper:
                d[np.abs(score_c - score_t[i]) > caliper] = np.inf
            j = int(np.argmin(d))
            if not np.isfinite(d[j]):
                continue
            ties = np.flatnonzero(d <= d[j] * (1 + NEAR_TIE))
            if len(ties) > 1:
                key = _visit_key(rank_t, rank_c, i, n_c)[0]
                j = int(ties[_pick(d[ties], key[ties], row_id[ties], 1)[0]])
            used[j] = True
            out_t.append(i)
            out_c.append(j)
    return np.asarray(out_t, dtype=np.int64), np.asarray(out_c, dtype=np.int64), failed
