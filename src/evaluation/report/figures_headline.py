"""Figures of the headline: its event study with placebo years, and the HonestDiD sensitivity bounds.

Drawn like :mod:`evaluation.report.figures` (Agg canvas, fixed style, the Okabe-Ito palette, a marker per
series as well as a colour), from the results files of the rule ``estimate_effects`` only. Their words (axes,
legends, panel titles) are in ``reports/_text/<language>/headline-figures.yml`` (:data:`WORDS`); the functions
take them as ``sentences`` (:func:`evaluation.report.sentences.read_sentences`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from evaluation.errors import ReportError
from evaluation.report.figures import OKABE_ITO, STYLE, _tick_formatter, bounded_ends
from evaluation.report.labels import OUTCOME_ORDER, label, ordered

__all__ = ["HEADLINE_EVENT_OUTCOMES", "WORDS", "headline_event_study_figure", "honest_did_figure"]

#: Outcomes drawn in the event-study figure (the others are in the results file).
HEADLINE_EVENT_OUTCOMES = ("sdq", "cost_per_child", "school_absence")

#: the file of the figures' words (axes, legends, panel titles), in ``reports/_text/<language>/``
WORDS = "headline-figures.yml"


def headline_event_study_figure(
    event_study: pd.DataFrame,
    *,
    min_treated: int,
    sentences: Mapping[str, str],
    language: str = "da",
    outcomes: tuple[str, ...] | None = None,
) -> Figure:
    """Draw the headline's event study: placebo years hollow, effects filled, thin event times grey without bars.

    Parameters
    ----------
    event_study : pandas.DataFrame
        ``results/<release>/estimate/event_study_main.csv``.
    min_treated : int
        ``estimation.min_treated_municipalities`` (for the legend of the flagged event times).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Outcome labels and number format.
    outcomes : tuple of str, optional
        Outcomes to draw (default :data:`HEADLINE_EVENT_OUTCOMES` present in the file).

    Returns
    -------
    matplotlib.figure.Figure
    """
    wanted = outcomes or HEADLINE_EVENT_OUTCOMES
    present = set(event_study["outcome"].astype(str)) & set(wanted)
    if not present:
        raise ReportError("results/estimate/event_study_main.csv has no rows to draw: rerun estimate_effects")
    names = ordered(present, OUTCOME_ORDER)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 2.3 * len(names) + 0.8), layout="constrained")
        axes = np.atleast_1d(figure.subplots(len(names), 1, squeeze=False, sharex=True)).ravel()
        for ax, outcome in zip(axes, names, strict=True):
            panel = event_study[event_study["outcome"].astype(str) == outcome].sort_values("event_time")
            few = panel["few_municipalities"].astype(int) == 1
            pre = (panel["pre"].astype(int) == 1) & ~few
            post = (panel["pre"].astype(int) == 0) & ~few
            lows, highs, open_low, open_high = bounded_ends(panel["estimate"], panel["ci_low"], panel["ci_high"])
            panel = panel.assign(ci_low=lows, ci_high=highs)
            for ends, is_open, marker in ((lows, open_low, "v"), (highs, open_high, "^")):
                if is_open.any():  # unbounded interval ends: arrowheads at the panel's edge
                    ax.plot(panel["event_time"][is_open], ends[is_open], marker, color=OKABE_ITO["vermillion"],
                            markersize=4)  # fmt: skip
            for mask, face, marker, name in (
                (pre, "white", "o", sentences["placebo"]),
                (post, OKABE_ITO["vermillion"], "s", sentences["post"]),
            ):
                rows = panel[mask]
                ax.errorbar(
                    rows["event_time"],
                    rows["estimate"],
                    yerr=[rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]],
                    fmt=marker,
                    color=OKABE_ITO["vermillion"],
                    markerfacecolor=face,
                    capsize=2,
                    markersize=3.8,
                    linewidth=1.0,
                    label=name,
                )
            thin = panel[few]
            ax.plot(thin["event_time"], thin["estimate"], "D", color="#888888", markerfacecolor="white",
                    markersize=4, label=sentences["few"].format(n=min_treated))  # fmt: skip
            ax.axhline(0, color="#222222", linewidth=0.8)
            ax.axvline(-0.5, color="#555555", linestyle=(0, (1, 2)), linewidth=0.9, label=sentences["adoption"])
            ax.set_title(label("outcome", outcome, language), fontsize=9, loc="left")
            ax.yaxis.set_major_formatter(_tick_formatter(language))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[-1].set_xlabel(sentences["event_time"])
        figure.supylabel(sentences["effect"], fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return figure


def honest_did_figure(honest: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> Figure:
    """Draw the HonestDiD intervals of the adoption-year effect against M, one row per outcome, two methods.

    Parameters
    ----------
    honest : pandas.DataFrame
        ``results/<release>/estimate/honest_did.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Outcome labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The original interval at the left of each panel, the robust interval at each M, zero as a line, and a
        dotted line at the breakdown value (the smallest M whose interval includes zero) when it is on the grid.
    """
    if honest.empty:
        with mpl.rc_context(STYLE):
            figure = Figure(figsize=(6.5, 1.2), layout="constrained")
            ax = figure.add_subplot()
            ax.set_axis_off()
            ax.text(0.5, 0.5, sentences["none"], ha="center", va="center", fontsize=9)
        return figure
    names = ordered(set(honest["outcome"].astype(str)), OUTCOME_ORDER)
    methods = (("relative_magnitudes", "rm", "m_rm"), ("smoothness", "sd", "m_sd"))
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 2.4 * len(names) + 0.7), layout="constrained")
        axes = figure.subplots(len(names), 2, squeeze=False)
        for row, outcome in enumerate(names):
            for col, (method, title, xlabel) in enumerate(methods):
                ax = axes[row, col]
                part = honest[(honest["outcome"].astype(str) == outcome) & (honest["method"] == method)]
                part = part.sort_values("m")
                if part.empty:
                    ax.set_axis_off()
                    continue
                m = part["m"].to_numpy(dtype=float)
                step = float(np.diff(m).min()) if len(m) > 1 else 1.0
                x0 = m.min() - step
                low0, high0 = float(part["original_low"].iloc[0]), float(part["original_high"].iloc[0])
                # the original interval dashed with round ends, the robust ones solid with bars: not colour alone
                ax.vlines(x0, low0, high0, color=OKABE_ITO["blue"], linewidth=2.2, linestyles="dashed",
                          label=sentences["original"])  # fmt: skip
                ax.plot([x0, x0], [low0, high0], "o", color=OKABE_ITO["blue"], markersize=3.5)
                ax.vlines(m, part["ci_low"], part["ci_high"], color=OKABE_ITO["vermillion"], linewidth=1.6,
                          label=sentences["robust"])  # fmt: skip
                ax.plot(m, part["ci_low"], "_", color=OKABE_ITO["vermillion"])
                ax.plot(m, part["ci_high"], "_", color=OKABE_ITO["vermillion"])
                ax.axhline(0, color="#222222", linewidth=0.8)
                breakdown = float(part["breakdown_m"].iloc[0])
                if np.isfinite(breakdown):
                    ax.axvline(breakdown, color="#555555", linestyle=(0, (1, 2)), linewidth=0.9)
                ax.set_title(f"{label('outcome', outcome, language)}: {sentences[title]}", fontsize=8.5, loc="left")
                ax.set_xlabel(sentences[xlabel], fontsize=7.5)
                ax.xaxis.set_major_formatter(_tick_formatter(language))
                ax.yaxis.set_major_formatter(_tick_formatter(language))
        figure.supylabel(sentences["ci"], fontsize=9)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return figure
