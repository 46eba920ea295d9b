"""The results files: where each lies, which rule writes it, and what every count in it counts.

The outputs' twin of :mod:`evaluation.contract.extracts` (issue 15). It begins with what disclosure
control needs to know: the *unit* of every count column. Statistics Denmark's threshold rule
(``disclosure.min_cell``) protects persons, so it applies to counts of persons and of person-years
(child-years) only; a count of municipalities, years, bootstrap draws or extract records identifies no
one, and a study of one to four adopting municipalities publishes such counts below the threshold. The
output guard (:mod:`evaluation.steps.guard`) and the disclosure audit (:mod:`evaluation.disclosure.audit`) read
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

Columns
-------
Each CSV file declares every column, in the order its producer writes them, with its kind: ``number``
(read as a float; counts included), ``text`` or ``flag`` (true or false). This is the one place a
results file's columns are written down: the producers take their column lists from here
(:func:`columns_of`), :func:`evaluation.io.write_csv` refuses a declared file whose header differs, and
the report's loader (:mod:`evaluation.report.inputs`) and the report tests' fixtures check and build
tables from the same declaration.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

from evaluation.contract.table_rules import SecondaryRule, Statistics, TableRule, matched_step_complements
from evaluation.errors import DisclosureError

__all__ = [
    "PERSON_UNITS",
    "RESULTS_FILES",
    "UNITS",
    "Count",
    "ResultsFile",
    "columns_of",
    "find_results_file",
    "header_problem",
    "results_table",
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

#: The kinds of column: ``number`` (floats and counts; empty = missing), ``amount`` (a sum of money in kroner,
#: read as a number; whole kroner from one to ten billion have ten digits and often begin like a date, so the
#: output guard does not take a number in such a column for a CPR number), ``text``, ``flag`` (true or false,
#: written ``True``/``False`` or ``1``/``0``).
KINDS: tuple[str, ...] = ("number", "amount", "text", "flag")

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
    columns
        Every column of a CSV file, in the order written, with its kind (:data:`KINDS`); empty for other files.
        Written as one string of names, each followed by ``:amount``, ``:text`` or ``:flag`` unless it holds
        numbers (``"outcome:text year mean n"``).
    statistics, flagged, secondary, no_person_cells
        The disclosure rule of a CSV file in a release folder, with its counts of persons (:meth:`table_rule`):
        statistics resting on those counts, values emptied where ``suppressed`` is true, a function telling
        which empty counts were hidden as complements, or the reason the file holds no cell resting on few
        persons (:class:`evaluation.contract.table_rules.TableRule`).
    """

    path: str
    producer: str
    counts: tuple[Count, ...] = field(default=())
    columns: str = ""
    statistics: tuple[Statistics, ...] = ()
    flagged: tuple[str, ...] = ()
    secondary: SecondaryRule | None = None
    no_person_cells: str = ""

    def __post_init__(self) -> None:
        for name, kind in self.kinds.items():
            if kind not in KINDS:
                raise ValueError(f"{self.path}: column {name} has kind {kind!r}, not one of {', '.join(KINDS)}")

    @property
    def kinds(self) -> dict[str, str]:
        """Column -> kind (:data:`KINDS`), in the order written."""
        kinds = {}
        for spec in self.columns.split():
            name, _, kind = spec.partition(":")
            kinds[name] = kind or "number"
        return kinds

    @property
    def names(self) -> list[str]:
        """The columns, in the order written."""
        return list(self.kinds)

    def of_kind(self, kind: str) -> list[str]:
        """Return the columns of one kind (:data:`KINDS`), in the order written."""
        return [name for name, k in self.kinds.items() if k == kind]

    @property
    def numeric(self) -> list[str]:
        """The columns read as numbers (kinds ``number`` and ``amount``), in the order written."""
        return [name for name, k in self.kinds.items() if k in ("number", "amount")]

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

    def table_rule(self) -> TableRule:
        """Return the rule the disclosure audit checks the file's cells by.

        Its counts are the file's count columns of persons or child-years (in some rows, at least); the
        rest is declared with the file.

        Raises
        ------
        evaluation.errors.DisclosureError
            The file declares neither columns to check nor why it holds no cell resting on few persons.
        """
        counts = tuple(c.column for c in self.counts if c.units & PERSON_UNITS)
        try:
            return TableRule(
                counts,
                self.statistics,
                self.flagged,
                secondary=self.secondary,
                no_person_cells=self.no_person_cells,
            )
        except DisclosureError as error:
            raise DisclosureError(f"{self.path}: {error}") from None

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

