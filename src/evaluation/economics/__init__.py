"""Economic evaluation of the Herning model: costs, staff, net cost, payback, cost-effectiveness and budget.

Modules, from inputs to results:

* :mod:`~evaluation.economics.prices`: price table, price index, conversion to one price year;
* :mod:`~evaluation.economics.discount`: discount factors and present values;
* :mod:`~evaluation.economics.staff`: caseworker FTE-years and the cost of the extra caseworkers;
* :mod:`~evaluation.economics.accounts`: micro-costing against the municipal accounts (5.28);
* :mod:`~evaluation.economics.data`: the matched child-years (the headline's sample) and the staff panel;
* :mod:`~evaluation.economics.effects`: the effects by the headline's imputation estimator, and their
  per-municipality sufficient statistics;
* :mod:`~evaluation.economics.resample`: municipality-cluster bootstrap of the effects, all jointly;
* :mod:`~evaluation.economics.net`: net cost, cumulative net cost, payback year and its interval, the
  probability of a saving, cost per unit of effect;
* :mod:`~evaluation.economics.ceac`: cost-effectiveness acceptability curve;
* :mod:`~evaluation.economics.budget`: budget consequences for a municipality of a chosen size;
* :mod:`~evaluation.economics.pipeline`: :func:`run_economics`, the step the Snakemake rule calls.
"""

from __future__ import annotations

from evaluation.economics.pipeline import (
    ECONOMICS_COLUMNS,
    EconomicsResult,
    bootstrap_draws,
    estimate_economics,
    run_economics,
    run_economics_bootstrap,
)

__all__ = [
    "ECONOMICS_COLUMNS",
    "EconomicsResult",
    "bootstrap_draws",
    "estimate_economics",
    "run_economics",
    "run_economics_bootstrap",
]
