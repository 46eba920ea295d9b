"""Audit every table a release publishes against the disclosure rules, and count what was suppressed.

Each analysis step suppresses its small cells where it writes them (the sample
flow in :func:`evaluation.steps.compare.publishable_flow`, counts of the staggered step
in :func:`evaluation.steps.staggered.run.suppress_counts`, the ``suppressed`` flag of the
implementation and factsheet tables, ...). This module checks the result: it
reads every CSV file under a release folder (``results/<release>/``), applies the
rule declared for it in :data:`PUBLISHED_TABLES`, and

* raises :class:`~evaluation.disclosure.record.DisclosureError`, naming file, row
  and column, when a published cell breaks a rule, or when a CSV file has no
  declared rule (so that a new table cannot be published unchecked);
* otherwise counts the cells left empty under each rule, for the report's
  appendix (:func:`write_audit` writes ``results/<release>/disclosure/summary.csv``).

The rules of a table
--------------------
Each CSV file declares its rule in the results registry
(:data:`evaluation.contract.results.RESULTS_FILES`, :meth:`~evaluation.contract.results.ResultsFile.table_rule`);
:mod:`evaluation.contract.table_rules` says what each part of a rule checks (counts of persons, statistics
resting on them, flagged values, or no cell resting on few persons).

The files are read as text, so an empty cell is exactly an empty field of the CSV file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract.results import RESULTS_FILES, ResultsFile, find_results_file
from evaluation.contract.table_rules import Statistics, TableRule, no_person_cells
from evaluation.disclosure.record import DisclosureError, SuppressionRecord, check_min_cell, write_summary
from evaluation.disclosure.rules import below_threshold

__all__ = [
    "PUBLISHED_TABLES",
    "Statistics",
    "TableRule",
    "audit_results",
    "audit_table",
    "no_person_cells",
    "published_files",
    "write_audit",
]

#: The audit's own folder inside a release folder (``disclosure/summary.csv``): not audited.
AUDIT_FOLDER = "disclosure"
#: Where the registry's paths of files in a release folder begin.
RELEASE_PREFIX = "results/{release}/"
#: Folders of this name are not audited, as the output guard skips them (none are written by default).
INTERNAL_FOLDER = "internal"

#: Relative path inside a release folder -> the rule of the table, from the results registry. Every CSV file a
#: step writes into ``results/<release>/`` is here (the audit refuses an undeclared file).
PUBLISHED_TABLES: dict[str, TableRule] = {
    declared.path.removeprefix(RELEASE_PREFIX): declared.table_rule()
    for declared in RESULTS_FILES
    if declared.path.startswith(RELEASE_PREFIX)
    and declared.path.endswith(".csv")
    and not declared.path.startswith(f"{RELEASE_PREFIX}{AUDIT_FOLDER}/")
}

_TRUE = {"1", "true", "True", "TRUE", "1.0"}
_FALSE = {"0", "false", "False", "FALSE", "0.0"}


def _counts(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """Parse a count column: NaN for an empty cell; refuse anything but a whole number of 0 or more."""
    out = np.full(len(table), np.nan)
    for row, text in enumerate(table[column]):
        if text == "":
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or value != round(value):
            raise DisclosureError(
                f"{path}, row {row + 2}, column {column}: {text!r} is not a count of persons "
                "(a whole number of 0 or more, or empty when suppressed)"
            )
        out[row] = value
    return out


def _person_rows(table: pd.DataFrame, column: str, declared: ResultsFile | None) -> np.ndarray:
    """Rows where ``column`` counts persons or person-years (every row unless the registry declares otherwise)."""
    rows = declared.person_rows(column, table) if declared is not None else None
    return np.ones(len(table), dtype=bool) if rows is None else np.array(rows, dtype=bool)


def _flags(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = table[column]
    bad = ~values.isin(_TRUE | _FALSE)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DisclosureError(f"{path}, row {row + 2}, column {column}: {values.iloc[row]!r} is not true or false")
    return values.isin(_TRUE).to_numpy()


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def audit_table(path: Path, name: str, rule: TableRule, min_cell: int) -> SuppressionRecord:
    """Check one published table against its rule and count its suppressed cells.

    Parameters
    ----------
    path
        The CSV file.
    name
        Its name in the record (the path inside the release folder).
    rule
        The table's rule.
    min_cell
        The threshold.

    Returns
    -------
    SuppressionRecord
        Cells checked and cells suppressed by rule (none checked for a table without person-level cells).

    Raises
    ------
    DisclosureError
        If a declared column is missing, a count lies between 1 and ``min_cell - 1``, or a statistic
        or flagged value is published where the rule says it must be empty.
    """
    record = SuppressionRecord(name, min_cell)
    if rule.no_person_cells:
        return record
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in rule.columns if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"{path} lacks the column(s) {', '.join(missing)} declared for it in "
            "evaluation.contract.results.RESULTS_FILES: update the declaration with the step that writes it"
        )
    counts = {column: _counts(table, column, path) for column in rule.counts}
    declared = find_results_file(path)
    persons = {column: _person_rows(table, column, declared) for column in rule.counts}
    for column, values in counts.items():
        values = np.where(persons[column], values, min_cell)  # other units are published as they are
        small = below_threshold(values, min_cell)
        if small.any():
            row = _first(small)
            raise DisclosureError(
                f"{path}, row {row + 2}, column {column}: a count of {values[row]:g} is below disclosure.min_cell = "
                f"{min_cell}; the step that writes it must leave it empty (primary suppression)"
            )
        empty = np.isnan(values)
        secondary = rule.secondary(table, column, empty) if rule.secondary is not None else np.zeros_like(empty)
        record.cells_total += len(values)
        record.add("primary", int((empty & ~secondary).sum()))
        record.add("secondary", int(secondary.sum()))
    for stat in rule.statistics:
        few = np.zeros(len(table), dtype=bool)
        for n in stat.n:
            few |= persons[n] & (np.isnan(counts[n]) | below_threshold(counts[n], min_cell))
        for column in stat.columns:
            shown = table[column].ne("").to_numpy()
            if (few & shown).any():
                row = _first(few & shown)
                persons = ", ".join(f"{n} = {table[n].iloc[row] or 'empty'}" for n in stat.n)
                raise DisclosureError(
                    f"{path}, row {row + 2}, column {column}: the statistic {table[column].iloc[row]} is published "
                    f"although it rests on too few persons ({persons}; min_cell = {min_cell}): leave it empty"
                )
            record.cells_total += len(table)
            record.add("few_persons", int(few.sum()))
    if rule.flagged:
        hidden = _flags(table, rule.flag, path)
        for column in rule.flagged:
            shown = table[column].ne("").to_numpy()
            if (hidden & shown).any():
                row = _first(hidden & shown)
                raise DisclosureError(
                    f"{path}, row {row + 2}, column {column}: the row is marked {rule.flag} but the value "
                    f"{table[column].iloc[row]} is published: leave it empty"
                )
            record.cells_total += len(table)
            record.add("few_persons", int(hidden.sum()))
    return record


def published_files(results_dir: Path) -> list[str]:
    """Every CSV file under a release folder, as a POSIX path inside it, sorted.

    :data:`AUDIT_FOLDER` and folders named :data:`INTERNAL_FOLDER` are left out.
    """
    results_dir = Path(results_dir)
    found = []
    for path in results_dir.rglob("*.csv"):
        parts = path.relative_to(results_dir).parts
        if parts[0] == AUDIT_FOLDER or INTERNAL_FOLDER in parts[:-1]:
            continue
        found.append("/".join(parts))
    return sorted(found)


def audit_results(
    results_dir: Path, min_cell: int, *, tables: Mapping[str, TableRule] | None = None
) -> list[SuppressionRecord]:
    """Check every CSV file of a release folder against its declared rule and count the suppressed cells.

    Parameters
    ----------
    results_dir
        The release folder (``results/interim`` or ``results/final``).
    min_cell
        The threshold (``disclosure.min_cell``, at least 3).
    tables
        The declarations; default :data:`PUBLISHED_TABLES`.

    Returns
    -------
    list of SuppressionRecord
        One per CSV file found, named by its path inside the folder and sorted by it; a table
        without person-level cells has ``cells_total = 0``.

    Raises
    ------
    DisclosureError
        If a CSV file has no declared rule, or a published cell breaks its table's rule (the
        message names file, row and column).
    ConfigError
        If ``min_cell`` is below 3.
    """
    min_cell = check_min_cell(min_cell)
    results_dir = Path(results_dir)
    tables = PUBLISHED_TABLES if tables is None else tables
    if not results_dir.is_dir():
        raise DisclosureError(f"{results_dir} is not a folder: run the pipeline steps of this release first")
    records = []
    for relative in published_files(results_dir):
        path = results_dir / relative
        if relative not in tables:
            raise DisclosureError(
                f"no disclosure rule is declared for {path}: declare the file and its rule in "
                "evaluation.contract.results.RESULTS_FILES"
            )
        records.append(audit_table(path, relative, tables[relative], min_cell))
    return records


def write_audit(results_dir: Path, min_cell: int, summary_path: Path) -> pd.DataFrame:
    """Audit a release folder (:func:`audit_results`) and write the suppression summary.

    Parameters
    ----------
    results_dir
        The release folder.
    min_cell
        The threshold.
    summary_path
        Output CSV (``results/<release>/disclosure/summary.csv``; see
        :func:`~evaluation.disclosure.record.write_summary`).

    Returns
    -------
    pandas.DataFrame
        The summary written: one row per table and rule.
    """
    return write_summary(audit_results(results_dir, min_cell), Path(summary_path))
