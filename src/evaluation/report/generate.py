"""Write the report's generated parts: tables, figures and variables.

Everything a report shows is built here from the results files and written to
``reports/_generated/`` (``tbl-*.md``, ``fig-*.png``) and
``reports/_variables.yml``, so that the ``.qmd`` only includes and refers to it.

The captions and source lines are in ``reports/_text/<language>/captions.yml``, shared with
:mod:`evaluation.report.chapters` (:data:`CAPTION_WORDS`): the caption of the table labelled ``tbl-x-y`` has the
code ``tbl_x_y``, a source line ``source_<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.errors import ReportError
from evaluation.report.chapters import WORDS as CAPTION_WORDS
from evaluation.report.chapters import ResultParts, write_result_parts
from evaluation.report.documents import document_words, install_text
from evaluation.report.factsheet import factsheet_figure, factsheet_table, factsheet_variables
from evaluation.report.figures import estimates_figure, sample_flow_figure, save_figure, trends_figure
from evaluation.report.inputs import ReportInputs
from evaluation.report.labels import label
from evaluation.report.monitoring import implementation_figure, implementation_table, implementation_variables
from evaluation.report.provenance_parts import WORDS as PROVENANCE_WORDS
from evaluation.report.provenance_parts import inputs_table, packages_table, provenance_variables
from evaluation.report.sentences import read_sentences
from evaluation.report.tables import (
    balance_table,
    contract_table,
    estimates_table,
    row_accounting_table,
    sample_flow_table,
    to_markdown,
)
from evaluation.report.templates_path import template_path
from evaluation.report.values import WORDS as VALUE_WORDS
from evaluation.report.values import collect_variables, write_variables

#: the source lines of this module's tables (``source_<name>`` in :data:`CAPTION_WORDS`)
SOURCE_NAMES = ("registry", "casework", "pipeline", "contract")


def _write_table(path: Path, table, caption: str, label_id: str, text_columns: int, source: str) -> Path:  # noqa: ANN001
    align = ["left"] * text_columns + ["right"] * (len(table.columns) - text_columns)
    path.write_text(to_markdown(table, caption, label_id, align=align, source=source), encoding="utf-8")
    return path


def write_generated(
    inputs: ReportInputs,
    reports_dir: Path,
    *,
    document: str = "interim",
    params: dict[str, Any] | None = None,
    progress: Callable[[str], object] = print,
) -> dict[str, Path]:
    """Write the tables, figures, text parts and variables of a report.

    Parameters
    ----------
    inputs : ReportInputs
        The results files; ``inputs.language`` is the language written.
    reports_dir : Path
        The Quarto project folder; writes ``_generated/`` and ``_variables.yml`` in it.
    document : str, default "interim"
        The document: sets the subtitle and, for ``"factsheet"``, the municipality's parts.
    params : dict, optional
        ``{"municipality": code}`` for the factsheet.
    progress : callable, default print
        Receives one line per step.

    Returns
    -------
    dict of str to Path
        ``"tbl-..."`` / ``"fig-..."`` / ``"variables"`` -> the file written.
    """
    reports_dir = Path(reports_dir)
    generated = reports_dir / "_generated"
    generated.mkdir(parents=True, exist_ok=True)
    language, min_cell = inputs.language, inputs.min_cell
    captions = read_sentences(reports_dir, language, CAPTION_WORDS)
    written: dict[str, Path] = {}
    study = inputs.study
    value_words = read_sentences(reports_dir, language, VALUE_WORDS)
    words = {
        "data_source": collect_variables(inputs, sentences=value_words)["data_source"],
        "first_year": study["first_year"],
        "last_year": study["last_year"],
    }
    sources = {name: captions[f"source_{name}"].format(**words) for name in SOURCE_NAMES}

    tables = {
        "tbl-row-accounting": (row_accounting_table(inputs.row_accounting, min_cell, language=language), 2),
        "tbl-sample-flow": (sample_flow_table(inputs.sample_flow, min_cell, language=language), 2),
        "tbl-balance": (balance_table(inputs.balance, language=language), 1),
        "tbl-main": (estimates_table(inputs.estimates, min_cell, language=language), None),
    }
    for label_id, (table, text_columns) in tables.items():
        if text_columns is None:  # the estimates table: every column after the labels is numeric
            text_columns = 3 if label("column", "subgroup", language) in table.columns else 2
        path = generated / f"{label_id}.md"
        written[label_id] = _write_table(
            path, table, captions[label_id.replace("-", "_")], label_id, text_columns, sources["registry"]
        )
        progress(f"report: wrote {path} ({len(table)} rows)")

    written["tbl-contract"] = _write_table(
        generated / "tbl-contract.md",
        contract_table(language=language),
        captions["tbl_contract"],
        "tbl-contract",
        2,
        sources["contract"],
    )
    adoption_years = [int(t["adoption_year"]) for t in study["treated"]]
    figure, trends_suppressed = trends_figure(inputs.trends, adoption_years, min_cell, language=language)
    if trends_suppressed:
        progress(
            f"report: {trends_suppressed} yearly mean(s) over fewer than {min_cell} children left out of fig-trends"
        )
    figures = {
        "fig-sample-flow": sample_flow_figure(inputs.sample_flow, min_cell, language=language),
        "fig-trends": figure,
        "fig-estimates": estimates_figure(inputs.estimates, language=language),
    }
    variables = collect_variables(inputs, sentences=value_words, trends_suppressed=trends_suppressed)

    if inputs.implementation is not None:
        table = implementation_table(inputs.implementation, language=language)
        impl = implementation_variables(inputs.implementation, language=language)
        caption = captions["tbl_implementation"].format(year=impl["impl_year"])
        written["tbl-implementation"] = _write_table(
            generated / "tbl-implementation.md", table, caption, "tbl-implementation", 1, sources["casework"]
        )
        figures["fig-implementation"] = implementation_figure(inputs.implementation, adoption_years, language=language)
        variables.update(impl)
    if inputs.provenance is not None:
        for key, table in (
            ("tbl-provenance-inputs", inputs_table(inputs.provenance, language=language)),
            ("tbl-provenance-packages", packages_table(inputs.provenance, language=language)),
        ):
            written[key] = _write_table(
                generated / f"{key}.md", table, captions[key.replace("-", "_")], key, 2, sources["pipeline"]
            )
        variables.update(
            provenance_variables(
                inputs.provenance,
                inputs.run_info,
                sentences=read_sentences(reports_dir, language, PROVENANCE_WORDS),
                release=study.get("release"),
            )
        )
    parts = write_result_parts(inputs, generated, _write_table, words) if document != "factsheet" else ResultParts()
    written.update(parts.tables)
    figures.update(parts.figures)
    variables.update(parts.variables)
    for label_id, source in parts.copies.items():
        written[label_id] = generated / f"{label_id}{source.suffix}"
        written[label_id].write_bytes(source.read_bytes())
    if document == "factsheet":  # a factsheet shows only its own figures: the report's are not drawn again
        report_figures = set(figures)
        written.update(_write_factsheet(inputs, generated, params or {}, figures, variables, sources, captions))
        figures = {label_id: fig for label_id, fig in figures.items() if label_id not in report_figures}

    for label_id, fig in figures.items():
        written[label_id] = save_figure(fig, generated / f"{label_id}.png")
        progress(f"report: wrote {written[label_id]}")

    written["css"] = generated / "report.css"
    written["css"].write_bytes(template_path("report.css").read_bytes())

    available = {"implementation": inputs.implementation is not None, "provenance": inputs.provenance is not None}
    available |= parts.available
    install_text(reports_dir, language, available)
    same_language = language == str(study.get("config_language", study["language"]))
    words = document_words(language)
    variables["title"] = str(study["title"]) if same_language else words["title"]
    if document != "interim" or not same_language:
        variables["subtitle"] = words[document]
    variables["toc_title"] = words["toc_title"]
    written["variables"] = write_variables(variables, reports_dir / "_variables.yml")
    progress(f"report: wrote {written['variables']} ({len(variables)} values)")
    return written


def _write_factsheet(
    inputs: ReportInputs,
    generated: Path,
    params: dict[str, Any],
    figures: dict,
    variables: dict[str, str],
    sources: dict[str, str],
    captions: dict[str, str],
) -> dict[str, Path]:
    if inputs.factsheet_figures is None:
        raise ReportError(
            "results/factsheets/municipality_figures.csv is missing: run the factsheet figures step first"
        )
    language = inputs.language
    municipality = int(params["municipality"])
    adoption = {int(t["municipality"]): int(t["adoption_year"]) for t in inputs.study["treated"]}.get(municipality)
    whole = bool(inputs.study.get("whole_country", True))
    values = factsheet_variables(
        inputs.factsheet_figures, municipality, adoption, language=language, whole_country=whole
    )
    table = factsheet_table(inputs.factsheet_figures, municipality, language=language, whole_country=whole)
    caption = captions["tbl_keyfigures"].format(name=values["fs_name"])
    path = _write_table(generated / "tbl-keyfigures.md", table, caption, "tbl-keyfigures", 1, sources["registry"])
    figures["fig-keyfigures"] = factsheet_figure(
        inputs.factsheet_figures, municipality, adoption, language=language, whole_country=whole
    )
    variables.update(values)
    return {"tbl-keyfigures": path}
