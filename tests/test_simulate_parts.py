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
from evaluation.steps.simulate.persons import make_pnr
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
