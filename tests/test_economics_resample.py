"""Economics: the stratified cluster bootstrap of the imputation effects, its prepared inputs, and the former TWFE."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.did.imputation import did_imputation
from evaluation.methods.economics.effects import EffectSpec, cluster_moments
from evaluation.methods.economics.resample import bootstrap_parts, cluster_bootstrap, draw_clusters, twfe_coefficients
from evaluation.methods.panel import fixed_effects
from evaluation.steps.economics.inputs import FORMAT_VERSION, EconomicsInputs

QUIET = {"progress": lambda _: None}


def _panel(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(12):
        adopt = 2015 + m % 3 if m < 5 else 0
        for child in range(15):
            first = int(rng.integers(2010, 2018))
            n = int(rng.integers(1, 6))  # unbalanced, with single-year children
            for year in range(first, min(first + n, 2020)):
                treated = int(adopt > 0 and year >= adopt)
                rows.append(
                    {
                        "municipality": 100 + m,
                        "person_id": f"{m}-{child}",
                        "year": year,
                        "first_treat": adopt,
                        "treated_unit": int(adopt > 0),
                        "treated": treated,
                        "x2": float(rng.normal()),
                        "weight": float(rng.uniform(0.5, 2.0)),
                    }
                )
    df = pd.DataFrame(rows)
    df["y"] = 3.0 * df["treated"] + 0.5 * df["x2"] + 0.1 * (df["year"] - 2010) + rng.normal(size=len(df))
    return df


def _fit(df: pd.DataFrame):
    return did_imputation(
        df, "y", unit="municipality", time="year", cohort="first_treat", weights="weight", controls=["x2"]
    )


@pytest.mark.parametrize("weights", [None, "weight"])
def test_twfe_coefficients_equal_fixed_effects(weights):
    df = _panel()
    fe = fixed_effects(
        df,
        outcome="y",
        regressors=["treated", "x2"],
        unit="person_id",
        time="year",
        cluster="municipality",
        weights=weights,
    )
    unit, _ = pd.factorize(df["person_id"])
    time, _ = pd.factorize(df["year"], sort=True)
    w = None if weights is None else df[weights].to_numpy()
    coef = twfe_coefficients(df[["y"]].to_numpy(), df[["treated", "x2"]].to_numpy(), unit, time, w)
    np.testing.assert_allclose(coef[:, 0], fe.table.loc[["treated", "x2"], "coef"].to_numpy(), rtol=1e-9)


def test_twfe_coefficients_not_identified_gives_nan():
    df = _panel()
    unit, _ = pd.factorize(df["person_id"])
    time, _ = pd.factorize(df["year"], sort=True)
    constant_within_child = df["treated_unit"].to_numpy(dtype=float)[:, None]
    assert np.isnan(twfe_coefficients(df[["y"]].to_numpy(), constant_within_child, unit, time)).all()


def test_draw_clusters_keeps_strata_and_is_seeded():
    strata = pd.Series([1, 1, 0, 0, 0], index=[10, 11, 20, 21, 22])
    a = draw_clusters(strata, replications=200, rng=np.random.default_rng(5))
    b = draw_clusters(strata, replications=200, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert np.isin(a[:, :2], [0, 1]).all() and np.isin(a[:, 2:], [2, 3, 4]).all()
    assert set(np.unique(a[:, 2:])) == {2, 3, 4}


def test_cluster_bootstrap_duplicates_clusters_as_distinct_municipalities():
    df = _panel()
    strata = df.groupby("municipality")["treated_unit"].max()
    spec = EffectSpec("main", "child", "y", horizon=2)
    moments = cluster_moments(_fit(df), spec, strata.index)
    res = cluster_bootstrap([moments], strata, replications=40, seed=11, **QUIET)
    again = cluster_bootstrap([moments], strata, replications=40, seed=11, **QUIET)
    pd.testing.assert_frame_equal(res.draws, again.draws)
    assert list(res.draws.columns) == ["main:y:att", "main:y:followup_1", "main:y:followup_2"]
    # Replication 0 by hand: stack the drawn municipalities, each copy a new municipality, and refit.
    draw = draw_clusters(strata, replications=40, rng=np.random.default_rng(11))[0]
    parts = [
        df.loc[df["municipality"] == strata.index[c]].assign(municipality=lambda d, k=k: d["municipality"] * 100 + k)
        for k, c in enumerate(draw)
    ]
    stacked = _fit(pd.concat(parts, ignore_index=True))
    assert res.draws["main:y:att"].iloc[0] == pytest.approx(stacked.estimate, rel=1e-9)
    by_event = stacked.event_study.set_index("event_time")["estimate"]
    assert res.draws["main:y:followup_1"].iloc[0] == pytest.approx(by_event.loc[0], rel=1e-9)
    lo, hi = res.interval("main:y:att")
    assert lo < 3.0 < hi
    assert res.n_failed == {"main:y": 0}


def test_cluster_bootstrap_parts_concatenated_equal_the_whole_run():
    # each part draws the clusters of all replications, so replication b is the same whichever job runs it
    df = _panel()
    strata = df.groupby("municipality")["treated_unit"].max()
    fit = _fit(df)
    first = cluster_moments(fit, EffectSpec("main", "child", "y", horizon=3), strata.index)
    second = cluster_moments(fit, EffectSpec("again", "child", "y"), strata.index, share=[(fit, first)])
    assert second.zwz is first.zwz  # one design, solved once per replication
    moments = [first, second]
    whole = cluster_bootstrap(moments, strata, replications=23, seed=4, **QUIET)
    parts = [
        cluster_bootstrap(moments, strata, replications=23, seed=4, part=part, **QUIET).draws
        for part in bootstrap_parts(23, 3)
    ]
    pd.testing.assert_frame_equal(pd.concat(parts), whole.draws, check_exact=True)
    np.testing.assert_allclose(whole.draws["main:y:att"], whole.draws["again:y:att"], rtol=1e-12)
    with pytest.raises(EvaluationError, match="part"):
        cluster_bootstrap(moments, strata, replications=23, seed=4, part=(20, 30), **QUIET)


def test_bootstrap_parts_cover_every_replication_once():
    assert bootstrap_parts(499, 4) == [(0, 125), (125, 250), (250, 374), (374, 499)]
    assert bootstrap_parts(3, 8) == [(0, 1), (1, 2), (2, 3)]  # never an empty part
    assert bootstrap_parts(10, 1) == [(0, 10)]
    with pytest.raises(EvaluationError, match="at least 1"):
        bootstrap_parts(10, 0)


def test_cluster_bootstrap_refuses_moments_over_other_clusters():
    df = _panel()
    strata = df.groupby("municipality")["treated_unit"].max()
    moments = cluster_moments(_fit(df), EffectSpec("main", "child", "y"), strata.index)
    with pytest.raises(EvaluationError, match="strata"):
        cluster_bootstrap([moments], strata.iloc[1:], replications=5, seed=1, **QUIET)


def _inputs(df: pd.DataFrame) -> EconomicsInputs:
    """Inputs of two effects with one design (shared arrays) and one with another, as prepare_economics makes."""
    strata = df.groupby("municipality")["treated_unit"].max()
    fit = _fit(df)
    first = cluster_moments(fit, EffectSpec("main", "child", "y", horizon=3), strata.index)
    second = cluster_moments(fit, EffectSpec("again", "child", "y"), strata.index, share=[(fit, first)])
    other = cluster_moments(_fit(df.loc[df["year"] > 2011]), EffectSpec("later", "child", "y"), strata.index)
    return EconomicsInputs((first, second, other), strata, (2010, 2019), 123)


def _config(replications: int, seed: int) -> dict:
    """The economics settings the bootstrap reads, as the config schema fills them in."""
    economics = {
        "price_index": {"values": {"2019": 100.0}, "source": "test"},
        "price_year": None,
        "discount_rate": 0.035,
        "caseworker_cost": {"salary_dkk_per_year": 500000, "salary_price_year": 2019, "overhead_share": 0.25},
        "horizon_years": 3,
        "bootstrap": {"replications": replications, "seed": seed, "jobs": 3},
        "ceac": {"max_dkk_per_sdq_point": 100000, "steps": 11},
        "budget": {"children": 18900, "case_open_children": None},
    }
    return {"economics": economics, "prices": {"price_year": 2019}}


def test_prepared_inputs_read_back_give_the_same_draws_bit_for_bit(tmp_path):
    inputs = _inputs(_panel())
    path = tmp_path / "economics" / "inputs.npz"
    inputs.write(path)
    back = EconomicsInputs.read(path)
    assert back.years == (2010, 2019) and back.last_year_cases == 123
    pd.testing.assert_series_equal(back.strata, inputs.strata, check_exact=True)
    for m, b in zip(inputs.moments, back.moments, strict=True):
        assert b.spec == m.spec and b.clusters.equals(m.clusters)
        for name in ("untreated_weight", "zw", "zwz", "yw", "zwy", "treated_weight", "treated_yw", "treated_zw"):
            a, r = getattr(m, name), getattr(b, name)
            assert r.dtype == a.dtype and r.shape == a.shape and r.flags.c_contiguous == a.flags.c_contiguous
            np.testing.assert_array_equal(r, a, strict=True)
        np.testing.assert_array_equal(b.treated_rows, m.treated_rows, strict=True)
    # the design shared by the first two effects is shared again (one solve per replication), the third is its own
    assert back.moments[1].zwz is back.moments[0].zwz and back.moments[2].zwz is not back.moments[0].zwz
    assert back.point_estimates() == inputs.point_estimates()
    config = _config(replications=23, seed=4)
    whole = inputs.bootstrap(config, **QUIET)
    parts = [back.bootstrap(config, part=part, **QUIET) for part in bootstrap_parts(23, 3)]
    pd.testing.assert_frame_equal(pd.concat(parts), whole, check_exact=True)
    assert list(whole.columns) == back.columns()


def test_prepared_inputs_file_depends_only_on_the_inputs(tmp_path):
    inputs = _inputs(_panel())
    inputs.write(tmp_path / "a.npz")
    EconomicsInputs.read(tmp_path / "a.npz").write(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    _inputs(_panel(seed=4)).write(tmp_path / "c.npz")
    assert (tmp_path / "c.npz").read_bytes() != (tmp_path / "a.npz").read_bytes()


def test_prepared_inputs_of_another_layout_or_missing_are_refused(tmp_path):
    with pytest.raises(EvaluationError, match="run the rule prepare_economics"):
        EconomicsInputs.read(tmp_path / "missing.npz")
    inputs = _inputs(_panel())
    inputs.write(tmp_path / "inputs.npz")
    with np.load(tmp_path / "inputs.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["meta"].item())
    arrays["meta"] = np.asarray(json.dumps({**meta, "format_version": FORMAT_VERSION + 1}))
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(EvaluationError, match="rerun the rule prepare_economics"):
        EconomicsInputs.read(tmp_path / "old.npz")
    strata = inputs.strata.iloc[1:]
    with pytest.raises(EvaluationError, match="strata"):
        EconomicsInputs(inputs.moments, strata, inputs.years, 1).write(tmp_path / "bad.npz")
