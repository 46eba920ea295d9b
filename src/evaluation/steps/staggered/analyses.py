r"""The staggered analyses of one outcome, each returning a tidy table (pure functions on frames).

Callaway-Sant'Anna (2021)
    :func:`cs_analysis` runs :func:`evaluation.methods.did.att_gt` on the municipality-year panel of
    :func:`evaluation.steps.staggered.panels.municipality_panel` (unit = municipality, group =
    ``first_treat``, 0 = never adopting; weights = the municipality's sum of matching weights over its
    child-years, ``unit_weight``). In the pipeline those means are the matching-weighted means of the
    matched children's child-years, the headline's sample (:mod:`evaluation.steps.staggered.panels`). It derives the
    simple ATT (eq. 3.10's :math:`\theta^O_{sel}` analogue: cohort-size weighted post-treatment
    cells), the dynamic average of the post-treatment event times that at least
    ``estimation.min_treated_municipalities`` adopters reach (:func:`supported_max_event`), the
    event-study table and the joint pre-trend test (:mod:`evaluation.methods.eventstudy`).
Naive vs robust
    :func:`two_by_two` is the classic, naive 2x2 DiD that before/after evaluations of the Herning model
    reported: the earliest cohort (Herning) against never-adopting municipalities, on *all* their
    children, unweighted (no matching), the mean over
    child-years of all years from its adoption year on minus the mean over all years before it, by
    OLS with group, period and interaction terms on child-years, standard errors clustered by
    municipality (G - 1 degrees of freedom). With one treated municipality the clustered standard
    error rests on a single treated cluster and is unreliable (Conley and Taber 2011): the row is
    there to show what the naive design says, not to be believed. :func:`twfe` is
    :math:`\bar y_{mt} = \alpha_m + \lambda_t + \beta D_{mt} + \varepsilon_{mt}` on the
    municipality-year means with weights :math:`W_{mt}` (``weight_sum``), clustered by municipality; with staggered
    adoption and effects that change over event time :math:`\beta` is a weighted average of 2x2
    DiDs with possibly negative weights on some ATT(g,t) (Goodman-Bacon 2021).
Heterogeneity
    :func:`heterogeneity` repeats the CS analysis within subgroups of children (life phase at entry,
    sex, prior placement), on the same (matched, weighted) child-years, and reports the simple ATT of each.
Dose-response
    :func:`dose` is :func:`evaluation.methods.dose.dose_response` of the municipality-year mean outcome on
    caseload per caseworker, with municipality and year effects, weights :math:`W_{mt}`, optionally
    the reform indicator as a control, clustered by municipality.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ModelNotIdentifiedError
from evaluation.methods.did import AttGtResult, att_gt
from evaluation.methods.dose import dose_response
from evaluation.methods.eventstudy import PretrendTest, event_study, pretrend_test
from evaluation.methods.panel import fixed_effects
from evaluation.results import TIDY_COLUMNS, Estimate, TidyResult, tidy_estimates, tidy_rows
from evaluation.steps.staggered.panels import municipality_panel
from evaluation.steps.staggered.settings import StaggeredSettings

__all__ = ["CsAnalysis", "cs_analysis", "dose", "heterogeneity", "run_att_gt", "twfe", "two_by_two"]

Progress = Callable[[str], None]
_NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, np.nan, 0, 0, None)


@contextmanager
def _forward_warnings(progress: Progress, what: str) -> Iterator[None]:
    """Pass the estimators' warnings (dropped units, skipped cells) to the step log instead of hiding them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for message in dict.fromkeys(str(w.message) for w in caught):
        progress(f"{what}: {message}")


def run_att_gt(means: pd.DataFrame, outcome: str, settings: StaggeredSettings) -> AttGtResult:
    """ATT(g,t) on a municipality-year panel with the configured options and child-year weights."""
    return att_gt(
        means,
        outcome=outcome,
        unit="municipality",
        time="year",
        group="first_treat",
        covariates=list(settings.covariates) or None,
        weights="unit_weight",
        **settings.att_gt_options(),
    )


