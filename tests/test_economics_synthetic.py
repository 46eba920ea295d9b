"""Economics end to end on the tiny synthetic registry: the planted cost effect and the accounts reconciliation.

The synthetic accounts (``docs/synthetic-registry.md``) are, per municipality, year and function, the
micro-costs of the observed spells in price-year prices, inflated to current prices by ``price_growth``
a year, divided by ``1 - u`` with ``u ~ U(0.10, 0.20)`` and rounded to DKK 100 (0.1 of DKK 1,000).
Deflating the accounts with the same index therefore gives a share explained ``1 - u`` in [0.80, 0.90]
for every cell, up to the rounding of at most DKK 50 (in current prices) per cell: the tolerance below.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.config import load_config, release_config
from evaluation.errors import EvaluationError
from evaluation.io import write_csv
from evaluation.methods.economics.prices import constant_growth_index, deflator
from evaluation.methods.economics.resample import bootstrap_parts
from evaluation.steps.cohort import build_cohort, read_extracts
from evaluation.steps.compare import match_cohort
from evaluation.steps.economics import (
    ECONOMICS_COLUMNS,
    EconomicsInputs,
    bootstrap_draws,
    economics_from_inputs,
    estimate_economics,
    prepare_economics,
    run_economics,
    run_economics_bootstrap,
    run_prepare_economics,
)
from evaluation.steps.economics.accounts import micro_costs, reconcile
from evaluation.steps.ingest import ingest_folder, load_key
from evaluation.steps.simulate import simulate
from evaluation.steps.simulate.settings import resolve_config

REPLICATIONS = 99  # enough for a 95 % percentile interval in a fast test; the pipeline uses config


def economics_section(index: pd.Series) -> dict:
    return {
        "price_index": {"values": {str(y): float(v) for y, v in index.items()}, "source": "synthetic price growth"},
        "price_year": None,
        "discount_rate": 0.035,
        "caseworker_cost": {"salary_dkk_per_year": 500000, "salary_price_year": 2013, "overhead_share": 0.25},
        "horizon_years": 5,
        "bootstrap": {"replications": REPLICATIONS, "seed": 2024},
        "ceac": {"max_dkk_per_sdq_point": 100000, "steps": 11},
        "budget": {"children": 18900, "case_open_children": None},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory, root):
    tmp = tmp_path_factory.mktemp("economics")
    # the final release: all data (the extracts below are not cut)
    config = release_config(
        load_config(root / "config" / "config.yaml", overrides={"synthetic": {"scale": "tiny"}}), "final"
    )
    raw, interim = tmp / "raw", tmp / "interim"
    simulate(
        raw, scale="tiny", seed=int(config["synthetic"]["seed"]), fmt="parquet", config=config, progress=lambda _: None
    )
    ingest_folder(
        raw,
        interim,
        on_invalid="stop",
        quarantine_dir=tmp / "quarantine",
        accounting_path=tmp / "accounting.csv",
        key=load_key(raw),
        progress=lambda _: None,
    )
    names = ("befolkning", "foraeldre", "underretninger", "forebyggende", "anbringelser_forloeb", "udfald")
    extracts = read_extracts(interim, names)
    extracts.update(read_extracts(interim, ("anbringelser_haendelser", "sagsbehandlere", "regnskab")))
    panel = build_cohort(extracts, config, progress=lambda _: None).panel
    matched = match_cohort(panel, config, progress=lambda _: None).matched
    syn = resolve_config(config)["synthetic"]
    index = constant_growth_index(
        range(int(syn["first_year"]), int(syn["last_year"]) + 1),
        growth=float(syn["model"]["price_growth"]),
        base_year=int(config["prices"]["price_year"]),
    )
    config = {**config, "economics": economics_section(index)}
    truth = json.loads((raw / "truth.json").read_text())
    n_children = float(extracts["befolkning"]["year"].eq(panel["year"].max()).sum())
    result = estimate_economics(
        extracts, panel, matched, config, population_children=n_children, progress=lambda _: None
    )
    return {
        "extracts": extracts,
        "panel": panel,
        "matched": matched,
        "config": config,
        "index": index,
        "truth": truth,
        "n_children": n_children,
        "result": result,
        "interim": interim,
    }


def test_planted_cost_effect_lies_in_the_bootstrap_interval(world):
    table = world["result"].table.set_index("item")
    row = table.loc["measure_cost_change_per_year"]
    truth = world["truth"]["att_cost_per_child"]["value"]
    assert row["ci_low"] <= truth <= row["ci_high"], (row["ci_low"], truth, row["ci_high"])
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["unit"].startswith("DKK per treated child-year")


def test_planted_sdq_effect_and_more_caseworkers(world):
    table = world["result"].table.set_index("item")
    sdq = table.loc["sdq_change"]
    assert sdq["ci_low"] <= world["truth"]["att_sdq"]["value"] <= sdq["ci_high"]
    # The planted caseload reduction (45 %) means more FTE per case: the interval lies above zero.
    assert table.loc["extra_fte_per_case_year", "ci_low"] > 0
    assert table.loc["staff_cost_per_year", "estimate"] == pytest.approx(
        table.loc["extra_fte_per_case_year", "estimate"] * table.loc["cost_per_fte_year", "estimate"], rel=1e-12
    )


def test_table_has_the_contracted_items(world):
    table = world["result"].table
    assert list(table.columns) == ECONOMICS_COLUMNS
    required = {
        "staff_cost_per_year",
        "measure_cost_change_per_year",
        "net_cost_per_year",
        "payback_year",
        "cost_per_sdq_point",
        "cost_per_avoided_placement",
        "cumulative_net_cost",
        "micro_costing_share_of_accounts",
        "net_saving_probability",
        "cumulative_saving_probability",
        "payback_probability",
    }
    assert required <= set(table["item"])
    assert (table["price_year"] == 2019).all()
    t = table.set_index("item")
    assert t.loc["net_cost_per_year", "estimate"] == pytest.approx(
        t.loc["staff_cost_per_year", "estimate"] + t.loc["measure_cost_change_per_year", "estimate"], rel=1e-12
    )
    ceac = world["result"].ceac
    assert ceac["probability_cost_effective"].is_monotonic_increasing  # net-benefit rises with WTP if gains > 0
    # the probabilities come from the same draws: a saving at zero willingness to pay is the CEAC's first point
    saving = t.loc["net_saving_probability", "estimate"]
    assert saving == pytest.approx(ceac["probability_cost_effective"].iloc[0], abs=1e-12)
    assert 0 <= t.loc["payback_probability", "estimate"] <= 1


def test_effects_are_the_headlines_own(world):
    # the economics' effects on SDQ, placement entries and cost are the headline's imputation estimates
    from evaluation.steps.estimate import headline_fit, headline_sample

    sample, covariates, controls = headline_sample(world["panel"], world["matched"], world["config"], print)
    table = world["result"].table.set_index("item")
    for item, outcome in (
        ("sdq_change", "sdq"),
        ("placement_entry_change", "placement_rate"),
        ("measure_cost_change_per_year", "cost_per_child"),
    ):
        fit = headline_fit(sample, outcome, covariates, world["config"], controls=controls)
        assert table.loc[item, "estimate"] == pytest.approx(fit.estimate, rel=1e-9), item


def test_micro_costing_reconciles_with_the_accounts_cell_by_cell(world):
    ex, index = world["extracts"], world["index"]
    years = sorted(int(y) for y in world["panel"]["year"].unique())
    micro = micro_costs(ex["anbringelser_forloeb"], ex["forebyggende"], world["config"]["prices"], years)
    cells, summary = reconcile(micro, ex["regnskab"], index, price_year=2019, min_cell=5)
    cells = cells.loc[cells["accounts_dkk"] > 0]
    assert (cells["micro_dkk"] > 0).all()  # every accounted cell has spells behind it
    rounding = 50.0 * deflator(cells["year"], index, price_year=2019)  # DKK 50 current prices, in fixed prices
    a = cells["accounts_dkk"].to_numpy()
    lower = 0.80 * a / (a + rounding)
    upper = 0.90 * a / np.maximum(a - rounding, 1e-9)
    share = cells["share_explained"].to_numpy()
    assert ((share >= lower - 1e-9) & (share <= upper + 1e-9)).all()
    overall = summary.loc[(summary["year"] == 0) & (summary["function"] == "total"), "share_explained"].item()
    assert 0.80 <= overall <= 0.90
    item = world["result"].table.set_index("item").loc["micro_costing_share_of_accounts", "estimate"]
    assert item == pytest.approx(overall, rel=1e-12)


def test_bootstrap_in_separate_parts_gives_the_same_tables(world):
    # what the pipeline does: economics_bootstrap jobs, one per part, gathered by estimate_economics
    quiet = {"progress": lambda _: None}
    boot = world["config"]["economics"]["bootstrap"]
    args = (world["extracts"], world["panel"], world["matched"], world["config"])
    draws = pd.concat([bootstrap_draws(*args, part=part, **quiet) for part in bootstrap_parts(boot["replications"], 3)])
    again = estimate_economics(*args, population_children=world["n_children"], draws=draws, **quiet)
    for name in ("table", "costs_by_year", "ceac", "budget"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(world["result"], name), check_exact=True)
    with pytest.raises(EvaluationError, match="rerun the economics_bootstrap jobs"):
        estimate_economics(*args, population_children=world["n_children"], draws=draws.iloc[:-1], **quiet)


def test_prepared_inputs_read_from_their_file_give_what_fresh_ones_give(world, tmp_path):
    # what the pipeline does: prepare_economics once, economics_bootstrap jobs and estimate_economics read the file
    quiet = {"progress": lambda _: None}
    args = (world["extracts"], world["panel"], world["matched"], world["config"])
    fresh = prepare_economics(*args, **quiet)
    fresh.write(tmp_path / "inputs.npz")
    inputs = EconomicsInputs.read(tmp_path / "inputs.npz")
    assert inputs.point_estimates() == fresh.point_estimates()
    assert inputs.years == tuple(sorted(world["panel"]["year"].unique()))
    assert inputs.last_year_cases == int((world["panel"]["year"] == inputs.years[-1]).sum())
    parts = bootstrap_parts(world["config"]["economics"]["bootstrap"]["replications"], 3)
    draws = pd.concat([inputs.bootstrap(world["config"], part=part, **quiet) for part in parts])
    pd.testing.assert_frame_equal(draws, bootstrap_draws(*args, **quiet), check_exact=True)  # fresh, in one run
    again = economics_from_inputs(
        inputs, world["extracts"], world["config"], population_children=world["n_children"], draws=draws, **quiet
    )
    for name in ("table", "costs_by_year", "ceac", "reconciliation", "budget", "draws"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(world["result"], name), check_exact=True)


def test_the_steps_files_equal_the_tables_of_data_frames(world, tmp_path):
    # the three rules' functions: prepare once, the bootstrap in parts, then the estimates from the file and the parts
    quiet = {"progress": lambda _: None}
    config = dict(world["config"])
    config["economics"] = {**config["economics"], "bootstrap": {**config["economics"]["bootstrap"], "jobs": 3}}
    panel_path, matched_path = tmp_path / "panel.parquet", tmp_path / "matched.parquet"
    world["panel"].to_parquet(panel_path)
    world["matched"].to_parquet(matched_path)
    inputs_path = tmp_path / "economics" / "inputs.npz"
    run_prepare_economics(world["interim"], panel_path, matched_path, config, inputs_path, **quiet)
    draws = [tmp_path / f"economics_bootstrap/{part}.parquet" for part in range(3)]
    for part, path in enumerate(draws):
        run_economics_bootstrap(inputs_path, config, part, path, **quiet)
    with pytest.raises(EvaluationError, match="part 3 does not exist"):
        run_economics_bootstrap(inputs_path, config, 3, tmp_path / "none.parquet", **quiet)
    figures = tmp_path / "results" / "economics"
    run_economics(
        world["interim"], inputs_path, config, tmp_path / "results/economics.csv", figures, draws_paths=draws, **quiet
    )
    expected = world["result"]
    written = {
        tmp_path / "results/economics.csv": expected.table,
        figures / "costs_by_year.csv": expected.costs_by_year,
        figures / "ceac.csv": expected.ceac,
        figures / "reconciliation.csv": expected.reconciliation,
    }  # the budget's population is counted by age in the step, by row in the fixture
    for path, frame in written.items():
        assert path.read_text() == write_csv(frame, tmp_path / "expected.csv").read_text(), path.name
