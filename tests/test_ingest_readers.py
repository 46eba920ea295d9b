"""Readers: encodings, delimiters, decimal comma, date formats, row numbers and binary round trips."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evaluation.contract import EXTRACTS
from evaluation.errors import ExtractError, ExtractValidationError
from evaluation.steps.ingest import read_extract, validate_folder
from evaluation.steps.ingest.readers import detect_encoding, sniff_delimiter
from hostile import CHILD_IDS, valid_frames, write_binary, write_csv, write_valid_folder


def test_latin1_file_is_read_correctly(tmp_path):
    path = write_csv(valid_frames()["kommuner"], tmp_path / "kommuner.csv", encoding="latin-1")
    assert "ø".encode("latin-1") in path.read_bytes()  # really Latin-1, not UTF-8
    assert detect_encoding(path) == "latin-1"
    df = read_extract(path, EXTRACTS["kommuner"])
    assert list(df["KOMNAVN"]) == ["København", "Frederiksberg", "Ballerup"]


def test_utf8_with_bom(tmp_path):
    path = write_csv(valid_frames()["kommuner"], tmp_path / "kommuner.csv", encoding="utf-8-sig")
    df = read_extract(path, EXTRACTS["kommuner"])
    assert list(df["KOM"]) == [101, 147, 151]
    assert df["KOMNAVN"].iloc[0] == "København"


def test_control_bytes_are_not_latin1(tmp_path):
    path = tmp_path / "kommuner.csv"
    path.write_bytes(b"KOM,KOMNAVN,REGION\n101,K\x9fbenhavn,1084\n")
    with pytest.raises(ExtractError, match=r"kommuner.csv, line 2: the file is not valid UTF-8"):
        read_extract(path, EXTRACTS["kommuner"])


@pytest.mark.parametrize(("header", "expected"), [("A,B;C,D", ","), ("A;B;C", ";"), ("A\tB\tC", "\t"), ("A", ",")])
def test_sniff_delimiter(header, expected):
    assert sniff_delimiter(header) == expected


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_with_decimal_comma(tmp_path, sep):
    path = write_csv(valid_frames()["foraeldre"], tmp_path / "foraeldre.csv", sep=sep, decimal=",")
    assert "250000,5" in path.read_text(encoding="utf-8")
    df = read_extract(path, EXTRACTS["foraeldre"])
    assert list(df["PERINDKIALT"]) == [250000.5, 250001.5, 250002.5]


def test_quoted_decimal_comma_in_comma_file(tmp_path):
    path = write_csv(valid_frames()["sagsbehandlere"], tmp_path / "sagsbehandlere.csv", decimal=",")
    assert '"0,25"' in path.read_text(encoding="utf-8")
    df = read_extract(path, EXTRACTS["sagsbehandlere"])
    assert list(df["AARSVAERK"]) == [0.25, 0.5, 0.75]


@pytest.mark.parametrize("style", ["iso", "dmy", "dotted", "date9"])
def test_date_formats(tmp_path, style):
    path = write_csv(valid_frames()["forebyggende"], tmp_path / "forebyggende.csv", date_style=style)
    df = read_extract(path, EXTRACTS["forebyggende"])
    assert df["STARTDATO"].dtype == "datetime64[ms]"
    assert list(df["STARTDATO"]) == [pd.Timestamp(2013, m, 1) for m in (1, 2, 3)]
    assert df["SLUTDATO"].isna().tolist() == [False, True, False]


def test_date_format_is_fixed_per_column(tmp_path):
    frame = valid_frames()["forebyggende"]
    frame.loc[2, "STARTDATO"] = "03.01.2013"  # a valid date, but not in the column's ISO format
    write_csv(frame, tmp_path / "forebyggende.csv")
    with pytest.raises(
        ExtractValidationError, match=r"row 3, column STARTDATO: value '03.01.2013' is not a valid date"
    ):
        read_extract(tmp_path / "forebyggende.csv", EXTRACTS["forebyggende"])


def test_identifiers_keep_leading_zeros_and_rows_are_numbered(tmp_path):
    path = write_csv(valid_frames()["befolkning"], tmp_path / "befolkning.csv")
    df = read_extract(path, EXTRACTS["befolkning"])
    assert df["PNR"].iloc[0] == CHILD_IDS[0] == "0505121001"
    assert list(df["_row"]) == [1, 2, 3]
    assert df["KOEN"].dtype == "Int64"
    assert df["MOR_ID"].isna().tolist() == [False, True, False]


def test_blank_line_keeps_line_numbers(tmp_path):
    path = write_csv(valid_frames()["kommuner"], tmp_path / "kommuner.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], lines[1], "", lines[2], lines[3]]) + "\n", encoding="utf-8")
    df = read_extract(path, EXTRACTS["kommuner"])
    assert list(df["_row"]) == [1, 3, 4]  # line number minus the header line
    report = validate_folder(_folder_with(tmp_path, path))
    assert "1 blank line(s) skipped" in report.render()


def test_blank_line_and_bad_line_are_numbered_by_physical_line(tmp_path):
    path = write_csv(valid_frames(4)["kommuner"], tmp_path / "kommuner.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    # physical lines: 1 header, 2 row, 3 blank, 4 row, 5 bad, 6 row, 7 row
    path.write_text("\n".join([lines[0], lines[1], "", lines[2], "101,x", lines[3], lines[4]]) + "\n", encoding="utf-8")
    with pytest.raises(ExtractValidationError, match=r"kommuner.csv, row 4: the line has 2 field\(s\)"):
        read_extract(path, EXTRACTS["kommuner"])
    folder = _folder_with(tmp_path, path)
    rep = validate_folder(folder)["kommuner"]
    assert rep.rows_read == 5 and list(rep.problems["_row"]) == [4]


def _folder_with(tmp_path, path):
    folder = tmp_path / "folder"
    write_valid_folder(folder)
    (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_extra_column_is_a_warning_and_dropped(tmp_path):
    frame = valid_frames()["kommuner"].assign(NOTE="x")
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    write_csv(frame, folder / "kommuner.csv")
    report = validate_folder(folder)
    assert report.ok
    assert "unexpected column(s) dropped: NOTE" in report.render()
    assert "NOTE" not in read_extract(folder / "kommuner.csv", EXTRACTS["kommuner"]).columns


def test_column_names_ignore_case(tmp_path):
    frame = valid_frames()["kommuner"].rename(columns=str.lower)
    df = read_extract(write_csv(frame, tmp_path / "kommuner.csv"), EXTRACTS["kommuner"])
    assert list(df.columns) == ["_row", "KOM", "KOMNAVN", "REGION"]


def test_unknown_file_is_a_warning_and_special_files_are_skipped(tmp_path):
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    (folder / "calibration.csv").write_text("not,an,extract\n", encoding="utf-8")
    (folder / "truth.json").write_text("{not json", encoding="utf-8")
    report = validate_folder(folder)
    assert report.ok
    text = report.render()
    assert "warning: unknown file notes.txt" in text
    assert "calibration" not in text and "truth" not in text


@pytest.mark.parametrize("fmt", ["parquet", "dta", "xpt"])
def test_binary_round_trip(tmp_path, fmt):
    folder = tmp_path / fmt
    frames = write_valid_folder(folder, fmt=fmt)
    report = validate_folder(folder)
    assert report.ok, report.render()
    for name in ("befolkning", "forebyggende", "udfald", "sagsbehandlere"):
        df = read_extract(folder / f"{name}.{fmt}", EXTRACTS[name])
        expected = frames[name]
        for col in EXTRACTS[name].columns:
            got = df[col.name].tolist()
            want = expected[col.name].tolist()
            if col.dtype == "date":
                want = [pd.Timestamp(v) if v is not None else pd.NaT for v in want]
                assert [g if not pd.isna(g) else pd.NaT for g in got] == want
            else:
                assert [None if pd.isna(g) else g for g in got] == want, (name, col.name)
    assert read_extract(folder / f"befolkning.{fmt}", EXTRACTS["befolkning"])["PNR"].iloc[0] == "0505121001"


def test_numeric_identifier_warns_about_leading_zeros(tmp_path):
    frame = valid_frames()["sagsbehandlere"]
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(
        pd.DataFrame({c: frame[c] for c in frame.columns}).assign(
            SAGSBEHANDLER_ID=np.array([1234567, 2345678, 3456789], dtype="int64"),
            MAANED=[dt.datetime(2013, m, 1) for m in (1, 2, 3)],
            ANSAT_START=[dt.datetime(2013, m, 1) for m in (1, 2, 3)],
            ANSAT_SLUT=[dt.datetime(2014, 1, 1), None, dt.datetime(2014, 1, 1)],
        ),
        preserve_index=False,
    )
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    (folder / "sagsbehandlere.csv").unlink()
    pq.write_table(table, folder / "sagsbehandlere.parquet")
    report = validate_folder(folder)
    assert report.ok, report.render()
    assert "SAGSBEHANDLER_ID is stored as numbers; leading zeros" in report.render()
    df = read_extract(folder / "sagsbehandlere.parquet", EXTRACTS["sagsbehandlere"])
    assert list(df["SAGSBEHANDLER_ID"]) == ["1234567", "2345678", "3456789"]


def test_non_integer_float_in_binary_int_column(tmp_path):
    frame = valid_frames()["udfald"]
    df = pd.DataFrame(
        {
            "PNR": frame["PNR"].astype(str),
            "AAR": [2013.0, 2014.5, 2015.0],
            "MAAL": frame["MAAL"],
            "VAERDI": frame["VAERDI"].astype(float),
        }
    )
    df.to_parquet(tmp_path / "udfald.parquet", index=False)
    with pytest.raises(
        ExtractValidationError, match=r"udfald.parquet, row 2, column AAR: value '2014.5' is not a whole"
    ):
        read_extract(tmp_path / "udfald.parquet", EXTRACTS["udfald"])


def test_corrupt_parquet_is_an_extract_error(tmp_path):
    path = tmp_path / "kommuner.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ExtractError, match="kommuner.parquet: the file cannot be read as PARQUET"):
        read_extract(path, EXTRACTS["kommuner"])


def test_binary_writer_helper_rejects_unknown_extension(tmp_path):
    with pytest.raises(ValueError):
        write_binary(valid_frames()["kommuner"], EXTRACTS["kommuner"], tmp_path / "kommuner.sav")
