r"""Reconciliation of the micro-costing with the municipal accounts (main function 5.28).

Micro-costs
    The cost of every placement and preventive spell in each calendar year,
    :func:`evaluation.methods.costs.spell_year_costs` (days inside the year / days of
    the year x the group's yearly unit price, in ``prices.price_year`` prices),
    summed by municipality, year and account function. Placements are booked
    by their placement type (:data:`ACCOUNT_FUNCTION_OF_TYPE`: family care
    5.28.20, institutions 5.28.23, secure units 5.28.24, opholdssteder and other
    5.28.25) and preventive measures on 5.28.21. Only 5.28.21 is a verified
    sub-function number; the others are an *assumption* (``domain.md``) to be
    confirmed against the Social- og Boligministeriet's budget and accounts
    system before real accounts are reconciled.
Accounts
    ``regnskab``: DKK 1,000 in current prices by municipality, year and
    function, converted to DKK in fixed prices with the price index
    (:func:`evaluation.methods.economics.prices.deflate`).
Share explained
    :math:`S = \sum \text{micro} / \sum \text{accounts}` over the cells of a
    group (year x function, and overall). The accounts also hold spending the
    micro-costing cannot see (administration, aftercare over 17, other
    measures), so :math:`S < 1` is expected; the report states how much of the
    accounted spending the micro-costing explains.

Cells built on fewer than ``min_cell`` children have their micro-cost and
share suppressed (disclosure control); the totals are over all cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.contract.codes import ACCOUNT_FUNCTION, ACCOUNT_FUNCTION_OF_TYPE
from evaluation.contract.results import columns_of
from evaluation.errors import ExtractValidationError
from evaluation.methods.costs import spell_year_costs
from evaluation.methods.economics.prices import deflate

__all__ = ["ACCOUNT_FUNCTION_OF_TYPE", "PREVENTIVE_FUNCTION", "RECONCILIATION_COLUMNS", "micro_costs", "reconcile"]

#: Account function of preventive measures.
PREVENTIVE_FUNCTION = "5.28.21"

RECONCILIATION_COLUMNS = columns_of("results/{release}/economics/reconciliation.csv")


def child_costs(
    placements: pd.DataFrame, preventive: pd.DataFrame, prices: Mapping[str, Any], years: Iterable[int]
) -> pd.DataFrame:
    """Micro-costs of each child by municipality, year and account function (microdata: keep under ``data/``).

    Parameters
    ----------
    placements
        Ingested placement spells: ``person_id, municipality, placement_type, start_date, end_date``.
    preventive
        Ingested preventive spells: ``person_id, municipality, measure, start_date, end_date``.
    prices
        The ``prices`` config section.
    years
        Years to cost (ongoing spells run to 31 December of the last).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, function, person_id, micro_dkk`` (DKK in ``prices.price_year`` prices), one row
        per child and cell, sorted.

    Raises
    ------
    ExtractValidationError
        When a placement type has no account function.
    """
    place = placements.drop(columns=["measure"], errors="ignore")
    prev = preventive.drop(columns=["placement_type"], errors="ignore")
    spells = pd.concat([place, prev], ignore_index=True, sort=False)
    per = spell_year_costs(spells, prices, years)
    cols = ["municipality", "year", "function", "person_id", "micro_dkk"]
    if per.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    idx = per["spell"].to_numpy()
    ptype = pd.to_numeric(spells["placement_type"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[idx]
    is_placement = ~np.isnan(ptype)
    lookup = {float(k): v for k, v in ACCOUNT_FUNCTION_OF_TYPE.items()}
    function = np.full(len(per), PREVENTIVE_FUNCTION, dtype=object)
    function[is_placement] = [lookup.get(c, "") for c in ptype[is_placement]]
    unknown = function == ""
    if unknown.any():
        code = ptype[np.flatnonzero(unknown)[0]]
        raise ExtractValidationError(
            f"anbringelser_forloeb: placement type {code:g} has no account function; add it to "
            "evaluation.steps.economics.accounts.ACCOUNT_FUNCTION_OF_TYPE."
        )
    frame = pd.DataFrame(
        {
            "municipality": spells["municipality"].to_numpy(dtype=np.int64)[idx],
            "year": per["year"].to_numpy(dtype=np.int64),
            "function": function.astype(str),
            "person_id": per["person_id"].to_numpy(),
            "micro_dkk": per["cost"].to_numpy(dtype="float64"),
        }
    )
    return frame.groupby(cols[:4], as_index=False, sort=True)["micro_dkk"].sum()[cols]


def micro_costs(
    placements: pd.DataFrame, preventive: pd.DataFrame, prices: Mapping[str, Any], years: Iterable[int]
) -> pd.DataFrame:
    """Micro-costs by municipality, year and account function (:func:`child_costs` summed over children).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, function, micro_dkk, n_children`` (DKK in ``prices.price_year`` prices;
        distinct children with a costed spell), sorted.
    """
    return aggregate_child_costs(child_costs(placements, preventive, prices, years))


def aggregate_child_costs(children: pd.DataFrame) -> pd.DataFrame:
    """Sum :func:`child_costs` to ``municipality, year, function, micro_dkk, n_children``."""
    cols = ["municipality", "year", "function", "micro_dkk", "n_children"]
    if children.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    out = children.groupby(["municipality", "year", "function"], as_index=False, sort=True).agg(
        micro_dkk=("micro_dkk", "sum"), n_children=("person_id", "nunique")
    )
    return out[cols]


def dominated_cells(children: pd.DataFrame, min_cell: int) -> set[tuple[int, str]]:
    """Return the year-function cells whose micro-cost total is dominated by one or two children.

    Applies the (n, k) dominance rule (:func:`evaluation.disclosure.dominance`: the largest child
    above 50 % of the total, or the two largest above 85 %) to each child's cost summed over
    municipalities, by year and function.

    Returns
    -------
    set of (int, str)
        ``(year, function)`` of the dominated cells (cells with too few children are left to the threshold).
    """
    from evaluation.disclosure import dominance

    if children.empty:
        return set()
    per_child = children.groupby(["year", "function", "person_id"], as_index=False, sort=True)["micro_dkk"].sum()
    per_child["micro_dkk"] = per_child["micro_dkk"].clip(lower=0.0)
    rule = dominance(per_child, by=["year", "function"], value="micro_dkk", min_cell=min_cell)
    hit = rule.loc[rule["rule"] == "dominance"]
    return {(int(y), str(f)) for y, f in zip(hit["year"], hit["function"], strict=True)}


def accounts_in_fixed_prices(accounts: pd.DataFrame, index: pd.Series, *, price_year: int) -> pd.DataFrame:
    """Municipal accounts in DKK of ``price_year`` prices.

    Parameters
    ----------
    accounts
        Ingested ``regnskab``: ``municipality, year, function, amount`` (DKK 1,000, current prices).
    index
        Price index by year.
    price_year
        Target price year.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, function, accounts_dkk``, only the functions of
        :data:`evaluation.contract.codes.ACCOUNT_FUNCTION`.
    """
    acc = accounts.loc[accounts["function"].astype(str).isin(list(ACCOUNT_FUNCTION))]
    return pd.DataFrame(
        {
            "municipality": acc["municipality"].to_numpy(dtype=np.int64),
            "year": acc["year"].to_numpy(dtype=np.int64),
            "function": acc["function"].astype(str).to_numpy(),
            "accounts_dkk": deflate(acc["amount"].to_numpy() * 1000.0, acc["year"], index, price_year=price_year),
        }
    )


def reconcile(
    micro: pd.DataFrame,
    accounts: pd.DataFrame,
    index: pd.Series,
    *,
    price_year: int,
    min_cell: int = 5,
    dominated: set[tuple[int, str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set the micro-costs beside the accounts: by municipality-year-function and by year and function.

    Parameters
    ----------
    micro
        :func:`micro_costs`.
    accounts
        Ingested ``regnskab`` (DKK 1,000, current prices).
    index
        Price index by year.
    price_year
        The price year of the micro-costs.
    min_cell
        Disclosure threshold: in the summary, a year-function cell with fewer children has its
        micro-cost and share suppressed (missing).
    dominated
        ``(year, function)`` cells whose micro-cost is dominated by one or two children
        (:func:`dominated_cells`): suppressed like small cells, with a complementary cell.

    Returns
    -------
    cells : pandas.DataFrame
        ``municipality, year, function, accounts_dkk, micro_dkk, n_children, share_explained`` for every
        account cell of the years with micro-costs (microdata-level detail: keep under ``data/``).
    summary : pandas.DataFrame
        :data:`RECONCILIATION_COLUMNS` by year and function, plus rows ``function = "total"`` by year
        and one row ``year = 0, function = "total"`` over everything.
    """
    acc = accounts_in_fixed_prices(accounts, index, price_year=price_year)
    years = set(micro["year"].astype(int).tolist()) if len(micro) else set()
    acc = acc.loc[acc["year"].isin(years)]
    keys = ["municipality", "year", "function"]
    cells = acc.merge(micro, on=keys, how="outer").fillna({"accounts_dkk": 0.0, "micro_dkk": 0.0, "n_children": 0})
    cells["n_children"] = cells["n_children"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        cells["share_explained"] = np.where(
            cells["accounts_dkk"] > 0, cells["micro_dkk"] / cells["accounts_dkk"], np.nan
        )
    cells = cells.sort_values(keys).reset_index(drop=True)

    def summarise(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        out = frame.groupby(by, as_index=False, sort=True).agg(
            accounts_dkk=("accounts_dkk", "sum"), micro_dkk=("micro_dkk", "sum"), n_children=("n_children", "sum")
        )
        out["share_explained"] = out["micro_dkk"] / out["accounts_dkk"].where(out["accounts_dkk"] > 0)
        return out

    by_function = summarise(cells, ["year", "function"])
    by_year = summarise(cells, ["year"]).assign(function="total")
    # A child may have spells in several functions: the largest function count is a lower bound
    # of the distinct children of a year, so totals use it (never an inflated count).
    by_year["n_children"] = by_function.groupby("year", sort=True)["n_children"].max().to_numpy()
    overall = summarise(cells.assign(all=0), ["all"]).drop(columns="all").assign(year=0, function="total")
    overall["n_children"] = by_year["n_children"].max() if len(by_year) else 0
    by_function = _suppress(by_function, int(min_cell), dominated or set())
    by_year = _suppress(by_year, int(min_cell))
    overall = _suppress(overall, int(min_cell))
    summary = pd.concat([by_function, by_year, overall], ignore_index=True)
    summary["year"] = summary["year"].astype("int64")
    summary = summary.sort_values(["year", "function"]).reset_index(drop=True)
    return cells, summary[RECONCILIATION_COLUMNS]


def _suppress(frame: pd.DataFrame, min_cell: int, dominated: set[tuple[int, str]] = frozenset()) -> pd.DataFrame:
    """Suppress micro-costs of cells with fewer than ``min_cell`` children or dominated, and a complementary cell.

    When exactly one function cell of a year is suppressed, the smallest other cell of that year
    is suppressed too, so that the year's total does not reveal the suppressed value.
    """
    out = frame.copy()
    small = out["n_children"] < min_cell
    if dominated and "function" in out:
        keys = list(zip(out["year"].astype(int), out["function"].astype(str), strict=True))
        small |= pd.Series([k in dominated for k in keys], index=out.index)
    if "function" in out and (out["function"] != "total").all():
        for _, rows in out.loc[small].groupby("year"):
            if len(rows) == 1:
                year = rows["year"].iloc[0]
                others = out.loc[(out["year"] == year) & ~small]
                if len(others):
                    small.loc[others["n_children"].idxmin()] = True
    out.loc[small, ["micro_dkk", "share_explained"]] = np.nan
    out["n_children"] = out["n_children"].astype("Int64").mask(small, pd.NA)
    return out
