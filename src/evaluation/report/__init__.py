"""Reports: tables, figures and variables built from results, rendered by Quarto or offline.

The public entry point is :func:`build_report`; the parts are
:mod:`~evaluation.report.tables`, :mod:`~evaluation.report.figures`,
:mod:`~evaluation.report.values` (the numbers the text uses),
:mod:`~evaluation.report.numbers` (Danish number formatting) and
:mod:`~evaluation.report.quarto_offline` (the Quarto subset for pandoc).

API page: Report (`evaluation.report`)
--------------------------------------
```python
from evaluation.report import build_report
build_report(results_dir, reports_dir, document="interim" | "final" | "factsheet", formats=("html", "pdf"),
             engine="auto", language=None, params=None)   # params={"municipality": 657} for a factsheet
from evaluation.report.documents import planned_documents, planned_outputs   # what the pipeline renders
```

Output: `reports/_output/<document>[-<municipality>][-<language>].{html,pdf}` (Danish has no suffix).
After the documents, the rule `render_report` writes the landing pages `index.html` / `index-en.html` and
the accessibility statement `accessibility.html` (from `docs/accessibility.md`):

```python
from evaluation.report.landing import site_outputs, write_site
write_site(config, "results/final", "reports", "docs/accessibility.md")   # needs the rendered documents
site_outputs(config)   # the three pages, or [] when report.formats has no html
```

Reports read, when present, the economics results (`results/economics.csv`, `results/economics/*.csv`),
the staggered-DiD results
(`results/estimate/{naive_vs_robust,event_study,pretrend,heterogeneity,dose_response,multiplicity}.csv`)
and the balance table. Each chapter part whose results are absent is replaced by its `.missing` text
(`reports/_text/<language>/<part>.missing.md`; the part-to-results map is
`evaluation.report.chapters.PART_RESULTS`). The column names the report reads are listed once, in
`evaluation.report.inputs`. Cross-reference labels: `tbl-row-accounting`, `tbl-sample-flow`,
`tbl-balance`, `tbl-main`, `tbl-economics`, `tbl-net-cost`, `tbl-budget`, `tbl-reconciliation`,
`tbl-naive-robust`, `tbl-heterogeneity`, `tbl-multiplicity`, `fig-sample-flow`, `fig-trends`,
`fig-estimates`, `fig-costs`, `fig-ceac`, `fig-event-study`, `fig-love-plot`.

`engine="auto"` uses `quarto render` when the Quarto CLI is on PATH and the offline pandoc +
Typst path otherwise; `"quarto"` and `"offline"` force one.
"""

__all__ = ["build_report"]


def __getattr__(name: str):
    """Import :func:`build_report` on first use (PEP 562).

    The workflow imports light modules of this package when Snakemake parses it, once per job; rendering
    (matplotlib and the chapters) is imported only by the step that renders.
    """
    if name == "build_report":
        from evaluation.report.render import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
