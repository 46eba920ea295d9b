"""Check one extract file against the data contract and collect every problem with its row.

:func:`check_extract` reads a file (:mod:`~evaluation.steps.ingest.readers`), checks
its columns (a missing column stops: a file without a required column cannot
be half-read), converts the values (:mod:`~evaluation.steps.ingest.convert`) and
validates the typed frame with the pandera schema of
:func:`~evaluation.contract.schemas.schema_for` (codes, ranges, missing
values, person identifiers, duplicate keys). Pandera's failure cases become
row problems with this project's messages, for example::

    befolkning.csv, row 17, column KOEN: value '3' is not an allowed code (allowed: 1 dreng/mand, 2 pige/kvinde)
    [code]; fix: recode KOEN to one of the contract's codes (docs/data-contract.md lists them)

Exact duplicate rows (every column of the contract equal to an earlier row's)
are not problems: the first copy is checked like any row, the others are
dropped before the checks and counted (``CheckedExtract.duplicates``).

Person identifiers are shown redacted in messages (``'05********'``): messages
end up in logs and on screens, and a raw CPR number must not. The quarantine
file (written by :mod:`~evaluation.steps.ingest.pipeline`) keeps the raw values.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
from pandera.pandas import DataFrameSchema

from evaluation.contract.extracts import Column, Extract
from evaluation.contract.schemas import column_rules, schema_for
from evaluation.errors import ExtractValidationError
from evaluation.steps.ingest.convert import (
    DETECT,
    Converted,
    as_text,
    convert_column,
    date_format_of,
    is_text,
    numbers_warning,
)
from evaluation.steps.ingest.crossfield import after_period_problems, cross_field_problems
from evaluation.steps.ingest.messages import describe_codes, duplicate_warning, problems_message, redact, rule_fix
from evaluation.steps.ingest.readers import RawTable, read_raw

#: Columns of a problem table.
PROBLEM_COLUMNS = ["_row", "column", "value", "rule", "reason"]


def empty_duplicates() -> pd.DataFrame:
    """Return an empty table of duplicate rows (``_row``, ``copy_of``)."""
    return pd.DataFrame({"_row": pd.Series(dtype="int64"), "copy_of": pd.Series(dtype="int64")})


@dataclass
class CheckedExtract:
    """An extract after reading, conversion and validation.

    Attributes
    ----------
    extract
        The extract of the contract.
    raw
        The raw table, restricted to the contract's columns (renamed to their DST names).
    typed
        The typed frame: the contract's columns in order plus ``_row``; positional index.
    problems
        One row per problem: ``_row``, ``column``, ``value`` (redacted for
        person identifiers), ``rule`` and ``reason``.
    warnings
        Notes for the report (extra columns dropped, blank lines, duplicate rows, ...).
    duplicates
        Exact duplicate rows dropped before the checks: ``_row`` (the copy) and
        ``copy_of`` (the earlier row that is kept), sorted by ``_row``.
    """

    extract: Extract
    raw: RawTable
    typed: pd.DataFrame
    problems: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    duplicates: pd.DataFrame = field(default_factory=empty_duplicates)

    @property
    def path(self) -> Path:
        """The file."""
        return self.raw.path

    @property
    def rows_read(self) -> int:
        """Data rows in the file, including lines that could not be split into fields."""
        return self.raw.rows_read

    @property
    def rows_duplicate(self) -> int:
        """Exact duplicate rows dropped (one copy of each is kept)."""
        return len(self.duplicates)

    @property
    def bad_rows(self) -> np.ndarray:
        """Sorted unique ``_row`` numbers with at least one problem."""
        return np.unique(self.problems["_row"].to_numpy(dtype=np.int64))

    def add_after_period(self, period_end: pd.Timestamp | None, delivery_date: pd.Timestamp | None) -> None:
        """Add the problems of the ``after_period`` rule, once the population extract has given the period end.

        :func:`check_extract` with ``period_end=None`` leaves that rule out, so that an extract can be checked
        before the population extract is; the problem table is then the same as if the period end had been
        passed to :func:`check_extract`.

        Parameters
        ----------
        period_end
            Last day of the extract period (:func:`~evaluation.steps.ingest.crossfield.extract_period_end`).
        delivery_date
            The delivery date the extract was checked with.
        """
        parts = after_period_problems(self.typed, self.extract, period_end, delivery_date)
        if parts:
            self.problems = problem_table([self.problems, *parts])

    def release_accepted(self) -> pd.DataFrame:
        """Return the accepted rows and let go of the raw and typed values, which a national extract cannot hold twice.

        Afterwards only ``extract``, ``problems``, ``warnings`` and ``duplicates`` remain usable.
        """
        accepted = self.accepted()
        self.raw = self.typed = None  # type: ignore[assignment]
        return accepted

    def accepted(self) -> pd.DataFrame:
        """Return the typed rows without any problem (the typed frame itself when every row is accepted)."""
        bad = self.bad_rows
        if len(bad) == 0:
            return self.typed
        return self.typed[~np.isin(self.typed["_row"].to_numpy(), bad)]


@cache
def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_row": pd.Series(dtype="int64"),
            "column": pd.Series(dtype="str"),
            "value": pd.Series(dtype="str"),
            "rule": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
        }
    )


def empty_problems() -> pd.DataFrame:
    """Return an empty problem table with the columns of :data:`PROBLEM_COLUMNS`.

    A copy of one table built once: building it (five typed columns) cost a millisecond, and a check of one
    extract asks for one per rule and column.
    """
    return _empty_problems().copy()


def find_duplicates(frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Find exact duplicate rows: rows whose every value equals an earlier row's.

    Parameters
    ----------
    frame
        The raw values of the contract's columns, one row per data row.
    rows
        The ``_row`` number of each row of ``frame``.

    Returns
    -------
    dropped : numpy.ndarray of bool
        Per row of ``frame``: a later copy (the first copy is not marked).
    duplicates : pandas.DataFrame
        ``_row`` of each dropped copy and ``copy_of``, the row it repeats.
    """
    dropped = frame.duplicated(keep="first").to_numpy(dtype=bool)
    if not dropped.any():
        return dropped, empty_duplicates()
    group = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(rows).groupby(group).transform("first").to_numpy(dtype=np.int64)
    table = pd.DataFrame({"_row": rows[dropped].astype(np.int64), "copy_of": first[dropped]})
    return dropped, table.sort_values("_row", kind="stable").reset_index(drop=True)


