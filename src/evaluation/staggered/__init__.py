"""Staggered difference-in-differences results of the pipeline (issue 4): CS, event study, naive vs robust.

:func:`run_staggered` is the step ``estimate_staggered``: from the child-year panel and the ingested
extracts it writes ``att_gt.csv``, ``event_study.csv``, ``pretrend.csv``, ``naive_vs_robust.csv``,
``heterogeneity.csv``, ``dose_response.csv`` and ``multiplicity.csv`` into ``results/estimate/``.
The estimators live in :mod:`evaluation.did`, :mod:`evaluation.eventstudy`, :mod:`evaluation.dose`,
:mod:`evaluation.panel` and :mod:`evaluation.multiplicity`; this package chooses the level
(municipality-years, :mod:`evaluation.staggered.panels`), the weights and the comparisons
(:mod:`evaluation.staggered.analyses`), and the disclosure of the written tables
(:mod:`evaluation.staggered.run`).
"""

from evaluation.staggered.analyses import CsAnalysis, cs_analysis, twfe, two_by_two
from evaluation.staggered.panels import caseload_panel, child_subgroups, municipality_panel, prior_placement
from evaluation.staggered.run import FILES, multiplicity_table, run_staggered, suppress_counts
from evaluation.staggered.settings import StaggeredSettings

__all__ = [
    "FILES",
    "CsAnalysis",
    "StaggeredSettings",
    "caseload_panel",
    "child_subgroups",
    "cs_analysis",
    "multiplicity_table",
    "municipality_panel",
    "prior_placement",
    "run_staggered",
    "suppress_counts",
    "twfe",
    "two_by_two",
]
