"""Sentences of the economics text whose words follow their 95 % interval.

A net cost, a change in costs, a payback year or a budget effect is never stated
without its interval, and the interval decides the words (:func:`verdict`): a
saving or a fall only when the whole interval lies below zero, a cost or a rise
only when it lies above zero, and otherwise "cannot be distinguished from zero",
with neither a saving nor a cost named. The payback year's interval comes from
the payback years of the bootstrap replications; a bound that falls on a
replication that does not pay back within the follow-up of :math:`H` years reads
"later than year :math:`H`". Where the economics step wrote them
(``net_saving_probability``, ``cumulative_saving_probability``,
``payback_probability`` in ``results/economics.csv``), the shares of bootstrap
replications below zero or paid back go with the sentences.

The report only formats: every number comes from ``results/economics.csv`` and
``results/economics/budget.csv`` (:func:`sentence_variables`, :func:`budget_sentences`).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from evaluation.report.numbers import check_language, format_number, format_percent
from evaluation.report.sentences import project_words
from evaluation.report.tables import MISSING

__all__ = [
    "Verdict",
    "budget_sentences",
    "interval_sentence",
    "payback_sentence",
    "sentence_variables",
    "verdict",
]

Verdict = Literal["below", "above", "zero"]
MILLION = 1e6

#: the file of the sentences, in ``reports/_text/<language>/``: topic -> verdict -> template (fields: ``abs``, the
#: size without sign; ``est``, signed; ``lo``, ``hi``; ``prob``, a probability clause or nothing; ``h``, follow-up
#: years; ``year``, budget year), ``probability`` (the probability clauses) and ``years`` (the payback year's words)
WORDS = "economics-sentences.yml"


def verdict(low: float, high: float) -> Verdict:
    """Return what an interval allows the text to say: ``"below"`` or ``"above"`` zero, or ``"zero"``.

    Parameters
    ----------
    low, high : float
        The interval's bounds; a missing bound is unbounded on its side.

    Returns
    -------
    {"below", "above", "zero"}
        ``"below"`` when the whole interval lies below zero (a saving, a fall), ``"above"`` when it lies
        above zero (a cost, a rise), and ``"zero"`` when it includes zero or a bound is missing: the
        result cannot be distinguished from zero and the text names neither a saving nor a cost.
    """
    if pd.notna(high) and high < 0:
        return "below"
    if pd.notna(low) and low > 0:
        return "above"
    return "zero"


def interval_sentence(
    topic: str,
    estimate: float,
    low: float,
    high: float,
    *,
    language: str = "da",
    scale: float = 1.0,
    decimals: int = 0,
    **fields: str,
) -> str:
    """Return a sentence on an estimate and its 95 % interval, in words that follow the interval (:func:`verdict`).

    Parameters
    ----------
    topic : str
        A topic of :data:`WORDS`: ``staff``, ``net_cost``, ``measure``, ``cumulative``, ``budget_staff``,
        ``budget_net`` or ``budget_cumulative``.
    estimate, low, high : float
        The estimate and its interval (missing values are shown as an en dash).
    language : {"da", "en"}, default "da"
        Words and number format.
    scale, decimals : float, int
        The numbers are shown divided by ``scale`` (e.g. millions) with ``decimals`` decimals.
    **fields : str
        Further fields of the template, e.g. ``prob`` (a probability clause, or empty) and ``h``.

    Returns
    -------
    str
    """
    language = check_language(language)

    def fmt(value: float) -> str:
        return MISSING if pd.isna(value) else format_number(value / scale, decimals, language=language)

    template = project_words(language, WORDS)[topic][verdict(low, high)]
    values = {"abs": fmt(abs(estimate)), "est": fmt(estimate), "lo": fmt(low), "hi": fmt(high), "prob": ""}
    return template.format(**{**values, **fields})


def payback_sentence(
    estimate: float,
    low: float,
    high: float,
    *,
    horizon_years: int,
    probability: float = float("nan"),
    language: str = "da",
) -> str:
    """Return the payback year with its 95 % interval (missing bound: "later than year H") and the share paid back.

    Parameters
    ----------
    estimate : float
        The payback year; missing when the model does not pay back within the follow-up.
    low, high : float
        Its interval from the replications' payback years; a missing bound is later than year ``horizon_years``.
    horizon_years : int
        Follow-up years :math:`H`.
    probability : float, optional
        Share of the bootstrap replications that pay back within the follow-up (left out when missing).
    language : {"da", "en"}, default "da"
        Words and number format.

    Returns
    -------
    str
    """
    language = check_language(language)
    sentences = project_words(language, WORDS)
    words, clauses = sentences["years"], sentences["probability"]

    def year(value: float) -> str:
        return (
            words["later_than"].format(horizon=horizon_years)
            if pd.isna(value)
            else words["year"].format(year=int(value))
        )

    bounds = [year(low), year(high)]
    ci = bounds[0] if bounds[0] == bounds[1] else f"{bounds[0]} {words['to']} {bounds[1]}"
    prob = (
        ""
        if pd.isna(probability)
        else clauses["payback_share"].format(h=horizon_years, p=format_percent(probability, 1, language=language))
    )
    if pd.isna(estimate):
        return clauses["payback_never"].format(h=horizon_years, ci=ci, prob=prob)
    return clauses["payback_in"].format(year=int(estimate), ci=ci, prob=prob)


def below_zero(probability: float, language: str) -> str:
    """Return the clause "below zero in p of the bootstrap replications", or nothing when the share is missing."""
    if pd.isna(probability):
        return ""
    return project_words(language, WORDS)["probability"]["below_zero"].format(
        p=format_percent(probability, 1, language=language)
    )


def _estimate(economics: pd.DataFrame, item: str) -> tuple[float, float, float]:
    """Return ``estimate, ci_low, ci_high`` of an item of ``economics.csv`` (NaN when the file lacks it)."""
    rows = economics[economics["item"].astype(str) == item]
    row = None if rows.empty else rows.iloc[0]
    nan = float("nan")
    return (nan, nan, nan) if row is None else (row["estimate"], row["ci_low"], row["ci_high"])


def sentence_variables(economics: pd.DataFrame, years: int, language: str = "da") -> dict[str, str]:
    """Return the sentences on net cost, measure costs, cumulative cost and payback, and the shares of draws.

    Parameters
    ----------
    economics : pandas.DataFrame
        ``results/economics.csv``.
    years : int
        Follow-up years :math:`H`.
    language : {"da", "en"}, default "da"
        Words and number format.

    Returns
    -------
    dict of str to str
        ``econ_staff_sentence`` (extra FTE and staff cost per child-year), ``econ_net_cost_sentence``,
        ``econ_measure_sentence``, ``econ_cumulative_sentence``, ``econ_payback_sentence``,
        ``econ_net_saving_probability``, ``econ_cumulative_saving_probability``
        and ``econ_payback_probability`` (an en dash when the file lacks the share).
    """
    language = check_language(language)
    values: dict[str, str] = {}
    shares = {}
    for key, item in (
        ("net_saving", "net_saving_probability"),
        ("cumulative_saving", "cumulative_saving_probability"),
        ("payback", "payback_probability"),
    ):
        shares[key] = _estimate(economics, item)[0]
        values[f"econ_{key}_probability"] = (
            MISSING if pd.isna(shares[key]) else format_percent(shares[key], 1, language=language)
        )
    cost = _estimate(economics, "staff_cost_per_year")

    def kroner(value: float) -> str:
        return MISSING if pd.isna(value) else format_number(value, 0, language=language)

    values["econ_staff_sentence"] = interval_sentence(
        "staff",
        *_estimate(economics, "extra_fte_per_case_year"),
        language=language,
        decimals=3,
        per_fte=kroner(_estimate(economics, "cost_per_fte_year")[0]),
        cost=kroner(cost[0]),
        cost_lo=kroner(cost[1]),
        cost_hi=kroner(cost[2]),
    )
    values["econ_net_cost_sentence"] = interval_sentence(
        "net_cost",
        *_estimate(economics, "net_cost_per_year"),
        language=language,
        prob=below_zero(shares["net_saving"], language),
    )
    values["econ_measure_sentence"] = interval_sentence(
        "measure", *_estimate(economics, "measure_cost_change_per_year"), language=language
    )
    values["econ_cumulative_sentence"] = interval_sentence(
        "cumulative",
        *_estimate(economics, "cumulative_net_cost"),
        language=language,
        h=str(years),
        prob=below_zero(shares["cumulative_saving"], language),
    )
    values["econ_payback_sentence"] = payback_sentence(
        *_estimate(economics, "payback_year"), horizon_years=years, probability=shares["payback"], language=language
    )
    return values


def budget_sentences(budget: pd.DataFrame, share: float = float("nan"), *, language: str = "da") -> dict[str, str]:
    """Return the budget sentences, in millions of DKK (FTE with one decimal), each with its interval.

    Parameters
    ----------
    budget : pandas.DataFrame
        ``results/economics/budget.csv``.
    share : float, optional
        Share of the bootstrap replications with a cumulative net cost below zero; the budget is the
        per-child-year result times a positive number of cases, so the share is the same.
    language : {"da", "en"}, default "da"
        Words and number format.

    Returns
    -------
    dict of str to str
        ``budget_staff_sentence`` (FTE and staff cost of the first budget year),
        ``budget_net_cost_sentence`` (net cost of the first and the last budget year) and
        ``budget_cumulative_sentence`` (cumulative net cost after the last budget year).
    """
    language = check_language(language)
    years = sorted(int(y) for y in budget["budget_year"].unique())

    def row(item: str, year: int) -> tuple[float, float, float]:
        rows = budget[(budget["item"].astype(str) == item) & (budget["budget_year"] == year)]
        nan = float("nan")
        return (
            (nan, nan, nan) if rows.empty else tuple(float(rows[c].iloc[0]) for c in ("estimate", "ci_low", "ci_high"))
        )

    if not years:
        return {k: MISSING for k in ("budget_staff_sentence", "budget_net_cost_sentence", "budget_cumulative_sentence")}
    first, last = years[0], years[-1]
    mio = {"scale": MILLION, "decimals": 1, "language": language}

    def millions(value: float) -> str:
        return MISSING if pd.isna(value) else format_number(value / MILLION, 1, language=language)

    cost = row("staff_cost", first)
    staff = interval_sentence(
        "budget_staff",
        *row("extra_fte", first),
        language=language,
        decimals=1,
        cost=millions(cost[0]),
        cost_lo=millions(cost[1]),
        cost_hi=millions(cost[2]),
    )
    clauses = [
        interval_sentence("budget_net", *row("net_cost", year), year=str(year), **mio)
        for year in dict.fromkeys((first, last))
    ]
    net = "; ".join(clauses)
    cumulative = interval_sentence(
        "budget_cumulative",
        *row("cumulative_net_cost", last),
        year=str(last),
        prob=below_zero(share, language),
        **mio,
    )
    return {
        "budget_staff_sentence": staff,
        "budget_net_cost_sentence": net[:1].upper() + net[1:] + ".",
        "budget_cumulative_sentence": cumulative,
    }
