r"""Group-time average treatment effects of Callaway and Sant'Anna (2021).

:func:`att_gt` estimates, for every treatment cohort :math:`g` (units first treated in
period :math:`g`) and period :math:`t`,

.. math:: ATT(g, t) = E[Y_t(g) - Y_t(0) \mid G = g]

by a two-period, two-group DiD between the cohort and a comparison group, from a base
period to :math:`t` (Callaway and Sant'Anna 2021, eq. 2.5 with never-treated, eq. 2.6 with
not-yet-treated comparisons; estimators of :mod:`evaluation.methods.did.estimators`). The
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

Data
    ``panel=True`` (default): a long panel, balanced before estimation (units missing in a period
    are dropped, as R). ``allow_unbalanced_panel=True`` keeps an unbalanced panel whole and, as R
    ``did`` 2.x, estimates each cell with the repeated cross-section estimators on the observations
    of its two periods, summing the influence function within units (a panel that is balanced after
    the checks is estimated as a panel). ``panel=False``: repeated cross sections, every row its own
    unit; each cell uses ``DRDID``'s cross-section estimators (:mod:`evaluation.methods.did.estimators_rc`)
    with each observation's own covariates.

Inference: each ATT(g,t) has an influence function over all ``n`` units (zero outside the
cohort and its comparison group, and scaled by ``n / n_gt``; with repeated cross sections ``n_gt``
counts the cell's observations and units are rows, or panel units when the panel is unbalanced).
Analytic standard errors are ``sqrt(mean(psi**2) / n)``; with ``cluster`` they sum the influence
function within clusters (R ``did`` clusters only in the bootstrap). ``bootstrap=True`` runs R's
multiplier bootstrap (:mod:`evaluation.methods.did.bootstrap`) and, with ``uniform_bands=True`` (R
``cband = TRUE``), the intervals are simultaneous sup-t bands over all ATT(g,t).

Reference: Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-differences with
multiple time periods", *Journal of Econometrics* 225(2), 200-230.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did.bootstrap import multiplier_bootstrap
from evaluation.methods.did.cells import estimate_cross_section_cells, estimate_panel_cells, plan_cells
from evaluation.methods.did.estimators import METHODS, Method
from evaluation.methods.did.influence import covariance_from_influence, se_from_influence
from evaluation.methods.did.prepare import PanelArrays, prepare
from evaluation.results import TidyResult, tidy_rows

if TYPE_CHECKING:
    from evaluation.methods.did.aggregate import AggregateResult

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
class AttGtResult(TidyResult):
    """Group-time ATTs with their influence functions; :meth:`aggregate` summarises them, ``tidy()`` lists them.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (group, time): ``group, time, base_period, post, att, se, ci_low, ci_high,
        n_treated, n_control`` (units in a panel, the cell's observations with repeated cross sections or
        an unbalanced panel). Intervals are pointwise, or uniform bands when the bootstrap ran with
        ``uniform_bands``.
    influence : numpy.ndarray
        ``n_units x len(table)`` influence functions (R ``inffunc``); units are rows with
        ``panel=False``, in the order of ``df`` after the checks, and sorted unit ids otherwise.
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
        """Number of units (after the checks of :mod:`evaluation.methods.did.prepare`)."""
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
        """Aggregate the ATT(g,t) as R ``did::aggte``; see :func:`evaluation.methods.did.aggregate.aggregate`."""
        from evaluation.methods.did.aggregate import aggregate

        return aggregate(self, kind, min_e=min_e, max_e=max_e, balance_e=balance_e)

    def tidy(self) -> pd.DataFrame:
        """Return one row per (group, time): ``term`` ``"ATT(g=<group>,t=<time>)"`` and the numbers of :attr:`table`.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, group, time, base_period, post, n_treated, n_control``;
            ``estimate`` is ``att``, the interval that of :attr:`table` (uniform bands when bootstrapped), and
            ``p_value`` NaN (R ``did`` reports none for the cells).
        """
        return tidy_rows(self.table, {"g": "group", "t": "time"}, estimate="att")

    def _heading(self) -> str:
        bands = "uniform bands" if self.inference.bootstrap and self.inference.uniform_bands else "pointwise intervals"
        return f"Group-time ATTs (Callaway and Sant'Anna 2021): {self.n_units} units, {len(self.table)} cells, {bands}"


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


