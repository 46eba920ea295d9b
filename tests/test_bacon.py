"""Goodman-Bacon decomposition (``evaluation.methods.did.bacon_decomposition``): R bacondecomp, diff-diff, by hand.

References are stored in ``tests/reference/bacon`` (see its README): every 2x2 estimate and weight of R
``bacondecomp::bacon()`` 0.1.3 and the TWFE coefficient of R ``lm`` on four data sets, the same decomposition by
Python ``diff-diff`` 3.13.0, and numbers printed in bacondecomp's tests, README and vignette and in Goodman-Bacon
(2021). All are exact computations, so the tolerance is ``rtol = 1e-8``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did import BaconResult, UnbalancedPanelError, bacon_decomposition
from evaluation.methods.did.bacon import COMPARISONS
from evaluation.methods.panel import fixed_effects

REF = Path(__file__).parent / "reference" / "bacon"
RTOL = 1e-8
KEYS = ["comparison", "treated_cohort", "control_cohort"]
SPECS = {
    # data set: outcome, unit, time, cohort (as stored by generate_bacon_reference.R)
    "castle": ("l_homicide", "state", "year", "effyear"),
    "divorce": ("suiciderate_elast_jag", "st", "year", "divyear"),
    "math_reform": ("incearn_ln", "state", "class", "reformyr_math"),
    "figure2": ("y", "id", "time", "first_treat"),
}
R_TYPES = {
    "Treated vs Untreated": "treated_vs_never",
    "Earlier vs Later Treated": "earlier_vs_later",
    "Later vs Earlier Treated": "later_vs_earlier",
    "Later vs Always Treated": "later_vs_always",
}
_CACHE: dict[str, BaconResult] = {}


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}.csv")


def fit(name: str) -> BaconResult:
    if name not in _CACHE:
        outcome, unit, time, cohort = SPECS[name]
        _CACHE[name] = bacon_decomposition(data(name), outcome=outcome, unit=unit, time=time, cohort=cohort)
    return _CACHE[name]


def synthetic_panel(seed: int, n_units: int = 60) -> pd.DataFrame:
    """Staggered panel 2001-2012 with never treated (NaN, 0 and after the panel), always treated and 5 cohorts."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2013)
    choices = np.array([np.nan, 0, 2030, 1995, 2001, 2003, 2005, 2006, 2009, 2012])
    cohort = rng.choice(choices, size=n_units)
    cohort[: len(choices)] = choices  # every kind present
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(years, n_units)
    g = np.repeat(cohort, len(years))
    treated = ~np.isnan(g) & (g > 0) & (year >= g)
    effect = np.where(treated, 1.0 + 0.3 * (year - np.where(np.isnan(g), 0, g)), 0.0)  # dynamic effects
    y = rng.normal(size=n_units)[unit] + 0.2 * (year - 2000) + effect + rng.normal(scale=0.5, size=unit.size)
    return pd.DataFrame({"unit": unit, "year": year, "cohort": g, "y": y, "d": treated.astype(float)})


