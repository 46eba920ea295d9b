r"""Group-time average treatment effects of Callaway and Sant'Anna (2021).

:func:`att_gt` estimates, for every treatment cohort :math:`g` (units first treated in
period :math:`g`) and period :math:`t`,

.. math:: ATT(g, t) = E[Y_t(g) - Y_t(0) \mid G = g]

by a two-period, two-group DiD between the cohort and a comparison group, from a base
period to :math:`t` (Callaway and Sant'Anna 2021, eq. 2.5 with never-treated, eq. 2.6 with
not-yet-treated comparisons; estimators of :mod:`evaluation.did.estimators`). The
semantics are those of R ``did::att_gt`` (version 2.x):

Base period
    ``"varying"``: for post-treatment periods :math:`t \ge g` the base is the last period
    before :math:`g - \delta` (:math:`\delta` the anticipation); for pre-treatment periods it
    is the period just before :math:`t`, so pre-period estimates are placebo short
    differences. ``"universal"``: the base is always the last period before
    :math:`g - \delta`; the base period itself gets :math:`ATT = 0` with no standard error,
    and pre-period estimates are long differences comparable to an event-study plot.
Comparison group
    ``"never_treated"``: units with ``group == 0``. ``"not_yet_treated"``: never-treated
    units and units first treated after :math:`\max(t, b) + \delta` (``b`` the base period),
    excluding cohort :math:`g` itself.
Covariates
    Taken in the earlier of the two periods of each comparison (R ``did`` 2.x), the base
    period in all but universal-base pre-periods.

Inference: each ATT(g,t) has an influence function over all ``n`` units (zero outside the
cohort and its comparison group, and scaled by ``n / n_gt``). Analytic standard errors are
``sqrt(mean(psi**2) / n)``; with ``cluster`` they sum the influence function within clusters
(R ``did`` clusters only in the bootstrap). ``bootstrap=True`` runs R's multiplier bootstrap
(:mod:`evaluation.did.bootstrap`) and, with ``uniform_bands=True`` (R ``cband = TRUE``), the
intervals are simultaneous sup-t bands over all ATT(g,t).

Reference: Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-differences with
multiple time periods", *Journal of Econometrics* 225(2), 200-230.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.did.bootstrap import multiplier_bootstrap
from evaluation.did.estimators import METHODS, Method, did_panel
from evaluation.did.influence import covariance_from_influence, se_from_influence
from evaluation.did.prepare import PanelArrays, prepare_panel
from evaluation.errors import EvaluationError, ModelNotIdentifiedError

if TYPE_CHECKING:
    from evaluation.did.aggregate import AggregateResult

__all__ = ["AttGtResult", "att_gt"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
BasePeriod = Literal["varying", "universal"]
_TINY = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True)
class Inference:
    """How uncertainty is computed; shared by :class:`AttGtResult` and its aggregations."""

    alpha: float
    bootstrap: bool
    n_bootstrap: int
    uniform_bands: bool
    random_state: int
    cluster_codes: np.ndarray | None
    n_clusters: int

    def standard_errors(self, psi: np.ndarray) -> tuple[np.ndarray, float]:
        """Return the standard errors of the columns of ``psi`` and the critical value of their intervals."""
        psi2 = psi.reshape(psi.shape[0], -1)
        se = np.atleast_1d(se_from_influence(psi2, self.cluster_codes)).astype(float)
        se[~(se > _TINY)] = np.nan
        crit = float(stats.norm.ppf(1 - self.alpha / 2))
        if self.bootstrap:
            boot = multiplier_bootstrap(
                psi2,
                n_bootstrap=self.n_bootstrap,
                alpha=self.alpha,
                random_state=self.random_state,
                cluster_codes=self.cluster_codes,
            )
            se = np.where(np.isnan(se), np.nan, boot.se)
            if self.uniform_bands and psi2.shape[1] > 1 and np.isfinite(boot.crit_val):
                crit = boot.crit_val
        return se, crit


@dataclass(frozen=True)
class AttGtResult:
    """Group-time ATTs with their influence functions; :meth:`aggregate` summarises them.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (group, time): ``group, time, base_period, post, att, se, ci_low, ci_high,
        n_treated, n_control``. Intervals are pointwise, or uniform bands when the bootstrap ran with
        ``uniform_bands``.
    influence : numpy.ndarray
        ``n_units x len(table)`` influence functions (R ``inffunc``).
    crit_val : float
        Critical value of the intervals (normal quantile or sup-t bootstrap value).
    """

    table: pd.DataFrame
    influence: np.ndarray
    crit_val: float
    unit_group: np.ndarray
    unit_weights: np.ndarray
    inference: Inference
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        """Number of units (after the checks of :mod:`evaluation.did.prepare`)."""
        return int(self.influence.shape[0])

    def covariance(self) -> np.ndarray:
        """Analytic covariance matrix of the ATT(g,t) from their influence functions (R ``V / n``)."""
        return covariance_from_influence(self.influence, self.inference.cluster_codes)

    def aggregate(
        self,
        kind: Literal["simple", "dynamic", "group", "calendar"] = "dynamic",
        *,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        balance_e: int | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) as R ``did::aggte``; see :func:`evaluation.did.aggregate.aggregate`."""
        from evaluation.did.aggregate import aggregate

        return aggregate(self, kind, min_e=min_e, max_e=max_e, balance_e=balance_e)


