"""Tables and numbers of the staggered-adoption results: naive vs robust, heterogeneity, dose, multiplicity.

Reads the files of the pipeline step ``estimate_staggered`` (``results/estimate/``;
see :mod:`evaluation.staggered.run`) and formats them; nothing is re-estimated.
Estimates use each outcome's decimals (:func:`~evaluation.report.labels.outcome_decimals`);
counts pass the disclosure rule again (:func:`~evaluation.report.tables.suppress_small`),
and a count the step already left empty is shown as an en dash.
"""

from __future__ import annotations

import pandas as pd

from evaluation.report.labels import OUTCOME_ORDER, label, ordered, outcome_decimals
from evaluation.report.labels_results import ESTIMATOR_ORDER, SUBGROUP_VALUES
from evaluation.report.numbers import check_language, format_number, format_p_value
from evaluation.report.tables import MISSING, suppress_small

#: the level at which the text counts a test as significant
ALPHA = 0.05
_WORDS = {
    "da": {
        "to": "til",
        "rejects": "testen afviser parallelle forløb før indførelsen på 5 %-niveau",
        "not_rejects": "testen afviser ikke parallelle forløb før indførelsen på 5 %-niveau",
        "untestable": "der er ingen år før indførelsen at teste",
        "years": "år",
        "and": "og",
    },
    "en": {
        "to": "to",
        "rejects": "the test rejects parallel trends before adoption at the 5% level",
        "not_rejects": "the test does not reject parallel trends before adoption at the 5% level",
        "untestable": "there are no years before adoption to test",
        "years": "years",
        "and": "and",
    },
}


def p_text(value: float, *, language: str = "da") -> str:
    """Format a p-value for running text: ``"p = 0,043"``, ``"p < 0,001"``, or ``"p = –"`` when missing."""
    if pd.isna(value):
        return f"p = {MISSING}"
    shown = format_p_value(value, language=language)
    return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def _fmt(value: float, decimals: int, language: str) -> str:
    return MISSING if pd.isna(value) else format_number(value, decimals, language=language)


def _p(value: float, language: str) -> str:
    return MISSING if pd.isna(value) else format_p_value(value, language=language)


def subgroup_label(variable: str, value: str, *, language: str = "da") -> str:
    """Put a subgroup value in words: ``"0-6"`` of ``life_phase`` becomes ``"0–6 år"``, ``"female"`` ``"Pige"``."""
    language = check_language(language)
    if variable == "life_phase" and "-" in value:
        return value.replace("-", "\u2013") + " " + _WORDS[language]["years"]
    return SUBGROUP_VALUES[language].get(value, value)


def blank_repeats(*columns: list[str]) -> list[str]:
    """Blank the last column's label where it and every column before it repeat the row above (grouped rows).

    Examples
    --------
    >>> blank_repeats(["a", "a", "b"])
    ['a', '', 'b']
    """
    keys = list(zip(*columns, strict=True))
    return [key[-1] if i == 0 or key != keys[i - 1] else "" for i, key in enumerate(keys)]


def _ordered_rows(frame: pd.DataFrame, column: str, order: tuple[str, ...]) -> pd.DataFrame:
    outcome_rank = {o: i for i, o in enumerate(ordered(set(frame["outcome"].astype(str)), OUTCOME_ORDER))}
    rank = {name: i for i, name in enumerate(ordered(set(frame[column].astype(str)), order))}
    keyed = frame.assign(_o=frame["outcome"].astype(str).map(outcome_rank), _k=frame[column].astype(str).map(rank))
    return keyed.sort_values(["_o", "_k"], kind="stable").drop(columns=["_o", "_k"]).reset_index(drop=True)