def match_columns(found: list[str], extract: Extract, file: str) -> tuple[dict[str, str], list[str]]:
    """Match a file's columns to the contract, case-insensitively.

    Parameters
    ----------
    found
        Column names in the file.
    extract
        The extract of the contract.
    file
        File name for messages.

    Returns
    -------
    renames : dict
        File column -> contract (DST) name, for the contract's columns.
    warnings : list of str
        Unexpected columns, which are dropped.

    Raises
    ------
    ExtractValidationError
        If a required column is missing (the message lists the missing and the
        unexpected columns and the closest match), or two columns have the same name.
    """
    wanted = {name.upper(): name for name in extract.names}
    renames: dict[str, str] = {}
    extra: list[str] = []
    for col in found:
        key = str(col).strip().upper()
        if key in wanted:
            if wanted[key] in renames.values():
                raise ExtractValidationError(
                    f"{file}: column {wanted[key]} appears more than once (names are compared ignoring case). "
                    "Remove the duplicate column."
                )
            renames[col] = wanted[key]
        else:
            extra.append(str(col))
    missing = [name for name in extract.names if name not in renames.values()]
    if missing:
        named, suggested = [], set()
        for name in missing:
            close = difflib.get_close_matches(name, [e.upper() for e in extra], n=1, cutoff=0.5)
            if close:
                original = next(e for e in extra if e.upper() == close[0])
                suggested.add(original)
                named.append(f"{name} (did you mean '{original}'?)")
            else:
                named.append(name)
        others = [e for e in extra if e not in suggested]
        raise ExtractValidationError(
            f"{file}: required column(s) missing: {', '.join(named)}."
            + (f" Columns found that are not in the contract: {', '.join(others)}." if others else "")
            + f" The contract for {extract.name} requires: {', '.join(extract.names)} (docs/data-contract.md)."
            + " [missing_column]; fix: "
            + rule_fix("missing_column")
            + "."
        )
    warnings = [f"unexpected column(s) dropped: {', '.join(extra)}"] if extra else []
    return renames, warnings


