r"""The imputation estimator of staggered difference-in-differences (Borusyak, Jaravel and Spiess 2024).

Borusyak, K., Jaravel, X. and Spiess, J. (2024), "Revisiting Event-Study Designs: Robust and Efficient
Estimation", *Review of Economic Studies* 91(6), 3253-3285 (BJS).

Model (BJS Assumptions 1-2, with covariates whose effects may change over time). For observations
:math:`i` (rows: child-years, or unit-periods) of unit :math:`m(i)` (the fixed-effect level, e.g. the
municipality) in period :math:`t(i)`, the untreated potential outcome is

.. math:: Y_i(0) = \alpha_{m(i)} + \lambda_{t(i)} + x_i'\gamma_{t(i)} + \varepsilon_i,

with time-invariant covariates :math:`x_i` (parallel trends conditional on :math:`x`). Treated
observations are those with :math:`t \ge g > 0`, :math:`g` the unit's first treated period (its
*cohort*); every other observation is untreated (never-treated units, and not-yet-treated periods).

Estimation (BJS Theorem 2, the three steps):

1. fit the model by weighted least squares on the untreated observations only;
2. impute :math:`\hat Y_i(0)` for each treated observation and take :math:`\hat\tau_i = Y_i - \hat Y_i(0)`;
3. average: the ATT is :math:`\hat\tau = \sum_{i \in \Omega_1} a_i \hat\tau_i` with
   :math:`a_i = w_i / \sum_{\Omega_1} w`, the weighted mean over *all* treated observations.

Every effect may vary by cohort and by time since adoption; the estimand is their average over
treated observations (BJS eq. 2), the one ``truth.json`` of the synthetic registry defines. The same
fit gives each cohort-period cell's ATT and each event time's ATT (weights restricted to that set).

Variance (BJS Theorem 3, the conservative estimator): the estimator is linear,
:math:`\hat\tau = \sum_i v_i Y_i`, with :math:`v_i = a_i` on treated observations and
:math:`v_{\Omega_0} = -Z_0(Z_0'W_0Z_0)^{-1}Z_1'a` on untreated ones. With clusters :math:`c`,

.. math:: \hat\sigma^2 = \sum_c \Big(\sum_{i \in c} v_i \tilde\varepsilon_i\Big)^2,

where :math:`\tilde\varepsilon_i` is the residual of step 1 for untreated observations and
:math:`\hat\tau_i - \bar\tau_{g(i)t(i)}` for treated ones, :math:`\bar\tau_{gt}` the
:math:`v^2`-weighted mean of :math:`\hat\tau_i` in the cohort-period cell (BJS eq. 8 with cells as
groups, as Stata ``did_imputation``'s default). No small-sample factor is applied. Intervals and
p-values use the t distribution with :math:`G - 1` degrees of freedom (:math:`G` clusters).

Leave-out (``leave_out=True``; BJS Supplementary Appendix A.9, Stata's ``leaveout``): the cell mean of a
treated row leaves out the row's own cluster, :math:`\bar\tau_{gt,-c(i)}`, so that a cluster's noise
does not pull its own residual towards zero. A cell with one cluster (a cohort of one municipality,
such as Herning's) has no such mean, and without leave-out its residuals are exactly zero: its
municipality-year shocks drop out of the variance. Its rows are therefore taken against the other
clusters at the same event time, and only a row alone at its event time too keeps its own cell mean.
With unit clusters and no cohort of one unit this is diff-diff's ``leave_one_out=True``.

Few treated clusters (:func:`restricted_wild_bootstrap`, :func:`imputation_randomization`): the policy
of :mod:`evaluation.methods.inference.policy` replaces the t interval by a restricted wild cluster bootstrap of
the linear estimator or by randomization inference over the adoption schedule.

Computation: the untreated fit never forms the dummy matrix. With :math:`z_i` the period dummies,
:math:`x_i` and :math:`x_i \otimes` period dummies, the normal equations after sweeping out the unit
effects are :math:`\tilde Z'W\tilde Z = Z'WZ - \sum_m W_m \bar z_m \bar z_m'`, and :math:`Z'WZ` is
assembled from per-period sums of :math:`w`, :math:`wx` and :math:`wxx'`; everything is
:math:`O(n k^2)` in time and :math:`O(n k)` in memory for :math:`n` rows and :math:`k` covariates.

API page: Imputation DiD (`evaluation.methods.did.imputation`, `evaluation.methods.did.imputation_inference`)
---------------------------------------------------------------------------------------------
```python
from evaluation.methods.did.imputation import did_imputation
r = did_imputation(df, "y", unit="municipality", time="year", cohort="first_treat",
                   covariates=["x1"],        # period-specific coefficients (conditional parallel trends)
                   controls=["age_7"],       # constant coefficients, may vary over time
                   weights=None, cluster=None, alpha=0.05,
                   leads=0,                  # pre-adoption periods estimated as placebo effects
                   covariate_trends=True,    # False: covariates with constant coefficients
                   leave_out=False)          # True: leave-out residuals (BJS A.9); the headline's default
r.estimate, r.se, r.ci_low, r.ci_high, r.p_value   # ATT over treated rows; BJS Theorem 3 SE; t(G - 1)
r.cells          # cohort, time, event_time, estimate, se, n_obs, weight, n_clusters
r.event_study    # event_time, estimate, se, ci_low, ci_high, p_value, n_obs, n_treated_clusters, pre
r.event_covariance, r.treated_mean, r.relative(), r.to_estimate(), r.tidy(), r.summary()
r.tidy(event_study=True)   # the "ATT" row, then one row per event time ("ATT(e=0)", ...)

from evaluation.methods.did.imputation_inference import (
    restricted_wild_bootstrap,   # r, *, weight_type="rademacher", n_boot=9999, seed=0 -> FewClusterInterval
    event_study_bootstrap,       # the same for every event-study row -> table
    imputation_randomization,    # r, *, n_permutations=999, seed=0 -> FewClusterInterval
    few_cluster_inference,       # r, method, ... (dispatch on the policy's method)
)
```

Borusyak, Jaravel and Spiess (2024): the untreated model (unit and period effects, covariates) is fitted
on untreated rows only and the effect of every treated row is its outcome minus the imputed one. The
rows may be persons inside units (a repeated cross-section per municipality). Estimates and Theorem 3
standard errors (cohort x period cells for the treated residuals, no small-sample factor) match
diff-diff 3.13.0's `ImputationDiD` to 1e-8 (`tests/test_imputation.py`), and with `leave_out=True` its
`leave_one_out=True` (unit clusters). Leave-out takes each treated row's residual against its cell's mean
without its own cluster, and a cohort of one municipality against the other cohorts at the same event
time (without it that cohort's residuals are zero and the SE too small); the headline uses it
(`estimation.leave_out`, default true), and the wild bootstrap studentises with the same SE. Treated rows whose unit or
period has no untreated row are left out with a warning and counted (`n_dropped_treated`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.results import Estimate, TidyResult, tidy_attributes, tidy_rows

__all__ = ["ImputationResult", "did_imputation"]

_RANK_TOL = 1e-10
_IDENT_TOL = 1e-7


class _Design:
    """Rows, codes and covariates of the model, with the sufficient statistics of a least-squares fit.

    The columns of ``z`` are: period dummies (periods 1..T-1), the covariates ``x`` (all ``k``), and the
    first ``k_trend`` covariates times the period dummies (period-specific coefficients).
    """

    def __init__(
        self,
        y: np.ndarray,
        w: np.ndarray,
        unit: np.ndarray,
        n_units: int,
        time: np.ndarray,
        n_times: int,
        x: np.ndarray,
        cluster: np.ndarray,
        n_clusters: int,
        k_trend: int = 0,
    ) -> None:
        self.y, self.w, self.unit, self.n_units = y, w, unit, n_units
        self.time, self.n_times, self.x, self.cluster, self.n_clusters = time, n_times, x, cluster, n_clusters
        self.k = x.shape[1]
        #: the covariates column by column, each contiguous (a column of ``x`` is strided)
        self.x_columns = np.ascontiguousarray(x.T)
        self.k_trend = k_trend
        self.p = (n_times - 1) * (1 + k_trend) + self.k

    def group_sums(self, s: np.ndarray, rows: np.ndarray, groups: np.ndarray | None, n_groups: int) -> np.ndarray:
        """Return ``sum_{j in rows, group g} s_j z_j`` for every group: an ``(n_groups, p)`` array.

        ``groups`` holds a group code for every row of the design (None: one group). The sums run over the
        rows in their order (``numpy.bincount``), one contiguous column of ``x`` at a time.
        """
        t_count, k, kt = self.n_times, self.k, self.k_trend
        cell = self.time[rows] if groups is None else groups[rows] * t_count + self.time[rows]
        size = n_groups * t_count
        s0 = np.bincount(cell, weights=s, minlength=size).reshape(n_groups, t_count)
        out = np.empty((n_groups, self.p))
        out[:, : t_count - 1] = s0[:, 1:]
        if k:
            s1 = np.empty((size, k))
            for c in range(k):
                s1[:, c] = np.bincount(cell, weights=self.x_columns[c][rows] * s, minlength=size)
            s1 = s1.reshape(n_groups, t_count, k)
            out[:, t_count - 1 : t_count - 1 + k] = s1.sum(axis=1)
            if kt:
                out[:, t_count - 1 + k :] = s1[:, 1:, :kt].reshape(n_groups, (t_count - 1) * kt)
        return out

    def gram(self, rows: np.ndarray) -> np.ndarray:
        """Return ``Z'WZ`` over ``rows`` (no unit effects swept out)."""
        t_count, k, kt, p = self.n_times, self.k, self.k_trend, self.p
        t = self.time[rows]
        w = self.w[rows]
        g = np.zeros((p, p))
        wt = np.bincount(t, weights=w, minlength=t_count)
        g[np.arange(t_count - 1), np.arange(t_count - 1)] = wt[1:]
        if not k:
            return g
        x = self.x[rows]
        ox, oxt = t_count - 1, t_count - 1 + k
        order = np.argsort(t, kind="stable")
        bounds = np.searchsorted(t[order], np.arange(t_count + 1))
        for period in range(t_count):
            idx = order[bounds[period] : bounds[period + 1]]
            if not len(idx):
                continue
            xp, wp = x[idx], w[idx]
            s1 = wp @ xp
            sxx = (xp * wp[:, None]).T @ xp
            g[ox:oxt, ox:oxt] += sxx
            if period == 0:
                continue
            d = period - 1
            g[d, ox:oxt] = g[ox:oxt, d] = s1
            if not kt:
                continue
            blk = oxt + d * kt
            g[d, blk : blk + kt] = g[blk : blk + kt, d] = s1[:kt]
            g[ox:oxt, blk : blk + kt] = sxx[:, :kt]
            g[blk : blk + kt, ox:oxt] = sxx[:kt, :]
            g[blk : blk + kt, blk : blk + kt] = sxx[:kt, :kt]
        return g

    def zb(self, rows: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Return ``z_i'b`` for ``rows``."""
        t_count, k, kt = self.n_times, self.k, self.k_trend
        bt = np.concatenate([[0.0], b[: t_count - 1]])
        t = self.time[rows]
        out = bt[t]
        if k:
            out = out + self.x[rows] @ b[t_count - 1 : t_count - 1 + k]
        if kt:
            bxt = np.vstack([np.zeros((1, kt)), b[t_count - 1 + k :].reshape(t_count - 1, kt)])
            out = out + np.einsum("ij,ij->i", self.x[rows, :kt], bxt[t])
        return out


@dataclass(frozen=True)
class _Fit:
    """A weighted least-squares fit of the untreated model on a training set of rows."""

    design: _Design
    rows: np.ndarray
    unit_weight: np.ndarray
    unit_mean_z: np.ndarray
    ginv: np.ndarray
    gram: np.ndarray
    parts: tuple[np.ndarray, np.ndarray, np.ndarray]

    @staticmethod
    def parts_of(design: _Design, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sufficient statistics of ``rows``: ``Z'WZ``, per-unit sums of ``w z`` and per-unit weights (additive)."""
        w = design.w[rows]
        return (
            design.gram(rows),
            design.group_sums(w, rows, design.unit, design.n_units),
            np.bincount(design.unit[rows], weights=w, minlength=design.n_units),
        )

    @staticmethod
    def on(design: _Design, rows: np.ndarray, parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> _Fit:
        """Sweep out the unit effects and build the pseudo-inverse of the normal equations on ``rows``.

        ``parts`` (:meth:`parts_of` of ``rows``, possibly summed over disjoint row sets) saves the pass
        over the rows.
        """
        raw, zm, unit_weight = parts if parts is not None else _Fit.parts_of(design, rows)
        safe = np.where(unit_weight > 0, unit_weight, 1.0)
        zbar = zm / safe[:, None]
        gram = raw - zm.T @ zbar
        scale = np.sqrt(np.clip(np.diag(gram), 0.0, None))
        scale = np.where(scale > 0, scale, 1.0)
        ginv = np.linalg.pinv(gram / np.outer(scale, scale), rcond=_RANK_TOL, hermitian=True) / np.outer(scale, scale)
        return _Fit(design, rows, unit_weight, zbar, ginv, gram, (raw, zm, unit_weight))

    def coefficients(self, yv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(b, unit means of y - z'b)`` of the fit of ``yv`` (values of the training rows)."""
        d, rows = self.design, self.rows
        w = d.w[rows]
        safe = np.where(self.unit_weight > 0, self.unit_weight, 1.0)
        ym = np.bincount(d.unit[rows], weights=w * yv, minlength=d.n_units) / safe
        zy = d.group_sums(w * yv, rows, None, 1)[0]
        h = zy - self.unit_mean_z.T @ (ym * self.unit_weight)
        b = self.ginv @ h
        return b, ym - self.unit_mean_z @ b

    def predict(self, yv: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Fitted values ``alpha_m + z'b`` at ``rows`` of the fit of ``yv``."""
        b, alpha = self.coefficients(yv)
        return alpha[self.design.unit[rows]] + self.design.zb(rows, b)

    def identified(self, q: np.ndarray) -> bool:
        """Whether the linear combination ``q'b`` is estimable from the training rows."""
        back = self.gram @ (self.ginv @ q)
        return bool(np.linalg.norm(back - q) <= _IDENT_TOL * max(np.linalg.norm(q), 1e-300))

    def residual_sums(self, res: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
        r"""Cluster-level sums of the weighted residuals ``w_j e_j`` of the training rows, for :meth:`untreated_scores`.

        Returns ``E`` (``E_gm``: the sum of ``w e`` in cluster ``g`` and unit ``m``) and
        ``H = sum_{j in g} w_j e_j \tilde z_j`` by cluster; both are the same for every functional.
        """
        d, rows = self.design, self.rows
        we = d.w[rows] * res
        e = sparse.csr_matrix((we, (d.cluster[rows], d.unit[rows])), shape=(d.n_clusters, d.n_units))
        hz = d.group_sums(we, rows, d.cluster, d.n_clusters) - e @ self.unit_mean_z
        return e, hz

    def untreated_scores(
        self, sums: tuple[sparse.csr_matrix, np.ndarray], a_unit: np.ndarray, r: np.ndarray
    ) -> np.ndarray:
        r"""Cluster sums of :math:`v_j e_j` over the training rows, for columns of unit weights and ``r``.

        ``v_j = -w_j (A_{m(j)} / W_{m(j)} + \tilde z_j' r)`` with ``A`` the treated weight of each unit;
        ``sums`` is :meth:`residual_sums` of the residuals ``e``.
        """
        e, hz = sums
        safe = np.where(self.unit_weight > 0, self.unit_weight, 1.0)
        return -(e @ (a_unit / safe[:, None])) - hz @ r


@dataclass(frozen=True)
class _Functionals:
    """Weighted means over sets of treated rows: names, rows (per functional) and weights ``a``."""

    names: list[Any]
    rows: list[np.ndarray]
    weights: list[np.ndarray]


def _scores(fit: _Fit, yv_train: np.ndarray, res_train: np.ndarray, dev: np.ndarray, funcs: _Functionals) -> tuple:
    """Estimates, BJS cluster scores and identification of each functional."""
    d = fit.design
    b, alpha = fit.coefficients(yv_train)
    n_k = len(funcs.names)
    est = np.full(n_k, np.nan)
    scores = np.zeros((d.n_clusters, n_k))
    ok = np.zeros(n_k, dtype=bool)
    sums = fit.residual_sums(res_train)
    for k, (rows, a) in enumerate(zip(funcs.rows, funcs.weights, strict=True)):
        a_unit = np.bincount(d.unit[rows], weights=a, minlength=d.n_units)
        q = d.group_sums(a, rows, None, 1)[0] - fit.unit_mean_z.T @ a_unit
        if (a_unit[fit.unit_weight <= 0] != 0).any() or not fit.identified(q):
            continue
        ok[k] = True
        r = fit.ginv @ q
        tau = d.y[rows] - alpha[d.unit[rows]] - d.zb(rows, b)
        est[k] = float(a @ tau)
        untreated = fit.untreated_scores(sums, a_unit[:, None], r[:, None])[:, 0]
        treated = np.bincount(d.cluster[rows], weights=a * dev[rows], minlength=d.n_clusters)
        scores[:, k] = untreated + treated
    return est, scores, ok


@dataclass
class ImputationResult(TidyResult):
    """Result of :func:`did_imputation`; ``tidy()`` has the ATT, and on request the event study.

    Attributes
    ----------
    outcome : str
        The outcome.
    estimate, se, ci_low, ci_high, p_value : float
        The ATT over all treated observations, its BJS standard error and t(G - 1) interval and p-value.
    n_treated_obs, n_untreated_obs : int
        Treated and untreated observations used (rows).
    n_clusters, n_treated_clusters : int
        Clusters, and clusters with treated observations.
    treated_mean : float
        Weighted mean outcome of the treated observations; ``treated_mean - estimate`` is the mean imputed
        untreated outcome (the counterfactual mean).
    cells : pandas.DataFrame
        One row per cohort-period cell: ``cohort, time, event_time, estimate, se, n_obs, weight,
        n_clusters``.
    event_study : pandas.DataFrame
        ``event_time, estimate, se, ci_low, ci_high, p_value, n_obs, n_treated_clusters, pre``: the ATT by
        time since adoption (0 = the adoption period), and with ``leads`` > 0 the placebo estimates of the
        pre-adoption periods (``pre`` 1), imputed from a fit that leaves those periods out.
    event_covariance : numpy.ndarray
        Covariance of the event-study estimates (same order as the table).
    n_dropped_treated : int
        Treated observations that could not be imputed (their unit or period has no untreated
        observation) and are left out of every estimate.
    alpha, df : float, int
        1 minus the confidence level; degrees of freedom of the t distribution (G - 1).
    """

    outcome: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated_obs: int
    n_untreated_obs: int
    n_clusters: int
    n_treated_clusters: int
    treated_mean: float
    cells: pd.DataFrame
    event_study: pd.DataFrame
    event_covariance: np.ndarray
    n_dropped_treated: int
    alpha: float
    df: int
    _state: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_estimate(self, *, n_treated: int = 0, n_control: int = 0) -> Estimate:
        """Return the ATT as an :class:`~evaluation.results.Estimate` (counts as given by the caller)."""
        return Estimate(self.estimate, self.se, self.ci_low, self.ci_high, n_treated, n_control, self.p_value)

    def tidy(self, *, event_study: bool = False) -> pd.DataFrame:
        """Return the ATT as a row ``"ATT"``, and with ``event_study`` one row per event time after it.

        Parameters
        ----------
        event_study : bool
            Add the rows of :attr:`event_study` (terms ``"ATT(e=<event time>)"``).

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated_obs, n_clusters``, and with ``event_study``
            ``event_time, n_treated_clusters, pre`` (an event time's ``n_treated_obs`` is its ``n_obs``; its
            ``n_clusters`` is empty).
        """
        names = ("estimate", "se", "ci_low", "ci_high", "p_value", "n_treated_obs", "n_clusters")
        if not event_study:
            return tidy_attributes(self, "ATT", names)
        att = tidy_attributes(self, "ATT", [*names, "n_treated_clusters"])
        events = self.event_study.rename(columns={"n_obs": "n_treated_obs"})
        return tidy_rows(events, {"e": "event_time"}, first=att)

    def relative(self) -> Estimate:
        r"""Return the ATT relative to the counterfactual mean: :math:`\bar Y_1 / (\bar Y_1 - \hat\tau) - 1`.

        The treated mean :math:`\bar Y_1` is held fixed, so the relative change is the increasing function
        :math:`f(\tau) = \bar Y_1 / (\bar Y_1 - \tau) - 1` of the ATT, and the interval is the ATT's
        interval mapped through :math:`f` end by end (``ci_low``, ``ci_high`` as they stand, so a few-cluster
        interval keeps its coverage exactly). The map is convex, so a symmetric delta-method interval would
        sit too low and under-cover when the ATT is imprecise; the upper end is infinite when the ATT's
        interval reaches :math:`\bar Y_1` (a counterfactual mean of zero). The standard error is the delta
        method's, :math:`f'(\hat\tau)\,\mathrm{se}`. When the counterfactual mean's estimate is not
        positive the estimate and its standard error are NaN, but the interval still holds what the ATT's
        interval allows: :math:`[f(\text{ci\_low}), \infty)` while the lower end's counterfactual mean is
        positive, NaN when it is not either.
        """
        mu = self.treated_mean

        def f(tau: float) -> float:
            return mu / (mu - tau) - 1.0 if tau < mu else float("inf")

        low = f(self.ci_low) if np.isfinite(self.ci_low) else -1.0
        high = f(self.ci_high) if np.isfinite(self.ci_high) else float("inf")
        if not low < float("inf"):  # the whole interval lies where the counterfactual mean is not positive
            low = high = float("nan")
        base = mu - self.estimate
        if not base > 0:
            nan = float("nan")
            return Estimate(nan, nan, low, high, 0, 0, self.p_value)
        return Estimate(f(self.estimate), self.se * mu / base**2, low, high, 0, 0, self.p_value)

    def summary(self) -> str:
        """Return a short text: estimate, interval, sample."""
        level = round(100 * (1 - self.alpha))
        return (
            f"Imputation DiD (Borusyak, Jaravel and Spiess 2024) of {self.outcome}: ATT {self.estimate:.4g} "
            f"(SE {self.se:.3g}, {level} % CI {self.ci_low:.4g} to {self.ci_high:.4g}, p = {self.p_value:.3g}); "
            f"{self.n_treated_obs:,} treated and {self.n_untreated_obs:,} untreated observations, "
            f"{self.n_treated_clusters} of {self.n_clusters} clusters treated; "
            f"{len(self._state.get('covariates', ()))} covariates"
            f"{' with period-specific coefficients' if self._state.get('covariate_trends') else ''}, "
            f"{len(self._state.get('controls', ()))} controls"
        )


def _t_interval(est: np.ndarray, se: np.ndarray, df: int, alpha: float) -> tuple[np.ndarray, ...]:
    q = stats.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * stats.t.sf(np.abs(est / se), df), np.nan)
    return est - q * se, est + q * se, p


def _prepare(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: Sequence[str],
    weights: str | None,
    cluster: str,
    covariate_trends: bool = True,
    controls: Sequence[str] = (),
) -> tuple[_Design, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    columns = [*covariates, *[c for c in controls if c not in covariates]]
    needed = list(dict.fromkeys([outcome, unit, time, cohort, cluster, *columns] + ([weights] if weights else [])))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise EvaluationError(f"did_imputation: column(s) {missing} not in the data (columns: {list(df.columns)}).")
    data = df[needed]
    keep = data[[c for c in needed if c != cohort]].notna().all(axis=1).to_numpy().copy()
    if weights is not None:
        wcol = data[weights].to_numpy(dtype=float)
        if (wcol[keep] < 0).any():
            raise EvaluationError(f"did_imputation: weight column '{weights}' has negative values.")
        keep &= wcol > 0
    data = data.loc[keep]
    if data.empty:
        raise ModelNotIdentifiedError(f"did_imputation: no rows with a value of '{outcome}'.")
    g = pd.to_numeric(data[cohort], errors="raise").fillna(0).to_numpy(dtype=float)
    t_values = data[time].to_numpy()
    times = np.sort(np.unique(t_values))
    t_code = np.searchsorted(times, t_values)
    unit_code, units = pd.factorize(data[unit], sort=True)
    cluster_code, clusters = pd.factorize(data[cluster], sort=True)
    per_unit = pd.Series(g).groupby(unit_code).nunique()
    if (per_unit > 1).any():
        raise EvaluationError(
            f"did_imputation: '{cohort}' varies within {unit} {units[int(per_unit.index[per_unit > 1][0])]!r}; "
            "the first treated period must be constant within the unit."
        )
    y = data[outcome].to_numpy(dtype=float)
    x = data[columns].to_numpy(dtype=float) if columns else np.empty((len(data), 0))
    w = data[weights].to_numpy(dtype=float) if weights else np.ones(len(data))
    numbers = {outcome: y, **dict(zip(columns, x.T, strict=True))}
    if weights:
        numbers[weights] = w
    infinite = [name for name, values in numbers.items() if not np.isfinite(values).all()]
    if infinite:
        raise EvaluationError(f"did_imputation: column(s) {infinite} hold infinite values (a log of zero?).")
    if columns:
        x = x - (w @ x) / w.sum()
    design = _Design(
        y,
        w,
        unit_code.astype(np.int64),
        len(units),
        t_code.astype(np.int64),
        len(times),
        x,
        cluster_code.astype(np.int64),
        len(clusters),
        len(covariates) if covariate_trends else 0,
    )
    treated = (g > 0) & (t_values >= g)
    return design, data, g, t_values, treated


@dataclass(frozen=True)
class _Reference:
    r"""The group each treated row's residual is taken against (BJS eq. 8), with or without leave-out.

    Rows are grouped by cohort-period cell. With ``leave_out`` (BJS 2024, Supplementary Appendix A.9;
    Stata ``did_imputation, leaveout``), a row's cell mean leaves out the row's own cluster, so that a
    cluster's own noise does not shrink its residual. A cell with a single cluster has no such mean; its
    rows are taken against the other clusters at the same event time (the coarser grouping ``avgeffectsby``
    allows), and, when the event time has a single cluster too, against their own cell without leave-out.

    The reference groups are numbered cells first (``0..n_cells-1``), then event times. ``own`` is each
    row's group, ``den`` the weight of its mean (:math:`\sum w^2` over the group, less the row's own
    cluster under leave-out), ``loo_ref`` whether a group's means leave out the row's cluster.
    """

    cell: np.ndarray
    event: np.ndarray
    cluster: np.ndarray
    w2: np.ndarray
    own: np.ndarray
    den: np.ndarray
    loo_ref: np.ndarray
    n_cells: int
    n_refs: int

    @staticmethod
    def of(cell: np.ndarray, event: np.ndarray, cluster: np.ndarray, w: np.ndarray, leave_out: bool) -> _Reference:
        """Build the reference groups of treated rows with cell, event time, cluster and weight."""
        cell = np.asarray(cell, dtype=np.int64)
        n_cells = int(cell.max()) + 1
        event = np.unique(np.asarray(event), return_inverse=True)[1].astype(np.int64)
        n_events = int(event.max()) + 1
        w2 = np.asarray(w, dtype=float) ** 2
        codes = np.concatenate([cell, n_cells + event])
        span = int(np.max(cluster)) + 1  # distinct (group, cluster) pairs as one integer each
        pairs = np.unique(codes * span + np.tile(np.asarray(cluster, dtype=np.int64), 2))
        n_clusters_in = np.bincount(pairs // span, minlength=n_cells + n_events)
        loo_ref = leave_out & (n_clusters_in >= 2)
        use_event = ~loo_ref[cell] & loo_ref[n_cells + event]
        own = np.where(use_event, n_cells + event, cell)
        total = np.bincount(codes, weights=np.tile(w2, 2), minlength=n_cells + n_events)
        own_w2 = _own_cluster_sum(own >= n_cells, cell, event, cluster, w2)
        den = total[own] - np.where(loo_ref[own], own_w2, 0.0)
        return _Reference(cell, event, cluster, w2, own, den, loo_ref, n_cells, n_cells + n_events)

    def members(self) -> sparse.csr_matrix:
        """``(n_refs, n)`` matrix with ``w_j^2`` where row ``j`` belongs to the group (its cell and event time)."""
        n = len(self.cell)
        idx = np.arange(n)
        return sparse.csr_matrix(
            (np.tile(self.w2, 2), (np.concatenate([self.cell, self.n_cells + self.event]), np.tile(idx, 2))),
            shape=(self.n_refs, n),
        )

    def levels(self) -> tuple[tuple[np.ndarray, int], tuple[np.ndarray, int]]:
        """Return the cell and the event-time code of each row, with the number of each (:meth:`members`'s blocks)."""
        return (self.cell, self.n_cells), (self.event, self.n_refs - self.n_cells)

    def deviation(self, tau: np.ndarray) -> np.ndarray:
        """``tau_i`` less the ``w^2``-weighted mean of its reference group (its own cluster left out if so)."""
        codes = np.concatenate([self.cell, self.n_cells + self.event])
        total = np.bincount(codes, weights=np.tile(self.w2 * tau, 2), minlength=self.n_refs)
        own_sum = _own_cluster_sum(self.own >= self.n_cells, self.cell, self.event, self.cluster, self.w2 * tau)
        mean = (total[self.own] - np.where(self.loo_ref[self.own], own_sum, 0.0)) / self.den
        return tau - mean

    def operator(self, a: np.ndarray, n_clusters: int) -> tuple[np.ndarray, sparse.csr_matrix]:
        r"""Return the cluster scores :math:`(\Phi u)_c = \sum_{i \in c} a_i\, \text{deviation}(u)_i` as a linear map.

        Returns ``(own, coef)`` with :math:`\Phi = \text{own}_j [c = c_j] - \text{coef}\,M`, ``M`` the
        :meth:`members` matrix and ``coef`` a ``(G, n_refs)`` matrix: each row's own entry, less the means
        of the groups its cluster's rows are taken against (leave-out puts the own cluster back).
        """
        coef = sparse.csr_matrix((a / self.den, (self.cluster, self.own)), shape=(n_clusters, self.n_refs))
        dense = coef.toarray() * self.loo_ref[None, :]
        back = self.w2 * (dense[self.cluster, self.cell] + dense[self.cluster, self.n_cells + self.event])
        return a + back, coef


def _own_cluster_sum(
    by_event: np.ndarray, cell: np.ndarray, event: np.ndarray, cluster: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """For each row, the sum of ``values`` over its own cluster's rows in its event time (``by_event``) or cell."""

    def pair_sums(codes: np.ndarray) -> np.ndarray:
        key = codes.astype(np.int64) * (int(cluster.max()) + 1) + cluster
        uniq, inverse = np.unique(key, return_inverse=True)
        return np.bincount(inverse, weights=values, minlength=len(uniq))[inverse]

    return np.where(by_event, pair_sums(event), pair_sums(cell))


def did_imputation(
    df: pd.DataFrame,
    outcome: str,
    *,
    unit: str,
    time: str,
    cohort: str,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    leads: int = 0,
    covariate_trends: bool = True,
    controls: Sequence[str] = (),
    leave_out: bool = False,
) -> ImputationResult:
    r"""Estimate the ATT of a staggered adoption by imputation (module docstring; BJS 2024, Theorem 2).

    Parameters
    ----------
    df
        One row per observation (a unit-period, or a person-period inside a unit: a repeated cross-section
        of each unit is fine), with the outcome, the unit, the period and the first treated period.
    outcome
        Outcome column.
    unit
        Column of the fixed-effect unit (e.g. ``municipality``); its first treated period must be constant.
    time
        Period column (integers, e.g. years).
    cohort
        First treated period of the row's unit; 0 or missing = never treated.
    covariates
        Time-invariant numeric columns whose coefficients may differ by period (conditional parallel trends).
    controls
        Further numeric columns with coefficients constant over periods; they may vary over time (e.g.
        indicators of the child's age in the year). Not affected by the treatment.
    covariate_trends
        Whether the covariates' coefficients differ by period (True, the module's model) or are constant
        (False: :math:`x_i'\gamma`, for sparse outcomes where period-specific coefficients are not identified).
    weights
        Analytic weights (e.g. matching weights), or None; rows with weight 0 are left out.
    cluster
        Cluster column (default: ``unit``).
    alpha
        1 minus the confidence level.
    leads
        Pre-adoption periods to estimate as placebo effects in the event study (BJS Test 1's spirit, as
        the counterfactual estimators of Liu, Wang and Xu 2024): the rows 1..``leads`` periods before
        adoption are left out of that fit and imputed like treated rows. Each cohort keeps at least its
        earliest pre-adoption period in the fit. The headline ATT always uses every untreated row.
    leave_out
        Take each treated row's residual against its cell's mean without its own cluster (BJS 2024,
        Supplementary Appendix A.9; Stata ``did_imputation, leaveout``), and against the other clusters at
        the same event time when its cell has a single cluster (a cohort of one municipality). The default
        (False) is the estimator of BJS Theorem 3 as R ``didimputation`` and Stata compute it by default.

    Returns
    -------
    ImputationResult

    Raises
    ------
    EvaluationError
        Missing columns, negative weights, a cohort that varies within a unit, or ``alpha`` outside (0, 1).
    ModelNotIdentifiedError
        No treated or no untreated rows, or no treated row whose counterfactual can be imputed.
    """
    if not 0 < alpha < 1:
        raise EvaluationError(f"did_imputation: alpha must lie strictly between 0 and 1, not {alpha}.")
    cluster = cluster or unit
    design, data, g, t_values, treated = _prepare(
        df, outcome, unit, time, cohort, covariates, weights, cluster, covariate_trends, controls
    )
    if not treated.any():
        raise ModelNotIdentifiedError(f"did_imputation {outcome}: no treated rows (t >= first treated period > 0).")
    if treated.all():
        raise ModelNotIdentifiedError(f"did_imputation {outcome}: no untreated rows to fit the untreated model on.")
    n_clusters = design.n_clusters
    dof = max(n_clusters - 1, 1)

    train = np.flatnonzero(~treated)
    fit = _Fit.on(design, train)
    rows_t = np.flatnonzero(treated)
    # Treated rows whose unit or period has no untreated row cannot be imputed.
    t_has_train = np.bincount(design.time[train], minlength=design.n_times) > 0
    imputable = (fit.unit_weight[design.unit[rows_t]] > 0) & t_has_train[design.time[rows_t]]
    dropped = int((~imputable).sum())
    if dropped:
        warnings.warn(
            f"did_imputation {outcome}: {dropped:,} treated rows left out: their unit or period has no untreated "
            "row to impute from (e.g. a unit treated from the first period, or a period when every unit is treated).",
            stacklevel=2,
        )
    rows_t = rows_t[imputable]
    if not len(rows_t):
        raise ModelNotIdentifiedError(f"did_imputation {outcome}: no treated row can be imputed.")
    event = (t_values[rows_t] - g[rows_t]).astype(np.int64)
    cohort_t = g[rows_t]
    cells = pd.DataFrame({"cohort": cohort_t, "time": t_values[rows_t], "event_time": event})
    cell_code = cells.groupby(["cohort", "time"], sort=True).ngroup().to_numpy()
    b, alpha_m = fit.coefficients(design.y[train])
    tau = design.y[rows_t] - alpha_m[design.unit[rows_t]] - design.zb(rows_t, b)
    res_train = design.y[train] - alpha_m[design.unit[train]] - design.zb(train, b)
    dev = np.zeros(len(design.y))
    dev[rows_t] = _Reference.of(cell_code, event, design.cluster[rows_t], design.w[rows_t], leave_out).deviation(tau)

    w_t = design.w[rows_t]
    names: list[Any] = ["att"]
    f_rows, f_weights = [rows_t], [w_t / w_t.sum()]
    cell_keys = cells.assign(code=cell_code).drop_duplicates("code").sort_values("code")
    for code in range(int(cell_code.max()) + 1):
        sel = cell_code == code
        names.append(("cell", code))
        f_rows.append(rows_t[sel])
        f_weights.append(w_t[sel] / w_t[sel].sum())
    post_events = np.unique(event)
    for e in post_events:
        sel = event == e
        names.append(("event", int(e)))
        f_rows.append(rows_t[sel])
        f_weights.append(w_t[sel] / w_t[sel].sum())
    funcs = _Functionals(names, f_rows, f_weights)
    est, scores, ok = _scores(fit, design.y[train], res_train, dev, funcs)
    if not ok[0]:
        raise ModelNotIdentifiedError(
            f"did_imputation {outcome}: the counterfactual is not identified (a treated row's covariate pattern "
            "or period effect has no untreated counterpart)."
        )
    var = np.einsum("gk,gk->k", scores, scores)
    se = np.sqrt(var)
    lo, hi, p = _t_interval(est, se, dof, alpha)
    treated_clusters_of = [np.unique(design.cluster[r]).size for r in funcs.rows]

    cell_rows = [i for i, n in enumerate(names) if isinstance(n, tuple) and n[0] == "cell"]
    cell_table = pd.DataFrame(
        {
            "cohort": cell_keys["cohort"].to_numpy(),
            "time": cell_keys["time"].to_numpy(),
            "event_time": cell_keys["event_time"].to_numpy(),
            "estimate": est[cell_rows],
            "se": se[cell_rows],
            "n_obs": [len(funcs.rows[i]) for i in cell_rows],
            "weight": [float(design.w[funcs.rows[i]].sum()) for i in cell_rows],
            "n_clusters": [treated_clusters_of[i] for i in cell_rows],
        }
    )
    event_rows = [i for i, n in enumerate(names) if isinstance(n, tuple) and n[0] == "event"]
    event_table = pd.DataFrame(
        {
            "event_time": post_events,
            "estimate": est[event_rows],
            "se": se[event_rows],
            "ci_low": lo[event_rows],
            "ci_high": hi[event_rows],
            "p_value": p[event_rows],
            "n_obs": [len(funcs.rows[i]) for i in event_rows],
            "n_treated_clusters": [treated_clusters_of[i] for i in event_rows],
            "pre": 0,
        }
    )
    event_scores = scores[:, event_rows]
    event_fit, event_funcs = (
        fit,
        _Functionals(
            [funcs.names[i] for i in event_rows],
            [funcs.rows[i] for i in event_rows],
            [funcs.weights[i] for i in event_rows],
        ),
    )
    with_leads = _event_study_with_leads(design, g, t_values, treated, leads, dof, alpha, leave_out) if leads else None
    if with_leads is not None:
        event_table, event_scores, event_fit, event_funcs = with_leads
    elif leads:
        warnings.warn(
            f"did_imputation {outcome}: no event study with leads: leaving the {leads} pre-adoption periods out of "
            "the fit leaves no treated row with an untreated row of its unit to impute from; the event study has "
            "the post-adoption periods only.",
            stacklevel=2,
        )
    cov = event_scores.T @ event_scores
    treated_mean = float(w_t @ design.y[rows_t] / w_t.sum())
    return ImputationResult(
        outcome=outcome,
        estimate=float(est[0]),
        se=float(se[0]),
        ci_low=float(lo[0]),
        ci_high=float(hi[0]),
        p_value=float(p[0]),
        n_treated_obs=len(rows_t),
        n_untreated_obs=len(train),
        n_clusters=n_clusters,
        n_treated_clusters=int(treated_clusters_of[0]),
        treated_mean=treated_mean,
        cells=cell_table,
        event_study=event_table.reset_index(drop=True),
        event_covariance=cov,
        n_dropped_treated=dropped,
        alpha=alpha,
        df=dof,
        _state={
            "design": design,
            "fit": fit,
            "train": train,
            "rows_t": rows_t,
            "weights_t": w_t / w_t.sum(),
            "treated_mask": treated,
            "event_fit": event_fit,
            "event_functionals": event_funcs,
            "data": data,
            "g": g,
            "t_values": t_values,
            "unit": unit,
            "time": time,
            "cohort": cohort,
            "covariates": tuple(covariates),
            "controls": tuple(controls),
            "covariate_trends": covariate_trends,
            "weights": weights,
            "cluster": cluster,
            "leave_out": leave_out,
        },
    )


def _event_study_with_leads(
    design: _Design,
    g: np.ndarray,
    t_values: np.ndarray,
    treated: np.ndarray,
    leads: int,
    dof: int,
    alpha: float,
    leave_out: bool,
) -> tuple[pd.DataFrame, np.ndarray, _Fit, _Functionals] | None:
    """Event study from one fit that leaves the ``leads`` pre-adoption periods out (placebo rows).

    None when no treated or placebo row can be imputed from that fit (every treated unit's untreated rows lie
    in the periods left out).
    """
    times = np.sort(np.unique(t_values))
    first_period = times[0]
    rel = np.where(g > 0, t_values - g, np.iinfo(np.int64).min)
    # A cohort keeps its earliest pre-adoption period in the fit: leads reach back at most g - first - 1.
    reach = np.minimum(leads, np.where(g > 0, g - first_period - 1, 0))
    placebo = (~treated) & (g > 0) & (rel < 0) & (rel >= -reach)
    train = np.flatnonzero(~treated & ~placebo)
    fit = _Fit.on(design, train)
    t_has_train = np.bincount(design.time[train], minlength=design.n_times) > 0
    targets = np.flatnonzero(treated | placebo)
    ok_rows = (fit.unit_weight[design.unit[targets]] > 0) & t_has_train[design.time[targets]]
    targets = targets[ok_rows]
    if not len(targets):
        return None
    b, alpha_m = fit.coefficients(design.y[train])
    tau = design.y[targets] - alpha_m[design.unit[targets]] - design.zb(targets, b)
    res_train = design.y[train] - alpha_m[design.unit[train]] - design.zb(train, b)
    event = rel[targets].astype(np.int64)
    cell = pd.DataFrame({"g": g[targets], "t": t_values[targets]}).groupby(["g", "t"]).ngroup().to_numpy()
    dev = np.zeros(len(design.y))
    dev[targets] = _Reference.of(cell, event, design.cluster[targets], design.w[targets], leave_out).deviation(tau)
    events = np.unique(event)
    names, f_rows, f_weights = [], [], []
    for e in events:
        sel = event == e
        names.append(int(e))
        f_rows.append(targets[sel])
        f_weights.append(design.w[targets[sel]] / design.w[targets[sel]].sum())
    funcs = _Functionals(names, f_rows, f_weights)
    est, scores, _ = _scores(fit, design.y[train], res_train, dev, funcs)
    se = np.sqrt(np.einsum("gk,gk->k", scores, scores))
    lo, hi, p = _t_interval(est, se, dof, alpha)
    table = pd.DataFrame(
        {
            "event_time": events,
            "estimate": est,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p,
            "n_obs": [len(r) for r in f_rows],
            "n_treated_clusters": [np.unique(design.cluster[r]).size for r in f_rows],
            "pre": (events < 0).astype(int),
        }
    )
    return table, scores, fit, funcs