def as_float_keys(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({"treated_cohort": float, "control_cohort": float})


# --- reference: R bacondecomp 0.1.3 ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SPECS))
def test_two_by_twos_match_r_bacondecomp(name: str) -> None:
    ref = pd.read_csv(REF / "bacon_r_reference.csv").query("dataset == @name")
    ref = ref.assign(
        comparison=ref["type"].map(R_TYPES),
        treated_cohort=ref["treated"].astype(float),
        control_cohort=ref["untreated"].replace(np.inf, 0).astype(float),  # R: Inf = never treated
    )
    ours = fit(name).table
    assert ours["comparison"].isin(COMPARISONS).all()
    merged = as_float_keys(ours).merge(ref, on=KEYS, how="outer", suffixes=("", "_r"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEYS + ["_merge"]]
    assert len(ours) == len(ref)
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(merged["weight"], merged["weight_r"], rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("name", list(SPECS))
def test_twfe_matches_r_lm(name: str) -> None:
    ref = pd.read_csv(REF / "bacon_r_twfe.csv").set_index("dataset")
    r = fit(name)
    assert r.twfe == pytest.approx(ref.loc[name, "twfe"], rel=RTOL)
    assert (r.n_units, r.n_periods) == (ref.loc[name, "n_units"], ref.loc[name, "n_periods"])


# --- cross-check: Python diff-diff 3.13.0 (always treated pooled with the never treated) -------------------


@pytest.mark.parametrize("name", list(SPECS))
def test_two_by_twos_match_diff_diff(name: str) -> None:
    ref = pd.read_csv(REF / "bacon_diffdiff_crosscheck.csv").query("dataset == @name")
    twfe = ref.loc[ref["comparison_type"] == "twfe", "estimate"].item()
    ref = ref.loc[ref["comparison_type"] != "twfe"].rename(
        columns={"comparison_type": "comparison", "treated_group": "treated_cohort", "control_group": "control_cohort"}
    )
    ours = as_float_keys(fit(name).table)
    # diff-diff pools the always treated into its never-treated bucket: add weights, average estimates with them
    pooled = ours.replace({"comparison": {"later_vs_always": "treated_vs_never"}})
    pooled.loc[pooled["comparison"] == "treated_vs_never", "control_cohort"] = 0.0
    pooled = (
        pooled.assign(product=pooled["weight"] * pooled["estimate"])
        .groupby(KEYS, as_index=False)[["weight", "product"]]
        .sum()
    )
    pooled["estimate"] = pooled["product"] / pooled["weight"]
    merged = pooled.merge(ref, on=KEYS, how="outer", suffixes=("", "_dd"), indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["estimate"], merged["estimate_dd"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(merged["weight"], merged["weight_dd"], rtol=RTOL, atol=1e-14)
    assert fit(name).twfe == pytest.approx(twfe, rel=RTOL)


# --- published numbers ----------------------------------------------------------------------------------------


def test_castle_published_summary() -> None:
    # bacondecomp tests/testthat/test_summary.R (matches the Stata bacondecomp output) and the vignette's TWFE 0.0818
    s = fit("castle").summary().set_index("comparison")
    assert s.loc["earlier_vs_later", "weight"].round(3) == 0.060
    assert s.loc["later_vs_earlier", "weight"].round(3) == 0.032
    assert s.loc["treated_vs_never", "weight"].round(3) == 0.908
    assert s.loc["earlier_vs_later", "estimate"].round(3) == -0.006
    assert s.loc["later_vs_earlier", "estimate"].round(3) == 0.070
    assert s.loc["treated_vs_never", "estimate"].round(3) == 0.088
    assert round(fit("castle").twfe, 4) == 0.0818
    assert s.loc["twfe", "estimate"] == fit("castle").twfe


def test_math_reform_published_summary() -> None:
    # bacondecomp README: bacon_summary() of incearn_ln ~ reform_math (5 decimals) and head(df_bacon)
    s = fit("math_reform").summary().set_index("comparison")
    expected = {
        "earlier_vs_later": (0.06353, 0.02868),
        "later_vs_earlier": (0.05265, 0.03375),
        "treated_vs_never": (0.88382, -0.00129),
    }
    for comparison, (weight, estimate) in expected.items():
        assert round(s.loc[comparison, "weight"], 5) == weight
        assert round(s.loc[comparison, "estimate"], 5) == estimate
    t = fit("math_reform").table.set_index(KEYS)
    assert t.loc[("later_vs_earlier", 1987, 1985), "estimate"] == pytest.approx(0.04575585, abs=5e-9)
    assert t.loc[("earlier_vs_later", 1984, 1987), "weight"] == pytest.approx(0.013354583, abs=5e-10)


def test_figure2_weights_of_the_paper() -> None:
    # Goodman-Bacon (2021), Figure 2 (T = 100, k treated from 34, l from 85): s_kU .365, s_lU .222, s^k_kl .278,
    # s^l_kl .135 (also bacondecomp's tests/testthat/test_bacon_weights.R)
    t = fit("figure2").table.set_index(KEYS)["weight"].round(3)
    assert t[("treated_vs_never", 34, 0)] == 0.365
    assert t[("treated_vs_never", 85, 0)] == 0.222
    assert t[("earlier_vs_later", 34, 85)] == 0.278
    assert t[("later_vs_earlier", 85, 34)] == 0.135


def test_three_unit_example_by_hand() -> None:
    # 10 periods; unit 1 never treated, unit 2 treated from 5 (effect 2), unit 3 from 8 (effect 4).
    # D_bar = 6/10 and 3/10, n_k = 1/3: numerators (x 1/9) 0.24, 0.21 (vs never), 0.12 (early v late),
    # 0.09 (late v early); weights 4/11, 7/22, 2/11, 3/22; TWFE = (4*2 + 3.5*4 + 2*2 + 1.5*4) / 11 = 32/11.
    # Stata bacondecomp prints Early_v_Late 2 (.1818181841), Late_v_Early 4 (.1363636317), Never_v_timing
    # 2.933333323 (.6818181841) (Statalist thread 1751536).
    rows = []
    for unit, (cohort, effect) in {1: (np.nan, 0.0), 2: (5, 2.0), 3: (8, 4.0)}.items():
        for t in range(1, 11):
            rows.append({"id": unit, "t": t, "g": cohort, "y": effect * (t >= cohort)})
    r = bacon_decomposition(pd.DataFrame(rows), "y", "id", "t", "g")
    t = r.table.set_index(KEYS)
    expected = {
        ("treated_vs_never", 5, 0): (Fraction(4, 11), 2),
        ("treated_vs_never", 8, 0): (Fraction(7, 22), 4),
        ("earlier_vs_later", 5, 8): (Fraction(2, 11), 2),
        ("later_vs_earlier", 8, 5): (Fraction(3, 22), 4),
    }
    assert set(t.index) == set(expected)
    for key, (weight, estimate) in expected.items():
        assert t.loc[key, "weight"] == pytest.approx(float(weight), abs=1e-14)
        assert t.loc[key, "estimate"] == pytest.approx(estimate, abs=1e-13)
    assert r.twfe == pytest.approx(32 / 11, abs=1e-13)
    s = r.summary().set_index("comparison")
    assert s.loc["treated_vs_never", "estimate"] == pytest.approx(44 / 15, abs=1e-13)  # 2.9333
    assert s.loc["treated_vs_never", "weight"] == pytest.approx(15 / 22, abs=1e-14)  # .6818
    assert r.variance_d == pytest.approx(0.66 / 9, abs=1e-14)  # the sum of the numerators


# --- the decomposition identity, and the TWFE of evaluation.methods.panel ---------------------------------------------


CASES = [*SPECS, "synthetic-1", "synthetic-2", "synthetic-3"]


def fit_case(case: str) -> tuple[BaconResult, pd.DataFrame, tuple[str, str, str, str]]:
    if case in SPECS:
        return fit(case), data(case), SPECS[case]
    df = synthetic_panel(int(case.split("-")[1]))
    spec = ("y", "unit", "year", "cohort")
    return bacon_decomposition(df, *spec), df, spec


@pytest.mark.parametrize("case", CASES)
def test_weights_sum_to_one_and_reproduce_twfe(case: str) -> None:
    r, _, _ = fit_case(case)
    assert (r.table["weight"] > 0).all()
    assert r.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (r.table["weight"] * r.table["estimate"]).sum() == pytest.approx(r.twfe, abs=1e-12)
    assert r.weight_shares().sum() == pytest.approx(1.0, abs=1e-12)
    assert r.summary()["comparison"].iloc[-1] == "twfe"


@pytest.mark.parametrize("case", CASES)
def test_twfe_equals_panel_fixed_effects(case: str) -> None:
    r, df, (outcome, unit, time, cohort) = fit_case(case)
    g = df[cohort].to_numpy(dtype=float)
    treated = ~np.isnan(g) & (g != 0) & (df[time].to_numpy() >= g)
    fe = fixed_effects(df.assign(_d=treated.astype(float)), outcome, ["_d"], unit, time)
    assert r.twfe == pytest.approx(fe.table.loc["_d", "coef"], rel=1e-9)


def test_synthetic_has_every_comparison_type() -> None:
    r, _, _ = fit_case("synthetic-1")
    assert set(r.table["comparison"]) == set(COMPARISONS)
    shares = r.weight_shares()
    assert list(shares.index) == list(COMPARISONS)
    groups = r.groups.set_index("cohort")
    assert groups.loc[0, "role"] == "never" and groups.loc[2001, "role"] == "always"
    assert groups["n_units"].sum() == r.n_units == 60
    assert (
        groups.loc[2001, "n_units"] == (synthetic_panel(1).groupby("unit")["cohort"].first().isin([1995, 2001])).sum()
    )


# --- special cases ----------------------------------------------------------------------------------------------


def test_no_staggering_is_the_simple_two_by_two() -> None:
    df = synthetic_panel(4)
    df["cohort"] = np.where(df["unit"] % 3 == 0, 2007, np.nan)
    r = bacon_decomposition(df, "y", "unit", "year", "cohort")
    assert len(r.table) == 1
    row = r.table.iloc[0]
    assert (row["comparison"], row["treated_cohort"], row["control_cohort"]) == ("treated_vs_never", 2007, 0)
    assert row["weight"] == pytest.approx(1.0, abs=1e-13)
    means = df.groupby([df["cohort"].notna(), df["year"] >= 2007])["y"].mean()
    did = (means[(True, True)] - means[(True, False)]) - (means[(False, True)] - means[(False, False)])
    assert row["estimate"] == pytest.approx(did, abs=1e-12)
    assert r.twfe == pytest.approx(did, abs=1e-12)
    assert list(r.summary()["comparison"]) == ["treated_vs_never", "twfe"]


def test_cohort_coding_zero_nan_and_after_the_panel_mean_never_treated() -> None:
    df = data("castle")
    base = bacon_decomposition(df, "l_homicide", "state", "year", "effyear")
    for never in (0, np.nan, 2011, 2099, np.inf):
        recoded = df.assign(effyear=df["effyear"].fillna(never))
        r = bacon_decomposition(recoded, "l_homicide", "state", "year", "effyear")
        pd.testing.assert_frame_equal(r.table, base.table)
        assert r.twfe == base.twfe
    assert (base.table["control_cohort"] == 0).sum() == 5  # one treated_vs_never row per cohort
    assert base.table["treated_cohort"].dtype == df["year"].dtype


def test_cohort_before_the_panel_is_always_treated() -> None:
    df = data("divorce")  # 9 states with divyear 1950 < 1964, coded as control_cohort 1964 (first period)
    base = fit("divorce")
    r = bacon_decomposition(df.replace({"divyear": {1950: 1964}}), *SPECS["divorce"])
    pd.testing.assert_frame_equal(r.table, base.table)
    always = base.table.loc[base.table["comparison"] == "later_vs_always"]
    assert len(always) == 12 and (always["control_cohort"] == 1964).all()
    assert not (base.table["treated_cohort"] == 1964).any()  # the always treated are never a treated group


def test_row_order_and_unit_labels_do_not_matter() -> None:
    df = data("castle")
    shuffled = df.sample(frac=1.0, random_state=3).assign(state=lambda d: "s_" + d["state"])
    r = bacon_decomposition(shuffled, "l_homicide", "state", "year", "effyear")
    pd.testing.assert_frame_equal(r.table, fit("castle").table, rtol=1e-12)


def test_tidy_is_a_copy_of_the_table() -> None:
    r = fit("castle")
    tidy = r.tidy()
    assert list(tidy.columns) == ["comparison", "treated_cohort", "control_cohort", "weight", "estimate"]
    tidy["weight"] = 0.0
    assert r.table["weight"].sum() == pytest.approx(1.0)


# --- errors ---------------------------------------------------------------------------------------------------


def test_unbalanced_panel_is_an_error_that_names_the_fix() -> None:
    df = data("castle").drop(index=7)
    with pytest.raises(UnbalancedPanelError, match="unbalanced.*Alabama.*2007.*every period"):
        bacon_decomposition(df, "l_homicide", "state", "year", "effyear")
    assert issubclass(UnbalancedPanelError, EvaluationError)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d.assign(l_homicide=d["l_homicide"].where(d.index != 5)), EvaluationError, "missing or infinite"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), EvaluationError, "duplicated"),
        (lambda d: d.assign(effyear=d["effyear"].where(d.index != 0, 2007)), EvaluationError, "constant within"),
        (lambda d: d.assign(effyear=d["effyear"].replace(2006, 2006.5)), EvaluationError, "not one of its periods"),
        (lambda d: d.assign(year=d["year"].astype(str)), EvaluationError, "must be numeric"),
        (lambda d: d.drop(columns="effyear"), EvaluationError, "not in the data"),
        (lambda d: d.assign(effyear=np.nan), ModelNotIdentifiedError, "no unit starts treatment"),
        (lambda d: d.assign(effyear=2006), ModelNotIdentifiedError, "no comparison group"),
        (lambda d: d.assign(year=d["year"] - 2005, effyear=(d["effyear"] - 2005).fillna(0)), EvaluationError, "NaN"),
        (lambda d: d.assign(effyear=d["effyear"].fillna(-1)), EvaluationError, "negative"),
        (lambda d: d.assign(l_homicide=d["l_homicide"].where(d.index != 9, np.inf)), EvaluationError, "infinite"),
    ],
    ids=[
        "missing",
        "duplicate",
        "varying",
        "off_grid",
        "text",
        "column",
        "no_treated",
        "one_group",
        "zero",
        "negative",
        "infinite",
    ],
)
def test_bad_input_raises(change, error, match) -> None:
    with pytest.raises(error, match=match) as info:
        bacon_decomposition(change(data("castle")), "l_homicide", "state", "year", "effyear")
    assert type(info.value) is error
