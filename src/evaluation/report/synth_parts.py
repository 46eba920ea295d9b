"""Tables, gap figure and numbers of the synthetic-control section of the effects chapter.

Reads ``results/synth/table.csv`` and ``results/synth/gaps.csv`` of the pipeline step
``synthetic_control`` (see :mod:`evaluation.steps.fewclusters.synth_step`): one synthetic control
per adopting municipality and outcome from the never-adopters (Abadie, Diamond and
Hainmueller 2010, *JASA* 105(490)), with the placebo-in-space p-value (ADH 2010 section 2.4)
for Herning. The average over adopters is the mean of the adopters' ATTs in ``table.csv``
(the same number as ``results/synth/average.csv``). Beside it, :func:`sdid_table` shows the
synthetic difference-in-differences of the same step (``results/synth/sdid.csv``; Arkhangelsky
et al. 2021, *AER* 111(12)) for Herning and for the average over adopters, with the synthetic
control's ATT from ``table.csv`` and ``average.csv``. Nothing is refitted here.

The words (outcome names, column headings, axes, legend, alt text) are in
``reports/_text/<language>/synth.yml`` (:data:`WORDS`); the functions take them as ``sentences``
(:func:`evaluation.report.sentences.read_sentences`). The file is flat: an outcome's name is
``outcome_<outcome>``, a column heading ``column_<code>`` (:func:`synth_table`) or ``sdid_column_<code>``
(:func:`sdid_table`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import ReportError
from evaluation.report.effects_parts import blank_repeats
from evaluation.report.figures import OKABE_ITO, STYLE, _tick_formatter
from evaluation.report.numbers import check_language, format_count, format_number, format_p_value, format_percent
from evaluation.report.tables import MISSING

__all__ = ["WORDS", "sdid_table", "sdid_variables", "synth_figure", "synth_table", "synth_variables"]


def _treated_name(gaps: pd.DataFrame) -> str:
    units = gaps.loc[gaps["role"].astype(str) == "treated", "unit"]
    return MUNICIPALITY.get(int(units.iloc[0]), str(units.iloc[0])) if len(units) else ""


def shown_unit(table: pd.DataFrame) -> int:
    """Return the adopter the chapter shows: the one with placebo inference (a p-value), else the earliest."""
    with_p = table.loc[table["p_value"].notna(), "adopter"] if "p_value" in table else pd.Series(dtype=float)
    if len(with_p):
        return int(with_p.iloc[0])
    first = table.sort_values(["adoption_year", "adopter"]).iloc[0]
    return int(first["adopter"])


OUTCOMES = ("spending_per_child", "placement_rate", "family_care_share")
#: outcome -> decimals shown
DECIMALS = {"spending_per_child": 0, "placement_rate": 1, "family_care_share": 3}
#: the file of the words (outcome names, column headings, axes, legend, alt text), in ``reports/_text/<language>/``
WORDS = "synth.yml"
#: the codes of the columns of :func:`synth_table` (``column_<code>`` in :data:`WORDS`), in order
_COLUMNS = ("outcome", "att", "pre_rmspe", "post_rmspe", "p_value", "mean_att", "adopters")
#: the codes of the columns of :func:`sdid_table` (``sdid_column_<code>`` in :data:`WORDS`), in order
_SDID_COLUMNS = ("outcome", "municipality", "sc_att", "att", "ci", "p_value", "controls")


def _outcomes(frame: pd.DataFrame) -> list[str]:
    present = set(frame["outcome"].astype(str))
    return [o for o in OUTCOMES if o in present] + sorted(present - set(OUTCOMES))


def _fmt(value: float, decimals: int, language: str) -> str:
    return MISSING if pd.isna(value) else format_number(value, decimals, language=language)


def synth_table(
    table: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da", unit: int | None = None
) -> pd.DataFrame:
    """Show Herning's ATT, RMSPEs and placebo p-value per outcome beside the mean ATT over adopters.

    Parameters
    ----------
    table : pandas.DataFrame
        ``results/synth/table.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Number format.
    unit : int, optional
        The municipality shown (default :func:`shown_unit`: Herning in the default design).

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per outcome.
    """
    language = check_language(language)
    if table.empty:
        raise ReportError("results/synth/table.csv has no rows: rerun the synthetic_control step")
    unit = shown_unit(table) if unit is None else unit
    rows = []
    for outcome in _outcomes(table):
        part = table[table["outcome"].astype(str) == outcome]
        own = part[part["adopter"].astype(int) == unit]
        d = DECIMALS.get(outcome, 2)
        first = own.iloc[0] if len(own) else None
        p = first["p_value"] if first is not None else np.nan
        rows.append(
            [
                sentences.get(f"outcome_{outcome}", outcome),
                _fmt(first["att"] if first is not None else np.nan, d, language),
                _fmt(first["pre_rmspe"] if first is not None else np.nan, d, language),
                _fmt(first["post_rmspe"] if first is not None else np.nan, d, language),
                MISSING if pd.isna(p) else format_p_value(float(p), language=language),
                _fmt(float(part["att"].mean()), d, language),
                format_count(len(part), language=language),
            ]
        )
    name = MUNICIPALITY.get(unit, unit)
    return pd.DataFrame(rows, columns=[sentences[f"column_{code}"].format(name=name) for code in _COLUMNS])


def synth_figure(
    gaps: pd.DataFrame, adoption_year: int, *, sentences: Mapping[str, str], language: str = "da"
) -> Figure:
    """Draw Herning's gap with the placebo gaps in grey, one panel per outcome.

    Parameters
    ----------
    gaps : pandas.DataFrame
        ``results/synth/gaps.csv`` (``outcome, unit, role, year, gap``).
    adoption_year : int
        Herning's first year under the model (dashed line).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Number format of the axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    language = check_language(language)
    if gaps.empty:
        raise ReportError("results/synth/gaps.csv has no rows: rerun the synthetic_control step")
    outcomes = _outcomes(gaps)
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(6.3, 2.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(outcomes), squeeze=False)).ravel()
        for ax, outcome in zip(axes, outcomes, strict=True):
            part = gaps[gaps["outcome"].astype(str) == outcome]
            placebo = part[part["role"].astype(str) == "placebo"]
            for i, (_, line) in enumerate(placebo.sort_values("year").groupby("unit", sort=True)):
                ax.plot(line["year"], line["gap"], color="0.75", linewidth=0.6,
                        label=sentences["placebo"] if i == 0 else None)  # fmt: skip
            own = part[part["role"].astype(str) == "treated"].sort_values("year")
            name = sentences["herning"].format(name=_treated_name(part))
            ax.plot(own["year"], own["gap"], color=OKABE_ITO["vermillion"], linewidth=1.6, label=name, zorder=3)
            ax.axvline(adoption_year - 0.5, color=OKABE_ITO["black"], linestyle="--", linewidth=0.8)
            ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.5)
            ax.yaxis.set_major_formatter(_tick_formatter(language))
            ax.tick_params(labelsize=7)
            ax.set_title(sentences.get(f"outcome_{outcome}", outcome), fontsize=8, loc="left")
        axes[0].set_ylabel(sentences["y_axis"])
        figure.supxlabel(sentences["year"], fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=2, frameon=False, fontsize=7.5)
    return figure


