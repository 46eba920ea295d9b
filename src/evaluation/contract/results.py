"""The results files: where each lies, which rule writes it, and what every count in it counts.

The outputs' twin of :mod:`evaluation.contract.extracts` (issue 15). It begins with what disclosure
control needs to know: the *unit* of every count column. Statistics Denmark's threshold rule
(``disclosure.min_cell``) protects persons, so it applies to counts of persons and of person-years
(child-years) only; a count of municipalities, years, bootstrap draws or extract records identifies no
one, and a study of one to four adopting municipalities publishes such counts below the threshold. The
output guard (:mod:`evaluation.guard`) and the disclosure audit (:mod:`evaluation.disclosure.audit`) read
the units from here; a count column of a file not declared here is treated as a count of persons.

Paths are relative to the project root, with ``{release}`` (``interim``, ``final``) and other
wildcards as in the rules' outputs. A count column whose unit depends on the row (``estimates.csv``
counts children for child-level outcomes and municipalities for ``caseload``) names the column and
values that switch its unit (:attr:`Count.by_row`).

Units
-----
``persons``
    Children (or other persons): the threshold rule applies.
``child_years``
    Person-years of children (one row per child and year): the threshold rule applies.
``municipalities``, ``municipality_years``, ``years``, ``draws``, ``replications``, ``records``, ``cells``,
``degrees_of_freedom``
    Counts that identify no person: published as they are.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

__all__ = [
    "PERSON_UNITS",
    "RESULTS_FILES",
    "UNITS",
    "Count",
    "ResultsFile",
    "find_results_file",
    "undeclared_counts",
]

Unit = Literal[
    "persons",
    "child_years",
    "municipalities",
    "municipality_years",
    "years",
    "draws",
    "replications",
    "records",
    "cells",
    "degrees_of_freedom",
]

#: Every unit, with what it counts.
UNITS: dict[str, str] = {
    "persons": "children or other persons",
    "child_years": "person-years of children (a child counted once per year)",
    "municipalities": "municipalities (adopting, comparison or donor municipalities, clusters)",
    "municipality_years": "municipality-years",
    "years": "calendar years or event times",
    "draws": "bootstrap or permutation draws",
    "replications": "Monte Carlo replications",
    "records": "rows of the extract files",
    "cells": "cells of a results table",
    "degrees_of_freedom": "degrees of freedom of a test",
}
#: Units the threshold rule (``disclosure.min_cell``) applies to.
PERSON_UNITS: frozenset[str] = frozenset({"persons", "child_years"})
#: Names of columns (and JSON keys) that count something and must be declared (:func:`undeclared_counts`):
#: the output guard's count names, and counts of rows, cells, draws, adopters, municipalities, years and clusters.
COUNT_NAME = re.compile(
    r"^(n|n_\w+|\w+_n|counts?|antal\w*|rows_\w+|cells_\w+|draws|adopters|municipalities\w*|years|\w+_years"
    r"|\w+_periods|\w+_clusters|df|df_\w+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Count:
    """One count column (or JSON key) of a results file.

    Attributes
    ----------
    column
        The column name (or the key, at any depth of a JSON file).
    unit
        What it counts (:data:`UNITS`).
    by_row
        ``(column, {value: unit})`` when the unit depends on the row: rows whose ``column`` holds one of the
        values count in that value's unit, the others in :attr:`unit`.
    """

    column: str
    unit: Unit
    by_row: tuple[str, Mapping[str, Unit]] | None = None

    def unit_of(self, row: Mapping[str, object]) -> str:
        """Return the unit of this count in ``row`` (a mapping of column -> value)."""
        if self.by_row is None:
            return self.unit
        column, units = self.by_row
        return units.get(str(row.get(column)), self.unit)

    @property
    def units(self) -> frozenset[str]:
        """Every unit this count can have."""
        return frozenset({self.unit, *(self.by_row[1].values() if self.by_row else ())})


@dataclass(frozen=True)
class ResultsFile:
    """One results file.

    Attributes
    ----------
    path
        Path pattern from the project root, as in the rule's output (``results/{release}/estimates.csv``).
    producer
        The rule that writes it.
    counts
        Its count columns (every ``n``, ``n_*`` and other column that counts something).
    """

    path: str
    producer: str
    counts: tuple[Count, ...] = field(default=())

    def count(self, column: str) -> Count | None:
        """Return the declaration of count column ``column``, or None."""
        for c in self.counts:
            if c.column == column:
                return c
        return None

    def person_rows(self, column: str, table: Any) -> list[bool] | None:
        """Rows of ``table`` in which count column ``column`` counts persons or person-years.

        Parameters
        ----------
        column
            A column of the file.
        table
            The file's rows (a pandas DataFrame).

        Returns
        -------
        list of bool or None
            One flag per row; None when ``column`` is not declared as a count of this file. When the
            unit depends on a column the table lacks, every row is taken to count persons.
        """
        count = self.count(column)
        if count is None:
            return None
        if count.by_row is None:
            return [count.unit in PERSON_UNITS] * len(table)
        key = count.by_row[0]
        if key not in table.columns:
            return [True] * len(table)
        return [count.unit_of({key: value}) in PERSON_UNITS for value in table[key].astype("str")]

    @property
    def pattern(self) -> re.Pattern[str]:
        """Regular expression matching the file's path (POSIX), anywhere below a folder."""
        parts = re.split(r"(\{\w+\})", self.path)
        body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(rf"(?:^|/){body}$")


