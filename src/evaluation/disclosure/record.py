"""What disclosure control suppressed, for the report's appendix, and the checks shared by its rules.

Every function of :mod:`evaluation.disclosure` returns a :class:`SuppressionRecord`
next to the protected output: the number of cells it considered and how many
it suppressed under each rule. :func:`write_summary` writes the records of a
run as ``results/<release>/disclosure/summary.csv``, which the report's appendix reads.

Rule names (the ``rule`` column of the summary)
-----------------------------------------------
``primary``
    A count of persons between 1 and ``min_cell - 1`` (threshold rule).
``secondary``
    A complementary cell suppressed so that no primary cell can be recovered
    from the published totals.
``few_persons``
    A mean, median, share or other statistic computed from fewer than
    ``min_cell`` persons.
``extreme_value``
    A maximum or minimum of individual values: never published.
``dominance``
    A cost aggregate dominated by one or two contributors ((n, k) rule).
``figure``
    A point of a figure resting on fewer than ``min_cell`` persons, left out of the figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError, DisclosureError, EvaluationError
from evaluation.io import write_csv

#: The rules, in the order of the summary.
RULES: tuple[str, ...] = ("primary", "secondary", "few_persons", "extreme_value", "dominance", "figure")
#: The smallest threshold Statistics Denmark allows.
MIN_CELL_FLOOR = 3
#: Columns of ``results/<release>/disclosure/summary.csv``.
SUMMARY_COLUMNS = columns_of("results/{release}/disclosure/summary.csv")


def check_min_cell(min_cell: int) -> int:
    """Return ``min_cell`` after checking that it is a whole number of at least :data:`MIN_CELL_FLOOR`.

    Parameters
    ----------
    min_cell
        Smallest number of persons a published cell may rest on.

    Returns
    -------
    int
        The threshold.

    Raises
    ------
    ConfigError
        If ``min_cell`` is not a whole number or is below 3 (Statistics Denmark's floor).
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int):
        raise ConfigError(f"disclosure.min_cell = {min_cell!r} must be a whole number (default 5).")
    if min_cell < MIN_CELL_FLOOR:
        raise ConfigError(
            f"disclosure.min_cell = {min_cell} is below {MIN_CELL_FLOOR}: Statistics Denmark allows no published "
            f"cell with fewer than {MIN_CELL_FLOOR} persons. Use {MIN_CELL_FLOOR} or more (default 5)."
        )
    return min_cell


@dataclass
class SuppressionRecord:
    """How many cells of one output were suppressed, by rule.

    Attributes
    ----------
    table
        Name of the table or figure (as it appears in the report, e.g. ``tbl-sample-flow``).
    min_cell
        The threshold applied.
    cells_total
        Cells considered (published or suppressed).
    suppressed
        Rule -> number of cells suppressed under it (rules of :data:`RULES`).
    """

    table: str
    min_cell: int
    cells_total: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    def add(self, rule: str, n: int) -> None:
        """Count ``n`` more cells suppressed under ``rule``."""
        if rule not in RULES:
            raise EvaluationError(f"unknown suppression rule {rule!r}; known: {', '.join(RULES)}")
        if n:
            self.suppressed[rule] = self.suppressed.get(rule, 0) + int(n)

    @property
    def total(self) -> int:
        """Cells suppressed under any rule."""
        return sum(self.suppressed.values())

    def to_frame(self) -> pd.DataFrame:
        """Return one row per rule (all rules, zeros included), columns :data:`SUMMARY_COLUMNS`."""
        return pd.DataFrame(
            {
                "table": [self.table] * len(RULES),
                "rule": list(RULES),
                "cells_suppressed": [self.suppressed.get(r, 0) for r in RULES],
                "cells_total": [self.cells_total] * len(RULES),
                "min_cell": [self.min_cell] * len(RULES),
            }
        ).astype({"table": "str", "rule": "str", "cells_suppressed": "int64", "cells_total": "int64"})


def merge_records(records: Iterable[SuppressionRecord]) -> dict[str, SuppressionRecord]:
    """Merge records of the same table (several statistics of one table), by table name."""
    merged: dict[str, SuppressionRecord] = {}
    for rec in records:
        into = merged.setdefault(rec.table, SuppressionRecord(rec.table, rec.min_cell))
        if into.min_cell != rec.min_cell:
            raise DisclosureError(
                f"table {rec.table}: records with different thresholds ({into.min_cell}, {rec.min_cell})"
            )
        into.cells_total += rec.cells_total
        for rule, n in rec.suppressed.items():
            into.add(rule, n)
    return merged


def summary_table(records: Iterable[SuppressionRecord]) -> pd.DataFrame:
    """Return the suppression summary: one row per table and rule, sorted by table then rule order.

    Parameters
    ----------
    records
        Records of every protected output; records of the same table are merged.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`.
    """
    merged = merge_records(records)
    frames = [merged[name].to_frame() for name in sorted(merged)]
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c != "table" and c != "rule" else "str") for c in SUMMARY_COLUMNS}
        )
    return pd.concat(frames, ignore_index=True)


def write_summary(records: Iterable[SuppressionRecord] | Mapping[str, SuppressionRecord], path: Path) -> pd.DataFrame:
    """Write ``results/<release>/disclosure/summary.csv``: cells suppressed by table and rule.

    Parameters
    ----------
    records
        The records of a run.
    path
        Output CSV file (UTF-8, ``,``, no index); parent folders are created.

    Returns
    -------
    pandas.DataFrame
        The table written (see :func:`summary_table`).
    """
    if isinstance(records, Mapping):
        records = records.values()
    table = summary_table(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, path)
    return table
