r"""The reform's effects for the economics: the imputation estimator, and its per-cluster sufficient statistics.

Estimator. Every effect of the economics step (cost, placements and SDQ per treated child-year; staff
and cost per child-year with an open case of the municipality-year panel) is the imputation estimator
of Borusyak, Jaravel and Spiess (2024, *Review of Economic Studies* 91(6), 3253-3285; BJS),
:func:`evaluation.methods.did.imputation.did_imputation`, the estimator of the headline
(:func:`evaluation.steps.estimate.headline_fit`): the untreated model
:math:`Y_i(0) = \alpha_{m(i)} + \lambda_{t(i)} + x_i'\gamma_{t(i)} + c_i'\delta` with municipality
effects, year effects, baseline covariates and controls, fitted on the untreated rows only, imputes the
untreated outcome of every treated row; the effect of a set of treated rows is the weighted mean of
:math:`\hat\tau_i = Y_i - \hat Y_i(0)` over them (BJS Theorem 2). The ATT averages over all treated
child-years (BJS eq. 2), and follow-up year :math:`k` (1 = the adoption year, :math:`H` collects year
:math:`H` and later) over the treated child-years of that year since adoption.

Why not the former regression. The economics used to fit
:math:`y_{it} = a_i + l_t + \sum_k \beta_k F^k_{it} + e_{it}` with *child* fixed effects on the matched
children, and a pooled :math:`y_{it} = a_i + l_t + \beta D_{it} + e_{it}` for the yearly amounts. With
staggered adoption and effects that grow with time since adoption, the pooled coefficient is not the
average effect over treated child-years: it weights the cohort-period effects by the variance of the
treatment left after the fixed effects, with negative weights on long-run effects, because already
treated child-years serve as controls (Goodman-Bacon 2021; BJS section 3). The child effects add a
second problem: a child first seen after adoption has its whole level absorbed by its own effect, so
only children seen before *and* after adoption pin down the level of the effect (about 45 % of the
treated child-years of the tiny synthetic registry), and the binned last follow-up year mixes growing
effects into the other coefficients. The imputation estimator compares every treated child-year with
its imputed untreated outcome and targets exactly the average over treated child-years.

Sufficient statistics (:func:`cluster_moments`). The estimator is linear and the untreated fit's normal
equations are sums over municipalities. With clusters :math:`c` equal to the fixed-effect units (the
municipalities), and per cluster the untreated sums :math:`W_c = \sum w`, :math:`m_c = \sum w z`,
:math:`A_c = \sum w z z'`, :math:`s_c = \sum w y`, :math:`u_c = \sum w z y`, and the treated sums of
each follow-up year :math:`k`, :math:`T_{ck} = \sum w`, :math:`T^y_{ck} = \sum w y`,
:math:`T^z_{ck} = \sum w z`, a resample that takes cluster :math:`c` :math:`n_c` times (each copy its
own municipality effect) has

.. math::

    \hat b = \Big(\sum_c n_c (A_c - m_c m_c'/W_c)\Big)^{+} \sum_c n_c (u_c - m_c s_c / W_c),\qquad
    \hat\alpha_c = (s_c - m_c'\hat b)/W_c,

    \hat\tau_k = \frac{\sum_c n_c (T^y_{ck} - T_{ck}\hat\alpha_c - T^{z\prime}_{ck}\hat b)}{\sum_c n_c T_{ck}},

so a bootstrap replication costs :math:`O(G p^2 + p^3)` whatever the number of child-years
(:math:`G` clusters, :math:`p` columns of the untreated model: year dummies, covariates with
year-specific coefficients and controls). With every :math:`n_c = 1` it is the estimate of
:func:`~evaluation.methods.did.imputation.did_imputation` itself (checked when the moments are built). The
design columns come from the fit (``ImputationResult._state["design"]``: the same model, not a copy),
so the bootstrap repeats the very specification of the point estimate, including the headline's
fallback for sparse outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["ClusterMoments", "EffectSpec", "cluster_moments", "followup_bins"]

_RANK_TOL = 1e-10  # as did_imputation: relative tolerance of the pseudo-inverse
_IDENT_TOL = 1e-7  # as did_imputation: an effect is identified when G G^+ q = q to this relative tolerance
_CHECK_RTOL = 1e-6  # the moments' estimate must reproduce did_imputation's to this relative tolerance


@dataclass(frozen=True)
class EffectSpec:
    """One effect of the economics step: an imputation fit repeated in every bootstrap replication.

    Parameters
    ----------
    name
        Prefix of the result columns (``<name>:<outcome>:<statistic>``).
    data
        Key of the data set: ``"child"`` (matched child-years) or ``"staff"`` (municipality-years).
    outcome
        Outcome column.
    horizon
        Follow-up years :math:`H` reported besides the ATT (0: the ATT only); year :math:`H` collects
        year :math:`H` and later.
    """

    name: str
    data: str
    outcome: str
    horizon: int = 0

    def columns(self) -> list[str]:
        """Names of the result columns: the ATT, then follow-up years 1..H."""
        stats = ["att", *(f"followup_{k}" for k in range(1, self.horizon + 1))]
        return [f"{self.name}:{self.outcome}:{s}" for s in stats]


def followup_bins(event_time: np.ndarray, horizon: int) -> np.ndarray:
    """Follow-up year of each treated row, 0-based and binned: ``min(event_time, H - 1)`` (0 when H is 0).

    ``event_time`` 0 is the adoption year, i.e. follow-up year 1.
    """
    k = max(int(horizon), 1)
    return np.minimum(np.asarray(event_time, dtype=np.int64), k - 1)


@dataclass(frozen=True)
class ClusterMoments:
    """Per-cluster sufficient statistics of one imputation fit (module docstring).

    Attributes
    ----------
    spec
        The effect.
    clusters
        Cluster labels, in the order of the first axis of every array.
    untreated_weight, zw, zwz
        :math:`W_c`, :math:`m_c` and :math:`A_c`; shared (the same arrays) between fits with the same
        design, which :meth:`solve` exploits.
    yw, zwy
        :math:`s_c` and :math:`u_c`.
    treated_weight, treated_yw, treated_zw
        :math:`T_{ck}`, :math:`T^y_{ck}` and :math:`T^z_{ck}` by follow-up year :math:`k` (one column when
        ``spec.horizon`` is 0).
    treated_rows
        Treated rows (child-years, or municipality-years) by follow-up year.
    """

    spec: EffectSpec
    clusters: pd.Index
    untreated_weight: np.ndarray
    zw: np.ndarray
    zwz: np.ndarray
    yw: np.ndarray
    zwy: np.ndarray
    treated_weight: np.ndarray
    treated_yw: np.ndarray
    treated_zw: np.ndarray
    treated_rows: np.ndarray

    def columns(self) -> list[str]:
        """Return the result columns of :meth:`estimates` (:meth:`EffectSpec.columns`)."""
        return self.spec.columns()

    def solve(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(G_b, G_b^+, counts / W)`` of the untreated fit of a resample (``counts``: copies per cluster)."""
        n = np.asarray(counts, dtype="float64")
        safe = np.where(self.untreated_weight > 0, self.untreated_weight, 1.0)
        per = n / safe
        gram = np.tensordot(n, self.zwz, axes=1) - (self.zw * per[:, None]).T @ self.zw
        scale = np.sqrt(np.clip(np.diag(gram), 0.0, None))
        scale = np.where(scale > 0, scale, 1.0)
        outer = np.outer(scale, scale)
        ginv = np.linalg.pinv(gram / outer, rcond=_RANK_TOL, hermitian=True) / outer
        return gram, ginv, per

    def estimates(
        self, counts: np.ndarray, solved: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """ATT and effects by follow-up year of a resample that takes cluster ``c`` ``counts[c]`` times.

        Parameters
        ----------
        counts
            Copies of each cluster, shape ``(G,)``; all ones is the full sample.
        solved
            :meth:`solve` of ``counts`` when already computed (fits with the same design share it).

        Returns
        -------
        numpy.ndarray
            ``[ATT, year 1, ..., year H]`` (the ATT alone when ``spec.horizon`` is 0); NaN where the
            resample has no treated row of a follow-up year or cannot identify its effect (e.g. a year
            without untreated rows); the ATT is NaN when any follow-up year with treated rows is.
        """
        n = np.asarray(counts, dtype="float64")
        gram, ginv, per = self.solve(n) if solved is None else solved
        h = n @ self.zwy - self.zw.T @ (per * self.yw)
        b = ginv @ h
        safe = np.where(self.untreated_weight > 0, self.untreated_weight, 1.0)
        alpha = (self.yw - self.zw @ b) / safe
        weight = n @ self.treated_weight
        total = n @ (self.treated_yw - self.treated_weight * alpha[:, None] - self.treated_zw @ b)
        q = np.einsum("c,ckp->kp", n, self.treated_zw) - (self.treated_weight * per[:, None]).T @ self.zw
        back = (gram @ (ginv @ q.T)).T
        identified = np.linalg.norm(back - q, axis=1) <= _IDENT_TOL * np.maximum(np.linalg.norm(q, axis=1), 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            by_year = np.where((weight > 0) & identified, total / np.where(weight > 0, weight, 1.0), np.nan)
        used = weight > 0
        att = float(total[used].sum() / weight[used].sum()) if used.any() and identified[used].all() else np.nan
        return np.concatenate([[att], by_year]) if self.spec.horizon else np.array([att])


def _same_design(a: Any, b: Any, train_a: np.ndarray, train_b: np.ndarray) -> bool:
    """Whether two fits' untreated models have the same rows, weights, periods and columns."""
    return a is b or (
        a.p == b.p
        and a.k_trend == b.k_trend
        and np.array_equal(train_a, train_b)
        and np.array_equal(a.w, b.w)
        and np.array_equal(a.time, b.time)
        and np.array_equal(a.unit, b.unit)
        and np.array_equal(a.x, b.x)
    )


def cluster_moments(
    fit: Any,
    spec: EffectSpec,
    clusters: pd.Index,
    *,
    cluster: str = "municipality",
    share: Sequence[tuple[Any, ClusterMoments]] = (),
) -> ClusterMoments:
    """Per-cluster sufficient statistics of an imputation fit, for :meth:`ClusterMoments.estimates`.

    Parameters
    ----------
    fit
        An :class:`~evaluation.methods.did.imputation.ImputationResult` whose fixed-effect unit is ``cluster``.
    spec
        The effect (its ``horizon`` sets the follow-up years).
    clusters
        Labels of every cluster the bootstrap draws (e.g. the index of the strata); clusters without
        rows in the fit get zero moments.
    cluster
        The cluster column of the fit's data.
    share
        Earlier ``(fit, moments)`` pairs: when one has the same untreated design, its design arrays are
        reused (and :func:`evaluation.methods.economics.resample.cluster_bootstrap` solves the design once).

    Returns
    -------
    ClusterMoments

    Raises
    ------
    EvaluationError
        When the fit's unit is not ``cluster``, a row's cluster is not in ``clusters``, or the moments do
        not reproduce the fit's ATT.
    """
    st = fit._state  # the fit's design and row sets (evaluation.methods.did.imputation)
    if st["unit"] != cluster:
        raise EvaluationError(
            f"economics: the bootstrap resamples {cluster!r}, but the imputation fit of {spec.outcome!r} has "
            f"fixed effects for {st['unit']!r}; fit with unit={cluster!r}."
        )
    design, train, rows_t = st["design"], np.asarray(st["train"]), np.asarray(st["rows_t"])
    pos = pd.Index(clusters).get_indexer(st["data"][cluster])
    if (pos < 0).any():
        raise EvaluationError(
            f"economics: the data of {spec.outcome!r} has clusters missing from the bootstrap strata."
        )
    n_clusters, n_bins = len(clusters), max(int(spec.horizon), 1)
    y, w = design.y, design.w
    w0 = w[train]
    shared = next((m for f, m in share if _same_design(f._state["design"], design, f._state["train"], train)), None)
    if shared is not None:
        untreated_weight, zw, zwz = shared.untreated_weight, shared.zw, shared.zwz
    else:
        untreated_weight = np.bincount(pos[train], weights=w0, minlength=n_clusters)
        zw = design.group_sums(w0, train, pos, n_clusters)
        zwz = np.zeros((n_clusters, design.p, design.p))
        order = train[np.argsort(pos[train], kind="stable")]
        bounds = np.searchsorted(pos[order], np.arange(n_clusters + 1))
        for c in range(n_clusters):
            rows = order[bounds[c] : bounds[c + 1]]
            if len(rows):
                zwz[c] = design.gram(rows)
    event = (np.asarray(st["t_values"])[rows_t] - np.asarray(st["g"])[rows_t]).astype(np.int64)
    bins = followup_bins(event, spec.horizon)
    groups = np.zeros(len(y), dtype=np.int64)
    groups[rows_t] = pos[rows_t] * n_bins + bins
    w1 = w[rows_t]
    cells = n_clusters * n_bins
    moments = ClusterMoments(
        spec=spec,
        clusters=pd.Index(clusters),
        untreated_weight=untreated_weight,
        zw=zw,
        zwz=zwz,
        yw=np.bincount(pos[train], weights=w0 * y[train], minlength=n_clusters),
        zwy=design.group_sums(w0 * y[train], train, pos, n_clusters),
        treated_weight=np.bincount(groups[rows_t], weights=w1, minlength=cells).reshape(n_clusters, n_bins),
        treated_yw=np.bincount(groups[rows_t], weights=w1 * y[rows_t], minlength=cells).reshape(n_clusters, n_bins),
        treated_zw=design.group_sums(w1, rows_t, groups, cells).reshape(n_clusters, n_bins, design.p),
        treated_rows=np.bincount(bins, minlength=n_bins),
    )
    att = moments.estimates(np.ones(n_clusters))[0]
    scale = float(np.abs(y).max()) if len(y) else 1.0  # an ATT near zero is compared on the outcome's scale
    if not np.isclose(att, fit.estimate, rtol=_CHECK_RTOL, atol=_CHECK_RTOL * 1e-3 * max(scale, 1e-300)):
        raise EvaluationError(
            f"economics: the bootstrap's sufficient statistics of {spec.outcome!r} give an ATT of {att!r}, the "
            f"imputation fit {fit.estimate!r}; the two must agree (report this as a bug)."
        )
    return moments