def _persons(*columns: str) -> tuple[Count, ...]:
    return tuple(Count(c, "persons") for c in columns)


def _municipalities(*columns: str) -> tuple[Count, ...]:
    return tuple(Count(c, "municipalities") for c in columns)


_RECORDS = tuple(
    Count(c, "records") for c in ("rows_read", "rows_accepted", "rows_quarantined", "rows_duplicate_dropped")
)

#: Every results file the pipeline writes (``make montecarlo`` included), by producing rule.
RESULTS_FILES: tuple[ResultsFile, ...] = (
    # ingest, cut-off and study
    ResultsFile("results/ingest/row_accounting.csv", "ingest", _RECORDS),
    ResultsFile("results/{release}/ingest/row_accounting.csv", "cut_extracts", _RECORDS),
    ResultsFile(
        "results/{release}/ingest/cutoff_accounting.csv",
        "cut_extracts",
        tuple(Count(c, "records") for c in ("rows_in", "rows_removed", "rows_truncated", "rows_out")),
    ),
    ResultsFile("results/{release}/study.json", "write_study", _municipalities("n_municipalities")),
    ResultsFile("results/{release}/provenance.json", "write_provenance"),
    ResultsFile("results/{release}/run_info.json", "write_provenance"),
    ResultsFile("results/{release}/config.yaml", "write_provenance"),
    # cohort and comparison
    ResultsFile("results/{release}/cohort/sample_flow.csv", "match_children", _persons("n_treated", "n_control")),
    ResultsFile("results/{release}/compare/balance.csv", "match_children"),
    ResultsFile("results/{release}/compare/love_plot.png", "match_children"),
    ResultsFile("results/{release}/compare/love_plot.txt", "match_children"),
    ResultsFile("results/{release}/compare/overlap_plot_{language}.png", "match_children"),
    ResultsFile("results/{release}/compare/overlap_plot_{language}.txt", "match_children"),
    ResultsFile("results/{release}/compare/municipalities.csv", "compare_municipalities"),
    ResultsFile("results/{release}/compare/municipality_balance.csv", "compare_municipalities"),
    # the headline
    ResultsFile(
        "results/{release}/estimates.csv",
        "estimate_effects",
        tuple(
            Count(c, "persons", by_row=("outcome", {"caseload": "municipalities"})) for c in ("n_treated", "n_control")
        ),
    ),
    ResultsFile("results/{release}/estimate/trends.csv", "estimate_effects", _persons("n")),
    ResultsFile(
        "results/{release}/estimate/event_study_main.csv",
        "estimate_effects",
        (Count("n_treated_municipalities", "municipalities"), Count("n_child_years", "child_years")),
    ),
    ResultsFile(
        "results/{release}/estimate/pretrend_main.csv",
        "estimate_effects",
        (Count("df_num", "degrees_of_freedom"), Count("df_den", "degrees_of_freedom")),
    ),
    ResultsFile("results/{release}/estimate/honest_did.csv", "estimate_effects"),
    ResultsFile(
        "results/{release}/estimate/inference.csv",
        "choose_inference",
        (*_municipalities("n_clusters", "n_treated_clusters", "effective_clusters"), Count("draws", "draws")),
    ),
    ResultsFile(
        "results/{release}/power/mde.csv",
        "power_table",
        (
            *_municipalities("treated_clusters", "n_clusters"),
            Count("pre_periods", "years"),
            Count("post_periods", "years"),
        ),
    ),
    ResultsFile("results/{release}/power/mde.png", "power_table"),
    # staggered adoption on municipality-year means
    ResultsFile(
        "results/{release}/estimate/att_gt.csv", "estimate_staggered", _municipalities("n_treated", "n_control")
    ),
    ResultsFile("results/{release}/estimate/event_study.csv", "estimate_staggered", _municipalities("n_treated")),
    ResultsFile("results/{release}/estimate/pretrend.csv", "estimate_staggered", (Count("df", "degrees_of_freedom"),)),
    ResultsFile(
        "results/{release}/estimate/naive_vs_robust.csv",
        "estimate_staggered",
        _municipalities("n_treated", "n_control"),
    ),
    ResultsFile("results/{release}/estimate/heterogeneity.csv", "estimate_staggered", _persons("n")),
    ResultsFile(
        "results/{release}/estimate/dose_response.csv",
        "estimate_staggered",
        (Count("n_municipalities", "municipalities"), Count("n_municipality_years", "municipality_years")),
    ),
    ResultsFile("results/{release}/estimate/multiplicity.csv", "estimate_staggered"),
    ResultsFile(
        "results/{release}/estimate/bacon.csv",
        "estimate_staggered",
        (*_municipalities("municipalities", "municipalities_dropped"), Count("years", "years")),
    ),
    # synthetic control and synthetic DiD
    ResultsFile("results/{release}/synth/table.csv", "synthetic_control"),
    ResultsFile("results/{release}/synth/average.csv", "synthetic_control", _municipalities("n_adopters")),
    ResultsFile("results/{release}/synth/gaps.csv", "synthetic_control"),
    ResultsFile(
        "results/{release}/synth/sdid.csv",
        "synthetic_control",
        (Count("pre_years", "years"), Count("post_years", "years"), *_municipalities("n_controls", "adopters")),
    ),
    # economics
    ResultsFile("results/{release}/economics.csv", "estimate_economics"),
    ResultsFile("results/{release}/economics/ceac.csv", "estimate_economics", (Count("n_draws", "draws"),)),
    ResultsFile(
        "results/{release}/economics/costs_by_year.csv",
        "estimate_economics",
        (Count("n_treated_child_years", "child_years"),),
    ),
    ResultsFile("results/{release}/economics/reconciliation.csv", "estimate_economics", _persons("n_children")),
    ResultsFile("results/{release}/economics/budget.csv", "estimate_economics"),
    # monitoring and factsheets
    ResultsFile("results/{release}/implementation/group_year.csv", "monitor_implementation", _persons("n_persons")),
    ResultsFile("results/{release}/implementation/municipality_year.csv", "monitor_implementation"),
    ResultsFile("results/{release}/factsheets/municipality_figures.csv", "factsheet_figures"),
    # disclosure
    ResultsFile(
        "results/{release}/disclosure/summary.csv",
        "audit_disclosure",
        (Count("cells_suppressed", "cells"), Count("cells_total", "cells")),
    ),
    # design validation (make montecarlo)
    ResultsFile("results/montecarlo/{scenario}/replications/{seed}.json", "montecarlo_replication"),
    ResultsFile("results/montecarlo/summary.csv", "montecarlo_summary", (Count("n", "replications"),)),
    ResultsFile("results/montecarlo/summary.md", "montecarlo_summary"),
)


