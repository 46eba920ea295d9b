"""Reports: tables, figures and variables built from results, rendered by Quarto or offline.

The public entry point is :func:`build_report`; the parts are
:mod:`~evaluation.report.tables`, :mod:`~evaluation.report.figures`,
:mod:`~evaluation.report.values` (the numbers the text uses),
:mod:`~evaluation.report.numbers` (Danish number formatting) and
:mod:`~evaluation.report.quarto_offline` (the Quarto subset for pandoc).
"""

from evaluation.report.render import build_report

__all__ = ["build_report"]
