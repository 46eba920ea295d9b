"""Tables and numbers of the staggered-adoption results: naive vs robust, Bacon, heterogeneity, dose, multiplicity.

Reads the files of the pipeline step ``estimate_staggered`` (``results/estimate/``;
see :mod:`evaluation.steps.staggered.run`) and formats them; nothing is re-estimated. The
Goodman-Bacon table sums the weights of ``bacon.csv`` by comparison type and averages the
2x2 estimates with them (display arithmetic, as R ``bacon_summary``; the file holds every
comparison and the decomposed TWFE coefficient).
Estimates use each outcome's decimals (:func:`~evaluation.report.labels.outcome_decimals`);
counts pass the disclosure rule again (:func:`~evaluation.report.tables.suppress_small`),
and a count the step already left empty is shown as an en dash.

The words of :data:`WORDS` ("to", the verdicts of the pre-trend test, "years", "and", the headline estimator's
label ``robust_did_imputation``, the Goodman-Bacon comparison types ``bacon_<type>``, its table's columns
``bacon_column_*`` and its figure's alt text ``bacon_alt``) are in ``reports/_text/<language>/effects.yml``; the
functions that use them take them as ``sentences`` (:func:`evaluation.report.sentences.read_sentences`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.report.labels import ESTIMATOR_ORDER, OUTCOME_ORDER, label, ordered, outcome_decimals
from evaluation.report.numbers import check_language, format_count, format_number, format_p_value, format_percent
from evaluation.report.tables import MISSING, suppress_small

#: the level at which the text counts a test as significant
ALPHA = 0.05
#: the rows of the naive-vs-robust table: the naive 2x2, the robust estimators on the matched children, the headline
ROBUST_ORDER: tuple[str, ...] = (*ESTIMATOR_ORDER, "did_imputation")
#: Goodman-Bacon comparison types, in the order of :data:`evaluation.methods.did.bacon.COMPARISONS`
BACON_ORDER: tuple[str, ...] = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier", "later_vs_always")
#: the comparisons that use already-treated municipalities as controls (Goodman-Bacon's "forbidden" ones)
FORBIDDEN: tuple[str, ...] = ("later_vs_earlier", "later_vs_always")
#: the file of the words ("to", the pre-trend verdicts, "years", "and"), in ``reports/_text/<language>/``
WORDS = "effects.yml"


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


def subgroup_label(variable: str, value: str, *, sentences: Mapping[str, str], language: str = "da") -> str:
    """Put a subgroup value in words: ``"0-6"`` of ``life_phase`` becomes ``"0–6 år"``, ``"female"`` ``"Pige"``.

    Parameters
    ----------
    variable : str
        The subgroup split (``life_phase``, ``sex``, ...).
    value : str
        The subgroup.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (``years``).
    language : {"da", "en"}, default "da"
        The subgroup labels (kind ``subgroup_value`` of ``labels.yml``).

    Returns
    -------
    str
    """
    language = check_language(language)
    if variable == "life_phase" and "-" in value:
        return value.replace("-", "\u2013") + " " + sentences["years"]
    return label("subgroup_value", value, language)


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


def estimator_label(estimator: str, *, sentences: Mapping[str, str], language: str = "da") -> str:
    """Label an estimator of the naive-vs-robust table: the shared label, else ``robust_<estimator>``, else the name.

    ``sentences`` are the words of :data:`WORDS` in ``language`` (``robust_did_imputation``: the headline's estimator,
    which the shared labels, ``label("estimator", ...)``, lack).
    """
    shared = label("estimator", estimator, language)
    return shared if shared != estimator else sentences.get(f"robust_{estimator}", estimator)


def bacon_labels(sentences: Mapping[str, str]) -> dict[str, str]:
    """Return the Goodman-Bacon comparison type -> its label (``bacon_<type>`` of :data:`WORDS`), and ``twfe``."""
    return {comparison: sentences[f"bacon_{comparison}"] for comparison in (*BACON_ORDER, "twfe")}


def naive_robust_table(
    naive_vs_robust: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """One row per outcome and estimator, from the naive 2x2 DiD to the Callaway-Sant'Anna estimators and the headline.

    Parameters
    ----------
    naive_vs_robust : pandas.DataFrame
        ``results/estimate/naive_vs_robust.csv`` (the headline's rows ``did_imputation`` last).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings: outcome, estimator, estimate, standard error, 95 % CI and p-value.
    """
    language = check_language(language)
    frame = _ordered_rows(naive_vs_robust, "estimator", ROBUST_ORDER)
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]
    to = sentences["to"]
    col = lambda name: label("result_column", name, language)  # noqa: E731
    return pd.DataFrame(
        {
            col("outcome"): blank_repeats([label("outcome", o, language) for o in frame["outcome"]]),
            col("estimator"): [
                estimator_label(str(e), sentences=sentences, language=language) for e in frame["estimator"]
            ],
            col("estimate"): [_fmt(v, d, language) for v, d in zip(frame["estimate"], decimals, strict=True)],
            col("se"): [_fmt(v, d, language) for v, d in zip(frame["se"], decimals, strict=True)],
            col("ci"): [
                f"{_fmt(a, d, language)} {to} {_fmt(b, d, language)}"
                for a, b, d in zip(frame["ci_low"], frame["ci_high"], decimals, strict=True)
            ],
            col("p_value"): [_p(p, language) for p in frame["p_value"]],
        }
    )


def heterogeneity_table(
    heterogeneity: pd.DataFrame, min_cell: int, *, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """Show the overall ATT within subgroups of children, with 95 % CI, p-value and child-years.

    Parameters
    ----------
    heterogeneity : pandas.DataFrame
        ``results/estimate/heterogeneity.csv``.
    min_cell : int
        Disclosure threshold for the child-years.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
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
    to = sentences["to"]
    col = lambda name: label("result_column", name, language)  # noqa: E731
    outcomes = [label("outcome", o, language) for o in frame["outcome"]]
    splits = [label("subgroup_variable", v, language) for v in frame["subgroup_variable"]]
    return pd.DataFrame(
        {
            col("outcome"): blank_repeats(outcomes),
            col("subgroup_variable"): blank_repeats(outcomes, splits),
            col("subgroup"): [
                subgroup_label(str(v), str(s), sentences=sentences, language=language)
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
    frame = _ordered_rows(multiplicity, "estimator", ("did_imputation", *ESTIMATOR_ORDER))
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


def _join(items: list[str], and_word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {and_word} " + items[-1]


def staggered_variables(
    naive_vs_robust: pd.DataFrame | None,
    pretrend: pd.DataFrame | None,
    heterogeneity: pd.DataFrame | None,
    dose_response: pd.DataFrame | None,
    multiplicity: pd.DataFrame | None,
    *,
    sentences: Mapping[str, str],
    language: str = "da",
) -> dict[str, str]:
    """Format the numbers the staggered sections' text quotes.

    Keys (``–`` where a result is absent, so that the text always resolves):

    - ``robust_<outcome>_<estimator>_{estimate,ci_low,ci_high}``: running-text precision (estimators of
      :data:`ROBUST_ORDER`, the headline ``did_imputation`` included);
    - ``pretrend_<outcome>_{statistic,df,p_text,verdict}``: the joint Wald test of the pre-adoption event times;
    - ``dose_<outcome>_{estimate,ci_low,ci_high,p_text}``, ``dose_per``, ``dose_n_municipalities``;
    - ``mult_<family>_{n,n_raw,n_holm,n_bh}``: tests, and those with p below 5 % before and after adjustment;
    - ``het_variables``: the subgroup splits in words.

    ``sentences`` holds the words of :data:`WORDS` in ``language`` (the verdicts and "and").
    """
    language = check_language(language)
    values: dict[str, str] = {}
    outcomes = list(OUTCOME_ORDER)
    rows = (
        {} if naive_vs_robust is None else {(str(r.outcome), str(r.estimator)): r for r in naive_vs_robust.itertuples()}
    )
    for outcome in outcomes:
        text_d = outcome_decimals(outcome)[1]
        for estimator in ROBUST_ORDER:
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
            sentences["untestable"]
            if pd.isna(p_value)
            else sentences["rejects"]
            if p_value < ALPHA
            else sentences["not_rejects"]
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
    values["het_variables"] = _join([n[:1].lower() + n[1:] for n in names], sentences["and"]) or MISSING
    return values


def bacon_outcomes(bacon: pd.DataFrame) -> list[str]:
    """Return the outcomes of the primary family in ``bacon.csv``, in report order (all outcomes if none is primary)."""
    primary = bacon.loc[bacon["family"].astype(str) == "primary", "outcome"].astype(str)
    chosen = set(primary) if len(primary) else set(bacon["outcome"].astype(str))
    return ordered(chosen, OUTCOME_ORDER)


def _bacon_types(bacon: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Weight, number of 2x2 DiDs and weight-averaged estimate by comparison type; then the decomposed TWFE."""
    part = bacon.loc[bacon["outcome"].astype(str) == outcome]
    pairs = part.loc[part["comparison"].astype(str) != "twfe"]
    rows = []
    for comparison in ordered(set(pairs["comparison"].astype(str)), BACON_ORDER):
        group = pairs.loc[pairs["comparison"].astype(str) == comparison]
        weight = float(group["weight"].sum())
        mean = float((group["weight"] * group["estimate"]).sum() / weight) if weight > 0 else float("nan")
        rows.append((comparison, len(group), weight, mean))
    total = part.loc[part["comparison"].astype(str) == "twfe"]
    if len(total):
        rows.append(("twfe", len(pairs), float(total["weight"].iloc[0]), float(total["estimate"].iloc[0])))
    return pd.DataFrame(rows, columns=["comparison", "n", "weight", "estimate"])


def bacon_table(bacon: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> pd.DataFrame:
    """Weight and mean 2x2 estimate of each Goodman-Bacon comparison type, for the primary outcomes.

    Parameters
    ----------
    bacon : pandas.DataFrame
        ``results/estimate/bacon.csv`` (one row per 2x2 comparison and a row ``twfe`` per outcome).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (``bacon_<type>``, ``bacon_column_*``;
        :func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Labels of the outcomes and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings: outcome, comparison type, number of 2x2 DiDs, total weight (percent) and the
        weight-averaged 2x2 estimate; the last row of each outcome is the decomposed TWFE estimate.
    """
    language = check_language(language)
    names = bacon_labels(sentences)
    outcomes, comparisons, counts, weights, estimates = [], [], [], [], []
    for outcome in bacon_outcomes(bacon):
        decimals = outcome_decimals(outcome)[0]
        for row in _bacon_types(bacon, outcome).itertuples(index=False):
            outcomes.append(label("outcome", outcome, language))
            comparisons.append(names.get(str(row.comparison), str(row.comparison)))
            counts.append(format_count(row.n, language=language))
            weights.append(format_percent(row.weight, 1, language=language))
            estimates.append(_fmt(row.estimate, decimals, language))
    return pd.DataFrame(
        {
            label("result_column", "outcome", language): blank_repeats(outcomes),
            sentences["bacon_column_comparison"]: comparisons,
            sentences["bacon_column_n"]: counts,
            sentences["bacon_column_weight"]: weights,
            sentences["bacon_column_estimate"]: estimates,
        }
    )


def bacon_variables(
    bacon: pd.DataFrame | None, *, sentences: Mapping[str, str], language: str = "da"
) -> dict[str, str]:
    """Format the numbers the text on the Goodman-Bacon decomposition quotes (``–`` where absent).

    Keys, for every outcome of the report (:data:`~evaluation.report.labels.OUTCOME_ORDER`):

    - ``bacon_<outcome>_<type>_{weight,estimate}`` for each type of :data:`BACON_ORDER` and for ``forbidden``
      (the types of :data:`FORBIDDEN` together): the total weight in percent and the weight-averaged 2x2
      estimate in running-text precision;
    - ``bacon_<outcome>_twfe``: the decomposed (unweighted, balanced-panel) TWFE estimate;
    - ``bacon_<outcome>_{municipalities,dropped,years}``: the balanced panel and the municipalities left out;
    - ``bacon_fig_alt``: the figure's alt text (``bacon_alt`` of ``sentences``, the words of :data:`WORDS` in
      ``language``, with the outcomes joined with the word ``and``).
    """
    language = check_language(language)
    values: dict[str, str] = {}
    for outcome in OUTCOME_ORDER:
        decimals = outcome_decimals(outcome)[1]
        part = None if bacon is None else bacon.loc[bacon["outcome"].astype(str) == outcome]
        types = pd.DataFrame(columns=["comparison", "n", "weight", "estimate"])
        if part is not None and len(part):
            types = _bacon_types(bacon, outcome)
        by_type = types.set_index("comparison")
        for comparison in (*BACON_ORDER, "forbidden"):
            chosen = by_type.loc[by_type.index.isin(FORBIDDEN if comparison == "forbidden" else (comparison,))]
            weight = float(chosen["weight"].sum()) if len(types) else float("nan")
            mean = float((chosen["weight"] * chosen["estimate"]).sum() / weight) if weight > 0 else float("nan")
            values[f"bacon_{outcome}_{comparison}_weight"] = (
                MISSING if pd.isna(weight) else format_percent(weight, 1, language=language)
            )
            values[f"bacon_{outcome}_{comparison}_estimate"] = _fmt(mean, decimals, language)
        twfe = by_type["estimate"].get("twfe", float("nan"))
        values[f"bacon_{outcome}_twfe"] = _fmt(twfe, decimals, language)
        for key, column in (("municipalities", "municipalities"), ("dropped", "municipalities_dropped"),
                            ("years", "years")):  # fmt: skip
            counts = part[column].dropna() if part is not None and column in part.columns else pd.Series(dtype=float)
            values[f"bacon_{outcome}_{key}"] = (
                format_count(int(counts.iloc[0]), language=language) if len(counts) else MISSING
            )
    shown = [] if bacon is None else bacon_outcomes(bacon)
    names = _join([label("outcome", o, language) for o in shown], sentences["and"]) or MISSING
    values["bacon_fig_alt"] = sentences["bacon_alt"].format(outcomes=names)
    return values
