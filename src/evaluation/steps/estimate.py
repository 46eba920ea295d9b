"""The headline estimate of the reform's effect, its comparisons, its event study and outcome trends.

``main`` (estimator ``did_imputation``): the headline
    The imputation estimator of Borusyak, Jaravel and Spiess (2024)
    (:func:`evaluation.methods.did.imputation.did_imputation`) on the child-years of the matched children:
    the untreated outcome is modelled with municipality and year effects, the matching covariates with
    year-specific coefficients (conditional parallel trends), the child's age, and the matching weights,
    fitted on untreated child-years only; every treated child-year's effect is its outcome minus the
    imputed one. The estimand is the **average effect over treated child-years** (child-years with an
    open case in an adopting municipality from its adoption year on), which ``truth.json`` defines; it
    stays right when effects differ by cohort and grow with time since adoption. Outcomes:
    ``outcomes.primary``, ``secondary`` and ``placement`` (:func:`headline_outcomes`); ``breakdown_rate``
    as the relative change against the imputed counterfactual mean, ``caseload`` on municipality-years.
    Its interval and p-value come from the few-cluster policy (:func:`evaluation.methods.inference.choose_inference`:
    t with G - 1 degrees of freedom, restricted wild cluster bootstrap, or randomization inference, which for
    child-level outcomes redoes the matching for every reassignment: :mod:`evaluation.steps.design_randomization`);
    ``se`` is the BJS standard error. The interval of a 0/1 outcome (``placement_rate``,
    ``network_foster_share``) is cut to the effects it can have (:func:`within_possible_effects`).
``twfe_matched`` (``did_twfe_matched``)
    Two-way fixed-effects DiD on the same matched child-years, ``y_it = a_i + l_t + b * treated_it + e_it``
    with child and year effects and the matching weights (:func:`did_twfe`): the former headline, a
    weighted average of 2x2 comparisons that is unbiased only when the effect is constant (Goodman-Bacon
    2021), kept as a labelled comparison.
``unmatched_did`` (``did_twfe``)
    The same regression on all treated and all control children, unweighted.
``naive`` (``diff_in_means``)
    The "key figures" comparison the design must beat: post-period child-years of
    adopting municipalities against all control child-years of the same calendar
    years, difference in means by OLS with cluster-robust standard errors by municipality.

Inference of the comparisons: the coefficient's standard error comes from the estimator; p-values
and confidence intervals at level ``1 - estimation.alpha`` use the t distribution
with G - 1 degrees of freedom (G = number of clusters), as Stata and fixest do
for clustered errors (Cameron and Miller 2015). ``n_treated`` counts distinct
children with at least one treated (post-adoption) child-year in the sample,
``n_control`` distinct children of never-adopting municipalities in the sample
(in the TWFE analyses, children with a single child-year are not counted: their
child effect absorbs them and they carry no weight in the estimate); for ``caseload`` they count
municipalities. Child-years without a value of the outcome are left out and counted in the log.

API page: Analysis steps (`evaluation.steps.cohort`, `evaluation.steps.compare`, `evaluation.steps.estimate`)
-------------------------------------------------------------------------------------------
```python
from evaluation.steps.cohort import build_cohort          # pure: extracts -> CohortResult(panel, flow, cutoff_removed)
from evaluation.steps.compare import match_cohort         # panel -> ComparisonResult(matched, balance, flow_rows, covariates)
from evaluation.steps.estimate import (
    estimate_all,        # panel, matched, config, progress, *, caseload=None, events=None, fits=None -> ESTIMATE_COLUMNS
    headline_sample,     # panel, matched, config -> (matched child-years with cov_* and age_* columns, covariates, controls)
    headline_fit,        # sample, outcome, covariates, config, *, caseload=None, controls=() -> ImputationResult
    caseload_panel,      # sagsbehandlere, config -> municipality, year, caseload, n_months, first_treat
    few_cluster_interval,  # fit, outcome, config, progress, redesigned=None -> (policy's choice, its interval)
    redesigned_intervals,  # panel, fits, config, progress -> randomization intervals with the matching redone
    did_twfe, diff_in_means,
)
```

The headline (`analysis = main`, `estimator = did_imputation`) is the imputation estimator on the
matched children: municipality and year effects, the matching covariates with year-specific
coefficients, the child's age, the matching weights, errors clustered by municipality. Its estimand is
the **average effect over treated child-years** (every child-year with an open case in an adopting
municipality from its adoption year on), the estimand `truth.json` defines; the outcomes are `sdq`,
`school_absence`, `cost_per_child`, `placement_rate`, `network_foster_share`, `breakdown_rate`
(relative change against the imputed counterfactual mean) and `caseload` (municipality-years). Its
`ci_low`, `ci_high` and `p_value` come from the inference the few-cluster policy picks; `se` is the
BJS standard error. The comparisons are `twfe_matched` (`did_twfe_matched`, the former headline),
`unmatched_did` and `naive`. `run_estimates` also writes `estimate/event_study_main.csv`
(`EVENT_COLUMNS`: placebo pre-adoption years, event times with fewer than
`estimation.min_treated_municipalities` adopters flagged `few_municipalities = 1` and left without an
interval).

Each has a file-level twin (`build_panel`, `match_children`, `run_estimates`) that a Snakemake
rule calls through `evaluation.steps.pipeline`. `run_estimates` writes `publishable_estimates(table, min_cell)`:
counts of 1 to `min_cell - 1` children empty, and the estimate, SE, interval and p-value empty when
either group has fewer than `min_cell` children (rows of municipality outcomes count municipalities and
are not suppressed).
"""  # noqa: E501

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from evaluation.config import inference_outcomes, section, setting
from evaluation.contract.results import columns_of
from evaluation.disclosure.rules import below_threshold
from evaluation.errors import ModelNotIdentifiedError
from evaluation.io import write_csv
from evaluation.results import ESTIMATE_COLUMNS, Estimate

