"""Randomization inference with the matched design redone for every reassignment (one adopting municipality).

The panel below has 24 municipalities of 16 children each, followed 2010-2015, one of which adopts in 2013.
Children enter (their first year with an open case) in 2010 or 2011, so every municipality has untreated
child-years to impute from. SDQ is a child effect, a year effect, a municipality effect and noise; the planted
effect is added to the adopter's child-years from 2013 on. The panel has no ``age`` column, so the fits have no
age controls (an age that only a placebo's treated children reach would leave that design unidentified).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.methods.did.imputation_inference import applied_att, imputation_randomization, randomization_interval
from evaluation.methods.inference.randomization import reassign_adoption
from evaluation.steps.compare import match_cohort
from evaluation.steps.design_randomization import design_randomization
from evaluation.steps.estimate import estimate_all, headline_fit, headline_sample

MUNICIPALITIES = [101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187, 190, 201, 210,
                  217, 219, 223, 230]  # fmt: skip
ADOPTER, YEAR = 167, 2013


def make_panel(effect: float, seed: int = 3, late: int | None = None) -> pd.DataFrame:
    """The cohort panel; ``late``: a municipality whose children all enter in 2015 (nothing to impute from)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in MUNICIPALITIES:
        shift = rng.normal(0, 0.5)
        for k in range(16):
            entry = 2015 if m == late else int(rng.integers(2010, 2012))
            sex, age0, income = int(rng.integers(1, 3)), int(rng.integers(4, 12)), float(rng.normal(300, 60))
            child = rng.normal(0, 1)
            for year in range(entry, 2016):
                first = YEAR if m == ADOPTER else 0
                post = int(first > 0 and year >= first)
                rows.append(
                    {
                        "person_id": f"{m}-{k}",
                        "municipality": m,
                        "year": year,
                        "first_treat": first,
                        "treated_unit": int(first > 0),
                        "post": post,
                        "treated": post,
                        "sex": sex,
                        "origin": 1,
                        "entry_year": entry,
                        "age_at_entry": age0,
                        "entry_municipality": m,
                        "entry_origin": 1,
                        "parent_basic_education": int(income < 260),
                        "parent_missing": 0,
                        "parent_income": income,
                        "parent_income_missing": 0,
                        "prior_notifications": 0,
                        "sdq": 10 + shift + child + 0.2 * (year - 2010) + rng.normal(0, 1) + effect * post,
                    }
                )
    return pd.DataFrame(rows)


CONFIG = {
    "matching": {
        "method": "nearest",
        "ratio": 1,
        "replace": True,
        "caliper": None,
        "covariates": ["age_at_entry", "parent_income"],
        "exact": ["sex"],
        "seed": 5,
    },
    "outcomes": {"primary": ["sdq"], "secondary": [], "placement": []},
    "estimation": {"leave_out": True},
    "inference": {"redesign_permutations": 199, "seed": 11},
}


def quiet(_message: str) -> None:
    return None


def observed_fit(panel: pd.DataFrame):
    matched = match_cohort(panel, CONFIG, quiet).matched
    sample, covariates, controls = headline_sample(panel, matched, CONFIG, quiet)
    return headline_fit(sample, "sdq", covariates, CONFIG, controls=controls), matched


def test_every_reassignment_is_enumerated_and_a_large_effect_is_the_most_extreme():
    panel = make_panel(effect=3.0)
    fit, _ = observed_fit(panel)
    interval = design_randomization(panel, {"sdq": fit}, CONFIG, quiet)["sdq"]
    assert interval.exact and interval.draws == len(MUNICIPALITIES)
    assert interval.estimate == fit.estimate
    # the adopter's estimate is the most extreme of the 24 designs: p = 1/24 < 0.05
    assert interval.p_value == pytest.approx(1 / len(MUNICIPALITIES))
    assert 0 < interval.ci_low < 3.0 < interval.ci_high


def test_no_effect_is_not_rejected():
    panel = make_panel(effect=0.0)
    fit, _ = observed_fit(panel)
    interval = design_randomization(panel, {"sdq": fit}, CONFIG, quiet)["sdq"]
    assert interval.p_value > 0.05 and interval.ci_low < 0 < interval.ci_high


