r"""Wild cluster bootstrap for one coefficient of a linear model with fixed effects.

Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2008), "Bootstrap-Based
Improvements for Inference with Clustered Errors", *REStat* 90(3), 414-427;
Roodman, D., MacKinnon, J. G., Nielsen, M. Ø. and Webb, M. D. (2019), "Fast
and wild: Bootstrap inference in Stata using boottest", *Stata Journal* 19(1),
4-60; Webb, M. D. (2023), "Reworking wild bootstrap-based inference for
clustered errors", *Canadian Journal of Economics* 56(3), 839-858.

Model: :math:`y = \beta x + Z\gamma + \text{FE} + u`, errors clustered. By
Frisch-Waugh-Lovell everything is done on :math:`\tilde y, \tilde x`, the
outcome and regressor with the fixed effects and controls swept out
(:mod:`evaluation.methods.inference.design`).

WCR (restricted, the default, as ``boottest``): for a null :math:`\beta = \beta_0`
the restricted residuals are :math:`\tilde u = \tilde y - \beta_0 \tilde x`, and
bootstrap samples are :math:`y^* = \text{restricted fit} + \tilde u \odot v_{g(i)}`
with one weight :math:`v_g` per cluster. Each sample is re-estimated with the
full model (fixed effects included) and gives the CRVE t-statistic
:math:`t^*_b`. Because every quantity is linear in :math:`v`, all draws are
computed at once from :math:`G \times G` matrices (Roodman et al. 2019, sec. 5):
with :math:`s_g = \sum_{i\in g}\tilde x_i \tilde u_i`, :math:`q_g = \sum_{i\in g}\tilde x_i^2`
and :math:`A_{gh} = \sum_{i \in g} \tilde x_i [M(\tilde u \odot 1_h)]_i`,
the numerator is :math:`v's` and the cluster scores are :math:`A v - (v's/\tilde x'\tilde x)\,q`.

p-value (symmetric, ``boottest``'s default): the share of draws with
:math:`|t^*_b| > |t|`. With Rademacher weights and :math:`G \le` ``enumerate_max_clusters``
(12, as ``boottest``) all :math:`2^G` sign vectors are used, which makes the
p-value exact and free of simulation noise. Webb's six-point weights
(:math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`) are better when G is small but the
draws are then random. Confidence interval: the set of :math:`\beta_0` whose
p-value is at least :math:`\alpha`, found by bisection on the p-value
function (the same draws for every :math:`\beta_0`), as ``boottest``'s test inversion.

Standard error and t: CRVE with the factor :math:`G/(G-1)\cdot(N-1)/(N-K)`
(:math:`K` = regressor, controls and fixed effects, a factor nested in the
clusters counted once), as :mod:`evaluation.methods.panel`; the factor cancels from the
bootstrap p-value.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.inference.design import PartialDesign, partial_design
from evaluation.methods.inference.inversion import invert_test
from evaluation.results import Estimate, TidyResult, tidy_attributes

__all__ = ["WildBootstrapResult", "wild_cluster_bootstrap", "bootstrap_weights"]

WeightType = Literal["rademacher", "webb"]
_WEIGHT_TYPES = ("rademacher", "webb")
_TIE_TOL = 1e-10
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrapResult(TidyResult):
    """Result of :func:`wild_cluster_bootstrap`; ``tidy()`` has one row, the coefficient.

    Attributes
    ----------
    estimate, se, t_stat : float
        Coefficient, its CRVE standard error and ``(estimate - null) / se``.
    p_value : float
        Bootstrap p-value of ``beta = null``.
    ci_low, ci_high : float
        Confidence interval by test inversion (NaN when not computed).
    null : float
        The hypothesised value.
    n_clusters, nobs, n_boot : int
        Clusters, observations and bootstrap draws used.
    weight_type : str
        ``"rademacher"`` or ``"webb"``.
    enumerated : bool
        Whether all 2^G Rademacher sign vectors were used.
    impose_null : bool
        WCR (True) or WCU (False).
    alpha : float
        1 minus the confidence level.
    regressor : str
        The regressor whose coefficient is tested (the ``term`` of :meth:`tidy`).
    """

    estimate: float
    se: float
    t_stat: float
    p_value: float
    ci_low: float
    ci_high: float
    null: float
    n_clusters: int
    nobs: int
    n_boot: int
    weight_type: str
    enumerated: bool
    impose_null: bool
    alpha: float
    regressor: str = "estimate"

    def to_estimate(self, n_treated: int = 0, n_control: int = 0) -> Estimate:
        """Return the result as an :class:`~evaluation.results.Estimate` (bootstrap p-value and interval)."""
        return Estimate(self.estimate, self.se, self.ci_low, self.ci_high, n_treated, n_control, self.p_value)

    def tidy(self) -> pd.DataFrame:
        """Return one row: the coefficient, its CRVE SE, the bootstrap interval and p-value, ``t_stat, null, ...``.

        Returns
        -------
        pandas.DataFrame
            ``term`` (the regressor), ``estimate, se, ci_low, ci_high, p_value, t_stat, null, n_clusters, nobs,
            n_boot``.
        """
        names = ("estimate", "se", "ci_low", "ci_high", "p_value", "t_stat", "null", "n_clusters", "nobs", "n_boot")
        return tidy_attributes(self, self.regressor, names)

    def _heading(self) -> str:
        kind = "restricted (WCR)" if self.impose_null else "unrestricted (WCU)"
        draws = f"all {self.n_boot} sign vectors" if self.enumerated else f"{self.n_boot} draws"
        return f"Wild cluster bootstrap, {kind}, {self.weight_type} weights, {draws}, {1 - self.alpha:.0%} interval"


def bootstrap_weights(
    n_clusters: int,
    *,
    weight_type: WeightType = "rademacher",
    n_boot: int = 9999,
    seed: int = 0,
    enumerate_max_clusters: int = 12,
) -> tuple[np.ndarray, bool]:
    """Draw the cluster weights: a ``(B, G)`` array, and whether it is the full Rademacher enumeration.

    Parameters
    ----------
    n_clusters
        G.
    weight_type
        ``"rademacher"`` (+-1 with probability 1/2) or ``"webb"`` (six points, Webb 2023).
    n_boot
        Draws when not enumerating.
    seed
        Seed of the ``numpy.random.Generator``.
    enumerate_max_clusters
        Enumerate all ``2**G`` Rademacher vectors when ``G`` is at most this.

    Returns
    -------
    tuple
        ``(weights, enumerated)``.
    """
    if weight_type not in _WEIGHT_TYPES:
        raise EvaluationError(f"weight_type must be one of {_WEIGHT_TYPES}, not {weight_type!r}.")
    if weight_type == "rademacher" and n_clusters <= enumerate_max_clusters:
        return np.array(list(itertools.product([1.0, -1.0], repeat=n_clusters))), True
    rng = np.random.default_rng(seed)
    if weight_type == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_boot, n_clusters)), False
    return rng.choice(_WEBB, size=(n_boot, n_clusters)), False


class _Bootstrap:
    """Precomputed pieces of the bootstrap t-statistics, linear in beta0 (Roodman et al. 2019, sec. 5)."""

    def __init__(self, design: PartialDesign, v: np.ndarray, impose_null: bool, chunk: int = 64) -> None:
        x, y, cl, g = design.x, design.y, design.clusters, design.n_clusters
        self.v = v
        self.xx = float(x @ x)
        self.beta = float(x @ y) / self.xx
        self.q = np.bincount(cl, weights=x * x, minlength=g)
        self.s_y = np.bincount(cl, weights=x * y, minlength=g)
        self.s_x = self.q
        self.impose_null = impose_null
        resid = y - self.beta * x
        self.score = np.bincount(cl, weights=x * resid, minlength=g)
        ssc = g / (g - 1) * (design.nobs - 1) / (design.nobs - 1 - design.k_nuisance)
        self.ssc = ssc
        self.se = float(np.sqrt(ssc * np.sum(self.score**2)) / self.xx)
        # A_y[g, h] and A_x[g, h]: cluster sums of x times M(y * 1_h) and M(x * 1_h).
        self.a_y = np.zeros((g, g))
        self.a_x = np.zeros((g, g))
        for start in range(0, g, chunk):
            hs = np.arange(start, min(start + chunk, g))
            mask = (cl[:, None] == hs[None, :]).astype(float)
            for target, col in ((self.a_y, y), (self.a_x, x)):
                m = design.residualise(mask * col[:, None])
                for j, h in enumerate(hs):
                    target[:, h] = np.bincount(cl, weights=x * m[:, j], minlength=g)
        if not impose_null:
            self.t_star_unrestricted = self._t_star(self.beta)

    def _t_star(self, beta0: float) -> np.ndarray:
        s = self.s_y - beta0 * self.s_x
        a = self.a_y - beta0 * self.a_x
        num = self.v @ s
        scores = self.v @ a.T - np.outer(num / self.xx, self.q)
        den = np.sqrt(self.ssc * np.sum(scores**2, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / den

    def t_stat(self, beta0: float) -> float:
        return (self.beta - beta0) / self.se

    def p_value(self, beta0: float) -> float:
        t = abs(self.t_stat(beta0))
        t_star = self._t_star(beta0) if self.impose_null else self.t_star_unrestricted
        return float(np.mean(np.abs(t_star) > t * (1 + _TIE_TOL) + 1e-300))


def wild_cluster_bootstrap(
    df: pd.DataFrame,
    outcome: str,
    regressor: str,
    *,
    cluster: str,
    controls: Sequence[str] = (),
    unit: str | None = None,
    time: str | None = None,
    weights: str | None = None,
    null: float = 0.0,
    weight_type: WeightType = "rademacher",
    n_boot: int = 9999,
    seed: int = 0,
    alpha: float = 0.05,
    impose_null: bool = True,
    enumerate_max_clusters: int = 12,
    confidence_interval: bool = True,
) -> WildBootstrapResult:
    """Wild cluster bootstrap test and confidence interval for the coefficient of ``regressor``.

    Parameters
    ----------
    df
        Data, one row per observation.
    outcome, regressor
        Outcome and the regressor of interest (e.g. ``treated`` in a DiD).
    cluster
        Cluster column (e.g. ``municipality``).
    controls
        Other regressors.
    unit, time
        Fixed-effect columns (e.g. ``person_id`` and ``year``), or None.
    weights
        Analytic weights (e.g. matching weights), or None.
    null
        Hypothesised value of the coefficient.
    weight_type
        ``"rademacher"`` or ``"webb"``.
    n_boot
        Draws when the Rademacher weights are not enumerated.
    seed
        Seed of the draws.
    alpha
        1 minus the confidence level.
    impose_null
        WCR (True, recommended) or WCU.
    enumerate_max_clusters
        Enumerate the 2^G Rademacher draws when G is at most this.
    confidence_interval
        Compute the interval by test inversion.

    Returns
    -------
    WildBootstrapResult
    """
    if not 0 < alpha < 1:
        raise EvaluationError(f"alpha must lie strictly between 0 and 1, not {alpha}.")
    design = partial_design(
        df, outcome, regressor, cluster=cluster, controls=controls, unit=unit, time=time, weights=weights
    )
    v, enumerated = bootstrap_weights(
        design.n_clusters,
        weight_type=weight_type,
        n_boot=n_boot,
        seed=seed,
        enumerate_max_clusters=enumerate_max_clusters,
    )
    boot = _Bootstrap(design, v, impose_null)
    lo = hi = float("nan")
    if confidence_interval:
        step = max(boot.se, 1e-12 * max(abs(boot.beta), 1.0))
        lo, hi = invert_test(boot.p_value, boot.beta, step, alpha)
    return WildBootstrapResult(
        estimate=boot.beta,
        se=boot.se,
        t_stat=boot.t_stat(null),
        p_value=boot.p_value(null),
        ci_low=lo,
        ci_high=hi,
        null=float(null),
        n_clusters=design.n_clusters,
        nobs=design.nobs,
        n_boot=len(v),
        weight_type=weight_type,
        enumerated=enumerated,
        impose_null=impose_null,
        alpha=alpha,
        regressor=regressor,
    )
