"""Partialling out fixed effects and controls (Frisch-Waugh-Lovell) for the few-cluster tools.

The wild cluster bootstrap and the effective number of clusters both work on
the regressor of interest after the fixed effects and the other regressors
have been swept out of it. :func:`partial_design` builds that operator once:
in the space of ``sqrt(w)``-scaled data, the larger fixed-effect factor is
removed by weighted within-group demeaning and the rest (dummies of the other
factor, first level left out, and the controls, demeaned in turn) by a QR
projection. By the Frisch-Waugh-Lovell theorem this is the residual-maker of
the full dummy-variable regression, as in :mod:`evaluation.methods.panel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError

__all__ = ["PartialDesign", "partial_design"]


@dataclass(frozen=True)
class PartialDesign:
    """The residual-maker of the nuisance part of a regression, and the data it came from.

    Attributes
    ----------
    y, x : numpy.ndarray
        Outcome and regressor of interest with the nuisance part swept out (``sqrt(w)``-scaled).
    clusters : numpy.ndarray
        Integer cluster codes ``0..G-1`` of the rows.
    n_clusters : int
        G.
    k_nuisance : int
        Nuisance parameters counted in the small-sample factor (fixed effects nested in the
        clusters count one, as Stata's ``xtreg, fe`` and fixest's ``fixef.K = "nested"``).
    nobs : int
        Rows used.
    """

    y: np.ndarray
    x: np.ndarray
    clusters: np.ndarray
    n_clusters: int
    k_nuisance: int
    nobs: int
    _sw: np.ndarray
    _codes: np.ndarray | None
    _n_levels: int
    _q: np.ndarray

    def residualise(self, a: np.ndarray) -> np.ndarray:
        """Sweep the nuisance part out of ``sqrt(w)``-scaled columns ``a`` (shape ``(N,)`` or ``(N, m)``)."""
        arr = a if a.ndim == 2 else a[:, None]
        out = arr
        if self._codes is not None:
            w = self._sw**2
            raw = arr / self._sw[:, None]
            wsum = np.bincount(self._codes, weights=w, minlength=self._n_levels)
            out = np.empty_like(raw)
            for j in range(raw.shape[1]):
                means = np.bincount(self._codes, weights=w * raw[:, j], minlength=self._n_levels) / wsum
                out[:, j] = (raw[:, j] - means[self._codes]) * self._sw
        if self._q.shape[1]:
            out = out - self._q @ (self._q.T @ out)
        return out if a.ndim == 2 else out[:, 0]


def partial_design(
    df: pd.DataFrame,
    outcome: str,
    regressor: str,
    *,
    cluster: str,
    controls: Sequence[str] = (),
    unit: str | None = None,
    time: str | None = None,
    weights: str | None = None,
) -> PartialDesign:
    """Build the partialled-out outcome and regressor of ``outcome ~ regressor + controls + FE``.

    Parameters
    ----------
    df
        Data, one row per observation.
    outcome, regressor
        Outcome and the regressor of interest.
    cluster
        Cluster column.
    controls
        Other regressors.
    unit, time
        Fixed-effect columns (either or both may be None; with neither, an intercept is used).
    weights
        Analytic weights column, or None.

    Returns
    -------
    PartialDesign

    Raises
    ------
    EvaluationError
        Missing columns, fewer than two clusters, or negative weights.
    ModelNotIdentifiedError
        The regressor is collinear with the nuisance part.
    """
    needed = [outcome, regressor, cluster, *controls] + [c for c in (unit, time, weights) if c]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise EvaluationError(f"column(s) {missing} not in the data (columns are {list(df.columns)}).")
    data = df[list(dict.fromkeys(needed))].dropna()
    if weights is not None:
        if (data[weights] < 0).any():
            raise EvaluationError(f"weight column '{weights}' has negative values; weights must be >= 0.")
        data = data.loc[data[weights] > 0]
    nobs = len(data)
    clusters, levels = pd.factorize(data[cluster], sort=True)
    n_clusters = len(levels)
    if n_clusters < 2:
        raise EvaluationError(f"clustering on '{cluster}' needs at least 2 clusters, found {n_clusters}.")
    sw = np.sqrt(data[weights].to_numpy(dtype=float)) if weights else np.ones(nobs)
    factors = []
    for col in (unit, time):
        if col:
            codes, lv = pd.factorize(data[col], sort=True)
            factors.append((codes, len(lv)))
    factors.sort(key=lambda f: f[1], reverse=True)
    absorbed = factors[0] if factors else None
    extra = []
    if len(factors) == 2:
        codes, n_lv = factors[1]
        dummies = np.zeros((nobs, n_lv - 1))
        keep = codes > 0
        dummies[np.flatnonzero(keep), codes[keep] - 1] = 1.0
        extra.append(dummies)
    if controls:
        extra.append(data[list(controls)].to_numpy(dtype=float))
    if absorbed is None:
        extra.insert(0, np.ones((nobs, 1)))
    base = PartialDesign(
        y=np.empty(0),
        x=np.empty(0),
        clusters=clusters,
        n_clusters=n_clusters,
        k_nuisance=0,
        nobs=nobs,
        _sw=sw,
        _codes=absorbed[0] if absorbed else None,
        _n_levels=absorbed[1] if absorbed else 0,
        _q=np.empty((nobs, 0)),
    )
    q = np.empty((nobs, 0))
    rank = 0
    if extra:
        z = base.residualise(np.hstack(extra) * sw[:, None])
        qz, r = np.linalg.qr(z)
        diag = np.abs(np.diag(r))
        keep_cols = diag > 1e-9 * max(float(diag.max(initial=0.0)), 1e-300)
        q, _ = np.linalg.qr(z[:, keep_cols]) if keep_cols.any() else (np.empty((nobs, 0)), None)
        rank = int(keep_cols.sum())
    k_fe = 0
    for codes, n_lv in factors:
        nested = bool(np.all(pd.Series(clusters).groupby(codes).nunique().to_numpy() == 1))
        k_fe += 1 if nested else n_lv
    if len(factors) == 2:
        rank -= factors[1][1] - 1  # the dummies are counted as fixed effects above
        k_fe -= 1
    k_nuisance = k_fe + rank
    design = PartialDesign(
        y=np.empty(0),
        x=np.empty(0),
        clusters=clusters,
        n_clusters=n_clusters,
        k_nuisance=int(k_nuisance),
        nobs=nobs,
        _sw=sw,
        _codes=base._codes,
        _n_levels=base._n_levels,
        _q=q,
    )
    y = design.residualise(data[outcome].to_numpy(dtype=float) * sw)
    x = design.residualise(data[regressor].to_numpy(dtype=float) * sw)
    if float(x @ x) <= 1e-12 * max(float(np.sum((data[regressor].to_numpy(dtype=float) * sw) ** 2)), 1e-300):
        raise ModelNotIdentifiedError(f"'{regressor}' is collinear with the fixed effects and controls.")
    return PartialDesign(
        y=y,
        x=x,
        clusters=clusters,
        n_clusters=n_clusters,
        k_nuisance=int(k_nuisance),
        nobs=nobs,
        _sw=sw,
        _codes=base._codes,
        _n_levels=base._n_levels,
        _q=q,
    )
