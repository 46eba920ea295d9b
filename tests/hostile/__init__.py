"""Build valid and hostile registry extracts in a temporary folder (no data files are committed).

``valid_frames()`` makes a few rows for every extract of the contract, with
values chosen by hand to satisfy it; ``write_valid_folder()`` writes them in a
chosen format. ``CASES`` lists hostile edits of a valid CSV folder, each with
what validation must say about it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.contract import EXTRACTS
from evaluation.contract.extracts import Column, Extract
from evaluation.errors import ExtractError, ExtractValidationError

#: Children's CPR-like numbers; the first keeps a leading zero.
CHILD_IDS = ["0505121001", "1203111002", "2811101003", "0102091004"]
MOTHER_IDS = ["1007851201", "1107851202", "1207851203", "1307851204"]
FATHER_IDS = ["1008831301", "1108831302", "1208831303", "1308831304"]

DATE_STYLES = {
    "iso": "%Y-%m-%d",
    "dmy": "%d-%m-%Y",
    "dotted": "%d.%m.%Y",
}


def _value(extract: Extract, col: Column, i: int):
    if col.nullable and i == 1:
        return None
    if col.identifier == "person":
        return {
            "PNR": MOTHER_IDS[i] if extract.name == "foraeldre" else CHILD_IDS[i],
            "MOR_ID": MOTHER_IDS[i],
            "FAR_ID": FATHER_IDS[i],
            "FAMILIE_ID": f"FAM{i + 1:05d}",
            "SAGSBEHANDLER_ID": f"SB{i + 1:05d}",
        }[col.name]
    if col.identifier == "record":
        return f"{col.name[0]}{i + 1:06d}"
    if col.dtype == "code":
        keys = list(col.codes or {})
        return keys[i % len(keys)]
    if col.dtype == "date":
        return dt.date(2013, i + 1, 1) if col.name != "FOED_DAG" else dt.date(2005 + i, 2, 14)
    if col.dtype == "int":
        return 2013 + i if col.unit == "year" else 20 + i
    if col.dtype == "float":
        if col.name == "PERINDKIALT":
            return 250000.5 + i
        return 0.25 * (i + 1)
    if col.name == "KOMNAVN":
        return ["København", "Frederiksberg", "Ballerup", "Brøndby"][i]
    return "Team Nord"


def valid_frames(n: int = 3) -> dict[str, pd.DataFrame]:
    """Return ``n`` valid rows (n <= 4) for every extract, as Python values with DST column names."""
    return {
        name: pd.DataFrame(
            {col.name: pd.Series([_value(ext, col, i) for i in range(n)], dtype=object) for col in ext.columns}
        )
        for name, ext in EXTRACTS.items()
    }


def _text(value, date_format: str, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime(date_format) if date_format != "date9" else value.strftime("%d%b%Y").upper()
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    return str(value)


def write_csv(
    frame: pd.DataFrame,
    path: Path,
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    decimal: str = ".",
    date_style: str = "iso",
) -> Path:
    """Write a frame of Python values as a registry-style CSV file."""
    date_format = DATE_STYLES.get(date_style, date_style)
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            writer.writerow([_text(v, date_format, decimal) for v in row])
    return path


def typed(frame: pd.DataFrame, extract: Extract) -> pd.DataFrame:
    """Return the frame with proper dtypes, for binary formats."""
    out = {}
    for col in extract.columns:
        s = frame[col.name]
        if col.dtype == "date":
            out[col.name] = pd.to_datetime(s).astype("datetime64[ms]")
        elif col.dtype == "float":
            out[col.name] = s.astype("float64")
        elif col.dtype in ("int", "code") and not isinstance(next(iter(col.codes or {0: ""})), str):
            out[col.name] = s.astype("Int64")
        else:
            out[col.name] = s.astype("str")
    return pd.DataFrame(out)


def write_binary(frame: pd.DataFrame, extract: Extract, path: Path) -> Path:
    """Write a frame as parquet, Stata .dta or SAS transport .xpt (by the file extension)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat

    df = typed(frame, extract)
    ext = path.suffix.lower()
    if ext == ".parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
        return path
    # readstat writers want float64 for numbers with missing values and "" for missing text
    for col in extract.columns:
        if str(df[col.name].dtype) == "Int64":
            df[col.name] = df[col.name].astype("float64")
        elif str(df[col.name].dtype) == "str":
            df[col.name] = df[col.name].fillna("").astype(object)
    if ext == ".dta":
        pyreadstat.write_dta(df, str(path))
    elif ext == ".xpt":
        pyreadstat.write_xport(df, str(path), file_format_version=8, table_name=extract.name[:8])
    else:
        raise ValueError(ext)
    return path


