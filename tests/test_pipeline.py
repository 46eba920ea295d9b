"""End to end: the real Snakemake pipeline on the tiny synthetic registry.

The pipeline runs once per test session in a copy of the workflow (as a user's
clone would; the ``tiny_run`` fixture of conftest.py, shared with the other end-to-end tests), and the
tests read what it wrote; the tests that plant files plant them in a copy of the run. The planted truth comes from
truth.json, which no pipeline step reads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workspace import TINY_CONFIG, copy_run, jobs_run, make_workspace, tiny_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
ESTIMATE_COLUMNS = [
    "analysis",
    "outcome",
    "estimator",
    "subgroup",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_control",
]


def _snakemake(workdir: Path, *args: str, package: Path | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir``; with ``package``, on the ``evaluation`` package in that folder (PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "EVALUATION_PSEUDONYM_KEY"}
    if package is not None:
        env["PYTHONPATH"] = str(package)
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", "--config", *TINY_CONFIG, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def run(tiny_run) -> Path:
    """The session's tiny pipeline run (conftest.py), shared with the browser tests."""
    return tiny_run


@pytest.fixture(scope="module")
def run_copy(run, tmp_path_factory) -> Path:
    """A copy of the shared run, for the tests that plant files (other workers read the shared run meanwhile)."""
    return copy_run(run, tmp_path_factory.mktemp("copy") / "study")