def att_gt(
    df: pd.DataFrame,
    outcome: str = "y",
    unit: str | None = "id",
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
    allow_unbalanced_panel: bool = False,
) -> AttGtResult:
    r"""Estimate Callaway-Sant'Anna group-time average treatment effects (module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        Long data: one row per unit and period (a panel), or one row per observation (``panel=False``).
    outcome, unit, time, group : str
        Columns of the outcome, the unit id, the period and the first treated period (0 = never treated).
        With ``panel=False`` ``unit`` may be None; if given, it must identify rows (each observation is its
        own unit).
    covariates : sequence of str or None
        Covariates of the propensity score and the outcome regression (an intercept is always included).
        Panels use their values in the earlier period of each comparison; repeated cross sections and
        unbalanced panels use each observation's own values (R ``did``).
    control_group : {"never_treated", "not_yet_treated"}
    method : {"dr", "dr_imp", "ipw", "reg"}
        Doubly robust as R ``did`` (``DRDID::drdid_panel``, or ``drdid_rc`` for repeated cross sections),
        the improved doubly robust estimator (``drdid_imp_panel`` / ``drdid_imp_rc``), normalised IPW or
        outcome regression (:mod:`evaluation.methods.did.estimators`, :mod:`evaluation.methods.did.estimators_rc`).
    base_period : {"varying", "universal"}
    bootstrap : bool
        Multiplier bootstrap standard errors (and uniform bands) instead of analytic ones.
    cluster : str or None
        Column of clusters containing whole units (e.g. municipality); ``unit`` or None for unit clusters
        (observations with ``panel=False``).
    random_state : int
        Seed of the bootstrap.
    alpha : float
        Confidence intervals cover ``1 - alpha``.
    n_bootstrap : int
        Bootstrap draws.
    panel : bool
        True for a panel, False for repeated cross sections (R ``did``'s ``panel``).
    anticipation : int
        Periods of anticipation :math:`\\delta`.
    weights : str or None
        Column of sampling weights, constant within unit in a panel.
    uniform_bands : bool
        With the bootstrap, report simultaneous bands (R ``cband``).
    allow_unbalanced_panel : bool
        Keep units not observed in every period (R ``allow_unbalanced_panel``); module docstring, "Data".
        False balances the panel by dropping them, with a warning.

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
    if n_bootstrap < 2:
        raise EvaluationError(f"n_bootstrap must be at least 2; got {n_bootstrap}")
    data = prepare(
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
        panel=panel,
        allow_unbalanced_panel=allow_unbalanced_panel,
    )
    cells = plan_cells(data.periods, data.group, control_group, base_period, anticipation)
    if isinstance(data, PanelArrays):
        design, unit_group, unit_weights, n_obs = "panel", data.group, data.weights, data.outcome.size
        rows, influence = estimate_panel_cells(data, cells, method)
    else:
        design = "repeated_cross_sections" if not panel else "unbalanced_panel"
        unit_group, unit_weights, n_obs = data.unit_group, data.unit_weights, len(data.outcome)
        rows, influence = estimate_cross_section_cells(data, cells, method)
    n = len(unit_group)
    if not rows:
        raise ModelNotIdentifiedError("att_gt: no group-time cell could be estimated (no cohorts or no comparisons)")
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
    column = {key: [row[key] for row in rows] for key in rows[0]}
    group_values = np.asarray(column["group"], dtype=float)
    if np.all(np.mod(group_values, 1) == 0):
        group_values = group_values.astype(np.asarray(data.periods).dtype)
    att = np.asarray(column["att"], dtype=float)
    table = pd.DataFrame(
        {
            "group": group_values,
            "time": column["time"],
            "base_period": column["base_period"],
            "post": np.asarray(column["post"], dtype=bool),
            "att": att,
            "se": se,
            "ci_low": att - crit * se,
            "ci_high": att + crit * se,
            "n_treated": np.asarray(column["n_treated"], dtype=np.int64),
            "n_control": np.asarray(column["n_control"], dtype=np.int64),
        }
    )
    settings = {
        "outcome": outcome,
        "control_group": control_group,
        "method": method,
        "base_period": base_period,
        "anticipation": anticipation,
        "covariates": covariates,
        "design": design,
        "n_units": n,
        "n_observations": int(n_obs),
    }
    return AttGtResult(
        table=table,
        influence=influence,
        crit_val=crit,
        unit_group=unit_group,
        unit_weights=unit_weights,
        inference=inference,
        settings=settings,
    )