def write_valid_folder(
    folder: Path, *, fmt: str = "csv", n: int = 3, synthetic: bool = True
) -> dict[str, pd.DataFrame]:
    """Write a valid folder of all extracts in ``fmt`` and return the frames written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = valid_frames(n)
    for name, frame in frames.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            write_csv(frame, path)
        else:
            write_binary(frame, EXTRACTS[name], path)
    if synthetic:
        (folder / "manifest.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    return frames


# -- hostile edits -----------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write_lines(path: Path, lines: list[str], end: str = "\n") -> None:
    path.write_text("\n".join(lines) + end, encoding="utf-8")


def _set(folder: Path, extract: str, row: int, column: str, value, **csv_options) -> None:
    """Set one value (row is 1-based) of a valid extract and rewrite it as CSV."""
    frame = valid_frames()[extract]
    frame.loc[row - 1, column] = value
    write_csv(frame, folder / f"{extract}.csv", **csv_options)


def drop_column(folder: Path) -> None:
    frame = valid_frames()["befolkning"].drop(columns=["KOEN"])
    write_csv(frame, folder / "befolkning.csv")


def renamed_column(folder: Path) -> None:
    frame = valid_frames()["regnskab"].rename(columns={"KOM": "KOMMUNE"})
    write_csv(frame, folder / "regnskab.csv")


def wrong_type(folder: Path) -> None:
    _set(folder, "sagsbehandlere", 2, "AKTIVE_SAGER", "abc")


def unknown_code(folder: Path) -> None:
    _set(folder, "befolkning", 2, "KOEN", 3)


def out_of_range(folder: Path) -> None:
    _set(folder, "sagsbehandlere", 3, "AKTIVE_SAGER", 500)


def missing_value(folder: Path) -> None:
    _set(folder, "befolkning", 1, "KOEN", None)


def impossible_day(folder: Path) -> None:
    _set(folder, "befolkning", 2, "FOED_DAG", "31-02-2013", date_style="dmy")


def impossible_month(folder: Path) -> None:
    _set(folder, "underretninger", 3, "DATO", "2013-13-01")


def utf16(folder: Path) -> None:
    path = folder / "befolkning.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16"))


def utf16_without_bom(folder: Path) -> None:
    path = folder / "kommuner.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))


def nul_bytes(folder: Path) -> None:
    path = folder / "udfald.csv"
    lines = _lines(path)
    lines[2] = lines[2][:3] + "\x00" + lines[2][3:]
    _write_lines(path, lines)


def empty_file(folder: Path) -> None:
    (folder / "regnskab.csv").write_bytes(b"")


def header_only(folder: Path) -> None:
    path = folder / "regnskab.csv"
    _write_lines(path, _lines(path)[:1])


def truncated_last_line(folder: Path) -> None:
    path = folder / "forebyggende.csv"
    lines = _lines(path)
    lines[-1] = ",".join(lines[-1].split(",")[:3])
    _write_lines(path, lines, end="")


def extra_field(folder: Path) -> None:
    path = folder / "kommuner.csv"
    lines = _lines(path)
    lines[2] = lines[2] + ",surplus"
    _write_lines(path, lines)


def duplicate_key(folder: Path) -> None:
    frame = valid_frames()["underretninger"]
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    frame.loc[3, "ANMELDER"] = 5  # same key, another notifier: not an exact copy
    write_csv(frame, folder / "underretninger.csv")


def short_cpr(folder: Path) -> None:
    _set(folder, "befolkning", 2, "PNR", "12345")


def dashed_id(folder: Path) -> None:
    _set(folder, "anbringelser_forloeb", 1, "PNR", "abc-def")


def missing_extract(folder: Path) -> None:
    (folder / "regnskab.csv").unlink()


def two_files(folder: Path) -> None:
    write_binary(valid_frames()["regnskab"], EXTRACTS["regnskab"], folder / "regnskab.parquet")


@dataclass(frozen=True)
class Case:
    """A hostile edit and what validation must report.

    ``expect`` are substrings of the rendered validation report. ``rows`` are the
    rows that must be quarantined (``None`` for structural cases, which always stop).
    """

    build: Callable[[Path], None]
    extract: str
    expect: tuple[str, ...]
    exception: type[Exception]
    rows: tuple[int, ...] | None

    @property
    def name(self) -> str:
        return self.build.__name__


CASES: list[Case] = [
    Case(
        drop_column,
        "befolkning",
        ("befolkning.csv: required column(s) missing: KOEN.", "[missing_column]; fix: add the column"),
        ExtractValidationError,
        None,
    ),
    Case(
        renamed_column,
        "regnskab",
        ("required column(s) missing: KOM (did you mean 'KOMMUNE'?).",),
        ExtractValidationError,
        None,
    ),
    Case(
        wrong_type,
        "sagsbehandlere",
        ("sagsbehandlere.csv, row 2, column AKTIVE_SAGER: value 'abc' is not a whole number [type]",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        unknown_code,
        "befolkning",
        (
            "befolkning.csv, row 2, column KOEN: value '3' is not an allowed code "
            "(allowed: 1 dreng/mand, 2 pige/kvinde)",
        ),
        ExtractValidationError,
        (2,),
    ),
    Case(
        out_of_range,
        "sagsbehandlere",
        ("sagsbehandlere.csv, row 3, column AKTIVE_SAGER: value 500 is outside the allowed range 0 to 200",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        missing_value,
        "befolkning",
        ("befolkning.csv, row 1, column KOEN: value is missing",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        impossible_day,
        "befolkning",
        (
            "befolkning.csv, row 2, column FOED_DAG: value '31-02-2013' is not a valid date "
            "in the column's format DD-MM-YYYY",
        ),
        ExtractValidationError,
        (2,),
    ),
    Case(
        impossible_month,
        "underretninger",
        ("underretninger.csv, row 3, column DATO: value '2013-13-01' is not a valid date",),
        ExtractValidationError,
        (3,),
    ),
    Case(utf16, "befolkning", ("befolkning.csv", "UTF-16"), ExtractError, None),
    Case(utf16_without_bom, "kommuner", ("kommuner.csv", "NUL bytes", "UTF-16"), ExtractError, None),
    Case(nul_bytes, "udfald", ("udfald.csv, line 3", "NUL bytes"), ExtractError, None),
    Case(empty_file, "regnskab", ("regnskab.csv", "empty"), ExtractError, None),
    Case(header_only, "regnskab", ("regnskab.csv", "no data rows"), ExtractError, None),
    Case(
        truncated_last_line,
        "forebyggende",
        ("forebyggende.csv, row 3: the line has 3 field(s) where the header has 6",),
        ExtractValidationError,
        (3,),
    ),
    Case(
        extra_field,
        "kommuner",
        ("kommuner.csv, row 2: the line has 4 field(s) where the header has 3",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        duplicate_key,
        "underretninger",
        (
            "underretninger.csv, row 1, column UNDERRETNING_ID: the key (UNDERRETNING_ID=U000001) occurs in 2 rows "
            "that differ in other columns [duplicate_key]; fix: keep the one right row",
            "underretninger.csv, row 4, column UNDERRETNING_ID",
        ),
        ExtractValidationError,
        (1, 4),
    ),
    Case(
        short_cpr,
        "befolkning",
        ("befolkning.csv, row 2, column PNR: value '12***' (redacted) is neither a CPR-like number",),
        ExtractValidationError,
        (2,),
    ),
    Case(
        dashed_id,
        "anbringelser_forloeb",
        ("anbringelser_forloeb.csv, row 1, column PNR: value 'ab*****' (redacted)",),
        ExtractValidationError,
        (1,),
    ),
    Case(
        missing_extract,
        "regnskab",
        ("no file found", "regnskab.csv, regnskab.parquet, regnskab.dta, regnskab.sas7bdat, regnskab.xpt"),
        ExtractError,
        None,
    ),
    Case(two_files, "regnskab", ("several files", "regnskab.csv", "regnskab.parquet"), ExtractError, None),
]


# the second half of the corpus (imported last: it uses the helpers above)
from hostile.extra import EXTRA_CASES  # noqa: E402

CASES += EXTRA_CASES
