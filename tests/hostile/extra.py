"""More hostile edits: binary garbage, broken binary files, wrong delimiter and encoding, duplicated columns,
wrong types, cross-field rules (end before start, overlapping placements, future dates, age), implausible
costs, unknown codes and duplicated keys.

Each builder edits a valid CSV folder written by :func:`hostile.write_valid_folder`. The valid rows
(``hostile.valid_frames``) have years 2013-2015 in ``befolkning``, so the extract period ends on
2015-12-31; children are born 14 February 2005-2007; spells start on the 1st of January, February and
March 2013, and the second spell of every extract is ongoing (its end date is missing).
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from evaluation.contract import EXTRACTS
from evaluation.errors import ExtractError, ExtractValidationError
from hostile import CHILD_IDS, Case, _lines, _set, _write_lines, valid_frames, write_binary, write_csv


def binary_garbage(folder):
    data = np.random.default_rng(8).integers(0, 256, size=4096, dtype=np.uint8).tobytes()
    (folder / "befolkning.csv").write_bytes(data)


def garbage_without_nul(folder):
    data = np.random.default_rng(9).integers(1, 256, size=2048, dtype=np.uint8).tobytes()
    (folder / "foraeldre.csv").write_bytes(data)


def parquet_garbage(folder):
    (folder / "regnskab.csv").unlink()
    (folder / "regnskab.parquet").write_bytes(b"PAR1" + b"\x13garbage" * 50 + b"PAR1")


def truncated_parquet(folder):
    (folder / "udfald.csv").unlink()
    path = write_binary(valid_frames()["udfald"], EXTRACTS["udfald"], folder / "udfald.parquet")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_stata(folder):
    (folder / "kommuner.csv").unlink()
    (folder / "kommuner.dta").write_bytes(b"<stata_dta><header>" + b"\x00\x01" * 100)


def wrong_delimiter(folder):
    write_csv(valid_frames()["befolkning"], folder / "befolkning.csv", sep="|")


def windows_1252(folder):
    frame = valid_frames()["kommuner"]
    frame.loc[1, "KOMNAVN"] = "Frederiksberg \u2013 Kommune"  # en dash: 0x96 in Windows-1252
    write_csv(frame, folder / "kommuner.csv", encoding="cp1252")


def duplicated_column(folder):
    frame = valid_frames()["befolkning"]
    path = folder / "befolkning.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*frame.columns, "KOEN"])
        for row in frame.itertuples(index=False):
            writer.writerow([*(v.isoformat() if hasattr(v, "isoformat") else v for v in row), 1])


def blank_first_line(folder):
    path = folder / "underretninger.csv"
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def date_as_word(folder):
    _set(folder, "underretninger", 2, "DATO", "yesterday")


def income_as_word(folder):
    _set(folder, "foraeldre", 1, "PERINDKIALT", "lots")


def thousands_separator(folder):
    _set(folder, "sagsbehandlere", 2, "AARSVAERK", "1.000,5")


def mixed_date_formats(folder):
    _set(folder, "forebyggende", 3, "STARTDATO", "01MAR2013")


def missing_start_date(folder):
    _set(folder, "anbringelser_forloeb", 1, "STARTDATO", None)


def year_out_of_range(folder):
    _set(folder, "udfald", 2, "AAR", 1850)


def negative_fte(folder):
    _set(folder, "sagsbehandlere", 1, "AARSVAERK", -0.5)


def notifier_as_word(folder):
    _set(folder, "underretninger", 1, "ANMELDER", "skole")


def unknown_municipality(folder):
    _set(folder, "regnskab", 3, "KOM", 999)


def unknown_placement_type(folder):
    _set(folder, "anbringelser_forloeb", 2, "ANBSTED", 42)


def future_date(folder):
    _set(folder, "underretninger", 2, "DATO", "2099-01-01")  # after any run's date


def start_after_period(folder):
    # befolkning covers 2013-2015; a spell cannot start after the period (a last day after it may).
    # Row 2 is an ongoing spell, so that no other rule is broken.
    _set(folder, "forebyggende", 2, "STARTDATO", "2016-02-01")


def prevention_ends_before_start(folder):
    _set(folder, "forebyggende", 1, "SLUTDATO", "2012-06-30")


def placement_ends_before_start(folder):
    _set(folder, "anbringelser_forloeb", 3, "SLUTDATO", "2013-02-28")


def employment_ends_before_start(folder):
    _set(folder, "sagsbehandlere", 3, "ANSAT_SLUT", "2012-01-01")


def overlapping_placements(folder):
    # row 2 (child 2) is ongoing since 2013-02-01; row 3 gives child 2 a new spell from 2013-03-01
    _set(folder, "anbringelser_forloeb", 3, "PNR", CHILD_IDS[1])


def born_after_the_year(folder):
    _set(folder, "befolkning", 1, "FOED_DAG", "2020-02-14")


def older_than_22(folder):
    _set(folder, "befolkning", 3, "FOED_DAG", "1980-02-14")


def implausible_negative_cost(folder):
    _set(folder, "regnskab", 2, "BELOEB", -250000.0)


def duplicate_person_year(folder):
    frame = valid_frames()["befolkning"]
    frame.loc[2, "AAR"] = frame.loc[0, "AAR"]
    frame.loc[2, "PNR"] = frame.loc[0, "PNR"]
    write_csv(frame, folder / "befolkning.csv")


def duplicate_outcome_row(folder):
    frame = valid_frames()["udfald"]
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    frame.loc[3, "VAERDI"] = 7.5  # the same child, year and measure with another value
    write_csv(frame, folder / "udfald.csv")


def trailing_delimiter(folder):
    path = folder / "kommuner.csv"
    lines = _lines(path)
    _write_lines(path, [lines[0], *(line + "," for line in lines[1:])])


EXTRA_CASES: list[Case] = [
    Case(binary_garbage, "befolkning", ("befolkning.csv",), ExtractError, None),
    Case(garbage_without_nul, "foraeldre", ("foraeldre.csv", "not valid UTF-8"), ExtractError, None),
    Case(parquet_garbage, "regnskab", ("regnskab.parquet", "cannot be read as PARQUET"), ExtractError, None),
    Case(truncated_parquet, "udfald", ("udfald.parquet", "cannot be read as PARQUET"), ExtractError, None),
    Case(corrupt_stata, "kommuner", ("kommuner.dta", "cannot be read as Stata"), ExtractError, None),
    Case(wrong_delimiter, "befolkning", ("befolkning.csv", "required column(s) missing"), ExtractValidationError, None),
    Case(windows_1252, "kommuner", ("kommuner.csv, line 3", "Windows-1252"), ExtractError, None),
    Case(duplicated_column, "befolkning", ("column KOEN appears more than once",), ExtractValidationError, None),
    Case(blank_first_line, "underretninger", ("underretninger.csv", "first line is blank"), ExtractError, None),
    Case(
        date_as_word,
        "underretninger",
        ("underretninger.csv, row 2, column DATO: value 'yesterday' is not a valid date",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        income_as_word,
        "foraeldre",
        ("foraeldre.csv, row 1, column PERINDKIALT: value 'lots' is not a number [type]",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        thousands_separator,
        "sagsbehandlere",
        ("sagsbehandlere.csv, row 2, column AARSVAERK: value '1.000,5' is not a number",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        mixed_date_formats,
        "forebyggende",
        ("forebyggende.csv, row 3, column STARTDATO: value '01MAR2013' is not a valid date in the column's format",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        missing_start_date,
        "anbringelser_forloeb",
        ("anbringelser_forloeb.csv, row 1, column STARTDATO: value is missing",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        year_out_of_range,
        "udfald",
        ("udfald.csv, row 2, column AAR: value 1850 is outside the allowed range",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        negative_fte,
        "sagsbehandlere",
        ("sagsbehandlere.csv, row 1, column AARSVAERK: value -0.5 is outside the allowed range 0 to 1.5",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        notifier_as_word,
        "underretninger",
        ("underretninger.csv, row 1, column ANMELDER: value 'skole' is not a whole number",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        unknown_municipality,
        "regnskab",
        ("regnskab.csv, row 3, column KOM: value '999' is not an allowed code",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        unknown_placement_type,
        "anbringelser_forloeb",
        ("anbringelser_forloeb.csv, row 2, column ANBSTED: value '42' is not an allowed code",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        future_date,
        "underretninger",
        (
            "underretninger.csv, row 2, column DATO: the date 2099-01-01 is after the delivery date",
            "[future_date]; fix: correct the date",
        ),
        ExtractValidationError,
        (2,),
    ),
    Case(
        start_after_period,
        "forebyggende",
        (
            "forebyggende.csv, row 2, column STARTDATO: the date 2016-02-01 is after the end of the extract period "
            "(2015-12-31, the last year of befolkning) [after_period]; fix: remove rows of years after the period",
        ),
        ExtractValidationError,
        (2,),
    ),
    Case(
        prevention_ends_before_start,
        "forebyggende",
        (
            "forebyggende.csv, row 1, column SLUTDATO: the last day 2012-06-30 is before the first day (STARTDATO) "
            "2013-01-01 [end_before_start]",
        ),
        ExtractValidationError,
        (1,),
    ),
    Case(
        placement_ends_before_start,
        "anbringelser_forloeb",
        ("anbringelser_forloeb.csv, row 3, column SLUTDATO: the last day 2013-02-28 is before the first day",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        employment_ends_before_start,
        "sagsbehandlere",
        (
            "sagsbehandlere.csv, row 3, column ANSAT_SLUT: the last day 2012-01-01 is before the first day "
            "(ANSAT_START)",
        ),
        ExtractValidationError,
        (3,),
    ),
    Case(
        overlapping_placements,
        "anbringelser_forloeb",
        (
            "anbringelser_forloeb.csv, row 3, column STARTDATO: the spell starts on 2013-03-01, before an earlier "
            "spell of the same child (row 2) has ended [overlap]",
        ),
        ExtractValidationError,
        (3,),
    ),
    Case(
        born_after_the_year,
        "befolkning",
        ("befolkning.csv, row 1, column FOED_DAG: the birth date 2020-02-14 is after the year of the row (AAR 2013)",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        older_than_22,
        "befolkning",
        ("befolkning.csv, row 3, column FOED_DAG: the child is 34 years old on 1 January (older than 22",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        implausible_negative_cost,
        "regnskab",
        ("regnskab.csv, row 2, column BELOEB: net expenditure -250000 (DKK 1,000) is below -5000",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        duplicate_person_year,
        "befolkning",
        ("befolkning.csv, row 1, column AAR+PNR: the key (AAR=2013, PNR=05********) occurs in 2 rows",),
        ExtractValidationError,
        (1, 3),
    ),
    Case(
        duplicate_outcome_row,
        "udfald",
        ("udfald.csv, row 2, column PNR+AAR+MAAL", "udfald.csv, row 4, column PNR+AAR+MAAL"),
        ExtractValidationError,
        (2, 4),
    ),
    Case(
        trailing_delimiter,
        "kommuner",
        ("kommuner.csv, row 1: the line has 4 field(s) where the header has 3",),
        ExtractValidationError,
        (1, 2, 3),
    ),
]
