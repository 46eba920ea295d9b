"""Reports: tables, figures and variables built from results, rendered by Quarto or offline.

The public entry point is :func:`build_report`; the parts are
:mod:`~evaluation.report.tables`, :mod:`~evaluation.report.figures`,
:mod:`~evaluation.report.values` (the numbers the text uses),
:mod:`~evaluation.report.numbers` (Danish number formatting) and
:mod:`~evaluation.report.quarto_offline` (the Quarto subset for pandoc).
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
