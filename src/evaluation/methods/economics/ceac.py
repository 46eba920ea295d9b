r"""Cost-effectiveness acceptability curve from joint bootstrap draws of cost and effect.

For a willingness to pay :math:`\lambda` per unit of effect gained, the reform is
cost-effective in a draw when its net monetary benefit is positive,
:math:`\lambda G_b - N_b > 0`. The curve is the share of draws in which it is,

.. math:: \mathrm{CEAC}(\lambda) = \frac{1}{B}\sum_{b=1}^{B} 1\{\lambda G_b - N_b > 0\},

(van Hout, Al, Gordon and Rutten 1994, *Health Economics* 3(5), 309-319;
Fenwick, Claxton and Sculpher 2001, *Health Economics* 10(8), 779-787). At
:math:`\lambda = 0` it is the probability that the reform saves money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError

__all__ = ["CEAC_COLUMNS", "acceptability_curve", "wtp_grid"]

CEAC_COLUMNS = [c for c in columns_of("results/{release}/economics/ceac.csv") if c != "unit"]


def wtp_grid(max_wtp: float, steps: int) -> np.ndarray:
    """Evenly spaced willingness-to-pay values from 0 to ``max_wtp`` (``steps`` values).

    Parameters
    ----------
    max_wtp
        Largest willingness to pay (DKK per unit of effect).
    steps
        Number of values (at least 2).

    Returns
    -------
    numpy.ndarray
    """
    if not (float(max_wtp) > 0 and int(steps) >= 2):
        raise ConfigError(f"economics.ceac: max_wtp ({max_wtp}) must be positive and steps ({steps}) at least 2.")
    return np.linspace(0.0, float(max_wtp), int(steps))


def acceptability_curve(net_draws: np.ndarray, gain_draws: np.ndarray, wtp: np.ndarray) -> pd.DataFrame:
    """Probability that the reform is cost-effective at each willingness to pay (module docstring).

    Parameters
    ----------
    net_draws
        Bootstrap draws of net cost per child-year.
    gain_draws
        The same draws' effect gained per child-year (e.g. SDQ points fewer).
    wtp
        Willingness-to-pay values.

    Returns
    -------
    pandas.DataFrame
        :data:`CEAC_COLUMNS`; draws with a missing cost or effect are left out (``n_draws`` counts the rest).
    """
    n = np.asarray(net_draws, dtype="float64")
    g = np.asarray(gain_draws, dtype="float64")
    ok = ~(np.isnan(n) | np.isnan(g))
    n, g = n[ok], g[ok]
    lam = np.asarray(wtp, dtype="float64")
    benefit = lam[:, None] * g[None, :] - n[None, :]
    prob = (benefit > 0).mean(axis=1) if n.size else np.full(len(lam), np.nan)
    return pd.DataFrame({"wtp_dkk_per_unit": lam, "probability_cost_effective": prob, "n_draws": int(n.size)})
