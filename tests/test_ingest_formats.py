"""Formats real extracts arrive in: SAS data sets, SAS transport files of version 5 and Stata files with numeric ids.

The SAS files are fixtures (tests/fixtures/formats/README.md says where they come from); the transport and Stata
files are written here with pyreadstat and pandas.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from evaluation.contract import EXTRACTS
from evaluation.contract.aliases import XPORT_ALIASES, XPORT_NAME_LENGTH, xport_name
from evaluation.errors import ExtractValidationError
from evaluation.steps.ingest import ingest_folder, read_extract, validate_folder
from evaluation.steps.ingest.readers import read_raw
from evaluation.steps.ingest.validate import check_extract
from hostile import CHILD_IDS, MOTHER_IDS, typed, valid_frames, write_valid_folder

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def unpack(name: str, path: Path) -> Path:
    """Unpack the gzip-compressed fixture ``name`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(FIXTURES / f"{name}.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def replace_extract(folder: Path, name: str, ext: str) -> Path:
    """Remove the CSV file of extract ``name`` from a valid folder and return the path for its ``ext`` file."""
    (folder / f"{name}.csv").unlink()
    return folder / f"{name}.{ext}"


def dates(values: list[str | None]) -> list[pd.Timestamp]:
    return [pd.Timestamp(v) if v else pd.NaT for v in values]


def as_list(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series]


# -- SAS data sets (.sas7bdat) -------------------------------------------------------------------


def test_real_sas_file_is_read_with_its_date_formats(tmp_path):
    """A data set written by SAS 9.4 on Windows: dates in seven formats, WINDOWS-1252."""
    path = unpack("date_test.sas7bdat", tmp_path / "forebyggende.sas7bdat")
    raw = read_raw(path, EXTRACTS["forebyggende"])
    frame = raw.frame
    assert frame.shape == (20, 9)
    assert list(frame["patno"].iloc[:3]) == [1001.0, 1002.0, 1003.0]
    # Expected values as pandas' own SAS reader (independent of ReadStat) gives them.
    first = {
        "dtc1": "2022-01-01",  # DATE9.
        "dtc2": "1970-11-14",  # DDMMYY10.
        "dtc3": "1999-12-31",  # MMDDYY8.
        "dtc4": "2023-07-01",  # MMYY7.: a date shown as month and year
        "yr": "2023-01-01",  # YEAR4.: a date shown as its year
    }
    for column, value in first.items():
        assert pd.Timestamp(frame[column].iloc[0]) == pd.Timestamp(value), column
    assert "column dtc4 has the SAS format MMYY7: its values are SAS dates." in raw.warnings
    assert "column yr has the SAS format YEAR4: its values are SAS dates." in raw.warnings


def test_sas7bdat_extract_with_numeric_identifiers_is_valid(tmp_path):
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    unpack("forebyggende.sas7bdat", replace_extract(folder, "forebyggende", "sas7bdat"))
    report = validate_folder(folder)
    assert report.ok, report.render()
    assert "PNR is stored as numbers; leading zeros of identifiers are lost that way" in report.render()
    df = read_extract(folder / "forebyggende.sas7bdat", EXTRACTS["forebyggende"])
    assert list(df["PNR"]) == CHILD_IDS[:3]  # 505121001 in the file
    assert list(df["FORLOEB_ID"]) == ["1001", "1002", "1003"]
    assert list(df["KOM"]) == [101, 147, 151]
    assert list(df["STARTDATO"]) == dates(["2013-01-01", "2013-02-01", "2013-03-01"])
    assert list(df["SLUTDATO"]) == dates(["2013-06-30", None, "2014-03-31"])


# -- Stata files whose identifiers are numbers (.dta) --------------------------------------------


def numeric_id_population() -> pd.DataFrame:
    """The valid ``befolkning`` rows as a Stata user stores them: identifiers and codes as numbers."""
    frame = typed(valid_frames()["befolkning"], EXTRACTS["befolkning"])
    return frame.assign(
        AAR=frame["AAR"].astype("int16"),
        PNR=frame["PNR"].astype("float64"),  # double: 0505121001 is stored as 505121001
        KOEN=frame["KOEN"].astype("int8"),
        KOM=frame["KOM"].astype("int16"),
        MOR_ID=pd.array([int(v) for v in MOTHER_IDS[:3]], dtype="int32").astype("float64"),
        FAR_ID=frame["FAR_ID"].astype("float64"),  # with a missing value
        IE_TYPE=frame["IE_TYPE"].astype("int8"),
        FOED_DAG=frame["FOED_DAG"].astype("datetime64[s]"),
    )


def test_stata_numeric_identifiers_become_contract_text(tmp_path):
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    frame = numeric_id_population()
    frame = frame.assign(MOR_ID=frame["MOR_ID"].astype("int32"))  # Stata long
    frame.to_stata(replace_extract(folder, "befolkning", "dta"), write_index=False, version=118)
    report = validate_folder(folder)
    assert report.ok, report.render()
    df = read_extract(folder / "befolkning.dta", EXTRACTS["befolkning"])
    assert list(df["PNR"]) == CHILD_IDS[:3]
    assert list(df["MOR_ID"]) == MOTHER_IDS[:3]
    assert as_list(df["FAR_ID"]) == ["1008831301", None, "1208831303"]
    assert not any(v.endswith(".0") for v in df["PNR"])
    assert list(df["KOM"]) == [101, 147, 151]


@pytest.mark.parametrize("ext", ["sas7bdat", "dta"])
def test_numeric_identifiers_join_the_same_persons_in_text_extracts(tmp_path, ext):
    """A child stored as 505121001 in a binary file is the child 0505121001 of the CSV population."""
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    path = replace_extract(folder, "forebyggende", ext)
    if ext == "sas7bdat":
        unpack("forebyggende.sas7bdat", path)
    else:
        frame = typed(valid_frames()["forebyggende"], EXTRACTS["forebyggende"])
        frame.assign(
            FORLOEB_ID=np.array([1001, 1002, 1003], dtype="int32"),
            PNR=frame["PNR"].astype("float64"),
            KOM=frame["KOM"].astype("int16"),
            FORANST=frame["FORANST"].astype("int8"),
            STARTDATO=frame["STARTDATO"].astype("datetime64[s]"),
            SLUTDATO=frame["SLUTDATO"].astype("datetime64[s]"),
        ).to_stata(path, write_index=False, version=118)
    out = tmp_path / "clean"
    ingest_folder(
        folder,
        out,
        on_invalid="stop",
        quarantine_dir=tmp_path / "quarantine",
        accounting_path=tmp_path / "accounting.csv",
        key=b"test key",
        progress=lambda _line: None,
    )
    population = pd.read_parquet(out / "befolkning.parquet")
    spells = pd.read_parquet(out / "forebyggende.parquet")
    assert len(spells) == 3
    assert set(spells["person_id"]) <= set(population["person_id"])


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("FORLOEB_ID", 1002.5, "is not a whole number, so it cannot be an identifier stored as a number"),
        ("FORLOEB_ID", -1002.0, "is negative, so it cannot be an identifier"),
        ("FORLOEB_ID", 2.0**60, "is too large to be stored exactly as a floating-point number"),
        ("PNR", 1203111002.5, ""),  # a person identifier's reason is not shown (it would reveal the number)
    ],
)
def test_number_that_cannot_be_an_identifier_is_a_row_problem(tmp_path, column, value, reason):
    frame = typed(valid_frames()["forebyggende"], EXTRACTS["forebyggende"])
    frame = frame.assign(
        FORLOEB_ID=np.array([1001.0, 1002.0, 1003.0]),
        PNR=frame["PNR"].astype("float64"),
        KOM=frame["KOM"].astype("float64"),
        FORANST=frame["FORANST"].astype("float64"),
        STARTDATO=frame["STARTDATO"].astype("datetime64[s]"),
        SLUTDATO=frame["SLUTDATO"].astype("datetime64[s]"),
    )
    frame.loc[1, column] = value
    path = tmp_path / "forebyggende.dta"
    frame.to_stata(path, write_index=False, version=118)
    checked = check_extract(path, EXTRACTS["forebyggende"])
    problems = checked.problems
    assert list(problems["_row"]) == [2], problems.to_string()
    assert list(problems["column"]) == [column]
    assert list(problems["rule"]) == ["type"]
    assert reason in problems["reason"].iloc[0]
    accepted = checked.accepted()
    assert list(accepted["PNR"]) == [CHILD_IDS[0], CHILD_IDS[2]]
    assert list(accepted["FORLOEB_ID"]) == ["1001", "1003"]


def test_integer_identifier_beyond_float_precision_is_exact(tmp_path):
    frame = typed(valid_frames()["forebyggende"], EXTRACTS["forebyggende"])
    ids = np.array([123456789012345678, 123456789012345679, 7], dtype="int64")
    frame.assign(FORLOEB_ID=ids).to_parquet(tmp_path / "forebyggende.parquet", index=False)
    df = read_extract(tmp_path / "forebyggende.parquet", EXTRACTS["forebyggende"])
    assert list(df["FORLOEB_ID"]) == ["123456789012345678", "123456789012345679", "7"]


def test_stata_monthly_dates_are_read_as_first_of_month(tmp_path):
    frame = typed(valid_frames()["sagsbehandlere"], EXTRACTS["sagsbehandlere"])
    months = np.array([(2013 - 1960) * 12 + m for m in range(3)], dtype="float64")  # 2013m1, 2013m2, 2013m3
    frame = frame.assign(
        MAANED=months,
        AKTIVE_SAGER=frame["AKTIVE_SAGER"].astype("float64"),
        KOM=frame["KOM"].astype("float64"),
        ANSAT_START=frame["ANSAT_START"].astype("datetime64[s]"),
        ANSAT_SLUT=frame["ANSAT_SLUT"].astype("datetime64[s]"),
    )
    for col in ("SAGSBEHANDLER_ID", "TEAM"):
        frame[col] = frame[col].astype(object)
    path = tmp_path / "sagsbehandlere.dta"
    pyreadstat.write_dta(frame, str(path), variable_format={"MAANED": "%tm"})
    df = read_extract(path, EXTRACTS["sagsbehandlere"])
    assert list(df["MAANED"]) == dates(["2013-01-01", "2013-02-01", "2013-03-01"])


# -- SAS transport files of version 5 (.xpt) ------------------------------------------------------


def write_xport_v5(frame: pd.DataFrame, name: str, path: Path, renames: dict[str, str] | None = None, **kw) -> Path:
    """Write an extract as a SAS transport file of version 5, with the short names of the alias table."""
    extract = EXTRACTS[name]
    df = typed(frame, extract)
    for col in extract.columns:
        if str(df[col.name].dtype) == "Int64":
            df[col.name] = df[col.name].astype("float64")
        elif str(df[col.name].dtype) == "str":
            df[col.name] = df[col.name].fillna("").astype(object)
    short = {c: xport_name(c) for c in extract.names}
    short.update(renames or {})
    df = df.rename(columns=short)
    pyreadstat.write_xport(df, str(path), file_format_version=5, table_name=name[:8], **kw)
    return path


def test_xport_v5_folder_with_short_names_is_valid(tmp_path):
    folder = tmp_path / "raw"
    frames = write_valid_folder(folder)
    for name, frame in frames.items():
        write_xport_v5(frame, name, replace_extract(folder, name, "xpt"))
    report = validate_folder(folder)
    assert report.ok, report.render()
    assert "SAGSBEHA as SAGSBEHANDLER_ID" in report.render()
    df = read_extract(folder / "sagshaendelser.xpt", EXTRACTS["sagshaendelser"])
    assert list(df.columns) == ["_row", *EXTRACTS["sagshaendelser"].names]
    expected = frames["sagshaendelser"]
    for column in ("HAENDELSE_ID", "HAENDELSE", "SAGSBEHANDLER_ID", "UNDERRETNING_ID"):
        assert as_list(df[column]) == as_list(expected[column]), column
    spells = read_extract(folder / "anbringelser_forloeb.xpt", EXTRACTS["anbringelser_forloeb"])
    assert list(spells["STARTDATO"]) == dates(["2013-01-01", "2013-02-01", "2013-03-01"])


def test_xport_short_names_ignore_case_and_month_formats_are_dates(tmp_path):
    frame = valid_frames()["sagsbehandlere"]
    renames = {"SAGSBEHANDLER_ID": "sagsbeha", "AKTIVE_SAGER": "Aktive_s"}
    path = write_xport_v5(frame, "sagsbehandlere", tmp_path / "sagsbehandlere.xpt", renames)
    # SAS stores MAANED as days since 1960-01-01 and shows it as JAN2013 with the format MONYY7.
    df, _ = pyreadstat.read_xport(str(path))
    df["MAANED"] = [(pd.Timestamp(v) - pd.Timestamp("1960-01-01")).days for v in df["MAANED"]]
    assert list(df["MAANED"]) == [19359, 19390, 19418]
    pyreadstat.write_xport(
        df, str(path), file_format_version=5, table_name="sagsbeha", variable_format={"MAANED": "MONYY7."}
    )
    df = read_extract(path, EXTRACTS["sagsbehandlere"])
    assert list(df["SAGSBEHANDLER_ID"]) == ["SB00001", "SB00002", "SB00003"]
    assert list(df["AKTIVE_SAGER"]) == [20, 21, 22]
    assert list(df["MAANED"]) == dates(["2013-01-01", "2013-02-01", "2013-03-01"])


def test_xport_name_that_maps_to_nothing_is_named_with_the_table_to_extend(tmp_path):
    path = write_xport_v5(
        valid_frames()["sagshaendelser"], "sagshaendelser", tmp_path / "sagshaendelser.xpt", {"HAENDELSE_ID": "HAENDID"}
    )
    with pytest.raises(ExtractValidationError) as info:
        read_extract(path, EXTRACTS["sagshaendelser"])
    message = str(info.value)
    assert message.startswith("sagshaendelser.xpt: required column(s) missing: HAENDELSE_ID (as HAEND_ID).")
    assert "Variables found: HAENDID, PNR, KOM, DATO, HAENDELS, SAGSBEHA, UNDERRET." in message
    assert "Of these, HAENDID match no column of sagshaendelser." in message
    assert "evaluation.contract.aliases.XPORT_ALIASES" in message
    assert message.count("missing") == 1


@pytest.mark.parametrize("name", list(EXTRACTS))
def test_alias_table_gives_every_column_one_short_name(name):
    extract = EXTRACTS[name]
    short = [xport_name(c) for c in extract.names]
    assert all(len(s) <= XPORT_NAME_LENGTH for s in short)
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", s) for s in short), short
    assert len(set(short)) == len(short), "two columns of one extract share a short name"
    for column, s in zip(extract.names, short, strict=True):
        if s != column:  # a short name must not be the name of another column of the extract
            assert s not in extract.names


def test_alias_table_has_no_stale_entries():
    names = {c for e in EXTRACTS.values() for c in e.names}
    assert set(XPORT_ALIASES.values()) <= names
    assert all(len(v) > XPORT_NAME_LENGTH for v in XPORT_ALIASES.values())
    assert len(set(XPORT_ALIASES.values())) == len(XPORT_ALIASES)


def test_xport_short_names_are_first_eight_characters_but_one():
    differs = {long: short for short, long in XPORT_ALIASES.items() if short != long[:XPORT_NAME_LENGTH]}
    assert differs == {"HAENDELSE_ID": "HAEND_ID"}  # its first 8 characters are those of HAENDELSE


@pytest.mark.parametrize(
    "values",
    [
        ["1", "+2", "-3", "007", "12.000", "5.", "-0", "-0.0", "x", "", "1.5", "9223372036854775807"],
        ["99999999999999999999", "12", ""],  # beyond 64-bit integers: pandas' parser takes over
        ["", "x"],  # no whole number at all
        [],
    ],
)
def test_whole_numbers_in_text_are_parsed_as_pandas_would(values):
    """Arrow parses whole numbers in text as pandas.to_numeric does, missing where the text is not one."""
    from evaluation.steps.ingest.convert import _INT, _whole_numbers

    text = pd.Series(values, dtype="str", index=np.arange(len(values)) * 2)
    ok = text.str.fullmatch(_INT).to_numpy(dtype=bool)
    expected = pd.to_numeric(text.where(ok, None), errors="coerce").astype("Float64")
    got = _whole_numbers(text, ok)
    assert got.index.equals(text.index)
    pd.testing.assert_series_equal(got.astype("Float64"), expected, check_names=False)