def test_a_placebo_is_the_whole_design_redone_and_linear_in_the_hypothesised_effect():
    """For one reassignment: the matching and the fit as the pipeline would run them with that adopter, and
    its statistic under a hypothesised effect tau0 equals the placebo fit of Y - tau0 * D_obs."""
    panel = make_panel(effect=1.0).assign(_treated_observed=lambda d: d["treated"].astype(float))
    for m0 in MUNICIPALITIES[:-1]:  # the first placebo whose comparison children include the adopter's
        placebo = reassign_adoption(
            panel, {m: (YEAR if m == m0 else 0) for m in MUNICIPALITIES}, unit="municipality",
            first_treat="first_treat", time="year",
        )  # fmt: skip
        matched = match_cohort(placebo, CONFIG, quiet).matched
        assert set(matched.loc[matched["treat"] == 1, "municipality"]) == {m0}
        if ADOPTER in set(matched.loc[matched["treat"] == 0, "municipality"]):
            break
    else:
        pytest.fail("no placebo matched a child of the adopting municipality")
    sample, covariates, controls = headline_sample(placebo, matched, CONFIG, quiet)
    fit = headline_fit(sample, "sdq", covariates, CONFIG, controls=controls)
    d_obs = sample.loc[fit._state["data"].index, "_treated_observed"].to_numpy()
    a, s_y = applied_att(fit, fit._state["design"].y)
    c, s_d = applied_att(fit, d_obs)
    assert (a, np.sqrt(s_y @ s_y)) == pytest.approx((fit.estimate, fit.se), rel=1e-12)
    assert c != 0  # the adopter's treated child-years are among the comparison's untreated ones
    tau0 = 0.7
    shifted = sample.assign(sdq=sample["sdq"] - tau0 * sample["_treated_observed"])
    refit = headline_fit(shifted, "sdq", covariates, CONFIG, controls=controls)
    assert refit.estimate == pytest.approx(fit.estimate - tau0 * c, abs=1e-10)
    # its standard error too: the scores are linear in the outcome
    assert refit.se == pytest.approx(np.linalg.norm(s_y - tau0 * s_d), rel=1e-10)


def test_a_municipality_without_a_design_is_left_out_of_the_reference_distribution():
    panel = make_panel(effect=0.0, late=230)
    fit, _ = observed_fit(panel)
    messages: list[str] = []
    interval = design_randomization(panel, {"sdq": fit}, CONFIG, messages.append)["sdq"]
    assert interval.draws == len(MUNICIPALITIES) - 1
    assert any("1 of 24 reassignments give no estimate" in m for m in messages)


def test_undefined_pieces_are_left_out_not_counted_as_zero():
    a = np.array([0.5, -0.4, np.nan, np.nan, 2.0, 0.1])
    c = np.array([0.0, 0.0, np.nan, np.nan, 1.0, 0.0])
    kept = randomization_interval(2.0, 1.0, 0.05, a, c, exact=True)
    assert kept.draws == 4
    assert kept.p_value == pytest.approx(1 / 4)  # only the observed piece (2.0) is as extreme as 2.0


def test_the_studentised_test_divides_each_placebo_by_its_own_standard_error():
    # observed 2.0 with SE 1.0: t = 2. Placebos: a small, precise one (t = 3) and a large, noisy one (t = 1).
    a, c = np.array([2.0, 0.3, -4.0]), np.zeros(3)
    scale = (np.array([1.0, 0.01, 16.0]), np.zeros(3), np.zeros(3))
    plain = randomization_interval(2.0, 1.0, 0.05, a, c, exact=True)
    studentised = randomization_interval(2.0, 1.0, 0.05, a, c, exact=True, scale=scale)
    assert plain.p_value == pytest.approx(2 / 3)  # |2.0| and |-4.0| are at least as large as 2.0
    assert studentised.p_value == pytest.approx(2 / 3)  # t = 2 and t = 3 are at least 2; t = 1 is not
    two = [0, 2]
    single = randomization_interval(2.0, 1.0, 0.05, a[two], c[two], exact=True, scale=tuple(x[two] for x in scale))
    assert single.p_value == pytest.approx(1 / 2)  # the noisy placebo's -4.0 is only t = 1
    assert randomization_interval(2.0, 1.0, 0.05, a[two], c[two], exact=True).p_value == 1.0


def test_the_headline_uses_the_redesigned_randomization_with_one_adopter():
    panel = make_panel(effect=0.0)
    fit, matched = observed_fit(panel)
    redesigned = design_randomization(panel, {"sdq": fit}, CONFIG, quiet)["sdq"]
    messages: list[str] = []
    table = estimate_all(panel, matched, CONFIG, messages.append)
    main = table.loc[(table["analysis"] == "main") & (table["outcome"] == "sdq")].iloc[0]
    assert (main["ci_low"], main["ci_high"], main["p_value"]) == pytest.approx(
        (redesigned.ci_low, redesigned.ci_high, redesigned.p_value)
    )
    assert any("with the matching redone" in m for m in messages)
    reused = imputation_randomization(fit, n_permutations=999, seed=11)
    off = estimate_all(panel, matched, {**CONFIG, "inference": {**CONFIG["inference"], "redesign": False}}, quiet)
    main_off = off.loc[(off["analysis"] == "main") & (off["outcome"] == "sdq")].iloc[0]
    assert (main_off["ci_low"], main_off["ci_high"]) == pytest.approx((reused.ci_low, reused.ci_high))
    # in this panel a placebo municipality's reused comparison children are a handful, so its placebo estimates
    # are noisier than an adopter's, and the interval that reuses them is the wider one
    assert reused.ci_high - reused.ci_low > redesigned.ci_high - redesigned.ci_low
