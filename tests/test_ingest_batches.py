"""Ingestion in batches of rows: the result does not depend on the batch size.

``check_extract`` converts and validates a national extract a batch of rows at a time, so that memory stays
bounded; the rules that look at several rows (exact duplicates, duplicate keys, overlapping spells) and the
date format of a column are decided over the whole file. Every test here compares batches of one or a few
rows with the whole file in one batch, on files built so that the cross-row rules meet across batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import evaluation.steps.ingest.validate as validate
from evaluation.contract import EXTRACTS
from evaluation.errors import EvaluationError
from evaluation.steps.ingest import ingest_folder
from evaluation.steps.ingest.validate import check_extract
from hostile import CASES, Case, valid_frames, write_binary, write_csv, write_valid_folder

KEY = b"test-key-not-secret"


def _same_check(path: Path, name: str) -> None:
    whole = check_extract(path, EXTRACTS[name])
    for size in (1, 2, 5):
        batched = check_extract(path, EXTRACTS[name], batch_rows=size)
        pd.testing.assert_frame_equal(batched.problems, whole.problems)
        pd.testing.assert_frame_equal(batched.typed, whole.typed)
        pd.testing.assert_frame_equal(batched.duplicates, whole.duplicates)
        assert batched.warnings == whole.warnings
        assert batched.rows_read == whole.rows_read


def _forebyggende(rows: list[dict]) -> pd.DataFrame:
    """Rows of the preventive-measures extract: the first valid row, with the changes given."""
    base = valid_frames(4)["forebyggende"]
    return pd.DataFrame([{**base.iloc[i % 4].to_dict(), **change} for i, change in enumerate(rows)])


def test_copies_and_shared_keys_are_found_across_batches(tmp_path):
    """Row 6 repeats row 1 exactly (dropped, counted); rows 2 and 7 share a key with other values (both bad)."""
    frame = _forebyggende([{"FORLOEB_ID": f"F{i:05d}"} for i in range(8)])
    frame.loc[5] = frame.loc[0]
    frame.loc[6, "FORLOEB_ID"] = frame.loc[1, "FORLOEB_ID"]
    path = write_csv(frame, tmp_path / "forebyggende.csv")
    checked = check_extract(path, EXTRACTS["forebyggende"], batch_rows=2)
    assert checked.duplicates.to_dict("list") == {"_row": [6], "copy_of": [1]}
    assert sorted(checked.problems.query("rule == 'duplicate_key'")["_row"]) == [2, 7]
    _same_check(path, "forebyggende")


def test_the_date_format_of_a_column_is_that_of_its_first_readable_value_in_any_batch(tmp_path):
    """The first rows hold no date in any format; the column's format comes from a later batch, and the
    early rows are reported as broken dates in that format, as when the file is read whole."""
    frame = _forebyggende([{"FORLOEB_ID": f"F{i:05d}"} for i in range(6)])
    frame["STARTDATO"] = frame["STARTDATO"].astype(object)
    frame.loc[0, "STARTDATO"] = "soon"
    frame.loc[1, "STARTDATO"] = "2019/01/01"
    path = write_csv(frame, tmp_path / "forebyggende.csv", date_style="dmy")
    checked = check_extract(path, EXTRACTS["forebyggende"], batch_rows=2)
    reasons = checked.problems.query("column == 'STARTDATO'")["reason"].tolist()
    assert len(reasons) == 2 and all("format DD-MM-YYYY" in r for r in reasons)
    _same_check(path, "forebyggende")


def test_decimal_commas_in_a_later_batch_are_read_as_when_the_file_is_read_whole(tmp_path):
    frame = valid_frames(4)["foraeldre"]
    frame = pd.concat([frame] * 2, ignore_index=True)
    frame["AAR"] = [2015] * 4 + [2016] * 4
    frame["PERINDKIALT"] = frame["PERINDKIALT"].astype(object)
    frame.loc[6, "PERINDKIALT"] = "123,5"
    path = write_csv(frame, tmp_path / "foraeldre.csv")
    checked = check_extract(path, EXTRACTS["foraeldre"], batch_rows=3)
    assert checked.typed.loc[checked.typed["_row"] == 7, "PERINDKIALT"].item() == 123.5
    _same_check(path, "foraeldre")


def test_identifiers_stored_as_numbers_with_a_gap_in_one_batch_are_read_alike_in_every_batch(tmp_path):
    """A Parquet integer column with one missing value converts to floats as a whole; every batch must do
    the same (also the batch without a gap), and the note on padded identifiers counts the values of all batches."""
    frame = _forebyggende([{"FORLOEB_ID": f"F{i:05d}"} for i in range(6)])
    table = pa.table(  # as another program writes it: no pandas metadata
        {
            "FORLOEB_ID": pa.array(frame["FORLOEB_ID"].astype("str").tolist()),
            "PNR": pa.array([101801234, 201801234, None, 311201234, 1501851234, 2**53 + 1], pa.int64()),
            "KOM": pa.array(frame["KOM"].astype("int64").tolist(), pa.int64()),
            "FORANST": pa.array(frame["FORANST"].astype("int64").tolist(), pa.int64()),
            "STARTDATO": pa.array(pd.to_datetime(frame["STARTDATO"]).dt.date.tolist(), pa.date32()),
            "SLUTDATO": pa.array(pd.to_datetime(frame["SLUTDATO"]).dt.date.tolist(), pa.date32()),
        }
    )
    path = tmp_path / "forebyggende.parquet"
    pq.write_table(table, path)
    checked = check_extract(path, EXTRACTS["forebyggende"], batch_rows=2)
    assert any("3 value(s) of fewer than 10 digits were padded" in w for w in checked.warnings)
    assert checked.typed["PNR"].iloc[0] == "0101801234"
    # as floats (the whole column has a gap), 2**53 + 1 cannot be told from 2**53: a bad value in every batch
    assert checked.problems.query("column == 'PNR' and rule == 'type'")["_row"].tolist() == [6]
    _same_check(path, "forebyggende")


def test_overlapping_placements_in_different_batches_are_found(tmp_path):
    frames = valid_frames(4)
    frame = frames["anbringelser_forloeb"]
    write_binary(frame, EXTRACTS["anbringelser_forloeb"], tmp_path / "anbringelser_forloeb.parquet")
    _same_check(tmp_path / "anbringelser_forloeb.parquet", "anbringelser_forloeb")
    frame = pd.concat([frame, frame.iloc[[0]].assign(FORLOEB_ID="A99999")], ignore_index=True)
    write_csv(frame, tmp_path / "anbringelser_forloeb.csv")
    checked = check_extract(tmp_path / "anbringelser_forloeb.csv", EXTRACTS["anbringelser_forloeb"], batch_rows=1)
    assert (checked.problems["rule"] == "overlap").any()
    _same_check(tmp_path / "anbringelser_forloeb.csv", "anbringelser_forloeb")


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _ingest(raw: Path, out: Path, names: list[str] | None = None) -> tuple[list[str], str]:
    lines: list[str] = []
    try:
        ingest_folder(
            raw,
            out / "clean",
            on_invalid="quarantine",
            quarantine_dir=out / "quarantine",
            accounting_path=out / "accounting.csv",
            key=KEY,
            progress=lines.append,
            names=names,
        )
    except EvaluationError as err:
        return lines, f"{type(err).__name__}: {err}"
    return lines, ""


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_hostile_case_gives_the_same_bytes_and_messages_in_batches_of_two_rows(case: Case, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    write_valid_folder(raw)
    case.build(raw)
    names = [case.extract]  # and the population extract, which ingestion always reads first
    whole = _ingest(raw, tmp_path / "whole", names), _outputs(tmp_path / "whole")
    monkeypatch.setattr(validate, "BATCH_ROWS", 2)
    batched = _ingest(raw, tmp_path / "batched", names), _outputs(tmp_path / "batched")
    assert batched == whole


def test_a_larger_extract_gives_the_same_bytes_in_batches(tmp_path, monkeypatch):
    """A population extract of 3,000 rows, in batches of 1,000 rows and in one batch."""
    raw = tmp_path / "raw"
    write_valid_folder(raw, fmt="parquet")
    rng = np.random.default_rng(7)
    frame = valid_frames(4)["befolkning"]
    big = pd.concat([frame] * 750, ignore_index=True)
    big["AAR"] = np.repeat(np.arange(2010, 2010 + 750), 4)[: len(big)]
    big.loc[rng.choice(len(big), 5, replace=False), "KOEN"] = 3  # bad codes in some batches
    big.loc[2500] = big.loc[10]  # an exact copy far from its original
    write_binary(big, EXTRACTS["befolkning"], raw / "befolkning.parquet")
    whole = _ingest(raw, tmp_path / "whole"), _outputs(tmp_path / "whole")
    monkeypatch.setattr(validate, "BATCH_ROWS", 1000)
    batched = _ingest(raw, tmp_path / "batched"), _outputs(tmp_path / "batched")
    assert batched == whole
    assert "1 exact duplicate(s) dropped" in "\n".join(whole[0][0])
