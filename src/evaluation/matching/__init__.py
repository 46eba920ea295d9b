"""Matching of treated and comparison units, with balance diagnostics.

Public API::

    from evaluation.matching import match, MatchResult, balance_table

:func:`match` does propensity-score nearest-neighbour matching (1:k, with or
without replacement, caliper, exact cells) with MatchIt's conventions;
:func:`balance_table` computes cobalt-style balance statistics for any weights.
Exact, coarsened exact and Mahalanobis matching follow in issue 3.
"""

from evaluation.matching.balance import balance_table
from evaluation.matching.core import MatchResult, match
from evaluation.matching.score import fit_propensity

__all__ = ["MatchResult", "balance_table", "fit_propensity", "match"]
