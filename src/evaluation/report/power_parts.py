"""Tables, figure and numbers of the power calculation: the minimum detectable effect of the design.

Reads ``results/power/mde.csv`` of the pipeline step ``power_table`` (see
:mod:`evaluation.steps.fewclusters.design_power`): per outcome one ``actual`` row (the
design's own municipalities, cluster size, SD, periods and ICC) and ``grid`` rows
over treated municipalities x ICC. The MDE is that of the clustered DiD formula
of :func:`evaluation.methods.power.mde_formula` (Bloom 1995; Duflo, Glennerster and Kremer
2007, eq. 8-11); nothing is recomputed here. The figure is redrawn in the report's
style and language rather than copied from ``results/power/mde.png``. Its words (column headings,
axes, alt text) are in ``reports/_text/<language>/power.yml`` (:data:`WORDS`); the functions take them as
``sentences`` (:func:`evaluation.report.sentences.read_sentences`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from evaluation.errors import ReportError
from evaluation.report.figures import OKABE_ITO, STYLE, _tick_formatter
from evaluation.report.inference_parts import main_outcome
from evaluation.report.labels import OUTCOME_ORDER, label, ordered, outcome_decimals
from evaluation.report.numbers import check_language, format_count, format_number, format_percent
from evaluation.report.tables import MISSING

#: decimals of the MDE in standard deviations and of the ICC
SD_DECIMALS, ICC_DECIMALS = 2, 3
_ICC_STYLES = [
    (OKABE_ITO["blue"], "-", "o"),
    (OKABE_ITO["bluish_green"], "--", "s"),
    (OKABE_ITO["orange"], "-.", "^"),
    (OKABE_ITO["vermillion"], ":", "v"),
    (OKABE_ITO["reddish_purple"], (0, (5, 1)), "P"),
    (OKABE_ITO["sky_blue"], (0, (3, 1, 1, 1, 1, 1)), "X"),
]
#: the file of the words (column headings, axes, alt text), in ``reports/_text/<language>/``
WORDS = "power.yml"


def _fmt(value: float, decimals: int, language: str) -> str:
    return MISSING if pd.isna(value) else format_number(value, decimals, language=language)


def _rows(mde: pd.DataFrame, row: str) -> pd.DataFrame:
    frame = mde[mde["row"].astype(str) == row]
    rank = {o: i for i, o in enumerate(ordered(set(mde["outcome"].astype(str)), OUTCOME_ORDER))}
    keyed = frame.assign(_o=frame["outcome"].astype(str).map(rank))
    return keyed.sort_values(["_o", "treated_clusters", "icc"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _check(mde: pd.DataFrame) -> None:
    if mde.empty:
        raise ReportError("results/power/mde.csv has no rows: rerun the power_table step")
    actual = mde[mde["row"].astype(str) == "actual"]
    missing = sorted(set(mde["outcome"].astype(str)) - set(actual["outcome"].astype(str)))
    counts = actual["outcome"].astype(str).value_counts()
    if missing or (counts > 1).any():
        raise ReportError(
            "results/power/mde.csv must hold one 'actual' row per outcome "
            f"(missing: {', '.join(missing) or 'none'}; repeated: {', '.join(counts[counts > 1].index) or 'none'}); "
            "rerun the power_table step"
        )


def power_table(mde: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> pd.DataFrame:
    """Show the actual design's MDE per outcome, in the outcome's units and in standard deviations.

    Parameters
    ----------
    mde : pandas.DataFrame
        ``results/power/mde.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Outcome labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings: outcome, adopting of all municipalities, child-years per municipality-year,
        ICC, SD, MDE and MDE in SD, one row per outcome.
    """
    language = check_language(language)
    _check(mde)
    frame = _rows(mde, "actual")
    decimals = [outcome_decimals(o)[0] for o in frame["outcome"]]
    return pd.DataFrame(
        {
            sentences["outcome"]: [label("outcome", o, language) for o in frame["outcome"]],
            sentences["adopting"]: [
                f"{format_count(g, language=language)} {sentences['of']} {format_count(n, language=language)}"
                for g, n in zip(frame["treated_clusters"], frame["n_clusters"], strict=True)
            ],
            sentences["cell"]: [_fmt(m, 1, language) for m in frame["cluster_size"]],
            sentences["icc"]: [_fmt(r, ICC_DECIMALS, language) for r in frame["icc"]],
            sentences["sd"]: [_fmt(s, d, language) for s, d in zip(frame["sd"], decimals, strict=True)],
            sentences["mde"]: [_fmt(v, d, language) for v, d in zip(frame["mde"], decimals, strict=True)],
            sentences["mde_sd"]: [_fmt(v, SD_DECIMALS, language) for v in frame["mde_sd"]],
        }
    )


def power_grid_table(
    mde: pd.DataFrame, *, outcome: str | None = None, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """Show the grid of one outcome compactly: MDE in SD by adopting municipalities (rows) and ICC (columns).

    Parameters
    ----------
    mde : pandas.DataFrame
        ``results/power/mde.csv``.
    outcome : str, optional
        The outcome; default the main one (:func:`~evaluation.report.inference_parts.main_outcome`).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Number format.

    Returns
    -------
    pandas.DataFrame
        Display strings; a grid cell the step left out (as many treated as municipalities) is an en dash.
    """
    language = check_language(language)
    _check(mde)
    outcome = outcome or main_outcome(mde["outcome"])
    grid = _rows(mde, "grid")
    grid = grid[grid["outcome"].astype(str) == outcome]
    if grid.empty:
        raise ReportError(f"results/power/mde.csv has no grid rows for outcome {outcome!r}: rerun the power_table step")
    wide = grid.pivot_table(index="treated_clusters", columns="icc", values="mde_sd", aggfunc="first", sort=True)
    table = pd.DataFrame({sentences["treated"]: [format_count(g, language=language) for g in wide.index]})
    for icc in wide.columns:
        table[f"ICC = {format_number(icc, _icc_decimals(wide.columns), language=language)}"] = [
            _fmt(v, SD_DECIMALS, language) for v in wide[icc]
        ]
    return table


def _icc_decimals(iccs: pd.Index) -> int:
    """Return the fewest decimals (up to 3) that show every grid ICC exactly: 0, 0.01, 0.05 -> 2."""
    for decimals in range(4):
        if np.allclose(np.round(iccs.to_numpy(dtype=float), decimals), iccs.to_numpy(dtype=float), atol=1e-9):
            return decimals
    return ICC_DECIMALS


def power_variables(mde: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> dict[str, str]:
    """Return the numbers of the power text and the figure's alt text, for the main outcome.

    Parameters
    ----------
    mde : pandas.DataFrame
        ``results/power/mde.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Outcome labels and number format.

    Returns
    -------
    dict of str to str
        ``power_outcome``, ``power_level`` and ``power_alpha`` (per cent), ``power_treated``,
        ``power_n_clusters``, ``power_icc``, ``power_mde_text`` (outcome units, table decimals),
        ``power_mde_sd``, the range of the MDE in SD over outcomes (``power_mde_sd_min`` / ``_max``)
        and ``power_fig_alt``.
    """
    language = check_language(language)
    _check(mde)
    actual = _rows(mde, "actual")
    outcome = main_outcome(mde["outcome"])
    row = actual[actual["outcome"].astype(str) == outcome].iloc[0]
    outcome_label = label("outcome", outcome, language)
    values = {
        "power_outcome": outcome_label,
        "power_level": format_percent(row["power"], 0, language=language),
        "power_alpha": format_percent(row["alpha"], 0, language=language),
        "power_treated": format_count(row["treated_clusters"], language=language),
        "power_n_clusters": format_count(row["n_clusters"], language=language),
        "power_icc": _fmt(row["icc"], ICC_DECIMALS, language),
        "power_mde_text": _fmt(row["mde"], outcome_decimals(outcome)[0], language),
        "power_mde_sd": _fmt(row["mde_sd"], SD_DECIMALS, language),
        "power_mde_sd_min": _fmt(actual["mde_sd"].min(), SD_DECIMALS, language),
        "power_mde_sd_max": _fmt(actual["mde_sd"].max(), SD_DECIMALS, language),
    }
    values["power_fig_alt"] = _alt_text(mde, outcome, row, sentences, language)
    return values


def _alt_text(mde: pd.DataFrame, outcome: str, actual: pd.Series, sentences: Mapping[str, str], language: str) -> str:
    """Compose the figure's alt text: the main outcome's line at the grid ICC nearest its own, first to last."""
    grid = _rows(mde, "grid")
    grid = grid[grid["outcome"].astype(str) == outcome]
    iccs = sorted(set(grid["icc"]))
    decimals = _icc_decimals(pd.Index(iccs))
    if not iccs:
        raise ReportError(f"results/power/mde.csv has no grid rows for outcome {outcome!r}: rerun the power_table step")
    icc = min(iccs, key=lambda r: (abs(r - float(actual["icc"])), r))  # the grid's ICC nearest the estimated one
    line = grid[grid["icc"] == icc].sort_values("treated_clusters")
    first, last = line.iloc[0], line.iloc[-1]
    text = sentences["alt"].format(
        iccs=", ".join(format_number(r, decimals, language=language) for r in iccs),
        outcome=label("outcome", outcome, language),
        first=_fmt(first["mde_sd"], SD_DECIMALS, language),
        g_first=format_count(first["treated_clusters"], language=language),
        last=_fmt(last["mde_sd"], SD_DECIMALS, language),
        g_last=format_count(last["treated_clusters"], language=language),
        icc=format_number(icc, decimals, language=language),
        treated=format_count(actual["treated_clusters"], language=language),
        actual=_fmt(actual["mde_sd"], SD_DECIMALS, language),
    )
    return text.replace('"', "'")


def power_figure(mde: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da") -> Figure:
    """Draw the MDE in SD against adopting municipalities (log axis), one line per ICC, one panel per outcome.

    Parameters
    ----------
    mde : pandas.DataFrame
        ``results/power/mde.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Outcome labels and number format.

    Returns
    -------
    matplotlib.figure.Figure
        Panels share the vertical axis; the actual design is a black diamond.
    """
    language = check_language(language)
    _check(mde)
    grid, actual = _rows(mde, "grid"), _rows(mde, "actual")
    outcomes = ordered(set(mde["outcome"].astype(str)), OUTCOME_ORDER)
    iccs = sorted(set(grid["icc"]))
    decimals = _icc_decimals(pd.Index(iccs)) if iccs else ICC_DECIMALS
    ticks = sorted(set(grid["treated_clusters"]) | set(actual["treated_clusters"]))
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.3, 2.9), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(outcomes), sharey=True, squeeze=False)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=True):
            part = grid[grid["outcome"].astype(str) == outcome]
            for i, icc in enumerate(iccs):
                colour, style, marker = _ICC_STYLES[i % len(_ICC_STYLES)]
                line = part[part["icc"] == icc].sort_values("treated_clusters")
                ax.plot(line["treated_clusters"], line["mde_sd"], color=colour, linestyle=style, marker=marker,
                        markersize=2.8, linewidth=1.1,
                        label=f"ICC = {format_number(icc, decimals, language=language)}")  # fmt: skip
            own = actual[actual["outcome"].astype(str) == outcome]
            ax.plot(own["treated_clusters"], own["mde_sd"], linestyle="none", marker="D", markersize=5,
                    color=OKABE_ITO["black"], label=sentences["design"], zorder=3)  # fmt: skip
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(_tick_formatter(language))
            ax.yaxis.set_major_formatter(_tick_formatter(language))
            ax.tick_params(labelsize=7)
            ax.set_title(label("outcome", outcome, language), fontsize=8, loc="left")
            ax.set_ylim(bottom=0)
        axes[0].set_ylabel(sentences["y_axis"])
        figure.supxlabel(sentences["x_axis"], fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 5), frameon=False,
                      fontsize=7.5)  # fmt: skip
    return figure