def _check_options(control_group: str, method: str, base_period: str, alpha: float, anticipation: int) -> None:
    if control_group not in ("never_treated", "not_yet_treated"):
        raise EvaluationError(f"control_group must be 'never_treated' or 'not_yet_treated'; got {control_group!r}")
    if method not in METHODS:
        raise EvaluationError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if base_period not in ("varying", "universal"):
        raise EvaluationError(f"base_period must be 'varying' or 'universal'; got {base_period!r}")
    if not 0 < alpha < 1:
        raise EvaluationError(f"alpha must lie strictly between 0 and 1; got {alpha}")
    if anticipation < 0:
        raise EvaluationError(f"anticipation must be a non-negative number of periods; got {anticipation}")


def _cells(
    data: PanelArrays, control_group: str, base_period: str, anticipation: int
) -> list[tuple[float, int, int | None, np.ndarray | None]]:
    """(group, index of t, index of base period, comparison mask) for every cell, as R's loop."""
    periods = data.periods
    groups = np.unique(data.group[data.group > 0])
    groups = groups[groups > periods[0] + anticipation]
    shift = 0 if base_period == "universal" else 1
    cells = []
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
            if base_period == "universal" and base == t_now:
                cells.append((g, t_now, base, None))
                continue
            if control_group == "never_treated":
                control = data.group == 0
            else:
                cutoff = periods[max(t, base) + shift] + anticipation
                control = (data.group == 0) | ((data.group > cutoff) & (data.group != g))
            cells.append((g, t_now, base, control))
    return cells


