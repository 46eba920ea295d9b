"""The result of :func:`evaluation.methods.matching.match` and the effect estimate on the matched sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError
from evaluation.methods.matching.balance import balance_text
from evaluation.results import Estimate, format_table, tidy_estimates

__all__ = ["MatchResult"]


@dataclass(frozen=True)
class MatchResult:
    """Result of :func:`evaluation.methods.matching.match`; ``tidy(outcomes)`` has one row per outcome, its effect.

    Attributes
    ----------
    matched : pandas.DataFrame
        The kept rows of the input (original index and order) with a column
        ``weight`` and, where pairs or strata exist, ``subclass``: the pair or
        set of matching without replacement (numbered 1, 2, ... in the order of
        the focal units in the input), or the stratum of exact and coarsened
        exact matching.
    balance : pandas.DataFrame
        Indexed by covariate: ``type, smd_before, smd_after, var_ratio_before,
        var_ratio_after, ecdf_mean_before, ecdf_mean_after, ecdf_max_before,
        ecdf_max_after, smd_flag, var_ratio_flag`` (see
        :func:`evaluation.methods.matching.balance_table`).
    propensity : pandas.Series
        The score aligned with the input (fitted probability, or the user's
        column); all NaN when no score is used (``distance="mahalanobis"``,
        ``method="exact"`` or ``"cem"`` without a score).
    distance : pandas.Series
        The quantity matched on or used for calipers and common support (the
        probability, the linear predictor for ``"linear.*"``, or the user's
        column); NaN where no score is used.
    n_dropped : dict
        Focal units (treated for the ATT, controls for the ATC, all units for
        the ATE) left out, by reason: ``discarded`` (outside common support),
        ``no_exact_match`` (no unit of the other group in their exact cell or
        stratum), ``no_match_within_caliper``, ``no_control_left`` (matching
        without replacement ran out of units).
    caliper : float or None
        The caliper in the units of ``distance``.
    replace : bool
        Whether controls were matched with replacement.
    ratio : int
        Matches per focal unit.
    treatment : str
        The treatment column.
    info : dict
        Method details: ``method``, ``distance``, ``estimand``, ``m_order``,
        ``exact``, ``mahvars``, ``discard``, ``discarded`` (counts by group),
        ``se_type`` ("cluster" or "HC3"), and for CEM the ``cutpoints`` used.
    """

    matched: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.Series
    distance: pd.Series
    n_dropped: dict[str, int]
    caliper: float | None
    replace: bool
    ratio: int
    treatment: str
    info: dict[str, object] = field(default_factory=dict)

    @property
    def estimand(self) -> str:
        """The estimand the weights target ("ATT", "ATC" or "ATE")."""
        return str(self.info.get("estimand", "ATT"))

    def att(self, y: str, *, alpha: float = 0.05) -> Estimate:
        r"""Estimate the treatment effect on outcome ``y`` in the matched sample.

        The estimand is the one of the match (``self.estimand``; the name
        ``att`` is kept for the common case). The estimate is the weighted
        difference in means of ``y`` between matched treated and control units,
        i.e. the coefficient of the treatment in a weighted least-squares
        regression of ``y`` on an intercept and the treatment, as MatchIt's
        guide to estimating effects recommends. Standard errors are sandwich
        estimates of that regression:

        - matching without replacement (pairs): cluster-robust by ``subclass``
          (pair), with the small-sample factor :math:`\frac{G}{G-1}\frac{n-1}{n-2}`
          (R's ``sandwich::vcovCL`` default, type HC1);
        - matching with replacement, exact and coarsened exact matching (strata
          whose weights act like inverse-probability weights): HC3
          heteroskedasticity-robust (R's ``sandwich::vcovHC(type = "HC3")``).

        p-values and intervals use the t-distribution with :math:`n - 2`
        degrees of freedom (``lmtest::coeftest``). The SEs treat the matching
        weights as fixed; Abadie-Imbens SEs that account for the matching step
        are not implemented.

        Parameters
        ----------
        y : str
            Outcome column of the input data.
        alpha : float
            1 minus the confidence level.

        Returns
        -------
        Estimate
            With ``n_treated``/``n_control`` the matched treated and distinct
            matched control units.
        """
        m = self.matched
        if y not in m.columns:
            raise EvaluationError(f"att: outcome column '{y}' is not in the data (columns are {list(m.columns)}).")
        if not pd.api.types.is_numeric_dtype(m[y]) and not pd.api.types.is_bool_dtype(m[y]):
            raise EvaluationError(f"att: outcome column '{y}' has type {m[y].dtype}; it must be numeric.")
        n_missing = int(m[y].isna().sum())
        if n_missing:
            raise EvaluationError(
                f"att: outcome column '{y}' is missing for {n_missing} matched row(s) "
                f"(first at index {m.index[m[y].isna().to_numpy()][0]!r}); impute or drop them before matching."
            )
        values = m[y].to_numpy(dtype=float)
        treat = m[self.treatment].to_numpy(dtype=float)
        w = m["weight"].to_numpy(dtype=float)
        cluster = m["subclass"] if self.info.get("se_type", "HC3") == "cluster" and "subclass" in m.columns else None
        return weighted_difference(values, treat, w, cluster=cluster, alpha=alpha)

    def effect(self, y: str, *, alpha: float = 0.05) -> Estimate:
        """Alias of :meth:`att` named for ATC and ATE matches.

        Parameters
        ----------
        y : str
            Outcome column.
        alpha : float
            1 minus the confidence level.

        Returns
        -------
        Estimate
            See :meth:`att`.
        """
        return self.att(y, alpha=alpha)

    def tidy(self, outcomes: str | Sequence[str], *, alpha: float = 0.05) -> pd.DataFrame:
        """Return the effect on each outcome (:meth:`att`) as a tidy row.

        The match holds no outcome, so the outcomes are named here; the balance is
        :func:`~evaluation.methods.matching.balance.tidy_balance` of :attr:`balance`.

        Parameters
        ----------
        outcomes : str or sequence of str
            Outcome columns of the input data; each gives one row whose ``term`` is its name.
        alpha : float
            1 minus the confidence level.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control, estimand``.
        """
        names = [outcomes] if isinstance(outcomes, str) else list(outcomes)
        return tidy_estimates({y: self.att(y, alpha=alpha) for y in names}, estimand=self.estimand)

    def summary(self, outcomes: str | Sequence[str] = (), *, alpha: float = 0.05) -> str:
        """Return the match as text: method and sample, the balance of every covariate, and effects if asked.

        Parameters
        ----------
        outcomes : str or sequence of str
            Outcomes whose effects (:meth:`tidy`) follow the balance; none by default.
        alpha : float
            1 minus the confidence level of the effects.

        Returns
        -------
        str
        """
        treat = self.matched[self.treatment].to_numpy()
        dropped = ", ".join(f"{reason} {n}" for reason, n in self.n_dropped.items()) or "none"
        heading = (
            f"Matching ({self.info.get('method', 'nearest')}, {self.estimand}): {int((treat == 1).sum())} treated and "
            f"{int((treat == 0).sum())} control units kept; focal units dropped: {dropped}"
        )
        parts = [balance_text(self.balance, heading=heading)]
        if len(outcomes):
            parts.append(format_table(self.tidy(outcomes, alpha=alpha), heading="Effects"))
        return "\n\n".join(parts)


def weighted_difference(
    values: np.ndarray,
    treat: np.ndarray,
    w: np.ndarray,
    *,
    cluster: pd.Series | np.ndarray | None = None,
    alpha: float = 0.05,
) -> Estimate:
    r"""Weighted difference in means as a WLS coefficient with a sandwich standard error.

    Parameters
    ----------
    values, treat, w : numpy.ndarray
        Outcome, 0/1 treatment and weights of the units with positive weight.
    cluster : array-like or None
        Cluster labels for a cluster-robust (HC1-type) variance; None gives HC3.
    alpha : float
        1 minus the confidence level.

    Returns
    -------
    Estimate
        The coefficient of the treatment, its SE, a t-based interval with
        :math:`n-2` degrees of freedom and the group sizes.
    """
    x = np.column_stack([np.ones_like(treat), treat])
    xw = x * w[:, None]
    bread = np.linalg.inv(x.T @ xw)
    beta = bread @ (xw.T @ values)
    resid = values - x @ beta
    n = len(values)
    if cluster is None:
        leverage = np.einsum("ij,jk,ik->i", x, bread, x) * w
        scores = x * (w * resid / (1.0 - leverage))[:, None]
        vcov = bread @ (scores.T @ scores) @ bread
    else:
        codes, levels = pd.factorize(np.asarray(cluster), sort=True)
        g = len(levels)
        cluster_scores = np.zeros((g, 2))
        np.add.at(cluster_scores, codes, x * (w * resid)[:, None])
        factor = g / (g - 1) * (n - 1) / (n - 2) if g > 1 else np.nan
        vcov = factor * bread @ (cluster_scores.T @ cluster_scores) @ bread
    est = float(beta[1])
    se = float(np.sqrt(vcov[1, 1]))
    df = n - 2
    crit = stats.t.ppf(1 - alpha / 2, df)
    p_value = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 else np.nan
    return Estimate(
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        n_treated=int(np.sum(treat == 1)),
        n_control=int(np.sum(treat == 0)),
        p_value=p_value,
    )
