"""The disclosure audit of a release folder: clean tables pass with their suppressed cells counted; a small
count, a statistic over too few persons, a flagged value and an undeclared file each stop it, naming the place."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from evaluation.disclosure import (
    PUBLISHED_TABLES,
    RULES,
    DisclosureError,
    Statistics,
    TableRule,
    audit_results,
    write_audit,
)
from evaluation.errors import ConfigError
from evaluation.results import ESTIMATE_COLUMNS
from evaluation.steps import pipeline
from evaluation.steps.compare import publishable_flow
from evaluation.steps.estimate import publishable_estimates
from evaluation.steps.staggered.run import hide_few_children, suppress_counts

ROOT = Path(__file__).resolve().parents[1]
MIN_CELL = 5


def _csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_release(folder: Path) -> dict[str, dict[str, int]]:
    """A release folder whose tables went through the writers' suppression; returns the empty cells planted."""
    flow = pd.DataFrame(
        {
            "step": ["population", "open_case", "matched", "dropped_no_match_within_caliper"],
            "n_treated": [900, 120, 117, 3],  # 3 dropped: hidden, and the matched count as its complement
            "n_control": [4000, 800, 600, 0],  # zero rests on no child: published
        }
    )
    _csv(publishable_flow(flow, MIN_CELL), folder / "cohort" / "sample_flow.csv")
    trends = pd.DataFrame(
        {
            "outcome": ["sdq"] * 4,
            "year": [2010, 2010, 2011, 2011],
            "group": ["treated", "comparison_all", "treated", "comparison_all"],
            "mean": [10.5, None, 10.1, 9.9],  # the estimate step left a small cell's mean and n empty
            "n": pd.array([40, None, 38, 0], dtype="Int64"),
        }
    )
    _csv(trends, folder / "estimate" / "trends.csv")
    estimates = pd.DataFrame(
        [
            ("main", "sdq", "did_twfe_matched", "all", -1.2, 0.1, -1.4, -1.0, 0.001, 1021, 1199),
            ("naive", "sdq", "diff_in_means", "all", -0.5, 0.2, -0.9, -0.1, 0.02, 3, 1199),  # 3 treated children
        ],
        columns=ESTIMATE_COLUMNS,
    )
    _csv(publishable_estimates(estimates, MIN_CELL), folder / "estimates.csv")
    hetero = pd.DataFrame(
        {
            "outcome": ["sdq", "sdq"],
            "subgroup_variable": ["prior_placement"] * 2,
            "subgroup": ["no", "yes"],
            "estimate": [-1.4, -0.2],
            "se": [0.3, 1.5],
            "ci_low": [-2.0, -3.1],
            "ci_high": [-0.8, 2.7],
            "p_value": [0.001, 0.9],
            "n": [2000, 4],  # 4 children with a prior placement
        }
    )
    _csv(suppress_counts(hide_few_children(hetero, MIN_CELL), MIN_CELL), folder / "estimate" / "heterogeneity.csv")
    group_year = pd.DataFrame(
        {
            "indicator": ["caseload"] * 3,
            "group": ["treated", "comparison", "national"],
            "year": [2012] * 3,
            "value": [0.5, None, 0.4],
            "n_persons": pd.array([150, None, 900], dtype="Int64"),
            "suppressed": [0, 1, 0],
        }
    )
    _csv(group_year, folder / "implementation" / "group_year.csv")
    _csv(pd.DataFrame({"outcome": ["sdq"], "row": ["actual"], "treated_clusters": [2], "mde": [0.4]}),
         folder / "power" / "mde.csv")  # fmt: skip
    _csv(pd.DataFrame({"table": ["old"], "rule": ["primary"]}), folder / "disclosure" / "summary.csv")  # skipped
    return {
        "cohort/sample_flow.csv": {"primary": 1, "secondary": 1},
        "estimate/trends.csv": {"primary": 1, "few_persons": 1},
        "estimates.csv": {"primary": 1, "few_persons": 5},
        "estimate/heterogeneity.csv": {"primary": 1, "few_persons": 5},
        "implementation/group_year.csv": {"primary": 1, "few_persons": 1},
        "power/mde.csv": {},
    }


