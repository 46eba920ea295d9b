"""Figures of the economics and staggered results: costs by follow-up year, CEAC, love plot, Goodman-Bacon.

Drawn like :mod:`evaluation.report.figures` (Agg canvas, fixed style, the
Okabe-Ito palette with a line style and marker per series), from the results
files only.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from evaluation.errors import ReportError
from evaluation.report.figures import OKABE_ITO, STYLE, _tick_formatter
from evaluation.report.labels import COST_ITEM_ORDER, label, labels, ordered

SERIES = {
    "staff_cost": (OKABE_ITO["vermillion"], "-", "o"),
    "measure_cost_change": (OKABE_ITO["blue"], "--", "s"),
    "net_cost": (OKABE_ITO["black"], ":", "^"),
    "cumulative_net_cost": (OKABE_ITO["reddish_purple"], "-", "D"),
}


def costs_figure(costs_by_year: pd.DataFrame, *, language: str = "da") -> Figure:
    """Draw costs by follow-up year with 95 % bands: staff, measure and net cost; then the cumulative net cost.

    Parameters
    ----------
    costs_by_year : pandas.DataFrame
        ``results/economics/costs_by_year.csv``.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels with a zero line each.

    Raises
    ------
    ReportError
        If the table is empty.
    """
    if costs_by_year.empty:
        raise ReportError("results/economics/costs_by_year.csv has no rows: rerun the economics step")
    words = labels(language)["figure_axis"]
    last = int(costs_by_year["followup_year"].max())
    items = ordered({str(i) for i in costs_by_year["item"]}, COST_ITEM_ORDER)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 3.3), layout="constrained")
        axes = figure.subplots(1, 2, sharey=True)
        for ax, title, panel in (
            (axes[0], words["per_year"], [i for i in items if i != "cumulative_net_cost"]),
            (axes[1], words["cumulative"], [i for i in items if i == "cumulative_net_cost"]),
        ):
            for item in panel:
                line = costs_by_year[costs_by_year["item"].astype(str) == item].sort_values("followup_year")
                colour, style, marker = SERIES.get(item, ("#333333", "-", "o"))
                ax.fill_between(line["followup_year"], line["ci_low"], line["ci_high"], color=colour, alpha=0.15, lw=0)
                ax.plot(
                    line["followup_year"],
                    line["estimate"],
                    color=colour,
                    linestyle=style,
                    marker=marker,
                    markersize=3,
                    linewidth=1.3,
                    label=label("cost_item", item, language),
                )
            ax.axhline(0, color="#222222", linewidth=0.8)
            ax.set_title(title, fontsize=9, loc="left")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}+" if round(v) == last else f"{v:.0f}"))
            ax.yaxis.set_major_formatter(_tick_formatter(language))
        axes[0].set_ylabel(words["dkk_child_year"])
        for ax in axes:
            ax.set_xlabel(words["followup"])
        handles = [h for ax in axes for h in ax.get_legend_handles_labels()[0]]
        names = [n for ax in axes for n in ax.get_legend_handles_labels()[1]]
        figure.legend(handles, names, loc="outside lower center", ncols=2, frameon=False)
    return figure


def ceac_figure(ceac: pd.DataFrame, *, language: str = "da") -> Figure:
    """Draw the cost-effectiveness acceptability curve: probability cost-effective by willingness to pay.

    Parameters
    ----------
    ceac : pandas.DataFrame
        ``results/economics/ceac.csv`` (``wtp_dkk_per_unit, probability_cost_effective``).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The curve as a step function of the grid, with a dotted line at 95 %.
    """
    if ceac.empty:
        raise ReportError("results/economics/ceac.csv has no rows: rerun the economics step")
    words = labels(language)["figure_axis"]
    curve = ceac.sort_values("wtp_dkk_per_unit")
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.0, 2.8), layout="constrained")
        ax = figure.add_subplot()
        ax.plot(
            curve["wtp_dkk_per_unit"],
            curve["probability_cost_effective"],
            color=OKABE_ITO["blue"],
            marker="o",
            markersize=2.5,
            linewidth=1.3,
        )
        ax.axhline(0.95, color="#555555", linestyle=(0, (1, 2)), linewidth=0.9)
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol="\u00a0%" if language == "da" else "%"))
        ax.xaxis.set_major_formatter(_tick_formatter(language))
        ax.set_xlabel(words["wtp"])
        ax.set_ylabel(words["probability"])
    return figure


def love_plot_figure(balance: pd.DataFrame, *, threshold: float, language: str = "da") -> Figure:
    """Draw absolute standardised mean differences before and after matching (a love plot).

    Used when the report's language differs from the one the compare step drew
    ``results/compare/love_plot.png`` in; the covariates carry the report's labels.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``results/compare/balance.csv``.
    threshold : float
        The dashed reference line (the balance criterion, 0.1).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, covariates sorted by the SMD before matching.
    """
    words = labels(language)["figure_axis"]
    frame = balance.assign(_before=balance["smd_before"].abs(), _after=balance["smd_after"].abs())
    frame = frame.sort_values("_before", kind="stable")
    y = np.arange(len(frame))
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 0.3 * len(frame) + 1.2), layout="constrained")
        ax = figure.add_subplot()
        ax.scatter(frame["_before"], y, marker="o", facecolors="none", edgecolors=OKABE_ITO["vermillion"],
                   label=words["before"], zorder=3)  # fmt: skip
        ax.scatter(frame["_after"], y, marker="s", color=OKABE_ITO["blue"], label=words["after"], zorder=3)
        ax.axvline(threshold, color="#222222", linestyle="--", linewidth=0.8)
        ax.set_yticks(y, [label("covariate", c, language) for c in frame["covariate"]])
        ax.set_xlabel(words["smd"])
        ax.xaxis.set_major_formatter(_tick_formatter(language))
        ax.legend(loc="lower right", frameon=False)
    return figure


#: Goodman-Bacon comparison type -> (colour, marker): told apart by shape as well as by colour
BACON_SERIES = {
    "treated_vs_never": (OKABE_ITO["blue"], "o"),
    "earlier_vs_later": (OKABE_ITO["bluish_green"], "s"),
    "later_vs_earlier": (OKABE_ITO["vermillion"], "^"),
    "later_vs_always": (OKABE_ITO["reddish_purple"], "D"),
}


def bacon_figure(bacon: pd.DataFrame, outcomes: list[str], labels: dict[str, str], *, language: str = "da") -> Figure:
    """Draw the Goodman-Bacon decomposition: each 2x2 estimate against its weight, one panel per outcome.

    As Figure 6 of Goodman-Bacon (2021): the comparison types differ in colour and marker shape
    (:data:`BACON_SERIES`), and a dashed line marks the decomposed TWFE estimate (the row ``twfe``).

    Parameters
    ----------
    bacon : pandas.DataFrame
        ``results/estimate/bacon.csv``.
    outcomes : list of str
        The outcomes to draw, one panel each, in this order.
    labels : dict of str to str
        Comparison type -> its label in the legend.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ReportError
        If no outcome has a row.
    """
    rows = bacon[bacon["outcome"].astype(str).isin(outcomes)]
    if rows.empty:
        raise ReportError("results/estimate/bacon.csv has no rows for the outcomes shown: rerun estimate_staggered")
    words = {name: label("figure_axis", name, language) for name in ("weight", "estimate", "twfe")}
    percent = PercentFormatter(1.0, decimals=0, symbol="\u00a0%" if language == "da" else "%")
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 3.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(outcomes), squeeze=False)).ravel()
        shown: dict[str, Artist] = {}
        for ax, outcome in zip(axes, outcomes, strict=True):
            panel = rows[rows["outcome"].astype(str) == outcome]
            for comparison, (colour, marker) in BACON_SERIES.items():
                points = panel[panel["comparison"].astype(str) == comparison]
                if points.empty:
                    continue
                shown[comparison] = ax.scatter(
                    points["weight"],
                    points["estimate"],
                    marker=marker,
                    s=22,
                    color=colour,
                    edgecolors="#222222",
                    linewidths=0.4,
                    zorder=3,
                )
            total = panel.loc[panel["comparison"].astype(str) == "twfe", "estimate"]
            if len(total):
                shown["twfe"] = ax.axhline(float(total.iloc[0]), color="#222222", linestyle="--", linewidth=0.9)
            ax.axhline(0, color="#888888", linewidth=0.6)
            ax.set_title(label("outcome", outcome, language), fontsize=9, loc="left")
            ax.set_xlim(left=-0.03 * float(panel["weight"].max()))  # points of weight near 0 clear of the axis
            ax.xaxis.set_major_formatter(percent)
            ax.yaxis.set_major_formatter(_tick_formatter(language))
            ax.set_xlabel(words["weight"])
        axes[0].set_ylabel(words["estimate"])
        names = {**labels, "twfe": words["twfe"]}
        figure.legend(list(shown.values()), [names.get(k, k) for k in shown], loc="outside lower center", ncols=1,
                      frameon=False)  # fmt: skip
    return figure
