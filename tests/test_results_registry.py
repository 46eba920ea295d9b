"""The registry of results files (evaluation.contract.results): paths, producers and the unit of every count."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from evaluation.contract.results import (
    COUNT_NAME,
    KINDS,
    PERSON_UNITS,
    RESULTS_FILES,
    UNITS,
    columns_of,
    find_results_file,
    header_problem,
    undeclared_counts,
)
from evaluation.io import write_csv

ROOT = Path(__file__).resolve().parents[1]


def test_every_declaration_names_known_units_once():
    assert PERSON_UNITS <= set(UNITS)
    paths = [f.path for f in RESULTS_FILES]
    assert len(paths) == len(set(paths))
    for entry in RESULTS_FILES:
        columns = [c.column for c in entry.counts]
        assert len(columns) == len(set(columns)), entry.path
        for count in entry.counts:
            assert count.units <= set(UNITS), (entry.path, count.column)
            assert COUNT_NAME.match(count.column), (entry.path, count.column)  # the check would find it


def test_every_results_file_of_the_rules_is_declared_with_its_producer():
    """Each ``results/...`` output of workflow/rules/*.smk is in the registry, with the rule that writes it."""
    found = 0
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        for rule, body in re.findall(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", text, flags=re.DOTALL | re.MULTILINE):
            outputs = body.split("output:", 1)[1].split("log:", 1)[0] if "output:" in body else ""
            for path in re.findall(r'"(results/[^"]+)"', outputs):
                found += 1
                declared = find_results_file(path)
                assert declared is not None, path
                assert declared.producer == rule, (path, rule, declared)
    assert found >= 40


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("results/final/estimate/inference.csv", "results/{release}/estimate/inference.csv"),
        ("/tmp/x/results/interim/synth/average.csv", "results/{release}/synth/average.csv"),
        ("results/ingest/row_accounting.csv", "results/ingest/row_accounting.csv"),
        ("results/final/ingest/row_accounting.csv", "results/{release}/ingest/row_accounting.csv"),
        ("results/montecarlo/none/replications/3.json", "results/montecarlo/{scenario}/replications/{seed}.json"),
        ("results/final/estimate/other.csv", None),
        ("elsewhere/estimate/inference.csv", None),
    ],
)
def test_paths_are_found_by_their_pattern(path, expected):
    declared = find_results_file(path)
    assert (declared.path if declared else None) == expected


def test_the_unit_of_a_count_may_depend_on_the_row():
    estimates = find_results_file("results/final/estimates.csv")
    table = pd.DataFrame({"outcome": ["sdq", "caseload", "cost_per_child"], "n_treated": [120, 1, 118]})
    assert estimates.person_rows("n_treated", table) == [True, False, True]
    assert estimates.person_rows("n_treated", table.drop(columns="outcome")) == [True] * 3  # unknown: persons
    assert estimates.person_rows("estimate", table) is None  # not a count
    inference = find_results_file("results/final/estimate/inference.csv")
    assert inference.person_rows("n_treated_clusters", table) == [False] * 3


def test_undeclared_files_and_counts_are_listed(tmp_path):
    results = tmp_path / "results"
    (results / "final" / "synth").mkdir(parents=True)
    pd.DataFrame({"outcome": ["x"], "att_average": [1.0], "n_units": [2]}).to_csv(
        results / "final" / "synth" / "average.csv", index=False
    )
    study = {"n_municipalities": 4, "municipalities": [615, 657], "groups": [{"n_children": 3}]}  # a list: no count
    (results / "final" / "study.json").write_text(json.dumps(study))
    (results / "final" / "new.csv").write_text("a\n1\n", encoding="utf-8")
    assert undeclared_counts(results) == [
        "results/final/new.csv: not declared in evaluation.contract.results.RESULTS_FILES",
        "results/final/study.json: count column n_children has no declared unit",
        "results/final/synth/average.csv: count column n_units has no declared unit",
        "results/final/synth/average.csv: declared count column n_adopters is not in the file",
    ]


def test_write_csv_keeps_small_numbers_and_counts_and_gives_the_same_bytes(tmp_path):
    frame = pd.DataFrame(
        {
            "p_value": [3.2e-9, 0.05, float("nan")],
            "n": [1843.0, 12.0, float("nan")],  # a count column that is float because of an empty cell
            "dkk": [16123456789.25, -41234.5, 0.1 + 0.2],
            "label": ["a", "æ", "b"],
        }
    )
    path = write_csv(frame, tmp_path / "sub" / "table.csv")
    text = path.read_bytes()
    assert text == write_csv(frame.copy(), tmp_path / "again.csv").read_bytes()
    assert text.decode("utf-8").splitlines() == [
        "p_value,n,dkk,label",
        "3.2e-09,1843,16123456789.2,a",
        "0.05,12,-41234.5,æ",
        ",,0.3,b",
    ]
    assert b"\r" not in text


def test_every_results_table_is_written_by_write_csv():
    """One writer, one number format: no step calls ``DataFrame.to_csv`` itself.

    The generator's extracts (``evaluation.steps.simulate``) are data in Statistics Denmark's formats, not results.
    """
    writers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "evaluation").rglob("*.py"))
        if "simulate" not in path.parts and path.name != "io.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ".to_csv(" in line
    ]
    assert writers == []


def test_every_csv_declares_its_columns_and_its_counts_are_number_columns():
    for entry in RESULTS_FILES:
        if not entry.path.endswith(".csv"):
            assert entry.columns == "", entry.path
            continue
        assert entry.names, entry.path
        assert len(entry.columns.split()) == len(entry.names), f"{entry.path}: a column is declared twice"
        assert set(entry.kinds.values()) <= set(KINDS), entry.path
        for count in entry.counts:
            assert entry.kinds.get(count.column) == "number", (entry.path, count.column)


def test_columns_are_found_by_pattern_or_by_a_path_of_a_release():
    assert columns_of("results/{release}/estimate/trends.csv") == ["outcome", "year", "group", "mean", "n"]
    assert columns_of("results/interim/estimate/trends.csv") == ["outcome", "year", "group", "mean", "n"]
    with pytest.raises(KeyError, match="not a results file with declared columns"):
        columns_of("results/{release}/study.json")


def test_write_csv_refuses_a_declared_file_whose_columns_differ(tmp_path):
    path = tmp_path / "results" / "final" / "estimate" / "trends.csv"
    good = pd.DataFrame({"outcome": ["sdq"], "year": [2019], "group": ["treated"], "mean": [14.2], "n": [40]})
    assert header_problem(path, list(good.columns)) is None
    with pytest.raises(ValueError, match=r"trends\.csv: the columns differ .*\(missing n; not declared count\)"):
        write_csv(good.rename(columns={"n": "count"}), path)
    with pytest.raises(ValueError, match="in the order outcome, group, year, mean, n"):
        write_csv(good[["outcome", "group", "year", "mean", "n"]], path)
    assert not path.exists()
    assert write_csv(good, path).read_text(encoding="utf-8").splitlines()[0] == "outcome,year,group,mean,n"
    # a table outside results/<release>/ is not checked
    assert write_csv(good[["n"]], tmp_path / "trends.csv").is_file()


def _string_lists(tree: ast.AST):
    """Every list or tuple literal of three or more strings in a module, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple) and len(node.elts) >= 3:
            if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                yield node.lineno, [e.value for e in node.elts]


def test_the_columns_of_a_results_file_are_written_down_only_in_the_registry():
    """``grep`` finds each results file's columns in one place: no module repeats a file's column list."""
    declared = {
        frozenset(names): entry.path
        for entry in RESULTS_FILES
        if entry.columns
        for names in (entry.names, entry.names[1:])
    }
    registry = ROOT / "src" / "evaluation" / "contract" / "results.py"
    copies = [
        f"{path.relative_to(ROOT)}:{line} repeats the columns of {declared[frozenset(names)]}"
        for path in sorted((ROOT / "src" / "evaluation").rglob("*.py"))
        if path != registry
        for line, names in _string_lists(ast.parse(path.read_text(encoding="utf-8")))
        if frozenset(names) in declared
    ]
    assert copies == []
