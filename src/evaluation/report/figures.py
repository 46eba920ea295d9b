"""The report's figures, drawn with matplotlib from results files.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg
canvas (no pyplot state), in a fixed style, and saved as PNG at 200 dpi without
a software or date stamp, so that identical results give identical bytes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from evaluation.errors import ReportError
from evaluation.report.labels import ANALYSIS_ORDER, OUTCOME_ORDER, label, ordered, sample_flow_descriptions
from evaluation.report.numbers import format_number
from evaluation.report.tables import order_estimates, suppress_small

DPI = 200
STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "svg.hashsalt": "evaluation-report",
    "path.simplify": False,
}
#: Okabe & Ito (2008) colour-blind-safe palette; every series also has its own line style and marker
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
COLOURS = {
    "treated": OKABE_ITO["vermillion"],
    "comparison_matched": OKABE_ITO["blue"],
    "comparison_all": OKABE_ITO["bluish_green"],
    "municipality": OKABE_ITO["vermillion"],
    "comparison": OKABE_ITO["blue"],
    "national": OKABE_ITO["black"],
}
LINESTYLES = {
    "treated": "-",
    "comparison_matched": "--",
    "comparison_all": ":",
    "municipality": "-",
    "comparison": "--",
    "national": ":",
}
MARKERS = {"treated": "o", "comparison_matched": "s", "comparison_all": "^", "municipality": "o"}
MARKERS |= {"comparison": "s", "national": "^"}


def _tick_formatter(language: str) -> FuncFormatter:
    def tick(value: float, _position: int) -> str:
        for decimals in (0, 1, 2):
            if abs(value * 10**decimals - round(value * 10**decimals)) < 1e-6:
                return format_number(value, decimals, language=language)
        return format_number(value, 3, language=language)

    return FuncFormatter(tick)


def save_figure(figure: Figure, path: Path) -> Path:
    """Save a figure as a PNG at 200 dpi with no software or date stamp.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : Path
        Where to write; the folder is created.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    with mpl.rc_context(STYLE):
        figure.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def sample_flow_figure(sample_flow: pd.DataFrame, min_cell: int, *, language: str = "da") -> Figure:
    """Draw the sample flow as boxes joined by arrows, one box per selection step.

    Parameters
    ----------
    sample_flow : pandas.DataFrame
        ``results/cohort/sample_flow.csv``, steps in order.
    min_cell : int
        Disclosure threshold for the counts shown in the boxes.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ReportError
        If the sample flow has no steps.
    """
    if sample_flow.empty:
        raise ReportError("results/cohort/sample_flow.csv has no steps: rerun the cohort step")
    treated = suppress_small(sample_flow["n_treated"], min_cell, language=language)
    control = suppress_small(sample_flow["n_control"], min_cell, language=language)
    n_steps = len(sample_flow)
    children = label("column", "children", language)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.5, 1.05 * n_steps + 0.3))
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, n_steps)
        ax.axis("off")
        height = 0.72
        descriptions = sample_flow_descriptions(sample_flow, language)
        for i in range(n_steps):
            y = n_steps - i - 0.5
            box = FancyBboxPatch(
                (0.08, y - height / 2),
                0.84,
                height,
                boxstyle="round,pad=0.0,rounding_size=0.04",
                facecolor="#f4f4f4",
                edgecolor="#444444",
                linewidth=1.0,
            )
            ax.add_patch(box)
            ax.text(0.5, y + 0.14, descriptions[i], ha="center", va="center", fontsize=9, fontweight="bold")
            counts = (
                f"{label('column', 'n_treated', language)}: {treated[i]} {children}    "
                f"{label('column', 'n_control', language)}: {control[i]} {children}"
            )
            ax.text(0.5, y - 0.15, counts, ha="center", va="center", fontsize=8)
            if i < n_steps - 1:
                arrow = FancyArrowPatch(
                    (0.5, y - height / 2),
                    (0.5, y - 1 + height / 2),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="#444444",
                    linewidth=1.0,
                )
                ax.add_patch(arrow)
    return figure