def _bad_line_problems(raw: RawTable) -> pd.DataFrame:
    bad = raw.bad_lines
    if bad.empty:
        return empty_problems()
    reason = (
        "the line has "
        + bad["fields"].astype("str")
        + " field(s) where the header has "
        + bad["expected"].astype("str")
        + " (a truncated line, or a delimiter inside an unquoted value)"
    )
    return pd.DataFrame(
        {
            "_row": bad["_row"].astype("int64"),
            "column": "*",
            "value": "",
            "rule": "fields",
            "reason": reason.astype("str"),
        }
    )


#: Each extract's schema without the key check, built once: ``id(extract) -> (extract, schema)``. The entry holds
#: the extract, so its id cannot pass to another object; a batch of a big extract and every extract of a folder
#: reuse it (building a schema took about as long as checking a small extract).
_SCHEMAS: dict[int, tuple[Extract, DataFrameSchema]] = {}


def _schema(extract: Extract) -> DataFrameSchema:
    """Return the extract's pandera schema without the key check (checked over all batches: ``_key_problems``)."""
    cached = _SCHEMAS.get(id(extract))
    if cached is None or cached[0] is not extract:
        cached = _SCHEMAS[id(extract)] = (extract, schema_for(extract, unique_key=False))
    return cached[1]


def _rule_problems(typed: pd.DataFrame, extract: Extract, converted_bad: dict[str, np.ndarray]) -> pd.DataFrame:
    schema = _schema(extract)
    try:
        schema.validate(typed, lazy=True)
        return empty_problems()
    except pandera.errors.SchemaErrors as err:
        fc = err.failure_cases
    rows = typed["_row"].to_numpy(dtype=np.int64)
    parts = []
    fc = fc[fc["index"].notna()]
    for (column_name, check), group in fc.groupby(["column", "check"], sort=True, dropna=False):
        pos = group["index"].to_numpy(dtype=np.int64)
        col = extract.column(str(column_name))
        if check == "not_nullable":
            keep = ~converted_bad[col.name][pos]
            pos = pos[keep]
            if len(pos) == 0:
                continue
            rule, value = "missing", pd.Series([""] * len(pos), dtype="str")
            reason = pd.Series(["value is missing but the column is required"] * len(pos), dtype="str")
        else:
            number = group["check_number"].iloc[0]
            rules = column_rules(col)
            rule = rules[int(number)] if number is not None and not pd.isna(number) else str(check)
            value = _as_str(group["failure_case"])
            shown = redact(value) if col.identifier == "person" else value
            reason = _reason(rule, col, shown)
        parts.append(
            pd.DataFrame(
                {
                    "_row": rows[pos],
                    "column": col.name,
                    "value": value.to_numpy(),
                    "rule": rule,
                    "reason": reason.to_numpy(),
                }
            )
        )
    if not parts:
        return empty_problems()
    return pd.concat(parts, ignore_index=True)


def _as_str(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if v is None or v is pd.NA else str(v)).astype("str").reset_index(drop=True)


def _reason(rule: str, col: Column, shown: pd.Series) -> pd.Series:
    if rule == "code":
        return "value '" + shown + f"' is not an allowed code (allowed: {describe_codes(col)})"
    if rule == "range":
        unit = f" {col.unit}" if col.unit else ""
        return "value " + shown + f" is outside the allowed range {col.minimum:g} to {col.maximum:g}{unit}"
    if rule == "person_id":
        return (
            "value '" + shown + "' (redacted) is neither a CPR-like number (DDMMYY + 4 digits) "
            "nor a DST pseudonym (6-64 letters and digits)"
        )
    return "value '" + shown + f"' breaks the rule {rule}"


def _key_problems(typed: pd.DataFrame, extract: Extract) -> pd.DataFrame:
    """Return a ``duplicate_key`` problem for every row whose key another row shares (all copies)."""
    key = list(extract.key)
    if not key:
        return empty_problems()
    pos = np.flatnonzero(typed.duplicated(subset=key, keep=False).to_numpy(dtype=bool))
    if len(pos) == 0:
        return empty_problems()
    sizes = typed.groupby(key, dropna=False, sort=False)[key[0]].transform("size").to_numpy()
    sub = typed.iloc[pos]
    shown = []
    for name in key:
        text = _as_str(sub[name])
        if extract.column(name).identifier == "person":
            text = redact(text)
        shown.append(name + "=" + text)
    label = shown[0]
    for part in shown[1:]:
        label = label + ", " + part
    reason = (
        "the key ("
        + label
        + ") occurs in "
        + pd.Series(sizes[pos]).astype("str")
        + " rows that differ in other columns"
    )
    return pd.DataFrame(
        {
            "_row": typed["_row"].to_numpy(dtype=np.int64)[pos],
            "column": "+".join(key),
            "value": label.to_numpy(),
            "rule": "duplicate_key",
            "reason": reason.astype("str").to_numpy(),
        }
    )


