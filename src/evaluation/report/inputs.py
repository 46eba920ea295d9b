"""Read the aggregate results files a report displays.

The report never recomputes an analysis: it reads the small aggregate files the
pipeline writes under ``results/`` and checks that each holds the columns the
report needs. A missing file or column stops with a :class:`ReportError` that
names the file and the pipeline step that writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.errors import ReportError
from evaluation.results import ESTIMATE_COLUMNS

#: results file -> (step that writes it, required columns, numeric columns)
RESULT_FILES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ingest/row_accounting.csv": (
        "ingest",
        ("extract", "file", "rows_read", "rows_accepted", "rows_quarantined"),
        ("rows_read", "rows_accepted", "rows_quarantined"),
    ),
    "cohort/sample_flow.csv": (
        "cohort",
        ("step", "description", "n_treated", "n_control"),
        ("n_treated", "n_control"),
    ),
    "compare/balance.csv": (
        "compare",
        ("covariate", "smd_before", "smd_after", "var_ratio_before", "var_ratio_after"),
        ("smd_before", "smd_after", "var_ratio_before", "var_ratio_after"),
    ),
    "estimates.csv": (
        "estimate",
        tuple(ESTIMATE_COLUMNS),
        ("estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"),
    ),
    "estimate/trends.csv": (
        "estimate",
        ("outcome", "year", "group", "mean", "n"),
        ("year", "mean", "n"),
    ),
}

#: results written by later steps: a report without them says the analysis has not been done
OPTIONAL_FILES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "synth/table.csv": (
        "synthetic_control",
        ("adopter", "outcome", "adoption_year", "att", "pre_rmspe", "post_rmspe", "ratio", "p_value"),
        ("adopter", "adoption_year", "att", "pre_rmspe", "post_rmspe", "ratio", "p_value"),
    ),
    "synth/gaps.csv": ("synthetic_control", ("outcome", "unit", "role", "year", "gap"), ("unit", "year", "gap")),
    "synth/average.csv": ("synthetic_control", ("outcome", "att_average", "n_adopters"), ("att_average", "n_adopters")),
    "synth/sdid.csv": (
        "synthetic_control",
        (
            "outcome",
            "municipality",
            "adoption_year",
            "att",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "level",
            "pre_years",
            "post_years",
            "n_controls",
            "adopters",
        ),
        (
            "adoption_year",
            "att",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "level",
            "pre_years",
            "post_years",
            "n_controls",
            "adopters",
        ),
    ),
    "compare/municipalities.csv": (
        "compare_municipalities",
        ("treated", "treated_name", "comparison", "comparison_name", "distance", "rank", "selected"),
        ("treated", "comparison", "distance", "rank"),
    ),
    "compare/municipality_balance.csv": (
        "compare_municipalities",
        ("feature", "treated", "selected", "candidates", "smd_selected", "smd_candidates"),
        ("treated", "selected", "candidates", "smd_selected", "smd_candidates"),
    ),
    "implementation/group_year.csv": (
        "implementation",
        ("indicator", "group", "year", "value", "n_persons", "suppressed"),
        ("year", "value", "n_persons", "suppressed"),
    ),
    "factsheets/municipality_figures.csv": (
        "factsheets",
        ("municipality", "name", "comparison", "level", "figure", "year", "value", "suppressed"),
        ("municipality", "year", "value", "suppressed"),
    ),
    "economics.csv": (
        "economics",
        ("item", "estimate", "ci_low", "ci_high", "unit", "price_year"),
        ("estimate", "ci_low", "ci_high", "price_year"),
    ),
    "economics/costs_by_year.csv": (
        "economics",
        ("followup_year", "item", "estimate", "ci_low", "ci_high", "n_treated_child_years"),
        ("followup_year", "estimate", "ci_low", "ci_high", "n_treated_child_years"),
    ),
    "economics/ceac.csv": (
        "economics",
        ("wtp_dkk_per_unit", "probability_cost_effective", "n_draws"),
        ("wtp_dkk_per_unit", "probability_cost_effective", "n_draws"),
    ),
    "economics/reconciliation.csv": (
        "economics",
        ("year", "function", "accounts_dkk", "micro_dkk", "share_explained", "n_children"),
        ("year", "accounts_dkk", "micro_dkk", "share_explained", "n_children"),
    ),
    "economics/budget.csv": (
        "economics",
        ("budget_year", "item", "estimate", "ci_low", "ci_high", "unit", "price_year"),
        ("budget_year", "estimate", "ci_low", "ci_high", "price_year"),
    ),
    "estimate/naive_vs_robust.csv": (
        "estimate_staggered",
        ("outcome", "estimator", "estimate", "se", "ci_low", "ci_high", "p_value"),
        ("estimate", "se", "ci_low", "ci_high", "p_value"),
    ),
    "estimate/event_study.csv": (
        "estimate_staggered",
        ("outcome", "event_time", "att", "se", "ci_low", "ci_high"),
        ("event_time", "att", "se", "ci_low", "ci_high"),
    ),
    "estimate/bacon.csv": (
        "estimate_staggered",
        ("outcome", "family", "comparison", "treated_cohort", "control_cohort", "weight", "estimate"),
        ("treated_cohort", "control_cohort", "weight", "estimate"),
    ),
    "estimate/event_study_main.csv": (
        "estimate_effects",
        ("outcome", "event_time", "estimate", "se", "ci_low", "ci_high", "pre", "few_municipalities"),
        ("event_time", "estimate", "se", "ci_low", "ci_high", "pre", "few_municipalities"),
    ),
    "estimate/pretrend_main.csv": (
        "estimate_effects",
        ("outcome", "statistic", "df_num", "df_den", "p_value"),
        ("statistic", "df_num", "df_den", "p_value"),
    ),
    "estimate/honest_did.csv": (
        "estimate_effects",
        ("outcome", "method", "m", "ci_low", "ci_high", "breakdown_m", "original_low", "original_high"),
        ("m", "ci_low", "ci_high", "breakdown_m", "original_low", "original_high"),
    ),
    "estimate/pretrend.csv": (
        "estimate_staggered",
        ("outcome", "statistic", "df", "p_value"),
        ("statistic", "df", "p_value"),
    ),
    "estimate/heterogeneity.csv": (
        "estimate_staggered",
        ("outcome", "subgroup_variable", "subgroup", "estimate", "se", "ci_low", "ci_high", "n"),
        ("estimate", "se", "ci_low", "ci_high", "n"),
    ),
    "estimate/dose_response.csv": (
        "estimate_staggered",
        ("outcome", "estimate", "se", "ci_low", "ci_high", "per"),
        ("estimate", "se", "ci_low", "ci_high", "per"),
    ),
    "estimate/multiplicity.csv": (
        "estimate_staggered",
        ("outcome", "estimator", "family", "p_value", "p_holm", "p_bh"),
        ("p_value", "p_holm", "p_bh"),
    ),
    "estimate/inference.csv": (
        "choose_inference",
        (
            "outcome",
            "inference",
            "chosen",
            "weight_type",
            "reason",
            "effective_clusters",
            "n_clusters",
            "n_treated_clusters",
            "estimate",
            "p_value",
            "ci_low",
            "ci_high",
            "draws",
        ),
        ("effective_clusters", "n_clusters", "n_treated_clusters", "estimate", "p_value", "ci_low", "ci_high", "draws"),
    ),
    "power/mde.csv": (
        "power_table",
        (
            "outcome",
            "row",
            "treated_clusters",
            "n_clusters",
            "cluster_size",
            "icc",
            "sd",
            "alpha",
            "power",
            "mde",
            "mde_sd",
        ),
        ("treated_clusters", "n_clusters", "cluster_size", "icc", "sd", "alpha", "power", "mde", "mde_sd"),
    ),
    "disclosure/summary.csv": (
        "audit_disclosure",
        ("table", "rule", "cells_suppressed", "cells_total", "min_cell"),
        ("cells_suppressed", "cells_total", "min_cell"),
    ),
}

#: columns read when present (numeric ones converted like the required ones); a report shows them if there
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "compare/balance.csv": ("ecdf_max_after",),
    "estimate/event_study.csv": ("band_low", "band_high"),
    "estimate/dose_response.csv": ("p_value", "n_municipalities"),
    "estimate/naive_vs_robust.csv": ("n_treated", "n_control"),
    "estimate/bacon.csv": ("municipalities", "municipalities_dropped", "years"),
    "estimate/multiplicity.csv": ("estimate",),
}

#: file -> {column in the file: column the report uses}: the one place to adapt when a producer renames a column
RENAMES: dict[str, dict[str, str]] = {
    "estimate/multiplicity.csv": {},
}

#: the optional results of the later steps: ReportInputs field -> file inside results/
LATER_RESULTS: dict[str, str] = {
    "economics": "economics.csv",
    "costs_by_year": "economics/costs_by_year.csv",
    "ceac": "economics/ceac.csv",
    "reconciliation": "economics/reconciliation.csv",
    "budget": "economics/budget.csv",
    "naive_vs_robust": "estimate/naive_vs_robust.csv",
    "bacon": "estimate/bacon.csv",
    "event_study": "estimate/event_study.csv",
    "event_study_main": "estimate/event_study_main.csv",
    "pretrend_main": "estimate/pretrend_main.csv",
    "honest_did": "estimate/honest_did.csv",
    "pretrend": "estimate/pretrend.csv",
    "heterogeneity": "estimate/heterogeneity.csv",
    "dose_response": "estimate/dose_response.csv",
    "multiplicity": "estimate/multiplicity.csv",
    "inference": "estimate/inference.csv",
    "power": "power/mde.csv",
    "synth": "synth/table.csv",
    "synth_gaps": "synth/gaps.csv",
    "synth_average": "synth/average.csv",
    "synth_sdid": "synth/sdid.csv",
    "municipalities": "compare/municipalities.csv",
    "municipality_balance": "compare/municipality_balance.csv",
    "disclosure": "disclosure/summary.csv",
}

#: the love plot drawn by the compare step, and its alt text beside it
LOVE_PLOT = "compare/love_plot.png"
#: the overlap plots drawn by the compare step, one per language, alt text beside each (.txt)
OVERLAP_PLOT = "compare/overlap_plot_{language}.png"

STUDY_KEYS: tuple[str, ...] = (
    "title",
    "subtitle",
    "language",
    "publisher",
    "project_number",
    "year_published",
    "scale",
    "source",
    "seed",
    "first_year",
    "last_year",
    "cutoff_date",
    "treated",
    "n_municipalities",
    "config_sha256",
    "package_version",
    "min_cell",
    "min_treated_municipalities",
)


@dataclass(frozen=True)
class ReportInputs:
    """The aggregate results a report displays.

    Attributes
    ----------
    study : dict
        The study description from ``results/study.json``.
    row_accounting, sample_flow, balance, estimates, trends : pandas.DataFrame
        The tables of the same names under ``results/``.
    implementation : pandas.DataFrame or None
        ``results/implementation/group_year.csv``, when the implementation step has run.
    factsheet_figures : pandas.DataFrame or None
        ``results/factsheets/municipality_figures.csv``, when the factsheet step has run.
    provenance, run_info : dict or None
        ``results/provenance.json`` and ``results/run_info.json``, when written.
    economics, costs_by_year, ceac, reconciliation, budget : pandas.DataFrame or None
        ``results/economics.csv`` and ``results/economics/*.csv``, when the economics step has run.
    naive_vs_robust, event_study, pretrend, heterogeneity, dose_response, multiplicity : pandas.DataFrame or None
    event_study_main, pretrend_main, honest_did : pandas.DataFrame or None
        The headline's event study, its placebo pre-trend tests and the HonestDiD bounds (estimate_effects).
        ``results/estimate/<name>.csv`` of the staggered step, when it has run.
    bacon : pandas.DataFrame or None
        ``results/estimate/bacon.csv`` of the staggered step (Goodman-Bacon decomposition of the
        municipality-year TWFE; its counts are municipalities and years, not persons), when it has run.
    inference : pandas.DataFrame or None
        ``results/estimate/inference.csv`` of the ``choose_inference`` step, when it has run.
    power : pandas.DataFrame or None
        ``results/power/mde.csv`` of the ``power_table`` step, when it has run.
    synth, synth_gaps, synth_average, synth_sdid : pandas.DataFrame or None
        ``results/synth/table.csv``, ``gaps.csv``, ``average.csv`` and ``sdid.csv`` (synthetic DiD) of the
        ``synthetic_control`` step, when it has run.
    municipalities, municipality_balance : pandas.DataFrame or None
        ``results/compare/municipalities.csv`` and ``municipality_balance.csv`` of the
        ``compare_municipalities`` step, when it has run.
    disclosure : pandas.DataFrame or None
        ``results/disclosure/summary.csv`` of the ``audit_disclosure`` step (cells suppressed by
        table and rule), when it has run.
    love_plot : Path or None
        ``results/compare/love_plot.png``, when drawn.
    love_plot_alt : str or None
        Its alt text (``love_plot.txt``), in the language of ``report.language``.
    overlap_plots : dict or None
        Language -> (``results/compare/overlap_plot_<language>.png``, its alt text): the
        propensity-score overlap plots the compare step draws (the scores are microdata, so the
        report cannot draw them); None when none was drawn.
    """

    study: dict[str, Any]
    row_accounting: pd.DataFrame
    sample_flow: pd.DataFrame
    balance: pd.DataFrame
    estimates: pd.DataFrame
    trends: pd.DataFrame
    implementation: pd.DataFrame | None = None
    factsheet_figures: pd.DataFrame | None = None
    provenance: dict[str, Any] | None = None
    run_info: dict[str, Any] | None = None
    economics: pd.DataFrame | None = None
    costs_by_year: pd.DataFrame | None = None
    ceac: pd.DataFrame | None = None
    reconciliation: pd.DataFrame | None = None
    budget: pd.DataFrame | None = None
    naive_vs_robust: pd.DataFrame | None = None
    bacon: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    event_study_main: pd.DataFrame | None = None
    pretrend_main: pd.DataFrame | None = None
    honest_did: pd.DataFrame | None = None
    pretrend: pd.DataFrame | None = None
    heterogeneity: pd.DataFrame | None = None
    dose_response: pd.DataFrame | None = None
    multiplicity: pd.DataFrame | None = None
    inference: pd.DataFrame | None = None
    power: pd.DataFrame | None = None
    synth: pd.DataFrame | None = None
    synth_gaps: pd.DataFrame | None = None
    synth_average: pd.DataFrame | None = None
    synth_sdid: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None
    municipality_balance: pd.DataFrame | None = None
    disclosure: pd.DataFrame | None = None
    love_plot: Path | None = None
    love_plot_alt: str | None = None
    overlap_plots: dict[str, tuple[Path, str]] | None = None

    def has(self, *names: str) -> bool:
        """Whether every one of the named optional results (fields of this class) is present."""
        return all(getattr(self, name) is not None for name in names)

    @property
    def language(self) -> str:
        """The report language from ``study.json``."""
        return str(self.study["language"])

    @property
    def min_cell(self) -> int:
        """The smallest count of persons a table may show."""
        return int(self.study["min_cell"])


def _missing(path: Path, step: str) -> ReportError:
    return ReportError(f"{path} is missing: run the {step} step first (for example `make run`)")


def read_study(results_dir: Path) -> dict[str, Any]:
    """Read and check ``study.json``.

    Parameters
    ----------
    results_dir : Path
        The results folder.

    Returns
    -------
    dict
        The study description.

    Raises
    ------
    ReportError
        If the file is missing, is not valid JSON, or lacks a key.
    """
    path = Path(results_dir) / "study.json"
    if not path.is_file():
        raise _missing(path, "study")
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReportError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from err
    if not isinstance(study, dict):
        raise ReportError(f"{path} must hold a JSON object, found {type(study).__name__}")
    absent = [key for key in STUDY_KEYS if key not in study]
    if absent:
        raise ReportError(f"{path} lacks the key(s) {', '.join(absent)}: rerun the pipeline to rewrite it")
    treated = study["treated"]
    if not isinstance(treated, list) or not treated:
        raise ReportError(f"{path}: 'treated' must be a non-empty list of adopting municipalities")
    for i, entry in enumerate(treated):
        if not isinstance(entry, dict) or not {"municipality", "name", "adoption_year"} <= set(entry):
            raise ReportError(
                f"{path}: treated[{i}] = {entry!r} must have the keys municipality, name and adoption_year"
            )
    min_cell = study["min_cell"]
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ReportError(f"{path}: min_cell = {min_cell!r} must be a whole number of 1 or more")
    return study


def read_table(results_dir: Path, relative: str) -> pd.DataFrame:
    """Read one results table and check its columns and numbers.

    Parameters
    ----------
    results_dir : Path
        The results folder.
    relative : str
        The file's path inside ``results_dir``, a key of :data:`RESULT_FILES`.

    Returns
    -------
    pandas.DataFrame
        The table, with its numeric columns as floats.

    Raises
    ------
    ReportError
        If the file is missing, lacks a column, or holds a value that is not a number
        in a numeric column (the message names row and column).
    """
    step, columns, numeric = {**RESULT_FILES, **OPTIONAL_FILES}[relative]
    path = Path(results_dir) / relative
    if not path.is_file():
        raise _missing(path, step)
    frame = pd.read_csv(path, encoding="utf-8").rename(columns=RENAMES.get(relative, {}))
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        raise ReportError(
            f"{path} lacks the column(s) {', '.join(absent)} (found: {', '.join(map(str, frame.columns))}): "
            f"rerun the {step} step"
        )
    optional = [c for c in OPTIONAL_COLUMNS.get(relative, ()) if c in frame.columns and c not in numeric]
    for column in (*numeric, *optional):
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ReportError(
                f"{path}, row {row + 2}, column {column}: {frame[column].iloc[row]!r} is not a number; "
                f"rerun the {step} step"
            )
        frame[column] = converted.astype("float64")
    return frame


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReportError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from err
    if not isinstance(data, dict):
        raise ReportError(f"{path} must hold a JSON object, found {type(data).__name__}")
    return data


def load_results(results_dir: Path) -> ReportInputs:
    """Read every results file the reports need; later steps' files only when present.

    Parameters
    ----------
    results_dir : Path
        The results folder written by the pipeline.

    Returns
    -------
    ReportInputs
        The study description, the five required aggregate tables, and the optional
        results of later steps (:data:`OPTIONAL_FILES`, the love plot; ``None`` when absent).

    Raises
    ------
    ReportError
        If a file is missing or malformed.
    """
    results_dir = Path(results_dir)
    study = read_study(results_dir)
    return ReportInputs(
        study=study,
        row_accounting=read_table(results_dir, "ingest/row_accounting.csv"),
        sample_flow=read_table(results_dir, "cohort/sample_flow.csv"),
        balance=read_table(results_dir, "compare/balance.csv"),
        estimates=read_table(results_dir, "estimates.csv"),
        trends=read_table(results_dir, "estimate/trends.csv"),
        implementation=(
            read_table(results_dir, "implementation/group_year.csv")
            if (results_dir / "implementation" / "group_year.csv").is_file()
            else None
        ),
        factsheet_figures=(
            read_table(results_dir, "factsheets/municipality_figures.csv")
            if (results_dir / "factsheets" / "municipality_figures.csv").is_file()
            else None
        ),
        provenance=_read_json(results_dir / "provenance.json"),
        run_info=_read_json(results_dir / "run_info.json"),
        **{
            name: read_table(results_dir, relative) if (results_dir / relative).is_file() else None
            for name, relative in LATER_RESULTS.items()
        },
        **_love_plot(results_dir),
        overlap_plots=_overlap_plots(results_dir),
    )


def _overlap_plots(results_dir: Path) -> dict[str, tuple[Path, str]] | None:
    found = {}
    for language in ("da", "en"):
        png = results_dir / OVERLAP_PLOT.format(language=language)
        alt = png.with_suffix(".txt")
        if png.is_file() and png.stat().st_size > 0 and alt.is_file():
            found[language] = (png, alt.read_text(encoding="utf-8").strip())
    return found or None


def _love_plot(results_dir: Path) -> dict[str, Any]:
    png = results_dir / LOVE_PLOT
    if not png.is_file():
        return {"love_plot": None, "love_plot_alt": None}
    alt = png.with_suffix(".txt")
    text = alt.read_text(encoding="utf-8").strip() if alt.is_file() else ""
    return {"love_plot": png, "love_plot_alt": text or None}
