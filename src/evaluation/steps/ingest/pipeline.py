"""Ingest a folder of extracts: validate, quarantine or stop, pseudonymise, write clean Parquet and row accounting.

For every extract of the contract :func:`ingest_folder` writes

* ``out_dir/<extract>.parquet``: the accepted rows with readable column names
  (``field``), contract dtypes, person identifiers replaced by keyed pseudonyms,
  sorted by the key; identical input gives identical bytes;
* ``quarantine_dir/<extract>.csv`` (quarantine mode): the rejected rows, one line
  per row with ``_row``, ``_column``, ``_rule``, ``_reason`` and the raw values.
  These files hold raw identifiers: keep them under ``data/interim``, never in
  ``results/``;
* one line of the row accounting table (``accounting_path``): rows read =
  rows accepted + rows quarantined + exact duplicate rows dropped.

In quarantine mode each extract has a budget (``data.max_quarantined_share``):
when more of its rows would be quarantined, ingestion stops after every extract
has been checked, with the counts by rule and column of each extract over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.contract.extracts import EXTRACTS, Extract
from evaluation.contract.schemas import pandas_dtype
from evaluation.errors import ConfigError, ExtractError, ExtractValidationError, PseudonymisationError
from evaluation.io import write_csv, write_table
from evaluation.steps.ingest.accounting import (
    accounting_row,
    accounting_table,
    check_budget_option,
    exceeds_budget,
    write_accounting,
)
from evaluation.steps.ingest.convert import as_text
from evaluation.steps.ingest.crossfield import delivery_bound, extract_period_end
from evaluation.steps.ingest.messages import budget_advice, budget_lines, problems_message
from evaluation.steps.ingest.pseudonymise import pseudonymise_series
from evaluation.steps.ingest.report import locate_extracts
from evaluation.steps.ingest.validate import CheckedExtract, check_extract

#: Leading columns of a quarantine file, before the extract's raw values.
QUARANTINE_COLUMNS = ["_row", "_column", "_rule", "_reason", "_line"]


def clean_frame(typed: pd.DataFrame, extract: Extract, key: bytes) -> pd.DataFrame:
    """Turn accepted typed rows into the clean output frame.

    Parameters
    ----------
    typed
        Typed rows without problems (DST names plus ``_row``).
    extract
        The extract.
    key
        Pseudonymisation key.

    Returns
    -------
    pandas.DataFrame
        Readable column names, final dtypes, pseudonymised person identifiers,
        rows sorted by the key (ties by file order), no ``_row``.
    """
    columns = {}
    for col in extract.columns:  # one column at a time: a national extract does not fit twice
        values = typed[col.name].reset_index(drop=True)
        if col.identifier == "person":
            values = pseudonymise_series(values, key)
        columns[col.name] = values
    columns["_row"] = typed["_row"].reset_index(drop=True)
    order = list(extract.key) + ["_row"]
    sort = pd.DataFrame({name: columns[name] for name in order}).sort_values(order, kind="stable", na_position="last")
    permutation = sort.index.to_numpy()
    del sort
    out = {}
    for col in extract.columns:
        values = columns.pop(col.name)
        out[col.field] = values.take(permutation).astype(pandas_dtype(col, final=True)).reset_index(drop=True)
    return pd.DataFrame(out)


def quarantine_frame(checked: CheckedExtract) -> pd.DataFrame:
    """Return the rejected rows of an extract, one line per row, with the reasons joined.

    Parameters
    ----------
    checked
        The checked extract.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QUARANTINE_COLUMNS` (``_line`` holds the raw line for
        lines with the wrong number of fields) then the extract's columns as raw text.
    """
    extract = checked.extract
    problems = checked.problems
    grouped = problems.groupby("_row", sort=True).agg(
        _column=("column", lambda s: "; ".join(s)),
        _rule=("rule", lambda s: "; ".join(s)),
        _reason=("reason", lambda s: "; ".join(s)),
    )
    rows = grouped.index.to_numpy(dtype=np.int64)
    out = pd.DataFrame({"_row": rows})
    for name in ("_column", "_rule", "_reason"):
        out[name] = grouped[name].to_numpy()
    bad = checked.raw.bad_lines
    lines = dict(zip(bad["_row"].astype("int64"), bad["text"].astype("str"), strict=True))
    out["_line"] = pd.Series([lines.get(int(r), "") for r in rows], dtype="str")
    pos = np.searchsorted(checked.raw.rows, rows)
    n_table = len(checked.raw.rows)
    if n_table == 0:  # every line had the wrong number of fields
        in_table = np.zeros(len(rows), dtype=bool)
    else:
        in_table = (pos < n_table) & (checked.raw.rows[np.minimum(pos, n_table - 1)] == rows)
    raw = checked.raw.take(pos[in_table])
    for col in extract.columns:
        values = np.full(len(rows), "", dtype=object)
        if in_table.any():
            values[in_table] = as_text(raw[col.name]).to_numpy()
        out[col.name] = pd.Series(values, dtype="str")
    return out.astype({c: "str" for c in out.columns if c != "_row"})


def _write_quarantine(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, path)


@dataclass(frozen=True)
class Settings:
    """What every extract of one ingestion is written with (the arguments of :func:`ingest_folder`)."""

    out_dir: Path
    quarantine_dir: Path
    on_invalid: Literal["stop", "quarantine"]
    key: bytes = field(repr=False)  # the secret never appears in a message
    delivery_date: pd.Timestamp
    max_quarantined_share: float | None


@dataclass
class Written:
    """One extract after ingestion: its line of the row accounting, its progress lines, its budget lines.

    ``error`` is set instead of ``accounting`` when the extract stops the ingestion (a row problem with
    ``on_invalid="stop"``); its progress lines (warnings) are reported before the error is raised.
    """

    accounting: dict[str, object] | None
    lines: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)
    error: ExtractValidationError | None = None


def check_one(name: str, path: Path, settings: Settings) -> CheckedExtract:
    """Check one extract, leaving out the ``after_period`` rule (see :meth:`CheckedExtract.add_after_period`)."""
    return check_extract(path, EXTRACTS[name], period_end=None, delivery_date=settings.delivery_date)


def write_one(checked: CheckedExtract, period_end: pd.Timestamp | None, settings: Settings) -> Written:
    """Finish one checked extract: the ``after_period`` rule, then stop, or quarantine and write the clean rows.

    Parameters
    ----------
    checked
        The extract as :func:`check_one` returns it; it is emptied (a national extract does not fit twice).
    period_end
        The period end from the population extract (``None`` for the population extract itself).
    settings
        The ingestion's settings.

    Returns
    -------
    Written
        The accounting line, the progress lines and, in quarantine mode over the budget, the budget lines;
        with ``on_invalid="stop"`` and a row that breaks the contract, the error instead of the accounting
        (nothing is written).
    """
    extract, path = checked.extract, checked.path
    checked.add_after_period(period_end, settings.delivery_date)
    done = Written(None, [f"{extract.name}: warning: {warning}" for warning in checked.warnings])
    if settings.on_invalid == "stop" and not checked.problems.empty:
        done.error = ExtractValidationError(
            problems_message(path.name, checked.problems)
            + "\nFix the extract, or set data.on_invalid_row: quarantine to set such rows aside."
        )
        return done
    n_quarantined = 0
    if settings.on_invalid == "quarantine":
        quarantine = quarantine_frame(checked)
        quarantine_path = settings.quarantine_dir / f"{extract.name}.csv"
        _write_quarantine(quarantine, quarantine_path)
        n_quarantined = len(quarantine)
        del quarantine
        share = settings.max_quarantined_share
        if share is not None and exceeds_budget(n_quarantined, checked.rows_read, share):
            lines = budget_lines(path.name, checked.problems, checked.rows_read, share)
            done.over_budget += [*lines, f"  The quarantined rows are in {quarantine_path}."]
    rows_read, rows_duplicate = checked.rows_read, checked.rows_duplicate
    accepted = checked.release_accepted()
    clean = clean_frame(accepted, extract, settings.key)
    del accepted
    write_table(clean, settings.out_dir / f"{extract.name}.parquet")
    n_accepted = len(clean)
    del clean
    done.accounting = accounting_row(extract.name, path.name, rows_read, n_accepted, n_quarantined, rows_duplicate)
    duplicates = f", {rows_duplicate:,} exact duplicate(s) dropped" if rows_duplicate else ""
    done.lines.append(
        f"{extract.name}: {rows_read:,} rows read from {path.name}, {n_accepted:,} accepted, "
        f"{n_quarantined:,} quarantined{duplicates}"
    )
    return done


def ingest_folder(
    raw_dir: Path,
    out_dir: Path,
    *,
    on_invalid: Literal["stop", "quarantine"],
    quarantine_dir: Path,
    accounting_path: Path,
    key: bytes,
    progress: Callable[[str], object] = print,
    names: Sequence[str] | None = None,
    delivery_date: str | dt.date | None = None,
    max_quarantined_share: float | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Validate, pseudonymise and write every extract of a folder, with row accounting.

    Parameters
    ----------
    raw_dir
        Folder of extracts (``<extract>.<ext>``).
    out_dir
        Folder for the clean ``<extract>.parquet`` files.
    on_invalid
        ``"stop"``: any row problem raises. ``"quarantine"``: rows with problems
        go to ``quarantine_dir/<extract>.csv`` and the others go on. Structural
        problems (missing file or column, unreadable file, wrong encoding)
        always raise. Exact duplicate rows are never problems: one copy is kept.
    quarantine_dir
        Folder for quarantine files (holds raw identifiers: not under ``results/``).
    accounting_path
        CSV file for the row accounting table.
    key
        Pseudonymisation key (see :func:`~evaluation.steps.ingest.pseudonymise.load_key`).
    progress
        Called with one line of text per extract.
    names
        Only these extracts (in the contract's order; ``befolkning`` is always read first, since it
        dates the extract), for callers that need a subset such as the Monte Carlo study. None: all.
    delivery_date
        ``data.delivery_date``: the day the extracts were delivered (``YYYY-MM-DD``); a later date
        breaks the ``future_date`` rule. ``None``: the date of the run.
    max_quarantined_share
        ``data.max_quarantined_share``: in quarantine mode, the largest share of an extract's rows
        that may be quarantined. ``None``: no budget.
    workers
        Processes (the rule's ``threads``). With two or more, a second process
        (:mod:`~evaluation.steps.ingest.parallel`) checks and writes the other extracts while this one
        finishes the population extract; the files, the accounting and the messages are the same,
        and the messages of the other extracts come after the population extract's. The two
        processes together need about twice the memory of one.

    Returns
    -------
    pandas.DataFrame
        The row accounting table (:data:`~evaluation.steps.ingest.accounting.ACCOUNTING_COLUMNS`),
        sorted by extract.

    Raises
    ------
    ConfigError
        If ``on_invalid``, ``delivery_date`` or ``max_quarantined_share`` is not valid.
    PseudonymisationError
        If ``key`` is empty.
    ExtractError
        If an extract is missing, ambiguous or unreadable.
    ExtractValidationError
        If a required column is missing, (``on_invalid="stop"``) a row breaks the contract, or
        (``on_invalid="quarantine"``) an extract is over the quarantine budget. The accounting
        table is not written then; the quarantine files are, for inspection.
    """
    if on_invalid not in ("stop", "quarantine"):
        raise ConfigError(f"data.on_invalid_row must be 'stop' or 'quarantine', not {on_invalid!r}.")
    check_budget_option(max_quarantined_share)
    if not isinstance(key, bytes) or not key:
        raise PseudonymisationError("The pseudonymisation key is empty; see load_key().")
    bound = delivery_bound(delivery_date)
    raw_dir, out_dir, quarantine_dir = Path(raw_dir), Path(out_dir), Path(quarantine_dir)
    found, warnings, errors = locate_extracts(raw_dir)
    wanted = None if names is None else {"befolkning", *names}
    if wanted is not None:
        unknown = sorted(wanted - set(EXTRACTS))
        if unknown:
            raise ConfigError(f"ingest: unknown extract name(s) {unknown}; the contract has {sorted(EXTRACTS)}.")
        errors = {n: m for n, m in errors.items() if n in wanted}
    if errors:
        raise ExtractError(
            f"Extracts in {raw_dir} are missing or ambiguous:\n" + "\n".join(f"  {n}: {m}" for n, m in errors.items())
        )
    for warning in warnings:
        progress(f"warning: {warning}")
    settings = Settings(out_dir, quarantine_dir, on_invalid, key, bound, max_quarantined_share)
    todo = [(name, found[name][0]) for name in EXTRACTS if wanted is None or name in wanted]
    (first, first_path), rest = todo[0], todo[1:]  # befolkning: the period end of the others' after_period rule
    second = None
    if workers > 1 and rest:
        from evaluation.second_process import SecondProcess

        second = SecondProcess("evaluation.steps.ingest.parallel:serve", rest, settings)
        progress(f"checking {', '.join(name for name, _ in rest)} in a second process")
    written: list[Written] = []
    try:
        checked = check_one(first, first_path, settings)
        period_end = extract_period_end(checked.accepted())
        if second is not None:
            second.send(period_end)
        _report(write_one(checked, None, settings), written, progress)
        del checked
        if second is not None:
            done, error = second.result()
            for one in done:
                _report(one, written, progress)
            if error is not None:
                raise error
        else:
            for name, path in rest:
                _report(write_one(check_one(name, path, settings), period_end, settings), written, progress)
    finally:
        if second is not None:
            second.close()
    over_budget = [line for one in written for line in one.over_budget]
    if over_budget:
        raise ExtractValidationError(
            "Ingestion stopped: an extract has more rows to quarantine than the budget allows.\n"
            + "\n".join(over_budget)
            + "\n"
            + budget_advice()
        )
    table = accounting_table([one.accounting for one in written if one.accounting is not None])
    write_accounting(table, accounting_path)
    return table


def _report(one: Written, written: list[Written], progress: Callable[[str], object]) -> None:
    """Report an extract's lines, then stop with its error, if any."""
    for line in one.lines:
        progress(line)
    if one.error is not None:
        raise one.error
    written.append(one)