@pytest.fixture
def release(tmp_path: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    folder = tmp_path / "results" / "final"
    return folder, write_release(folder)


def test_clean_release_passes_and_the_summary_counts_the_planted_empty_cells(release) -> None:
    folder, planted = release
    summary = write_audit(folder, MIN_CELL, folder / "disclosure" / "summary.csv")
    assert sorted(summary["table"].unique()) == sorted(planted)
    for table, rules in planted.items():
        rows = summary.loc[summary["table"] == table].set_index("rule")
        assert rows.index.tolist() == list(RULES)
        assert rows["cells_suppressed"].to_dict() == {rule: rules.get(rule, 0) for rule in RULES}, table
    total = summary.groupby("table")["cells_total"].first()
    assert total["cohort/sample_flow.csv"] == 8  # two count columns x four steps
    assert total["estimates.csv"] == 2 * 2 + 5 * 2  # counts and statistics of two rows
    assert total["implementation/group_year.csv"] == 3 + 3
    assert total["power/mde.csv"] == 0  # no person-level cells: not counted
    assert (summary["min_cell"] == MIN_CELL).all()
    written = pd.read_csv(folder / "disclosure" / "summary.csv")
    assert written["cells_suppressed"].sum() == sum(sum(r.values()) for r in planted.values()) == 18


def _error(folder: Path) -> str:
    with pytest.raises(DisclosureError) as caught:
        audit_results(folder, MIN_CELL)
    return str(caught.value)


def test_small_count_is_refused_naming_file_row_and_column(release) -> None:
    folder, _ = release
    path = folder / "estimate" / "trends.csv"
    trends = pd.read_csv(path, dtype=str, keep_default_na=False)
    trends.loc[2, "n"] = "3"
    trends.to_csv(path, index=False)
    message = _error(folder)
    assert f"{path}, row 4, column n: a count of 3 is below disclosure.min_cell = 5" in message


def test_statistic_over_too_few_persons_is_refused(release) -> None:
    folder, _ = release
    path = folder / "estimate" / "heterogeneity.csv"
    hetero = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert hetero.loc[1, "n"] == "" and hetero.loc[1, "estimate"] == ""
    hetero.loc[1, "ci_high"] = "2.7"  # the writer forgot one column of the suppressed subgroup
    hetero.to_csv(path, index=False)
    message = _error(folder)
    assert f"{path}, row 3, column ci_high: the statistic 2.7 is published" in message
    assert "n = empty" in message


def test_statistic_beside_a_small_unsuppressed_count_names_the_count(tmp_path: Path) -> None:
    rule = TableRule(counts=("n",), statistics=(Statistics(("mean",), n=("n",)),))
    _csv(pd.DataFrame({"mean": [1.5], "n": [2]}), tmp_path / "x.csv")
    with pytest.raises(DisclosureError, match=r"x\.csv, row 2, column n: a count of 2"):
        audit_results(tmp_path, MIN_CELL, tables={"x.csv": rule})


def test_flagged_row_with_a_value_is_refused(release) -> None:
    folder, _ = release
    path = folder / "implementation" / "group_year.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[1, "value"] = "0.25"
    table.to_csv(path, index=False)
    assert f"{path}, row 3, column value: the row is marked suppressed" in _error(folder)


def test_undeclared_table_is_refused(release) -> None:
    folder, _ = release
    _csv(pd.DataFrame({"a": [1]}), folder / "estimate" / "new_table.csv")
    message = _error(folder)
    assert message == (
        f"no disclosure rule is declared for {folder / 'estimate' / 'new_table.csv'}: "
        "declare the file and its rule in evaluation.contract.results.RESULTS_FILES"
    )


def test_declared_column_missing_and_malformed_counts_are_refused(release) -> None:
    folder, _ = release
    path = folder / "estimate" / "trends.csv"
    pd.read_csv(path).rename(columns={"n": "n_child_years"}).to_csv(path, index=False)
    assert "lacks the column(s) n declared for it" in _error(folder)
    pd.read_csv(path).rename(columns={"n_child_years": "n"}).assign(n=["4.5", "", "38", "0"]).to_csv(path, index=False)
    assert f"{path}, row 2, column n: '4.5' is not a count of persons" in _error(folder)


def test_internal_folders_are_skipped_and_unsafe_threshold_refused(release) -> None:
    folder, planted = release
    _csv(pd.DataFrame({"n": [1]}), folder / "estimate" / "internal" / "scratch.csv")
    assert sorted(r.table for r in audit_results(folder, MIN_CELL)) == sorted(planted)
    with pytest.raises(ConfigError, match="below 3"):
        audit_results(folder, 2)


def test_a_higher_threshold_finds_counts_the_lower_one_allowed(release) -> None:
    folder, _ = release
    with pytest.raises(DisclosureError, match=r"row 4, column n: a count of 38 is below disclosure.min_cell = 40"):
        audit_results(folder, 40)


def test_rules_are_declared_consistently() -> None:
    with pytest.raises(DisclosureError, match="two rules"):
        TableRule(counts=("n",), flagged=("n",))
    with pytest.raises(DisclosureError, match="not declared as counts"):
        TableRule(counts=("n",), statistics=(Statistics(("mean",), n=("m",)),))
    with pytest.raises(DisclosureError, match="declares no columns"):
        TableRule(counts=("n",), no_person_cells="model summary")
    for name, rule in PUBLISHED_TABLES.items():
        assert name.endswith(".csv") and not name.startswith("/"), name
        assert rule.no_person_cells or rule.columns, name


def _rule_outputs() -> set[str]:
    """Every CSV file the workflow's rules write into a release folder (``results/{release}/...csv``)."""
    found = set()
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        found |= set(re.findall(r'"results/\{release\}/([^"]+\.csv)"', smk.read_text(encoding="utf-8")))
    return found - {"disclosure/summary.csv"}


def test_registry_covers_every_table_the_workflow_writes_into_a_release() -> None:
    outputs = _rule_outputs()
    assert len(outputs) >= 25  # the rules were read
    assert outputs <= set(PUBLISHED_TABLES), sorted(outputs - set(PUBLISHED_TABLES))
    assert set(PUBLISHED_TABLES) <= outputs, sorted(set(PUBLISHED_TABLES) - outputs)  # no stale declaration


def test_writers_leave_statistics_of_few_children_empty() -> None:
    estimates = pd.DataFrame(
        [
            ("main", "sdq", "e", "all", -1.0, 0.1, -1.2, -0.8, 0.01, 2, 50),
            ("main", "x", "e", "all", 1.0, 1.0, 0.0, 2.0, 0.5, 9, 0),
        ],
        columns=ESTIMATE_COLUMNS,
    )
    out = publishable_estimates(estimates, MIN_CELL)
    assert out["n_treated"].tolist()[0] is pd.NA and out["n_control"].tolist() == [50, 0]  # a zero stays
    assert out.loc[:, "estimate":"p_value"].isna().all().all()  # two treated children; no control child
    statistics = ["estimate", "se", "ci_low", "ci_high", "p_value"]
    hetero = pd.DataFrame({"estimate": [1.0, 2.0], "se": 1.0, "ci_low": 0.0, "ci_high": 3.0, "p_value": 0.2})
    hetero["n"] = [5, 4]
    hidden = hide_few_children(hetero, MIN_CELL)
    assert hidden.loc[0].notna().all() and hidden.loc[1, statistics].isna().all()


def test_pipeline_adapter_audits_the_folder_of_the_study_file(release, tmp_path: Path) -> None:
    folder, planted = release
    (folder / "study.json").write_text("{}", encoding="utf-8")
    summary = tmp_path / "out" / "summary.csv"
    pipeline.audit_disclosure(
        SimpleNamespace(study=str(folder / "study.json")),
        SimpleNamespace(summary=str(summary)),
        [str(tmp_path / "logs" / "audit_disclosure.log")],
        {"disclosure": {"min_cell": MIN_CELL}},
    )
    assert pd.read_csv(summary)["cells_suppressed"].sum() == 18
    log = (tmp_path / "logs" / "audit_disclosure.log").read_text(encoding="utf-8")
    assert f"{len(planted)} tables under {folder} pass the disclosure rules (min_cell = 5)" in log
    assert "18 cells suppressed" in log


def test_counts_of_municipalities_are_not_held_to_the_threshold(release) -> None:
    """A study of one adopter: the caseload rows of estimates.csv count municipalities (1 treated) and pass."""
    folder, _ = release
    path = folder / "estimates.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    caseload = table.iloc[[0]].assign(outcome="caseload", n_treated="1", n_control="97")
    pd.concat([table, caseload], ignore_index=True).to_csv(path, index=False)
    records = {r.table: r for r in audit_results(folder, MIN_CELL)}
    assert records["estimates.csv"].suppressed == {"primary": 1, "few_persons": 5}  # as before: the row adds none
    table.loc[0, "n_treated"] = "1"  # one treated child in a child-level outcome still stops the audit
    table.to_csv(path, index=False)
    assert f"{path}, row 2, column n_treated: a count of 1 is below" in _error(folder)


def test_the_audit_rules_come_from_the_results_registry() -> None:
    """A published table's counts of persons are its registry's; a file without a rule cannot be declared."""
    from evaluation.contract.results import Count, ResultsFile, find_results_file

    for name, rule in PUBLISHED_TABLES.items():
        declared = find_results_file(f"results/final/{name}")
        assert declared is not None, name
        persons = [c.column for c in declared.counts if c.unit in ("persons", "child_years")]
        assert set(persons) <= set(rule.counts), name  # every count of persons is held to min_cell
    bare = ResultsFile("results/{release}/new.csv", "new_rule", columns="x n")
    with pytest.raises(DisclosureError, match=r"results/\{release\}/new.csv: a table rule declares columns"):
        bare.table_rule()
    counted = ResultsFile("results/{release}/new.csv", "new_rule", (Count("n", "persons"),), columns="x n")
    assert counted.table_rule().counts == ("n",)
    with pytest.raises(DisclosureError, match="declares no columns"):
        ResultsFile("results/{release}/new.csv", "r", (Count("n", "persons"),), no_person_cells="why").table_rule()
