"""Write the report's generated parts: tables, figures and variables.

Everything a report shows is built here from the results files and written to
``reports/_generated/`` (``tbl-*.md``, ``fig-*.png``) and
``reports/_variables.yml``, so that the ``.qmd`` only includes and refers to it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evaluation.report.figures import estimates_figure, sample_flow_figure, save_figure, trends_figure
from evaluation.report.inputs import ReportInputs
from evaluation.report.labels import label
from evaluation.report.tables import (
    balance_table,
    estimates_table,
    row_accounting_table,
    sample_flow_table,
    to_markdown,
)
from evaluation.report.templates_path import template_path
from evaluation.report.values import collect_variables, write_variables

CAPTIONS: dict[str, dict[str, str]] = {
    "da": {
        "tbl-row-accounting": "Rækker læst, godkendt og sat i karantæne pr. udtræk",
        "tbl-sample-flow": "Udvælgelse af børn til analysen, antal børn pr. trin",
        "tbl-balance": "Balance mellem indsats- og sammenligningsgruppe før og efter matching",
        "tbl-main": "Estimerede effekter af Herning-modellen, alle analyser",
    },
    "en": {
        "tbl-row-accounting": "Rows read, accepted and quarantined per extract",
        "tbl-sample-flow": "Selection of children for the analysis, children per step",
        "tbl-balance": "Balance between treated and comparison group before and after matching",
        "tbl-main": "Estimated effects of the Herning model, all analyses",
    },
}


def write_generated(
    inputs: ReportInputs, reports_dir: Path, *, progress: Callable[[str], object] = print
) -> dict[str, Path]:
    """Write the tables, figures and variables of a report.

    Parameters
    ----------
    inputs : ReportInputs
        The results files.
    reports_dir : Path
        The Quarto project folder; writes ``_generated/`` and ``_variables.yml`` in it.
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
    captions = CAPTIONS[language]
    written: dict[str, Path] = {}

    tables = {
        "tbl-row-accounting": (row_accounting_table(inputs.row_accounting, min_cell, language=language), 2),
        "tbl-sample-flow": (sample_flow_table(inputs.sample_flow, min_cell, language=language), 2),
        "tbl-balance": (balance_table(inputs.balance, language=language), 1),
        "tbl-main": (estimates_table(inputs.estimates, min_cell, language=language), None),
    }
    for label_id, (table, text_columns) in tables.items():
        if text_columns is None:  # the estimates table: every column after the labels is numeric
            text_columns = 3 if label("column", "subgroup", language) in table.columns else 2
        align = ["left"] * text_columns + ["right"] * (len(table.columns) - text_columns)
        path = generated / f"{label_id}.md"
        path.write_text(to_markdown(table, captions[label_id], label_id, align=align), encoding="utf-8")
        written[label_id] = path
        progress(f"report: wrote {path} ({len(table)} rows)")

    figure, trends_suppressed = trends_figure(
        inputs.trends, [int(t["adoption_year"]) for t in inputs.study["treated"]], min_cell, language=language
    )
    if trends_suppressed:
        progress(
            f"report: {trends_suppressed} yearly mean(s) over fewer than {min_cell} children left out of fig-trends"
        )
    figures = {
        "fig-sample-flow": sample_flow_figure(inputs.sample_flow, min_cell, language=language),
        "fig-trends": figure,
        "fig-estimates": estimates_figure(inputs.estimates, language=language),
    }
    for label_id, fig in figures.items():
        written[label_id] = save_figure(fig, generated / f"{label_id}.png")
        progress(f"report: wrote {written[label_id]}")

    written["css"] = generated / "report.css"
    written["css"].write_bytes(template_path("report.css").read_bytes())

    variables = collect_variables(inputs, trends_suppressed=trends_suppressed)
    written["variables"] = write_variables(variables, reports_dir / "_variables.yml")
    progress(f"report: wrote {written['variables']} ({len(variables)} values)")
    return written