@pytest.fixture(scope="module")
def truth(run) -> dict:
    return json.loads((run / "data/raw/synthetic/truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def estimates(run) -> pd.DataFrame:
    return pd.read_csv(run / "results/final/estimates.csv")


def test_dry_run_shows_the_dag(tmp_path):
    workdir = make_workspace(tmp_path)
    proc = _snakemake(workdir, "-n")
    assert proc.returncode == 0, proc.stderr
    for rule in ("simulate", "ingest", "build_panel", "match_children", "estimate_effects", "render_report"):
        assert rule in proc.stdout


def test_bad_config_value_stops_with_a_readable_message(tmp_path):
    workdir = make_workspace(tmp_path)
    proc = subprocess.run(
        [SNAKEMAKE, "--cores", "1", "-n", "--config", "synthetic={scale: huge}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "synthetic.scale = 'huge' is not allowed" in output
    assert "Traceback" not in output


def test_reports_are_rendered(run):
    html = run / "reports/_output/interim.html"
    pdf = run / "reports/_output/interim.pdf"
    assert html.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = html.read_text(encoding="utf-8")
    assert "{{<" not in text and "Sammenfatning" in text


def test_estimates_table_has_the_contract_columns(estimates):
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    assert {"main", "naive", "unmatched_did"} <= set(estimates["analysis"])
    assert {"sdq", "cost_per_child"} <= set(estimates["outcome"])
    assert (estimates["se"] > 0).all()
    assert (estimates["ci_low"] < estimates["estimate"]).all() and (estimates["estimate"] < estimates["ci_high"]).all()


@pytest.mark.parametrize(
    ("outcome", "truth_key"),
    [("sdq", "att_sdq"), ("school_absence", "att_school_absence"), ("cost_per_child", "att_cost_per_child")],
)
def test_matched_did_recovers_the_planted_effect(estimates, truth, outcome, truth_key):
    true = truth[truth_key]["value"]
    main = estimates.query("analysis == 'main' and outcome == @outcome").iloc[0]
    assert main["ci_low"] <= true <= main["ci_high"], (main.to_dict(), true)


# Wellbeing outcomes only: at the tiny scale the cost estimate's standard error
# (about DKK 13,000 per child-year) is as large as the naive bias, so the two
# cannot be told apart there; see docs/synthetic-registry.md.
@pytest.mark.parametrize(("outcome", "truth_key"), [("sdq", "att_sdq"), ("school_absence", "att_school_absence")])
def test_naive_comparison_is_measurably_further_from_the_truth(estimates, truth, outcome, truth_key):
    true = truth[truth_key]["value"]
    main = estimates.query("analysis == 'main' and outcome == @outcome").iloc[0]
    naive = estimates.query("analysis == 'naive' and outcome == @outcome").iloc[0]
    # The naive estimate misses the truth by more than two of the main estimate's
    # standard errors beyond the main estimate's own error, and its CI excludes the truth.
    assert abs(naive["estimate"] - true) > abs(main["estimate"] - true) + 2 * main["se"]
    assert not naive["ci_low"] <= true <= naive["ci_high"]


def test_every_input_row_is_accounted_for(run):
    accounting = pd.read_csv(run / "results/ingest/row_accounting.csv")
    for release in ("interim", "final"):  # each release's folder holds the same accounting
        copy = run / f"results/{release}/ingest/row_accounting.csv"
        assert copy.read_bytes() == (run / "results/ingest/row_accounting.csv").read_bytes()
    kept_or_set_aside = accounting["rows_accepted"] + accounting["rows_quarantined"]
    assert (accounting["rows_read"] == kept_or_set_aside + accounting["rows_duplicate_dropped"]).all()
    raw = run / "data/raw/synthetic"
    for row in accounting.itertuples():
        assert row.rows_read == len(pd.read_parquet(raw / row.file)), row.file


def test_no_raw_identifier_leaves_ingestion(run):
    raw_ids = pd.read_parquet(run / "data/raw/synthetic/befolkning.parquet", columns=["PNR"])["PNR"]
    sample = set(raw_ids.iloc[:: max(1, len(raw_ids) // 200)])
    for path in [*(run / "data/interim").rglob("*.parquet"), *(run / "results").rglob("*.*")]:
        if "quarantine" in path.parts:
            continue
        blob = path.read_bytes()
        leaked = [pnr for pnr in sample if pnr.encode() in blob]
        assert not leaked, f"{path} holds raw person numbers"


def test_every_planned_document_is_rendered(run):
    from evaluation.report.documents import planned_outputs

    config = tiny_config(run)
    expected = planned_outputs(config)
    assert any("final-en" in p for p in expected) and any("factsheet-657" in p for p in expected)
    missing = [p for p in expected if not (run / p).is_file()]
    assert not missing


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("planted.csv", "municipality,child\n657,0101121234\n", "cpr_number"),
        ("final/planted_cells.csv", "municipality,year,n_children\n657,2015,12\n657,2016,3\n", "small_cell"),
    ],
)
def test_output_guard_fails_a_run_with_a_planted_identifier_or_small_cell(run_copy, name, content, rule):
    planted = run_copy / "results" / name
    planted.write_text(content, encoding="utf-8")
    try:
        proc = _snakemake(run_copy, "--forcerun", "check_outputs")
    finally:
        planted.unlink()
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"results/{name}" in output and rule in output
    assert "0101121234" not in output  # the guard names the cell without printing the identifier


#: The steps whose outputs depend on disclosure.min_cell (they suppress cells, or record or check the threshold).
SUPPRESSING_STEPS = {
    "write_study",
    "match_children",
    "estimate_effects",
    "estimate_staggered",
    "estimate_economics",
    "monitor_implementation",
    "factsheet_figures",
    "synthetic_control",
    "audit_disclosure",
    "render_report",
    "check_outputs",
}


def test_a_new_disclosure_threshold_reruns_every_step_that_suppresses_and_not_the_data_steps(run_copy):
    """The rerun contract: each rule declares the settings its step reads (``params``), so that changing
    ``disclosure.min_cell`` on the command line reruns exactly what depends on it."""
    proc = _snakemake(run_copy, "disclosure={min_cell: 7}", "-n")  # a second value of --config
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = set(jobs_run(proc.stdout))
    assert SUPPRESSING_STEPS <= jobs, f"steps that suppress but would not rerun: {SUPPRESSING_STEPS - jobs}"
    data_steps = {"simulate", "ingest", "cut_extracts", "build_panel", "municipality_panel"}
    assert not jobs & (data_steps | {"compare_municipalities", "power_table"})


#: The economics step's rules and the rules that read their results, directly or further down. The three
#: economics rules import ``evaluation.steps.economics``, whose ``__init__`` loads every module of the step, so an
#: edit of ``ceac.py`` reruns the preparation and the bootstrap too (their digests count what Python loads).
ECONOMICS_AND_DEPENDANTS = {
    "prepare_economics",
    "economics_bootstrap",
    "estimate_economics",
    "audit_disclosure",
    "render_report",
    "check_outputs",
}


def test_editing_the_code_of_one_step_reruns_that_step_and_its_dependants_and_not_the_others(run_copy, tmp_path):
    """The rerun contract for code: each rule declares the digest of the package code its step runs
    (``params: code``, evaluation.code_digest), so that an edit of a module only the economics step imports
    reruns exactly the economics step and what depends on its results."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "evaluation", src / "evaluation", ignore=shutil.ignore_patterns("__pycache__"))
    module = src / "evaluation" / "methods" / "economics" / "ceac.py"
    module.write_text(module.read_text(encoding="utf-8") + "# a harmless edit\n", encoding="utf-8")
    proc = _snakemake(run_copy, "-n", package=src)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = set(jobs_run(proc.stdout)) - {"all", "total"}
    # exactly these: the data steps (simulate, ingest, cut_extracts, build_panel, municipality_panel) and the
    # other analyses stay
    assert jobs == ECONOMICS_AND_DEPENDANTS


def test_every_count_column_of_every_results_file_declares_its_unit(run):
    """The results registry (evaluation.contract.results) knows every file and the unit of every count in it."""
    from evaluation.contract.results import undeclared_counts

    assert undeclared_counts(run / "results") == []


def test_every_results_table_has_the_columns_the_registry_declares(run):
    """Each CSV file under ``results/`` has exactly its declared columns, in order (evaluation.contract.results)."""
    import csv

    from evaluation.contract.results import header_problem

    tables = sorted((run / "results").rglob("*.csv"))
    assert tables
    problems = []
    for path in tables:
        with path.open(encoding="utf-8") as handle:
            problems.append(header_problem(path, next(csv.reader(handle))))
    assert [p for p in problems if p] == []


def test_interim_release_is_cut_off_and_final_release_uses_all_data(run):
    """The interim report's results stop at report.cutoff_date; the final report's use every year."""

    config = tiny_config(run)
    cutoff = config["report"]["cutoff_date"]
    assert cutoff is not None  # the default study has an interim cut-off
    interim = json.loads((run / "results/interim/study.json").read_text(encoding="utf-8"))
    final = json.loads((run / "results/final/study.json").read_text(encoding="utf-8"))
    assert interim["cutoff_date"] == cutoff and final["cutoff_date"] is None
    left_out = pd.read_csv(run / "results/interim/ingest/cutoff_accounting.csv")["rows_removed"].sum()
    assert left_out > 0
    assert pd.read_csv(run / "results/final/ingest/cutoff_accounting.csv")["rows_removed"].sum() == 0
    # fewer child-years reach the interim analysis, so its numbers differ
    main = {
        release: pd.read_csv(run / f"results/{release}/estimates.csv").query("analysis == 'main'")
        for release in ("interim", "final")
    }
    assert (main["interim"]["n_treated"].to_numpy() < main["final"]["n_treated"].to_numpy()).all()
    assert (main["interim"]["estimate"].to_numpy() != main["final"]["estimate"].to_numpy()).all()
    # the rendered reports say which data they rest on
    cut_year = cutoff[:4]
    assert f"december {cut_year}" in (run / "reports/_output/interim.html").read_text(encoding="utf-8")
    assert f"december {cut_year}" not in (run / "reports/_output/final.html").read_text(encoding="utf-8")


def test_comparison_municipalities_are_never_adopters_with_their_distances(run):

    config = tiny_config(run)
    adopters = {int(m) for m in config["treatment"]["adoptions"]}
    k = config["matching"]["municipalities"]["k"]
    table = pd.read_csv(run / "results/final/compare/municipalities.csv")
    chosen = table.loc[table["selected"]]
    assert set(chosen["treated"]) == adopters
    assert (chosen.groupby("treated").size() == k).all()
    assert not set(table["comparison"]) & adopters  # only never-adopters are candidates
    # the selected ones are each adopter's k nearest
    for _, rows in table.groupby("treated"):
        rows = rows.sort_values("distance")
        assert rows["selected"].head(k).all() and not rows["selected"].iloc[k:].any()
    balance = pd.read_csv(run / "results/final/compare/municipality_balance.csv")
    assert set(balance["feature"]) == set(config["matching"]["municipalities"]["features"])
