"""The economics step: from the ingested extracts, the panel and the matched sample to ``results/economics*``.

:func:`estimate_economics` is pure (data frames in, tables out); :func:`run_economics`
reads and writes the files of the Snakemake rule. The estimates are all per treated
child-year with an open case, in fixed prices of the price year:

* effects from the matched two-way fixed-effects DiD (:func:`evaluation.panel.fixed_effects`,
  as the main analysis of :mod:`evaluation.estimate`): cost per child-year (pooled and by
  follow-up year), SDQ and placement entries; the staff effect from the municipality-year
  DiD of FTE per child-year with an open case (:mod:`evaluation.economics.staff`);
* confidence intervals: percentile intervals of the stratified municipality-cluster
  bootstrap (:mod:`evaluation.economics.resample`), all quantities from the same draws;
* net cost, cumulative (discounted) net cost, payback year and cost-effectiveness ratios
  (:mod:`evaluation.economics.net`), the acceptability curve (:mod:`evaluation.economics.ceac`),
  the budget consequences (:mod:`evaluation.economics.budget`) and the reconciliation with
  the municipal accounts (:mod:`evaluation.economics.accounts`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.economics import accounts as acc
from evaluation.economics.budget import budget_consequences
from evaluation.economics.ceac import acceptability_curve, wtp_grid
from evaluation.economics.data import child_sample, event_columns, municipality_panel, placement_entries
from evaluation.economics.net import cost_per_unit, cumulative_net_cost, net_cost, payback_year, ratio_interval
from evaluation.economics.prices import deflator, rebase_prices
from evaluation.economics.resample import EffectSpec, cluster_bootstrap, percentile_interval
from evaluation.economics.settings import EconomicsSettings, economics_settings
from evaluation.economics.staff import cost_per_fte_year
from evaluation.errors import EvaluationError
from evaluation.io import read_extracts

__all__ = [
    "ECONOMICS_COLUMNS",
    "EXTRACTS",
    "EconomicsResult",
    "bootstrap_draws",
    "economics_frames",
    "effect_specs",
    "estimate_economics",
    "run_economics",
    "run_economics_bootstrap",
]

ECONOMICS_COLUMNS = ["item", "estimate", "ci_low", "ci_high", "unit", "price_year"]
BY_YEAR_COLUMNS = ["followup_year", "item", "estimate", "ci_low", "ci_high", "n_treated_child_years"]
EXTRACTS = ("anbringelser_forloeb", "forebyggende", "anbringelser_haendelser", "sagsbehandlere", "regnskab")
FLOAT_FORMAT = "%.6f"
PER_CHILD_YEAR = "DKK per treated child-year with an open case"


@dataclass(frozen=True)
class EconomicsResult:
    """Tables of the economics step (the files of :func:`run_economics`) and the bootstrap draws."""

    table: pd.DataFrame
    costs_by_year: pd.DataFrame
    ceac: pd.DataFrame
    reconciliation: pd.DataFrame
    budget: pd.DataFrame
    draws: pd.DataFrame


def _point(frame: pd.DataFrame, spec: EffectSpec, alpha: float, progress: Callable[[str], None]) -> dict[str, float]:
    """Full-sample coefficients of a spec with :func:`evaluation.panel.fixed_effects` (its warnings logged)."""
    from evaluation.panel import fixed_effects

    out = {}
    for outcome in spec.outcomes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fe = fixed_effects(
                frame,
                outcome=outcome,
                regressors=list(spec.regressors),
                unit=spec.unit,
                time=spec.time,
                cluster="municipality",
                weights=spec.weights,
                alpha=alpha,
            )
        for w in caught:
            progress(f"economics: {spec.name} {outcome}: {w.message}")
        for r in spec.regressors:
            out[f"{spec.name}:{outcome}:{r}"] = float(fe.table.loc[r, "coef"])
    return out


def _payback_interval(draws: np.ndarray, alpha: float) -> tuple[float, float]:
    """Percentile interval of payback years; a draw not repaid within the follow-up counts as beyond it."""
    v = np.where(np.isnan(draws), np.inf, draws)
    if not v.size:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return (float(lo) if np.isfinite(lo) else float("nan")), (float(hi) if np.isfinite(hi) else float("nan"))


def effect_specs(horizon_years: int) -> list[EffectSpec]:
    """Return the regressions of the economics step, each repeated in every bootstrap replication."""
    return [
        EffectSpec("child", "child", ("cost", "placement_entry"), ("treated",), "person_id", weights="weight"),
        EffectSpec("followup", "child", ("cost",), tuple(event_columns(horizon_years)), "person_id", weights="weight"),
        EffectSpec("sdq", "child", ("sdq",), ("treated",), "person_id", weights="weight"),
        EffectSpec(
            "staff", "staff", ("fte_per_case", "cost_per_case"), ("treated",), "municipality", weights="case_years"
        ),
    ]


def economics_frames(
    extracts: Mapping[str, pd.DataFrame], panel: pd.DataFrame, matched: pd.DataFrame, config: Mapping[str, Any]
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Build the data sets of :func:`effect_specs` and the bootstrap strata.

    Returns
    -------
    frames : dict
        ``"child"``: matched child-years with costs in fixed prices, follow-up indicators, SDQ and
        placement entries (:func:`evaluation.economics.data.child_sample`); ``"staff"``: municipality-years
        of caseworker FTE and cost per case (:func:`evaluation.economics.data.municipality_panel`).
    strata : pandas.Series
        1 for adopting, 0 for never-adopting municipalities (index: municipality), the strata of the
        cluster bootstrap.
    """
    s: EconomicsSettings = economics_settings(config)
    factor = float(deflator([int(config["prices"]["price_year"])], s.index, price_year=s.price_year)[0])
    child = child_sample(
        panel,
        matched,
        placement_entries(extracts["anbringelser_haendelser"]),
        horizon=s.horizon_years,
        cost_factor=factor,
    )
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
    return {"child": child, "staff": staff}, strata