def find_results_file(path: str | PurePath) -> ResultsFile | None:
    """Return the declaration of the results file at ``path`` (any path ending in its pattern), or None.

    Parameters
    ----------
    path
        A file path, relative or absolute (``results/final/estimates.csv``, ``/tmp/x/results/final/...``).

    Returns
    -------
    ResultsFile or None
        The declaration whose :attr:`~ResultsFile.pattern` matches; None for a file not declared here.
    """
    text = PurePath(path).as_posix()
    for entry in RESULTS_FILES:
        if entry.pattern.search(text):
            return entry
    return None


def _names(path: Path) -> set[str]:
    """Column names of a CSV or Parquet file, or every key (at any depth) of a JSON file that holds a number."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8") as handle:
            return set(next(csv.reader(handle), []))
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    if suffix == ".json":
        keys: set[str] = set()

        def walk(value: object) -> None:
            if isinstance(value, dict):
                keys.update(str(k) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool))
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(json.loads(path.read_text(encoding="utf-8")))
        return keys
    return set()


def undeclared_counts(results_dir: str | Path) -> list[str]:
    """Check a results folder against the registry: every file declared, every count column declared.

    Parameters
    ----------
    results_dir
        A ``results/`` folder after a run.

    Returns
    -------
    list of str
        One line per problem: a file not in :data:`RESULTS_FILES`, a column named like a count
        (:data:`COUNT_NAME`) that its file does not declare, or a declared count column the file lacks.
        Empty when the folder agrees with the registry.
    """
    root = Path(results_dir)
    problems = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = f"results/{path.relative_to(root).as_posix()}"
        declared = find_results_file(where)
        if declared is None:
            problems.append(f"{where}: not declared in evaluation.contract.results.RESULTS_FILES")
            continue
        names = _names(path)
        counts = {c.column for c in declared.counts}
        problems += [
            f"{where}: count column {n} has no declared unit" for n in sorted(names - counts) if COUNT_NAME.match(n)
        ]
        if path.suffix.lower() in (".csv", ".parquet"):
            problems += [f"{where}: declared count column {n} is not in the file" for n in sorted(counts - names)]
    return problems