def synth_variables(
    table: pd.DataFrame, gaps: pd.DataFrame, *, sentences: Mapping[str, str], language: str = "da"
) -> dict[str, str]:
    """Return the numbers of the synthetic-control text and the figure's alt text.

    Parameters
    ----------
    table, gaps : pandas.DataFrame
        ``results/synth/table.csv`` and ``results/synth/gaps.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Number format.

    Returns
    -------
    dict
        ``synth_n_adopters``, ``synth_n_donors``, ``synth_year`` and ``synth_fig_alt``.
    """
    language = check_language(language)
    own = table[table["adopter"].astype(int) == shown_unit(table)]
    year = int(own["adoption_year"].iloc[0]) if len(own) else int(table["adoption_year"].min())
    n_placebo = int(gaps.loc[gaps["role"].astype(str) == "placebo", "unit"].nunique())
    names = ", ".join(sentences.get(f"outcome_{o}", o).lower() for o in _outcomes(gaps))
    return {
        "synth_n_adopters": format_count(int(table["adopter"].nunique()), language=language),
        "synth_n_donors": format_count(n_placebo, language=language),
        "synth_year": str(year),
        "synth_fig_alt": sentences["alt"].format(
            outcomes=names, n_placebo=n_placebo, year=year, name=MUNICIPALITY.get(shown_unit(table), "")
        ),
    }