def check_extract(
    path: Path,
    extract: Extract,
    *,
    period_end: pd.Timestamp | None = None,
    delivery_date: pd.Timestamp | None = None,
    batch_rows: int | None = None,
) -> CheckedExtract:
    """Read, convert and validate one extract file, collecting every row problem.

    The rows are converted and checked in batches of ``batch_rows`` (memory stays bounded on a national
    extract); the rules that compare rows (exact duplicates, duplicate keys, overlapping spells) and the
    date format of a column are decided over the whole file, so the result does not depend on the batch size.

    Parameters
    ----------
    path
        The file.
    extract
        The extract it holds.
    period_end
        Last day of the extract period, for the ``after_period`` rule of
        :mod:`~evaluation.steps.ingest.crossfield` (``None``: not checked).
    delivery_date
        The extract's delivery date, for the ``future_date`` rule (``None``: not checked).
    batch_rows
        Rows per batch (``None``: :data:`BATCH_ROWS`).

    Returns
    -------
    CheckedExtract
        The typed frame (exact duplicate rows left out) and the problem table.

    Raises
    ------
    ExtractError
        If the file cannot be read at all (encoding, empty, corrupt).
    ExtractValidationError
        If a required column is missing.
    """
    path = Path(path)
    size = max(int(batch_rows or BATCH_ROWS), 1)
    raw = read_raw(path, extract)
    renames, warnings = match_columns(raw.columns, extract, path.name)
    warnings = [*raw.warnings, *warnings]
    raw.select(renames, extract.names)
    dropped, duplicates = _exact_duplicates(raw, size, list(extract.key))
    if len(duplicates):
        warnings.append(duplicate_warning(duplicates))
    date_formats = {c.name: _date_format(raw, c.name, size) for c in extract.columns if c.dtype == "date"}
    decimal_comma = raw.delimiter == ";"
    parts = [_bad_line_problems(raw)]
    batches: list[pd.DataFrame] = []
    padded: dict[str, int] = {}
    notes: list[str] = []
    for start in range(0, max(raw.n_rows, 1), size):
        keep = ~dropped[start : start + size]
        frame = raw.slice(start, start + size)
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
        rows = raw.rows[start : start + size][keep]
        typed: dict[str, pd.Series] = {}
        conv_bad: dict[str, np.ndarray] = {}
        for col in extract.columns:
            conv = convert_column(
                frame[col.name], col, decimal_comma=decimal_comma, date_format=date_formats.get(col.name, DETECT)
            )
            typed[col.name] = conv.values.reset_index(drop=True)
            conv_bad[col.name] = conv.bad
            if conv.padded is not None:
                padded[col.name] = padded.get(col.name, 0) + conv.padded
            elif conv.warning and conv.warning not in notes:
                notes.append(conv.warning)
            if conv.bad.any():
                parts.append(_conversion_problems(conv, frame[col.name], col, rows))
        typed_frame = pd.DataFrame(typed)
        typed_frame.insert(0, "_row", rows)
        parts.append(_rule_problems(typed_frame, extract, conv_bad))
        batches.append(typed_frame)
        del frame, typed, conv_bad
    warnings += [numbers_warning(extract.column(name), n) for name, n in padded.items()] + notes
    typed_frame = _concat_columns(batches)
    parts.append(_key_problems(typed_frame, extract))
    parts += cross_field_problems(typed_frame, extract, period_end=period_end, delivery_date=delivery_date)
    return CheckedExtract(extract, raw, typed_frame, problem_table(parts), warnings, duplicates)


