r"""Standard errors from influence functions, and the influence function of aggregation weights.

Every estimate of :mod:`evaluation.methods.did` is asymptotically linear,
:math:`\sqrt{n}(\hat\theta - \theta) = n^{-1/2} \sum_i \psi_i + o_p(1)`, with one
influence-function value :math:`\psi_i` per unit (Callaway and Sant'Anna 2021,
Theorem 2). Standard errors therefore come from the stacked influence
functions: ``se = sqrt(mean(psi**2) / n)`` as R ``did::getSE``, or, clustered,
:math:`\sqrt{\sum_c (\sum_{i \in c} \psi_i)^2} / n` (Liang-Zeger on the
influence function; R ``did`` only clusters through the bootstrap and warns that
its analytic errors ignore clustering).

Aggregated parameters :math:`\theta = \sum_k w_k \, ATT_k` whose weights are
group shares :math:`w_k = P(G = g_k) / \sum_{k'} P(G = g_{k'})` estimated from the
sample carry a second term for the estimated weights (Callaway and Sant'Anna
2021, appendix on aggregation; R ``did:::wif`` and ``did:::get_agg_inf_func``):
:math:`\psi^\theta_i = \sum_k w_k \psi^{k}_i + \sum_k \psi^{w_k}_i ATT_k`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["se_from_influence", "covariance_from_influence", "weight_influence", "aggregate_influence"]


def _cluster_sums(psi: np.ndarray, cluster_codes: np.ndarray | None) -> np.ndarray:
    if cluster_codes is None:
        return psi
    n_clusters = int(cluster_codes.max()) + 1
    if psi.ndim == 1:
        return np.bincount(cluster_codes, weights=psi, minlength=n_clusters)
    out = np.zeros((n_clusters, psi.shape[1]))
    np.add.at(out, cluster_codes, psi)
    return out


def se_from_influence(psi: np.ndarray, cluster_codes: np.ndarray | None = None) -> np.ndarray | float:
    """Analytic standard error(s) from influence function(s) (``n`` rows, one column per parameter).

    Parameters
    ----------
    psi : numpy.ndarray
        Influence functions, shape ``(n,)`` or ``(n, k)``.
    cluster_codes : numpy.ndarray or None
        Integer cluster codes ``0..G-1`` per unit; ``None`` treats units as independent.

    Returns
    -------
    float or numpy.ndarray
        ``sqrt(sum_c S_c**2) / n`` where ``S_c`` sums ``psi`` within cluster ``c`` (units are their own
        clusters when ``cluster_codes`` is None, giving R's ``sqrt(mean(psi**2) / n)``).
    """
    n = psi.shape[0]
    sums = _cluster_sums(psi, cluster_codes)
    if sums.ndim == 2 and sums.shape[1] > 1 and sums.flags.c_contiguous:
        # row by row, as np.sum(axis=0) adds the rows of a C-ordered matrix, but without a squared copy
        squares = np.einsum("ij,ij->j", sums, sums)
    else:
        squares = np.sum(sums**2, axis=0)
    return np.sqrt(squares) / n


def covariance_from_influence(psi: np.ndarray, cluster_codes: np.ndarray | None = None) -> np.ndarray:
    """Covariance matrix ``S'S / n**2`` of the parameters whose influence functions are the columns of ``psi``."""
    n = psi.shape[0]
    sums = _cluster_sums(psi, cluster_codes)
    return sums.T @ sums / n**2


def weight_influence(
    keepers: np.ndarray, pg: np.ndarray, unit_weights: np.ndarray, unit_group: np.ndarray, group: np.ndarray
) -> np.ndarray:
    r"""Influence function of estimated group-share weights (R ``did:::wif``).

    For weights :math:`w_k = p_{g_k} / \sum_{j \in K} p_{g_j}` with :math:`p_g = E_n[\omega 1\{G = g\}]`,

    .. math:: \psi^{w_k}_i = \frac{\omega_i 1\{G_i = g_k\} - p_{g_k}}{\sum_j p_{g_j}}
              - \frac{p_{g_k}}{(\sum_j p_{g_j})^2} \sum_{j \in K} (\omega_i 1\{G_i = g_j\} - p_{g_j}).

    Parameters
    ----------
    keepers : numpy.ndarray
        Indices (into ``pg`` and ``group``) of the parameters being averaged.
    pg : numpy.ndarray
        Group share of each parameter's group.
    unit_weights, unit_group : numpy.ndarray
        Sampling weight and group of each unit.
    group : numpy.ndarray
        Group of each parameter.

    Returns
    -------
    numpy.ndarray
        ``n x len(keepers)`` matrix.
    """
    pk = pg[keepers]
    total = pk.sum()
    centred = unit_weights[:, None] * (unit_group[:, None] == group[keepers][None, :]) - pk[None, :]
    return centred / total - np.outer(centred.sum(axis=1), pk / total**2)


def aggregate_influence(
    att: np.ndarray, psi: np.ndarray, which: np.ndarray, weights: np.ndarray, wif: np.ndarray | None = None
) -> np.ndarray:
    """Influence function of ``sum(weights * att[which])`` (R ``did:::get_agg_inf_func``)."""
    out = psi[:, which] @ weights
    if wif is not None:
        out = out + wif @ att[which]
    return out
