"""Statistical disclosure control of everything the pipeline publishes.

Results may leave a research machine only when no person can be identified from
them (Statistics Denmark's rules for research output). This package holds the
rules; :mod:`evaluation.steps.guard` scans the finished outputs for anything they missed.

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

API page: Disclosure control (`evaluation.disclosure`) and the output guard (`evaluation.steps.guard`)
------------------------------------------------------------------------------------------------
```python
from evaluation.disclosure import protect_counts, protect_statistics, dominance, protect_magnitudes, mask_figure_data, write_summary
res = protect_counts(table, name="tbl-flow", min_cell=5)   # res.table (totals added, suppressed = <NA>), res.status, res.lower/upper, res.record
out, rec = protect_statistics(frame, ["mean"], n="n", statistic="mean", name="tbl-x")   # "max"/"min" are never published
dom = dominance(costs, by=["municipality", "year"], value="cost")   # (1, 50 %) and (2, 85 %) rule
kept, note, rec = mask_figure_data(points, n="n", name="fig-trends", language="en")
write_summary(records, "results/final/disclosure/summary.csv")
from evaluation.disclosure import PUBLISHED_TABLES, TableRule, Statistics, audit_results, write_audit
PUBLISHED_TABLES["estimate/trends.csv"]   # TableRule(counts=("n",), statistics=(Statistics(("mean",), n=("n",)),))
records = audit_results("results/final", min_cell=5)   # DisclosureError naming file, row, column; or an undeclared CSV
write_audit("results/final", 5, "results/final/disclosure/summary.csv")   # rule audit_disclosure, per release
from evaluation.steps.guard import scan_outputs, check_outputs
check_outputs(["results", "reports/_output"], min_cell=5)   # DisclosureError naming file and cell
```

Complementary suppression is checked exactly: for every suppressed cell, the interval an attacker can
derive from the published totals by linear programming must be at least `min_cell` wide. `min_cell`
below 3 is refused. The rule `audit_disclosure` checks every CSV file of `results/<release>/` against
its declared rule (counts of persons, statistics and the counts they rest on, a `suppressed` flag, or
no person-level cells with the reason) and writes the cells suppressed by table and rule for the
report's appendix; a CSV file not in `PUBLISHED_TABLES` stops it. The pipeline's last rule,
`check_outputs`, runs the guard over `results/` and `reports/_output/`. See `docs/security.md`.
"""  # noqa: E501

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
from evaluation.disclosure.rules import DOMINANCE_NK, below_threshold, dominance, mask_figure_data, protect_statistics
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
    "below_threshold",
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
