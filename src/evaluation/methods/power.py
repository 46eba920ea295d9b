r"""Minimum detectable effects of a clustered difference-in-differences design, by formula and by simulation.

Formula (Bloom 1995, "Minimum Detectable Effects: A Simple Way to Report the
Statistical Power of Experimental Designs", *Evaluation Review* 19(5), 547-556;
Duflo, Glennerster and Kremer 2007, "Using Randomization in Development
Economics Research: A Toolkit", *Handbook of Development Economics* 4, eq. 8-11):

.. math:: \mathrm{MDE} = (t_{1-\alpha/2} + t_{1-\kappa})\,\sigma
          \sqrt{\frac{1 + (m-1)\rho}{P(1-P)\,G\,m}\Big(\frac1{T_{pre}} + \frac1{T_{post}}\Big)}

with G clusters (municipalities), P the share treated, m children per cluster
and period, intra-cluster correlation :math:`\rho`, outcome SD :math:`\sigma`,
power :math:`\kappa` and t quantiles on G - 2 degrees of freedom. The last
factor is the DiD's: the contrast of post- and pre-period means of independent
cluster-period cells (repeated cross-sections; a panel with persistent child
effects needs less, so this is conservative). With one pre and one post period
it doubles the variance of a single post-period comparison.

Simulation: :func:`power_by_simulation` draws data from a user's
data-generating callable for each effect size and counts rejections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError

__all__ = ["mde_formula", "power_formula", "power_by_simulation", "power_table", "mde_from_power_curve"]


def _check(n_clusters: int, share_treated: float, cluster_size: float, icc: float) -> None:
    if n_clusters < 3:
        raise EvaluationError(f"power: need at least 3 clusters, not {n_clusters}.")
    if not 0 < share_treated < 1:
        raise EvaluationError(f"power: the share treated must lie strictly between 0 and 1, not {share_treated}.")
    if cluster_size < 1:
        raise EvaluationError(f"power: cluster size must be at least 1, not {cluster_size}.")
    if not 0 <= icc <= 1:
        raise EvaluationError(f"power: the intra-cluster correlation must lie in [0, 1], not {icc}.")


def _se(
    n_clusters: int, share_treated: float, cluster_size: float, icc: float, sd: float, pre: int, post: int
) -> float:
    design_effect = 1 + (cluster_size - 1) * icc
    var = sd**2 * design_effect / (share_treated * (1 - share_treated) * n_clusters * cluster_size)
    return float(np.sqrt(var * (1 / pre + 1 / post)))


def mde_formula(
    n_clusters: int,
    share_treated: float,
    cluster_size: float,
    icc: float,
    *,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    pre_periods: int = 1,
    post_periods: int = 1,
) -> float:
    """Minimum detectable effect of a clustered DiD (module docstring formula).

    Parameters
    ----------
    n_clusters
        G, municipalities in the analysis.
    share_treated
        P, share of them that adopt.
    cluster_size
        m, children per municipality and period.
    icc
        Intra-cluster correlation of the outcome.
    sd
        Outcome standard deviation (the MDE is in outcome units; 1 gives it in SDs).
    alpha
        Two-sided significance level.
    power
        Power (1 - type II error).
    pre_periods, post_periods
        Periods before and after adoption.

    Returns
    -------
    float
    """
    _check(n_clusters, share_treated, cluster_size, icc)
    df = n_clusters - 2
    mult = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    return float(mult * _se(n_clusters, share_treated, cluster_size, icc, sd, pre_periods, post_periods))


def power_formula(
    effect: float,
    n_clusters: int,
    share_treated: float,
    cluster_size: float,
    icc: float,
    *,
    sd: float = 1.0,
    alpha: float = 0.05,
    pre_periods: int = 1,
    post_periods: int = 1,
) -> float:
    """Power to detect ``effect`` (inverse of :func:`mde_formula`; the far tail is ignored, as Bloom 1995)."""
    _check(n_clusters, share_treated, cluster_size, icc)
    df = n_clusters - 2
    se = _se(n_clusters, share_treated, cluster_size, icc, sd, pre_periods, post_periods)
    return float(stats.t.cdf(abs(effect) / se - stats.t.ppf(1 - alpha / 2, df), df))


def power_by_simulation(
    draw: Callable[[float, np.random.Generator], float],
    effects: Sequence[float],
    *,
    n_sims: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Power at each effect size by simulation.

    Parameters
    ----------
    draw
        ``draw(effect, rng) -> p_value``: simulate one data set with the given true effect,
        analyse it with the chosen estimator and inference, and return the p-value.
    effects
        True effects to evaluate.
    n_sims
        Simulations per effect.
    alpha
        Significance level.
    seed
        Root seed; each effect gets its own child generator (reproducible and independent).

    Returns
    -------
    pandas.DataFrame
        ``effect, power, mc_se, n_sims``; ``mc_se`` is the binomial Monte Carlo standard error.
    """
    children = np.random.SeedSequence(seed).spawn(len(effects))
    rows = []
    for effect, child in zip(effects, children, strict=True):
        rng = np.random.default_rng(child)
        p = np.array([draw(float(effect), rng) for _ in range(n_sims)])
        power = float(np.mean(p < alpha))
        rows.append(
            {"effect": float(effect), "power": power, "mc_se": np.sqrt(power * (1 - power) / n_sims), "n_sims": n_sims}
        )
    return pd.DataFrame(rows)


def mde_from_power_curve(curve: pd.DataFrame, *, power: float = 0.8) -> float:
    """Smallest effect reaching ``power`` on a simulated power curve, by linear interpolation (NaN if none)."""
    c = curve.sort_values("effect")
    above = np.flatnonzero(c["power"].to_numpy() >= power)
    if above.size == 0:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(c["effect"].iloc[0])
    e0, e1 = c["effect"].iloc[i - 1], c["effect"].iloc[i]
    p0, p1 = c["power"].iloc[i - 1], c["power"].iloc[i]
    return float(e0 + (power - p0) * (e1 - e0) / (p1 - p0))


def power_table(
    n_clusters: int,
    treated_clusters: Sequence[int],
    cluster_sizes: Sequence[float],
    iccs: Sequence[float],
    *,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    pre_periods: int = 1,
    post_periods: int = 1,
) -> pd.DataFrame:
    """MDE by formula over a grid of designs (the report's power table and figure data).

    Returns
    -------
    pandas.DataFrame
        ``treated_clusters, n_clusters, cluster_size, icc, mde, mde_sd`` (``mde_sd`` = MDE in SD units).
    """
    rows = []
    for g1 in treated_clusters:
        for m in cluster_sizes:
            for icc in iccs:
                mde = mde_formula(
                    n_clusters,
                    g1 / n_clusters,
                    m,
                    icc,
                    sd=sd,
                    alpha=alpha,
                    power=power,
                    pre_periods=pre_periods,
                    post_periods=post_periods,
                )
                rows.append(
                    {
                        "treated_clusters": int(g1),
                        "n_clusters": int(n_clusters),
                        "cluster_size": float(m),
                        "icc": float(icc),
                        "mde": mde,
                        "mde_sd": mde / sd,
                    }
                )
    return pd.DataFrame(rows)
