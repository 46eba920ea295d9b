"""Which analyses of a report could not be made, and why, read from the results files.

A study with one to four adopting municipalities, or a short or small extract, leaves some analyses
undefined: a standard error clustered on one treated municipality, an event study whose every year rests
on fewer adopters than ``estimation.min_treated_municipalities``, HonestDiD bounds without such years,
comparisons between adoption cohorts when all adopted in one year, a synthetic control without donors.
The steps write what they could estimate and leave the rest empty or out; :func:`analysis_limits` finds
the gaps in the results files and names the reason from the facts there (the number of adopting
municipalities, the threshold, the municipalities in the analysis). The report shows missing values as
"–" and unbounded interval ends as "−∞" / "∞" (:mod:`evaluation.report.numbers`), and its summary lists
these limits in words (text part ``summary-limits``, sentences in ``reports/_text/<language>/limits.yml``).

With one to four adopting municipalities the few-cluster policy chooses randomization inference, and the
summary opens with why (text part ``summary-few-treated``, :func:`few_treated_variables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.report.inference_parts import main_outcome
from evaluation.report.inputs import ReportInputs
from evaluation.report.labels import OUTCOME_ORDER, label, ordered
from evaluation.report.numbers import check_language, format_count, format_number, format_p_value, format_percent

__all__ = ["WORDS", "Limit", "analysis_limits", "few_treated_variables", "limits_markdown"]

#: the file of the sentences, in ``reports/_text/<language>/`` (read with
#: :func:`evaluation.report.sentences.read_sentences`)
WORDS = "limits.yml"
#: the staggered-adoption estimators whose results are checked, in the report's order
STAGGERED = ("did_2x2", "twfe", "cs_simple", "cs_dynamic")
#: comparisons of the Goodman-Bacon decomposition between adoption cohorts
COHORT_COMPARISONS = ("earlier_vs_later", "later_vs_earlier")
#: results files that hold no row when their step could estimate nothing (ReportInputs fields)
NO_RESULT = ("inference", "event_study_main", "economics", "power")
#: outcomes the event-study section gives HonestDiD bounds for (the primary outcomes of the default design)
HONEST_OUTCOMES = ("sdq", "cost_per_child")
#: outcomes whose headline is a change relative to the level expected without the model (``estimates.csv``)
RELATIVE_OUTCOMES = ("breakdown_rate",)
#: outcomes of the synthetic-control step (:data:`evaluation.steps.fewclusters.synth_step.SYNTH_OUTCOMES`)
SYNTH_OUTCOMES = ("spending_per_child", "placement_rate", "family_care_share")
#: decimals of the synthetic DiD's outcomes in running text
SYNTH_DECIMALS = {"spending_per_child": 0, "placement_rate": 1, "family_care_share": 3}


@dataclass(frozen=True)
class Limit:
    """An analysis that could not be made.

    Attributes
    ----------
    code
        The kind of limit: a key of ``limits.yml`` (``few_treated``, ``honest_did_few_treated``, ...).
    values
        The facts its sentence names (``n_treated``, ``outcomes``, ...), as raw values; formatted by
        :func:`limits_markdown`.
    """

    code: str
    values: dict[str, object] = field(default_factory=dict)


def n_treated(inputs: ReportInputs) -> int:
    """Adopting municipalities in the analysis: the treated clusters of the inference step, else of the study."""
    inference = inputs.inference
    if inference is not None and len(inference):
        return int(pd.to_numeric(inference["n_treated_clusters"], errors="coerce").max())
    last = int(inputs.study["last_year"])
    return sum(int(t["adoption_year"]) <= last for t in inputs.study["treated"])


def _chosen(inference: pd.DataFrame) -> pd.DataFrame:
    return inference.loc[inference["chosen"].astype(str).str.strip().str.lower().isin(["true", "1", "1.0"])]


def _outcomes_where(frame: pd.DataFrame | None, mask: pd.Series) -> list[str]:
    if frame is None or frame.empty:
        return []
    return ordered(set(frame.loc[mask, "outcome"].astype(str)), OUTCOME_ORDER)


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def _unbounded(frame: pd.DataFrame) -> pd.Series:
    """Rows whose confidence interval is unbounded on at least one side."""
    return _numbers(frame, "ci_low").abs().eq(np.inf) | _numbers(frame, "ci_high").abs().eq(np.inf)


def analysis_limits(inputs: ReportInputs) -> list[Limit]:
    """Find the analyses the results files show could not be made, with the facts of their reasons.

    Parameters
    ----------
    inputs : ReportInputs
        The results of one release.

    Returns
    -------
    list of Limit
        In the order of the report; empty when every analysis could be made.
    """
    treated = n_treated(inputs)
    min_treated = int(inputs.study["min_treated_municipalities"])
    facts = {"n_treated": treated, "min_treated": min_treated}
    limits: list[Limit] = []
    estimates = inputs.estimates
    main = estimates.loc[(estimates["analysis"].astype(str) == "main") & (estimates["subgroup"].fillna("all") == "all")]
    open_main = _outcomes_where(main, _unbounded(main))
    # a relative change whose counterfactual level is estimated at or below zero has no point estimate, and its
    # interval's open end comes from that level, not from the inference
    undefined = _outcomes_where(main, _numbers(main, "estimate").isna() & _numbers(main, "ci_low").notna())
    undefined = [o for o in undefined if o in RELATIVE_OUTCOMES]
    inference = inputs.inference
    randomization = False
    if inference is not None and len(inference):
        chosen = _chosen(inference)
        headline = (
            chosen.loc[chosen["outcome"].astype(str) == main_outcome(chosen["outcome"])] if len(chosen) else chosen
        )
        randomization = bool((headline["inference"].astype(str) == "randomization_inference").any())
        if randomization:
            limits.append(Limit("few_treated", facts))
        unbounded = _outcomes_where(chosen, _unbounded(chosen))
        if randomization:  # the headline of every outcome uses the same inference: its open intervals too
            unbounded = ordered(set(unbounded) | (set(open_main) - set(undefined)), OUTCOME_ORDER)
        if unbounded:
            clusters = int(_numbers(chosen, "n_clusters").max())
            limits.append(Limit("unbounded_interval", {**facts, "outcomes": unbounded, "n_clusters": clusters}))
    # an outcome without a main row was not estimated (a row with empty numbers was suppressed for disclosure,
    # or, for a relative change, is undefined: above)
    missing = [o for o in OUTCOME_ORDER if o not in set(main["outcome"].astype(str))]
    if missing:
        limits.append(Limit("main_not_estimated", {**facts, "outcomes": missing}))
    if undefined:
        limits.append(Limit("relative_undefined", {**facts, "outcomes": undefined}))
    if not randomization:
        relative = [o for o in open_main if o in RELATIVE_OUTCOMES and o not in undefined]
        if relative:
            limits.append(Limit("unbounded_relative", {**facts, "outcomes": relative}))
    empty = [name for name in NO_RESULT if getattr(inputs, name) is not None and getattr(inputs, name).empty]
    if empty:
        limits.append(Limit("no_result", {**facts, "analyses": empty}))
    economics = inputs.economics
    if economics is not None and not economics.empty and treated < min_treated:
        # the bootstrap draws municipalities within the adopters: with so few, every draw holds the same ones
        limits.append(Limit("economics_few_treated", facts))
    limits += _event_study_limits(inputs, facts)
    limits += _staggered_limits(inputs, facts)
    limits += _synth_limits(inputs, facts)
    return limits


def _event_study_limits(inputs: ReportInputs, facts: dict[str, object]) -> list[Limit]:
    limits: list[Limit] = []
    events = inputs.event_study_main
    if events is not None and len(events):
        post = events.loc[_numbers(events, "pre") == 0]
        thin = post.groupby(post["outcome"].astype(str))["few_municipalities"].agg(lambda f: bool((f == 1).all()))
        if len(thin) and thin.all():
            limits.append(Limit("event_study_intervals", facts))
    pretrend = inputs.pretrend_main
    if pretrend is not None and len(pretrend):
        untested = _outcomes_where(pretrend, _numbers(pretrend, "statistic").isna())
        if untested:
            limits.append(Limit("pretrend_main", {**facts, "outcomes": untested}))
    honest = inputs.honest_did
    if honest is not None and events is not None and len(events):
        bounded = set(honest["outcome"].astype(str)) if len(honest) else set()
        drawn = set(events["outcome"].astype(str))
        missing = [o for o in HONEST_OUTCOMES if o in drawn and o not in bounded]
        few = int(facts["n_treated"]) < int(facts["min_treated"])  # type: ignore[call-overload]
        if missing and few and not bounded:
            limits.append(Limit("honest_did_few_treated", facts))
        elif missing:
            limits.append(Limit("honest_did_few_years", {**facts, "outcomes": missing}))
    return limits


def _staggered_limits(inputs: ReportInputs, facts: dict[str, object]) -> list[Limit]:
    limits: list[Limit] = []
    robust = inputs.naive_vs_robust
    if robust is not None and len(robust):
        rows = robust.loc[robust["estimator"].astype(str).isin(STAGGERED)]
        for code, mask in (
            ("staggered_not_estimated", rows["estimate"].isna()),
            ("staggered_no_se", rows["estimate"].notna() & rows["se"].isna()),
        ):
            hit = rows.loc[mask]
            if len(hit):
                estimators = ordered(set(hit["estimator"].astype(str)), STAGGERED)
                outcomes = ordered(set(hit["outcome"].astype(str)), OUTCOME_ORDER)
                limits.append(Limit(code, {**facts, "estimators": estimators, "outcomes": outcomes}))
    pretrend = inputs.pretrend
    if pretrend is not None and len(pretrend):
        untested = _outcomes_where(pretrend, _numbers(pretrend, "statistic").isna())
        if untested:
            limits.append(Limit("staggered_pretrend", {**facts, "outcomes": untested}))
    bacon = inputs.bacon
    if bacon is not None and len(bacon):
        comparisons = set(bacon["comparison"].astype(str))
        if "treated_vs_never" in comparisons and not comparisons & set(COHORT_COMPARISONS):
            limits.append(Limit("bacon_one_cohort", facts))
    hetero = inputs.heterogeneity
    if hetero is not None and len(hetero):
        n = _numbers(hetero, "n")
        shown = n.notna() & (n >= inputs.min_cell)  # rows not left empty for disclosure
        no_estimate = int((shown & hetero["estimate"].isna()).sum())
        no_se = int((shown & hetero["estimate"].notna() & hetero["se"].isna()).sum())
        if no_estimate or no_se:
            limits.append(Limit("heterogeneity", {**facts, "k": no_estimate, "j": no_se, "m": int(shown.sum())}))
    return limits


def _synth_limits(inputs: ReportInputs, facts: dict[str, object]) -> list[Limit]:
    average = inputs.synth_average
    if average is None:
        return []
    fitted = set(average["outcome"].astype(str)) if len(average) else set()
    missing = [o for o in SYNTH_OUTCOMES if o not in fitted]
    return [Limit("synth_not_fitted", {**facts, "synth_outcomes": missing})] if missing else []


def _join(items: list[str], sentences: dict[str, str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {sentences['and']} " + items[-1]


def _in_sentence(name: str) -> str:
    """Return an outcome label for use inside a sentence: without its unit in brackets, lower case unless an acronym."""
    name = name.split(" (")[0]
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _format(limit: Limit, sentences: dict[str, str], language: str) -> str:
    values = dict(limit.values)
    words: dict[str, str] = {}
    for key, value in values.items():
        if key == "outcomes":
            words[key] = _join([_in_sentence(label("outcome", str(o), language)) for o in value], sentences)  # type: ignore[union-attr]
        elif key == "synth_outcomes":
            words[key] = _join([sentences[f"synth_{o}"] for o in value], sentences)  # type: ignore[union-attr]
        elif key == "analyses":
            words[key] = _join([sentences[f"analysis_{a}"] for a in value], sentences)  # type: ignore[union-attr]
        elif key == "estimators":
            words[key] = _join([label("estimator", str(e), language) for e in value], sentences)  # type: ignore[union-attr]
        else:
            words[key] = format_count(int(value), language=language)  # type: ignore[call-overload]
    n = int(values.get("n_treated", 0))  # type: ignore[call-overload]
    words["municipalities"] = sentences["municipality" if n == 1 else "municipalities"]
    words["municipalities_definite"] = sentences["municipality_definite" if n == 1 else "municipalities_definite"]
    return sentences[limit.code].format(**words)


def limits_markdown(limits: list[Limit], sentences: dict[str, str], *, language: str = "da") -> str:
    """Write the limits as a Markdown list, one sentence each (empty text when there are none)."""
    language = check_language(language)
    return "".join(f"- {_format(limit, sentences, language)}\n" for limit in limits)


def few_treated_variables(inputs: ReportInputs, sentences: dict[str, str]) -> dict[str, str]:
    """Return the words of the summary's opening on few adopting municipalities (text part ``summary-few-treated``).

    Keys: ``few_treated_count`` ("one adopting municipality", "3 adopting municipalities") and
    ``few_treated_sdid``: the synthetic DiD's effects in one sentence, for the adopting municipality when there
    is one and for the mean over the adopting municipalities when there are several (empty when the synthetic
    DiD has not run).
    """
    from evaluation.contract.codes import MUNICIPALITY

    language = check_language(inputs.language)
    n = n_treated(inputs)
    count = sentences["count_one"] if n == 1 else sentences["count_many"].format(n=format_count(n, language=language))
    values = {"few_treated_count": count, "few_treated_sdid": ""}
    sdid = inputs.synth_sdid
    if sdid is None or sdid.empty:
        return values
    where = sdid["municipality"].astype(str)
    units = sorted(int(m) for m in set(where) if m != "average")
    if not units:
        return values
    rows = sdid.loc[where == str(units[0])] if len(units) == 1 else sdid.loc[where == "average"]
    parts = []
    for outcome in [o for o in SYNTH_OUTCOMES if o in set(rows["outcome"].astype(str))]:
        row = rows.loc[rows["outcome"].astype(str) == outcome].iloc[0]
        d = SYNTH_DECIMALS[outcome]
        parts.append(
            sentences["sdid_effect"].format(
                outcome=sentences[f"synth_{outcome}"],
                estimate=format_number(row["att"], d, language=language, sign=True),
                low=format_number(row["ci_low"], d, language=language),
                high=format_number(row["ci_high"], d, language=language),
                p=format_p_value(row["p_value"], language=language),
                level=format_percent(row["level"], language=language),
            )
        )
    if parts and len(units) == 1:
        name = MUNICIPALITY.get(units[0], str(units[0]))
        values["few_treated_sdid"] = sentences["sdid_sentence"].format(name=name, effects=_join(parts, sentences))
    elif parts:
        values["few_treated_sdid"] = sentences["sdid_sentence_mean"].format(
            n=format_count(len(units), language=language), effects=_join(parts, sentences)
        )
    return values