def naive_robust_table(naive_vs_robust: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """One row per outcome and estimator, from the naive 2x2 DiD to the Callaway-Sant'Anna estimators.

    Parameters
    ----------
    naive_vs_robust : pandas.DataFrame
        ``results/estimate/naive_vs_robust.csv``.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings: outcome, estimator, estimate, standard error, 95 % CI and p-value.
    """
    language = check_language(language)
    frame = _ordered_rows(naive_vs_robust, "estimator", ESTIMATOR_ORDER)
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]
    to = _WORDS[language]["to"]
    col = lambda name: label("result_column", name, language)  # noqa: E731
    return pd.DataFrame(
        {
            col("outcome"): blank_repeats([label("outcome", o, language) for o in frame["outcome"]]),
            col("estimator"): [label("estimator", e, language) for e in frame["estimator"]],
            col("estimate"): [_fmt(v, d, language) for v, d in zip(frame["estimate"], decimals, strict=True)],
            col("se"): [_fmt(v, d, language) for v, d in zip(frame["se"], decimals, strict=True)],
            col("ci"): [
                f"{_fmt(a, d, language)} {to} {_fmt(b, d, language)}"
                for a, b, d in zip(frame["ci_low"], frame["ci_high"], decimals, strict=True)
            ],
            col("p_value"): [_p(p, language) for p in frame["p_value"]],
        }
    )


def heterogeneity_table(heterogeneity: pd.DataFrame, min_cell: int, *, language: str = "da") -> pd.DataFrame:
    """Show the overall ATT within subgroups of children, with 95 % CI, p-value and child-years.

    Parameters
    ----------
    heterogeneity : pandas.DataFrame
        ``results/estimate/heterogeneity.csv``.
    min_cell : int
        Disclosure threshold for the child-years.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, by outcome, then split and subgroup in the file's order.
    """
    language = check_language(language)
    outcome_rank = {o: i for i, o in enumerate(ordered(set(heterogeneity["outcome"].astype(str)), OUTCOME_ORDER))}
    frame = heterogeneity.assign(_o=heterogeneity["outcome"].astype(str).map(outcome_rank))
    frame = frame.sort_values("_o", kind="stable").reset_index(drop=True)
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]
    to = _WORDS[language]["to"]
    col = lambda name: label("result_column", name, language)  # noqa: E731
    outcomes = [label("outcome", o, language) for o in frame["outcome"]]
    splits = [label("subgroup_variable", v, language) for v in frame["subgroup_variable"]]
    return pd.DataFrame(
        {
            col("outcome"): blank_repeats(outcomes),
            col("subgroup_variable"): blank_repeats(outcomes, splits),
            col("subgroup"): [
                subgroup_label(str(v), str(s), language=language)
                for v, s in zip(frame["subgroup_variable"], frame["subgroup"], strict=True)
            ],
            col("estimate"): [_fmt(v, d, language) for v, d in zip(frame["estimate"], decimals, strict=True)],
            col("ci"): [
                f"{_fmt(a, d, language)} {to} {_fmt(b, d, language)}"
                for a, b, d in zip(frame["ci_low"], frame["ci_high"], decimals, strict=True)
            ],
            col("n"): suppress_small(frame["n"], min_cell, language=language),
        }
    )