def problem_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Join problem tables into one, with the columns typed and the rows sorted by row, column and rule.

    The sort is stable, so only problems with the same row, column and rule keep the order of ``parts``; a rule
    that gives one problem per row and column (such as ``after_period``) may be added later to the same result.
    """
    problems = pd.concat([p for p in parts if not p.empty] or [empty_problems()], ignore_index=True)
    problems = problems.astype({"_row": "int64", "column": "str", "value": "str", "rule": "str", "reason": "str"})
    return problems.sort_values(["_row", "column", "rule"], kind="stable").reset_index(drop=True)


#: Rows converted and validated at a time by :func:`check_extract`. Conversion and the column rules
#: need several times the memory of the values they work on; in batches that stays bounded.
BATCH_ROWS = 1_000_000


def _conversion_problems(conv: Converted, raw: pd.Series, col: Column, rows: np.ndarray) -> pd.DataFrame:
    reason = conv.reason
    value = as_value(raw[conv.bad], col)
    if col.identifier == "person":
        reason = pd.Series(["value could not be read as text"] * int(conv.bad.sum()), dtype="str")
    return pd.DataFrame(
        {
            "_row": rows[conv.bad],
            "column": col.name,
            "value": value.to_numpy(),
            "rule": conv.rule,
            "reason": reason.to_numpy(),
        }
    )


def _concat_columns(batches: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate batches column by column, freeing each batch's column as it goes."""
    if len(batches) == 1:
        return batches.pop()
    columns = list(batches[0].columns)
    out = {}
    for name in columns:
        out[name] = pd.concat([batch.pop(name) for batch in batches], ignore_index=True)
    batches.clear()
    return pd.DataFrame(out)


def _exact_duplicates(raw: RawTable, size: int, key: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Find the exact duplicate rows of a whole table (see :func:`find_duplicates`), a batch at a time.

    Copies share every value, so they share their key: only rows whose key values (a hash of them)
    occur more than once can be copies, and :func:`find_duplicates` decides on those rows exactly.
    """
    if raw.n_rows <= size or isinstance(raw.data, pd.DataFrame):
        return find_duplicates(raw.frame, raw.rows)
    hashes = np.concatenate(
        [_row_hashes(raw.slice(start, start + size, key or None)) for start in range(0, raw.n_rows, size)]
    )
    candidates = np.flatnonzero(pd.Series(hashes).duplicated(keep=False).to_numpy(dtype=bool))
    dropped = np.zeros(raw.n_rows, dtype=bool)
    if len(candidates) == 0:
        return dropped, empty_duplicates()
    among, duplicates = find_duplicates(raw.take(candidates), raw.rows[candidates])
    dropped[candidates[among]] = True
    return dropped, duplicates


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """Hash every row's values; rows that are equal in :meth:`pandas.DataFrame.duplicated` hash equal."""
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype.kind == "f":  # -0.0 equals 0.0, and every NaN equals every other NaN
            values = frame[name].to_numpy(dtype="float64") + 0.0
            frame[name] = np.where(np.isnan(values), np.nan, values)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _date_format(raw: RawTable, name: str, size: int) -> str | None:
    """Return the date format of a whole raw column (:func:`date_format_of`), reading slices until one matches."""
    for start in range(0, raw.n_rows, size):
        values = raw.text_column(name, start, start + size)
        if values is None or not is_text(values):
            return DETECT  # not text: no format to choose
        found = date_format_of(as_text(values))
        if found is not None:
            return found
    return None


def as_value(values: pd.Series, col: Column) -> pd.Series:
    """Return raw values as text for a problem table, redacted for person identifiers."""
    text = _as_str(values)
    return redact(text) if col.identifier == "person" else text


def read_extract(path: Path, extract: Extract) -> pd.DataFrame:
    """Read an extract file, typed per the contract.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet``, ``.dta``, ``.sas7bdat`` or ``.xpt`` file.
    extract
        The extract it holds.

    Returns
    -------
    pandas.DataFrame
        The contract's columns with their DST names, in the contract's order,
        typed (text ``str``, whole numbers and numeric codes ``Int64``, decimals
        ``float64``, dates ``datetime64[ms]``), plus ``_row``: the 1-based data
        row number in the file (the line number in a CSV file, not counting the
        header). Identifiers are not pseudonymised. Extra columns are dropped.

    Raises
    ------
    ExtractError
        If the file cannot be read.
    ExtractValidationError
        If a column is missing, or a value cannot be converted to its type (not
        a number, broken date, a line with the wrong number of fields). Codes,
        ranges and keys are not checked here; use
        :func:`evaluation.steps.ingest.validate_folder` for the full check.
    """
    checked = check_extract(path, extract)
    typing = checked.problems[checked.problems["rule"].isin(["type", "date", "fields"])]
    if not typing.empty:
        raise ExtractValidationError(problems_message(Path(path).name, typing))
    return checked.typed
