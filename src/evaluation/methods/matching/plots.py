"""Love plot and score-overlap plot: deterministic PNG figures with alt text.

Both functions draw on a :class:`matplotlib.figure.Figure` with the Agg
canvas (no global pyplot state), use the Okabe-Ito colour-blind-safe palette
(Okabe & Ito 2008) with distinct marker shapes so the figures also read in
grey scale, and write PNG files without a timestamp or software tag, so the
same input gives the same bytes. Each returns the alt text for the figure, to
be placed beside it in the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.errors import EvaluationError

__all__ = ["OKABE_ITO", "love_plot", "overlap_plot"]

#: Okabe-Ito palette (colour-blind safe).
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

_TEXT = {
    "en": {
        "before": "Before",
        "after": "After",
        "smd": "Standardised mean difference",
        "treated": "Treated",
        "control": "Comparison",
        "score": "Propensity score",
        "count": "Units",
        "weighted": "weighted",
        "love_title": "Covariate balance",
        "overlap_title": "Overlap of the propensity score",
    },
    "da": {
        "before": "Før",
        "after": "Efter",
        "smd": "Standardiseret gennemsnitsforskel",
        "treated": "Behandlede",
        "control": "Sammenligning",
        "score": "Propensity score",
        "count": "Enheder",
        "weighted": "vægtet",
        "love_title": "Balance i baggrundsvariable",
        "overlap_title": "Overlap i propensity score",
    },
}


def _save(fig: Figure, path: str | Path, dpi: int) -> None:
    FigureCanvasAgg(fig)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})


def love_plot(
    balance: pd.DataFrame,
    path: str | Path,
    *,
    threshold: float = 0.1,
    absolute: bool = True,
    language: Literal["en", "da"] = "en",
    title: str | None = None,
    dpi: int = 150,
) -> str:
    """Draw a love plot of standardised mean differences before and after adjustment.

    Parameters
    ----------
    balance : pandas.DataFrame
        Output of :func:`evaluation.methods.matching.balance_table` (``smd_before``, ``smd_after``, indexed by
        covariate).
    path : str or Path
        PNG file to write.
    threshold : float
        Dashed reference lines at this value (and its negative when ``absolute`` is False).
    absolute : bool
        Plot absolute differences (cobalt's ``abs = TRUE``).
    language : {"en", "da"}
        Language of the labels.
    title : str, optional
        Title; a default in the chosen language otherwise.
    dpi : int
        Resolution.

    Returns
    -------
    str
        Alt text describing the figure.
    """
    for col in ("smd_before", "smd_after"):
        if col not in balance.columns:
            raise EvaluationError(f"love_plot: the balance table has no column '{col}'; pass balance_table()'s output.")
    if language not in _TEXT:
        raise EvaluationError(f"love_plot: language must be 'en' or 'da', not {language!r}.")
    t = _TEXT[language]
    before = balance["smd_before"].astype(float)
    after = balance["smd_after"].astype(float)
    if absolute:
        before, after = before.abs(), after.abs()
    order = np.argsort(before.to_numpy(), kind="stable")
    names = [str(n) for n in balance.index[order]]
    y = np.arange(len(names))
    fig = Figure(figsize=(6.5, 0.35 * len(names) + 1.5))
    ax = fig.add_subplot()
    ax.scatter(
        before.to_numpy()[order],
        y,
        marker="o",
        facecolors="none",
        edgecolors=OKABE_ITO["vermillion"],
        label=t["before"],
        zorder=3,
    )
    ax.scatter(after.to_numpy()[order], y, marker="s", color=OKABE_ITO["blue"], label=t["after"], zorder=3)
    for ref in (threshold,) if absolute else (-threshold, threshold):
        ax.axvline(ref, color=OKABE_ITO["black"], linestyle="--", linewidth=0.8)
    ax.axvline(0, color="#999999", linewidth=0.6)
    ax.set_yticks(y, names)
    ax.set_xlabel(("|" + t["smd"] + "|") if absolute else t["smd"])
    ax.set_title(title or t["love_title"])
    ax.legend(loc="lower right", frameon=False)
    ax.grid(axis="y", color="#eeeeee")
    fig.tight_layout()
    _save(fig, path, dpi)
    n_over_before = int((before.abs() > threshold).sum())
    n_over_after = int((after.abs() > threshold).sum())
    worst = names[-1] if names else ""
    if language == "da":
        return (
            (
                f"Love plot for {len(names)} baggrundsvariable: {n_over_before} havde en absolut standardiseret "
                f"forskel over {threshold:g} før og {n_over_after} efter; størst før: {worst} "
                f"({before.abs().max():.2f} før, {after.abs()[balance.index[order[-1]]]:.2f} efter)."
            )
            if names
            else "Love plot uden baggrundsvariable."
        )
    return (
        (
            f"Love plot of {len(names)} covariates: {n_over_before} had an absolute standardised mean difference "
            f"above {threshold:g} before adjustment and {n_over_after} after; largest before: {worst} "
            f"({before.abs().max():.2f} before, {after.abs()[balance.index[order[-1]]]:.2f} after)."
        )
        if names
        else "Love plot with no covariates."
    )


def overlap_plot(
    score: pd.Series | np.ndarray,
    treat: pd.Series | np.ndarray,
    path: str | Path,
    *,
    weights: pd.Series | np.ndarray | None = None,
    bins: int = 30,
    language: Literal["en", "da"] = "en",
    title: str | None = None,
    dpi: int = 150,
    min_cell: int | None = None,
) -> str:
    """Draw mirrored histograms of the score: treated above the axis, comparison units below.

    With ``weights``, a second panel shows the weighted distributions (the
    share of the total weight of each group per bin), so overlap before and
    after adjustment can be compared.

    With ``min_cell`` (disclosure control, for figures that leave the machine), the bins
    are equal-width bins over the range rounded outwards to a multiple of 0.05 (a probability
    score) or to whole numbers, so that no individual score fixes an axis, and a group's bar
    resting on 1 to ``min_cell - 1`` units is not drawn, in either panel; the alt text says how
    many bars were left out and gives the common range as bin edges.

    Parameters
    ----------
    score : Series or array
        Propensity score (or any distance) per unit.
    treat : Series or array
        0/1 treatment per unit.
    path : str or Path
        PNG file to write.
    weights : Series or array, optional
        Adjustment weights (0 for units left out).
    bins : int
        Number of equal-width bins over the range of the score.
    language : {"en", "da"}
        Language of the labels.
    title : str, optional
        Title; a default in the chosen language otherwise.
    dpi : int
        Resolution.
    min_cell : int, optional
        Smallest number of units a drawn bar may rest on (see above); None draws every bar
        over the exact range of the score.

    Returns
    -------
    str
        Alt text describing the figure.
    """
    s = np.asarray(score, dtype=float)
    t = np.asarray(treat, dtype=float) == 1
    if s.shape != t.shape or not np.all(np.isfinite(s)):
        raise EvaluationError("overlap_plot: score and treatment must be finite and of the same length.")
    if language not in _TEXT:
        raise EvaluationError(f"overlap_plot: language must be 'en' or 'da', not {language!r}.")
    tx = _TEXT[language]
    if min_cell is not None:
        grid = 0.05 if s.min() >= 0 and s.max() <= 1 else 1.0  # probability scores: a 0.05 grid
        lo_edge, hi_edge = np.floor(s.min() / grid) * grid, np.ceil(s.max() / grid) * grid
        edges = np.linspace(lo_edge, hi_edge if hi_edge > lo_edge else lo_edge + grid, bins + 1)
    elif s.max() > s.min():
        edges = np.linspace(s.min(), s.max(), bins + 1)
    else:
        edges = np.array([s.min() - 0.5, s.max() + 0.5])
    n_t, _ = np.histogram(s[t], bins=edges)
    n_c, _ = np.histogram(s[~t], bins=edges)
    small = (lambda n: (n > 0) & (n < min_cell)) if min_cell is not None else (lambda n: np.zeros(n.shape, bool))
    hide_t, hide_c = small(n_t), small(n_c)
    panels = [("", np.ones_like(s))]
    if weights is not None:
        panels.append((f" ({tx['weighted']})", np.asarray(weights, dtype=float)))
    fig = Figure(figsize=(6.5, 3.2 * len(panels)))
    for i, (suffix, w) in enumerate(panels):
        ax = fig.add_subplot(len(panels), 1, i + 1)
        h_t, _ = np.histogram(s[t], bins=edges, weights=w[t])
        h_c, _ = np.histogram(s[~t], bins=edges, weights=w[~t])
        if suffix:
            h_t, h_c = h_t / max(h_t.sum(), 1e-300), h_c / max(h_c.sum(), 1e-300)
        h_t, h_c = np.where(hide_t, 0.0, h_t), np.where(hide_c, 0.0, h_c)
        width = np.diff(edges)
        ax.bar(edges[:-1], h_t, width=width, align="edge", color=OKABE_ITO["blue"], label=tx["treated"])
        ax.bar(
            edges[:-1],
            -h_c,
            width=width,
            align="edge",
            color=OKABE_ITO["orange"],
            hatch="//",
            edgecolor="white",
            label=tx["control"],
        )
        ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.6)
        ticks = ax.get_yticks()
        ax.set_yticks(ticks, [f"{abs(v):g}" for v in ticks])
        ax.set_ylabel(tx["count"] + suffix)
        ax.legend(loc="upper right", frameon=False)
        if i == 0:
            ax.set_title(title or tx["overlap_title"])
        if i == len(panels) - 1:
            ax.set_xlabel(tx["score"])
    fig.tight_layout()
    _save(fig, path, dpi)
    if min_cell is None:
        lo, hi = max(s[t].min(), s[~t].min()), min(s[t].max(), s[~t].max())
        hidden = 0
    else:  # the common range as edges of bins both groups visibly occupy
        both = np.flatnonzero((n_t >= min_cell) & (n_c >= min_cell))
        lo, hi = (edges[both[0]], edges[both[-1] + 1]) if len(both) else (1.0, 0.0)
        hidden = int(hide_t.sum() + hide_c.sum())
    in_t = float(np.mean((s[t] >= lo) & (s[t] <= hi))) if lo <= hi else 0.0
    if language == "da":
        note = f" {hidden} søjler med færre end {min_cell} enheder er ikke vist." if hidden else ""
        return (
            f"Spejlvendte histogrammer af scoren for {int(t.sum())} behandlede (over aksen) og "
            f"{int((~t).sum())} sammenligningsenheder (under aksen); fælles område {lo:.3f} til {hi:.3f}, "
            f"som rummer {in_t:.0%} af de behandlede.{note}"
        )
    note = f" {hidden} bars resting on fewer than {min_cell} units are not shown." if hidden else ""
    return (
        f"Mirrored histograms of the score for {int(t.sum())} treated units (above the axis) and "
        f"{int((~t).sum())} comparison units (below); the common range is {lo:.3f} to {hi:.3f}, "
        f"holding {in_t:.0%} of the treated.{note}"
    )
