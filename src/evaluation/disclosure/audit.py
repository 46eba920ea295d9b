"""Audit every table a release publishes against the disclosure rules, and count what was suppressed.

Each analysis step suppresses its small cells where it writes them (the sample
flow in :func:`evaluation.compare.publishable_flow`, counts of the staggered step
in :func:`evaluation.staggered.run.suppress_counts`, the ``suppressed`` flag of the
implementation and factsheet tables, ...). This module checks the result: it
reads every CSV file under a release folder (``results/<release>/``), applies the
rule declared for it in :data:`PUBLISHED_TABLES`, and

* raises :class:`~evaluation.disclosure.record.DisclosureError`, naming file, row
  and column, when a published cell breaks a rule, or when a CSV file has no
  declared rule (so that a new table cannot be published unchecked);
* otherwise counts the cells left empty under each rule, for the report's
  appendix (:func:`write_audit` writes ``results/<release>/disclosure/summary.csv``).

The rules of a table (:class:`TableRule`)
-----------------------------------------
``counts``
    Columns of counts of persons (or of child-years): every cell is empty, 0 or
    at least ``min_cell``. An empty cell is a suppressed count (rule ``primary``;
    ``secondary`` where the table's ``secondary`` function can tell it was hidden
    to protect another cell). Rows where the results registry
    (:data:`evaluation.contract.results.RESULTS_FILES`) declares that the column
    counts something else (municipalities, for the ``caseload`` rows of
    ``estimates.csv``) are not checked.
``statistics``
    Columns of statistics (means, shares, estimates) with the count columns of the
    persons they rest on: where one of those counts is empty or between 1 and
    ``min_cell - 1``, the statistic must be empty (rule ``few_persons``); rows
    whose counts are not counts of persons are not checked.
``flagged``
    Value columns of a table with a boolean ``suppressed`` column: where it is
    true, the values must be empty (rule ``few_persons``).
``no_person_cells``
    A one-line reason why the table holds no cell resting on a small number of
    persons (model summaries over municipalities, power grids, balance
    statistics, row accounting of records). Its cells are not counted.

The files are read as text, so an empty cell is exactly an empty field of the CSV file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract.results import ResultsFile, find_results_file
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
#: Folders of this name are not audited, as the output guard skips them (none are written by default).
INTERNAL_FOLDER = "internal"

#: ``(table, column, empty cells of the column) -> mask of the empty cells hidden as complements``.
SecondaryRule = Callable[[pd.DataFrame, str, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Statistics:
    """Statistic columns and the count columns of the persons they rest on.

    Attributes
    ----------
    columns
        Columns holding the statistics.
    n
        Count columns: a statistic must be empty where any of them is empty or below ``min_cell``.
    """

    columns: tuple[str, ...]
    n: tuple[str, ...]


@dataclass(frozen=True)
class TableRule:
    """How the cells of one published table are checked (see the module docstring).

    Attributes
    ----------
    counts
        Columns of counts of persons.
    statistics
        Statistic columns with the counts they rest on.
    flagged
        Value columns emptied where the boolean column ``flag`` is true.
    flag
        Name of the flag column.
    secondary
        Optional function telling which empty counts were hidden as complements.
    no_person_cells
        Reason why the table holds no person-level cells; excludes every other rule.
    """

    counts: tuple[str, ...] = ()
    statistics: tuple[Statistics, ...] = ()
    flagged: tuple[str, ...] = ()
    flag: str = "suppressed"
    secondary: SecondaryRule | None = None
    no_person_cells: str = ""

    def __post_init__(self) -> None:
        checked = [*self.counts, *(c for s in self.statistics for c in s.columns), *self.flagged]
        if self.no_person_cells and (checked or self.secondary is not None):
            raise DisclosureError("a table without person-level cells declares no columns to check")
        if not self.no_person_cells and not checked:
            raise DisclosureError("a table rule declares columns to check, or why it has no person-level cells")
        if len(set(checked)) != len(checked):
            raise DisclosureError(f"a column is declared under two rules: {checked}")
        unknown = [n for s in self.statistics for n in s.n if n not in self.counts]
        if unknown:
            raise DisclosureError(f"statistics rest on {unknown}, which are not declared as counts")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads."""
        flag = (self.flag,) if self.flagged else ()
        return (*self.counts, *(c for s in self.statistics for c in s.columns), *self.flagged, *flag)


def no_person_cells(reason: str) -> TableRule:
    """Declare a table without person-level cells, with the reason."""
    return TableRule(no_person_cells=reason)