TREND_COLUMNS = columns_of("results/{release}/estimate/trends.csv")


def _inference(coef: float, se: float, df: int, alpha: float) -> tuple[float, float, float]:
    """Two-sided p-value and confidence interval with a t distribution on ``df`` degrees of freedom."""
    q = stats.t.ppf(1 - alpha / 2, df)
    p = 2 * stats.t.sf(abs(coef / se), df) if se > 0 else float("nan")
    return float(p), coef - q * se, coef + q * se


def _counts(sample: pd.DataFrame, *, drop_singletons: bool = False) -> tuple[int, int]:
    if drop_singletons:
        sample = sample.loc[sample.groupby("person_id")["year"].transform("size") > 1]
    n_treated = sample.loc[sample["treated"] == 1, "person_id"].nunique()
    n_control = sample.loc[sample["treated_unit"] == 0, "person_id"].nunique()
    return int(n_treated), int(n_control)


def _complete(panel: pd.DataFrame, outcome: str, progress: Callable[[str], None], what: str) -> pd.DataFrame:
    missing = panel[outcome].isna()
    if missing.any():
        progress(f"estimate: {what} {outcome}: {int(missing.sum()):,} child-years without a value left out")
    sample = panel.loc[~missing]
    if sample.empty:
        raise ModelNotIdentifiedError(f"{what}: the outcome '{outcome}' has no values in the sample.")
    return sample


def did_twfe(
    panel: pd.DataFrame,
    outcome: str,
    *,
    weights: str | None = None,
    cluster: str = "municipality",
    alpha: float = 0.05,
    progress: Callable[[str], None] = print,
) -> Estimate:
    """Two-way fixed-effects DiD of ``outcome`` on ``treated`` with child and year effects.

    Parameters
    ----------
    panel
        Child-years with ``person_id, year, treated, treated_unit``, the outcome, the cluster
        column and (optionally) the weight column.
    outcome
        Outcome column.
    weights
        Column of analytic weights (matching weights), or None.
    cluster
        Column to cluster standard errors by.
    alpha
        One minus the confidence level.
    progress
        Told how many child-years lack the outcome.

    Returns
    -------
    Estimate
        The coefficient of ``treated``; CI and p-value with G - 1 degrees of freedom.
    """
    from evaluation.methods.panel import fixed_effects

    sample = _complete(panel, outcome, progress, "DiD")
    fe = fixed_effects(
        sample,
        outcome=outcome,
        regressors=["treated"],
        unit="person_id",
        time="year",
        entity_effects=True,
        time_effects=True,
        cluster=cluster,
        weights=weights,
        alpha=alpha,
    )
    n_treated, n_control = _counts(sample, drop_singletons=True)
    return fe.estimate("treated", n_treated=n_treated, n_control=n_control)


