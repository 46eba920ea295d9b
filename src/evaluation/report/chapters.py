"""Generated parts of the chapters on economics, staggered effects, balance and disclosure, when their results exist.

:func:`write_result_parts` writes the tables (``tbl-*.md``), collects the figures
and the variables of these chapters, and says which text parts can be installed
in full (the others get their ``.missing`` variant, see
:func:`evaluation.report.documents.install_text`). The text part -> results it
needs is :data:`PART_RESULTS`.

The captions, source lines and the love plot's alt text are in ``reports/_text/<language>/captions.yml``
(:data:`WORDS`, read with :func:`evaluation.report.sentences.read_sentences`), flat: the caption of the table
labelled ``tbl-x-y`` has the code ``tbl_x_y``, a source line ``source_<name>`` (``source_registry``: own
calculations on the registry data), and the alt text ``love_plot_alt``. The file also holds the captions and
source lines of :mod:`evaluation.report.generate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from evaluation.report.disclosure_parts import WORDS as DISCLOSURE_WORDS
from evaluation.report.disclosure_parts import disclosure_table, disclosure_variables
from evaluation.report.economics_parts import WORDS as ECONOMICS_WORDS
from evaluation.report.economics_parts import (
    budget_table,
    economics_table,
    economics_variables,
    horizon,
    net_cost_table,
    reconciliation_table,
)
from evaluation.report.effects_parts import WORDS as EFFECTS_WORDS
from evaluation.report.effects_parts import (
    bacon_labels,
    bacon_outcomes,
    bacon_table,
    bacon_variables,
    heterogeneity_table,
    multiplicity_table,
    naive_robust_table,
    staggered_variables,
)
from evaluation.report.figures_headline import WORDS as HEADLINE_FIGURE_WORDS
from evaluation.report.figures_headline import headline_event_study_figure, honest_did_figure
from evaluation.report.figures_results import bacon_figure, ceac_figure, costs_figure, love_plot_figure
from evaluation.report.headline_parts import WORDS as HEADLINE_WORDS
from evaluation.report.headline_parts import headline_sensitivity_variables
from evaluation.report.inference_parts import REASONS, inference_note, inference_table, inference_variables
from evaluation.report.inputs import ReportInputs
from evaluation.report.limits import WORDS as LIMIT_WORDS
from evaluation.report.limits import analysis_limits, few_treated_variables, limits_markdown
from evaluation.report.municipality_parts import WORDS as MUNICIPALITY_WORDS
from evaluation.report.municipality_parts import (
    municipality_balance_table,
    municipality_table,
    municipality_variables,
)
from evaluation.report.power_parts import WORDS as POWER_WORDS
from evaluation.report.power_parts import power_figure, power_grid_table, power_table, power_variables
from evaluation.report.sentences import read_sentences
from evaluation.report.synth_parts import WORDS as SYNTH_WORDS
from evaluation.report.synth_parts import sdid_table, sdid_variables, synth_figure, synth_table, synth_variables
from evaluation.report.values import SMD_THRESHOLD

#: show the compare step's love plot (``results/compare/love_plot.png``) when it is in the report's language;
#: False draws it here from balance.csv with the report's covariate labels and number format
USE_PIPELINE_LOVE_PLOT = False
ECONOMICS = ("economics", "costs_by_year", "ceac", "reconciliation", "budget")
#: results whose parts need at least one row (the others' parts show an empty result in words)
NEED_ROWS = frozenset({*ECONOMICS, "event_study_main", "inference", "power"})
#: text part (``reports/_text/<language>/<part>.md``) -> the ReportInputs fields it needs
PART_RESULTS: dict[str, tuple[str, ...]] = {
    "economics": ECONOMICS,
    "summary-economics": ECONOMICS,
    "appendix-economics": ECONOMICS,
    "inference-staggered": ("naive_vs_robust",),
    "inference-choice": ("inference",),
    "inference-compare": ("inference",),
    "power": ("power",),
    "synth": ("synth", "synth_gaps"),
    "synth-sdid": ("synth", "synth_average", "synth_sdid"),
    "summary-inference": ("inference",),
    "effects-robust": ("naive_vs_robust",),
    "effects-robust-bacon": ("bacon",),
    "effects-event-study": ("event_study_main", "pretrend_main", "honest_did"),
    "effects-heterogeneity": ("heterogeneity",),
    "effects-dose": ("dose_response",),
    "effects-multiplicity": ("multiplicity",),
    "appendix-municipalities": ("municipalities", "municipality_balance"),
    "appendix-disclosure": ("disclosure",),
}

#: the file of the captions, source lines and love plot alt text, in ``reports/_text/<language>/`` (also those of
#: :mod:`evaluation.report.generate`)
WORDS = "captions.yml"


def has_rows(inputs: ReportInputs, *names: str) -> bool:
    """Return whether the named results are present, and those of :data:`NEED_ROWS` hold rows.

    A step that could estimate nothing writes a file with a header only; its part then gets the ``.missing``
    text, and the summary's list of limits says why.
    """
    return inputs.has(*names) and not any(getattr(inputs, n).empty for n in names if n in NEED_ROWS)


@dataclass
class ResultParts:
    """What :func:`write_result_parts` produced."""

    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    copies: dict[str, Path] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    available: dict[str, bool] = field(default_factory=dict)


def write_result_parts(
    inputs: ReportInputs,
    generated: Path,
    write_table: Callable[[Path, pd.DataFrame, str, str, int, str], Path],
    words: dict[str, object],
) -> ResultParts:
    """Write the tables and collect the figures and variables of the economics, staggered and balance parts.

    Parameters
    ----------
    inputs : ReportInputs
        The results; a part whose results are absent is skipped and marked unavailable.
    generated : Path
        ``reports/_generated``.
    write_table : callable
        ``(path, table, caption, label, text_columns, source) -> path`` (the report's table writer).
    words : dict
        ``data_source``, ``first_year``, ``last_year`` for the source lines.

    Returns
    -------
    ResultParts
        Tables written, figures to save, files to copy (``fig-love-plot``), variables and availability.
    """
    language, min_cell = inputs.language, inputs.min_cell
    captions = read_sentences(generated.parent, language, WORDS)
    out = ResultParts(available={part: has_rows(inputs, *needs) for part, needs in PART_RESULTS.items()})

    def table(label_id: str, frame: pd.DataFrame, text_columns: int, source: str, **fmt: object) -> None:
        path = generated / f"{label_id}.md"
        out.tables[label_id] = write_table(
            path, frame, captions[label_id.replace("-", "_")].format(**fmt), label_id, text_columns, source
        )

    registry = captions["source_registry"].format(**words)
    if out.available["economics"]:
        economics = inputs.economics
        prices = economics["price_year"].dropna()
        price_year = str(int(prices.iloc[0])) if len(prices) else "–"
        economics_words = read_sentences(generated.parent, language, ECONOMICS_WORDS)
        out.variables.update(
            economics_variables(
                economics,
                inputs.costs_by_year,
                inputs.ceac,
                inputs.reconciliation,
                inputs.budget,
                sentences=economics_words,
                language=language,
            )
        )
        source = captions["source_economics"].format(**words, n_draws=out.variables["econ_n_draws"])
        years = horizon(inputs.costs_by_year)
        table("tbl-economics", economics_table(economics, horizon_years=years, sentences=economics_words,
              language=language), 1, source, price_year=price_year)  # fmt: skip
        table("tbl-net-cost", net_cost_table(inputs.costs_by_year, min_cell, language=language), 1, source,
              price_year=price_year)  # fmt: skip
        table("tbl-budget", budget_table(inputs.budget, language=language), 1, source, price_year=price_year)
        accounts = captions["source_accounts"].format(**words)
        table("tbl-reconciliation", reconciliation_table(inputs.reconciliation, min_cell, sentences=economics_words,
              language=language), 1, accounts)  # fmt: skip
        out.figures["fig-costs"] = costs_figure(inputs.costs_by_year, language=language)
        out.figures["fig-ceac"] = ceac_figure(inputs.ceac, language=language)
    effects_words = read_sentences(generated.parent, language, EFFECTS_WORDS)
    if inputs.naive_vs_robust is not None:
        table("tbl-naive-robust", naive_robust_table(inputs.naive_vs_robust, sentences=effects_words,
              language=language), 2, registry)  # fmt: skip
    out.available["effects-robust-bacon"] = inputs.bacon is not None and not inputs.bacon.empty
    if out.available["effects-robust-bacon"]:
        table("tbl-bacon", bacon_table(inputs.bacon, sentences=effects_words, language=language), 2, registry)
        out.figures["fig-bacon"] = bacon_figure(
            inputs.bacon, bacon_outcomes(inputs.bacon), bacon_labels(effects_words), language=language
        )
    out.variables.update(bacon_variables(inputs.bacon, sentences=effects_words, language=language))
    if inputs.heterogeneity is not None:
        table("tbl-heterogeneity", heterogeneity_table(inputs.heterogeneity, min_cell, sentences=effects_words,
              language=language), 3, registry)  # fmt: skip
    if inputs.multiplicity is not None:
        table("tbl-multiplicity", multiplicity_table(inputs.multiplicity, language=language), 3, registry)
    _inference_and_power(inputs, out, table, registry, generated.parent)
    synth_words = read_sentences(generated.parent, language, SYNTH_WORDS)
    if out.available["synth"] and not inputs.synth.empty and not inputs.synth_gaps.empty:
        values = synth_variables(inputs.synth, inputs.synth_gaps, sentences=synth_words, language=language)
        out.variables.update(values)
        table("tbl-synth", synth_table(inputs.synth, sentences=synth_words, language=language), 1, registry)
        out.figures["fig-synth"] = synth_figure(inputs.synth_gaps, int(values["synth_year"]), sentences=synth_words,
                                                language=language)  # fmt: skip
    else:
        out.available["synth"] = False
    out.available["synth-sdid"] = out.available["synth"] and out.available["synth-sdid"] and not inputs.synth_sdid.empty
    if out.available["synth-sdid"]:
        out.variables.update(sdid_variables(inputs.synth_sdid, language=language))
        table("tbl-synth-sdid", sdid_table(inputs.synth, inputs.synth_average, inputs.synth_sdid,
              sentences=synth_words, language=language), 2, registry)  # fmt: skip
    if out.available["appendix-municipalities"]:
        out.variables.update(
            municipality_variables(inputs.municipalities, inputs.municipality_balance, language=language)
        )
        municipality_words = read_sentences(generated.parent, language, MUNICIPALITY_WORDS)
        table("tbl-municipalities", municipality_table(inputs.municipalities, sentences=municipality_words,
              language=language), 2, registry)  # fmt: skip
        table("tbl-municipality-balance", municipality_balance_table(inputs.municipality_balance,
              sentences=municipality_words, language=language), 1, registry)  # fmt: skip
    if out.available["appendix-disclosure"]:
        out.variables.update(disclosure_variables(inputs.disclosure, min_cell, language=language))
        disclosure_words = read_sentences(generated.parent, language, DISCLOSURE_WORDS)
        table("tbl-disclosure", disclosure_table(inputs.disclosure, sentences=disclosure_words, language=language), 1,
              captions["source_disclosure"])  # fmt: skip
    min_treated = int(inputs.study["min_treated_municipalities"])
    figure_words = read_sentences(generated.parent, language, HEADLINE_FIGURE_WORDS)
    if has_rows(inputs, "event_study_main"):
        out.figures["fig-event-study"] = headline_event_study_figure(
            inputs.event_study_main, min_treated=min_treated, sentences=figure_words, language=language
        )
    if inputs.honest_did is not None:
        out.figures["fig-honest-did"] = honest_did_figure(inputs.honest_did, sentences=figure_words, language=language)
    out.variables.update(
        headline_sensitivity_variables(
            inputs.pretrend_main,
            inputs.honest_did,
            min_treated=min_treated,
            sentences=read_sentences(generated.parent, language, HEADLINE_WORDS),
            language=language,
        )
    )
    out.variables.update(
        staggered_variables(
            inputs.naive_vs_robust,
            inputs.pretrend,
            inputs.heterogeneity,
            inputs.dose_response,
            inputs.multiplicity,
            sentences=effects_words,
            language=language,
        )
    )
    _love_plot(inputs, out, captions["love_plot_alt"])
    _limits(inputs, out, generated)
    plot = (inputs.overlap_plots or {}).get(language)
    out.available["appendix-overlap"] = plot is not None
    if plot is not None:
        out.copies["fig-overlap"] = plot[0]
        out.variables["overlap_alt"] = " ".join(plot[1].replace('"', "'").split())
    return out


def _inference_and_power(
    inputs: ReportInputs, out: ResultParts, table: Callable[..., None], source: str, reports_dir: Path
) -> None:
    """Write the inference and power tables, draw the power figure, and say whether the summary names the CI."""
    language = inputs.language
    if has_rows(inputs, "inference"):
        words = read_sentences(reports_dir, language, REASONS)
        note = inference_note(inputs.inference, sentences=words, language=language)
        table("tbl-inference", inference_table(inputs.inference, sentences=words, language=language), 2,
              f"{source} {note}".strip())  # fmt: skip
        values = inference_variables(inputs.inference, sentences=words, language=language)
        out.variables.update(values)
        # the chosen method's CI beside the cluster-robust one (and in the summary) only when they differ
        differs = values["inference_chosen_is_robust"] == "false"
        out.available["inference-compare"] = out.available["summary-inference"] = differs
    if has_rows(inputs, "power"):
        words = read_sentences(reports_dir, language, POWER_WORDS)
        values = power_variables(inputs.power, sentences=words, language=language)
        out.variables.update(values)
        table("tbl-power", power_table(inputs.power, sentences=words, language=language), 2, source,
              alpha=values["power_alpha"], power=values["power_level"])  # fmt: skip
        table("tbl-power-grid", power_grid_table(inputs.power, sentences=words, language=language), 1, source,
              outcome=values["power_outcome"])  # fmt: skip
        out.figures["fig-power"] = power_figure(inputs.power, sentences=words, language=language)


def _limits(inputs: ReportInputs, out: ResultParts, generated: Path) -> None:
    """List the analyses that could not be made (``_generated/limits.md``) and open the summary on few adopters."""
    sentences = read_sentences(generated.parent, inputs.language, LIMIT_WORDS)
    limits = analysis_limits(inputs)
    path = generated / "limits.md"
    path.write_text(limits_markdown(limits, sentences, language=inputs.language), encoding="utf-8")
    out.tables["limits"] = path
    out.available["summary-limits"] = bool(limits)
    few = any(limit.code == "few_treated" for limit in limits)
    out.available["summary-few-treated"] = few
    if few:
        out.variables.update(few_treated_variables(inputs, sentences))


def _love_plot(inputs: ReportInputs, out: ResultParts, alt_text: str) -> None:
    """Use the compare step's love plot when it is in the report's language, else draw one from balance.csv.

    ``alt_text`` (``love_plot_alt`` of :data:`WORDS`) describes the plot when the compare step gave no alt text.
    """
    language = inputs.language
    drawn_in = str(inputs.study.get("config_language", language))
    if USE_PIPELINE_LOVE_PLOT and inputs.love_plot is not None and drawn_in == language:
        out.copies["fig-love-plot"] = inputs.love_plot
        alt = (inputs.love_plot_alt or alt_text).replace('"', "'")
        out.variables["love_plot_alt"] = " ".join(alt.split())
    else:
        out.figures["fig-love-plot"] = love_plot_figure(inputs.balance, threshold=SMD_THRESHOLD, language=language)
        out.variables["love_plot_alt"] = alt_text
