"""Ingestion in two processes (the rule's two threads) writes what one process writes, and stops the same way.

The second process (``evaluation.steps.ingest.parallel``) checks the extracts after ``befolkning`` before the period
end is known and adds the ``after_period`` rule once it is; these tests plant that rule's problems (and others)
in the extracts it handles.
"""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.contract import EXTRACTS
from evaluation.errors import ExtractValidationError
from evaluation.steps.ingest import ingest_folder
from evaluation.steps.ingest.crossfield import delivery_bound
from evaluation.steps.ingest.validate import check_extract
from hostile import valid_frames, write_csv, write_valid_folder

KEY = b"test-key-not-secret"
DELIVERED = "2020-01-15"


def _set_values(folder, extract, changes):
    frame = valid_frames()[extract]
    for (row, column), value in changes.items():
        frame.loc[row - 1, column] = value
    write_csv(frame, folder / f"{extract}.csv")


@pytest.fixture
def messy(tmp_path):
    """A valid folder with problems in the extracts after befolkning: late, future and uncoded values."""
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    _set_values(folder, "forebyggende", {(2, "STARTDATO"): "2016-03-01"})  # after_period
    _set_values(folder, "underretninger", {(1, "DATO"): "2099-03-01", (2, "DATO"): "2016-02-01"})
    _set_values(folder, "foraeldre", {(2, "HFAUDD_NIV"): 77})
    _set_values(folder, "sagshaendelser", {(1, "DATO"): "2016-05-05"})
    return folder


def _ingest(raw, out, workers, lines=None, **options):
    lines = [] if lines is None else lines
    settings = {"on_invalid": "quarantine", "delivery_date": DELIVERED, **options}
    table = ingest_folder(
        raw,
        out / "clean",
        quarantine_dir=out / "quarantine",
        accounting_path=out / "accounting.csv",
        key=KEY,
        progress=lines.append,
        workers=workers,
        **settings,
    )
    return table, lines


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_processes_write_the_same_bytes_accounting_and_messages(messy, tmp_path):
    one, one_lines = _ingest(messy, tmp_path / "one", workers=1)
    two, two_lines = _ingest(messy, tmp_path / "two", workers=2)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    pd.testing.assert_frame_equal(one, two)
    assert two_lines[0].startswith("checking foraeldre, underretninger") and two_lines[1:] == one_lines
    quarantined = one.set_index("extract")["rows_quarantined"]
    assert quarantined[["forebyggende", "underretninger", "foraeldre", "sagshaendelser"]].tolist() == [1, 2, 1, 1]
    rules = pd.read_csv(tmp_path / "two" / "quarantine" / "underretninger.csv", dtype=str)["_rule"].tolist()
    assert rules == ["future_date", "after_period"]


def test_the_after_period_rule_added_later_gives_the_problems_of_one_check(messy):
    period_end, bound = pd.Timestamp("2015-12-31"), delivery_bound(DELIVERED)
    for name in ("forebyggende", "underretninger", "sagshaendelser"):
        whole = check_extract(messy / f"{name}.csv", EXTRACTS[name], period_end=period_end, delivery_date=bound)
        later = check_extract(messy / f"{name}.csv", EXTRACTS[name], delivery_date=bound)
        assert "after_period" not in set(later.problems["rule"])
        later.add_after_period(period_end, bound)
        assert "after_period" in set(later.problems["rule"])
        pd.testing.assert_frame_equal(whole.problems, later.problems)


def test_a_stop_in_the_second_process_is_the_same_stop(messy, tmp_path):
    """The stop names the same rows; the warnings of the extract that stops are reported before it."""
    frame = valid_frames()["foraeldre"].assign(NOTE="x")  # a column the contract does not know: a warning
    frame.loc[1, "HFAUDD_NIV"] = 77
    write_csv(frame, messy / "foraeldre.csv")
    messages, logs = [], []
    for workers in (1, 2):
        out, lines = tmp_path / f"w{workers}", []
        with pytest.raises(ExtractValidationError) as info:
            _ingest(messy, out, workers=workers, lines=lines, on_invalid="stop")
        messages.append(str(info.value))
        logs.append([line for line in lines if not line.startswith("checking ")])
        assert (out / "clean" / "befolkning.parquet").is_file()  # written before the stop, as in one process
        assert not (out / "clean" / "foraeldre.parquet").exists()
    assert messages[0] == messages[1] and "foraeldre.csv" in messages[0]
    assert logs[0] == logs[1] and any(line.startswith("foraeldre: warning:") for line in logs[0])


def test_a_quarantine_budget_broken_in_the_second_process_stops_with_the_same_message(messy, tmp_path):
    messages = []
    for workers in (1, 2):
        with pytest.raises(ExtractValidationError, match="more rows to quarantine than the budget") as info:
            _ingest(messy, tmp_path / f"w{workers}", workers=workers, max_quarantined_share=0.4)
        messages.append(str(info.value).replace(str(tmp_path / f"w{workers}"), "OUT"))
    assert messages[0] == messages[1] and "underretninger.csv" in messages[0]
