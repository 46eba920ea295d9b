r"""Budget consequences (budgetkonsekvensberegning) for a municipality that adopts the model.

For a municipality with :math:`K` child-years with an open case a year (its own
figure, or its number of children aged 0-17 times the national share with an
open case), budget year :math:`e + 1` after adoption brings

* extra caseworkers :math:`F = \delta K` FTE (:math:`\delta`: the effect on FTE per
  child-year with an open case, :mod:`evaluation.methods.economics.staff`),
* staff cost :math:`S = F c` with :math:`c` the cost of an FTE-year with overheads,
* change in measure costs :math:`\Delta M_e K` (the cost effect in follow-up year :math:`e`),
* net cost :math:`S + \Delta M_e K` and its running present value.

Amounts are in fixed prices of the price year, DKK. Intervals come from the same
bootstrap draws as the estimates (each draw scaled the same way). The
calculation assumes the municipality's cases respond like the average treated
case in the evaluation and that its number of open cases stays constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError
from evaluation.methods.economics.discount import cumulative_present_value
from evaluation.methods.economics.resample import percentile_interval

__all__ = ["BUDGET_COLUMNS", "budget_consequences"]

BUDGET_COLUMNS = [c for c in columns_of("results/{release}/economics/budget.csv") if c != "price_year"]


def budget_consequences(
    case_years: float,
    *,
    fte_per_case: float,
    fte_per_case_draws: np.ndarray,
    cost_per_fte: float,
    measure_change: np.ndarray,
    measure_change_draws: np.ndarray,
    rate: float,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Budget table for a municipality with ``case_years`` child-years with an open case a year.

    Parameters
    ----------
    case_years
        Child-years with an open case in the municipality per year (:math:`K`).
    fte_per_case
        Estimated extra FTE per child-year with an open case (:math:`\delta`).
    fte_per_case_draws
        Its bootstrap draws, shape ``(B,)``.
    cost_per_fte
        DKK per FTE-year with overheads.
    measure_change
        Change in measure costs per child-year by follow-up year, shape ``(H,)``.
    measure_change_draws
        Its draws, shape ``(B, H)`` (joint with ``fte_per_case_draws``).
    rate
        Yearly discount rate.
    alpha
        One minus the confidence level.

    Returns
    -------
    pandas.DataFrame
        :data:`BUDGET_COLUMNS`, items ``extra_fte, staff_cost, measure_cost_change, net_cost,
        cumulative_net_cost`` for budget years 1..H.
    """
    k = float(case_years)
    if not k > 0:
        raise ConfigError(f"economics.budget: the municipality needs a positive number of open cases, not {k}.")
    h = len(measure_change)
    point = _items(k, float(fte_per_case), float(cost_per_fte), np.asarray(measure_change, dtype="float64"), rate)
    draws = _items(
        k,
        np.asarray(fte_per_case_draws, dtype="float64")[:, None],
        float(cost_per_fte),
        np.asarray(measure_change_draws, dtype="float64"),
        rate,
    )
    units = {
        "extra_fte": "FTE",
        "staff_cost": "DKK",
        "measure_cost_change": "DKK",
        "net_cost": "DKK",
        "cumulative_net_cost": "DKK, discounted",
    }
    rows = []
    for item, unit in units.items():
        est = np.broadcast_to(point[item], (h,))
        dr = np.broadcast_to(draws[item], (draws["net_cost"].shape[0], h))
        for e in range(h):
            lo, hi = percentile_interval(dr[:, e], alpha=alpha)
            rows.append((e + 1, item, float(est[e]), lo, hi, unit))
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def _items(k: float, delta, cost_per_fte: float, change: np.ndarray, rate: float) -> dict[str, np.ndarray]:
    fte = np.asarray(delta * k, dtype="float64")
    staff = fte * cost_per_fte
    measure = change * k
    net = staff + measure
    return {
        "extra_fte": fte,
        "staff_cost": staff,
        "measure_cost_change": measure,
        "net_cost": net,
        "cumulative_net_cost": cumulative_present_value(net, rate=rate),
    }
