"""Economic evaluation of the Herning model: costs, staff, net cost, payback, cost-effectiveness and budget.

Modules, from inputs to results:

* :mod:`~evaluation.methods.economics.prices`: price table, price index, conversion to one price year;
* :mod:`~evaluation.methods.economics.discount`: discount factors and present values;
* :mod:`~evaluation.methods.economics.staff`: caseworker FTE-years and the cost of the extra caseworkers;
* :mod:`~evaluation.steps.economics.accounts`: micro-costing against the municipal accounts (5.28);
* :mod:`~evaluation.steps.economics.data`: the matched child-years (the headline's sample) and the staff panel;
* :mod:`~evaluation.methods.economics.effects`: the effects by the headline's imputation estimator, and their
  per-municipality sufficient statistics;
* :mod:`~evaluation.methods.economics.resample`: municipality-cluster bootstrap of the effects, all jointly;
* :mod:`~evaluation.methods.economics.net`: net cost, cumulative net cost, payback year and its interval, the
  probability of a saving, cost per unit of effect;
* :mod:`~evaluation.methods.economics.ceac`: cost-effectiveness acceptability curve;
* :mod:`~evaluation.methods.economics.budget`: budget consequences for a municipality of a chosen size;
* :mod:`~evaluation.steps.economics.inputs`: the effects' per-municipality sums, prepared once per release;
* :mod:`~evaluation.steps.economics.pipeline`: :func:`run_prepare_economics`, :func:`run_economics_bootstrap` and
  :func:`run_economics`, the steps the Snakemake rules call.

API page: Economics (`evaluation.steps.economics`)
--------------------------------------------
```python
from evaluation.steps.economics import run_economics, estimate_economics, ECONOMICS_COLUMNS
run_economics(interim_dir, inputs_path, config, "results/economics.csv", "results/economics")
res = estimate_economics(extracts, panel, matched, config, population_children=n)  # .table .costs_by_year .ceac .reconciliation .budget .draws
res.tidy()   # the items of economics.csv as tidy rows (term = item; percentile intervals, no SE)
from evaluation.methods.economics.prices import price_index, deflate, rebase_prices
from evaluation.methods.economics.discount import discount_factors, present_value, cumulative_present_value
from evaluation.methods.economics.staff import caseworker_fte_years, staff_effect, cost_per_fte_year
from evaluation.steps.economics.accounts import micro_costs, reconcile, child_costs, aggregate_child_costs, dominated_cells
# reconcile(micro, accounts, index, price_year=2019, min_cell=5, dominated=dominated_cells(child_costs(...), 5))
from evaluation.methods.economics.net import net_cost, cumulative_net_cost, payback_year, cost_per_unit
from evaluation.methods.economics.ceac import acceptability_curve
from evaluation.methods.economics.budget import budget_consequences
from evaluation.methods.economics.effects import EffectSpec, cluster_moments   # per-municipality sums of an imputation fit
from evaluation.steps.economics.pipeline import economics_data, fit_effect, effect_moments
from evaluation.methods.economics.staff import staff_fit
from evaluation.methods.economics.resample import cluster_bootstrap, bootstrap_parts
# cluster_bootstrap(moments, strata, replications=499, seed=1, part=(0, 125)): replications 0-124 only
from evaluation.steps.economics import bootstrap_draws, run_economics_bootstrap
draws = bootstrap_draws(extracts, panel, matched, config, part=(0, 125))   # index: replication
res = estimate_economics(extracts, panel, matched, config, population_children=n, draws=all_parts_in_order)
from evaluation.steps.economics import prepare_economics, economics_from_inputs, EconomicsInputs, run_prepare_economics
inputs = prepare_economics(extracts, panel, matched, config)   # every effect fitted once: per-municipality sums
inputs.write(path); inputs = EconomicsInputs.read(path)        # .npz of sums and counts, no person rows
draws = inputs.bootstrap(config, part=(0, 125)); inputs.point_estimates()
res = economics_from_inputs(inputs, extracts, config, population_children=n, draws=all_parts_in_order)
```

The pipeline prepares the inputs once per release (rule `prepare_economics`: reads the panel and the
matched sample, fits every effect and writes their per-municipality sums to
`data/interim/<release>/economics/inputs.npz`), runs the bootstrap from them as `economics.bootstrap.jobs`
jobs (rule `economics_bootstrap`, one part of `bootstrap_parts(replications, jobs)` each), and
`estimate_economics` gathers the parts and reads the same inputs for the point estimates. Every part
draws the clusters of all replications and keeps its own, so the parts concatenated equal a single run
exactly, whatever the number of jobs.

All amounts are DKK per treated child-year with an open case, in fixed prices of `economics.price_year`.
Effects on cost, SDQ and placements come from the headline's imputation estimator on the matched children
(`evaluation.steps.estimate.headline_fit`, so they equal `estimates.csv`), by follow-up year from its event
study, and staff from the same estimator on the municipality-year panel of caseworker FTE per open case
(`staff_fit`). A bootstrap replication reweights per-municipality sums of each fit (`cluster_moments`)
instead of refitting. `economics.csv` also holds the probabilities that the model saves money
(`net_saving_probability`, `cumulative_saving_probability`) and pays back within the horizon
(`payback_probability`); the report's sentences follow the intervals. Intervals are percentile intervals
of one municipality-cluster bootstrap stratified by adoption (matching held fixed), so net cost, ratios
and the acceptability curve share the same draws. Net cost = staff cost + change in measure costs
(savings are negative); payback year = first follow-up year with discounted cumulative net cost <= 0.
"""  # noqa: E501

from __future__ import annotations

from evaluation.steps.economics.pipeline import (
    ECONOMICS_COLUMNS,
    EconomicsInputs,
    EconomicsResult,
    bootstrap_draws,
    economics_from_inputs,
    estimate_economics,
    prepare_economics,
    run_economics,
    run_economics_bootstrap,
    run_prepare_economics,
)

__all__ = [
    "ECONOMICS_COLUMNS",
    "EconomicsInputs",
    "EconomicsResult",
    "bootstrap_draws",
    "economics_from_inputs",
    "estimate_economics",
    "prepare_economics",
    "run_economics",
    "run_economics_bootstrap",
    "run_prepare_economics",
]
