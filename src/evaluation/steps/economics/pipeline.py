"""The economics step: from the ingested extracts, the panel and the matched sample to ``results/economics*``.

:func:`estimate_economics` is pure (data frames in, tables out): :func:`prepare_economics` reads the data
and fits every effect once (an :class:`~evaluation.steps.economics.inputs.EconomicsInputs` of per-municipality
sums), and :func:`economics_from_inputs` turns those and the bootstrap draws into the tables. The
``run_*`` functions read and write the files of the Snakemake rules: :func:`run_prepare_economics`
(rule ``prepare_economics``), :func:`run_economics_bootstrap` (one job per part of the replications, from
the prepared inputs) and :func:`run_economics` (rule ``estimate_economics``, which gathers the parts). The
estimates are all per treated child-year with an open case, in fixed prices of the price year:

* effects from the imputation estimator of the headline (:mod:`evaluation.methods.economics.effects`,
  :func:`evaluation.steps.estimate.headline_fit` on :func:`evaluation.steps.estimate.headline_sample`): cost per
  child-year (the average over treated child-years, and by follow-up year), SDQ and placement entries
  (the headline's ``placement_rate``), so the effects are the headline's; the staff effect from the
  same estimator on the municipality-year panel of FTE per child-year with an open case
  (:mod:`evaluation.methods.economics.staff`);
* confidence intervals: percentile intervals of the stratified municipality-cluster
  bootstrap (:mod:`evaluation.methods.economics.resample`), all quantities from the same draws, with the
  probabilities that go with them (the share of replications in which the reform saves money or
  pays back within the follow-up);
* net cost, cumulative (discounted) net cost, payback year and its interval, and cost-effectiveness
  ratios (:mod:`evaluation.methods.economics.net`), the acceptability curve (:mod:`evaluation.methods.economics.ceac`),
  the budget consequences (:mod:`evaluation.methods.economics.budget`) and the reconciliation with
  the municipal accounts (:mod:`evaluation.steps.economics.accounts`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import setting
from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.io import read_extracts, write_csv
from evaluation.methods.economics.budget import budget_consequences
from evaluation.methods.economics.ceac import acceptability_curve, wtp_grid
from evaluation.methods.economics.effects import ClusterMoments, EffectSpec, cluster_moments
from evaluation.methods.economics.net import (
    cost_per_unit,
    cumulative_net_cost,
    net_cost,
    payback_interval,
    payback_year,
    ratio_interval,
    share_below_zero,
)
from evaluation.methods.economics.prices import deflator, rebase_prices
from evaluation.methods.economics.resample import percentile_interval
from evaluation.methods.economics.staff import cost_per_fte_year, staff_fit
from evaluation.results import TidyResult, tidy_frame
from evaluation.steps.economics import accounts as acc
from evaluation.steps.economics.data import child_sample, municipality_panel
from evaluation.steps.economics.inputs import EconomicsInputs
from evaluation.steps.economics.settings import EconomicsSettings, economics_settings

__all__ = [
    "ECONOMICS_COLUMNS",
    "EXTRACTS",
    "EconomicsData",
    "EconomicsInputs",
    "EconomicsResult",
    "bootstrap_draws",
    "economics_data",
    "economics_from_inputs",
    "effect_moments",
    "effect_specs",
    "estimate_economics",
    "fit_effect",
    "prepare_economics",
    "run_economics",
    "run_economics_bootstrap",
    "run_prepare_economics",
]

ECONOMICS_COLUMNS = columns_of("results/{release}/economics.csv")
BY_YEAR_COLUMNS = columns_of("results/{release}/economics/costs_by_year.csv")
EXTRACTS = ("anbringelser_forloeb", "forebyggende", "sagsbehandlere", "regnskab")
#: the extracts of the reconciliation with the accounts (the rest of :data:`EXTRACTS` is prepared before)
RECONCILIATION_EXTRACTS = ("anbringelser_forloeb", "forebyggende", "regnskab")
PER_CHILD_YEAR = "DKK per treated child-year with an open case"
SHARE_OF_DRAWS = "share of bootstrap replications"


@dataclass(frozen=True)
class EconomicsResult(TidyResult):
    """Tables of the economics step (the files of :func:`run_economics`) and the bootstrap draws."""

    table: pd.DataFrame
    costs_by_year: pd.DataFrame
    ceac: pd.DataFrame
    reconciliation: pd.DataFrame
    budget: pd.DataFrame
    draws: pd.DataFrame

    def tidy(self) -> pd.DataFrame:
        """Return one row per item of :attr:`table` (``economics.csv``), the item as ``term``.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, unit, price_year``: the numbers of :attr:`table`;
            ``se`` and ``p_value`` NaN (the intervals are bootstrap percentile intervals).
        """
        return tidy_frame(self.table.rename(columns={"item": "term"}))

    def _heading(self) -> str:
        return f"Economics: {len(self.draws)} bootstrap replications, percentile intervals"


@dataclass(frozen=True)
class EconomicsData:
    """The data sets of :func:`effect_specs` and the bootstrap strata (:func:`economics_data`).

    Attributes
    ----------
    frames
        ``"child"``: the matched child-years of :func:`evaluation.steps.estimate.headline_sample` with ``cost``
        in the economics' prices (:func:`evaluation.steps.economics.data.child_sample`); ``"staff"``:
        municipality-years of caseworker FTE and cost per case
        (:func:`evaluation.steps.economics.data.municipality_panel`).
    covariates, controls
        The headline's covariate and age columns of the child sample.
    strata
        1 for adopting, 0 for never-adopting municipalities (index: municipality), the strata of the
        cluster bootstrap.
    """

    frames: dict[str, pd.DataFrame]
    covariates: list[str]
    controls: list[str]
    strata: pd.Series


def effect_specs(horizon_years: int) -> list[EffectSpec]:
    """Return the effects of the economics step, each re-estimated in every bootstrap replication."""
    return [
        EffectSpec("child", "child", "cost", horizon=horizon_years),
        EffectSpec("child", "child", "placement_rate"),
        EffectSpec("child", "child", "sdq"),
        EffectSpec("staff", "staff", "fte_per_case"),
        EffectSpec("staff", "staff", "cost_per_case"),
    ]


def economics_data(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
) -> EconomicsData:
    """Build the data sets of :func:`effect_specs` and the bootstrap strata (:class:`EconomicsData`)."""
    s: EconomicsSettings = economics_settings(config)
    factor = float(deflator([int(config["prices"]["price_year"])], s.index, price_year=s.price_year)[0])
    child, covariates, controls = child_sample(panel, matched, config, cost_factor=factor, progress=progress)
    staff = municipality_panel(extracts["sagsbehandlere"], panel, cost_factor=factor)
    strata = (
        pd.concat(
            [
                child[["municipality", "treated_unit"]],
                staff.assign(treated_unit=staff["treated"])[["municipality", "treated_unit"]],
            ]
        )
        .groupby("municipality")["treated_unit"]
        .max()
        .sort_index()
    )
    return EconomicsData({"child": child, "staff": staff}, covariates, controls, strata)


def fit_effect(
    data: EconomicsData, spec: EffectSpec, config: Mapping[str, Any], progress: Callable[[str], None] = print
) -> Any:
    """Return the imputation fit of one effect: the headline's own fit for child-years, :func:`staff_fit` for staff.

    Child-year outcomes use :func:`evaluation.steps.estimate.headline_fit` (municipality and year effects, the
    baseline covariates with year-specific coefficients, the age controls, the matching weights, and the
    headline's fallback when those are not identified), so the economics' effects are the headline's.
    """
    from evaluation.steps.estimate import headline_fit

    alpha = float(setting(config, "estimation", "alpha"))
    # the ATT and the follow-up years use every untreated row; the headline's placebo leads are not needed
    no_leads = {**config, "estimation": {**(config.get("estimation") or {}), "event_leads": 0}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if spec.data == "child":
                child = data.frames["child"]
                fit = headline_fit(child, spec.outcome, data.covariates, no_leads, controls=data.controls)
            else:
                fit = staff_fit(data.frames[spec.data], spec.outcome, alpha=alpha)
        except ModelNotIdentifiedError as exc:
            raise EvaluationError(f"economics: the effect on {spec.outcome!r} is not identified: {exc}") from exc
    for w in caught:
        progress(f"economics: {spec.data} {spec.outcome}: {w.message}")
    progress(f"economics: {fit.summary()}")
    return fit


def effect_moments(
    data: EconomicsData, config: Mapping[str, Any], progress: Callable[[str], None] = print
) -> list[ClusterMoments]:
    """Fit every effect of :func:`effect_specs` and return its per-municipality sufficient statistics.

    The moments reproduce the fits' estimates (checked) and are what the bootstrap resamples.
    """
    s = economics_settings(config)
    done: list[tuple[Any, ClusterMoments]] = []
    for spec in effect_specs(s.horizon_years):
        fit = fit_effect(data, spec, config, progress)
        done.append((fit, cluster_moments(fit, spec, data.strata.index, share=done)))
    return [m for _, m in done]


def prepare_economics(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
) -> EconomicsInputs:
    """Build the data sets, fit every effect and keep what the rest of the step needs (:class:`EconomicsInputs`).

    Parameters
    ----------
    extracts
        Ingested extracts by name (``sagsbehandlere`` is read).
    panel
        The cohort panel.
    matched
        Matched children (``person_id, weight``).
    config
        The validated study configuration (``economics``, ``prices``, ``estimation``, ``matching.covariates``).
    progress
        Called with progress messages (each fit's summary).

    Returns
    -------
    EconomicsInputs
        The per-municipality sums of every effect of :func:`effect_specs`, the bootstrap strata, the panel's
        years and its child-years in the last of them.
    """
    data = economics_data(extracts, panel, matched, config, progress)
    moments = effect_moments(data, config, progress)
    years = panel["year"].to_numpy(dtype=np.int64)
    calendar = tuple(sorted(int(y) for y in np.unique(years)))
    return EconomicsInputs(tuple(moments), data.strata, calendar, int((years == calendar[-1]).sum()))


def bootstrap_draws(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    part: tuple[int, int] | None = None,
    progress: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Return the effects of the bootstrap replications of the economics step (all, or the ``part`` of them).

    The same as :meth:`EconomicsInputs.bootstrap` of :func:`prepare_economics`; the pipeline prepares the
    inputs once (rule ``prepare_economics``) and each job of the rule ``economics_bootstrap`` runs one part
    of them. The parts of :func:`evaluation.methods.economics.resample.bootstrap_parts` concatenated in order equal
    the whole run.

    Returns
    -------
    pandas.DataFrame
        One row per replication (index ``replication``), one column per ``<name>:<outcome>:<statistic>``.
    """
    inputs = prepare_economics(extracts, panel, matched, config, progress)
    return inputs.bootstrap(config, part=part, progress=progress)


def estimate_economics(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    population_children: float,
    draws: pd.DataFrame | None = None,
    progress: Callable[[str], None] = print,
) -> EconomicsResult:
    """Run the economic evaluation (module docstring) on data frames.

    :func:`prepare_economics`, then :func:`economics_from_inputs`; the pipeline runs the two as separate
    rules, so that the bootstrap jobs share the prepared inputs.

    Parameters
    ----------
    extracts
        Ingested extracts by name (:data:`EXTRACTS`).
    panel
        The cohort panel.
    matched
        Matched children (``person_id, weight``).
    config
        The validated study configuration (``economics``, ``prices``, ``estimation``, ``matching``,
        ``disclosure.min_cell``).
    population_children
        Children aged 0-17 in the population in the panel's last year (for the national share of
        children with an open case used by the budget).
    draws
        The bootstrap replications of :func:`bootstrap_draws` (all of them, in order), when they were run
        as separate jobs; None runs the bootstrap here.
    progress
        Called with progress messages.

    Returns
    -------
    EconomicsResult
    """
    inputs = prepare_economics(extracts, panel, matched, config, progress)
    return economics_from_inputs(
        inputs, extracts, config, population_children=population_children, draws=draws, progress=progress
    )


def economics_from_inputs(
    inputs: EconomicsInputs,
    extracts: Mapping[str, pd.DataFrame],
    config: Mapping[str, Any],
    *,
    population_children: float,
    draws: pd.DataFrame | None = None,
    progress: Callable[[str], None] = print,
) -> EconomicsResult:
    """Run the economic evaluation (module docstring) from prepared inputs.

    Parameters
    ----------
    inputs
        The effects' per-municipality sums, the strata and the panel's years (:func:`prepare_economics`).
    extracts
        Ingested extracts by name: ``anbringelser_forloeb``, ``forebyggende`` and ``regnskab`` (the
        reconciliation with the accounts).
    config
        The validated study configuration (``economics``, ``prices``, ``estimation.alpha``,
        ``disclosure.min_cell``).
    population_children
        Children aged 0-17 in the population in the panel's last year (for the national share of
        children with an open case used by the budget).
    draws
        The bootstrap replications of :meth:`EconomicsInputs.bootstrap` (all of them, in order), when they
        were run as separate jobs; None runs the bootstrap here.
    progress
        Called with progress messages.

    Returns
    -------
    EconomicsResult
    """
    s: EconomicsSettings = economics_settings(config)
    prices0 = config["prices"]
    c_fte = cost_per_fte_year(s.caseworker_cost, s.index, price_year=s.price_year)
    moments = inputs.moments
    point = inputs.point_estimates()
    if draws is None:
        draws = inputs.bootstrap(config, part=None, progress=progress)
    expected = inputs.columns()
    if list(draws.columns) != expected or len(draws) != s.replications:
        raise EvaluationError(
            f"economics: the bootstrap draws have {len(draws)} rows and columns {list(draws.columns)}; expected "
            f"{s.replications} replications of {expected} (rerun the economics_bootstrap jobs)."
        )
    for m in moments:
        n_failed = int(draws[m.columns()].isna().any(axis=1).sum())
        if n_failed:
            progress(
                f"economics: {m.columns()[0].rsplit(':', 1)[0]}: {n_failed} of {s.replications} replications could "
                "not identify every effect (left out)"
            )

    def both(key: str) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(point[key]), draws[key].to_numpy()

    horizon = s.horizon_years
    cost_spec = effect_specs(horizon)[0]
    years = cost_spec.columns()[1:]
    delta, delta_d = both("staff:fte_per_case:att")
    cost, cost_d = both("child:cost:att")
    sdq, sdq_d = both("child:sdq:att")
    place, place_d = both("child:placement_rate:att")
    cost_mun, cost_mun_d = both("staff:cost_per_case:att")
    by_year = np.array([point[c] for c in years])
    by_year_d = np.column_stack([draws[c].to_numpy() for c in years])

    staff_cost, staff_cost_d = delta * c_fte, delta_d * c_fte
    net, net_d = net_cost(staff_cost, cost), net_cost(staff_cost_d, cost_d)
    net_y, net_y_d = net_cost(staff_cost, by_year), net_cost(staff_cost_d[:, None], by_year_d)
    cum_y, cum_y_d = (
        cumulative_net_cost(net_y, rate=s.discount_rate),
        cumulative_net_cost(net_y_d, rate=s.discount_rate),
    )
    pay, pay_d = payback_year(cum_y), payback_year(cum_y_d)
    estimated = ~np.isnan(cum_y_d).any(axis=1)  # replications whose costs of every follow-up year were estimated

    rows = []

    def add(item: str, est: float, interval: tuple[float, float], unit: str) -> None:
        rows.append((item, float(est), interval[0], interval[1], unit, s.price_year))

    pi = lambda d: percentile_interval(d, alpha=s.alpha)  # noqa: E731
    none = (np.nan, np.nan)
    span = f"{horizon} years"
    add("cost_per_fte_year", c_fte, none, "DKK per FTE-year incl. overheads")
    add("extra_fte_per_case_year", delta, pi(delta_d), "FTE per treated child-year with an open case")
    add("staff_cost_per_year", staff_cost, pi(staff_cost_d), PER_CHILD_YEAR)
    add("measure_cost_change_per_year", cost, pi(cost_d), PER_CHILD_YEAR)
    add(
        "measure_cost_change_per_year_municipality",
        cost_mun,
        pi(cost_mun_d),
        PER_CHILD_YEAR + " (municipality-year imputation DiD)",
    )
    add("net_cost_per_year", net, pi(net_d), PER_CHILD_YEAR)
    add("net_saving_probability", share_below_zero(net_d), none, f"{SHARE_OF_DRAWS} with a net cost below zero")
    add("cumulative_net_cost", cum_y[-1], pi(cum_y_d[:, -1]), f"{PER_CHILD_YEAR}, summed over {span}, discounted")
    add(
        "cumulative_saving_probability",
        share_below_zero(cum_y_d[:, -1]),
        none,
        f"{SHARE_OF_DRAWS} with a cumulative net cost over {span} below zero",
    )
    add(
        "payback_year",
        pay,
        payback_interval(pay_d[estimated], alpha=s.alpha),
        f"follow-up year (1 = adoption year; missing: later than year {horizon})",
    )
    add(
        "payback_probability",
        float(np.mean(~np.isnan(pay_d[estimated]))) if estimated.any() else np.nan,
        none,
        f"{SHARE_OF_DRAWS} that pay back within {span}",
    )
    add("sdq_change", sdq, pi(sdq_d), "SDQ points per treated child-year")
    add("placement_entry_change", place, pi(place_d), "placement entries per treated child-year (placement_rate)")
    add(
        "cost_per_sdq_point",
        cost_per_unit(net, -sdq),
        ratio_interval(net_d, -sdq_d, alpha=s.alpha),
        "DKK per SDQ point fewer difficulties",
    )
    add(
        "cost_per_avoided_placement",
        cost_per_unit(net, -place),
        ratio_interval(net_d, -place_d, alpha=s.alpha),
        "DKK per placement entry avoided",
    )
    add("discount_rate", s.discount_rate, none, "per year")

    # Reconciliation with the municipal accounts.
    calendar = list(inputs.years)
    per_child = acc.child_costs(
        extracts["anbringelser_forloeb"],
        extracts["forebyggende"],
        rebase_prices(prices0, s.index, price_year=s.price_year),
        calendar,
    )
    _, reconciliation = acc.reconcile(
        acc.aggregate_child_costs(per_child),
        extracts["regnskab"],
        s.index,
        price_year=s.price_year,
        min_cell=s.min_cell,
        dominated=acc.dominated_cells(per_child, s.min_cell),
    )
    total = reconciliation.loc[(reconciliation["year"] == 0) & (reconciliation["function"] == "total")]
    add(
        "micro_costing_share_of_accounts",
        float(total["share_explained"].iloc[0]),
        none,
        "share of 5.28 spending",
    )
    table = pd.DataFrame(rows, columns=ECONOMICS_COLUMNS)

    # Costs by follow-up year.
    n_bin = next(m for m in moments if m.spec == cost_spec).treated_rows
    year_rows = []
    for item, est, dr in (
        ("staff_cost", np.full(horizon, float(staff_cost)), np.repeat(staff_cost_d[:, None], horizon, axis=1)),
        ("measure_cost_change", by_year, by_year_d),
        ("net_cost", net_y, net_y_d),
        ("cumulative_net_cost", cum_y, cum_y_d),
    ):
        for k in range(horizon):
            small = n_bin[k] < s.min_cell
            lo, hi = pi(dr[:, k])
            year_rows.append(
                (
                    k + 1,
                    item,
                    np.nan if small else float(est[k]),
                    np.nan if small else lo,
                    np.nan if small else hi,
                    pd.NA if small else int(n_bin[k]),
                )
            )
    costs_by_year = pd.DataFrame(year_rows, columns=BY_YEAR_COLUMNS)
    costs_by_year["n_treated_child_years"] = costs_by_year["n_treated_child_years"].astype("Int64")

    ceac = acceptability_curve(net_d, -sdq_d, wtp_grid(s.ceac_max_wtp, s.ceac_steps)).assign(unit="DKK per SDQ point")

    share_open = inputs.last_year_cases / float(population_children)
    k_cases = s.budget_case_open_children or s.budget_children * share_open
    progress(
        f"economics: budget for a municipality of {s.budget_children:,.0f} children: {k_cases:,.0f} child-years "
        f"with an open case a year (national share {share_open:.3f})"
    )
    budget = budget_consequences(
        k_cases,
        fte_per_case=float(delta),
        fte_per_case_draws=delta_d,
        cost_per_fte=c_fte,
        measure_change=by_year,
        measure_change_draws=by_year_d,
        rate=s.discount_rate,
        alpha=s.alpha,
    ).assign(price_year=s.price_year)
    for r in table.itertuples():
        progress(f"economics: {r.item}: {r.estimate:,.4g} [{r.ci_low:,.4g}; {r.ci_high:,.4g}] {r.unit}")
    return EconomicsResult(table, costs_by_year, ceac, reconciliation, budget, draws)


def run_prepare_economics(
    interim_dir: Path,
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    out_path: Path,
    progress: Callable[[str], None] = print,
) -> None:
    """Pipeline step ``prepare_economics``: the inputs of the bootstrap and the estimates, to ``out_path`` (``.npz``).

    Parameters
    ----------
    interim_dir
        Folder of the ingested extracts (``sagsbehandlere``).
    panel_path
        The cohort panel (Parquet).
    matched_path
        Matched children with weights (Parquet).
    config
        The validated study configuration.
    out_path
        Output file of :meth:`EconomicsInputs.write`.
    progress
        Called with progress messages.
    """
    extracts = read_extracts(interim_dir, ("sagsbehandlere",), step="economics")
    inputs = prepare_economics(
        extracts, pd.read_parquet(panel_path), pd.read_parquet(matched_path), config, progress=progress
    )
    inputs.write(Path(out_path))
    progress(
        f"economics: wrote the sums of {len(inputs.moments)} effects over {len(inputs.strata)} municipalities to "
        f"{out_path}"
    )


def run_economics(
    interim_dir: Path,
    inputs_path: Path,
    config: Mapping[str, Any],
    economics_path: Path,
    figures_dir: Path,
    progress: Callable[[str], None] = print,
    draws_paths: list[Path] | None = None,
) -> None:
    """Pipeline step ``estimate_economics``: write ``results/economics.csv`` and the tables under ``figures_dir``.

    Parameters
    ----------
    interim_dir
        Folder of the ingested extracts (``anbringelser_forloeb``, ``forebyggende``, ``regnskab`` and
        ``befolkning``).
    inputs_path
        The prepared inputs (:func:`run_prepare_economics`).
    config
        The validated study configuration.
    economics_path
        Output CSV (:data:`ECONOMICS_COLUMNS`).
    figures_dir
        Folder for ``ceac.csv``, ``costs_by_year.csv``, ``reconciliation.csv`` and ``budget.csv``.
    progress
        Called with progress messages.
    draws_paths
        Parquet files of :func:`run_economics_bootstrap`, one per part, in order; None runs the bootstrap
        in this step.
    """
    inputs = EconomicsInputs.read(Path(inputs_path))
    extracts = read_extracts(interim_dir, RECONCILIATION_EXTRACTS, step="economics")
    draws = None
    if draws_paths is not None:
        draws = pd.concat([pd.read_parquet(path).set_index("replication") for path in draws_paths])
        progress(f"economics: {len(draws)} bootstrap replications gathered from {len(draws_paths)} jobs")
    min_age, max_age = (int((config.get("cohort") or {}).get(k, d)) for k, d in (("min_age", 0), ("max_age", 17)))
    last = inputs.years[-1]
    pop = pd.read_parquet(
        Path(interim_dir) / "befolkning.parquet", columns=["year", "birth_date"], filters=[("year", "==", last)]
    )
    birth = pd.to_datetime(pop["birth_date"])
    age = last - birth.dt.year - 1  # age on 1 January (nobody is born on 1 January in the contract's rule)
    age = age + ((birth.dt.month == 1) & (birth.dt.day == 1)).astype("int64")
    n_children = float(age.between(min_age, max_age).sum())
    res = economics_from_inputs(
        inputs, extracts, config, population_children=n_children, draws=draws, progress=progress
    )
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    Path(economics_path).parent.mkdir(parents=True, exist_ok=True)
    outputs = {
        Path(economics_path): res.table,
        figures_dir / "costs_by_year.csv": res.costs_by_year,
        figures_dir / "ceac.csv": res.ceac,
        figures_dir / "reconciliation.csv": res.reconciliation,
        figures_dir / "budget.csv": res.budget,
    }
    for path, frame in outputs.items():
        write_csv(frame, path)
    progress(f"economics: wrote {economics_path} and {len(outputs) - 1} tables to {figures_dir}")


def run_economics_bootstrap(
    inputs_path: Path,
    config: Mapping[str, Any],
    part: int,
    out_path: Path,
    progress: Callable[[str], None] = print,
) -> None:
    """Pipeline step ``economics_bootstrap``: one part of the bootstrap replications, to ``out_path`` (Parquet).

    The replications are split by :func:`evaluation.methods.economics.resample.bootstrap_parts` into
    ``economics.bootstrap.jobs`` parts; ``part`` is the 0-based number of this one. The part is drawn from
    the prepared inputs (:func:`run_prepare_economics`), so the job neither reads the data nor fits.
    """
    from evaluation.io import write_table
    from evaluation.methods.economics.resample import bootstrap_parts

    s = economics_settings(config)
    parts = bootstrap_parts(s.replications, s.jobs)
    if not 0 <= part < len(parts):
        raise EvaluationError(f"economics: bootstrap part {part} does not exist; there are {len(parts)} parts.")
    inputs = EconomicsInputs.read(Path(inputs_path))
    draws = inputs.bootstrap(config, part=parts[part], progress=progress)
    write_table(draws.reset_index(), Path(out_path))
    progress(f"economics: wrote replications {parts[part][0] + 1}-{parts[part][1]} to {out_path}")
