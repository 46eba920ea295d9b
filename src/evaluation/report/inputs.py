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

from evaluation.contract.results import ResultsFile, results_table
from evaluation.errors import ReportError

#: The results files every report needs, inside ``results/<release>/``. Their columns, kinds and producing rules
#: are declared once, in :data:`evaluation.contract.results.RESULTS_FILES`.
RESULT_FILES: tuple[str, ...] = (
    "ingest/row_accounting.csv",
    "cohort/sample_flow.csv",
    "compare/balance.csv",
    "estimates.csv",
    "estimate/trends.csv",
)

#: The results written by later steps, which a report without them says have not been done:
#: ReportInputs field -> file inside ``results/<release>/``.
LATER_RESULTS: dict[str, str] = {
    "implementation": "implementation/group_year.csv",
    "factsheet_figures": "factsheets/municipality_figures.csv",
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
        ``results/estimate/inference.csv`` of the ``estimate_effects`` step, when it has run.
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


def declared(relative: str) -> ResultsFile:
    """Return the registry's declaration of the results table ``relative`` (a path inside ``results/<release>/``).

    Raises
    ------
    KeyError
        If the registry (:func:`evaluation.contract.results.results_table`) does not declare its columns.
    """
    return results_table(f"results/{{release}}/{relative}")


def flag_values(values: pd.Series, path: Path | str, column: str, step: str) -> pd.Series:
    """Return a flag column as booleans, whether the CSV reader gave bools, 0/1 or the words True/False.

    Raises
    ------
    ReportError
        For a value that is not true or false, naming ``path``, the row, ``column`` and the ``step`` to rerun.
    """
    words = values.astype(str).str.strip().str.lower()
    bad = ~words.isin(["true", "false", "1", "0", "1.0", "0.0"])
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ReportError(
            f"{path}, row {row + 2}, column {column}: {values.iloc[row]!r} is not true or false; rerun the {step} step"
        )
    return words.isin(["true", "1", "1.0"])


def read_table(results_dir: Path, relative: str) -> pd.DataFrame:
    """Read one results table and check it against its declaration in the results registry.

    Parameters
    ----------
    results_dir : Path
        The results folder.
    relative : str
        The file's path inside ``results_dir``: one of :data:`RESULT_FILES` or :data:`LATER_RESULTS`.

    Returns
    -------
    pandas.DataFrame
        The table with every declared column; ``number`` columns as floats, ``flag`` columns as booleans.

    Raises
    ------
    ReportError
        If the file is missing, lacks a declared column, or holds a value that is not a number in a number
        column or not true or false in a flag column (the message names row and column).
    """
    entry = declared(relative)
    step = entry.producer
    path = Path(results_dir) / relative
    if not path.is_file():
        raise _missing(path, step)
    frame = pd.read_csv(path, encoding="utf-8")
    absent = [column for column in entry.names if column not in frame.columns]
    if absent:
        raise ReportError(
            f"{path} lacks the column(s) {', '.join(absent)} (found: {', '.join(map(str, frame.columns))}): "
            f"rerun the {step} step"
        )
    for column in entry.numeric:
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ReportError(
                f"{path}, row {row + 2}, column {column}: {frame[column].iloc[row]!r} is not a number; "
                f"rerun the {step} step"
            )
        frame[column] = converted.astype("float64")
    for column in entry.of_kind("flag"):
        frame[column] = flag_values(frame[column], path, column, step)
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
        The study description, the five required aggregate tables (:data:`RESULT_FILES`), and the optional
        results of later steps (:data:`LATER_RESULTS`, the love plot; ``None`` when absent).

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
