"""Placement outcomes of each child-year: entries into care, the kind of placement, and breakdowns.

The Herning model aims to place fewer children, to place those it must in the child's own network or a
foster family rather than an institution, and to keep placements from breaking down. Three child-year
outcomes measure that (definitions as ``truth.json`` of the synthetic registry):

``placement_rate``
    1 when a placement episode starts in the year (event code 0, *start*, of ``anbringelser_haendelser``),
    else 0. Its ATT is the change in the yearly probability of entering care.
``network_foster_share``
    For child-years in which an episode starts: the share of the year's starts whose placement type is
    network or foster care (:data:`evaluation.contract.codes.PLACEMENT_GROUP` ``network`` or ``foster``);
    missing in other years. Its ATT is the change in the share of new placements in a family setting.
``breakdown_rate``
    For child-years with a placement spell overlapping the year: the number of spells that end in the
    year in a breakdown (``SAMMENBRUD`` = 1); missing in other years. Its ATT relative to the imputed
    counterfactual mean is the relative change in breakdowns per placed child-year. A spell cut at the
    data cut-off is not a breakdown at the cut-off: breakdowns are counted up to the day before it.

Caseload (open cases per full-time equivalent) is a municipality outcome: :func:`caseload_per_fte`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.contract.codes import PLACEMENT_GROUP
from evaluation.steps.cohort.cases import spell_years

__all__ = ["FAMILY_GROUPS", "PLACEMENT_OUTCOMES", "caseload_per_fte", "placement_outcomes"]

#: Placement groups that count as a family setting.
FAMILY_GROUPS = ("network", "foster")

#: The child-year placement outcomes this module adds to the panel.
PLACEMENT_OUTCOMES = ("placement_rate", "network_foster_share", "breakdown_rate")


def placement_outcomes(
    keys: pd.DataFrame,
    spells: pd.DataFrame,
    events: pd.DataFrame,
    open_end: pd.Timestamp,
    cutoff: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Return the placement outcomes (module docstring) of the child-years in ``keys``.

    Parameters
    ----------
    keys
        ``person_id, year`` of the panel's child-years.
    spells
        Ingested ``anbringelser_forloeb``: ``person_id, start_date, end_date, breakdown``.
    events
        Ingested ``anbringelser_haendelser``: ``person_id, event_date, event, placement_type``.
    open_end
        The date an ongoing spell lasts until (the end of the data).
    cutoff
        The data cut-off (spells truncated there end in no breakdown), or None.

    Returns
    -------
    pandas.DataFrame
        ``keys`` with ``placement_rate`` (float 0/1), ``network_foster_share`` and ``breakdown_rate``
        (floats, missing where not defined), in the order of ``keys``.
    """
    starts = events.loc[events["event"] == 0, ["person_id", "event_date", "placement_type"]]
    family = starts["placement_type"].map(PLACEMENT_GROUP).isin(FAMILY_GROUPS).astype("float64")
    per_year = (
        pd.DataFrame(
            {"person_id": starts["person_id"], "year": starts["event_date"].dt.year.astype("int64"), "family": family}
        )
        .groupby(["person_id", "year"], as_index=False, sort=False)
        .agg(n_starts=("family", "size"), network_foster_share=("family", "mean"))
    )
    placed = spell_years(spells, open_end, source="anbringelser_forloeb").drop_duplicates()
    placed["placed"] = True
    ends = spells["end_date"]
    broke = (spells["breakdown"].fillna(0) == 1) & ends.notna()
    if cutoff is not None:
        broke &= ends < cutoff
    breakdowns = (
        pd.DataFrame({"person_id": spells.loc[broke, "person_id"], "year": ends[broke].dt.year.astype("int64")})
        .groupby(["person_id", "year"], as_index=False, sort=False)
        .size()
        .rename(columns={"size": "n_breakdowns"})
    )
    out = keys[["person_id", "year"]].merge(per_year, on=["person_id", "year"], how="left")
    out = out.merge(placed, on=["person_id", "year"], how="left").merge(
        breakdowns, on=["person_id", "year"], how="left"
    )
    out["placement_rate"] = (out["n_starts"].fillna(0) > 0).astype("float64")
    is_placed = out["placed"].fillna(False).astype(bool) | out["n_breakdowns"].notna()
    out["breakdown_rate"] = np.where(is_placed, out["n_breakdowns"].fillna(0.0), np.nan)
    out["network_foster_share"] = out["network_foster_share"].astype("float64")
    return out[["person_id", "year", *PLACEMENT_OUTCOMES]]


def caseload_per_fte(caseworkers: pd.DataFrame) -> pd.DataFrame:
    """Open cases per full-time equivalent by municipality-year: the yearly mean over months of cases / FTE.

    Each month, a municipality's open cases (the sum of ``active_cases`` over its caseworkers) are divided
    by the FTE its caseworkers worked that month (the sum of ``fte``, AARSVAERK); the year's value is the
    mean over its months with a positive FTE. This is the caseload ``truth.json`` defines. Per FTE rather
    than per head: a small municipality's one caseworker on part of her hours and a large one's fifty
    full-time caseworkers carry comparable caseloads, while head counts move in whole steps.

    Parameters
    ----------
    caseworkers
        Ingested ``sagsbehandlere``: ``municipality, month, fte, active_cases``.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, caseload, n_months``, sorted.
    """
    monthly = caseworkers.groupby(["municipality", "month"], as_index=False, sort=True).agg(
        cases=("active_cases", "sum"), fte=("fte", "sum")
    )
    monthly = monthly.loc[monthly["fte"] > 0]
    monthly["caseload"] = monthly["cases"] / monthly["fte"]
    monthly["year"] = pd.to_datetime(monthly["month"]).dt.year.astype("int64")
    out = monthly.groupby(["municipality", "year"], as_index=False, sort=True).agg(
        caseload=("caseload", "mean"), n_months=("caseload", "size")
    )
    return out