def diff_in_means(
    panel: pd.DataFrame,
    outcome: str,
    *,
    cluster: str = "municipality",
    alpha: float = 0.05,
    progress: Callable[[str], None] = print,
) -> Estimate:
    """Post-period difference in means between treated child-years and control child-years.

    The sample is every child-year with ``treated == 1`` and every child-year of a
    never-adopting municipality in a calendar year in which some child-year is treated.
    OLS of the outcome on a constant and ``treated`` with cluster-robust standard errors
    (small-sample factor G/(G-1) (N-1)/(N-K), as Stata's ``regress, vce(cluster)``).

    Parameters
    ----------
    panel
        Child-years with ``person_id, year, treated, treated_unit``, the outcome and the cluster column.
    outcome
        Outcome column.
    cluster
        Column to cluster standard errors by.
    alpha
        One minus the confidence level.
    progress
        Told how many child-years lack the outcome.

    Returns
    -------
    Estimate
    """
    post_years = panel.loc[panel["treated"] == 1, "year"].unique()
    rows = (panel["treated"] == 1) | ((panel["treated_unit"] == 0) & panel["year"].isin(post_years))
    sample = _complete(panel.loc[rows], outcome, progress, "naive")
    if sample["treated"].nunique() < 2:
        raise ModelNotIdentifiedError(f"naive {outcome}: the post period has no treated or no control child-years.")
    groups = pd.factorize(sample[cluster])[0]
    x = sm.add_constant(sample["treated"].astype("float64").to_numpy())
    fit = sm.OLS(sample[outcome].astype("float64").to_numpy(), x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    coef, se = float(fit.params[1]), float(fit.bse[1])
    n_clusters = int(np.unique(groups).size)
    p, lo, hi = _inference(coef, se, n_clusters - 1, alpha)
    n_treated, n_control = _counts(sample)
    return Estimate(coef, se, lo, hi, n_treated, n_control, p_value=p)


def matched_sample(panel: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    """Child-years of the matched children, each carrying its child's matching weight.

    Parameters
    ----------
    panel
        The cohort panel.
    matched
        ``person_id, weight`` of matched children (from the compare step).

    Returns
    -------
    pandas.DataFrame
        The panel rows of matched children with a ``weight`` column.
    """
    return panel.merge(matched[["person_id", "weight"]], on="person_id", how="inner", validate="many_to_one")


#: Outcomes of the headline besides ``outcomes.primary`` and ``outcomes.secondary``: placements and caseload.
PLACEMENT_OUTCOMES = ("placement_rate", "network_foster_share", "breakdown_rate", "caseload")

#: Outcomes whose headline is the relative change against the imputed counterfactual mean.
RELATIVE_OUTCOMES = frozenset({"breakdown_rate"})

#: Outcomes measured per municipality-year (not per child-year).
MUNICIPALITY_OUTCOMES = frozenset({"caseload"})

#: Outcomes that are 0/1 indicators per child-year: their effect lies between ``mean - 1`` and ``mean`` (below).
INDICATOR_OUTCOMES = frozenset({"placement_rate", "network_foster_share"})


def within_possible_effects(treated_mean: float, ci_low: float, ci_high: float) -> tuple[float, float]:
    """Intersect an indicator outcome's interval with the effects it can have: ``[mean - 1, mean]``.

    The ATT of a 0/1 outcome is the treated mean minus the mean the same child-years would have had
    without the model, which lies in [0, 1]; an interval (randomization inference inverts a test and may
    reach past either end) loses no coverage when cut to that range. An interval entirely outside it is
    left as it is.
    """
    low, high = max(ci_low, treated_mean - 1.0), min(ci_high, treated_mean)
    return (low, high) if low <= high else (ci_low, ci_high)


HEADLINE_ESTIMATOR = "did_imputation"


def headline_outcomes(config: Mapping[str, Any]) -> list[str]:
    """Return the headline's outcomes: ``outcomes.primary``, ``secondary`` and ``placement``, in that order."""
    names = [*(setting(config, "outcomes", "primary") or []), *(setting(config, "outcomes", "secondary") or [])]
    names += list(setting(config, "outcomes", "placement") or [])
    return list(dict.fromkeys(names))


def headline_sample(
    panel: pd.DataFrame, matched: pd.DataFrame, config: Mapping[str, Any], progress: Callable[[str], None] = print
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Child-years of the matched children with their baseline covariates and age as numeric columns.

    Parameters
    ----------
    panel
        The cohort panel.
    matched
        ``person_id, weight`` of the matched children.
    config
        Uses ``matching.covariates`` (expanded as for the propensity score:
        :func:`evaluation.steps.compare.expand_covariates`).
    progress
        Told which indicator columns are constant.

    Returns
    -------
    (pandas.DataFrame, list of str, list of str)
        The weighted sample (:func:`matched_sample`) with ``cov_<name>`` columns and indicators
        ``age_<a>`` of the child's age in the year (every age but the youngest), and the names of
        both sets of columns. The ages are controls with constant coefficients: outcomes such as the
        kind of placement depend strongly on age, and the age mix of the children with an open case
        changes over time.
    """
    from evaluation.steps.compare import child_table, expand_covariates

    sample = matched_sample(panel, matched)
    ages = sorted(int(a) for a in sample["age"].dropna().unique()) if "age" in sample.columns else []
    controls = [f"age_{a}" for a in ages[1:]]
    sample = sample.assign(**{f"age_{a}": (sample["age"] == a).astype("float64") for a in ages[1:]})
    names = list((config.get("matching") or {}).get("covariates") or [])
    if not names:
        return sample, [], controls
    children, columns = expand_covariates(child_table(panel), names, progress)
    covs = children[["person_id", *columns]].rename(columns={c: f"cov_{c}" for c in columns})
    sample = sample.merge(covs, on="person_id", how="left", validate="many_to_one")
    return sample, [f"cov_{c}" for c in columns], controls


def few_cluster_interval(
    result: Any,
    outcome: str,
    config: Mapping[str, Any],
    progress: Callable[[str], None],
    redesigned: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Return the inference the policy picks for one headline fit, and its interval.

    The estimate step and the inference table (:func:`evaluation.steps.fewclusters.choice.inference_table`) both use it,
    so the two give the same interval. ``redesigned`` holds intervals of randomization inference with the design
    redone (:func:`redesigned_intervals`); when the policy picks randomization inference and the outcome has one,
    it is used, otherwise randomization inference reuses the fit's sample and is studentised
    (:func:`evaluation.methods.did.imputation_inference.imputation_randomization`).

    Returns
    -------
    (InferenceChoice, FewClusterInterval)
    """
    from evaluation.methods.did.imputation_inference import few_cluster_inference

    cfg = section(config, "inference")
    choice = _choice(result, config)
    if choice.method == "randomization_inference" and redesigned and outcome in redesigned:
        interval = redesigned[outcome]
        how = "randomization_inference with the matching redone"
    else:
        interval = few_cluster_inference(
            result,
            choice.method,
            weight_type=choice.weight_type,
            n_boot=int(cfg["bootstrap_draws"]),
            n_permutations=int(cfg["permutations"]),
            seed=int(cfg["seed"]),
            studentize=True,
        )
        how = choice.method
    progress(
        f"estimate: main {outcome}: {how} ({result.n_treated_clusters} of {result.n_clusters} "
        f"municipalities treated): [{interval.ci_low:.4g}, {interval.ci_high:.4g}]"
    )
    return choice, interval


def _choice(result: Any, config: Mapping[str, Any]) -> Any:
    """Return the few-cluster policy's choice for one fit (:func:`evaluation.methods.inference.choose_inference`)."""
    from evaluation.methods.inference import choose_inference

    cfg = section(config, "inference")
    return choose_inference(result.n_treated_clusters, result.n_clusters, cfg)


def redesigned_intervals(
    panel: pd.DataFrame | None, fits: Mapping[str, Any], config: Mapping[str, Any], progress: Callable[[str], None]
) -> dict[str, Any]:
    """Return randomization intervals with the matching redone, for the child-level fits the policy gives randomization.

    Parameters
    ----------
    panel
        The cohort panel, or None to skip (then an empty dict).
    fits
        Headline fits by outcome (:func:`headline_fit`).
    config
        Uses ``inference`` (``redesign`` false: an empty dict) and what the design reads (without
        ``matching.covariates`` there is no matching to redo: an empty dict).
    progress
        Progress messages.

    Returns
    -------
    dict of str to FewClusterInterval
        :func:`evaluation.steps.design_randomization.design_randomization` of the fits the policy gives randomization
        inference (child-level outcomes only).
    """
    from evaluation.steps.design_randomization import design_randomization

    if panel is None or not setting(config, "inference", "redesign"):
        return {}
    if not (config.get("matching") or {}).get("covariates"):
        progress("estimate: no matching settings (matching.covariates): randomization inference reuses the sample")
        return {}
    chosen = {
        o: f
        for o, f in fits.items()
        if o not in MUNICIPALITY_OUTCOMES and _choice(f, config).method == "randomization_inference"
    }
    return design_randomization(panel, chosen, config, progress) if chosen else {}


def headline_fit(
    sample: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    config: Mapping[str, Any],
    *,
    caseload: pd.DataFrame | None = None,
    controls: Sequence[str] = (),
) -> Any:
    """Fit one headline outcome by imputation (:func:`evaluation.methods.did.imputation.did_imputation`).

    Child-year outcomes use the matched sample, municipality and year effects, the baseline covariates
    with year-specific coefficients, the child's age (``controls``) and the matching weights. When those
    coefficients are not identified (a sparse outcome such as ``network_foster_share``), the covariates
    enter with constant coefficients, then not at all (the matching alone balances them); the fit's
    summary says which was used. ``caseload`` uses the municipality-year panel ``caseload``
    (municipality and year effects, unweighted). Errors are clustered by municipality, with leave-out
    residuals unless ``estimation.leave_out`` is false.
    """
    from evaluation.methods.did.imputation import did_imputation

    alpha, cluster = float(setting(config, "estimation", "alpha")), setting(config, "estimation", "cluster")
    leads = int(setting(config, "estimation", "event_leads"))
    leave_out = bool(setting(config, "estimation", "leave_out"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if outcome in MUNICIPALITY_OUTCOMES:
            if caseload is None:
                raise ModelNotIdentifiedError(f"{outcome}: no municipality-year data")
            return did_imputation(
                caseload,
                outcome,
                unit="municipality",
                time="year",
                cohort="first_treat",
                alpha=alpha,
                leads=leads,
                leave_out=leave_out,
            )
        last: ModelNotIdentifiedError | None = None
        for covs, trends in ((covariates, True), (covariates, False), ((), False)):
            try:
                return did_imputation(
                    sample,
                    outcome,
                    unit="municipality",
                    time="year",
                    cohort="first_treat",
                    covariates=covs,
                    weights="weight",
                    cluster=cluster,
                    alpha=alpha,
                    leads=leads,
                    covariate_trends=trends,
                    controls=controls,
                    leave_out=leave_out,
                )
            except ModelNotIdentifiedError as exc:
                last = exc
        raise last  # type: ignore[misc]


def _headline_rows(
    sample: pd.DataFrame,
    covariates: Sequence[str],
    controls: Sequence[str],
    outcomes: Sequence[str],
    config: Mapping[str, Any],
    caseload: pd.DataFrame | None,
    progress: Callable[[str], None],
    fits: dict[str, Any] | None = None,
    event_study: bool = True,
    panel: pd.DataFrame | None = None,
    inference_out: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[pd.DataFrame], list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    from evaluation.steps.fewclusters.choice import inference_rows

    rows, events = [], []
    inference_set = set(inference_outcomes(config))
    sensitivity: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    min_treated = int(setting(config, "estimation", "min_treated_municipalities"))
    fitted: dict[str, Any] = {}
    for outcome in outcomes:
        if outcome not in MUNICIPALITY_OUTCOMES and outcome not in sample.columns:
            progress(f"estimate: outcome {outcome} is not in the panel; skipped")
            continue
        try:
            fit = headline_fit(sample, outcome, covariates, config, caseload=caseload, controls=controls)
        except ModelNotIdentifiedError as exc:
            progress(f"estimate: main {outcome}: not estimated ({exc})")
            continue
        if fit.n_dropped_treated:
            progress(
                f"estimate: main {outcome}: {fit.n_dropped_treated:,} treated child-years left out: their "
                "municipality or year has no untreated child-year to impute from"
            )
        fitted[outcome] = fit
    if fits is not None:
        fits.update(fitted)
    redesigned = redesigned_intervals(panel, fitted, config, progress)
    for outcome, fit in fitted.items():
        choice, interval = few_cluster_interval(fit, outcome, config, progress, redesigned)
        if inference_out is not None and outcome in inference_set:
            inference_out.extend(inference_rows(fit, outcome, choice, interval))
        if event_study:
            events.append(_event_table(fit, outcome, choice, config, min_treated))
            primary = outcome in ((config.get("outcomes") or {}).get("primary") or [])
            pretrend, honest = sensitivity_rows(fit, outcome, config, honest=primary)
            sensitivity.append((pretrend, honest))
        n_treated, n_control = _headline_counts(sample, fit, outcome)
        if outcome in RELATIVE_OUTCOMES:
            shifted = replace(fit, ci_low=interval.ci_low, ci_high=interval.ci_high, p_value=interval.p_value)
            e = shifted.relative()
            e = Estimate(e.estimate, e.se, e.ci_low, e.ci_high, n_treated, n_control, e.p_value)
        else:
            low, high = interval.ci_low, interval.ci_high
            if outcome in INDICATOR_OUTCOMES:
                low, high = within_possible_effects(fit.treated_mean, low, high)
            e = Estimate(fit.estimate, fit.se, low, high, n_treated, n_control, interval.p_value)
        progress(f"estimate: main {outcome}: {e.estimate:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}]; {fit.summary()}")
        rows.append(
            {"analysis": "main", "outcome": outcome, "estimator": HEADLINE_ESTIMATOR, "subgroup": "all", **e.to_dict()}
        )
    return rows, events, sensitivity


def _headline_counts(sample: pd.DataFrame, fit: Any, outcome: str) -> tuple[int, int]:
    """Treated children (or municipalities, for municipality outcomes) and comparison children in the fit."""
    if outcome in MUNICIPALITY_OUTCOMES:
        return fit.n_treated_clusters, fit.n_clusters - fit.n_treated_clusters
    used = sample.loc[sample[outcome].notna() & (sample["weight"] > 0)]
    return _counts(used)


#: Columns of ``results/<release>/estimate/event_study_main.csv``.
EVENT_COLUMNS = columns_of("results/{release}/estimate/event_study_main.csv")


def _event_table(fit: Any, outcome: str, choice: Any, config: Mapping[str, Any], min_treated: int) -> pd.DataFrame:
    """Return the headline's event study with the policy's inference; thin event times flagged, their interval blank."""
    from evaluation.methods.did.imputation_inference import event_study_bootstrap

    cfg = section(config, "inference")
    table = fit.event_study
    method = "cluster_robust"
    if choice.method != "cluster_robust":
        method = "wild_cluster_bootstrap"
        table = event_study_bootstrap(
            fit,
            weight_type=choice.weight_type or "webb",
            n_boot=int(cfg["bootstrap_draws"]),
            seed=int(cfg["seed"]),
        )
    few = table["n_treated_clusters"] < min_treated
    out = pd.DataFrame(
        {
            "outcome": outcome,
            "event_time": table["event_time"].astype("int64"),
            "estimate": table["estimate"],
            "se": table["se"],
            "ci_low": table["ci_low"].where(~few),
            "ci_high": table["ci_high"].where(~few),
            "p_value": table["p_value"].where(~few),
            "pre": table["pre"].astype("int64"),
            "n_treated_municipalities": table["n_treated_clusters"].astype("Int64"),
            "few_municipalities": few.astype("int64"),
            "n_child_years": table["n_obs"].astype("Int64"),
            "inference": method,
        }
    )
    return out[EVENT_COLUMNS]


#: Columns of ``results/<release>/estimate/pretrend_main.csv``.
PRETREND_COLUMNS = columns_of("results/{release}/estimate/pretrend_main.csv")

#: Columns of ``results/<release>/estimate/honest_did.csv``.
HONEST_COLUMNS = columns_of("results/{release}/estimate/honest_did.csv")


def _normalised_event_study(fit: Any, min_treated: int) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """Event-study vector and covariance relative to the year before adoption, for HonestDiD.

    The placebo estimates and the effects are all relative to the years before the leads; subtracting
    the estimate of event time -1 makes that year the reference (0), as Rambachan and Roth (2023)
    assume. The bounds need consecutive years: the leads back from -1 and the effects on from 0 are kept
    while they have an estimate, the effects while they rest on at least ``min_treated`` adopters. None
    when fewer than two leads (one pre-period coefficient after normalising) or no adoption-year effect
    (event time 0, the effect the bounds are for) are left.
    """
    table = fit.event_study.reset_index(drop=True)
    usable = table["estimate"].notna() & ((table["pre"] == 1) | (table["n_treated_clusters"] >= min_treated))
    by_time = dict(zip(table["event_time"].astype(int), table.index, strict=True))
    pre, post = [], []
    for times, kept in ((range(-1, -len(table) - 1, -1), pre), (range(len(table)), post)):
        for e in times:  # consecutive event times with an estimate
            if e not in by_time or not usable[by_time[e]]:
                break
            kept.append(by_time[e])
    pre.sort()
    if len(pre) < 2 or not post:
        return None
    ref = int(table.index[table["event_time"] == -1][0])
    keep = [i for i in pre if i != ref] + post
    a = np.zeros((len(keep), len(table)))
    a[np.arange(len(keep)), keep] = 1.0
    a[:, ref] -= 1.0
    # event times left out have no estimate (NaN) and weight 0 in a; 0 * NaN would make every coefficient NaN
    beta = a @ np.nan_to_num(table["estimate"].to_numpy(dtype=float), nan=0.0)
    cov = a @ np.nan_to_num(fit.event_covariance, nan=0.0) @ a.T
    return beta, cov, len(pre) - 1, len(post)


def sensitivity_rows(
    fit: Any, outcome: str, config: Mapping[str, Any], *, honest: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r"""Return the placebo pre-trend test and the HonestDiD bounds of one headline fit.

    Pre-trend test: the joint Wald statistic of the placebo (lead) estimates with their cluster covariance,
    divided by the number of leads ``q`` and referred to the F distribution with ``q`` and ``G - 1`` degrees of
    freedom (a small-sample version of BJS's Test 1; with few clusters a chi-squared test over-rejects).
    HonestDiD (:func:`evaluation.methods.sensitivity.honest_did`): the first post-adoption effect (event time 0)
    under relative-magnitude bounds (:math:`\bar M` from 0 to 2) and smoothness bounds (HonestDiD's default
    grid of :math:`M`), with the breakdown value: the smallest M whose interval includes zero.
    """
    from scipy import stats as st

    from evaluation.methods.sensitivity import breakdown_m, honest_did, original_ci

    alpha = float(setting(config, "estimation", "alpha"))
    min_treated = int(setting(config, "estimation", "min_treated_municipalities"))
    table = fit.event_study.reset_index(drop=True)
    leads = table.index[(table["pre"] == 1) & table["estimate"].notna()].tolist()
    pretrend = {"outcome": outcome, "statistic": np.nan, "df_num": len(leads), "df_den": fit.df, "p_value": np.nan}
    if leads:
        b = table.loc[leads, "estimate"].to_numpy(dtype=float)
        v = fit.event_covariance[np.ix_(leads, leads)]
        wald = float(b @ np.linalg.pinv(v) @ b)
        pretrend["statistic"] = wald / len(leads)
        pretrend["p_value"] = float(st.f.sf(wald / len(leads), len(leads), fit.df))
    rows: list[dict[str, Any]] = []
    normal = _normalised_event_study(fit, min_treated) if honest else None
    if normal is None:
        return pretrend, rows
    beta, cov, n_pre, n_post = normal
    low0, high0 = original_ci(beta, cov, n_pre, n_post, alpha)
    grids = {"relative_magnitudes": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0], "smoothness": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method, grid in grids.items():
            bounds = honest_did(beta, cov, n_pre, n_post, method=method, m=grid, alpha=alpha)  # type: ignore[arg-type]
            breakdown = breakdown_m(bounds)
            for r in bounds.itertuples(index=False):
                rows.append(
                    {
                        "outcome": outcome,
                        "method": method,
                        "m": float(r.m),
                        "ci_low": float(r.ci_low),
                        "ci_high": float(r.ci_high),
                        "breakdown_m": breakdown,
                        "original_low": low0,
                        "original_high": high0,
                    }
                )
    return pretrend, rows


def estimate_all(
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
    *,
    caseload: pd.DataFrame | None = None,
    events: list[pd.DataFrame] | None = None,
    fits: dict[str, Any] | None = None,
    sensitivity_out: list[tuple[dict[str, Any], list[dict[str, Any]]]] | None = None,
    inference_out: list[dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Run the headline and its comparisons for every configured outcome present in the data.

    ``main`` (estimator ``did_imputation``) is the imputation estimator on the matched children with
    the baseline covariates (:func:`headline_fit`), with the inference the few-cluster policy picks:
    ``se`` is the Borusyak-Jaravel-Spiess standard error, ``ci_low, ci_high, p_value`` come from the
    chosen method (t with G - 1 degrees of freedom, restricted wild cluster bootstrap, or randomization
    inference). ``breakdown_rate`` is the relative change against the imputed counterfactual mean.
    The comparisons, for ``outcomes.primary`` and ``secondary`` only: ``twfe_matched``
    (``did_twfe_matched``, the former headline: child and year effects on the matched children),
    ``unmatched_did`` (``did_twfe``) and ``naive`` (``diff_in_means``).

    Parameters
    ----------
    panel
        The cohort panel.
    matched
        Matched children with weights.
    config
        Uses ``outcomes``, ``matching.covariates``, ``estimation`` and ``inference``.
    progress
        Called with progress messages.
    caseload
        Municipality-year caseload (``municipality, year, first_treat, caseload``), or None to skip it.
    events
        When a list, the headline's event-study tables (:data:`EVENT_COLUMNS`) are appended to it; None
        skips the event study (its bootstrap is the slow part).
    fits
        When a dict, the headline's fits (:class:`~evaluation.methods.did.imputation.ImputationResult`) by outcome.
    sensitivity_out
        When a list (and ``events`` is one), each outcome's placebo pre-trend test and, for primary outcomes,
        HonestDiD rows (:func:`sensitivity_rows`) are appended to it.
    inference_out
        When a list, the rows of ``results/<release>/estimate/inference.csv`` for the outcomes of
        ``outcomes.primary`` and ``secondary`` (:func:`evaluation.steps.fewclusters.choice.inference_rows`: the chosen
        inference beside the cluster-robust one, from the same fits and intervals as the ``main`` rows).

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS`, sorted by analysis and outcome.
    """
    alpha, cluster = float(setting(config, "estimation", "alpha")), setting(config, "estimation", "cluster")
    sample, covariates, controls = headline_sample(panel, matched, config, progress)
    rows, event_tables, sensitivity = _headline_rows(
        sample,
        covariates,
        controls,
        headline_outcomes(config),
        config,
        caseload,
        progress,
        fits,
        events is not None,
        panel,
        inference_out,
    )
    if events is not None:
        events.extend(event_tables)
    if sensitivity_out is not None:
        sensitivity_out.extend(sensitivity)
    outcomes = inference_outcomes(config)
    weighted = matched_sample(panel, matched)
    for outcome in outcomes:
        if outcome not in panel.columns:
            continue
        analyses = {
            ("twfe_matched", "did_twfe_matched"): lambda o=outcome: did_twfe(
                weighted, o, weights="weight", cluster=cluster, alpha=alpha, progress=progress
            ),
            ("unmatched_did", "did_twfe"): lambda o=outcome: did_twfe(
                panel, o, cluster=cluster, alpha=alpha, progress=progress
            ),
            ("naive", "diff_in_means"): lambda o=outcome: diff_in_means(
                panel, o, cluster=cluster, alpha=alpha, progress=progress
            ),
        }
        for (analysis, estimator), run in analyses.items():
            e = run()
            progress(f"estimate: {analysis} {outcome}: {e.estimate:.4g} (SE {e.se:.3g})")
            rows.append(
                {"analysis": analysis, "outcome": outcome, "estimator": estimator, "subgroup": "all", **e.to_dict()}
            )
    table = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return table.sort_values(["analysis", "outcome"]).reset_index(drop=True)


def caseload_panel(caseworkers: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """Municipality-year caseload (:func:`evaluation.steps.cohort.placements.caseload_per_fte`) with ``first_treat``."""
    from evaluation.steps.cohort.placements import caseload_per_fte
    from evaluation.steps.cohort.timing import adoption_years, first_treat

    out = caseload_per_fte(caseworkers)
    return out.assign(first_treat=first_treat(out["municipality"], adoption_years(config)))


def _group_means(frame: pd.DataFrame, outcome: str, group: str, weights: str | None) -> pd.DataFrame:
    data = frame.loc[frame[outcome].notna()]
    w = data[weights] if weights else pd.Series(1.0, index=data.index)
    agg = pd.DataFrame({"year": data["year"], "wy": w * data[outcome], "w": w})
    out = agg.groupby("year", sort=True).agg(wy=("wy", "sum"), w=("w", "sum"), n=("w", "size")).reset_index()
    return pd.DataFrame(
        {"outcome": outcome, "year": out["year"], "group": group, "mean": out["wy"] / out["w"], "n": out["n"]}
    )


def trends(panel: pd.DataFrame, matched: pd.DataFrame, outcomes: list[str], min_cell: int) -> pd.DataFrame:
    """Yearly outcome means of treated children, matched comparison children and all comparison children.

    Parameters
    ----------
    panel
        The cohort panel.
    matched
        Matched children with ``person_id, treat, weight``.
    outcomes
        Outcome columns (those absent from the panel are skipped).
    min_cell
        Disclosure threshold: cells with fewer child-years get ``mean`` missing, and ``n`` too unless it is 0
        (:func:`evaluation.disclosure.below_threshold`).

    Returns
    -------
    pandas.DataFrame
        :data:`TREND_COLUMNS`; ``n`` = child-years with a value (nullable integer); the matched
        comparison mean is weighted by the matching weights. Sorted by outcome, year, group.
    """
    controls = panel.loc[panel["treated_unit"] == 0]
    matched_controls = controls.merge(
        matched.loc[matched["treat"] == 0, ["person_id", "weight"]], on="person_id", how="inner"
    )
    parts = []
    for outcome in outcomes:
        if outcome not in panel.columns:
            continue
        parts += [
            _group_means(panel.loc[panel["treated_unit"] == 1], outcome, "treated", None),
            _group_means(matched_controls, outcome, "comparison_matched", "weight"),
            _group_means(controls, outcome, "comparison_all", None),
        ]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TREND_COLUMNS)
    small = table["n"] < min_cell  # a mean of fewer than min_cell child-years (none: no mean) is not published
    table["mean"] = table["mean"].astype("float64").where(~small, np.nan)
    table["n"] = table["n"].astype("Int64").mask(below_threshold(table["n"], min_cell))
    table["year"] = table["year"].astype("int64")
    return table.sort_values(["outcome", "year", "group"]).reset_index(drop=True)[TREND_COLUMNS]


def publishable_estimates(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Return the estimates with those resting on fewer than ``min_cell`` children left empty.

    A count of 1 to ``min_cell - 1`` children is left empty (primary suppression), and so are the
    estimate, its standard error, interval and p-value when either group has fewer than
    ``min_cell`` children (or an unknown number): a contrast of a handful of children describes them.
    Rows of municipality outcomes (:data:`MUNICIPALITY_OUTCOMES`) count municipalities, not persons,
    and are left as they are.

    Parameters
    ----------
    table
        :data:`~evaluation.results.ESTIMATE_COLUMNS`.
    min_cell
        Smallest number of persons a published cell may rest on (``disclosure.min_cell``).

    Returns
    -------
    pandas.DataFrame
        A copy; the counts as nullable integers.
    """
    out = table.copy()
    persons = ~out["outcome"].isin(MUNICIPALITY_OUTCOMES)
    few = pd.Series(False, index=out.index)
    for column in ("n_treated", "n_control"):
        counts = out[column].astype("Int64")
        few |= (counts < min_cell).fillna(True).astype(bool) & persons
        out[column] = counts.mask(below_threshold(counts, min_cell) & persons)
    out.loc[few, ["estimate", "se", "ci_low", "ci_high", "p_value"]] = np.nan
    return out


def run_estimates(
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    estimates_path: Path,
    trends_path: Path,
    progress: Callable[[str], None] = print,
    *,
    caseworkers_path: Path | None = None,
    events_path: Path | None = None,
    pretrend_path: Path | None = None,
    honest_path: Path | None = None,
    inference_path: Path | None = None,
) -> None:
    """Pipeline step: write ``results/estimates.csv``, the outcome trends, the headline's event study and inference.

    Parameters
    ----------
    panel_path
        The cohort panel (Parquet).
    matched_path
        Matched children with weights (Parquet).
    config
        The validated study configuration.
    estimates_path
        Output CSV (:data:`ESTIMATE_COLUMNS`).
    trends_path
        Output CSV (:data:`TREND_COLUMNS`).
    progress
        Called with progress messages.
    caseworkers_path
        The ingested ``sagsbehandlere`` extract (Parquet) for the caseload outcome, or None to skip it.
    events_path
        Output CSV of the headline's event study (:data:`EVENT_COLUMNS`), or None.
    pretrend_path, honest_path
        Output CSVs of the placebo pre-trend tests (:data:`PRETREND_COLUMNS`) and the HonestDiD bounds of the
        primary outcomes (:data:`HONEST_COLUMNS`), or None.
    inference_path
        Output CSV of the chosen and the cluster-robust inference of the primary and secondary outcomes
        (:data:`evaluation.steps.fewclusters.choice.INFERENCE_COLUMNS`), or None.
    """
    from evaluation.steps.fewclusters.choice import INFERENCE_COLUMNS

    panel = pd.read_parquet(panel_path)
    matched = pd.read_parquet(matched_path)
    min_cell = int(config["disclosure"]["min_cell"])
    caseload = caseload_panel(pd.read_parquet(caseworkers_path), config) if caseworkers_path else None
    events: list[pd.DataFrame] = []
    sensitivity: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    inference: list[dict[str, Any]] = []
    raw = estimate_all(
        panel,
        matched,
        config,
        progress,
        caseload=caseload,
        events=events,
        sensitivity_out=sensitivity,
        inference_out=inference,
    )
    table = publishable_estimates(raw, min_cell)
    outcomes = inference_outcomes(config)
    trend = trends(panel, matched, outcomes, min_cell)
    outputs = [(estimates_path, table), (trends_path, trend)]
    if events_path is not None:
        event_table = pd.concat(events, ignore_index=True) if events else pd.DataFrame(columns=EVENT_COLUMNS)
        # the step's disclosure rule for count columns (as estimate_staggered): blank below min_cell
        counts = event_table["n_treated_municipalities"].astype("Int64")
        event_table["n_treated_municipalities"] = counts.where(counts >= min_cell)
        # an event time resting on fewer than min_cell child-years (one per child) is not published
        rows = event_table["n_child_years"].astype("Int64")
        thin = (rows < min_cell).fillna(True).astype(bool)
        event_table.loc[thin, ["estimate", "se", "ci_low", "ci_high", "p_value"]] = np.nan
        event_table["n_child_years"] = rows.where(~thin)
        outputs.append((events_path, event_table.sort_values(["outcome", "event_time"])))
    if pretrend_path is not None:
        outputs.append((pretrend_path, pd.DataFrame([p for p, _ in sensitivity], columns=PRETREND_COLUMNS)))
    if honest_path is not None:
        honest = pd.DataFrame([r for _, rows in sensitivity for r in rows], columns=HONEST_COLUMNS)
        outputs.append((honest_path, honest))
    if inference_path is not None:
        outputs.append((inference_path, pd.DataFrame(inference, columns=INFERENCE_COLUMNS)))
    for path, frame in outputs:
        write_csv(frame, path)
    progress(f"estimate: wrote {len(table)} estimates to {estimates_path} and trends to {trends_path}")