def bootstrap_draws(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    part: tuple[int, int] | None = None,
    progress: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Return the coefficients of the bootstrap replications of the economics step (all, or the ``part`` of them).

    One job of the rule ``economics_bootstrap`` runs one part; the parts of
    :func:`evaluation.economics.resample.bootstrap_parts` concatenated in order equal the whole run.

    Returns
    -------
    pandas.DataFrame
        One row per replication (index ``replication``), one column per ``<spec>:<outcome>:<regressor>``.
    """
    frames, strata = economics_frames(extracts, panel, matched, config)
    return _bootstrap(frames, strata, economics_settings(config), part=part, progress=progress)


def _bootstrap(
    frames: Mapping[str, pd.DataFrame],
    strata: pd.Series,
    s: EconomicsSettings,
    *,
    part: tuple[int, int] | None,
    progress: Callable[[str], None],
) -> pd.DataFrame:
    """Run the cluster bootstrap of :func:`effect_specs` on the frames of :func:`economics_frames`."""
    where = "" if part is None else f", replications {part[0] + 1}-{part[1]}"
    progress(
        f"economics: bootstrap of {s.replications} replications over {len(strata)} municipalities "
        f"({int(strata.sum())} adopting), seed {s.seed}{where}"
    )
    boot = cluster_bootstrap(
        frames,
        effect_specs(s.horizon_years),
        strata,
        replications=s.replications,
        seed=s.seed,
        progress=progress,
        part=part,
    )
    return boot.draws


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

    Parameters
    ----------
    extracts
        Ingested extracts by name (:data:`EXTRACTS`).
    panel
        The cohort panel.
    matched
        Matched children (``person_id, weight``).
    config
        The validated study configuration (``economics``, ``prices``, ``estimation.alpha``,
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
    s: EconomicsSettings = economics_settings(config)
    prices0 = config["prices"]
    c_fte = cost_per_fte_year(s.caseworker_cost, s.index, price_year=s.price_year)
    events = event_columns(s.horizon_years)
    frames, strata = economics_frames(extracts, panel, matched, config)
    child = frames["child"]
    specs = effect_specs(s.horizon_years)
    point: dict[str, float] = {}
    for spec in specs:
        point.update(_point(frames[spec.data], spec, s.alpha, progress))
    if draws is None:
        draws = _bootstrap(frames, strata, s, part=None, progress=progress)
    expected = [c for spec in specs for c in spec.columns()]
    if list(draws.columns) != expected or len(draws) != s.replications:
        raise EvaluationError(
            f"economics: the bootstrap draws have {len(draws)} rows and columns {list(draws.columns)}; expected "
            f"{s.replications} replications of {expected} (rerun the economics_bootstrap jobs)."
        )
    for spec in specs:
        n_failed = int(draws[spec.columns()].isna().any(axis=1).sum())
        if n_failed:
            progress(
                f"economics: {spec.name}: {n_failed} of {s.replications} replications could not identify an "
                "effect (left out)"
            )

    def both(key: str) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(point[key]), draws[key].to_numpy()

    delta, delta_d = both("staff:fte_per_case:treated")
    cost, cost_d = both("child:cost:treated")
    sdq, sdq_d = both("sdq:sdq:treated")
    place, place_d = both("child:placement_entry:treated")
    cost_mun, cost_mun_d = both("staff:cost_per_case:treated")
    by_year = np.array([point[f"followup:cost:{e}"] for e in events])
    by_year_d = np.column_stack([draws[f"followup:cost:{e}"].to_numpy() for e in events])

    staff_cost, staff_cost_d = delta * c_fte, delta_d * c_fte
    net, net_d = net_cost(staff_cost, cost), net_cost(staff_cost_d, cost_d)
    net_y, net_y_d = net_cost(staff_cost, by_year), net_cost(staff_cost_d[:, None], by_year_d)
    cum_y, cum_y_d = (
        cumulative_net_cost(net_y, rate=s.discount_rate),
        cumulative_net_cost(net_y_d, rate=s.discount_rate),
    )
    pay, pay_d = payback_year(cum_y), payback_year(cum_y_d)

    rows = []

    def add(item: str, est: float, interval: tuple[float, float], unit: str) -> None:
        rows.append((item, float(est), interval[0], interval[1], unit, s.price_year))

    pi = lambda d: percentile_interval(d, alpha=s.alpha)  # noqa: E731
    horizon = f"{s.horizon_years} years"
    add("cost_per_fte_year", c_fte, (np.nan, np.nan), "DKK per FTE-year incl. overheads")
    add("extra_fte_per_case_year", delta, pi(delta_d), "FTE per treated child-year with an open case")
    add("staff_cost_per_year", staff_cost, pi(staff_cost_d), PER_CHILD_YEAR)
    add("measure_cost_change_per_year", cost, pi(cost_d), PER_CHILD_YEAR)
    add(
        "measure_cost_change_per_year_municipality",
        cost_mun,
        pi(cost_mun_d),
        PER_CHILD_YEAR + " (municipality-year DiD)",
    )
    add("net_cost_per_year", net, pi(net_d), PER_CHILD_YEAR)
    add("cumulative_net_cost", cum_y[-1], pi(cum_y_d[:, -1]), f"{PER_CHILD_YEAR}, summed over {horizon}, discounted")
    add(
        "payback_year",
        pay,
        _payback_interval(pay_d[~np.isnan(cum_y_d).any(axis=1)], s.alpha),
        f"follow-up year (1 = adoption year; missing: not within {horizon})",
    )
    add("sdq_change", sdq, pi(sdq_d), "SDQ points per treated child-year")
    add("placement_entry_change", place, pi(place_d), "placement entries per treated child-year")
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
    add("discount_rate", s.discount_rate, (np.nan, np.nan), "per year")

    # Reconciliation with the municipal accounts.
    years = sorted(int(y) for y in panel["year"].unique())
    per_child = acc.child_costs(
        extracts["anbringelser_forloeb"],
        extracts["forebyggende"],
        rebase_prices(prices0, s.index, price_year=s.price_year),
        years,
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
        (np.nan, np.nan),
        "share of 5.28 spending",
    )
    table = pd.DataFrame(rows, columns=ECONOMICS_COLUMNS)

    # Costs by follow-up year.
    n_bin = np.array([int(child[e].sum()) for e in events])
    year_rows = []
    for item, est, dr in (
        ("staff_cost", np.full(len(events), float(staff_cost)), np.repeat(staff_cost_d[:, None], len(events), axis=1)),
        ("measure_cost_change", by_year, by_year_d),
        ("net_cost", net_y, net_y_d),
        ("cumulative_net_cost", cum_y, cum_y_d),
    ):
        for k in range(len(events)):
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

    share_open = panel.loc[panel["year"] == years[-1]].shape[0] / float(population_children)
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


def run_economics(
    interim_dir: Path,
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    economics_path: Path,
    figures_dir: Path,
    progress: Callable[[str], None] = print,
    draws_paths: list[Path] | None = None,
) -> None:
    """Pipeline step: write ``results/economics.csv`` and the figure tables under ``figures_dir``.

    Parameters
    ----------
    interim_dir
        Folder of the ingested extracts (:data:`EXTRACTS` and ``befolkning``).
    panel_path
        The cohort panel (Parquet).
    matched_path
        Matched children with weights (Parquet).
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
    extracts = read_extracts(interim_dir, EXTRACTS, step="economics")
    panel = pd.read_parquet(panel_path)
    matched = pd.read_parquet(matched_path)
    draws = None
    if draws_paths is not None:
        draws = pd.concat([pd.read_parquet(path).set_index("replication") for path in draws_paths])
        progress(f"economics: {len(draws)} bootstrap replications gathered from {len(draws_paths)} jobs")
    min_age, max_age = (int((config.get("cohort") or {}).get(k, d)) for k, d in (("min_age", 0), ("max_age", 17)))
    last = int(panel["year"].max())
    pop = pd.read_parquet(
        Path(interim_dir) / "befolkning.parquet", columns=["year", "birth_date"], filters=[("year", "==", last)]
    )
    birth = pd.to_datetime(pop["birth_date"])
    age = last - birth.dt.year - 1  # age on 1 January (nobody is born on 1 January in the contract's rule)
    age = age + ((birth.dt.month == 1) & (birth.dt.day == 1)).astype("int64")
    n_children = float(age.between(min_age, max_age).sum())
    res = estimate_economics(
        extracts, panel, matched, config, population_children=n_children, draws=draws, progress=progress
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
        frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    progress(f"economics: wrote {economics_path} and {len(outputs) - 1} tables to {figures_dir}")


def run_economics_bootstrap(
    interim_dir: Path,
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    part: int,
    out_path: Path,
    progress: Callable[[str], None] = print,
) -> None:
    """Pipeline step ``economics_bootstrap``: one part of the bootstrap replications, to ``out_path`` (Parquet).

    The replications are split by :func:`evaluation.economics.resample.bootstrap_parts` into
    ``economics.bootstrap.jobs`` parts; ``part`` is the 0-based number of this one.
    """
    from evaluation.economics.resample import bootstrap_parts
    from evaluation.io import write_table

    s = economics_settings(config)
    parts = bootstrap_parts(s.replications, s.jobs)
    if not 0 <= part < len(parts):
        raise EvaluationError(f"economics: bootstrap part {part} does not exist; there are {len(parts)} parts.")
    extracts = read_extracts(interim_dir, ("anbringelser_haendelser", "sagsbehandlere"), step="economics")
    draws = bootstrap_draws(
        extracts,
        pd.read_parquet(panel_path),
        pd.read_parquet(matched_path),
        config,
        part=parts[part],
        progress=progress,
    )
    write_table(draws.reset_index(), Path(out_path))
    progress(f"economics: wrote replications {parts[part][0] + 1}-{parts[part][1]} to {out_path}")
