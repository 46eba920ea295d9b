"""The study cohort: children with an open case, as a child-year panel with treatment timing.

:mod:`evaluation.steps.cohort.build` assembles the panel and the sample flow (:func:`build_cohort`, pure) and reads and
writes the step's files (:func:`build_panel`); its docstring holds the definitions (child-year, open case,
treatment timing, treated and control children). The parts: :mod:`~evaluation.steps.cohort.cases` (open-case years),
:mod:`~evaluation.steps.cohort.covariates` (baseline covariates, outcomes), :mod:`~evaluation.steps.cohort.placements`
(placement outcomes), :mod:`~evaluation.steps.cohort.timing` (adoption years, the data cut-off),
:mod:`~evaluation.steps.cohort.cutoff` (the cut-off step) and :mod:`~evaluation.steps.cohort.keys`.
"""

from __future__ import annotations

from evaluation.io import write_table
from evaluation.steps.cohort.build import (
    COHORT_COLUMNS,
    COHORT_EXTRACTS,
    FLOW_COLUMNS,
    PANEL_COLUMNS,
    CohortResult,
    build_cohort,
    build_panel,
    read_extracts,
    sample_flow,
)
from evaluation.steps.cohort.cases import age_on_january_first, open_case_years, spell_years
from evaluation.steps.cohort.covariates import (
    BASIC_EDUCATION_LEVEL,
    OUTCOME_MEASURES,
    baseline_covariates,
    outcome_values,
)
from evaluation.steps.cohort.cutoff import cut_extracts
from evaluation.steps.cohort.timing import adoption_years, apply_cutoff, first_treat

__all__ = [
    "BASIC_EDUCATION_LEVEL",
    "COHORT_COLUMNS",
    "COHORT_EXTRACTS",
    "FLOW_COLUMNS",
    "OUTCOME_MEASURES",
    "PANEL_COLUMNS",
    "CohortResult",
    "adoption_years",
    "age_on_january_first",
    "apply_cutoff",
    "baseline_covariates",
    "build_cohort",
    "build_panel",
    "cut_extracts",
    "first_treat",
    "open_case_years",
    "outcome_values",
    "read_extracts",
    "sample_flow",
    "spell_years",
    "write_table",
]
