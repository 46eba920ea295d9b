"""How the disclosure audit checks the cells of one published table: its :class:`TableRule`.

Every CSV file a release publishes declares its rule in the results registry
(:data:`evaluation.contract.results.RESULTS_FILES`): its counts of persons are the count columns the
registry gives a person unit (persons, child-years), and a file adds the statistics resting on them, the
columns emptied by a ``suppressed`` flag, or the reason it holds no cell resting on few persons
(:meth:`evaluation.contract.results.ResultsFile.table_rule`). :mod:`evaluation.disclosure.audit` applies
the rules. They live here, beside the registry, so that the registry can hold them without importing the
audit.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import DisclosureError

__all__ = ["SecondaryRule", "Statistics", "TableRule", "matched_step_complements", "no_person_cells"]

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

    :func:`evaluation.steps.compare.publishable_flow` hides the matched count when a count of
    children dropped by matching is hidden, since the difference would give it away.
    """
    step = table["step"].astype(str)
    dropped_hidden = bool((empty & step.str.startswith("dropped_").to_numpy()).any())
    return empty & step.eq("matched").to_numpy() & dropped_hidden
