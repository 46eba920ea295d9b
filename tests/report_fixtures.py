"""Hand-made results of the economics and staggered steps, for the report tests (not pipeline output).

Column names follow the producers: ``evaluation.steps.economics`` (economics.csv and
economics/*.csv), ``evaluation.steps.staggered.run`` (estimate/*.csv) and
``evaluation.steps.fewclusters`` (estimate/inference.csv, power/mde.csv) and
``evaluation.disclosure.write_summary`` (disclosure/summary.csv); the balance
file has the eCDF statistics and flags of ``evaluation.methods.matching.balance``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.disclosure import SuppressionRecord, write_summary
from evaluation.report.inputs import declared


def write_result(frame: pd.DataFrame, path: Path) -> Path:
    """Write a hand-made results table at ``path`` with every column the results registry declares for it.

    The file is found by the end of ``path`` (``.../estimates.csv``, ``.../economics/ceac.csv``). Declared
    columns the test leaves out are written empty (``number``, ``text``) or False (``flag``), in the declared
    order, so that a fixture holds exactly what the pipeline writes. A column the registry does not declare
    is an error: the fixture would test a table the pipeline never writes.
    """
    parts = Path(path).parts
    try:
        entry = declared("/".join(parts[-2:]))
    except KeyError:
        entry = declared(parts[-1])
    extra = [c for c in frame.columns if c not in entry.kinds]
    if extra:
        raise KeyError(f"{path}: columns {extra} are not declared for {entry.path}")
    out = frame.copy()
    for name, kind in entry.kinds.items():
        if name not in out.columns:
            out[name] = False if kind == "flag" else np.nan
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out[entry.names].to_csv(path, index=False)
    return Path(path)


ECONOMICS = [
    # item, estimate, ci_low, ci_high, unit
    ("cost_per_fte_year", 700000.0, None, None, "DKK per FTE-year incl. overheads"),
    ("extra_fte_per_case_year", 0.021, 0.0144, 0.0276, "FTE per treated child-year with an open case"),
    ("staff_cost_per_year", 14700.0, 10100.0, 19300.0, "DKK per treated child-year with an open case"),
    ("measure_cost_change_per_year", -10823.4, -35420.6, 10220.5, "DKK per treated child-year with an open case"),
    ("net_cost_per_year", 3876.6, -21454.3, 25203.5, "DKK per treated child-year with an open case"),
    ("cumulative_net_cost", -12350.4, -187846.2, 151059.3, "DKK, summed over 5 years, discounted"),
    ("payback_year", 5.0, 1.0, None, "follow-up year (1 = adoption year; missing: not within 5 years)"),
    ("sdq_change", -1.25, -1.51, -0.96, "SDQ points per treated child-year"),
    ("placement_entry_change", -0.0066, -0.0262, 0.0147, "placement entries per treated child-year"),
    ("cost_per_sdq_point", 3101.3, -17502.3, 21600.6, "DKK per SDQ point fewer difficulties"),
    ("cost_per_avoided_placement", 587363.6, None, None, "DKK per placement entry avoided"),
    ("discount_rate", 0.035, None, None, "per year"),
    ("micro_costing_share_of_accounts", 0.8485, None, None, "share of 5.28 spending"),
]
COSTS = {  # item -> estimates of follow-up years 1..3 (3 collects later years); ci = estimate -/+ 10000
    "staff_cost": [14700.0, 14700.0, 14700.0],
    "measure_cost_change": [-2158.9, -15743.1, -40002.3],
    "net_cost": [12541.1, -1043.1, -25302.3],
    "cumulative_net_cost": [12541.1, 11533.2, -12097.0],
}
CHILD_YEARS = [657, 3, 1859]  # 3 child-years in year 2: below min_cell 5


def write_later_results(results: Path) -> Path:
    """Write economics, staggered-DiD and balance results (with eCDF and flags) under ``results``."""
    (results / "economics").mkdir(parents=True, exist_ok=True)
    (results / "estimate").mkdir(parents=True, exist_ok=True)
    (results / "compare").mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(ECONOMICS, columns=["item", "estimate", "ci_low", "ci_high", "unit"]).assign(price_year=2019)
    frame.pipe(write_result, results / "economics.csv")
    rows = [
        (year + 1, item, value, value - 10000, value + 10000, CHILD_YEARS[year])
        for item, values in COSTS.items()
        for year, value in enumerate(values)
    ]
    columns = ["followup_year", "item", "estimate", "ci_low", "ci_high", "n_treated_child_years"]
    pd.DataFrame(rows, columns=columns).pipe(write_result, results / "economics" / "costs_by_year.csv")
    pd.DataFrame(
        {
            "wtp_dkk_per_unit": [0.0, 10000.0, 20000.0, 30000.0],
            "probability_cost_effective": [0.4269, 0.75, 0.96, 1.0],
            "n_draws": 499,
            "unit": "DKK per SDQ point",
        }
    ).pipe(write_result, results / "economics" / "ceac.csv")
    pd.DataFrame(
        [
            (0, "total", 650e6, 552.5e6, 0.85, 1334),
            (2010, "5.28.20", 80e6, 68e6, 0.85, 181),
            (2010, "5.28.23", 90e6, None, None, None),
            (2010, "total", 300e6, 255e6, 0.85, 719),
            (2011, "total", 350e6, 297.5e6, 0.85, 762),
        ],
        columns=["year", "function", "accounts_dkk", "micro_dkk", "share_explained", "n_children"],
    ).pipe(write_result, results / "economics" / "reconciliation.csv")
    budget = []
    for year, (fte, staff, measure, net, cumulative) in enumerate(
        [(38.94, 27.41e6, -4.02e6, 23.39e6, 23.39e6), (38.94, 27.41e6, -29.3e6, -1.89e6, 21.57e6)], start=1
    ):
        for item, value in (
            ("extra_fte", fte),
            ("staff_cost", staff),
            ("measure_cost_change", measure),
            ("net_cost", net),
            ("cumulative_net_cost", cumulative),
        ):
            budget.append((year, item, value, value - 5e6, value + 5e6, "DKK", 2019))
    pd.DataFrame(budget, columns=["budget_year", "item", "estimate", "ci_low", "ci_high", "unit", "price_year"]).pipe(
        write_result, results / "economics" / "budget.csv"
    )
    _staggered(results / "estimate")
    write_inference_results(results)
    write_disclosure_summary(results)
    pd.DataFrame(
        {
            "covariate": ["sex", "age_at_entry", "parent_basic_education", "prior_notifications"],
            "type": ["binary", "continuous", "binary", "continuous"],
            "smd_before": [0.02, 0.15, 0.31, -0.22],
            "smd_after": [0.0, 0.03, 0.041, -0.02],
            "var_ratio_before": [None, 1.1, None, 1.4],
            "var_ratio_after": [None, 1.02, None, 2.3],
            "ecdf_mean_before": [0.02, 0.05, 0.31, 0.04],
            "ecdf_mean_after": [0.0, 0.01, 0.041, 0.01],
            "ecdf_max_before": [0.02, 0.09, 0.31, 0.08],
            "ecdf_max_after": [0.0, 0.0234, 0.041, 0.03],
            "smd_flag": [False, False, False, False],
            "var_ratio_flag": [False, False, False, True],
        }
    ).pipe(write_result, results / "compare" / "balance.csv")
    return results


def _staggered(folder: Path) -> None:
    nvr = []
    for outcome, scale in (("sdq", 1.0), ("cost_per_child", 10000.0), ("school_absence", 0.5)):
        for estimator, value in (("did_2x2", -2.24), ("twfe", -1.04), ("cs_simple", -1.43), ("cs_dynamic", -1.63)):
            est = value * scale
            nvr.append((outcome, estimator, est, 0.3 * scale, est - 0.6 * scale, est + 0.6 * scale, 0.0004, 17, 78, ""))
    columns = ["outcome", "estimator", "estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"]
    pd.DataFrame(nvr, columns=[*columns, "label"]).pipe(write_result, folder / "naive_vs_robust.csv")
    write_bacon(folder)
    write_headline_event_study(folder)
    events = []
    for outcome, scale in (("sdq", 1.0), ("cost_per_child", 10000.0), ("school_absence", 0.5)):
        for t in range(-3, 4):
            att = 0.0 if t == -1 else (-1.0 if t >= 0 else 0.1) * scale
            se = None if t == -1 else 0.2 * scale
            low, high = (None, None) if se is None else (att - 2 * se, att + 2 * se)
            band = (None, None) if se is None else (att - 3 * se, att + 3 * se)
            events.append((outcome, t, att, se, low, high, *band, int(t < 0), 17 if t > -3 else None))
    columns = ["outcome", "event_time", "att", "se", "ci_low", "ci_high", "band_low", "band_high", "pre", "n_treated"]
    pd.DataFrame(events, columns=columns).pipe(write_result, folder / "event_study.csv")
    pd.DataFrame(
        {
            "outcome": ["sdq", "cost_per_child", "school_absence"],
            "statistic": [77.07, 3.21, None],
            "df": [10, 10, 0],
            "p_value": [0.0000001, 0.976, None],
        }
    ).pipe(write_result, folder / "pretrend.csv")
    pd.DataFrame(
        [
            ("sdq", "life_phase", "0-6", -1.63, 0.63, -2.86, -0.40, 0.009, 3260),
            ("sdq", "life_phase", "7-13", -1.28, 0.41, -2.08, -0.48, 0.002, 4101),
            ("sdq", "sex", "female", -1.26, 0.28, -1.81, -0.72, 0.00001, 4882),
            ("sdq", "prior_placement", "yes", -1.12, 0.51, -2.12, -0.12, 0.028, None),
            ("cost_per_child", "sex", "male", -41071.7, 23853.3, -87823.3, 5679.8, 0.085, 5921),
        ],
        columns=["outcome", "subgroup_variable", "subgroup", "estimate", "se", "ci_low", "ci_high", "p_value", "n"],
    ).pipe(write_result, folder / "heterogeneity.csv")
    pd.DataFrame(
        [
            ("sdq", "caseload_per_worker", 10.0, 1, 0.0256, 0.0444, -0.0626, 0.1137, 0.566, 98, 1356),
            ("cost_per_child", "caseload_per_worker", 10.0, 1, 2382.9, 2057.4, -1700.5, 6466.3, 0.2496, 98, 1357),
            ("school_absence", "caseload_per_worker", 10.0, 1, 0.0085, 0.053, -0.0967, 0.1137, 0.872, 98, 1349),
        ],
        columns=["outcome", "exposure", "per", "control_for_reform", "estimate", "se", "ci_low", "ci_high", "p_value",
                 "n_municipalities", "n_municipality_years"],
    ).pipe(write_result, folder / "dose_response.csv")  # fmt: skip
    pd.DataFrame(
        [
            ("main", "cost_per_child", "did_imputation", "primary", -10823.0, 0.4076, 0.4076, 0.4076),
            ("staggered", "cost_per_child", "cs_simple", "primary", -25975.9, 0.0665, 0.1330, 0.0886),
            ("main", "sdq", "did_imputation", "primary", -1.25, 0.0000001, 0.0000004, 0.0000002),
            ("staggered", "sdq", "cs_simple", "primary", -1.43, 0.030, 0.060, 0.040),
            ("main", "school_absence", "did_imputation", "secondary", -0.92, 0.000001, 0.000002, 0.000002),
            ("staggered", "school_absence", "cs_simple", "secondary", -0.87, 0.2, 0.2, 0.2),
        ],
        columns=["analysis", "outcome", "estimator", "family", "estimate", "p_value", "p_holm", "p_bh"],
    ).pipe(write_result, folder / "multiplicity.csv")


#: Goodman-Bacon rows of one outcome: comparison, treated cohort, control cohort, weight, estimate (weights sum to 1)
BACON = [
    ("treated_vs_never", 2013, 0, 0.25, -2.0),
    ("treated_vs_never", 2015, 0, 0.35, -1.0),
    ("earlier_vs_later", 2013, 2015, 0.1, -1.5),
    ("later_vs_earlier", 2015, 2013, 0.3, 0.5),
]


def write_headline_event_study(folder: Path) -> None:
    """Write the headline's ``event_study_main.csv``, ``pretrend_main.csv`` and ``honest_did.csv`` (estimate_effects).

    Event times -3..4 of SDQ and cost (x 10000); event time 4 rests on two adopters (flagged, no interval).
    Placebo F tests: SDQ F = 0.82 (4 and 97 df, p = 0.515); cost F = 3.10 (p = 0.019). HonestDiD: SDQ breaks down
    at M-bar 1.5 (relative magnitudes) and beyond the grid under smoothness.
    """
    rows = []
    for outcome, scale in (("sdq", 1.0), ("cost_per_child", 10000.0)):
        for e in range(-3, 5):
            est = (0.1 * (e % 2) if e < 0 else -1.0 - 0.2 * e) * scale
            few = int(e == 4)
            lo, hi = (None, None) if few else (est - 0.5 * scale, est + 0.5 * scale)
            rows.append((outcome, e, est, 0.25 * scale, lo, hi, None if few else 0.04, int(e < 0), 2 if few else 17,
                         few, 400 - 30 * e, "wild_cluster_bootstrap"))  # fmt: skip
    columns = ["outcome", "event_time", "estimate", "se", "ci_low", "ci_high", "p_value", "pre",
               "n_treated_municipalities", "few_municipalities", "n_child_years", "inference"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame["n_treated_municipalities"] = frame["n_treated_municipalities"].where(frame["n_treated_municipalities"] >= 5)
    frame.pipe(write_result, folder / "event_study_main.csv")
    pd.DataFrame(
        [("sdq", 0.82, 4, 97, 0.515), ("cost_per_child", 3.10, 4, 97, 0.019)],
        columns=["outcome", "statistic", "df_num", "df_den", "p_value"],
    ).pipe(write_result, folder / "pretrend_main.csv")
    honest = []
    for method, grid, breakdown in (("relative_magnitudes", (0.0, 0.5, 1.0, 1.5, 2.0), 1.5),
                                    ("smoothness", (0.0, 0.1, 0.2), None)):  # fmt: skip
        for m in grid:
            half = 0.5 + (0.4 * m if method == "relative_magnitudes" else 0.5 * m)
            honest.append(("sdq", method, m, -1.1 - half, -1.1 + half, breakdown, -1.6, -0.6))
    columns = ["outcome", "method", "m", "ci_low", "ci_high", "breakdown_m", "original_low", "original_high"]
    pd.DataFrame(honest, columns=columns).pipe(write_result, folder / "honest_did.csv")


def write_bacon(folder: Path) -> Path:
    """Write ``bacon.csv`` (as :func:`evaluation.steps.staggered.decomposition.bacon_rows`): sdq, cost x 10000.

    SDQ: TWFE = 0.25 * -2 + 0.35 * -1 + 0.1 * -1.5 + 0.3 * 0.5 = -0.85; 78 municipalities, 20 dropped, 14 years.
    """
    rows = []
    for outcome, family, scale, dropped in (("sdq", "primary", 1.0, 20), ("cost_per_child", "primary", 1e4, 19),
                                            ("school_absence", "secondary", 0.5, 28)):  # fmt: skip
        for comparison, treated, control, weight, estimate in BACON:
            rows.append((outcome, family, comparison, treated, control, weight, estimate * scale, 98 - dropped,
                         dropped, 14))  # fmt: skip
        twfe = sum(w * e for *_, w, e in BACON) * scale
        rows.append((outcome, family, "twfe", None, None, 1.0, twfe, 98 - dropped, dropped, 14))
    columns = ["outcome", "family", "comparison", "treated_cohort", "control_cohort", "weight", "estimate",
               "municipalities", "municipalities_dropped", "years"]  # fmt: skip
    path = folder / "bacon.csv"
    frame = pd.DataFrame(rows, columns=columns).astype({"treated_cohort": "Int64", "control_cohort": "Int64"})
    return write_result(frame, path)


#: outcome, inference, chosen, weight_type, G*, estimate, p_value, ci_low, ci_high, draws (rows out of report order)
INFERENCE = [
    ("sdq", "cluster_robust", False, "webb", 3.456, -1.234, 0.0004, -1.9, -0.57, 0),
    ("sdq", "wild_cluster_bootstrap", True, "webb", 3.456, -1.234, 0.0312, -2.468, -0.06, 9999),
    ("school_absence", "cluster_robust", True, None, 12.26, -0.9234, 0.0006, -1.27, -0.58, 0),
    ("cost_per_child", "randomization_inference", True, None, 2.04, -10823.4, 0.51, -40000.6, 18000.4, 999),
    ("cost_per_child", "cluster_robust", False, None, 2.04, -10823.4, 0.408, -36648.8, 15002.7, 0),
]
#: outcome -> (cluster size, icc, sd, mde_sd of the actual design, {treated: mde_sd at ICC 0, 0.05, 0.1})
POWER = {
    "sdq": (24.2013, 0.016448, 4.4613, 0.30419, {1: (0.61, 0.78, 0.95), 5: (0.27, 0.35, 0.43), 10: (0.19, 0.25)}),
    "cost_per_child": (28.34, 0.00764, 236467.78, 0.2819, {1: (0.6, 0.7, 0.8), 5: (0.3, 0.4, 0.5), 10: (0.2, 0.3)}),
}


def write_inference_results(results: Path, inference: list[tuple] | None = None) -> Path:
    """Write ``estimate/inference.csv`` and ``power/mde.csv`` (4 of 20 municipalities adopted) under ``results``."""
    (results / "estimate").mkdir(parents=True, exist_ok=True)
    (results / "power").mkdir(parents=True, exist_ok=True)
    rows = []
    for outcome, inference_, chosen, weights, g_star, estimate, p, low, high, draws in inference or INFERENCE:
        rows.append({
            "outcome": outcome, "inference": inference_, "chosen": chosen, "method": "wild_cluster_bootstrap",
            "weight_type": weights, "reason": "too_few_for_t_tests",
            "effective_clusters": g_star, "n_clusters": 20, "n_treated_clusters": 4, "estimate": estimate, "se": 0.5,
            "p_value": p, "ci_low": low, "ci_high": high, "draws": draws,
        })  # fmt: skip
    pd.DataFrame(rows).pipe(write_result, results / "estimate" / "inference.csv")
    power = []
    common = {"n_clusters": 20, "pre_periods": 3.0, "post_periods": 8.0, "alpha": 0.05, "power": 0.8}
    for outcome, (size, icc, sd, mde_sd, grid) in POWER.items():
        power.append({"outcome": outcome, "row": "actual", "treated_clusters": 4, **common, "cluster_size": size,
                      "icc": icc, "sd": sd, "mde": mde_sd * sd, "mde_sd": mde_sd})  # fmt: skip
        for treated, values in grid.items():
            for grid_icc, value in zip((0.0, 0.05, 0.1), values, strict=False):
                design = {"treated_clusters": treated, **common, "cluster_size": size, "icc": grid_icc, "sd": sd}
                power.append({"outcome": outcome, "row": "grid", **design, "mde": value * sd, "mde_sd": value})
    pd.DataFrame(power).pipe(write_result, results / "power" / "mde.csv")
    return results


#: table -> (cells checked, {rule: cells suppressed}); tables without person-level cells check 0 cells
DISCLOSURE = {
    "cohort/sample_flow.csv": (14, {"primary": 1, "secondary": 1}),
    "estimate/trends.csv": (180, {"primary": 2, "few_persons": 2}),
    "implementation/municipality_year.csv": (6783, {"few_persons": 2912}),
    "power/mde.csv": (0, {}),
    "estimate/att_gt.csv": (0, {}),
}


def write_disclosure_summary(results: Path, min_cell: int = 5) -> Path:
    """Write ``disclosure/summary.csv`` of :data:`DISCLOSURE` under ``results`` (as the audit_disclosure step does)."""
    records = []
    for table, (cells, suppressed) in DISCLOSURE.items():
        record = SuppressionRecord(table, min_cell, cells_total=cells)
        for rule, n in suppressed.items():
            record.add(rule, n)
        records.append(record)
    write_summary(records, results / "disclosure" / "summary.csv")
    return results
