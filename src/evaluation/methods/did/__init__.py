"""Staggered difference-in-differences: Callaway and Sant'Anna (2021) group-time ATTs and their aggregations.

``att_gt`` estimates ATT(g,t) with the estimators of Sant'Anna and Zhao (2020); ``AttGtResult.aggregate``
summarises them as R ``did::aggte``. See :mod:`evaluation.methods.did.att_gt` for the conventions.

API page: Staggered DiD (`evaluation.methods.did`)
------------------------------------------
```python
from evaluation.methods.did import att_gt, aggregate
r = att_gt(df, outcome="y", unit="id", time="year", group="first_treat", covariates=None,
           control_group="never_treated",   # "not_yet_treated"
           method="dr",                     # "dr_imp", "ipw", "reg"
           base_period="varying",           # "universal"
           bootstrap=False, cluster=None, random_state=0,
           alpha=0.05, n_bootstrap=999, anticipation=0, weights=None, uniform_bands=True,
           panel=True,                      # False: repeated cross sections (unit=None, or a row id)
           allow_unbalanced_panel=False)    # True: keep units missing in some periods
r.table        # group, time, base_period, post, att, se, ci_low, ci_high, n_treated, n_control
r.influence    # n_units x cells; r.covariance(); r.settings["design"]
r.aggregate("dynamic", min_e=-3, max_e=3, balance_e=None)   # "simple", "group", "calendar"
r.tidy(); r.aggregate("dynamic").tidy()   # rows "ATT(g=2013,t=2015)"; "ATT" (overall), then "ATT(e=-1)", ...
```

Semantics of R `did` 2.x / `DRDID` (reference tests in `tests/test_did_reference.py` and
`tests/test_did_rc.py`). With `panel=False` every row is its own unit and each cell uses DRDID's
repeated cross-section estimators (`drdid_rc`, `std_ipw_did_rc`, `reg_did_rc`, `drdid_imp_rc`) with each
observation's own covariates; `allow_unbalanced_panel=True` does the same on an unbalanced panel but sums
the influence function within units (a balanced panel stays a panel). `n_treated`/`n_control` count units
in a panel and observations otherwise.
"""

from evaluation.methods.did.aggregate import AggregateResult, aggregate
from evaluation.methods.did.att_gt import AttGtResult, att_gt
from evaluation.methods.did.bacon import BaconResult, UnbalancedPanelError, bacon_decomposition

__all__ = [
    "AggregateResult",
    "AttGtResult",
    "BaconResult",
    "UnbalancedPanelError",
    "aggregate",
    "att_gt",
    "bacon_decomposition",
]