@dataclass(frozen=True)
class CsAnalysis(TidyResult):
    """Callaway-Sant'Anna results of one outcome: ATT(g,t), summaries, event study and pre-trend test."""

    outcome: str
    result: AttGtResult
    simple: Estimate
    dynamic: Estimate
    event_study: pd.DataFrame
    pretrend: PretrendTest | None

    def att_gt_table(self) -> pd.DataFrame:
        """``outcome, group, time, att, se, ci_low, ci_high, band_low, band_high, n_treated, n_control, ...``.

        ``ci_*`` are pointwise normal intervals from ``se``; with the bootstrap, ``band_*`` are the
        simultaneous sup-t bands over all ATT(g,t) (R ``did`` ``cband``), without it empty.
        """
        tab = self.result.table.copy()
        z = _z(self.result.inference.alpha)
        # without the bootstrap there is no simultaneous band: the columns stay, empty
        no_band = pd.Series(np.nan, index=tab.index)
        bands = (
            {"band_low": tab["ci_low"], "band_high": tab["ci_high"]}
            if self.result.inference.bootstrap
            else {"band_low": no_band, "band_high": no_band}
        )
        out = pd.DataFrame(
            {
                "outcome": self.outcome,
                "group": tab["group"],
                "time": tab["time"],
                "att": tab["att"],
                "se": tab["se"],
                "ci_low": tab["att"] - z * tab["se"],
                "ci_high": tab["att"] + z * tab["se"],
                **bands,
                "n_treated": tab["n_treated"],
                "n_control": tab["n_control"],
                "base_period": tab["base_period"],
                "post": tab["post"].astype(int),
            }
        )
        return out

    def event_study_table(self) -> pd.DataFrame:
        """``outcome, event_time, att, se, ci_low, ci_high, band_low, band_high, pre, n_treated``.

        Without the bootstrap there is no simultaneous band: ``band_low`` and ``band_high`` are empty.
        """
        tab = self.event_study.copy()
        if not self.result.inference.bootstrap:
            tab["band_low"] = tab["band_high"] = np.nan
        tab["pre"] = tab["pre"].astype(int)
        tab.insert(0, "outcome", self.outcome)
        return tab

    def tidy(self) -> pd.DataFrame:
        """Return the simple and the dynamic ATT (``"ATT(simple)"``, ``"ATT(dynamic)"``), then the event study.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control, event_time, band_low, band_high,
            pre``: :attr:`simple`, :attr:`dynamic`, then the rows of :attr:`event_study` (``"ATT(e=<event
            time>)"``, pointwise normal intervals, no p-value).
        """
        summaries = tidy_estimates({"ATT(simple)": self.simple, "ATT(dynamic)": self.dynamic})
        return tidy_rows(self.event_study, {"e": "event_time"}, estimate="att", first=summaries)

    def _heading(self) -> str:
        test = "" if self.pretrend is None else f"; joint pre-trend test p = {self.pretrend.p_value:.3g}"
        return f"Callaway-Sant'Anna analysis of {self.outcome}{test}"

    def pretrend_row(self) -> dict[str, object]:
        """``outcome, statistic, df, p_value`` (missing numbers when there is nothing to test)."""
        if self.pretrend is None:
            return {"outcome": self.outcome, "statistic": np.nan, "df": 0, "p_value": np.nan}
        return {
            "outcome": self.outcome,
            "statistic": self.pretrend.statistic,
            "df": self.pretrend.df,
            "p_value": self.pretrend.p_value,
        }


def _z(alpha: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(1 - alpha / 2))


def supported_max_event(means: pd.DataFrame, min_treated: int) -> int | None:
    """Return the last event time that at least ``min_treated`` adopting municipalities reach in the data.

    The dynamic average weights every event time equally, so event times resting on one or two early
    adopters would otherwise count as much as the adoption year (``estimation.min_treated_municipalities``).
    None when no event time has that many adopters (then every event time is kept).
    """
    cohorts = means.loc[means["first_treat"] > 0].groupby("municipality")["first_treat"].first()
    last = int(means["year"].max())
    reach = (last - cohorts).to_numpy()
    supported = [e for e in range(int(reach.max(initial=-1)) + 1) if int((reach >= e).sum()) >= min_treated]
    return max(supported) if supported else None


def cs_analysis(
    means: pd.DataFrame, outcome: str, settings: StaggeredSettings, progress: Progress = print
) -> CsAnalysis:
    """Callaway-Sant'Anna analysis of ``outcome`` on a municipality-year panel (module docstring)."""
    with _forward_warnings(progress, f"att_gt {outcome}"):
        result = run_att_gt(means, outcome, settings)
        simple = result.aggregate("simple").overall
        supported = supported_max_event(means, settings.min_treated_municipalities)
        dynamic = result.aggregate("dynamic", max_e=np.inf if supported is None else supported)
        dynamic = dynamic.overall
        table = event_study(result)
    try:
        pretrend = pretrend_test(result)
    except ModelNotIdentifiedError as exc:
        progress(f"pre-trend test {outcome}: not computed ({exc})")
        pretrend = None
    return CsAnalysis(outcome, result, simple, dynamic, table, pretrend)


