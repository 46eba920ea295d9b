"""Hostile extracts: every case is reported with file, row and column, stops with the right class, and
quarantine mode keeps the row accounting exact."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.contract import EXTRACTS
from evaluation.errors import EvaluationError
from evaluation.steps.ingest import ingest_folder, validate_folder
from hostile import CASES, Case, write_valid_folder

KEY = b"test-key-not-secret"


@pytest.fixture
def hostile_folder(tmp_path, request):
    case: Case = request.param
    raw = tmp_path / "raw"
    write_valid_folder(raw)
    case.build(raw)
    return case, raw


def _ids(case: Case) -> str:
    return case.name


@pytest.mark.parametrize("hostile_folder", CASES, ids=_ids, indirect=True)
def test_validate_folder_reports_case(hostile_folder):
    case, raw = hostile_folder
    report = validate_folder(raw)
    assert not report.ok
    text = report.render()
    for expected in case.expect:
        assert expected in text
    assert not report[case.extract].ok
    others = [rep.extract for rep in report.extracts if rep.extract != case.extract and not rep.ok]
    assert others == []


@pytest.mark.parametrize("hostile_folder", CASES, ids=_ids, indirect=True)
def test_stop_raises_the_right_class(hostile_folder, tmp_path):
    case, raw = hostile_folder
    with pytest.raises(EvaluationError) as info:
        ingest_folder(
            raw,
            tmp_path / "out",
            on_invalid="stop",
            quarantine_dir=tmp_path / "q",
            accounting_path=tmp_path / "acc.csv",
            key=KEY,
            progress=lambda _: None,
        )
    assert type(info.value) is case.exception
    assert case.extract in str(info.value)
    assert KEY.decode() not in str(info.value)


@pytest.mark.parametrize("hostile_folder", CASES, ids=_ids, indirect=True)
def test_quarantine_accounting_is_exact(hostile_folder, tmp_path):
    case, raw = hostile_folder
    out, qdir, acc = tmp_path / "out", tmp_path / "q", tmp_path / "acc.csv"
    kwargs = dict(on_invalid="quarantine", quarantine_dir=qdir, accounting_path=acc, key=KEY, progress=lambda _: None)
    if case.rows is None:  # structural problems stop in quarantine mode too
        with pytest.raises(EvaluationError) as info:
            ingest_folder(raw, out, **kwargs)
        assert type(info.value) is case.exception
        return
    table = ingest_folder(raw, out, **kwargs)
    assert list(table["extract"]) == sorted(EXTRACTS)
    accounted = table["rows_accepted"] + table["rows_quarantined"] + table["rows_duplicate_dropped"]
    assert (table["rows_read"] == accounted).all()
    assert (table["rows_duplicate_dropped"] == 0).all()  # no hostile case is an exact copy
    row = table.set_index("extract").loc[case.extract]
    assert row["rows_quarantined"] == len(case.rows)
    assert (table.set_index("extract").drop(case.extract)["rows_quarantined"] == 0).all()
    quarantine = pd.read_csv(qdir / f"{case.extract}.csv", dtype=str, keep_default_na=False)
    assert sorted(quarantine["_row"].astype(int)) == list(case.rows)
    assert set(quarantine.columns) >= {"_row", "_column", "_rule", "_reason", *EXTRACTS[case.extract].names}
    clean = pd.read_parquet(out / f"{case.extract}.parquet")
    assert len(clean) == row["rows_accepted"]
    assert pd.read_csv(acc).equals(table)


CLI_CASES = ["binary_garbage", "overlapping_placements", "missing_extract", "trailing_delimiter", "windows_1252"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_validate_names_the_problem_without_a_traceback(tmp_path, name):
    import subprocess
    import sys
    from pathlib import Path

    case = next(c for c in CASES if c.name == name)
    raw = tmp_path / "raw"
    write_valid_folder(raw)
    case.build(raw)
    cli = str(Path(sys.executable).with_name("evaluation"))
    proc = subprocess.run([cli, "validate", str(raw)], capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    assert "Result: INVALID (1 of" in output
    for expected in case.expect:
        assert expected in output


def test_corpus_has_at_least_forty_distinct_cases():
    names = [c.name for c in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)
