"""Staggered difference-in-differences results of the pipeline (issue 4): CS, event study, naive vs robust.

:func:`run_staggered` is the step ``estimate_staggered``: from the child-year panel, the matched children
and the ingested extracts it writes ``att_gt.csv``, ``event_study.csv``, ``pretrend.csv``,
``naive_vs_robust.csv``, ``heterogeneity.csv``, ``dose_response.csv``, ``multiplicity.csv`` and
``bacon.csv`` into ``results/estimate/``. The estimators live in :mod:`evaluation.methods.did`,
:mod:`evaluation.methods.eventstudy`, :mod:`evaluation.methods.dose`, :mod:`evaluation.methods.panel` and
:mod:`evaluation.methods.multiplicity`; this package chooses the sample and the level (the matched children's
municipality-year means weighted by the matching weights, :mod:`evaluation.steps.staggered.panels`), the
weights and the comparisons (:mod:`evaluation.steps.staggered.analyses`), the Goodman-Bacon decomposition
(:mod:`evaluation.steps.staggered.decomposition`), and the disclosure of the written tables
(:mod:`evaluation.steps.staggered.run`).

API page: Staggered DiD in the pipeline (`evaluation.steps.staggered`)
----------------------------------------------------------------
```python
from evaluation.steps.staggered import (
    run_staggered, StaggeredSettings, municipality_panel, cs_analysis, two_by_two, twfe)
written = run_staggered("data/interim/cohort/panel.parquet", "data/interim/ingest", config, "results/estimate",
                        matched_path="data/interim/compare/matched.parquet",   # None: all children, unweighted
                        estimates_path="results/estimates.csv")   # {table name: path}
s = StaggeredSettings.from_config(config)        # estimation.staggered / dose_response / heterogeneity
means = municipality_panel(panel, "sdq")          # municipality-year means, n_child_years, unit_weight, treated
cs = cs_analysis(means, "sdq", s)                 # .simple .dynamic (Estimate), .event_study, .pretrend
cs.tidy(); cs.summary()                           # "ATT(simple)", "ATT(dynamic)", then the event study ("ATT(e=0)")
```

For each configured outcome, CS ATT(g,t) is estimated on municipality-year means of the matched children's
child-years with an open case, weighted by the matching weights (unit: municipality; group: `first_treat`;
municipalities weighted by their weight sums, so the estimand is approximately per child-year). The step
writes the event study with a joint pre-trend test, a naive-vs-robust table (2x2 DiD of the first adopter
against never adopting on all children; TWFE on municipality-years; CS simple; CS dynamic average over the
event times at least `estimation.min_treated_municipalities` adopters reach; the headline copied from
`estimates.csv`), the Goodman-Bacon decomposition of the municipality-year TWFE (`bacon.csv`, balanced
panel of the municipalities observed every year), heterogeneity by life phase at entry, sex and prior
placement, a caseload dose-response per 10 cases per caseworker (municipality and year fixed effects,
reported apart from the reform effect), and Holm and Benjamini-Hochberg p-values within the primary and
secondary outcome families. No means are written, every count below `disclosure.min_cell` is empty, and
so are the estimates of a subgroup of fewer than `disclosure.min_cell` children
(`evaluation.steps.staggered.run.hide_few_children`).
"""

from evaluation.steps.staggered.analyses import CsAnalysis, cs_analysis, twfe, two_by_two
from evaluation.steps.staggered.decomposition import BACON_COLUMNS, bacon_rows, balanced_municipalities
from evaluation.steps.staggered.panels import (
    WEIGHT,
    caseload_panel,
    child_subgroups,
    matched_child_years,
    municipality_panel,
    prior_placement,
)
from evaluation.steps.staggered.run import FILES, headline_rows, multiplicity_table, run_staggered, suppress_counts
from evaluation.steps.staggered.settings import StaggeredSettings

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
