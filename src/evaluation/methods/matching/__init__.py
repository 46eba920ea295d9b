"""Matching of treated and comparison units, with balance diagnostics.

Public API::

    from evaluation.methods.matching import match, MatchResult, balance_table, fit_propensity
    from evaluation.methods.matching import love_plot, overlap_plot, sample_flow

:func:`match` does nearest-neighbour matching on a propensity score or the
Mahalanobis distance (1:k, with or without replacement, calipers, exact cells,
common-support trimming), exact matching and coarsened exact matching, with
MatchIt's conventions; :func:`balance_table` computes cobalt-style balance
statistics for any weights; :mod:`evaluation.methods.matching.plots` draws love and
overlap plots and counts the sample flow.

API page: Matching (`evaluation.methods.matching`), weighting and municipality comparisons
----------------------------------------------------------------------------------
```python
from evaluation.methods.matching import match, balance_table, fit_propensity, love_plot, overlap_plot, sample_flow
m = match(df, treatment="treat", covariates=[...],
          method="nearest",            # "exact", "cem", "mahalanobis"
          distance="logit",            # "probit", "linear.logit", "mahalanobis", or a column holding a score
          ratio=1, replace=False, caliper=None, exact=None,
          estimand="ATT",              # "ATC"; "ATE" for exact and cem
          random_state=0,
          m_order=None,                # greedy order without replacement; default "largest" (MatchIt)
          binary="std",                # binary covariates in balance: standardised (MatchIt) or "raw" (cobalt)
          mahvars=None,                # Mahalanobis variables; with a score distance: Mahalanobis within the caliper
          discard="none",              # common-support trimming: "both", "control", "treated"
          cutpoints=None)              # CEM: None (Sturges), number of bins, or {covariate: bins | [cuts] | "q<k>"}
m.matched      # kept rows of df (original index) with "weight" (and "subclass" where pairs or strata exist)
m.balance      # by covariate: type, smd_before/after, var_ratio_before/after, ecdf_mean_before/after,
               # ecdf_max_before/after (cobalt's KS), smd_flag (|SMD| > 0.1), var_ratio_flag (outside [0.5, 2])
m.att("y")     # Estimate of the ATT (m.effect("y") for the match's estimand)
m.tidy(["y"])  # the effects as tidy rows (term = outcome); m.summary(["y"]): the match, its balance and effects as text
m.propensity   # fitted score, aligned with df
m.n_dropped    # {reason: count}
love_plot(m.balance, "love.png", language="da")        # returns alt text
overlap_plot(m.propensity, df["treat"], "overlap.png")  # returns alt text
sample_flow(m)                                          # step, description, n_treated, n_control

from evaluation.methods.weighting import weights
w = weights(df, treatment="treat", covariates=[...], method="ipw" | "entropy", estimand="ATT" | "ATC" | "ATE",
            link="logit", normalize=False, moments=1)    # Series aligned with df

from evaluation.methods.municipalities import comparison_municipalities, pre_reform_features
comparison_municipalities(table, treated=[657], features=None, k=5, metric="mahalanobis", pool=None, replace=True)

from evaluation.steps.municipality_comparison import (
    municipality_features, feature_balance, write_municipality_comparison)
feats = municipality_features(extracts, config["prices"], before=2013)   # FEATURES by municipality, pre-reform
write_municipality_comparison("data/interim/final/municipality/panel.parquet", config, "municipalities.csv",
                              "municipality_balance.csv")   # from the municipality-year panel (rule municipality_panel)
```

The pipeline's `compare_municipalities` rule (config `matching.municipalities`: `k`, `metric`, `features`)
matches each adopting municipality to its nearest never-adopters on the log child population, the parents'
education and income, and the levels and trends of the placement rate and the spending per child before the
first adoption year, and writes every distance; the report's appendix shows the choice and the balance.
`overlap_plot(..., min_cell=5)` draws the overlap plot for publication: bins on a rounded grid, bars on fewer
than `min_cell` units left out, no individual score in the alt text (the pipeline draws it in Danish and
English, `results/<release>/compare/overlap_plot_{da,en}.png`).

Conventions follow MatchIt, WeightIt and cobalt: the score is matched on the probability scale, the
caliper is in standard deviations of the distance (computed after trimming), treated units weigh 1 and
control weights are scaled to sum to the number of matched controls; exact and CEM use MatchIt's
stratum weights and CEM's default bins are Sturges'; Mahalanobis uses the pooled within-group
covariance, computed as MatchIt's `transform_covariates`; every focal unit gets exactly `ratio` matches
and equally distant controls are chosen as MatchIt's C++ code chooses them (by position in its sort
of the units); SMDs are standardised by the treated group's SD before matching (`match()`'s default
`binary="std"` reproduces MatchIt's `summary()`; `binary="raw"`, the default of `balance_table()`,
cobalt's `bal.tab()`); entropy balancing
(Hainmueller 2012) reproduces the target means exactly and each group's weights sum to its size.
Standard errors of `att`: pair-clustered without replacement (sandwich's `vcovCL`, HC1), HC3
otherwise. On Lalonde's data these reproduce MatchIt's vignette and snapshot tests, WeightIt's
vignette and R's `lm` + `sandwich` (`tests/test_matching_lalonde.py`, references in
`tests/reference/matching/`). Full and optimal matching (optmatch) are not implemented.
"""

from evaluation.methods.matching.balance import BALANCE_COLUMNS, balance_table, ecdf_statistics
from evaluation.methods.matching.core import MatchResult, common_support, match
from evaluation.methods.matching.flow import sample_flow
from evaluation.methods.matching.plots import love_plot, overlap_plot
from evaluation.methods.matching.score import fit_propensity

__all__ = [
    "BALANCE_COLUMNS",
    "MatchResult",
    "balance_table",
    "common_support",
    "ecdf_statistics",
    "fit_propensity",
    "love_plot",
    "match",
    "overlap_plot",
    "sample_flow",
]
