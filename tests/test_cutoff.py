"""The data cut-off step: each extract file cut a row group at a time, with the bytes of the whole-frame cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import evaluation.contract
import evaluation.io
from evaluation.errors import ConfigError, ExtractError
from evaluation.io import read_extracts, write_parts, write_table
from evaluation.steps.cohort.cutoff import CUTOFF_ACCOUNTING_COLUMNS, cut_extract_file, cut_extracts, cut_table
from evaluation.steps.cohort.timing import apply_cutoff, cutoff_rule

CUT = "2015-06-30"


def _dates(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values)).astype("datetime64[ms]")


def hostile_extracts() -> dict[str, pd.DataFrame]:
    """One extract of each kind the cut-off knows, with missing dates, dates on the cut-off and ongoing spells."""
    starts = ["2014-01-01", "2015-06-30", "2015-07-01", None, "2013-05-05", "2015-01-01", "2016-02-02", "2010-01-01"]
    ends = ["2014-12-31", None, "2015-08-01", "2015-01-01", "2015-06-30", "2015-07-01", None, None]
    spells = pd.DataFrame(
        {
            "spell_id": [f"s{i}" for i in range(len(starts))],
            "person_id": pd.array(["a", "b", None, "c", "d", "e", "f", "g"], dtype="str"),
            "placement_type": np.arange(len(starts), dtype="int64"),
            "start_date": _dates(starts),
            "end_date": _dates(ends),
        }
    )
    dated = pd.DataFrame(
        {
            "notification_id": [f"n{i}" for i in range(6)],
            "date": _dates(["2015-06-30", "2015-07-01", None, "2001-01-01", "2020-12-31", "2015-06-29"]),
            "value": [1.5, np.nan, 2.0, 3.0, 4.0, 5.0],
        }
    )
    monthly = pd.DataFrame({"worker": list("xyzw"), "month": _dates(["2015-05-01", "2015-06-01", "2015-07-01", None])})
    yearly = pd.DataFrame({"year": np.array([2013, 2014, 2015, 2016, 2015, 2017], dtype="int64"), "x": range(6)})
    whole = pd.DataFrame({"municipality": [101, 147], "name": ["København", "Frederiksberg"]})
    return {"spells": spells, "dated": dated, "monthly": monthly, "yearly": yearly, "whole": whole}


@pytest.mark.parametrize("cutoff", ["2015-06-30", "2009-01-01", "2030-01-01"])
def test_the_arrow_cut_is_the_frame_cut(cutoff):
    extracts = hostile_extracts()
    expected, removed = apply_cutoff(extracts, cutoff)
    for name, frame in extracts.items():
        rule = cutoff_rule(frame.columns)
        if rule is None:
            assert name == "whole" and expected[name] is frame
            continue
        table, n_removed, n_truncated = cut_table(
            pa.Table.from_pandas(frame, preserve_index=False), rule, pd.Timestamp(cutoff)
        )
        pd.testing.assert_frame_equal(table.to_pandas(), expected[name])
        assert n_removed == removed[name]
        assert n_truncated == removed.get(f"{name}_truncated", 0)


def test_a_missing_start_or_date_is_after_every_cutoff():
    cut, removed = apply_cutoff(hostile_extracts(), "2030-01-01")
    assert removed["spells"] == 1 and removed["dated"] == 1 and removed["monthly"] == 1
    assert removed["spells_truncated"] == 3  # the three ongoing spells end at the cut-off
    assert (cut["spells"]["end_date"] <= pd.Timestamp("2030-01-01")).all()


def test_nothing_cut_leaves_the_frame_itself():
    extracts = hostile_extracts()
    cut, removed = apply_cutoff({"yearly": extracts["yearly"]}, "2030-12-31")
    assert cut["yearly"] is extracts["yearly"] and removed == {"yearly": 0}
    shifted = extracts["yearly"].set_axis(range(10, 16))  # rows kept, index reset as before
    assert apply_cutoff({"yearly": shifted}, "2030-12-31")[0]["yearly"].index.tolist() == list(range(6))


@pytest.fixture
def small_row_groups(monkeypatch):
    """Row groups of three rows, so that a handful of rows spans several of them."""
    monkeypatch.setattr(evaluation.io, "ROW_GROUP_ROWS", 3)


@pytest.mark.parametrize("sizes", [[0, 3, 5, 0, 2], [7], [3, 3], [1] * 8, [0, 0], []])
def test_parts_are_written_as_their_concatenation(tmp_path, small_row_groups, sizes):
    frame = hostile_extracts()["spells"]
    frame = pd.concat([frame, frame], ignore_index=True).iloc[: sum(sizes)].reset_index(drop=True)
    write_table(frame, tmp_path / "whole.parquet")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    bounds = np.cumsum([0, *sizes])
    parts = [table.slice(lo, hi - lo) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    assert write_parts(parts, table.schema, tmp_path / "parts.parquet") == len(frame)
    assert (tmp_path / "parts.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()


@pytest.mark.parametrize("cutoff", [CUT, "2009-01-01", "2030-01-01", None])
def test_a_file_is_cut_row_group_by_row_group_into_the_bytes_of_the_whole_frame_cut(tmp_path, small_row_groups, cutoff):
    for name, frame in hostile_extracts().items():
        write_table(frame, tmp_path / "in" / f"{name}.parquet")
        rows_in, n_removed, n_truncated, rows_out = cut_extract_file(
            tmp_path / "in" / f"{name}.parquet", tmp_path / "out" / f"{name}.parquet", cutoff
        )
        read = pd.read_parquet(tmp_path / "in" / f"{name}.parquet")
        cut, removed = apply_cutoff({name: read}, cutoff)
        write_table(cut[name], tmp_path / "expected" / f"{name}.parquet")
        written = (tmp_path / "out" / f"{name}.parquet").read_bytes()
        assert written == (tmp_path / "expected" / f"{name}.parquet").read_bytes(), name
        assert (rows_in, n_removed, n_truncated, rows_out) == (
            len(frame),
            removed.get(name, 0),
            removed.get(f"{name}_truncated", 0),
            len(cut[name]),
        )


def test_the_step_counts_every_extract_and_stops_on_a_bad_date_or_a_missing_file(tmp_path, monkeypatch):
    extracts = hostile_extracts()
    monkeypatch.setattr(evaluation.contract, "EXTRACTS", dict.fromkeys(extracts))
    for name, frame in extracts.items():
        write_table(frame, tmp_path / "ingest" / f"{name}.parquet")
    cut_extracts(tmp_path / "ingest", CUT, tmp_path / "cut", tmp_path / "accounting.csv", progress=lambda _m: None)
    table = pd.read_csv(tmp_path / "accounting.csv").set_index("extract")
    assert list(table.reset_index().columns) == CUTOFF_ACCOUNTING_COLUMNS
    assert (table["rows_in"] == table["rows_removed"] + table["rows_out"]).all()
    assert table.loc["spells", "rows_truncated"] == 3 and table.loc["whole", "rows_removed"] == 0
    cut = read_extracts(tmp_path / "cut", extracts, step="test")
    assert cut["yearly"]["year"].max() == 2015 and cut["dated"]["date"].max() <= pd.Timestamp(CUT)
    with pytest.raises(ConfigError, match="cutoff_date"):
        cut_extracts(tmp_path / "ingest", "2015-13-45", tmp_path / "bad", tmp_path / "bad.csv", progress=print)
    (tmp_path / "ingest" / "dated.parquet").unlink()
    with pytest.raises(ExtractError, match="dated"):
        cut_extracts(tmp_path / "ingest", CUT, tmp_path / "again", tmp_path / "again.csv", progress=print)


@pytest.mark.parametrize("input_group_rows", [200_000, 70_000, 150_000])
@pytest.mark.parametrize("cutoff", [None, "2015-06-30"])
def test_an_extract_written_from_columns_in_pieces_gets_the_bytes_of_the_frame_written_again(
    tmp_path, monkeypatch, cutoff, input_group_rows
):
    """Ingestion builds its columns from batches of rows; written in pieces, a column of many distinct values is
    paged otherwise than when written whole, so a copy of the ingested file is not what the step writes."""
    monkeypatch.setattr(evaluation.io, "ROW_GROUP_ROWS", 200_000)
    n = 300_000
    frame = pd.DataFrame(
        {
            "event_id": pd.array([f"H{i:09d}" for i in range(n)], dtype="str"),
            "notification_id": pd.array([None if i % 3 else f"U{i:09d}" for i in range(n)], dtype="str"),
            "date": (pd.Timestamp("2010-01-01") + pd.to_timedelta(np.arange(n) % 3650, unit="D")).astype(
                "datetime64[ms]"
            ),
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pieces = pa.concat_tables([table.slice(start, 70_000) for start in range(0, n, 70_000)])
    options = evaluation.io.WRITER_OPTIONS
    pq.write_table(pieces, tmp_path / "ingested.parquet", row_group_size=input_group_rows, **options)
    read = pd.read_parquet(tmp_path / "ingested.parquet")
    write_table(apply_cutoff({"events": read}, cutoff)[0]["events"], tmp_path / "expected.parquet")
    if cutoff is None and input_group_rows == 200_000:  # the case: the same rows, other bytes
        assert (tmp_path / "expected.parquet").read_bytes() != (tmp_path / "ingested.parquet").read_bytes()
    cut_extract_file(tmp_path / "ingested.parquet", tmp_path / "cut.parquet", cutoff)
    assert (tmp_path / "cut.parquet").read_bytes() == (tmp_path / "expected.parquet").read_bytes()