def _level(sdid: pd.DataFrame, language: str) -> str:
    """Return the confidence level of ``sdid.csv`` as a percentage (one level per file)."""
    levels = sdid["level"].dropna().unique()
    if len(levels) != 1:
        raise ReportError(
            f"results/synth/sdid.csv holds {len(levels)} confidence levels: rerun the synthetic_control step"
        )
    return format_percent(float(levels[0]), language=language)


def _first(frame: pd.DataFrame) -> pd.Series:
    """Return the first row of ``frame``, or a row of NaN when it has none."""
    return frame.iloc[0] if len(frame) else pd.Series(np.nan, index=frame.columns)


def sdid_table(
    table: pd.DataFrame,
    average: pd.DataFrame,
    sdid: pd.DataFrame,
    *,
    sentences: Mapping[str, str],
    language: str = "da",
    unit: int | None = None,
) -> pd.DataFrame:
    """Show the synthetic control's ATT beside the synthetic DiD's ATT, interval and p-value, per outcome.

    Two rows per outcome: Herning, and the mean over the adopting municipalities. The synthetic
    control's ATT is the mean gap after adoption (``table.csv``; for the mean, ``average.csv``); the
    synthetic DiD's is from ``sdid.csv``, with its normal-approximation interval and p-value from the
    placebo standard error (the average's from the placebo distribution of the mean over adopters).

    Parameters
    ----------
    table, average, sdid : pandas.DataFrame
        ``results/synth/table.csv``, ``average.csv`` and ``sdid.csv``.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Number format.
    unit : int, optional
        The municipality shown (default :func:`shown_unit`: Herning in the default design).

    Returns
    -------
    pandas.DataFrame
        Display strings, two rows per outcome of ``sdid.csv``.
    """
    language = check_language(language)
    if sdid.empty:
        raise ReportError("results/synth/sdid.csv has no rows: rerun the synthetic_control step")
    if unit is None:
        unit = (
            shown_unit(table)
            if not table.empty
            else int(sdid.loc[sdid["municipality"].astype(str) != "average", "municipality"].astype(int).min())
        )
    level = _level(sdid, language)
    columns = [sentences[f"sdid_column_{code}"].format(level=level) for code in _SDID_COLUMNS]
    rows, labels = [], []
    for outcome in _outcomes(sdid):
        d = DECIMALS.get(outcome, 2)
        mine = sdid[sdid["outcome"].astype(str) == outcome]
        where = mine["municipality"].astype(str)
        own, mean = _first(mine[where == str(unit)]), _first(mine[where == "average"])
        sc = table[(table["outcome"].astype(str) == outcome) & (table["adopter"].astype(int) == unit)]
        sc_mean = _first(average[average["outcome"].astype(str) == outcome])
        n_sdid, n_sc = (format_count(0 if pd.isna(n) else n, language=language)
                        for n in (mean["adopters"], sc_mean["n_adopters"]))  # fmt: skip
        name = sentences["average" if n_sdid == n_sc else "average_sc"].format(n=n_sdid, n_sc=n_sc)
        for label, sc_att, row in (
            (sentences["herning"].format(name=MUNICIPALITY.get(unit, unit)), _first(sc)["att"], own),
            (name, sc_mean["att_average"], mean),
        ):
            interval = MISSING if row[["ci_low", "ci_high"]].isna().any() else (
                f"{_fmt(row['ci_low'], d, language)} {sentences['to']} {_fmt(row['ci_high'], d, language)}"
            )  # fmt: skip
            labels.append(sentences.get(f"outcome_{outcome}", outcome))
            rows.append(
                [
                    label,
                    _fmt(sc_att, d, language),
                    _fmt(row["att"], d, language),
                    interval,
                    MISSING if pd.isna(row["p_value"]) else format_p_value(float(row["p_value"]), language=language),
                    MISSING if pd.isna(row["n_controls"]) else format_count(row["n_controls"], language=language),
                ]
            )
    return pd.DataFrame([[o, *r] for o, r in zip(blank_repeats(labels), rows, strict=True)], columns=columns)


def sdid_variables(sdid: pd.DataFrame, *, language: str = "da") -> dict[str, str]:
    """Return the numbers of the synthetic DiD text.

    Parameters
    ----------
    sdid : pandas.DataFrame
        ``results/synth/sdid.csv``.
    language : {"da", "en"}, default "da"

    Returns
    -------
    dict
        ``synth_sdid_level``: the confidence level of the intervals, as a percentage.
    """
    language = check_language(language)
    return {"synth_sdid_level": _level(sdid, language)}