def matched_step_complements(table: pd.DataFrame, column: str, empty: np.ndarray) -> np.ndarray:
    """Empty ``matched`` counts of the sample flow hidden because a ``dropped_*`` count of the column is hidden.

    :func:`evaluation.compare.publishable_flow` hides the matched count when a count of
    children dropped by matching is hidden, since the difference would give it away.
    """
    step = table["step"].astype(str)
    dropped_hidden = bool((empty & step.str.startswith("dropped_").to_numpy()).any())
    return empty & step.eq("matched").to_numpy() & dropped_hidden


_MUNICIPALITY_MODEL = "estimates on municipality-year means; counts are municipalities (public: study.json)"
#: Relative path inside a release folder -> the rule of the table. Every CSV file a step writes
#: into ``results/<release>/`` must be here (the audit refuses an undeclared file).
PUBLISHED_TABLES: dict[str, TableRule] = {
    "cohort/sample_flow.csv": TableRule(counts=("n_treated", "n_control"), secondary=matched_step_complements),
    "compare/balance.csv": no_person_cells("balance statistics of covariates over the whole matched sample"),
    "compare/municipalities.csv": no_person_cells("distances between municipalities on municipality-level features"),
    "compare/municipality_balance.csv": no_person_cells("means of municipality-level features over municipalities"),
    "economics.csv": no_person_cells("model-based costs and effects per child-year over the whole sample; prices"),
    "economics/budget.csv": no_person_cells("projection for a hypothetical municipality from whole-sample estimates"),
    "economics/ceac.csv": no_person_cells("shares of bootstrap draws (n_draws counts draws)"),
    "economics/costs_by_year.csv": TableRule(
        counts=("n_treated_child_years",),
        statistics=(Statistics(("estimate", "ci_low", "ci_high"), n=("n_treated_child_years",)),),
    ),
    "economics/reconciliation.csv": TableRule(  # accounts_dkk: the municipalities' published accounts
        counts=("n_children",), statistics=(Statistics(("micro_dkk", "share_explained"), n=("n_children",)),)
    ),
    "estimate/att_gt.csv": no_person_cells(f"ATT(g,t) {_MUNICIPALITY_MODEL}"),
    "estimate/bacon.csv": no_person_cells(
        "Goodman-Bacon 2x2 DiDs and weights of municipality-year means; counts are municipalities and years"
    ),
    "estimate/dose_response.csv": no_person_cells(f"dose-response {_MUNICIPALITY_MODEL}"),
    "estimate/event_study.csv": no_person_cells(f"event study {_MUNICIPALITY_MODEL}"),
    "estimate/heterogeneity.csv": TableRule(
        counts=("n",), statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n",)),)
    ),
    "estimate/inference.csv": no_person_cells("inference of the whole-sample main analysis; clusters: municipalities"),
    "estimate/multiplicity.csv": no_person_cells("adjusted p-values of whole-sample estimates"),
    "estimate/naive_vs_robust.csv": no_person_cells(f"estimators compared {_MUNICIPALITY_MODEL}"),
    "estimate/pretrend.csv": no_person_cells("joint Wald tests of the event study"),
    "estimate/event_study_main.csv": TableRule(
        counts=("n_child_years",),
        statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n_child_years",)),),
    ),
    "estimate/pretrend_main.csv": no_person_cells("F tests of the headline's placebo years"),
    "estimate/honest_did.csv": no_person_cells("HonestDiD bounds of the headline's adoption-year effect"),
    "estimate/trends.csv": TableRule(counts=("n",), statistics=(Statistics(("mean",), n=("n",)),)),
    "estimates.csv": TableRule(
        counts=("n_treated", "n_control"),
        statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n_treated", "n_control")),),
    ),
    "factsheets/municipality_figures.csv": TableRule(flagged=("value",)),
    "implementation/group_year.csv": TableRule(counts=("n_persons",), flagged=("value",)),
    "implementation/municipality_year.csv": TableRule(flagged=("value",)),
    "ingest/cutoff_accounting.csv": no_person_cells("row accounting of the extract files: records, not persons"),
    "ingest/row_accounting.csv": no_person_cells("row accounting of the extract files: records, not persons"),
    "power/mde.csv": no_person_cells("power grid: design parameters and minimum detectable effects"),
    "synth/average.csv": no_person_cells("mean synthetic-control effect over municipalities (n_adopters)"),
    "synth/gaps.csv": no_person_cells("gaps between municipality-level rates and their synthetic controls"),
    "synth/sdid.csv": no_person_cells(
        "synthetic DiD effects on municipality-year rates by municipality and their mean; n_* count years and "
        "municipalities"
    ),
    "synth/table.csv": no_person_cells("synthetic-control effects and fit statistics by municipality"),
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
            "evaluation.disclosure.audit.PUBLISHED_TABLES: update the declaration with the step that writes it"
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
                f"no disclosure rule is declared for {path}: add it to evaluation.disclosure.audit.PUBLISHED_TABLES"
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
