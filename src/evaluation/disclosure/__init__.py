"""Statistical disclosure control of everything the pipeline publishes.

Results may leave a research machine only when no person can be identified from
them (Statistics Denmark's rules for research output). This package holds the
rules; :mod:`evaluation.guard` scans the finished outputs for anything they missed.

* :func:`protect_counts`: primary suppression of counts below ``min_cell``
  (default 5, never below 3) and complementary suppression verified by linear
  programming, for tables with row, column and grand totals.
* :func:`protect_magnitudes`: the same for magnitude tables (cost totals) with
  sensitive cells from :func:`dominance`.
* :func:`protect_statistics`: means, medians and shares from fewer than
  ``min_cell`` persons; maxima and minima never.
* :func:`dominance`: the (n, k) dominance rule for cost aggregates (top 1 > 50 %
  or top 2 > 85 % of the total).
* :func:`mask_figure_data`: figure points below the threshold are left out, with a note.
* :class:`SuppressionRecord` and :func:`write_summary`: what was suppressed, by
  rule, for the report's appendix (``results/<release>/disclosure/summary.csv``).
* :func:`audit_results` and :func:`write_audit`: check every table a release
  publishes against the rule declared for it in :data:`PUBLISHED_TABLES`, and
  count the suppressed cells (pipeline rule ``audit_disclosure``).
"""

from evaluation.disclosure.audit import PUBLISHED_TABLES, Statistics, TableRule, audit_results, write_audit
from evaluation.disclosure.counts import ProtectedTable, protect_counts, protect_magnitudes
from evaluation.disclosure.record import (
    RULES,
    DisclosureError,
    SuppressionRecord,
    check_min_cell,
    summary_table,
    write_summary,
)
from evaluation.disclosure.rules import DOMINANCE_NK, dominance, mask_figure_data, protect_statistics
from evaluation.disclosure.tables import feasible_intervals, table_lines

__all__ = [
    "DOMINANCE_NK",
    "PUBLISHED_TABLES",
    "RULES",
    "DisclosureError",
    "ProtectedTable",
    "Statistics",
    "SuppressionRecord",
    "TableRule",
    "audit_results",
    "check_min_cell",
    "dominance",
    "feasible_intervals",
    "mask_figure_data",
    "protect_counts",
    "protect_magnitudes",
    "protect_statistics",
    "summary_table",
    "table_lines",
    "write_audit",
    "write_summary",
]
