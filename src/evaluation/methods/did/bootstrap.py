r"""Multiplier bootstrap with simultaneous (sup-t) confidence bands, as R ``did:::mboot``.

For a matrix of influence functions :math:`\psi` (``n`` units by ``k`` parameters) each draw
:math:`b` multiplies the units' influence functions by independent Rademacher weights
:math:`V_{ib} \in \{-1, 1\}` (R ``BMisc::multiplier_bootstrap`` draws Rademacher weights, not
Mammen's) and records :math:`R_b = \sqrt{n}\, \bar{E}_n[V_b \psi]`. With clusters the weights are
drawn per cluster and applied to the clusters' *mean* influence function, scaled by
:math:`\sqrt{G}` (R ``did``'s convention; with unequal cluster sizes this differs from summing within
clusters). From the draws:

- the standard error of each parameter is the robust scale
  :math:`(q_{0.75} - q_{0.25}) / (z_{0.75} - z_{0.25}) / \sqrt{n}` (quantiles of type 1, as R);
- the critical value of the uniform band is the :math:`1-\alpha` quantile (type 1) of
  :math:`\max_k |R_{bk}| / \hat\sigma_k` over parameters with a positive scale (Callaway and Sant'Anna
  2021, section 4.1, and their Algorithm 1).

Draws are generated in blocks from a seeded :class:`numpy.random.Generator`, so results depend only
on ``random_state`` and the data, and the draws for the same units coincide across calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["BootstrapResult", "MultiplierBootstrapResult", "multiplier_bootstrap"]

_IQR_NORMAL = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
_TINY = np.sqrt(np.finfo(float).eps) * 10
_BLOCK = 128


@dataclass(frozen=True)
class MultiplierBootstrapResult:
    """Bootstrap draws, standard errors and the sup-t critical value.

    A building block of :class:`~evaluation.methods.did.att_gt.AttGtResult`, whose ``tidy()`` reports these standard
    errors and bands; it estimates nothing itself, so it has no ``tidy()``. It was called ``BootstrapResult``, as
    the unrelated :class:`evaluation.methods.economics.resample.BootstrapResult` is; the old name stays as an alias.
    """

    draws: np.ndarray
    se: np.ndarray
    crit_val: float


#: The former name of :class:`MultiplierBootstrapResult`.
BootstrapResult = MultiplierBootstrapResult


def _quantile_type1(x: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    return np.quantile(x, q, axis=axis, method="inverted_cdf")


def multiplier_bootstrap(
    psi: np.ndarray,
    *,
    n_bootstrap: int,
    alpha: float,
    random_state: int | np.random.Generator,
    cluster_codes: np.ndarray | None = None,
) -> MultiplierBootstrapResult:
    """Run the multiplier bootstrap on influence functions.

    Parameters
    ----------
    psi : numpy.ndarray
        Influence functions, ``(n,)`` or ``(n, k)``.
    n_bootstrap : int
        Number of draws (R ``biters``).
    alpha : float
        One minus the coverage of the uniform band.
    random_state : int or numpy.random.Generator
        Seed of the Rademacher draws.
    cluster_codes : numpy.ndarray or None
        Integer cluster code ``0..G-1`` per unit, or ``None`` for unit-level draws.

    Returns
    -------
    MultiplierBootstrapResult
        ``draws`` (``n_bootstrap x k``), ``se`` (NaN where the draws have no spread) and ``crit_val``.
    """
    psi2 = psi.reshape(psi.shape[0], -1)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    if cluster_codes is not None:
        n_clusters = int(cluster_codes.max()) + 1
        sums = np.zeros((n_clusters, psi2.shape[1]))
        np.add.at(sums, cluster_codes, psi2)
        base = sums / np.bincount(cluster_codes, minlength=n_clusters)[:, None]
    else:
        base = psi2
    m = base.shape[0]
    draws = np.empty((n_bootstrap, psi2.shape[1]))
    for start in range(0, n_bootstrap, _BLOCK):
        stop = min(start + _BLOCK, n_bootstrap)
        v = rng.integers(0, 2, size=(stop - start, m), dtype=np.int8).astype(float) * 2.0 - 1.0
        draws[start:stop] = np.sqrt(m) * (v @ base) / m
    scale = (_quantile_type1(draws, 0.75) - _quantile_type1(draws, 0.25)) / _IQR_NORMAL
    scale = np.where(scale > _TINY, scale, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_max = np.nanmax(np.abs(draws / scale), axis=1) if np.any(np.isfinite(scale)) else np.full(n_bootstrap, np.nan)
    t_max = t_max[np.isfinite(t_max)]
    crit = float(_quantile_type1(t_max, 1 - alpha)) if t_max.size else float("nan")
    return MultiplierBootstrapResult(draws=draws, se=scale / np.sqrt(m), crit_val=crit)
