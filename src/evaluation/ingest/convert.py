"""Convert the columns of a raw extract to the contract's types, recording every value that does not fit.

Text (CSV, or text columns in binary files) is converted strictly:

* missing is an empty field; in number and date columns also a lone ``.``
  (SAS's missing value);
* whole numbers are digits with an optional sign (``2013`` or ``2013.0``);
* decimal numbers accept a decimal comma (``12,5``) when the file is
  ``;``-delimited or the value has the form ``12,5``;
* dates are ISO ``YYYY-MM-DD``, ``DD-MM-YYYY``, ``DD.MM.YYYY`` or SAS
  ``DDMMMYYYY`` (English month abbreviations). The format of a column is the
  format of its first value that matches one of them; every other value must
  parse in that same format, or it is a broken date.

Values that do not convert become missing and are returned as problems with
their row, so that the caller can stop or quarantine the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.contract.extracts import Column
from evaluation.contract.schemas import code_keys_are_text, pandas_dtype

#: Accepted date formats: name -> (regular expression, strptime format or ``None`` for SAS date9).
DATE_FORMATS: dict[str, tuple[str, str | None]] = {
    "YYYY-MM-DD": (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    "DD-MM-YYYY": (r"\d{2}-\d{2}-\d{4}", "%d-%m-%Y"),
    "DD.MM.YYYY": (r"\d{2}\.\d{2}\.\d{4}", "%d.%m.%Y"),
    "DDMMMYYYY": (r"\d{1,2}[A-Za-z]{3}\d{4}", None),
}
_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_INT = r"[+-]?\d+(?:\.0*)?"
_FLOAT = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DECIMAL_COMMA = r"[+-]?\d+,\d+"


@dataclass
class Converted:
    """One converted column.

    Attributes
    ----------
    values
        The typed values (dtype of :func:`~evaluation.contract.schemas.pandas_dtype`); bad values are missing.
    bad
        Boolean mask of values that did not convert.
    rule
        Rule broken by the bad values (``type`` or ``date``).
    reason
        Reason text for every value (only read where ``bad``).
    warning
        A note for the report, or ``""``.
    """

    values: pd.Series
    bad: np.ndarray
    rule: str
    reason: pd.Series
    warning: str = ""


def _is_text(series: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        return True
    if pd.api.types.is_object_dtype(series.dtype):
        return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    return False


def as_text(series: pd.Series) -> pd.Series:
    """Return a column as stripped text (dtype ``str``), missing values as ``""``.

    Parameters
    ----------
    series
        Any column; numbers that are whole are written without a decimal part.

    Returns
    -------
    pandas.Series
        Text values.
    """
    if _is_text(series):
        return series.fillna("").astype("str").str.strip()
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        num = pd.to_numeric(series, errors="coerce").astype("float64")
        whole = np.isfinite(num) & (np.floor(num) == num) & (np.abs(num) < 2**53)
        out = num.astype("str")
        out = out.where(~whole, num.where(whole, 0).astype("int64").astype("str"))
        return out.where(num.notna(), "").astype("str")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.strftime("%Y-%m-%d").fillna("").astype("str")
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype("str")


def _shown(text: pd.Series) -> pd.Series:
    return "value '" + text + "'"


def _missing_text(text: pd.Series, numeric: bool) -> np.ndarray:
    empty = text == ""
    if numeric:
        empty = empty | (text == ".")
    return empty.to_numpy(dtype=bool)


def _convert_string(series: pd.Series, column: Column) -> Converted:
    warning = ""
    if not _is_text(series) and pd.api.types.is_numeric_dtype(series.dtype) and column.identifier is not None:
        warning = (
            f"column {column.name} is stored as numbers; leading zeros of identifiers may have been lost. "
            "Store identifiers as text."
        )
    text = as_text(series)
    values = text.where(text != "", None).astype("str")
    bad = np.zeros(len(text), dtype=bool)
    return Converted(values, bad, "type", _shown(text), warning)


def _convert_whole(series: pd.Series, column: Column) -> Converted:
    dtype = pandas_dtype(column)
    if _is_text(series):
        text = as_text(series)
        missing = _missing_text(text, numeric=True)
        ok = text.str.fullmatch(_INT).to_numpy(dtype=bool)
        num = pd.to_numeric(text.where(ok, None), errors="coerce")
        bad = ~missing & ~ok
        reason = _shown(text) + " is not a whole number"
        return Converted(num.astype("Float64").astype(dtype), bad, "type", reason)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        num = pd.to_numeric(series, errors="coerce").astype("float64")
        missing = num.isna().to_numpy()
        ok = (np.isfinite(num) & (np.floor(num) == num)).to_numpy()
        bad = ~missing & ~ok
        clean = num.where(ok, np.nan)
        reason = _shown(as_text(series)) + " is not a whole number"
        return Converted(clean.astype("Float64").astype(dtype), bad, "type", reason)
    return _wrong_kind(series, column, "a whole number")


def _convert_float(series: pd.Series, column: Column, decimal_comma: bool) -> Converted:
    if _is_text(series):
        text = as_text(series)
        missing = _missing_text(text, numeric=True)
        comma = text.str.fullmatch(_DECIMAL_COMMA)
        if decimal_comma or bool(comma.any()):
            norm = text.where(~comma, text.str.replace(",", ".", regex=False))
        else:
            norm = text
        ok = norm.str.fullmatch(_FLOAT).to_numpy(dtype=bool)
        num = pd.to_numeric(norm.where(ok, None), errors="coerce").astype("float64")
        bad = ~missing & ~ok
        return Converted(num, bad, "type", _shown(text) + " is not a number")
    if pd.api.types.is_numeric_dtype(series.dtype):
        num = pd.to_numeric(series, errors="coerce").astype("float64")
        return Converted(num, np.zeros(len(num), dtype=bool), "type", _shown(as_text(series)))
    return _wrong_kind(series, column, "a number")


def _wrong_kind(series: pd.Series, column: Column, wanted: str) -> Converted:
    text = as_text(series)
    missing = (text == "").to_numpy(dtype=bool)
    values = pd.Series(pd.NA, index=series.index).astype(pandas_dtype(column))
    rule = "date" if column.dtype == "date" else "type"
    reason = _shown(text) + f" is not {wanted} (the column holds {series.dtype} values)"
    return Converted(values, ~missing, rule, reason)


def date_format_of(text: pd.Series) -> str | None:
    """Return the name of the date format of a text column: that of its first value matching a format.

    Parameters
    ----------
    text
        Stripped text values.

    Returns
    -------
    str or None
        A key of :data:`DATE_FORMATS`, or ``None`` if no value matches any format.
    """
    matches = {name: text.str.fullmatch(rx).to_numpy(dtype=bool) for name, (rx, _) in DATE_FORMATS.items()}
    first = {name: int(np.argmax(m)) for name, m in matches.items() if m.any()}
    if not first:
        return None
    return min(first, key=lambda name: first[name])


def _parse_dates(text: pd.Series, fmt_name: str) -> pd.Series:
    rx, fmt = DATE_FORMATS[fmt_name]
    ok = text.str.fullmatch(rx)
    candidate = text.where(ok, None)
    if fmt is None:  # SAS date9: 31JAN2013
        parts = candidate.str.upper().str.extract(r"^(\d{1,2})([A-Z]{3})(\d{4})$")
        month = parts[1].map(_MONTHS)
        iso = parts[2] + "-" + month + "-" + parts[0].str.zfill(2)
        return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    return pd.to_datetime(candidate, format=fmt, errors="coerce")


def _convert_date(series: pd.Series, column: Column) -> Converted:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        values = values.dt.normalize().astype("datetime64[ms]")
        return Converted(values, np.zeros(len(values), dtype=bool), "date", _shown(as_text(series)))
    if pd.api.types.is_object_dtype(series.dtype) and pd.api.types.infer_dtype(series, skipna=True) in (
        "date",
        "datetime",
        "datetime64",
    ):
        values = pd.to_datetime(series, errors="coerce")
        bad = (values.isna() & series.notna()).to_numpy()
        values = values.dt.normalize().astype("datetime64[ms]")
        return Converted(values, bad, "date", _shown(as_text(series)) + " is not a valid date")
    if not _is_text(series):
        return _wrong_kind(series, column, "a date")
    text = as_text(series)
    missing = _missing_text(text, numeric=True)
    fmt_name = date_format_of(text)
    if fmt_name is None:
        values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ms]")
        reason = _shown(text) + " is not a date in an accepted format (" + ", ".join(DATE_FORMATS) + ")"
        return Converted(values, ~missing, "date", reason)
    parsed = _parse_dates(text, fmt_name)
    bad = ~missing & parsed.isna().to_numpy()
    values = parsed.dt.normalize().astype("datetime64[ms]")
    reason = _shown(text) + f" is not a valid date in the column's format {fmt_name}"
    return Converted(values, bad, "date", reason)


def convert_column(series: pd.Series, column: Column, *, decimal_comma: bool = False) -> Converted:
    """Convert one raw column to the type of the contract.

    Parameters
    ----------
    series
        Raw values (text from CSV, or the native type of a binary file).
    column
        The column of the contract.
    decimal_comma
        Read ``12,5`` as 12.5 in decimal columns (set for ``;``-delimited files;
        a column whose values look like ``12,5`` is read this way in any case).

    Returns
    -------
    Converted
        Typed values and the mask of values that did not convert.
    """
    series = series.reset_index(drop=True)
    if column.dtype == "string" or (column.dtype == "code" and code_keys_are_text(column)):
        return _convert_string(series, column)
    if column.dtype in ("int", "code"):
        return _convert_whole(series, column)
    if column.dtype == "float":
        return _convert_float(series, column, decimal_comma)
    if column.dtype == "date":
        return _convert_date(series, column)
    raise ValueError(f"unknown dtype {column.dtype!r} of column {column.name}")
