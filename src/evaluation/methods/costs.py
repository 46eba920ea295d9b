"""Cost of a child-year from its placement and preventive spells: one definition for truth and analysis.

The cost of a child in a calendar year is the sum over the child's spells of the
share of the year the spell covers times the yearly unit price of the spell's
group::

    cost(i, t) = sum_s  days(s inside year t) / days(year t) * price[group(s)]

where ``group`` is ``network``, ``foster``, ``institution``, ``residential`` or
``other`` for placement spells (from :data:`evaluation.contract.codes.PLACEMENT_GROUP`)
and ``preventive`` for preventive spells. Prices are ``prices.items[group].dkk_per_year``
in ``prices.price_year`` prices, so costs are in fixed prices. Ongoing spells (missing
end date) run to 31 December of the last year asked for. The synthetic registry uses
these functions for ``truth.json`` and for the micro-costs behind the municipal
accounts; the analysis uses them on ingested extracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.contract.codes import PLACEMENT_GROUP
from evaluation.errors import ConfigError, ExtractValidationError

COST_GROUPS = ("network", "foster", "institution", "residential", "other", "preventive")


def spell_groups(spells: pd.DataFrame) -> pd.Series:
    """Return the cost group of each spell.

    Parameters
    ----------
    spells
        Spells with a ``placement_type`` column (placement spells; missing for other rows)
        and/or a ``measure`` column (preventive spells).

    Returns
    -------
    pandas.Series
        Group names aligned with ``spells``.

    Raises
    ------
    ExtractValidationError
        When a row is neither a placement (known ``placement_type``) nor a preventive spell.
    """
    n = len(spells)
    ptype = spells["placement_type"] if "placement_type" in spells else pd.Series([pd.NA] * n, index=spells.index)
    measure = spells["measure"] if "measure" in spells else pd.Series([pd.NA] * n, index=spells.index)
    is_placement = ptype.notna().to_numpy()
    codes = pd.to_numeric(ptype, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    lookup = {float(k): v for k, v in PLACEMENT_GROUP.items()}
    group = np.array([lookup.get(c, "") if p else "" for c, p in zip(codes, is_placement, strict=True)], dtype=object)
    group[~is_placement & measure.notna().to_numpy()] = "preventive"
    bad = group == ""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ExtractValidationError(
            f"spells: row {row} has placement_type {ptype.iloc[row]!r} and measure {measure.iloc[row]!r}; "
            "a spell needs a known placement_type (placement) or a measure (preventive) to be costed."
        )
    return pd.Series(group, index=spells.index, dtype=object)


def spell_year_costs(spells: pd.DataFrame, prices: Mapping[str, Any], years: Iterable[int]) -> pd.DataFrame:
    """Expand spells to the calendar years in ``years`` they overlap, with days and cost.

    Parameters
    ----------
    spells
        Ingested spells: ``person_id, start_date, end_date`` (NaT while ongoing) and
        ``placement_type`` and/or ``measure``.
    prices
        The ``prices`` section of the config (``items.<group>.dkk_per_year``).
    years
        Calendar years to cost; ongoing spells run to 31 December of the last one.

    Returns
    -------
    pandas.DataFrame
        ``spell`` (row position in ``spells``), ``person_id, year, group, days, cost``,
        one row per spell and overlapped year, in spell and year order.

    Raises
    ------
    ConfigError
        When a group has no price.
    ExtractValidationError
        When a spell ends before it starts or cannot be grouped.
    """
    years = sorted(int(y) for y in years)
    cols = ["spell", "person_id", "year", "group", "days", "cost"]
    if not years or spells.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("days", "cost") else "int64") for c in cols})
    items = prices.get("items", {})
    price = {}
    for g in COST_GROUPS:
        if g not in items or "dkk_per_year" not in items[g]:
            raise ConfigError(
                f"config prices.items.{g}.dkk_per_year is missing; every cost group needs a yearly price."
            )
        price[g] = float(items[g]["dkk_per_year"])
    group = spell_groups(spells).to_numpy()
    start = pd.to_datetime(spells["start_date"]).to_numpy().astype("datetime64[D]")
    open_end = np.datetime64(f"{years[-1]}-12-31")
    end = pd.to_datetime(spells["end_date"]).to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end), open_end, end)
    bad = end < start
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ExtractValidationError(
            f"spells: row {row} (person {spells['person_id'].iloc[row]}) ends {end[row]} before it starts "
            f"{start[row]}; correct the dates in the extract."
        )
    y0 = np.maximum(start.astype("datetime64[Y]").astype(np.int64) + 1970, years[0])
    y1 = np.minimum(end.astype("datetime64[Y]").astype(np.int64) + 1970, years[-1])
    n_years = np.maximum(y1 - y0 + 1, 0)
    idx = np.repeat(np.arange(len(spells)), n_years)
    year = y0[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n_years) - n_years, n_years))
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    next_jan1 = (year + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    lo = np.maximum(start[idx], jan1)
    hi = np.minimum(end[idx] + 1, next_jan1)
    days = (hi - lo).astype(np.int64)
    year_days = (next_jan1 - jan1).astype(np.int64)
    out = pd.DataFrame(
        {
            "spell": idx,
            "person_id": spells["person_id"].to_numpy()[idx],
            "year": year.astype(np.int64),
            "group": group[idx],
            "days": days.astype(float),
            "cost": days / year_days * np.array([price[g] for g in group])[idx] if len(idx) else np.zeros(0),
        }
    )
    in_years = out["year"].isin(years) & (out["days"] > 0)
    return out.loc[in_years].reset_index(drop=True)


def child_year_costs(spells: pd.DataFrame, prices: Mapping[str, Any], years: Iterable[int]) -> pd.DataFrame:
    """Cost of each child-year with at least one spell (module docstring gives the formula).

    Parameters
    ----------
    spells
        Ingested placement and/or preventive spells (readable field names).
    prices
        The ``prices`` section of the config.
    years
        Calendar years to cost.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year, cost`` (DKK per year, price-year prices), one row per child-year
        with a spell, sorted by person and year. Child-years without spells cost 0 and are
        not listed.
    """
    per = spell_year_costs(spells, prices, years)
    out = per.groupby(["person_id", "year"], as_index=False, sort=True)["cost"].sum()
    return out.reset_index(drop=True)
