"""Few-treated-clusters inference in the pipeline: inference table, ICC and power, Monte Carlo jobs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ConfigError
from evaluation.methods.did.imputation import did_imputation
from evaluation.methods.inference import effective_clusters_balanced
from evaluation.methods.power import mde_formula
from evaluation.steps.fewclusters import (
    INFERENCE_COLUMNS,
    design_numbers,
    icc_anova,
    inference_outcomes,
    inference_table,
    montecarlo_seeds,
    montecarlo_settings,
    power_design_table,
    randomization_ci,
    run_replication_job,
    write_inference,
)


def _panel(n_muni: int, n_treated: int, *, seed: int = 3, effect: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Children of ``n_muni`` municipalities over 2010-2015; the first ``n_treated`` adopt in 2013."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(n_muni):
        first = 2013 if m < n_treated else 0
        shock = rng.normal(0, 0.5)
        for c in range(8):
            child = rng.normal()
            for year in range(2010, 2016):
                treated = int(first > 0 and year >= first)
                y = child + shock + 0.1 * (year - 2010) + effect * treated + rng.normal()
                rows.append((f"p{m}_{c}", 100 + m, year, first, int(first > 0), treated, treated, y))
    cols = ["person_id", "municipality", "year", "first_treat", "treated_unit", "post", "treated", "sdq"]
    panel = pd.DataFrame(rows, columns=cols)
    matched = pd.DataFrame({"person_id": panel["person_id"].unique()}).assign(weight=1.0)
    return panel, matched


CONFIG = {"outcomes": {"primary": ["sdq"]}, "estimation": {"alpha": 0.05}, "inference": {"bootstrap_draws": 999}}


def _quiet(_: str) -> None:
    return None


def test_wild_bootstrap_chosen_with_six_treated() -> None:
    panel, matched = _panel(20, 6)
    table = inference_table(panel, matched, CONFIG, progress=_quiet)
    assert list(table.columns) == INFERENCE_COLUMNS
    assert table["inference"].tolist() == ["wild_cluster_bootstrap", "cluster_robust"]
    assert table["chosen"].tolist() == [True, False]
    boot, robust = table.iloc[0], table.iloc[1]
    assert boot["weight_type"] == "webb"  # 6 < webb_below = 12
    assert (boot["n_treated_clusters"], boot["n_clusters"]) == (6, 20)
    g_star = effective_clusters_balanced(6, 20)
    assert boot["effective_clusters"] == pytest.approx(g_star)
    assert 1 <= g_star <= 20
    # the headline: the imputation estimator on the matched children, clustered by municipality
    reference = did_imputation(panel, "sdq", unit="municipality", time="year", cohort="first_treat", leave_out=True)
    assert robust["estimate"] == pytest.approx(reference.estimate)
    assert robust["ci_low"] == pytest.approx(reference.ci_low)
    assert boot["estimate"] == pytest.approx(reference.estimate)
    assert boot["ci_low"] < robust["estimate"] < boot["ci_high"]
    assert boot["draws"] == 999
    assert boot["reason"] == "too_few_for_t_tests"  # the step writes a code; the report words it


def test_randomization_inference_chosen_with_two_treated() -> None:
    panel, matched = _panel(12, 2)
    table = inference_table(panel, matched, CONFIG, progress=_quiet)
    ri = table.iloc[0]
    assert ri["inference"] == "randomization_inference" and ri["chosen"]
    # 12 choose 2 = 66 distinct reassignments <= 999: enumerated, so p is a multiple of 1/66
    assert ri["draws"] == 66
    assert ri["p_value"] * 66 == pytest.approx(round(ri["p_value"] * 66))
    assert ri["ci_low"] < ri["estimate"] < ri["ci_high"]
    assert table.iloc[1]["inference"] == "cluster_robust" and not table.iloc[1]["chosen"]


def test_cluster_robust_chosen_with_many_treated_gives_one_row() -> None:
    panel, matched = _panel(40, 30)
    table = inference_table(panel, matched, CONFIG, progress=_quiet)
    assert table["inference"].tolist() == ["cluster_robust"]
    assert bool(table["chosen"].iloc[0])


def test_forced_method_and_bad_config() -> None:
    panel, matched = _panel(20, 6)
    cfg = {**CONFIG, "inference": {"method": "cluster_robust"}}
    table = inference_table(panel, matched, cfg, progress=_quiet)
    assert table["inference"].tolist() == ["cluster_robust"]
    assert table["reason"].iloc[0] == "configured"
    with pytest.raises(ConfigError):
        inference_table(panel, matched, {**CONFIG, "inference": {"bootstrap_draws": "many"}}, progress=_quiet)


def test_randomization_ci_by_hand() -> None:
    # c = 0 (reassignments orthogonal to the observed one): p(b0) = (1 + #{|a| >= |2 - b0|}) / 21 with
    # |a| in {0.5, ..., 9.5}; p >= 0.1 needs two |a| >= |2 - b0|, i.e. |2 - b0| <= 9.5: [-7.5, 11.5]
    a = np.arange(-9.5, 10.5, 1.0)
    lo, hi = randomization_ci(a, np.zeros_like(a), 2.0, exact=False, alpha=0.1, step=1.0)
    assert lo == pytest.approx(-7.5, abs=1e-4)
    assert hi == pytest.approx(11.5, abs=1e-4)
    # exact: p is the plain share; 2 of 20 draws reach 9.5 -> 0.1 >= alpha = 0.1 still inside
    lo, hi = randomization_ci(a, np.zeros_like(a), 2.0, exact=True, alpha=0.1, step=1.0)
    assert (lo, hi) == (pytest.approx(-7.5, abs=1e-4), pytest.approx(11.5, abs=1e-4))
    # c = 1 everywhere (every reassignment is the observed one): never rejects, the interval is unbounded
    lo, hi = randomization_ci(a, np.ones_like(a), 2.0, exact=False, alpha=0.1)
    assert np.isinf(lo) and np.isinf(hi)


def test_icc_anova_by_hand() -> None:
    # cells [1, 3] and [5, 7]: MSB = 16, MSW = 2, n0 = 2 -> (16 - 2) / (16 + 2)
    df = pd.DataFrame({"g": [1, 1, 2, 2], "y": [1.0, 3.0, 5.0, 7.0]})
    assert icc_anova(df, "y", ["g"]) == pytest.approx(14 / 18)


def test_icc_anova_recovers_a_known_icc() -> None:
    rng = np.random.default_rng(11)
    k, n = 2000, 20
    cell = np.repeat(np.arange(k), n)
    y = rng.normal(0, np.sqrt(0.2), k)[cell] + rng.normal(0, np.sqrt(0.8), k * n)
    df = pd.DataFrame({"m": cell // 10, "year": cell % 10, "y": y})
    assert icc_anova(df, "y", ["m", "year"]) == pytest.approx(0.2, abs=0.03)


def test_power_table_uses_the_design_numbers() -> None:
    panel, _ = _panel(20, 6)
    d = design_numbers(panel, "sdq")
    assert (d["n_clusters"], d["treated_clusters"], d["cluster_size"]) == (20, 6, 8.0)
    assert (d["pre_periods"], d["post_periods"]) == (3.0, 3.0)
    cfg = {**CONFIG, "power": {"treated_clusters": [1, 5, 20], "iccs": [0.0, 0.1]}}
    table = power_design_table(panel, cfg)
    actual = table.loc[table["row"] == "actual"].iloc[0]
    icc = max(d["icc"], 0.0)
    expected = mde_formula(20, 6 / 20, 8.0, icc, sd=d["sd"], pre_periods=3.0, post_periods=3.0)
    assert actual["mde"] == pytest.approx(expected)
    grid = table.loc[table["row"] == "grid"]
    assert sorted(set(grid["treated_clusters"])) == [1, 5]  # 20 of 20 treated has no controls
    # more treated municipalities (towards half) and lower ICC detect smaller effects
    g = grid.set_index(["treated_clusters", "icc"])["mde"]
    assert g[(5, 0.0)] < g[(1, 0.0)] and g[(5, 0.0)] < g[(5, 0.1)]


def test_montecarlo_settings_convert_strings_from_the_command_line() -> None:
    cfg = montecarlo_settings({"montecarlo": {"replications": "6", "first_seed": "10"}})
    assert cfg["replications"] == 6 and cfg["first_seed"] == 10 and cfg["scale"] == "tiny"
    assert montecarlo_seeds({"montecarlo": {"replications": "3", "first_seed": 7}}) == [7, 8, 9]
    with pytest.raises(ConfigError):
        montecarlo_settings({"montecarlo": {"replications": "two"}})
    with pytest.raises(ConfigError):
        montecarlo_settings({"montecarlo": {"replications": 0}})
    with pytest.raises(ConfigError):
        montecarlo_settings({"montecarlo": {"scale": "huge"}})


def test_replication_job_writes_json_and_removes_microdata(tmp_path, monkeypatch) -> None:
    import evaluation.steps.montecarlo as mc

    seen = {}

    def fake(seed, config, workdir, progress, scenario):
        (workdir / "befolkning.parquet").write_text("microdata")
        seen.update(scale=config["synthetic"]["scale"], draws=config["inference"]["bootstrap_draws"])
        seen.update(scenario=scenario, sdq=config["synthetic"]["effects"].get("sdq_change"))
        if seed == 6:
            raise RuntimeError("replication failed")
        return {"seed": seed, "rows": [{"estimate": 1.0}]}

    monkeypatch.setattr(mc, "run_replication", fake)
    config = {"synthetic": {"scale": "demo"}, "montecarlo": {"bootstrap_draws": "199"}}
    work, out = tmp_path / "interim" / "5", tmp_path / "replications" / "5.json"
    run_replication_job(5, config, out, work)
    assert not work.exists()
    assert json.loads(out.read_text(encoding="utf-8")) == {"seed": 5, "rows": [{"estimate": 1.0}]}
    # montecarlo.* replaces the study's scale and draws; the default scenario keeps the configured effects
    assert seen == {"scale": "tiny", "draws": 199, "scenario": "constant", "sdq": None}
    run_replication_job(5, config, out, work, scenario="none")
    assert seen["scenario"] == "none" and seen["sdq"] == 0.0
    custom = {**config, "montecarlo": {"scenarios": {"steep": {"sdq_change": -3.0}}}}
    run_replication_job(5, custom, out, work, scenario="steep")
    assert seen["sdq"] == -3.0
    with pytest.raises(ConfigError, match="unknown scenario"):
        run_replication_job(5, custom, out, work, scenario="none")
    with pytest.raises(RuntimeError):
        run_replication_job(6, config, tmp_path / "6.json", tmp_path / "interim" / "6")
    assert not (tmp_path / "interim" / "6").exists() and not (tmp_path / "6.json").exists()


def test_the_estimate_step_writes_the_inference_table_of_its_own_fits(tmp_path) -> None:
    # the pipeline's estimate step writes inference.csv from its headline fits; the standalone table agrees
    from evaluation.steps.estimate import estimate_all

    panel, matched = _panel(20, 6)
    panel = panel.assign(sdq2=panel["sdq"] * 2 + 1)
    config = {**CONFIG, "outcomes": {"primary": ["sdq"], "secondary": ["sdq2", "absent"]}}
    assert inference_outcomes(config) == ["sdq", "sdq2", "absent"]
    rows: list[dict] = []
    estimates = estimate_all(panel, matched, config, _quiet, inference_out=rows)
    from_step = pd.DataFrame(rows, columns=INFERENCE_COLUMNS)
    pd.testing.assert_frame_equal(from_step, inference_table(panel, matched, config, progress=_quiet))
    assert from_step["outcome"].tolist() == ["sdq", "sdq", "sdq2", "sdq2"]  # the absent outcome is skipped
    chosen = from_step.loc[from_step["chosen"]].set_index("outcome")
    main = estimates.loc[estimates["analysis"] == "main"].set_index("outcome").loc[chosen.index]
    for column in ("estimate", "ci_low", "ci_high", "p_value"):
        assert np.allclose(chosen[column], main[column], rtol=0, atol=1e-12)
    panel.to_parquet(tmp_path / "panel.parquet")
    matched.to_parquet(tmp_path / "matched.parquet")
    paths = (tmp_path / "panel.parquet", tmp_path / "matched.parquet")
    write_inference(*paths, config, tmp_path / "t.csv", progress=_quiet)
    assert pd.read_csv(tmp_path / "t.csv")["outcome"].tolist() == from_step["outcome"].tolist()