def trends_figure(
    trends: pd.DataFrame, adoption_years: list[int], min_cell: int, *, language: str = "da"
) -> tuple[Figure, int]:
    """Draw mean outcomes by calendar year, adopters against comparison groups.

    One panel per outcome; dotted vertical lines mark the adoption years. A
    yearly mean over fewer than ``min_cell`` children is not drawn (disclosure),
    and the number of such points is returned so the report can state it.

    Parameters
    ----------
    trends : pandas.DataFrame
        ``results/estimate/trends.csv`` (outcome, year, group, mean, n).
    adoption_years : list of int
        The years in which municipalities adopted the model.
    min_cell : int
        Disclosure threshold for the number of children behind a mean.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    tuple of (matplotlib.figure.Figure, int)
        The figure and the number of yearly means left out because ``n < min_cell``.

    Raises
    ------
    ReportError
        If the trends table is empty.
    """
    if trends.empty:
        raise ReportError("results/estimate/trends.csv has no rows: rerun the estimate step")
    outcomes = ordered(set(trends["outcome"].astype(str)), OUTCOME_ORDER)
    groups = ordered(set(trends["group"].astype(str)), tuple(COLOURS))
    hidden = trends["n"] < min_cell
    suppressed = int(hidden.sum())
    shown = trends.assign(mean=trends["mean"].where(~hidden))
    years = shown["year"]
    with mpl.rc_context(STYLE):
        n_cols = min(len(outcomes), 3)
        n_rows = int(np.ceil(len(outcomes) / n_cols))
        figure = Figure(figsize=(3.0 * n_cols + 0.6, 2.7 * n_rows + 0.7), layout="constrained")
        axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=False):
            panel = shown[shown["outcome"].astype(str) == outcome]
            for group in groups:
                line = panel[panel["group"].astype(str) == group].sort_values("year")
                if line.empty:
                    continue
                ax.plot(
                    line["year"],
                    line["mean"],
                    color=COLOURS.get(group, "#333333"),
                    linestyle=LINESTYLES.get(group, "-"),
                    marker=MARKERS.get(group, "o"),
                    markersize=2.5,
                    linewidth=1.3,
                    label=label("group", group, language),
                )
            for j, year in enumerate(sorted(set(adoption_years))):
                if years.min() <= year <= years.max():
                    ax.axvline(
                        year - 0.5,
                        color="#555555",
                        linestyle=(0, (1, 2)),
                        linewidth=0.9,
                        label=label("column", "adoption", language) if j == 0 else None,
                    )
            ax.set_title(label("outcome", outcome, language), fontsize=9)
            ax.set_xlabel(label("column", "year", language))
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}"))
            ax.yaxis.set_major_formatter(_tick_formatter(language))
        for ax in axes[len(outcomes) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), frameon=False)
    return figure, suppressed


def estimates_figure(estimates: pd.DataFrame, *, language: str = "da") -> Figure:
    """Draw each analysis's estimate with its 95 % CI, one panel per outcome.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``results/estimates.csv``.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with a reference line at zero in every panel.

    Raises
    ------
    ReportError
        If there are no estimates.
    """
    if estimates.empty:
        raise ReportError("results/estimates.csv has no rows: rerun the estimate step")
    frame = order_estimates(estimates)
    outcomes = ordered(set(frame["outcome"].astype(str)), OUTCOME_ORDER)
    rank = {name: i for i, name in enumerate(ANALYSIS_ORDER)}
    with mpl.rc_context(STYLE):
        rows = [int((frame["outcome"].astype(str) == o).sum()) for o in outcomes]
        figure = Figure(figsize=(6.5, sum(0.4 * r + 0.75 for r in rows) + 0.4), layout="constrained")
        grid = {"height_ratios": [0.4 * r + 0.75 for r in rows]}
        axes = np.atleast_1d(figure.subplots(len(outcomes), 1, squeeze=False, gridspec_kw=grid)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=True):
            panel = frame[frame["outcome"].astype(str) == outcome].reset_index(drop=True)
            positions = np.arange(len(panel))[::-1]
            names = []
            lows, highs, open_low, open_high = bounded_ends(panel["estimate"], panel["ci_low"], panel["ci_high"])
            panel = panel.assign(ci_low=lows, ci_high=highs)
            for pos, row, left, right in zip(
                positions, panel.itertuples(index=False), open_low, open_high, strict=True
            ):
                name = label("analysis", row.analysis, language)
                subgroup = "all" if pd.isna(row.subgroup) else str(row.subgroup)
                if subgroup != "all":
                    name = f"{name} ({label('subgroup', subgroup, language)})"
                names.append(name)
                colour = COLOURS["treated"] if rank.get(str(row.analysis)) == 0 else OKABE_ITO["black"]
                ax.errorbar(
                    [row.estimate],
                    [pos],
                    xerr=[[row.estimate - row.ci_low], [row.ci_high - row.estimate]],
                    fmt="o",
                    color=colour,
                    ecolor=colour,
                    capsize=3,
                    markersize=4,
                    linewidth=1.2,
                )
                for is_open, end, marker in ((left, row.ci_low, "<"), (right, row.ci_high, ">")):
                    if is_open:  # an unbounded end: an arrowhead at the panel's edge
                        ax.plot([end], [pos], marker=marker, color=colour, markersize=5)
            ax.axvline(0, color="#222222", linewidth=0.8)
            ax.set_yticks(positions, names)
            ax.set_ylim(-0.6, len(panel) - 0.4)
            ax.set_title(label("outcome", outcome, language), fontsize=9, loc="left")
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.xaxis.set_major_formatter(_tick_formatter(language))
            ax.grid(axis="y", visible=False)
        axes[-1].set_xlabel(label("column", "estimate_axis", language))
    return figure


