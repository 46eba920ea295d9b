"""Unit tests of the synthetic registry's building blocks and of evaluation.methods.costs (hand-computed values)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from evaluation.contract.extracts import CPR_PATTERN
from evaluation.errors import ExtractValidationError
from evaluation.methods.costs import child_year_costs, spell_year_costs
from evaluation.steps.simulate import default_config
from evaluation.steps.simulate.persons import make_pnr, zero_padded
from evaluation.steps.simulate.rng import stream
from evaluation.steps.simulate.services import birthday18, date_in_child_year

PRICES = default_config()["prices"]


def test_child_year_costs_by_hand():
    spells = pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "c"],
            "start_date": pd.to_datetime(["2019-07-01", "2019-01-01", "2018-12-31", "2020-12-01"]),
            "end_date": pd.to_datetime(["2019-12-31", "2019-01-31", "2019-01-01", None]),
            "placement_type": pd.array([21, pd.NA, 9, 1], dtype="Int64"),
            "measure": pd.array([pd.NA, 3, pd.NA, pd.NA], dtype="Int64"),
        }
    )
    out = child_year_costs(spells, PRICES, [2019, 2020]).set_index(["person_id", "year"])["cost"]
    # a: foster 184 days of 365 + preventive 31 days of 365
    assert out[("a", 2019)] == pytest.approx(184 / 365 * 470_000 + 31 / 365 * 90_000)
    # b: institution, only 1 January 2019 falls in the years asked for
    assert out[("b", 2019)] == pytest.approx(1 / 365 * 1_160_000)
    # c: network, ongoing to the end of 2020 (leap year: 31 of 366 days)
    assert out[("c", 2020)] == pytest.approx(31 / 366 * 250_000)
    assert len(out) == 3


def test_spell_year_costs_splits_years_and_rejects_bad_spells():
    spells = pd.DataFrame(
        {
            "person_id": [1],
            "start_date": pd.to_datetime(["2018-07-02"]),
            "end_date": pd.to_datetime(["2020-01-01"]),
            "placement_type": [27],
        }
    )
    per = spell_year_costs(spells, PRICES, range(2018, 2021))
    assert per["days"].tolist() == [183, 365, 1]
    assert (per["group"] == "residential").all()
    bad = spells.assign(end_date=pd.to_datetime(["2017-01-01"]))
    with pytest.raises(ExtractValidationError, match="before it starts"):
        spell_year_costs(bad, PRICES, [2018])


def test_pnr_unique_cpr_like_and_odd_for_males():
    rng = stream(1, "t")
    births = np.array(["2001-03-04"] * 3000 + ["1975-12-31"] * 10, dtype="datetime64[D]")
    male = np.arange(3010) % 2 == 0
    pnr = make_pnr(births, male, rng)
    assert len(set(pnr)) == len(pnr)
    assert all(re.fullmatch(CPR_PATTERN, p) for p in pnr)
    assert pnr[0].startswith("040301") and pnr[-1].startswith("311275")
    assert all(int(p[-1]) % 2 == int(m) for p, m in zip(pnr, male, strict=True))


def test_pnr_as_drawn_by_lexsort_and_zfill():
    """The same numbers as the straightforward formula: persons ranked by a uniform draw within sex and DDMMYY
    (``lexsort``), serials spread over the 5,000 of the group, text by ``zfill`` (the registry's bytes)."""
    rng = stream(2, "t")
    births = np.datetime64("1990-01-01") + rng.integers(0, 400, 20_000)
    male = rng.random(20_000) < 0.5
    got = make_pnr(births, male, stream(3, "pnr"))
    draws = stream(3, "pnr")
    d = births.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    key = ((d - month_start.astype("datetime64[D]")).astype(np.int64) + 1) * 10_000
    key += (month_start.astype(np.int64) % 12 + 1) * 100 + (d.astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    group = key * 2 + male
    order = np.lexsort((draws.random(len(d)), group))
    rank = np.empty(len(d), dtype=np.int64)
    for position, i in enumerate(order):
        rank[i] = position - np.searchsorted(group[order], group[i])
    offset = (group * 7907 + int(draws.integers(0, 5000))) % 5000
    last4 = 2 * ((rank * 7919 + offset) % 5000) + male
    expected = [str(k).zfill(6) + str(n).zfill(4) for k, n in zip(key, last4, strict=True)]
    assert got.tolist() == expected


def test_zero_padded_is_zfill_with_a_prefix():
    values = np.array([0, 7, 42, 999_999_999, 123_456_789, 1_000])
    assert zero_padded(values, 9, "U").tolist() == ["U" + str(v).zfill(9) for v in values]
    assert zero_padded(values[:3], 4).tolist() == ["0000", "0007", "0042"]
    assert zero_padded(np.array([], dtype=np.int64), 9, "H").tolist() == []


def test_birthday18_and_dates_inside_the_child_year():
    birth = np.array(["2000-02-29", "2005-06-15"], dtype="datetime64[D]")
    assert birthday18(birth).tolist() == [np.datetime64("2018-03-01").item(), np.datetime64("2023-06-15").item()]
    b18 = birthday18(birth)
    last = date_in_child_year(b18, np.array([2018, 2023]), np.array([0.999999, 0.999999]))
    assert last.tolist() == [np.datetime64("2018-02-28").item(), np.datetime64("2023-06-14").item()]
    first = date_in_child_year(b18, np.array([2018, 2023]), np.array([0.0, 0.0]))
    assert first.tolist() == [np.datetime64("2018-01-01").item(), np.datetime64("2023-01-01").item()]


def test_streams_are_independent_of_order():
    a = stream(5, "cases", 101).random(3)
    stream(5, "cases", 147).random(3)
    assert np.array_equal(a, stream(5, "cases", 101).random(3))
    assert not np.array_equal(a, stream(6, "cases", 101).random(3))


def test_unknown_model_parameter_is_refused_with_a_hint():
    from evaluation.errors import ConfigError
    from evaluation.steps.simulate.settings import resolve_config

    with pytest.raises(ConfigError, match=r"'sdq_nosie_sd' \(did you mean 'sdq_noise_sd'\?\)"):
        resolve_config({"synthetic": {"model": {"sdq_nosie_sd": 2.0}}})
    merged = resolve_config({"synthetic": {"model": {"sdq_noise_sd": 2.0}}})
    assert merged["synthetic"]["model"]["sdq_noise_sd"] == 2.0
    assert merged["synthetic"]["model"]["sdq_intercept"] == 10.0
