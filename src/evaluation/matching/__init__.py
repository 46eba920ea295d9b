"""Matching of treated and comparison units, with balance diagnostics.

Public API::

    from evaluation.matching import match, MatchResult, balance_table, fit_propensity
    from evaluation.matching import love_plot, overlap_plot, sample_flow

:func:`match` does nearest-neighbour matching on a propensity score or the
Mahalanobis distance (1:k, with or without replacement, calipers, exact cells,
common-support trimming), exact matching and coarsened exact matching, with
MatchIt's conventions; :func:`balance_table` computes cobalt-style balance
statistics for any weights; :mod:`evaluation.matching.plots` draws love and
overlap plots and counts the sample flow.
"""

from evaluation.matching.balance import BALANCE_COLUMNS, balance_table, ecdf_statistics
from evaluation.matching.core import MatchResult, common_support, match
from evaluation.matching.flow import sample_flow
from evaluation.matching.plots import love_plot, overlap_plot
from evaluation.matching.score import fit_propensity

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
