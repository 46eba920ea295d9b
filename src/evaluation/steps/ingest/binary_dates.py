"""Dates that SAS and Stata files store as numbers with a format that pyreadstat does not read as a date.

SAS stores a date as the number of days since 1960-01-01 and Stata's monthly
dates as months since January 1960; the format attached to the column says so.
pyreadstat converts the full-date formats (SAS ``DATE9.``, ``DDMMYY10.``,
Stata ``%td``) but leaves the others as numbers, and a contract date column
would then be rejected row by row. :func:`dates_from_formats` reads them as dates.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

#: SAS formats whose values are SAS dates (days since 1960-01-01) but that show only part of the
#: date (month, quarter, year, a weekday): pyreadstat leaves such columns as numbers.
SAS_PARTIAL_DATE_FORMATS: frozenset[str] = frozenset(
    {
        *(f"{stem}{sep}" for stem in ("MMYY", "YYMM", "YYQ", "YYQR") for sep in ("", "C", "D", "N", "P", "S")),
        "MONYY",
        "YYMON",
        "YEAR",
        "QTR",
        "QTRR",
        "MONTH",
        "MONNAME",
        "DAY",
        "WEEKDAY",
        "DOWNAME",
        "JULIAN",
        "WORDDATE",
        "WORDDATX",
        "NLDATE",
    }
)

_SAS_EPOCH = np.datetime64("1960-01-01", "D")
_MAX_DAYS = 1_000_000  # about 2,700 years either side of 1960: anything beyond is not a date


def dates_from_formats(
    frame: pd.DataFrame, formats: dict[str, str | None], kind: Literal["sas", "dta"]
) -> tuple[pd.DataFrame, list[str]]:
    """Read as dates the numeric columns whose format says they hold dates that pyreadstat leaves as numbers.

    pyreadstat turns columns with full-date formats (SAS ``DATE9.``,
    ``DDMMYY10.``; Stata ``%td``) into dates, but leaves as numbers the SAS
    formats that show part of a date (``MONYY7.``, ``MMYY7.``, ``YEAR4.``: see
    :data:`SAS_PARTIAL_DATE_FORMATS`) and Stata's monthly ``%tm``. Their values
    are still dates: SAS stores days since 1960-01-01 whatever the format, and
    Stata's ``%tm`` counts months since January 1960 (read as the first day of
    the month, as the contract's month columns expect).

    Parameters
    ----------
    frame
        Columns as read by pyreadstat.
    formats
        Column -> format name from the file (``meta.original_variable_types``).
    kind
        ``"sas"`` (``.sas7bdat``, ``.xpt``) or ``"dta"`` (Stata).

    Returns
    -------
    frame : pandas.DataFrame
        The frame with those columns as ``datetime64[s]``; a column with a
        fractional value, or a value too far from 1960 to be a date, is left as
        numbers (the contract check then reports each value).
    notes : list of str
        One note per column read as dates, for the report.
    """
    notes: list[str] = []
    copied = False
    for name, fmt in formats.items():
        if not fmt or name not in frame.columns:
            continue
        dtype = frame[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue
        num = frame[name].to_numpy(dtype="float64")
        finite = num[np.isfinite(num)]
        if np.any(finite != np.floor(finite)) or np.any(np.abs(finite) > _MAX_DAYS):
            continue
        stem = re.match(r"[A-Za-z]*", fmt.strip().lstrip("$"))
        stem_name = stem.group(0).upper() if stem else ""
        whole = np.where(np.isfinite(num), num, 0).astype("int64")
        if kind == "sas" and stem_name in SAS_PARTIAL_DATE_FORMATS:
            days = _SAS_EPOCH + whole.astype("timedelta64[D]")
            what = f"the SAS format {fmt}: its values are SAS dates"
        elif kind == "dta" and fmt.strip().lower().startswith("%tm"):
            days = (np.datetime64("1960-01", "M") + whole.astype("timedelta64[M]")).astype("datetime64[D]")
            what = f"the Stata format {fmt}: its values are months, read as their first day"
        else:
            continue
        values = pd.Series(days.astype("datetime64[s]"), index=frame.index)
        if not copied:  # never change the caller's frame
            frame, copied = frame.copy(), True
        frame[name] = values.where(np.isfinite(num))
        notes.append(f"column {name} has {what}.")
    return frame, notes
