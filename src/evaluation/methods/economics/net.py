r"""Net cost, cumulative net cost, payback year and cost-effectiveness ratios.

All amounts are per treated child-year with an open case, in fixed prices,
and every function works on point estimates and on bootstrap draws alike
(draws on the leading axes, follow-up years on the last axis).

Net cost in follow-up year :math:`e` (``e = 0`` the adoption year):

.. math:: N_e = S_e + \Delta M_e,

the staff cost :math:`S_e` of the extra caseworkers minus the saving in measure
costs, where :math:`\Delta M_e` is the estimated *change* in measure costs (the
difference-in-differences effect on cost per child-year; negative when the
reform saves). Cumulative net cost over the follow-up is the running present
value :math:`C_E = \sum_{e \le E} (1+r)^{-e} N_e`
(:func:`evaluation.methods.economics.discount.cumulative_present_value`).

Payback year: the first follow-up year :math:`E + 1` (1 = the adoption year) in
which :math:`C_E \le 0`, i.e. the discounted savings have repaid the staff cost;
missing when that does not happen within the follow-up. Its uncertainty comes
from the payback years of the bootstrap replications (:func:`payback_interval`):
a replication that does not pay back within the follow-up of :math:`H` years
counts as "later than year :math:`H`", so an interval bound can be "later than
year :math:`H`" (stored as missing). :func:`share_below_zero` gives the
probability statements that go with the intervals: the share of replications in
which the net cost is negative (the reform saves money), or in which the reform
pays back within the follow-up.

Cost per unit of effect (incremental cost-effectiveness ratio, Drummond et al.,
*Methods for the Economic Evaluation of Health Care Programmes*, 4th ed. 2015,
ch. 4): :math:`R = N / G`, where :math:`G` is the gain (SDQ points fewer,
placements avoided per child-year). A negative ratio with a positive gain means
the reform saves money and improves the outcome (dominates). The percentile
interval of a ratio is reported only when fewer than :math:`\alpha/2` of the
draws have a gain of zero or less; otherwise the interval is unbounded (the
gain's own interval reaches zero) and is left missing, and the acceptability
curve (:mod:`evaluation.methods.economics.ceac`) is the summary to read.
"""

from __future__ import annotations

import numpy as np

from evaluation.methods.economics.discount import cumulative_present_value
from evaluation.methods.economics.resample import percentile_interval

__all__ = [
    "cost_per_unit",
    "cumulative_net_cost",
    "net_cost",
    "payback_interval",
    "payback_year",
    "ratio_interval",
    "share_below_zero",
]


def net_cost(staff_cost: np.ndarray | float, measure_cost_change: np.ndarray | float) -> np.ndarray:
    r"""Net cost :math:`N = S + \Delta M` (staff cost minus the saving in measure costs).

    Parameters
    ----------
    staff_cost
        Staff cost per child-year (positive: the reform adds caseworkers).
    measure_cost_change
        Change in measure costs per child-year (negative: savings).

    Returns
    -------
    numpy.ndarray
        Broadcast sum.
    """
    return np.asarray(staff_cost, dtype="float64") + np.asarray(measure_cost_change, dtype="float64")


def cumulative_net_cost(net_by_year: np.ndarray, *, rate: float) -> np.ndarray:
    """Return the running present value of net costs along the last axis (follow-up years).

    Parameters
    ----------
    net_by_year
        Net cost by follow-up year on the last axis.
    rate
        Yearly discount rate.

    Returns
    -------
    numpy.ndarray
        :math:`C_E` for each :math:`E`.
    """
    return cumulative_present_value(net_by_year, rate=rate)


def payback_year(cumulative: np.ndarray) -> np.ndarray:
    """First follow-up year (1 = adoption year) with cumulative net cost at or below zero.

    Parameters
    ----------
    cumulative
        :func:`cumulative_net_cost`, follow-up years on the last axis.

    Returns
    -------
    numpy.ndarray
        Shape of ``cumulative`` without its last axis; NaN where the cost is not repaid within the
        follow-up (or the input is NaN).
    """
    c = np.asarray(cumulative, dtype="float64")
    repaid = c <= 0
    first = np.argmax(repaid, axis=-1).astype("float64") + 1.0
    return np.where(repaid.any(axis=-1), first, np.nan)


def payback_interval(payback_draws: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval of the replications' payback years; a missing bound means "later than year H".

    Parameters
    ----------
    payback_draws
        :func:`payback_year` of each bootstrap replication; NaN for a replication that does not pay back
        within the follow-up (leave out replications whose costs could not be estimated beforehand).
    alpha
        One minus the confidence level.

    Returns
    -------
    tuple of float
        ``(low, high)``: the ``alpha/2`` and ``1 - alpha/2`` quantiles (``inverted_cdf``: always a year
        of some replication), a replication without payback ranked after every year; a bound that falls
        on such a replication is NaN ("later than year H"). Both NaN when there are no replications.
    """
    v = np.where(np.isnan(np.asarray(payback_draws, dtype="float64")), np.inf, payback_draws)
    if not v.size:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return (float(lo) if np.isfinite(lo) else float("nan")), (float(hi) if np.isfinite(hi) else float("nan"))


def share_below_zero(draws: np.ndarray) -> float:
    """Share of the non-missing draws that are below zero (e.g. the probability that the reform saves money).

    Parameters
    ----------
    draws
        Bootstrap draws of a net cost; NaN are left out.

    Returns
    -------
    float
        NaN when no draw is finite.
    """
    v = np.asarray(draws, dtype="float64")
    v = v[~np.isnan(v)]
    return float(np.mean(v < 0)) if v.size else float("nan")


def cost_per_unit(net: np.ndarray | float, gain: np.ndarray | float) -> np.ndarray:
    """Incremental cost-effectiveness ratio :math:`N / G` (NaN where the gain is zero).

    Parameters
    ----------
    net
        Net cost per child-year.
    gain
        Effect gained per child-year (e.g. ``-(SDQ effect)``: points fewer difficulties).

    Returns
    -------
    numpy.ndarray
        DKK per unit gained.
    """
    n = np.asarray(net, dtype="float64")
    g = np.asarray(gain, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g != 0, n / np.where(g != 0, g, 1.0), np.nan)


def ratio_interval(net_draws: np.ndarray, gain_draws: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval of :math:`N / G` from joint draws, or NaN bounds when it is unbounded.

    Parameters
    ----------
    net_draws, gain_draws
        Joint bootstrap draws of net cost and gain (same length).
    alpha
        One minus the confidence level.

    Returns
    -------
    tuple of float
        ``(low, high)``; both NaN when at least ``alpha / 2`` of the finite draws have a gain of zero or less.
    """
    n = np.asarray(net_draws, dtype="float64")
    g = np.asarray(gain_draws, dtype="float64")
    ok = ~(np.isnan(n) | np.isnan(g))
    if not ok.any() or np.mean(g[ok] <= 0) >= alpha / 2:
        return float("nan"), float("nan")
    return percentile_interval(cost_per_unit(n[ok], g[ok]), alpha=alpha)
