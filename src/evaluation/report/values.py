"""Collect every number the report's text uses, as formatted strings.

The report's prose never holds a typed number: it reads ``{{< var key >}}``
values from ``reports/_variables.yml``, which :func:`collect_variables` builds
from the results files and :func:`write_variables` writes. Keys are stable and
readable, for example ``main_sdq_estimate`` or ``naive_sdq_gap``.

Effect keys follow ``<analysis>_<outcome>_<statistic>`` for every estimate of
the whole sample (subgroup ``all``):

- ``estimate``, ``se``, ``ci_low``, ``ci_high``: table precision, signed;
- ``estimate_text``, ``ci_low_text``, ``ci_high_text``: running-text precision;
- ``abs``: the size of the effect in running-text precision, without sign;
- ``direction``: "faldt" / "steg" (English "fell" / "rose");
- ``significance``: whether the 95 % CI excludes zero, in words;
- ``p_value`` and ``p_text`` ("p = 0,006", "p < 0,001");
- ``n_treated``, ``n_control`` (counts suppressed below ``min_cell``);
- for analyses other than ``main``: ``gap`` (this estimate minus the main
  estimate, signed) and ``gap_abs``.

The words of the values (directions, significance, verdicts, the data source, the balance clause, dates) are in
``reports/_text/<language>/values.yml`` (:data:`WORDS`), read by the caller
(:func:`evaluation.report.sentences.read_sentences`); the balance clause's codes are ``balance_all`` and
``balance_some``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from evaluation.errors import ReportError
from evaluation.report.inputs import ReportInputs
from evaluation.report.labels import OUTCOME_ORDER, label, outcome_decimals
from evaluation.report.numbers import check_language, format_number, format_p_value
from evaluation.report.sentences import TEXT_DIR, read_sentences
from evaluation.report.tables import suppress_small
from evaluation.yaml_text import load_yaml

#: the file of the words of the values (directions, verdicts, data source, balance), in ``reports/_text/<language>/``
WORDS = "values.yml"


def format_date(value: str, *, language: str = "da", sentences: Mapping[str, str] | None = None) -> str:
    """Format an ISO date (``YYYY-MM-DD``) in words, for example ``31. december 2022``.

    Parameters
    ----------
    value : str
        The date.
    language : {"da", "en"}, default "da"
        Language of the month name.
    sentences : mapping, optional
        The words of :data:`WORDS` in ``language`` (``date``, ``month_1`` ... ``month_12``); read from the
        project's ``reports/_text`` when not given.

    Returns
    -------
    str
        The date in words.

    Raises
    ------
    ReportError
        If ``value`` is not a valid ISO date.
    """
    language = check_language(language)
    try:
        date = dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise ReportError(f"study.json: cutoff_date {value!r} is not a date of the form YYYY-MM-DD") from err
    words = sentences if sentences is not None else read_sentences(TEXT_DIR.parent, language, WORDS)
    return words["date"].format(day=date.day, month=words[f"month_{date.month}"], year=date.year)


def _join(items: list[str], and_word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {and_word} " + items[-1]


def _study_variables(study: dict, words: Mapping[str, str], language: str) -> dict[str, str]:
    treated = sorted(study["treated"], key=lambda t: (int(t["adoption_year"]), str(t["name"])))
    cutoff = study["cutoff_date"]
    n_municipalities = int(study["n_municipalities"])
    return {
        "title": str(study["title"]),
        "subtitle": str(study["subtitle"]),
        "publisher": str(study["publisher"]),
        "project_number": str(study["project_number"]),
        "year_published": str(int(study["year_published"])),
        "data_source": words["synthetic"] if study["source"] == "synthetic" else words["extracts"],
        "data_cutoff": (
            words["no_cutoff"].format(last_year=int(study["last_year"]))
            if cutoff in (None, "")
            else format_date(cutoff, language=language, sentences=words)
        ),
        "first_year": str(int(study["first_year"])),
        "last_year": str(int(study["last_year"])),
        "scale": str(study["scale"]),
        "seed": str(study["seed"]),
        "config_sha256": str(study["config_sha256"]),
        "config_sha256_short": str(study["config_sha256"])[:12],
        "package_version": str(study["package_version"]),
        "min_cell": str(int(study["min_cell"])),
        "n_municipalities": format_number(n_municipalities, language=language),
        "n_treated_municipalities": format_number(len(treated), language=language),
        "treated_municipalities_text": (
            words["treated_one"]
            if len(treated) == 1
            else words["treated_many"].format(n=format_number(len(treated), language=language))
        ),
        "n_comparison_municipalities": format_number(n_municipalities - len(treated), language=language),
        "treated_list": _join([f"{t['name']} ({int(t['adoption_year'])})" for t in treated], words["and"]),
        "first_adopter_name": str(treated[0]["name"]),
        "first_adoption_year": str(int(treated[0]["adoption_year"])),
        "last_adoption_year": str(int(treated[-1]["adoption_year"])),
    }


#: Outcomes shown in (percentage) points as well: keys ``<analysis>_<outcome>_{estimate,ci_low,ci_high}_pct``.
PERCENT_OUTCOMES = frozenset({"placement_rate", "network_foster_share", "breakdown_rate"})


def _effect_variables(
    estimates: pd.DataFrame, min_cell: int, words: Mapping[str, str], language: str
) -> dict[str, str]:
    whole = estimates[estimates["subgroup"].fillna("all").astype(str) == "all"]
    duplicated = whole.duplicated(["analysis", "outcome"], keep=False)
    if duplicated.any():
        row = whole[duplicated].iloc[0]
        raise ReportError(
            f"results/estimates.csv holds more than one row for analysis {row['analysis']!r}, outcome "
            f"{row['outcome']!r} and subgroup 'all': the report cannot tell which to show; rerun the estimate step"
        )
    values: dict[str, str] = {}
    main = {str(r.outcome): r for r in whole.itertuples(index=False) if str(r.analysis) == "main"}
    for row in whole.itertuples(index=False):
        analysis, outcome = str(row.analysis), str(row.outcome)
        table_d, text_d = outcome_decimals(outcome)
        key = f"{analysis}_{outcome}"

        def fmt(value: float, decimals: int, *, sign: bool = False) -> str:
            return "–" if pd.isna(value) else format_number(value, decimals, language=language, sign=sign)

        values[f"{key}_estimate"] = fmt(row.estimate, table_d)
        values[f"{key}_se"] = fmt(row.se, table_d)
        values[f"{key}_ci_low"] = fmt(row.ci_low, table_d)
        values[f"{key}_ci_high"] = fmt(row.ci_high, table_d)
        values[f"{key}_estimate_text"] = fmt(row.estimate, text_d)
        values[f"{key}_ci_low_text"] = fmt(row.ci_low, text_d)
        values[f"{key}_ci_high_text"] = fmt(row.ci_high, text_d)
        values[f"{key}_abs"] = fmt(abs(row.estimate), text_d)
        shown = values[f"{key}_abs"].strip("0.,") if not pd.isna(row.estimate) else ""
        values[f"{key}_direction"] = (
            words["unchanged"] if not shown else words["fell"] if row.estimate < 0 else words["rose"]
        )
        excludes_zero = row.ci_low > 0 or row.ci_high < 0
        values[f"{key}_significance"] = words["significant"] if excludes_zero else words["not_significant"]
        values[f"{key}_verdict"] = (
            words["verdict_missing"]
            if pd.isna(row.estimate)
            else words["verdict_no_interval"]
            if pd.isna(row.ci_low) or pd.isna(row.ci_high)
            else words["verdict_effect"]
            if excludes_zero
            else words["verdict_none"]
        )
        if outcome in PERCENT_OUTCOMES:  # shares and relative changes, in (percentage) points
            for stat in ("estimate", "ci_low", "ci_high"):
                values[f"{key}_{stat}_pct"] = fmt(100 * getattr(row, stat), 1)
        p_value = "–" if pd.isna(row.p_value) else format_p_value(row.p_value, language=language)
        values[f"{key}_p_value"] = p_value
        values[f"{key}_p_text"] = f"p {p_value.replace('<', '< ')}" if p_value.startswith("<") else f"p = {p_value}"
        n_treated, n_control = suppress_small([row.n_treated, row.n_control], min_cell, language=language)
        values[f"{key}_n_treated"] = n_treated
        values[f"{key}_n_control"] = n_control
        if analysis != "main" and outcome in main:
            gap = row.estimate - main[outcome].estimate
            values[f"{key}_gap"] = fmt(gap, text_d, sign=True)
            values[f"{key}_gap_abs"] = fmt(abs(gap), text_d)
    for outcome in OUTCOME_ORDER:  # a headline outcome not estimated: the text says so instead of failing
        if outcome in main:
            continue
        key = f"main_{outcome}"
        for stat in (*_EFFECT_STATS, *(f"{s}_pct" for s in ("estimate", "ci_low", "ci_high"))):
            values[f"{key}_{stat}"] = "–"
        values[f"{key}_p_text"] = "p = –"
        values[f"{key}_verdict"] = words["verdict_missing"]
        values[f"{key}_direction"] = words["unchanged"]
        values[f"{key}_significance"] = words["not_significant"]
    return values


#: Statistics of an effect that are numbers in the text (``–`` when the effect is missing).
_EFFECT_STATS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "estimate_text",
    "ci_low_text",
    "ci_high_text",
    "abs",
    "p_value",
    "n_treated",
    "n_control",
)


#: the balance criterion of the text: |SMD| after matching below 0.1 (Stuart 2010; cobalt's default threshold)
SMD_THRESHOLD = 0.1


def balance_variables(balance: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> dict[str, str]:
    """Whether every covariate is balanced after matching (|SMD| < 0.1), in words, computed from the balance table.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``results/compare/balance.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (``balance_all``, ``balance_some``, ``and``;
        :func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Language of the covariates' names and the numbers.

    Returns
    -------
    dict of str to str
        ``balance_smd_threshold``, ``balance_n_unbalanced`` and ``balance_smd_verdict`` (a clause that
        names the unbalanced covariates, if any).
    """
    language = check_language(language)
    above = balance["smd_after"].abs() >= SMD_THRESHOLD
    threshold = format_number(SMD_THRESHOLD, 1, language=language)
    names = [label("covariate", c, language) for c in balance.loc[above, "covariate"]]
    verdict = (
        sentences["balance_some"].format(
            k=len(names), n=len(balance), t=threshold, names=_join(names, sentences["and"])
        )
        if names
        else sentences["balance_all"].format(n=len(balance), t=threshold)
    )
    return {
        "balance_smd_threshold": threshold,
        "balance_n_unbalanced": format_number(len(names), language=language),
        "balance_smd_verdict": verdict,
    }


def collect_variables(
    inputs: ReportInputs, *, sentences: Mapping[str, str], trends_suppressed: int = 0
) -> dict[str, str]:
    """Build every value the report's text refers to, formatted for its language.

    Parameters
    ----------
    inputs : ReportInputs
        The results files.
    sentences : mapping
        The words of :data:`WORDS` in the report's language (``inputs.language``;
        :func:`evaluation.report.sentences.read_sentences`).
    trends_suppressed : int, default 0
        Yearly means left out of the trends figure for disclosure.

    Returns
    -------
    dict of str to str
        Variable name -> formatted value, sorted by name.
    """
    language = check_language(inputs.language)
    min_cell = inputs.min_cell
    values = _study_variables(inputs.study, sentences, language)
    values.update(_effect_variables(inputs.estimates, min_cell, sentences, language))
    flow = inputs.sample_flow
    if not flow.empty:
        first = flow.iloc[0]
        matched = flow.loc[flow["step"] == "matched"]
        last = matched.iloc[0] if len(matched) else flow.iloc[-1]
        shown = suppress_small(
            [first["n_treated"], first["n_control"], last["n_treated"], last["n_control"]], min_cell, language=language
        )
        values["sample_first_n_treated"], values["sample_first_n_control"] = shown[0], shown[1]
        values["sample_final_n_treated"], values["sample_final_n_control"] = shown[2], shown[3]
        values["sample_n_steps"] = format_number(len(flow), language=language)
    accounting = inputs.row_accounting
    values["rows_read_total"] = format_number(accounting["rows_read"].sum(), language=language)
    values["rows_accepted_total"] = format_number(accounting["rows_accepted"].sum(), language=language)
    values["rows_quarantined_total"] = suppress_small(
        [accounting["rows_quarantined"].sum()], min_cell, language=language
    )[0]
    values["n_extract_files"] = format_number(len(accounting), language=language)
    balance = inputs.balance
    if not balance.empty:
        values["balance_max_abs_smd_before"] = format_number(balance["smd_before"].abs().max(), 3, language=language)
        values["balance_max_abs_smd_after"] = format_number(balance["smd_after"].abs().max(), 3, language=language)
        values["n_covariates"] = format_number(len(balance), language=language)
        values.update(balance_variables(balance, sentences=sentences, language=language))
    values["trends_points_suppressed"] = format_number(trends_suppressed, language=language)
    return dict(sorted(values.items()))


def write_variables(values: dict[str, str], path: Path) -> Path:
    """Write the variables as YAML for Quarto's ``{{< var >}}`` shortcode.

    Parameters
    ----------
    values : dict of str to str
        Variable name -> formatted value.
    path : Path
        Usually ``reports/_variables.yml``.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Generated by evaluation.report from results/: do not edit, do not commit.\n"
    body = yaml.safe_dump(
        {key: str(value) for key, value in sorted(values.items())},
        allow_unicode=True,
        sort_keys=True,
        default_flow_style=False,
        width=10_000,
    )
    path.write_text(header + body, encoding="utf-8")
    return path


def read_variables(path: Path) -> dict[str, str]:
    """Read a variables file written by :func:`write_variables`.

    Parameters
    ----------
    path : Path
        The YAML file.

    Returns
    -------
    dict of str to str
        Variable name -> value.

    Raises
    ------
    ReportError
        If the file is missing or is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path} is missing: build the report's variables first (evaluation.report.build_report)")
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ReportError(f"{path} must hold a mapping of variable names to values")
    return {str(key): "" if value is None else str(value) for key, value in data.items()}
