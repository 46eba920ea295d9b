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

Identifiers stored as numbers (a Stata or SAS file, a Parquet integer column)
are written as whole numbers, without a decimal part. A person identifier of
fewer than 10 digits that becomes a CPR-like number when padded with zeros to
10 digits is padded (a CPR number whose day is 01-09 loses its leading zero
when stored as a number); see :func:`identifiers_from_numbers`.

Values that do not convert become missing and are returned as problems with
their row, so that the caller can stop or quarantine the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaluation.contract.extracts import CPR_PATTERN, Column
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
#: Digits of a CPR number: a person identifier stored as a number is padded to this width when
#: that makes it CPR-like.
CPR_DIGITS = 10
#: Whole numbers above this cannot all be told apart as 64-bit floats (2**53).
_EXACT_FLOAT = 2**53
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
        Reason text of each bad value, in row order (as many as ``bad`` has true values).
    warning
        A note for the report, or ``""``.
    padded
        For identifiers stored as numbers: how many were padded with zeros (the count in ``warning``,
        which :func:`numbers_warning` writes), else ``None``.
    date_format
        For a text date column: the format its values were read in (a key of :data:`DATE_FORMATS`), or ``None``.
    """

    values: pd.Series
    bad: np.ndarray
    rule: str
    reason: pd.Series
    warning: str = ""
    padded: int | None = None
    date_format: str | None = None


#: ``date_format`` of :func:`convert_column` when the format is to be taken from the values themselves.
DETECT = "detect"


def is_text(series: pd.Series) -> bool:
    """Whether a column holds text as read (a string dtype, or objects that are all strings or missing)."""
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
    if is_text(series):
        return series.fillna("").astype("str").str.strip()
    if pd.api.types.is_integer_dtype(series.dtype):  # exact, also beyond 2**53
        return series.astype("string").fillna("").astype("str")
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
    if (
        column.identifier is not None
        and not is_text(series)
        and pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
    ):
        return identifiers_from_numbers(series, column)
    text = as_text(series)
    values = text.where(text != "", None).astype("str")
    bad = np.zeros(len(text), dtype=bool)
    return Converted(values, bad, "type", _shown(text[bad]))


def identifiers_from_numbers(series: pd.Series, column: Column) -> Converted:
    """Turn identifiers stored as numbers into the contract's text form.

    A Stata or SAS file often stores an identifier as a number (a float in SAS,
    ``double`` or ``long`` in Stata), which loses its leading zeros: the CPR-like
    number 0101801234 becomes 101801234. Every whole number is written without a
    decimal part (never ``101801234.0``). For person identifiers
    (``column.identifier == "person"``), a number of fewer than
    :data:`CPR_DIGITS` digits whose zero-padded form is CPR-like (DDMMYY and four
    digits) is written with its leading zeros, so that it matches the same person
    in an extract that stores identifiers as text; other numbers (DST pseudonyms)
    are written as they are. Record identifiers have no fixed width and are
    written as they are.

    Parameters
    ----------
    series
        Numeric values (float or integer dtype, missing values allowed).
    column
        The contract's column, a ``string`` column with ``identifier`` set.

    Returns
    -------
    Converted
        Text values. A value that cannot be an identifier is bad (rule
        ``type``) and missing: a number with a fractional part, a negative
        number, infinity, or a float of 2**53 or more (beyond that a float does
        not hold every whole number, so the identifier may have been changed).
        ``warning`` says that the column is stored as numbers and how many
        values were padded.
    """
    n = len(series)
    missing = series.isna().to_numpy()
    if pd.api.types.is_integer_dtype(series.dtype):
        text = as_text(series).reset_index(drop=True)
        ok = ~missing & ~(series < 0).fillna(False).to_numpy(dtype=bool)
        fractional = np.zeros(n, dtype=bool)
        too_large = np.zeros(n, dtype=bool)
    else:
        num = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
        finite = np.isfinite(num)
        fractional = ~missing & (~finite | (np.floor(np.where(finite, num, 0)) != np.where(finite, num, 0)))
        too_large = ~missing & ~fractional & (np.abs(np.where(finite, num, 0)) >= _EXACT_FLOAT)
        whole = ~missing & ~fractional & ~too_large
        text = as_text(pd.Series(num)).reset_index(drop=True)
        ints = np.where(whole, num, 0).astype("int64")
        ok = whole & (ints >= 0)
        text = text.where(~whole, pd.Series(ints.astype("str"), dtype="str"))
    negative = ~missing & ~fractional & ~too_large & ~ok
    padded_count = 0
    if column.identifier == "person":
        padded = text.str.zfill(CPR_DIGITS)
        pad = ok & (text.str.len() < CPR_DIGITS).to_numpy() & padded.str.fullmatch(CPR_PATTERN).to_numpy(dtype=bool)
        text = text.where(~pad, padded)
        padded_count = int(pad.sum())
    values = text.where(ok, None).astype("str")
    bad = ~missing & ~ok
    shown = _shown(as_text(series[bad]).reset_index(drop=True))
    reason = pd.Series(
        np.select(
            [fractional, too_large, negative],
            [
                " is not a whole number, so it cannot be an identifier stored as a number",
                " is too large to be stored exactly as a floating-point number (2**53 or more); "
                "the identifier may have been changed. Store identifiers as text",
                " is negative, so it cannot be an identifier",
            ],
            default="",
        )[bad],
        dtype="str",
    )
    return Converted(values, bad, "type", shown + reason, numbers_warning(column, padded_count), padded_count)


def numbers_warning(column: Column, padded: int) -> str:
    """Return the note that an identifier column is stored as numbers, with how many values were padded.

    Parameters
    ----------
    column
        The identifier column.
    padded
        Values of fewer than :data:`CPR_DIGITS` digits padded with zeros (person identifiers).

    Returns
    -------
    str
        The warning of :func:`identifiers_from_numbers`.
    """
    warning = f"column {column.name} is stored as numbers; leading zeros of identifiers are lost that way."
    if column.identifier == "person":
        warning += (
            f" {padded:,} value(s) of fewer than {CPR_DIGITS} digits were padded with zeros to the "
            "CPR-like form; other numbers were taken as they are."
        )
    else:
        warning += " The numbers were taken as they are."
    return warning + " Store identifiers as text."


def _whole_numbers(text: pd.Series, ok: np.ndarray) -> pd.Series:
    """Return the values of ``text`` that match :data:`_INT` (``ok``) as numbers, the others missing.

    Arrow parses them (a sign ``+`` and a fraction of zeros stripped first), in C; ``pandas.to_numeric`` parses
    text one value at a time in Python objects, about ten times slower on a national extract. A value outside
    64-bit integers falls back to ``pandas.to_numeric``, so the numbers are the same either way.
    """
    candidate = text.where(ok, None)
    digits = pc.replace_substring_regex(pa.array(candidate, type=pa.large_string()), r"^\+|\.0*$", "")
    try:
        numbers = pc.cast(digits, pa.int64()).to_pandas()
    except (pa.ArrowInvalid, OverflowError):
        return pd.to_numeric(candidate, errors="coerce")
    numbers.index = text.index  # by position: the Arrow array has none
    return numbers


def _convert_whole(series: pd.Series, column: Column) -> Converted:
    dtype = pandas_dtype(column)
    if is_text(series):
        text = as_text(series)
        missing = _missing_text(text, numeric=True)
        ok = text.str.fullmatch(_INT).to_numpy(dtype=bool)
        num = _whole_numbers(text, ok)
        bad = ~missing & ~ok
        reason = _shown(text[bad]) + " is not a whole number"
        return Converted(num.astype("Float64").astype(dtype), bad, "type", reason)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        num = pd.to_numeric(series, errors="coerce").astype("float64")
        missing = num.isna().to_numpy()
        ok = (np.isfinite(num) & (np.floor(num) == num)).to_numpy()
        bad = ~missing & ~ok
        clean = num.where(ok, np.nan)
        reason = _shown(as_text(series[bad])) + " is not a whole number"
        return Converted(clean.astype("Float64").astype(dtype), bad, "type", reason)
    return _wrong_kind(series, column, "a whole number")


def _convert_float(series: pd.Series, column: Column, decimal_comma: bool) -> Converted:
    if is_text(series):
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
        return Converted(num, bad, "type", _shown(text[bad]) + " is not a number")
    if pd.api.types.is_numeric_dtype(series.dtype):
        num = pd.to_numeric(series, errors="coerce").astype("float64")
        return Converted(num, np.zeros(len(num), dtype=bool), "type", _shown(as_text(series.iloc[:0])))
    return _wrong_kind(series, column, "a number")


def _wrong_kind(series: pd.Series, column: Column, wanted: str) -> Converted:
    text = as_text(series)
    missing = (text == "").to_numpy(dtype=bool)
    values = pd.Series(pd.NA, index=series.index).astype(pandas_dtype(column))
    rule = "date" if column.dtype == "date" else "type"
    reason = _shown(text[~missing]) + f" is not {wanted} (the column holds {series.dtype} values)"
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


def _convert_date(series: pd.Series, column: Column, date_format: str | None) -> Converted:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        values = values.dt.normalize().astype("datetime64[ms]")
        return Converted(values, np.zeros(len(values), dtype=bool), "date", _shown(as_text(series.iloc[:0])))
    if pd.api.types.is_object_dtype(series.dtype) and pd.api.types.infer_dtype(series, skipna=True) in (
        "date",
        "datetime",
        "datetime64",
    ):
        values = pd.to_datetime(series, errors="coerce")
        bad = (values.isna() & series.notna()).to_numpy()
        values = values.dt.normalize().astype("datetime64[ms]")
        return Converted(values, bad, "date", _shown(as_text(series[bad])) + " is not a valid date")
    if not is_text(series):
        return _wrong_kind(series, column, "a date")
    text = as_text(series)
    missing = _missing_text(text, numeric=True)
    fmt_name = date_format_of(text) if date_format == DETECT else date_format
    if fmt_name is None:
        values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ms]")
        reason = _shown(text[~missing]) + " is not a date in an accepted format (" + ", ".join(DATE_FORMATS) + ")"
        return Converted(values, ~missing, "date", reason)
    parsed = _parse_dates(text, fmt_name)
    bad = ~missing & parsed.isna().to_numpy()
    values = parsed.dt.normalize().astype("datetime64[ms]")
    reason = _shown(text[bad]) + f" is not a valid date in the column's format {fmt_name}"
    return Converted(values, bad, "date", reason, date_format=fmt_name)


def convert_column(
    series: pd.Series, column: Column, *, decimal_comma: bool = False, date_format: str | None = DETECT
) -> Converted:
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
    date_format
        For a text date column: the format of the whole column, when ``series`` is part of it (see
        :func:`date_format_of`; ``None``: no value of the column is in an accepted format);
        :data:`DETECT` (default): the format of ``series`` itself.

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
        return _convert_date(series, column, date_format)
    raise ValueError(f"unknown dtype {column.dtype!r} of column {column.name}")