def bounded_ends(
    estimate: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replace the infinite ends of intervals by a point just beyond the finite values, to draw them as open.

    An interval of randomization inference with too few municipalities is unbounded on one or both sides;
    drawing it to the panel's edge with an arrowhead shows that, where an infinite error bar would vanish.

    Parameters
    ----------
    estimate, low, high : numpy.ndarray
        Estimates and interval ends of one panel (NaN where missing).

    Returns
    -------
    low, high : numpy.ndarray
        The ends, infinite ones moved to 10 % of the finite range beyond the farthest finite value.
    open_low, open_high : numpy.ndarray
        Boolean masks of the ends that were infinite.
    """
    estimate, low, high = (np.asarray(a, dtype=float) for a in (estimate, low, high))
    values = np.concatenate([estimate, low, high])
    finite = values[np.isfinite(values)]
    first, last = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.1 * (last - first) or 0.1 * max(abs(first), 1.0)
    open_low, open_high = np.isneginf(low), np.isposinf(high)
    return np.where(open_low, first - pad, low), np.where(open_high, last + pad, high), open_low, open_high


def small_multiples(
    data: pd.DataFrame,
    panels: list[str],
    titles: dict[str, str],
    series: list[str],
    series_labels: dict[str, str],
    *,
    adoption_years: list[int] = (),
    language: str = "da",
    n_cols: int = 3,
    percent: frozenset[str] = frozenset(),
) -> Figure:
    """Draw one panel per measure with one line per series over calendar years.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``panel, series, year, value`` (missing values are gaps: suppressed cells).
    panels : list of str
        Panels in order.
    titles : dict of str to str
        Panel -> title.
    series : list of str
        Series in order; colours, line styles and markers from :data:`COLOURS`,
        :data:`LINESTYLES` and :data:`MARKERS`, so that no series is told apart by colour alone.
    series_labels : dict of str to str
        Series -> legend label.
    adoption_years : list of int, optional
        Years marked with a dotted vertical line (the first one labelled).
    language : {"da", "en"}, default "da"
        Number format of the axes.
    n_cols : int, default 3
        Panels per row.
    percent : frozenset of str
        Panels whose values are shares, shown in per cent.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    with mpl.rc_context(STYLE):
        n_cols = max(1, min(len(panels), n_cols))
        n_rows = int(np.ceil(len(panels) / n_cols))
        figure = Figure(figsize=(2.2 * n_cols + 0.6, 2.3 * n_rows + 0.7), layout="constrained")
        axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, panel in zip(axes, panels, strict=False):
            frame = data[data["panel"] == panel]
            scale = 100.0 if panel in percent else 1.0
            for name in series:
                line = frame[frame["series"] == name].sort_values("year")
                if line.empty:
                    continue
                ax.plot(
                    line["year"],
                    line["value"] * scale,
                    color=COLOURS.get(name, "#333333"),
                    linestyle=LINESTYLES.get(name, "-"),
                    marker=MARKERS.get(name, "o"),
                    markersize=2.2,
                    linewidth=1.2,
                    label=series_labels.get(name, name),
                )
            years = frame["year"]
            for j, year in enumerate(sorted(set(adoption_years))):
                if len(years) and years.min() <= year <= years.max():
                    ax.axvline(
                        year - 0.5,
                        color="#555555",
                        linestyle=(0, (1, 2)),
                        linewidth=0.8,
                        label=label("column", "adoption", language) if j == 0 else None,
                    )
            ax.set_title("\n".join(textwrap.wrap(titles.get(panel, panel), 34)), fontsize=7.5)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}"))
            ax.yaxis.set_major_formatter(_tick_formatter(language))
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), frameon=False)
    return figure
