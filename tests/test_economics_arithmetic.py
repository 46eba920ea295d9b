"""Economics: hand-computed cost arithmetic (prices, discounting, FTEs, spells, net cost, CEAC, budget)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ConfigError, ExtractValidationError
from evaluation.methods.economics.budget import budget_consequences
from evaluation.methods.economics.ceac import acceptability_curve, wtp_grid
from evaluation.methods.economics.discount import cumulative_present_value, discount_factors, present_value
from evaluation.methods.economics.net import (
    cost_per_unit,
    cumulative_net_cost,
    net_cost,
    payback_interval,
    payback_year,
    ratio_interval,
    share_below_zero,
)
from evaluation.methods.economics.prices import constant_growth_index, deflate, price_index, price_table, rebase_prices
from evaluation.methods.economics.staff import caseworker_fte_years, cost_per_fte_year
from evaluation.steps.economics.accounts import ACCOUNT_FUNCTION_OF_TYPE, micro_costs, reconcile

PRICES = {
    "price_year": 2019,
    "items": {
        "network": {"dkk_per_year": 250000, "source": "a"},
        "foster": {"dkk_per_year": 470000, "source": "b"},
        "institution": {"dkk_per_year": 1160000, "source": "c"},
        "residential": {"dkk_per_year": 1160000, "source": "c"},
        "other": {"dkk_per_year": 300000, "source": "d"},
        "preventive": {"dkk_per_year": 90000, "source": "e"},
    },
}
INDEX = price_index({"values": {"2013": 90.0, "2018": 98.0, "2019": 100.0, "2020": 101.5}, "source": "test"})


# -- prices ----------------------------------------------------------------------------------------


def test_price_index_reads_string_and_integer_years():
    idx = price_index({"values": {2019: 100, "2018": 98.0}})
    assert idx.index.tolist() == [2018, 2019]
    assert idx.loc[2018] == 98.0


@pytest.mark.parametrize("values", [{}, {"2019": 0}, {"year": 100}])
def test_price_index_rejects_bad_tables(values):
    with pytest.raises(ConfigError):
        price_index({"values": values})


def test_deflate_to_price_year():
    # 1,000 DKK in 2018 prices is 1,000 * 100 / 98 in 2019 prices; 2020 -> 1,000 * 100 / 101.5.
    out = deflate(np.array([1000.0, 1000.0, 500.0]), np.array([2018, 2020, 2019]), INDEX, price_year=2019)
    np.testing.assert_allclose(out, [1020.408163265306, 985.2216748768473, 500.0], rtol=1e-12)


def test_deflate_names_missing_years():
    with pytest.raises(ConfigError, match=r"\[2011\]"):
        deflate(np.array([1.0]), np.array([2011]), INDEX, price_year=2019)


def test_constant_growth_index_and_rebase():
    idx = constant_growth_index(range(2017, 2021), growth=0.02, base_year=2019)
    np.testing.assert_allclose(idx.to_numpy(), [100 / 1.0404, 100 / 1.02, 100.0, 102.0], rtol=1e-12)
    moved = rebase_prices(PRICES, idx, price_year=2020)
    assert moved["price_year"] == 2020
    assert moved["items"]["foster"]["dkk_per_year"] == pytest.approx(470000 * 1.02, rel=1e-12)
    assert moved["items"]["foster"]["source"] == "b"
    assert PRICES["items"]["foster"]["dkk_per_year"] == 470000  # the input is not changed


def test_price_table_keeps_sources_in_group_order():
    table = price_table(PRICES)
    assert table["group"].tolist() == ["network", "foster", "institution", "residential", "other", "preventive"]
    assert table.loc[table["group"] == "network", "source"].item() == "a"
    assert (table["price_year"] == 2019).all()


# -- discounting -----------------------------------------------------------------------------------


def test_discount_factors_and_present_value_by_hand():
    # 1/1.035 = 0.966183574879227, 1/1.035^2 = 0.933510700366403
    np.testing.assert_allclose(discount_factors(3, rate=0.035), [1.0, 0.966183574879227, 0.933510700366403])
    assert present_value(np.array([100.0, 100.0, 100.0]), rate=0.035) == pytest.approx(289.969427524563, rel=1e-12)
    np.testing.assert_allclose(
        cumulative_present_value(np.array([[100.0, 100.0, 100.0], [0.0, 0.0, 1.035**2]]), rate=0.035),
        [[100.0, 196.6183574879227, 289.969427524563], [0.0, 0.0, 1.0]],
        rtol=1e-12,
    )


@pytest.mark.parametrize("rate", [-0.01, 1.0])
def test_discount_rate_out_of_range(rate):
    with pytest.raises(ConfigError):
        discount_factors(3, rate=rate)


# -- staff -----------------------------------------------------------------------------------------


def _months(worker, kom, fte, cases, start, end):
    months = pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), end, freq="MS")
    return pd.DataFrame(
        {
            "caseworker_id": worker,
            "municipality": kom,
            "team": "t",
            "month": months,
            "fte": fte,
            "active_cases": cases,
            "employed_from": pd.Timestamp(start),
            "employed_to": pd.Timestamp(end),
        }
    )


def test_fte_years_partial_months_and_leap_year():
    rows = pd.concat(
        [
            _months("A", 101, 1.0, 30, "2020-01-01", "2020-12-31"),  # full leap year: 1.0 FTE-year
            _months("B", 101, 0.8, 20, "2021-07-01", "2021-12-31"),  # half a year at 0.8: 0.8 * 184 / 365
            _months("C", 147, 0.5, 10, "2019-03-16", "2019-03-31"),  # 16 days at 0.5
        ],
        ignore_index=True,
    )
    out = caseworker_fte_years(rows).set_index(["municipality", "year"])
    assert out.loc[(101, 2020), "fte_years"] == pytest.approx(1.0, rel=1e-12)
    assert out.loc[(101, 2020), "active_cases"] == pytest.approx(30.0, rel=1e-12)
    assert out.loc[(101, 2021), "fte_years"] == pytest.approx(0.8 * 184 / 365, rel=1e-12)
    assert out.loc[(147, 2019), "fte_years"] == pytest.approx(0.5 * 16 / 365, rel=1e-12)
    assert out.loc[(147, 2019), "active_cases"] == pytest.approx(10 * 16 / 365, rel=1e-12)


def test_fte_row_outside_employment_is_refused():
    rows = _months("A", 101, 1.0, 30, "2020-01-01", "2020-03-31")
    rows.loc[2, "employed_to"] = pd.Timestamp("2020-02-29")
    with pytest.raises(ExtractValidationError, match="not employed"):
        caseworker_fte_years(rows)


def test_cost_per_fte_year_with_overhead_and_price_year():
    cfg = {"salary_dkk_per_year": 500000, "salary_price_year": 2013, "overhead_share": 0.25}
    assert cost_per_fte_year(cfg, INDEX, price_year=2019) == pytest.approx(500000 * 1.25 * 100 / 90, rel=1e-12)
    with pytest.raises(ConfigError):
        cost_per_fte_year({"salary_dkk_per_year": 500000}, INDEX, price_year=2019)


# -- micro-costs and reconciliation ----------------------------------------------------------------


def _spells():
    placements = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "municipality": [101, 101],
            "placement_type": [21, 9],
            "start_date": pd.to_datetime(["2019-07-01", "2020-02-01"]),
            "end_date": pd.to_datetime(["2020-06-30", "2020-02-29"]),
        }
    )
    preventive = pd.DataFrame(
        {
            "person_id": ["c"],
            "municipality": [147],
            "measure": [3],
            "start_date": pd.to_datetime(["2020-12-01"]),
            "end_date": pd.to_datetime([pd.NaT]),
        }
    )
    return placements, preventive


def test_micro_costs_spells_crossing_years_and_leap_year():
    placements, preventive = _spells()
    out = micro_costs(placements, preventive, PRICES, [2019, 2020, 2021]).set_index(
        ["municipality", "year", "function"]
    )
    # Foster spell 1 Jul 2019 - 30 Jun 2020: 184 of 365 days in 2019, 182 of 366 days in 2020 (leap year).
    assert out.loc[(101, 2019, "5.28.20"), "micro_dkk"] == pytest.approx(470000 * 184 / 365, rel=1e-12)
    assert out.loc[(101, 2020, "5.28.20"), "micro_dkk"] == pytest.approx(470000 * 182 / 366, rel=1e-12)
    # Institution in February 2020: 29 days.
    assert out.loc[(101, 2020, "5.28.23"), "micro_dkk"] == pytest.approx(1160000 * 29 / 366, rel=1e-12)
    # Ongoing preventive spell from 1 Dec 2020: 31 of 366 days, then all of 2021.
    assert out.loc[(147, 2020, "5.28.21"), "micro_dkk"] == pytest.approx(90000 * 31 / 366, rel=1e-12)
    assert out.loc[(147, 2021, "5.28.21"), "micro_dkk"] == pytest.approx(90000.0, rel=1e-12)
    assert out.loc[(101, 2020, "5.28.20"), "n_children"] == 1


def test_reconcile_deflates_accounts_and_computes_shares():
    placements, preventive = _spells()
    micro = micro_costs(placements, preventive, PRICES, [2019, 2020])
    accounts = pd.DataFrame(
        {
            "municipality": [101, 101, 101, 147],
            "year": [2019, 2020, 2020, 2020],
            "function": ["5.28.20", "5.28.20", "5.28.23", "5.28.21"],
            "amount": [300.0, 250.0, 100.0, 10.0],  # DKK 1,000, current prices
        }
    )
    cells, summary = reconcile(micro, accounts, INDEX, price_year=2019, min_cell=1)
    cell = cells.set_index(["municipality", "year", "function"])
    # 2020 accounts in 2019 prices: 250,000 * 100 / 101.5.
    assert cell.loc[(101, 2020, "5.28.20"), "accounts_dkk"] == pytest.approx(250000 * 100 / 101.5, rel=1e-12)
    assert cell.loc[(101, 2019, "5.28.20"), "share_explained"] == pytest.approx(470000 * 184 / 365 / 300000, rel=1e-12)
    total = summary.loc[(summary["year"] == 0) & (summary["function"] == "total")].iloc[0]
    micro_total = 470000 * (184 / 365 + 182 / 366) + 1160000 * 29 / 366 + 90000 * 31 / 366
    acc_total = 300000 + (250000 + 100000 + 10000) * 100 / 101.5
    assert total["share_explained"] == pytest.approx(micro_total / acc_total, rel=1e-12)


def test_reconcile_suppresses_small_cells_and_a_complement():
    placements, preventive = _spells()
    micro = micro_costs(placements, preventive, PRICES, [2020])
    accounts = pd.DataFrame(
        {"municipality": [101, 101, 147], "year": 2020, "function": ["5.28.20", "5.28.23", "5.28.21"], "amount": 1.0}
    )
    _, summary = reconcile(micro, accounts, INDEX, price_year=2019, min_cell=2)
    by_function = summary.loc[summary["function"] != "total"]
    assert by_function["micro_dkk"].isna().all()  # every cell has one child
    assert by_function["n_children"].isna().all()


def test_account_functions_agree_with_the_synthetic_generator():
    from evaluation.steps.simulate.world import ACCOUNT_OF_TYPE

    assert dict(ACCOUNT_FUNCTION_OF_TYPE) == dict(ACCOUNT_OF_TYPE)


# -- net cost, payback and ratios ------------------------------------------------------------------


def test_net_cost_and_payback_year():
    staff = 10.0
    change = np.array([-2.0, -8.0, -12.0, -15.0])
    net = net_cost(staff, change)
    np.testing.assert_allclose(net, [8.0, 2.0, -2.0, -5.0])
    cum = cumulative_net_cost(net, rate=0.0)
    np.testing.assert_allclose(cum, [8.0, 10.0, 8.0, 3.0])
    assert np.isnan(payback_year(cum))  # not repaid within four years
    cum2 = cumulative_net_cost(np.array([[8.0, -3.0, -6.0, 0.0], [-1.0, 5.0, 5.0, 5.0]]), rate=0.0)
    np.testing.assert_allclose(payback_year(cum2), [3.0, 1.0])


def test_payback_depends_on_discounting():
    # Undiscounted 100 - 100 = 0 in year 2 (repaid); at 3.5 % the saving is worth 96.6, not repaid.
    flows = np.array([100.0, -100.0])
    assert payback_year(cumulative_net_cost(flows, rate=0.0)) == 2.0
    assert np.isnan(payback_year(cumulative_net_cost(flows, rate=0.035)))


def test_payback_interval_from_the_replications_payback_years():
    # 40 replications: the 2.5 % and 97.5 % quantiles (inverted cdf) are the 1st and the 39th sorted year
    within = np.array([2.0] * 20 + [4.0] * 20)
    assert payback_interval(within, alpha=0.05) == (2.0, 4.0)
    # 8 of 40 never pay back within the follow-up: the 39th replication is one of them, "later than year H"
    years = np.array([1.0] * 2 + [2.0] * 10 + [3.0] * 20 + [np.nan] * 8)
    lo, hi = payback_interval(years, alpha=0.05)
    assert lo == 1.0 and np.isnan(hi)
    assert all(np.isnan(payback_interval(np.full(40, np.nan), alpha=0.05)))  # none pays back: both later than H
    assert all(np.isnan(payback_interval(np.array([]), alpha=0.05)))


def test_payback_interval_of_constructed_cumulative_costs():
    # three kinds of replication over a 3-year follow-up: repaid in year 1, in year 3, never
    net = np.array([[-5.0, 1.0, 1.0]] * 1 + [[4.0, -1.0, -4.0]] * 38 + [[4.0, 4.0, 4.0]] * 1)
    pay = payback_year(cumulative_net_cost(net, rate=0.0))
    np.testing.assert_array_equal(pay[:2], [1.0, 3.0])
    assert np.isnan(pay[-1])
    lo, hi = payback_interval(pay, alpha=0.05)  # 1st and 39th of 40 sorted: year 1 and year 3
    assert (lo, hi) == (1.0, 3.0)
    lo, hi = payback_interval(pay, alpha=0.02)  # the 40th: the replication that never pays back
    assert lo == 1.0 and np.isnan(hi)


def test_share_below_zero_is_the_probability_of_a_saving():
    assert share_below_zero(np.array([-1.0, -2.0, 3.0, 0.0, np.nan])) == 0.5  # zero is no saving; NaN left out
    assert np.isnan(share_below_zero(np.array([np.nan])))


def test_cost_per_unit_and_ratio_interval():
    assert cost_per_unit(1000.0, 2.0) == 500.0
    assert np.isnan(cost_per_unit(1000.0, 0.0))
    net = np.arange(1.0, 101.0)
    gain = np.ones(100)
    lo, hi = ratio_interval(net, gain, alpha=0.10)
    np.testing.assert_allclose([lo, hi], np.quantile(net, [0.05, 0.95]))
    gain[:5] = -1.0  # 5 % of the gains at or below zero >= alpha / 2: unbounded
    assert all(np.isnan(ratio_interval(net, gain, alpha=0.10)))


# -- acceptability curve and budget ----------------------------------------------------------------


def test_acceptability_curve_by_hand():
    curve = acceptability_curve(np.array([-1.0, 1.0, 3.0, np.nan]), np.array([1.0, 1.0, 1.0, 1.0]), wtp_grid(4.0, 3))
    np.testing.assert_allclose(curve["wtp_dkk_per_unit"], [0.0, 2.0, 4.0])
    np.testing.assert_allclose(curve["probability_cost_effective"], [1 / 3, 2 / 3, 1.0])
    assert (curve["n_draws"] == 3).all()
    with pytest.raises(ConfigError):
        wtp_grid(0.0, 3)


def test_budget_consequences_by_hand():
    draws = np.array([[-5000.0, -7000.0]] * 3)
    table = budget_consequences(
        100,
        fte_per_case=0.01,
        fte_per_case_draws=np.full(3, 0.01),
        cost_per_fte=600000.0,
        measure_change=np.array([-5000.0, -7000.0]),
        measure_change_draws=draws,
        rate=0.0,
    ).set_index(["item", "budget_year"])
    assert table.loc[("extra_fte", 1), "estimate"] == pytest.approx(1.0)
    assert table.loc[("staff_cost", 2), "estimate"] == pytest.approx(600000.0)
    assert table.loc[("measure_cost_change", 2), "estimate"] == pytest.approx(-700000.0)
    assert table.loc[("net_cost", 1), "estimate"] == pytest.approx(100000.0)
    assert table.loc[("cumulative_net_cost", 2), "estimate"] == pytest.approx(0.0, abs=1e-6)
    assert table.loc[("net_cost", 2), "ci_low"] == pytest.approx(-100000.0)


def test_a_year_function_cell_dominated_by_one_child_is_suppressed_with_a_complement():
    import pandas as pd

    from evaluation.steps.economics.accounts import aggregate_child_costs, dominated_cells, reconcile

    # 2015: in 5.28.20 one child carries 90 % of the cost of 6 children; 5.28.21 and 5.28.23 are ordinary
    children = pd.DataFrame(
        {
            "municipality": 657,
            "year": 2015,
            "function": ["5.28.20"] * 6 + ["5.28.21"] * 6 + ["5.28.23"] * 7,
            "person_id": [f"p{i}" for i in range(19)],
            "micro_dkk": [900.0, 20, 20, 20, 20, 20] + [100.0] * 6 + [50.0] * 7,
        }
    )
    assert dominated_cells(children, 5) == {(2015, "5.28.20")}
    accounts = pd.DataFrame(
        {"municipality": 657, "year": 2015, "function": ["5.28.20", "5.28.21", "5.28.23"], "amount": [1.0, 1.0, 1.0]}
    )
    index = pd.Series({2015: 1.0})
    _, summary = reconcile(
        aggregate_child_costs(children), accounts, index, price_year=2015, min_cell=5, dominated={(2015, "5.28.20")}
    )
    cells = summary.set_index(["year", "function"])
    assert pd.isna(cells.loc[(2015, "5.28.20"), "micro_dkk"])  # dominated: hidden although 6 children
    assert pd.isna(cells.loc[(2015, "5.28.21"), "micro_dkk"])  # complementary: the other cell with fewest children
    assert cells.loc[(2015, "5.28.23"), "micro_dkk"] == 350.0