def att_gt(
    df: pd.DataFrame,
    outcome: str = "y",
    unit: str = "id",
    time: str = "year",
    group: str = "first_treat",
    covariates: Sequence[str] | None = None,
    control_group: ControlGroup = "never_treated",
    method: Method = "dr",
    base_period: BasePeriod = "varying",
    bootstrap: bool = False,
    cluster: str | None = None,
    random_state: int = 0,
    *,
    alpha: float = 0.05,
    n_bootstrap: int = 999,
    panel: bool = True,
    anticipation: int = 0,
    weights: str | None = None,
    uniform_bands: bool = True,
) -> AttGtResult:
    r"""Estimate Callaway-Sant'Anna group-time average treatment effects (module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel: one row per unit and period.
    outcome, unit, time, group : str
        Columns of the outcome, the unit id, the period and the first treated period (0 = never treated).
    covariates : sequence of str or None
        Covariates of the propensity score and the outcome regression (an intercept is always included).
    control_group : {"never_treated", "not_yet_treated"}
    method : {"dr", "dr_imp", "ipw", "reg"}
        Doubly robust as R ``did`` (``DRDID::drdid_panel``), the improved doubly robust estimator
        (``drdid_imp_panel``), normalised IPW or outcome regression (:mod:`evaluation.did.estimators`).
    base_period : {"varying", "universal"}
    bootstrap : bool
        Multiplier bootstrap standard errors (and uniform bands) instead of analytic ones.
    cluster : str or None
        Column of clusters containing whole units (e.g. municipality); ``unit`` or None for unit clusters.
    random_state : int
        Seed of the bootstrap.
    alpha : float
        Confidence intervals cover ``1 - alpha``.
    n_bootstrap : int
        Bootstrap draws.
    panel : bool
        True for a panel (balanced before estimation). Repeated cross sections are not implemented yet.
    anticipation : int
        Periods of anticipation :math:`\\delta`.
    weights : str or None
        Column of sampling weights, constant within unit.
    uniform_bands : bool
        With the bootstrap, report simultaneous bands (R ``cband``).

    Returns
    -------
    AttGtResult

    Raises
    ------
    EvaluationError
        Bad options or columns.
    ModelNotIdentifiedError
        No cell can be estimated.
    """
    covariates = list(covariates or [])
    _check_options(control_group, method, base_period, alpha, anticipation)
    if not panel:
        raise EvaluationError(
            "att_gt: repeated cross sections (panel=False) are not implemented yet; pass a panel (panel=True)"
        )
    if n_bootstrap < 2:
        raise EvaluationError(f"n_bootstrap must be at least 2; got {n_bootstrap}")
    data = prepare_panel(
        df,
        outcome=outcome,
        unit=unit,
        time=time,
        group=group,
        covariates=covariates,
        control_group=control_group,
        anticipation=anticipation,
        weights=weights,
        cluster=cluster,
    )
    n = len(data.units)
    rows, columns = [], []
    for g, t_now, base, control in _cells(data, control_group, base_period, anticipation):
        t_value = data.periods[t_now]
        treated = data.group == g
        row = {"group": g, "time": t_value, "base_period": data.periods[base], "post": bool(g <= t_value)}
        if control is None:
            rows.append({**row, "att": 0.0, "n_treated": int(treated.sum()), "n_control": 0})
            columns.append(np.zeros(n))
            continue
        sel = treated | control
        if not treated.any() or not control.any():
            warnings.warn(
                f"att_gt: no comparison units for group {g:g} in period {t_value:g}; cell skipped", stacklevel=2
            )
            continue
        x = data.covariates[min(base, t_now)][sel]
        att, psi = did_panel(
            data.outcome[sel, t_now], data.outcome[sel, base], treated[sel].astype(float), x, data.weights[sel], method
        )
        full = np.zeros(n)
        full[sel] = psi * n / sel.sum()
        rows.append({**row, "att": att, "n_treated": int(treated.sum()), "n_control": int(control.sum())})
        columns.append(full)
    if not rows:
        raise ModelNotIdentifiedError("att_gt: no group-time cell could be estimated (no cohorts or no comparisons)")
    influence = np.column_stack(columns)
    inference = Inference(
        alpha=alpha,
        bootstrap=bootstrap,
        n_bootstrap=n_bootstrap,
        uniform_bands=uniform_bands,
        random_state=random_state,
        cluster_codes=data.cluster_codes,
        n_clusters=data.n_clusters,
    )
    se, crit = inference.standard_errors(influence)
    table = pd.DataFrame(rows)
    if np.all(np.mod(table["group"], 1) == 0):
        table["group"] = table["group"].astype(np.asarray(data.periods).dtype)
    table["se"] = se
    table["ci_low"] = table["att"] - crit * table["se"]
    table["ci_high"] = table["att"] + crit * table["se"]
    table = table[["group", "time", "base_period", "post", "att", "se", "ci_low", "ci_high", "n_treated", "n_control"]]
    settings = {
        "outcome": outcome,
        "control_group": control_group,
        "method": method,
        "base_period": base_period,
        "anticipation": anticipation,
        "covariates": covariates,
        "n_units": n,
    }
    return AttGtResult(
        table=table,
        influence=influence,
        crit_val=crit,
        unit_group=data.group,
        unit_weights=data.weights,
        inference=inference,
        settings=settings,
    )
