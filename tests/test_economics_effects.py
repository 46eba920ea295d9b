"""Economics effects: the imputation estimator where the former child fixed-effects regression is biased.

The constructed matched panel has staggered adoption, children who enter and leave their case at any
time (most treated child-years belong to children first seen after adoption), and an effect on cost
that grows by DKK 1,000 with every year since adoption. Untreated costs follow municipality and year
effects exactly, so the imputation estimator must recover the truth to rounding, while the former
regression (child and year effects, a pooled treatment dummy or binned follow-up dummies) must not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.methods.did.imputation import did_imputation
from evaluation.methods.economics.effects import EffectSpec, cluster_moments, followup_bins
from evaluation.methods.economics.resample import twfe_coefficients
from evaluation.steps.economics.pipeline import EconomicsData, fit_effect

HORIZON = 3
ADOPTION = [2013, 2013, 2015, 2015, 2017, 2017, 0, 0, 0, 0, 0, 0]


def growing_effect_panel(seed: int = 0, noise: float = 0.0) -> pd.DataFrame:
    """Matched child-years with an effect of DKK 1,000 x (1 + years since adoption) on cost."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, g in enumerate(ADOPTION):
        for child in range(60):
            first = int(rng.integers(2010, 2021))
            for year in range(first, min(first + int(rng.integers(1, 6)), 2021)):
                event = year - g if g else -1
                rows.append(
                    {
                        "municipality": 100 + m,
                        "person_id": f"{m}-{child}",
                        "year": year,
                        "first_treat": g,
                        "treated": int(g > 0 and event >= 0),
                        "treated_unit": int(g > 0),
                        "weight": 1.0,
                        "event": event,
                        "tau": 1000.0 * (1 + event) if g > 0 and event >= 0 else 0.0,
                    }
                )
    df = pd.DataFrame(rows)
    untreated = 50.0 * (df["municipality"] - 100) + 300.0 * (df["year"] - 2010) + noise * rng.normal(size=len(df))
    return df.assign(cost=untreated + df["tau"])


def _economics_effect(df: pd.DataFrame) -> np.ndarray:
    strata = df.groupby("municipality")["treated_unit"].max()
    data = EconomicsData({"child": df}, [], [], strata)
    spec = EffectSpec("child", "child", "cost", horizon=HORIZON)
    fit = fit_effect(data, spec, {"estimation": {"alpha": 0.05}}, progress=lambda _: None)
    return cluster_moments(fit, spec, strata.index).estimates(np.ones(len(strata)))


def test_growing_effects_bias_the_child_fixed_effects_regression_but_not_the_imputation_estimator():
    df = growing_effect_panel()
    treated = df.loc[df["treated"] == 1]
    truth_att = treated["tau"].mean()
    truth_years = treated.groupby(followup_bins(treated["event"].to_numpy(), HORIZON))["tau"].mean().to_numpy()
    seen_before = treated["person_id"].isin(df.loc[df["treated"] == 0, "person_id"])
    assert seen_before.mean() < 0.5  # most treated child-years: children first seen after adoption

    new = _economics_effect(df)
    np.testing.assert_allclose(new, [truth_att, *truth_years], rtol=1e-8)

    unit, _ = pd.factorize(df["person_id"])
    time, _ = pd.factorize(df["year"], sort=True)
    bins = followup_bins(df["event"].clip(lower=0).to_numpy(), HORIZON)
    followup = np.column_stack([((df["treated"] == 1).to_numpy() & (bins == k)).astype(float) for k in range(HORIZON)])
    y = df[["cost"]].to_numpy()
    pooled = twfe_coefficients(y, df[["treated"]].to_numpy(dtype=float), unit, time)[0, 0]
    by_year = twfe_coefficients(y, followup, unit, time)[:, 0]
    assert abs(pooled - truth_att) > 0.3 * truth_att  # the former pooled effect: far off
    assert abs(by_year[-1] - truth_years[-1]) > 0.2 * truth_years[-1]  # the binned last year: far off


def test_with_noise_the_imputation_estimator_stays_near_the_truth_and_the_former_one_does_not():
    df = growing_effect_panel(seed=1, noise=200.0)
    truth = df.loc[df["treated"] == 1, "tau"].mean()
    unit, _ = pd.factorize(df["person_id"])
    time, _ = pd.factorize(df["year"], sort=True)
    old = twfe_coefficients(df[["cost"]].to_numpy(), df[["treated"]].to_numpy(dtype=float), unit, time)[0, 0]
    new = _economics_effect(df)[0]
    assert abs(new - truth) < 0.05 * truth < abs(old - truth)


@pytest.mark.parametrize("trends", [True, False])
def test_moments_reproduce_did_imputation_with_covariates_controls_and_weights(trends):
    rng = np.random.default_rng(7)
    df = growing_effect_panel(seed=2, noise=300.0)
    children = df["person_id"].unique()
    covariate = pd.Series(rng.normal(size=len(children)), index=children)
    df = df.assign(
        cov_x=df["person_id"].map(covariate),
        age_5=(rng.uniform(size=len(df)) < 0.3).astype(float),
        weight=rng.uniform(0.5, 2.0, size=len(df)),
    )
    df["cost"] += 400.0 * df["cov_x"] * (df["year"] - 2010) / 10 + 250.0 * df["age_5"]
    fit = did_imputation(
        df,
        "cost",
        unit="municipality",
        time="year",
        cohort="first_treat",
        covariates=["cov_x"],
        controls=["age_5"],
        covariate_trends=trends,
        weights="weight",
    )
    strata = df.groupby("municipality")["treated_unit"].max()
    horizon = int(fit.event_study["event_time"].max()) + 1  # one follow-up year per event time
    spec = EffectSpec("child", "child", "cost", horizon=horizon)
    est = cluster_moments(fit, spec, strata.index).estimates(np.ones(len(strata)))
    assert est[0] == pytest.approx(fit.estimate, rel=1e-9)
    np.testing.assert_allclose(est[1:], fit.event_study["estimate"].to_numpy(), rtol=1e-8)


def test_a_resample_that_cannot_identify_a_year_gives_missing_not_a_number():
    df = growing_effect_panel()
    strata = df.groupby("municipality")["treated_unit"].max()
    fit = did_imputation(df, "cost", unit="municipality", time="year", cohort="first_treat")
    moments = cluster_moments(fit, EffectSpec("child", "child", "cost", horizon=HORIZON), strata.index)
    only_adopters = strata.to_numpy(dtype=float)  # no never-adopting municipality: 2017-2020 have no untreated row
    est = moments.estimates(only_adopters)
    assert np.isnan(est[0]) and np.isnan(est[-1])
