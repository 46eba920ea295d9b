"""Staggered difference-in-differences results of the pipeline (issue 4): CS, event study, naive vs robust.

:func:`run_staggered` is the step ``estimate_staggered``: from the child-year panel, the matched children
and the ingested extracts it writes ``att_gt.csv``, ``event_study.csv``, ``pretrend.csv``,
``naive_vs_robust.csv``, ``heterogeneity.csv``, ``dose_response.csv``, ``multiplicity.csv`` and
``bacon.csv`` into ``results/estimate/``. The estimators live in :mod:`evaluation.did`,
:mod:`evaluation.eventstudy`, :mod:`evaluation.dose`, :mod:`evaluation.panel` and
:mod:`evaluation.multiplicity`; this package chooses the sample and the level (the matched children's
municipality-year means weighted by the matching weights, :mod:`evaluation.staggered.panels`), the
weights and the comparisons (:mod:`evaluation.staggered.analyses`), the Goodman-Bacon decomposition
(:mod:`evaluation.staggered.decomposition`), and the disclosure of the written tables
(:mod:`evaluation.staggered.run`).
"""

from evaluation.staggered.analyses import CsAnalysis, cs_analysis, twfe, two_by_two
from evaluation.staggered.decomposition import BACON_COLUMNS, bacon_rows, balanced_municipalities
from evaluation.staggered.panels import (
    WEIGHT,
    caseload_panel,
    child_subgroups,
    matched_child_years,
    municipality_panel,
    prior_placement,
)
from evaluation.staggered.run import FILES, headline_rows, multiplicity_table, run_staggered, suppress_counts
from evaluation.staggered.settings import StaggeredSettings

__all__ = [
    "BACON_COLUMNS",
    "FILES",
    "WEIGHT",
    "CsAnalysis",
    "StaggeredSettings",
    "bacon_rows",
    "balanced_municipalities",
    "caseload_panel",
    "child_subgroups",
    "cs_analysis",
    "headline_rows",
    "matched_child_years",
    "multiplicity_table",
    "municipality_panel",
    "prior_placement",
    "run_staggered",
    "suppress_counts",
    "twfe",
    "two_by_two",
]
