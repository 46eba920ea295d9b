"""Staggered difference-in-differences: Callaway and Sant'Anna (2021) group-time ATTs and their aggregations.

``att_gt`` estimates ATT(g,t) with the estimators of Sant'Anna and Zhao (2020); ``AttGtResult.aggregate``
summarises them as R ``did::aggte``. See :mod:`evaluation.did.att_gt` for the conventions.
"""

from evaluation.did.aggregate import AggregateResult, aggregate
from evaluation.did.att_gt import AttGtResult, att_gt
from evaluation.did.bacon import BaconResult, UnbalancedPanelError, bacon_decomposition

__all__ = [
    "AggregateResult",
    "AttGtResult",
    "BaconResult",
    "UnbalancedPanelError",
    "aggregate",
    "att_gt",
    "bacon_decomposition",
]
