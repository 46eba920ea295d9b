"""Table and numbers of the inference choice: the chosen method beside the cluster-robust one.

Reads ``results/estimate/inference.csv`` of the pipeline step ``estimate_effects``
(see :mod:`evaluation.steps.fewclusters.choice`): per outcome one row of the method the
policy chose (``chosen`` true) and, unless that is cluster-robust itself, a
``cluster_robust`` row. The effective number of clusters G* (Carter, Schnepel and
Steigerwald 2017, "Asymptotic behavior of a t-test robust to cluster
heterogeneity", *Review of Economics and Statistics* 99(4), eq. 9) and the code of the
policy's reason come from the file, nothing is re-estimated; the reason is worded with the sentences of
``reports/_text/<language>/inference.yml`` (:func:`inference_reason`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.errors import ReportError
from evaluation.report.effects_parts import blank_repeats, p_text
from evaluation.report.inputs import flag_values
from evaluation.report.labels import OUTCOME_ORDER, label, ordered, outcome_decimals
from evaluation.report.numbers import check_language, format_count, format_number, format_p_value
from evaluation.report.tables import MISSING

#: inference methods in the order a table shows them (the chosen one is moved first)
METHOD_ORDER: tuple[str, ...] = ("randomization_inference", "wild_cluster_bootstrap", "cluster_robust")
#: the outcome whose result the summary states (the first of these present)
MAIN_OUTCOME_ORDER: tuple[str, ...] = OUTCOME_ORDER


def _chosen(values: pd.Series) -> pd.Series:
    """Return the ``chosen`` column as booleans (:func:`evaluation.report.inputs.flag_values`)."""
    return flag_values(values, "results/estimate/inference.csv", "chosen", "estimate_effects")


def _ordered(inference: pd.DataFrame) -> pd.DataFrame:
    """Rows by outcome (report order), the chosen method first, then the cluster-robust row."""
    frame = inference.assign(chosen=_chosen(inference["chosen"]))
    for outcome, rows in frame.groupby("outcome", sort=False):
        if int(rows["chosen"].sum()) != 1:
            raise ReportError(
                f"results/estimate/inference.csv has {int(rows['chosen'].sum())} chosen rows for outcome {outcome!r}"
                " (one expected); rerun the estimate_effects step"
            )
    outcome_rank = {o: i for i, o in enumerate(ordered(set(frame["outcome"].astype(str)), OUTCOME_ORDER))}
    method_rank = {m: i for i, m in enumerate(ordered(set(frame["inference"].astype(str)), METHOD_ORDER))}
    keyed = frame.assign(
        _o=frame["outcome"].astype(str).map(outcome_rank),
        _c=(~frame["chosen"]).astype(int),
        _m=frame["inference"].astype(str).map(method_rank),
    )
    return keyed.sort_values(["_o", "_c", "_m"], kind="stable").drop(columns=["_o", "_c", "_m"]).reset_index(drop=True)


def method_label(method: str, *, chosen: bool, sentences: Mapping[str, str]) -> str:
    """Name an inference method for a table cell: ``"Wild cluster bootstrap (valgt)"``.

    Parameters
    ----------
    method : str
        ``wild_cluster_bootstrap``, ``randomization_inference`` or ``cluster_robust`` (others are shown as they are).
    chosen : bool
        Whether the policy chose this method (adds "valgt" / "chosen").
    sentences : mapping
        The words of :data:`REASONS` in the report's language (``method_*``, ``chosen``).

    Returns
    -------
    str
        The label.
    """
    name = sentences.get(f"method_{method}", method)
    return f"{name} ({sentences['chosen']})" if chosen else name


def inference_note(inference: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> str:
    """Say under the table how each method shown was run: weights and draws, permutations, degrees of freedom.

    Parameters
    ----------
    inference : pandas.DataFrame
        ``results/estimate/inference.csv``.
    sentences : mapping
        The words of :data:`REASONS` in ``language`` (``method_*``, ``detail_*``).
    language : {"da", "en"}, default "da"

    Returns
    -------
    str
        For example ``"Wild cluster bootstrap: Rademacher weights, 9,999 draws. Cluster-robust: t with G − 1 degrees
        of freedom."``; one sentence per distinct method, weights and draws, in the table's order.
    """
    language = check_language(language)
    frame = _ordered(inference)
    notes: list[str] = []
    for row in frame.itertuples(index=False):
        method = str(row.inference)
        name = sentences.get(f"method_{method}", method)
        if method == "cluster_robust":
            details = [sentences["detail_robust"]]
        else:
            weights = row.weight_type if method == "wild_cluster_bootstrap" else None
            details = [sentences[f"detail_{weights}"]] if weights in ("webb", "rademacher") else []
            if not pd.isna(row.draws) and row.draws > 0:
                kind = "permutations" if method == "randomization_inference" else "draws"
                details.append(sentences[f"detail_{kind}"].format(n=format_count(row.draws, language=language)))
        note = f"{name}: {', '.join(details)}." if details else ""
        if note and note not in notes:
            notes.append(note)
    return " ".join(notes)


def _fmt(value: float, decimals: int, language: str) -> str:
    return MISSING if pd.isna(value) else format_number(value, decimals, language=language)


def inference_table(inference: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> pd.DataFrame:
    """Show per outcome the chosen method's estimate, 95 % CI and p-value beside the cluster-robust ones.

    Parameters
    ----------
    inference : pandas.DataFrame
        ``results/estimate/inference.csv``.
    sentences : mapping
        The words of :data:`REASONS` in ``language`` (``column_*``, ``to``, ``method_*``, ``chosen``).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings: outcome, method, G* (one decimal), estimate, 95 % CI and p-value;
        the outcome and G* are shown once per outcome.
    """
    language = check_language(language)
    frame = _ordered(inference)
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]
    outcomes = [label("outcome", o, language) for o in frame["outcome"]]
    col = {key: sentences[f"column_{key}"] for key in ("outcome", "method", "g_star", "estimate", "ci", "p_value")}
    to = sentences["to"]
    g_star = [_fmt(g, 1, language) for g in frame["effective_clusters"]]
    return pd.DataFrame(
        {
            col["outcome"]: blank_repeats(outcomes),
            col["method"]: [
                method_label(m, chosen=bool(c), sentences=sentences)
                for m, c in zip(frame["inference"], frame["chosen"], strict=True)
            ],
            col["g_star"]: blank_repeats(outcomes, g_star),
            col["estimate"]: [_fmt(v, d, language) for v, d in zip(frame["estimate"], decimals, strict=True)],
            col["ci"]: [
                f"{_fmt(a, d, language)} {to} {_fmt(b, d, language)}"
                for a, b, d in zip(frame["ci_low"], frame["ci_high"], decimals, strict=True)
            ],
            col["p_value"]: [MISSING if pd.isna(p) else format_p_value(p, language=language) for p in frame["p_value"]],
        }
    )


def main_outcome(outcomes: pd.Series) -> str:
    """Return the outcome the summary and running text speak of: the first of :data:`MAIN_OUTCOME_ORDER` present."""
    return ordered(set(outcomes.astype(str)), MAIN_OUTCOME_ORDER)[0]


#: the file (in ``reports/_text/<language>/``) of the words of the inference table and its note, and of the
#: sentences of the reasons
REASONS = "inference.yml"


def inference_reason(row: pd.Series, sentences: Mapping[str, str], *, language: str = "da") -> str:
    """Word the policy's reason for the method of one row of ``inference.csv``.

    Parameters
    ----------
    row : pandas.Series
        A row with ``reason`` (a code of :data:`evaluation.methods.inference.REASON_CODES`), ``method``,
        ``weight_type``, ``n_treated_clusters``, ``n_clusters`` and ``effective_clusters``.
    sentences : mapping
        ``reports/_text/<language>/inference.yml`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"

    Raises
    ------
    ReportError
        If the code has no sentence.
    """
    code = str(row["reason"])
    if code not in sentences:
        raise ReportError(f"no sentence for the reason {code!r} of inference.csv in reports/_text/*/{REASONS}")
    count = sentences["count"].format(
        n_treated=format_count(row["n_treated_clusters"], language=language),
        n_clusters=format_count(row["n_clusters"], language=language),
        g_star=_fmt(row["effective_clusters"], 1, language),
    )
    weights = sentences.get(f"weights_{row['weight_type']}", "") if pd.notna(row["weight_type"]) else ""
    return sentences[code].format(count=count, method=row["method"], weights=weights)


def inference_variables(
    inference: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da"
) -> dict[str, str]:
    """Return the numbers and words of the inference text, for the main outcome (:func:`main_outcome`).

    Parameters
    ----------
    inference : pandas.DataFrame
        ``results/estimate/inference.csv``.
    sentences : mapping
        The sentences of the reasons (:data:`REASONS`, read with :func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"

    Returns
    -------
    dict of str to str
        ``inference_outcome`` (its label), ``inference_method`` (the chosen method in running text),
        ``inference_reason`` (the policy's reason in the report's language), ``inference_g_star`` and
        its range over outcomes ``inference_g_star_min`` / ``_max``, ``inference_n_treated``,
        ``inference_n_clusters``, the chosen and the cluster-robust 95 % CI and p-value of the main
        outcome in text decimals (``inference_ci_low_text``, ``inference_ci_high_text``, ``inference_p_text``,
        ``inference_robust_ci_low_text``, ``inference_robust_ci_high_text``, ``inference_robust_p_text``)
        and ``inference_chosen_is_robust`` (``"true"`` / ``"false"``).
    """
    language = check_language(language)
    if inference.empty:
        raise ReportError("results/estimate/inference.csv has no rows: rerun the estimate_effects step")
    frame = _ordered(inference)
    outcome = main_outcome(frame["outcome"])
    rows = frame[frame["outcome"].astype(str) == outcome]
    chosen = rows[rows["chosen"]].iloc[0]
    robust = rows[rows["inference"].astype(str) == "cluster_robust"]
    robust = robust.iloc[0] if len(robust) else chosen
    text_d = outcome_decimals(outcome)[1]
    g_all = frame.drop_duplicates("outcome")["effective_clusters"]
    values = {
        "inference_outcome": label("outcome", outcome, language),
        "inference_method": sentences.get(f"text_{chosen['inference']}", str(chosen["inference"])),
        "inference_reason": inference_reason(chosen, sentences, language=language),
        "inference_g_star": _fmt(chosen["effective_clusters"], 1, language),
        "inference_g_star_min": _fmt(g_all.min(), 1, language),
        "inference_g_star_max": _fmt(g_all.max(), 1, language),
        "inference_n_treated": format_count(chosen["n_treated_clusters"], language=language),
        "inference_n_clusters": format_count(chosen["n_clusters"], language=language),
        "inference_chosen_is_robust": "true" if str(chosen["inference"]) == "cluster_robust" else "false",
    }
    for prefix, row in (("inference", chosen), ("inference_robust", robust)):
        values[f"{prefix}_ci_low_text"] = _fmt(row["ci_low"], text_d, language)
        values[f"{prefix}_ci_high_text"] = _fmt(row["ci_high"], text_d, language)
        values[f"{prefix}_p_text"] = p_text(row["p_value"], language=language)
    return values