def two_by_two(panel: pd.DataFrame, outcome: str, *, alpha: float = 0.05) -> Estimate:
    """Classic 2x2 DiD: earliest cohort vs never adopting, years from adoption vs years before (module docstring).

    Returns
    -------
    Estimate
        The interaction coefficient (difference of the four child-year means); ``n_treated`` and
        ``n_control`` count municipalities.
    """
    first = panel["first_treat"]
    if not (first > 0).any() or not (first == 0).any():
        raise ModelNotIdentifiedError("2x2 DiD: needs an adopting and a never-adopting municipality")
    g1 = int(first[first > 0].min())
    sample = panel.loc[first.isin([0, g1]) & panel[outcome].notna(), ["municipality", "year", "first_treat", outcome]]
    sample = sample.assign(
        adopter=(sample["first_treat"] == g1).astype(float),
        after=(sample["year"] >= g1).astype(float),
    )
    sample["adopter_after"] = sample["adopter"] * sample["after"]
    fit = fixed_effects(
        sample,
        outcome=outcome,
        regressors=["adopter", "after", "adopter_after"],
        unit="municipality",
        time="year",
        entity_effects=False,
        time_effects=False,
        cluster="municipality",
        alpha=alpha,
    )
    munis = sample.groupby("adopter")["municipality"].nunique()
    return fit.estimate("adopter_after", n_treated=int(munis.get(1.0, 0)), n_control=int(munis.get(0.0, 0)))


def twfe(means: pd.DataFrame, outcome: str, *, alpha: float = 0.05) -> Estimate:
    """Two-way fixed effects on municipality-year means, weights ``weight_sum``, clustered by municipality."""
    fit = fixed_effects(
        means,
        outcome=outcome,
        regressors=["treated"],
        unit="municipality",
        time="year",
        cluster="municipality",
        weights="weight_sum",
        alpha=alpha,
    )
    adopters = means.loc[means["treated"] == 1, "municipality"].nunique()
    never = means.loc[means["first_treat"] == 0, "municipality"].nunique()
    return fit.estimate("treated", n_treated=int(adopters), n_control=int(never))


def heterogeneity(
    panel: pd.DataFrame,
    outcome: str,
    subgroup_columns: dict[str, str],
    settings: StaggeredSettings,
    progress: Progress,
    *,
    weight: str | None = None,
) -> pd.DataFrame:
    """Estimate the simple CS ATT of ``outcome`` within each subgroup value (module docstring).

    Parameters
    ----------
    panel : pandas.DataFrame
        Child-year panel with the subgroup columns.
    subgroup_columns : dict of str to str
        Subgroup variable name -> panel column holding its values.
    weight : str or None
        Column of the matching weights (None: every child-year weighs 1).

    Returns
    -------
    pandas.DataFrame
        ``outcome, subgroup_variable, subgroup, estimate, se, ci_low, ci_high, p_value, n`` with ``n`` the
        distinct children of the subgroup with a value of the outcome.
    """
    rows = []
    for variable, column in subgroup_columns.items():
        for value, part in panel.loc[panel[outcome].notna()].groupby(column, sort=True, dropna=True):
            what = f"heterogeneity {outcome} {variable}={value}"
            try:
                with _forward_warnings(progress, what):
                    means = municipality_panel(part, outcome, settings.covariates, weight=weight)
                    fit = run_att_gt(means, outcome, settings)
                    est = fit.aggregate("simple").overall
            except ModelNotIdentifiedError as exc:
                progress(f"{what}: not estimated ({exc})")
                est = _NAN_ESTIMATE
            rows.append(
                {
                    "outcome": outcome,
                    "subgroup_variable": variable,
                    "subgroup": str(value),
                    **est.tidy().iloc[0][TIDY_COLUMNS[1:]].to_dict(),
                    "n": int(part["person_id"].nunique()),
                }
            )
    return pd.DataFrame(
        rows,
        columns=columns_of("results/{release}/estimate/heterogeneity.csv"),
    )


def dose(means: pd.DataFrame, caseload: pd.DataFrame, outcome: str, settings: StaggeredSettings) -> dict[str, object]:
    """Within-municipality slope of the mean outcome in caseload per caseworker, per ``settings.dose_per`` cases.

    Returns
    -------
    dict
        ``outcome, exposure, per, control_for_reform, estimate, se, ci_low, ci_high, p_value,
        n_municipalities, n_municipality_years``.
    """
    data = means.merge(caseload, on=["municipality", "year"], how="inner", validate="one_to_one")
    data = data.loc[data[[outcome, "caseload_per_worker"]].notna().all(axis=1)]
    controls = ("treated",) if settings.dose_control_for_reform else ()
    result = dose_response(
        data,
        outcome,
        "caseload_per_worker",
        controls=controls,
        weights="weight_sum",
        cluster="municipality",
        per=settings.dose_per,
        alpha=settings.alpha,
    )
    row = result.tidy().iloc[0]
    return {
        "outcome": outcome,
        "exposure": "caseload_per_worker",
        "per": settings.dose_per,
        "control_for_reform": int(settings.dose_control_for_reform),
        **row[TIDY_COLUMNS[1:]].to_dict(),
        "n_municipalities": int(row["n_treated"]),
        "n_municipality_years": int(row["nobs"]),
    }