def multiplicity_table(multiplicity: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """Unadjusted, Holm and Benjamini-Hochberg p-values, by outcome family.

    Parameters
    ----------
    multiplicity : pandas.DataFrame
        ``results/estimate/multiplicity.csv`` (``outcome, estimator, family, p_value, p_holm, p_bh``).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, primary family first.
    """
    language = check_language(language)
    family_rank = {
        f: i for i, f in enumerate(ordered(set(multiplicity["family"].astype(str)), ("primary", "secondary")))
    }
    frame = _ordered_rows(multiplicity, "estimator", ("did_twfe_matched", *ESTIMATOR_ORDER))
    frame = frame.assign(_f=frame["family"].astype(str).map(family_rank)).sort_values("_f", kind="stable")
    col = lambda name: label("result_column", name, language)  # noqa: E731
    families = [label("family", f, language) for f in frame["family"]]
    outcomes = [label("outcome", o, language) for o in frame["outcome"]]
    return pd.DataFrame(
        {
            col("family"): blank_repeats(families),
            col("outcome"): blank_repeats(families, outcomes),
            col("analysis"): [label("estimator", e, language) for e in frame["estimator"]],
            col("p_value"): [_p(p, language) for p in frame["p_value"]],
            col("p_holm"): [_p(p, language) for p in frame["p_holm"]],
            col("p_bh"): [_p(p, language) for p in frame["p_bh"]],
        }
    )


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {_WORDS[language]['and']} " + items[-1]


def staggered_variables(
    naive_vs_robust: pd.DataFrame | None,
    pretrend: pd.DataFrame | None,
    heterogeneity: pd.DataFrame | None,
    dose_response: pd.DataFrame | None,
    multiplicity: pd.DataFrame | None,
    *,
    language: str = "da",
) -> dict[str, str]:
    """Format the numbers the staggered sections' text quotes.

    Keys (``–`` where a result is absent, so that the text always resolves):

    - ``robust_<outcome>_<estimator>_{estimate,ci_low,ci_high}``: running-text precision;
    - ``pretrend_<outcome>_{statistic,df,p_text,verdict}``: the joint Wald test of the pre-adoption event times;
    - ``dose_<outcome>_{estimate,ci_low,ci_high,p_text}``, ``dose_per``, ``dose_n_municipalities``;
    - ``mult_<family>_{n,n_raw,n_holm,n_bh}``: tests, and those with p below 5 % before and after adjustment;
    - ``het_variables``: the subgroup splits in words.
    """
    language = check_language(language)
    words = _WORDS[language]
    values: dict[str, str] = {}
    outcomes = list(OUTCOME_ORDER)
    rows = (
        {} if naive_vs_robust is None else {(str(r.outcome), str(r.estimator)): r for r in naive_vs_robust.itertuples()}
    )
    for outcome in outcomes:
        text_d = outcome_decimals(outcome)[1]
        for estimator in ESTIMATOR_ORDER:
            row = rows.get((outcome, estimator))
            for stat in ("estimate", "ci_low", "ci_high"):
                value = float("nan") if row is None else getattr(row, stat)
                values[f"robust_{outcome}_{estimator}_{stat}"] = _fmt(value, text_d, language)
    tests = {} if pretrend is None else {str(r.outcome): r for r in pretrend.itertuples()}
    for outcome in outcomes:
        row = tests.get(outcome)
        statistic = float("nan") if row is None else row.statistic
        values[f"pretrend_{outcome}_statistic"] = _fmt(statistic, 1, language)
        values[f"pretrend_{outcome}_df"] = MISSING if row is None or pd.isna(row.df) else str(int(row.df))
        p_value = float("nan") if row is None else row.p_value
        values[f"pretrend_{outcome}_p_text"] = p_text(p_value, language=language)
        values[f"pretrend_{outcome}_verdict"] = (
            words["untestable"] if pd.isna(p_value) else words["rejects"] if p_value < ALPHA else words["not_rejects"]
        )
    doses = {} if dose_response is None else {str(r.outcome): r for r in dose_response.itertuples()}
    for outcome in outcomes:
        row = doses.get(outcome)
        decimals = outcome_decimals(outcome)[0]
        for stat in ("estimate", "ci_low", "ci_high"):
            values[f"dose_{outcome}_{stat}"] = _fmt(
                float("nan") if row is None else getattr(row, stat), decimals, language
            )
        p_value = getattr(row, "p_value", float("nan")) if row is not None else float("nan")
        values[f"dose_{outcome}_p_text"] = p_text(p_value, language=language)
    pers = dose_response["per"].dropna() if dose_response is not None else pd.Series(dtype=float)
    values["dose_per"] = _fmt(pers.iloc[0], 0, language) if len(pers) else MISSING
    counts = dose_response.get("n_municipalities") if dose_response is not None else None
    values["dose_n_municipalities"] = (
        _fmt(counts.max(), 0, language) if counts is not None and counts.notna().any() else MISSING
    )
    for family in ("primary", "secondary"):
        part = pd.DataFrame() if multiplicity is None else multiplicity[multiplicity["family"].astype(str) == family]
        values[f"mult_{family}_n"] = str(len(part))
        for key, column in (("raw", "p_value"), ("holm", "p_holm"), ("bh", "p_bh")):
            values[f"mult_{family}_n_{key}"] = str(int((part[column] < ALPHA).sum())) if len(part) else "0"
    splits = [] if heterogeneity is None else list(dict.fromkeys(heterogeneity["subgroup_variable"].astype(str)))
    names = [label("subgroup_variable", s, language) for s in splits]
    values["het_variables"] = _join([n[:1].lower() + n[1:] for n in names], language) or MISSING
    return values
