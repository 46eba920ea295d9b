r"""Price table, price index and conversion of amounts to one price year.

Costs in the evaluation are in *fixed prices* of one price year :math:`p`
(``prices.price_year``). An amount :math:`A_t` in current prices of year
:math:`t` is converted with a price index :math:`I` by

.. math:: A_t^{(p)} = A_t \, \frac{I_p}{I_t},

the usual deflation of a nominal series (Finansministeriet, *Vejledning i
samfundsøkonomiske konsekvensvurderinger*, 2017, section 3.3: all amounts in
one price level). The index is a table by year with its source in config
(``economics.price_index``: ``values`` year -> index, ``source``); its base
(which year equals 100) does not matter, only ratios are used. For real data
use the index the accounts are budgeted with (KL/Finansministeriet's *pris- og
lønskøn* for municipal service, or DST's ``PRIS113``); for the synthetic
registry the index is its constant growth (``synthetic.model.price_growth``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError
from evaluation.methods.costs import COST_GROUPS

__all__ = ["constant_growth_index", "deflate", "deflator", "price_index", "price_table", "rebase_prices"]


def price_index(index: Mapping[str, Any]) -> pd.Series:
    """Read a price index table from config.

    Parameters
    ----------
    index
        ``{"values": {year: index, ...}, "source": "..."}``; years may be integers or
        strings of four digits (YAML and JSON-schema keys are strings).

    Returns
    -------
    pandas.Series
        Index values (float) by year (int), sorted by year.

    Raises
    ------
    ConfigError
        When ``values`` is missing or empty, a year is not a whole number or a value is not positive.
    """
    values = index.get("values") if isinstance(index, Mapping) else None
    if not values:
        raise ConfigError(
            "economics.price_index.values is missing or empty: give the index by year, e.g. {2018: 98.0, 2019: 100.0}."
        )
    years, levels = [], []
    for year, level in values.items():
        try:
            years.append(int(year))
        except (TypeError, ValueError):
            raise ConfigError(f"economics.price_index.values: the key {year!r} is not a year.") from None
        if level is None or not float(level) > 0:
            raise ConfigError(f"economics.price_index.values.{year} = {level!r}: an index value must be positive.")
        levels.append(float(level))
    return pd.Series(levels, index=pd.Index(years, dtype="int64", name="year"), name="index").sort_index()


def constant_growth_index(years: Iterable[int], *, growth: float, base_year: int) -> pd.Series:
    """Index growing by ``growth`` a year, equal to 100 in ``base_year``: :math:`I_t = 100 (1+g)^{t-b}`.

    Parameters
    ----------
    years
        Years of the index.
    growth
        Yearly growth rate (0.02 for 2 %).
    base_year
        Year with index 100.

    Returns
    -------
    pandas.Series
        As :func:`price_index`.
    """
    yrs = np.array(sorted(int(y) for y in years), dtype=np.int64)
    return pd.Series(
        100.0 * (1.0 + float(growth)) ** (yrs - int(base_year)),
        index=pd.Index(yrs, dtype="int64", name="year"),
        name="index",
    )


def deflator(years: Iterable[int] | np.ndarray | pd.Series, index: pd.Series, *, price_year: int) -> np.ndarray:
    """Factors :math:`I_p / I_t` that convert current prices of each year to ``price_year`` prices.

    Parameters
    ----------
    years
        Year of each amount.
    index
        Price index by year (:func:`price_index`).
    price_year
        Target price year :math:`p`.

    Returns
    -------
    numpy.ndarray
        One factor per element of ``years``.

    Raises
    ------
    ConfigError
        When the index lacks a year that is needed (the message lists them).
    """
    yrs = np.asarray(pd.Series(years), dtype=np.int64)
    needed = set(np.unique(yrs).tolist()) | {int(price_year)}
    missing = sorted(needed - set(index.index.tolist()))
    if missing:
        raise ConfigError(
            f"economics.price_index.values has no value for {missing}; add these years to the index "
            f"(it covers {int(index.index.min())}-{int(index.index.max())})."
        )
    levels = index.reindex(yrs).to_numpy(dtype="float64")
    return float(index.loc[int(price_year)]) / levels


def deflate(
    amounts: np.ndarray | pd.Series, years: np.ndarray | pd.Series, index: pd.Series, *, price_year: int
) -> np.ndarray:
    """Convert amounts in current prices of ``years`` to ``price_year`` prices (module docstring).

    Parameters
    ----------
    amounts
        Amounts in current prices.
    years
        Year of each amount.
    index
        Price index by year.
    price_year
        Target price year.

    Returns
    -------
    numpy.ndarray
        Amounts in fixed ``price_year`` prices.
    """
    return np.asarray(amounts, dtype="float64") * deflator(years, index, price_year=price_year)


def rebase_prices(prices: Mapping[str, Any], index: pd.Series, *, price_year: int) -> dict[str, Any]:
    """Return the ``prices`` config section with every unit price moved to ``price_year`` prices.

    Parameters
    ----------
    prices
        ``{"price_year": p0, "items": {group: {"dkk_per_year": ..., "source": ...}}}``.
    index
        Price index by year.
    price_year
        The new price year.

    Returns
    -------
    dict
        A copy with ``price_year`` replaced and each ``dkk_per_year`` multiplied by :math:`I_p / I_{p_0}`.
    """
    factor = float(deflator([int(prices["price_year"])], index, price_year=price_year)[0])
    items = {g: {**dict(v), "dkk_per_year": float(v["dkk_per_year"]) * factor} for g, v in prices["items"].items()}
    return {**dict(prices), "price_year": int(price_year), "items": items}


def price_table(prices: Mapping[str, Any]) -> pd.DataFrame:
    """Return the unit prices as a table for the report.

    Parameters
    ----------
    prices
        The ``prices`` config section.

    Returns
    -------
    pandas.DataFrame
        ``group, dkk_per_year, price_year, source`` in the order of :data:`evaluation.methods.costs.COST_GROUPS`.

    Raises
    ------
    ConfigError
        When a cost group has no price.
    """
    items = prices.get("items", {})
    missing = [g for g in COST_GROUPS if g not in items]
    if missing:
        raise ConfigError(f"config prices.items lacks {missing}; every cost group needs a price with a source.")
    return pd.DataFrame(
        {
            "group": list(COST_GROUPS),
            "dkk_per_year": [float(items[g]["dkk_per_year"]) for g in COST_GROUPS],
            "price_year": int(prices["price_year"]),
            "source": [str(items[g].get("source", "")) for g in COST_GROUPS],
        }
    )