_MUNICIPALITY_MODEL = "estimates on municipality-year means; counts are municipalities (public: study.json)"

#: Every results file the pipeline writes (``make montecarlo`` included), by producing rule.
RESULTS_FILES: tuple[ResultsFile, ...] = (
    # ingest, cut-off and study
    ResultsFile(
        "results/ingest/row_accounting.csv",
        "ingest",
        _RECORDS,
        columns="extract:text file:text rows_read rows_accepted rows_quarantined rows_duplicate_dropped",
    ),
    ResultsFile(
        "results/{release}/ingest/row_accounting.csv",
        "cut_extracts",
        _RECORDS,
        columns="extract:text file:text rows_read rows_accepted rows_quarantined rows_duplicate_dropped",
        no_person_cells="row accounting of the extract files: records, not persons",
    ),
    ResultsFile(
        "results/{release}/ingest/cutoff_accounting.csv",
        "cut_extracts",
        tuple(Count(c, "records") for c in ("rows_in", "rows_removed", "rows_truncated", "rows_out")),
        columns="extract:text rows_in rows_removed rows_truncated rows_out",
        no_person_cells="row accounting of the extract files: records, not persons",
    ),
    ResultsFile("results/{release}/study.json", "write_study", _municipalities("n_municipalities")),
    ResultsFile("results/{release}/provenance.json", "write_provenance"),
    ResultsFile("results/{release}/run_info.json", "write_provenance"),
    ResultsFile("results/{release}/config.yaml", "write_provenance"),
    # cohort and comparison
    ResultsFile(
        "results/{release}/cohort/sample_flow.csv",
        "match_children",
        _persons("n_treated", "n_control"),
        columns="step:text n_treated n_control",
        secondary=matched_step_complements,
    ),
    ResultsFile(
        "results/{release}/compare/balance.csv",
        "match_children",
        columns=(
            "covariate:text type:text smd_before smd_after var_ratio_before var_ratio_after ecdf_mean_before "
            "ecdf_mean_after ecdf_max_before ecdf_max_after smd_flag:flag var_ratio_flag:flag"
        ),
        no_person_cells="balance statistics of covariates over the whole matched sample",
    ),
    ResultsFile("results/{release}/compare/love_plot.png", "match_children"),
    ResultsFile("results/{release}/compare/love_plot.txt", "match_children"),
    ResultsFile("results/{release}/compare/overlap_plot_{language}.png", "match_children"),
    ResultsFile("results/{release}/compare/overlap_plot_{language}.txt", "match_children"),
    ResultsFile(
        "results/{release}/compare/municipalities.csv",
        "compare_municipalities",
        columns="treated treated_name:text comparison comparison_name:text distance rank selected:flag",
        no_person_cells="distances between municipalities on municipality-level features",
    ),
    ResultsFile(
        "results/{release}/compare/municipality_balance.csv",
        "compare_municipalities",
        columns="feature:text treated selected candidates smd_selected smd_candidates",
        no_person_cells="means of municipality-level features over municipalities",
    ),
    # the headline
    ResultsFile(
        "results/{release}/estimates.csv",
        "estimate_effects",
        tuple(
            Count(c, "persons", by_row=("outcome", {"caseload": "municipalities"})) for c in ("n_treated", "n_control")
        ),
        columns=(
            "analysis:text outcome:text estimator:text subgroup:text estimate se ci_low ci_high p_value n_treated "
            "n_control"
        ),
        statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n_treated", "n_control")),),
    ),
    ResultsFile(
        "results/{release}/estimate/trends.csv",
        "estimate_effects",
        _persons("n"),
        columns="outcome:text year group:text mean n",
        statistics=(Statistics(("mean",), n=("n",)),),
    ),
    ResultsFile(
        "results/{release}/estimate/event_study_main.csv",
        "estimate_effects",
        (Count("n_treated_municipalities", "municipalities"), Count("n_child_years", "child_years")),
        columns=(
            "outcome:text event_time estimate se ci_low ci_high p_value pre:flag n_treated_municipalities "
            "few_municipalities:flag n_child_years inference:text"
        ),
        statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n_child_years",)),),
    ),
    ResultsFile(
        "results/{release}/estimate/pretrend_main.csv",
        "estimate_effects",
        (Count("df_num", "degrees_of_freedom"), Count("df_den", "degrees_of_freedom")),
        columns="outcome:text statistic df_num df_den p_value",
        no_person_cells="F tests of the headline's placebo years",
    ),
    ResultsFile(
        "results/{release}/estimate/honest_did.csv",
        "estimate_effects",
        columns="outcome:text method:text m ci_low ci_high breakdown_m original_low original_high",
        no_person_cells="HonestDiD bounds of the headline's adoption-year effect",
    ),
    ResultsFile(
        "results/{release}/estimate/inference.csv",
        "estimate_effects",
        (*_municipalities("n_clusters", "n_treated_clusters", "effective_clusters"), Count("draws", "draws")),
        columns=(
            "outcome:text inference:text chosen:flag method:text weight_type:text reason:text effective_clusters "
            "n_clusters n_treated_clusters estimate se p_value ci_low ci_high draws"
        ),
        no_person_cells="inference of the whole-sample main analysis; clusters: municipalities",
    ),
    ResultsFile(
        "results/{release}/power/mde.csv",
        "power_table",
        (
            *_municipalities("treated_clusters", "n_clusters"),
            Count("pre_periods", "years"),
            Count("post_periods", "years"),
        ),
        columns=(
            "outcome:text row:text treated_clusters n_clusters cluster_size icc sd pre_periods post_periods alpha "
            "power mde mde_sd"
        ),
        no_person_cells="power grid: design parameters and minimum detectable effects",
    ),
    ResultsFile("results/{release}/power/mde.png", "power_table"),
    # staggered adoption on municipality-year means
    ResultsFile(
        "results/{release}/estimate/att_gt.csv",
        "estimate_staggered",
        _municipalities("n_treated", "n_control"),
        columns=(
            "outcome:text group time att se ci_low ci_high band_low band_high n_treated n_control base_period post:flag"
        ),
        no_person_cells=f"ATT(g,t) {_MUNICIPALITY_MODEL}",
    ),
    ResultsFile(
        "results/{release}/estimate/event_study.csv",
        "estimate_staggered",
        _municipalities("n_treated"),
        columns="outcome:text event_time att se ci_low ci_high band_low band_high pre:flag n_treated",
        no_person_cells=f"event study {_MUNICIPALITY_MODEL}",
    ),
    ResultsFile(
        "results/{release}/estimate/pretrend.csv",
        "estimate_staggered",
        (Count("df", "degrees_of_freedom"),),
        columns="outcome:text statistic df p_value",
        no_person_cells="joint Wald tests of the event study",
    ),
    ResultsFile(
        "results/{release}/estimate/naive_vs_robust.csv",
        "estimate_staggered",
        _municipalities("n_treated", "n_control"),
        columns="outcome:text estimator:text estimate se ci_low ci_high p_value n_treated n_control label:text",
        no_person_cells=f"estimators compared {_MUNICIPALITY_MODEL}",
    ),
    ResultsFile(
        "results/{release}/estimate/heterogeneity.csv",
        "estimate_staggered",
        _persons("n"),
        columns="outcome:text subgroup_variable:text subgroup:text estimate se ci_low ci_high p_value n",
        statistics=(Statistics(("estimate", "se", "ci_low", "ci_high", "p_value"), n=("n",)),),
    ),
    ResultsFile(
        "results/{release}/estimate/dose_response.csv",
        "estimate_staggered",
        (Count("n_municipalities", "municipalities"), Count("n_municipality_years", "municipality_years")),
        columns=(
            "outcome:text exposure:text per control_for_reform:flag estimate se ci_low ci_high p_value "
            "n_municipalities n_municipality_years"
        ),
        no_person_cells=f"dose-response {_MUNICIPALITY_MODEL}",
    ),
    ResultsFile(
        "results/{release}/estimate/multiplicity.csv",
        "estimate_staggered",
        columns="analysis:text outcome:text estimator:text family:text estimate se ci_low ci_high p_value p_holm p_bh",
        no_person_cells="adjusted p-values of whole-sample estimates",
    ),
    ResultsFile(
        "results/{release}/estimate/bacon.csv",
        "estimate_staggered",
        (*_municipalities("municipalities", "municipalities_dropped"), Count("years", "years")),
        columns=(
            "outcome:text family:text comparison:text treated_cohort control_cohort weight estimate municipalities "
            "municipalities_dropped years"
        ),
        no_person_cells=(
            "Goodman-Bacon 2x2 DiDs and weights of municipality-year means; counts are municipalities and years"
        ),
    ),
    # synthetic control and synthetic DiD
    ResultsFile(
        "results/{release}/synth/table.csv",
        "synthetic_control",
        columns="adopter outcome:text adoption_year att pre_rmspe post_rmspe ratio p_value",
        no_person_cells="synthetic-control effects and fit statistics by municipality",
    ),
    ResultsFile(
        "results/{release}/synth/average.csv",
        "synthetic_control",
        _municipalities("n_adopters"),
        columns="outcome:text att_average n_adopters",
        no_person_cells="mean synthetic-control effect over municipalities (n_adopters)",
    ),
    ResultsFile(
        "results/{release}/synth/gaps.csv",
        "synthetic_control",
        columns="outcome:text unit role:text year gap",
        no_person_cells="gaps between municipality-level rates and their synthetic controls",
    ),
    ResultsFile(
        "results/{release}/synth/sdid.csv",
        "synthetic_control",
        (Count("pre_years", "years"), Count("post_years", "years"), *_municipalities("n_controls", "adopters")),
        columns=(
            "outcome:text municipality:text adoption_year att se ci_low ci_high p_value level pre_years post_years "
            "n_controls adopters"
        ),
        no_person_cells=(
            "synthetic DiD effects on municipality-year rates by municipality and their mean; n_* count years and "
            "municipalities"
        ),
    ),
    # economics
    ResultsFile(
        "results/{release}/economics.csv",
        "estimate_economics",
        columns="item:text estimate ci_low ci_high unit:text price_year",
        no_person_cells="model-based costs and effects per child-year over the whole sample; prices",
    ),
    ResultsFile(
        "results/{release}/economics/ceac.csv",
        "estimate_economics",
        (Count("n_draws", "draws"),),
        columns="wtp_dkk_per_unit probability_cost_effective n_draws unit:text",
        no_person_cells="shares of bootstrap draws (n_draws counts draws)",
    ),
    ResultsFile(
        "results/{release}/economics/costs_by_year.csv",
        "estimate_economics",
        (Count("n_treated_child_years", "child_years"),),
        columns="followup_year item:text estimate ci_low ci_high n_treated_child_years",
        statistics=(Statistics(("estimate", "ci_low", "ci_high"), n=("n_treated_child_years",)),),
    ),
    ResultsFile(
        "results/{release}/economics/reconciliation.csv",
        "estimate_economics",
        _persons("n_children"),
        columns="year function:text accounts_dkk:amount micro_dkk:amount share_explained n_children",
        statistics=(Statistics(("micro_dkk", "share_explained"), n=("n_children",)),),
    ),
    ResultsFile(
        "results/{release}/economics/budget.csv",
        "estimate_economics",
        columns="budget_year item:text estimate ci_low ci_high unit:text price_year",
        no_person_cells="projection for a hypothetical municipality from whole-sample estimates",
    ),
    # monitoring and factsheets
    ResultsFile(
        "results/{release}/implementation/group_year.csv",
        "monitor_implementation",
        _persons("n_persons"),
        columns="indicator:text group:text year value n_persons suppressed:flag",
        flagged=("value",),
    ),
    ResultsFile(
        "results/{release}/implementation/municipality_year.csv",
        "monitor_implementation",
        columns="indicator:text municipality year adopted:flag value suppressed:flag",
        flagged=("value",),
    ),
    ResultsFile(
        "results/{release}/factsheets/municipality_figures.csv",
        "factsheet_figures",
        columns="municipality name:text comparison:text level:text figure:text year value suppressed:flag",
        flagged=("value",),
    ),
    # disclosure
    ResultsFile(
        "results/{release}/disclosure/summary.csv",
        "audit_disclosure",
        (Count("cells_suppressed", "cells"), Count("cells_total", "cells")),
        columns="table:text rule:text cells_suppressed cells_total min_cell",
    ),
    # design validation (make montecarlo)
    ResultsFile("results/montecarlo/{scenario}/replications/{seed}.json", "montecarlo_replication"),
    ResultsFile(
        "results/montecarlo/summary.csv",
        "montecarlo_summary",
        (Count("n", "replications"),),
        columns=(
            "scenario:text analysis:text outcome:text estimator:text inference:text n truth mean_estimate bias rmse "
            "sd_estimate mean_se coverage coverage_mc_se"
        ),
    ),
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


def results_table(path: str) -> ResultsFile:
    """Return the declaration of a results table (a CSV file with declared columns).

    Parameters
    ----------
    path
        The file's path pattern as declared (``"results/{release}/estimates.csv"``) or any path ending
        in it (``"results/final/estimates.csv"``).

    Returns
    -------
    ResultsFile
        The declaration, with its columns.

    Raises
    ------
    KeyError
        If no CSV file with declared columns matches ``path``.
    """
    declared = next((f for f in RESULTS_FILES if f.path == path), None) or find_results_file(path)
    if declared is None or not declared.columns:
        raise KeyError(f"{path} is not a results file with declared columns (evaluation.contract.results)")
    return declared


def columns_of(path: str) -> list[str]:
    """Return the columns of a declared results table (:func:`results_table`), in the order its producer writes them.

    Raises
    ------
    KeyError
        If no CSV file with declared columns matches ``path``.
    """
    return results_table(path).names


def header_problem(path: str | PurePath, columns: list[str]) -> str | None:
    """Say how ``columns`` differ from what the registry declares for the file at ``path``, or return None.

    Parameters
    ----------
    path
        Where a table is about to be written.
    columns
        The table's columns, in order.

    Returns
    -------
    str or None
        A sentence naming the missing, extra or misordered columns; None when ``path`` is not a declared
        results file with columns, or when the columns are exactly the declared ones in their order.
    """
    declared = find_results_file(path)
    if declared is None or not declared.columns or list(columns) == declared.names:
        return None
    missing = [c for c in declared.names if c not in columns]
    extra = [c for c in columns if c not in declared.names]
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not declared {', '.join(map(str, extra))}" if extra else "",
            "" if missing or extra else f"in the order {', '.join(map(str, columns))}",
        )
        if part
    )
    return (
        f"{PurePath(path).as_posix()}: the columns differ from {declared.path} in "
        f"evaluation.contract.results.RESULTS_FILES ({detail})"
    )


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
