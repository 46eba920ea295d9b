r"""Discounting of yearly amounts over the follow-up.

Year :math:`e = 0, 1, \dots` of the follow-up (``e = 0`` the adoption year) is
discounted by

.. math:: d_e = (1 + r)^{-e},

so amounts of the first year count in full (flows at the start of each year,
Finansministeriet 2017, section 3.4). The present value of a stream and its
running (cumulative) present value are

.. math:: PV_E = \sum_{e=0}^{E} d_e\, x_e .

The Danish standard rate for socio-economic analyses is Finansministeriet's
3.5 % a year for the first 35 years (``economics.discount_rate``; the value and
its source are a documented assumption in config, to be confirmed against the
current *Vejledning*). The follow-up here is far shorter than 35 years, so one
constant rate applies.
"""

from __future__ import annotations

import numpy as np

from evaluation.errors import ConfigError

__all__ = ["cumulative_present_value", "discount_factors", "present_value"]


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not (0.0 <= rate < 1.0):
        raise ConfigError(f"economics.discount_rate = {rate}: give a yearly rate in [0, 1), e.g. 0.035 for 3.5 %.")
    return rate


def discount_factors(n_years: int, *, rate: float) -> np.ndarray:
    """Discount factors :math:`(1+r)^{-e}` for follow-up years ``e = 0 .. n_years - 1``.

    Parameters
    ----------
    n_years
        Number of follow-up years.
    rate
        Yearly discount rate (0.035 for 3.5 %).

    Returns
    -------
    numpy.ndarray
        ``n_years`` factors, the first equal to 1.
    """
    if int(n_years) < 1:
        raise ConfigError(f"the follow-up needs at least one year, not {n_years}.")
    return (1.0 + _check_rate(rate)) ** -np.arange(int(n_years), dtype="float64")


def cumulative_present_value(flows: np.ndarray, *, rate: float) -> np.ndarray:
    """Return the running present value :math:`PV_E` of yearly flows along the last axis.

    Parameters
    ----------
    flows
        Amounts by follow-up year on the last axis (earlier axes: for example bootstrap draws).
    rate
        Yearly discount rate.

    Returns
    -------
    numpy.ndarray
        Same shape as ``flows``; element ``E`` is the discounted sum of years ``0..E``.
    """
    x = np.asarray(flows, dtype="float64")
    return np.cumsum(x * discount_factors(x.shape[-1], rate=rate), axis=-1)


def present_value(flows: np.ndarray, *, rate: float) -> np.ndarray:
    """Present value of yearly flows along the last axis (the last element of :func:`cumulative_present_value`).

    Parameters
    ----------
    flows
        Amounts by follow-up year on the last axis.
    rate
        Yearly discount rate.

    Returns
    -------
    numpy.ndarray
        ``flows`` reduced over the last axis.
    """
    return cumulative_present_value(flows, rate=rate)[..., -1]
