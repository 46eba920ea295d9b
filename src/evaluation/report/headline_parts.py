"""Words and numbers of the headline's event-study section: placebo pre-trend tests and HonestDiD bounds.

Reads ``results/<release>/estimate/pretrend_main.csv`` and ``honest_did.csv`` (rule ``estimate_effects``)
and formats the values the text ``effects-event-study.md`` quotes; it computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.report.labels import OUTCOME_ORDER
from evaluation.report.numbers import check_language, format_number, format_p_value

__all__ = ["WORDS", "headline_sensitivity_variables"]

MISSING = "–"
ALPHA = 0.05

#: the file of the words, in ``reports/_text/<language>/``
WORDS = "headline.yml"


def _fmt(value: float, decimals: int, language: str) -> str:
    return MISSING if pd.isna(value) else format_number(float(value), decimals, language=language)


def headline_sensitivity_variables(
    pretrend: pd.DataFrame | None,
    honest: pd.DataFrame | None,
    *,
    min_treated: int,
    sentences: Mapping[str, str],
    language: str = "da",
) -> dict[str, str]:
    """Format the placebo tests and HonestDiD breakdown values the event-study text quotes.

    Keys (``–`` where a result is absent, so that the text always resolves):

    - ``placebo_<outcome>_{statistic,df_num,df_den,p_text,verdict}``: the F test of the placebo years;
    - ``honest_<outcome>_{rm,sd}_breakdown``: the smallest M on the grid whose interval includes zero, "above
      <largest M>" when none does;
    - ``honest_<outcome>_original_{low,high}``: the conventional interval of the adoption-year effect;
    - ``min_treated_municipalities``.

    Parameters
    ----------
    pretrend, honest : pandas.DataFrame or None
        ``pretrend_main.csv`` and ``honest_did.csv``.
    min_treated : int
        ``estimation.min_treated_municipalities`` (from ``study.json``).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}
        Number format.

    Returns
    -------
    dict of str to str
    """
    language = check_language(language)
    values = {"min_treated_municipalities": str(int(min_treated))}
    tests = {} if pretrend is None else {str(r.outcome): r for r in pretrend.itertuples()}
    for outcome in OUTCOME_ORDER:
        row = tests.get(outcome)
        key = f"placebo_{outcome}"
        p_value = float("nan") if row is None else float(row.p_value)
        values[f"{key}_statistic"] = _fmt(float("nan") if row is None else row.statistic, 2, language)
        values[f"{key}_df_num"] = MISSING if row is None or pd.isna(row.df_num) else str(int(row.df_num))
        values[f"{key}_df_den"] = MISSING if row is None or pd.isna(row.df_den) else str(int(row.df_den))
        p_text = MISSING if pd.isna(p_value) else format_p_value(p_value, language=language)
        values[f"{key}_p_text"] = f"p {p_text.replace('<', '< ')}" if p_text.startswith("<") else f"p = {p_text}"
        values[f"{key}_verdict"] = (
            sentences["untestable"]
            if pd.isna(p_value)
            else sentences["rejects"]
            if p_value < ALPHA
            else sentences["not_rejects"]
        )
        for method, short in (("relative_magnitudes", "rm"), ("smoothness", "sd")):
            part = (
                pd.DataFrame()
                if honest is None
                else honest[(honest["outcome"] == outcome) & (honest["method"] == method)]
            )
            name = f"honest_{outcome}_{short}_breakdown"
            if part.empty:
                values[name] = MISSING
                continue
            breakdown, top, bottom = float(part["breakdown_m"].iloc[0]), float(part["m"].max()), float(part["m"].min())
            decimals = 2
            if pd.isna(breakdown):
                values[name] = sentences["beyond"].format(m=_fmt(top, decimals, language))
            elif breakdown <= bottom:
                values[name] = sentences["at_zero"].format(m=_fmt(breakdown, decimals, language))
            else:
                values[name] = _fmt(breakdown, decimals, language)
        part = pd.DataFrame() if honest is None else honest[honest["outcome"] == outcome]
        for end in ("low", "high"):
            value = float("nan") if part.empty else float(part[f"original_{end}"].iloc[0])
            values[f"honest_{outcome}_original_{end}"] = _fmt(value, 2, language)
    return values
