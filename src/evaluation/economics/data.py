"""Analysis data of the economics step: the matched child-year sample and the municipality-year staff panel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.economics.staff import caseworker_fte_years, staff_panel

__all__ = ["child_sample", "event_columns", "municipality_panel", "placement_entries"]


def event_columns(horizon: int) -> list[str]:
    """Names of the follow-up-year indicators ``followup_1 .. followup_H`` (the last one binned: H or later)."""
    return [f"followup_{e + 1}" for e in range(int(horizon))]


def placement_entries(events: pd.DataFrame) -> pd.DataFrame:
    """Child-years in which a placement episode starts (event code 0 of ``anbringelser_haendelser``).

    Parameters
    ----------
    events
        Ingested placement events: ``person_id, event_date, event``.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year, placement_entry`` (number of episodes started in the year, almost always 1).
    """
    start = events.loc[events["event"] == 0]
    frame = pd.DataFrame({"person_id": start["person_id"], "year": pd.to_datetime(start["event_date"]).dt.year})
    return (
        frame.groupby(["person_id", "year"], as_index=False, sort=True)
        .size()
        .rename(columns={"size": "placement_entry"})
    )


def child_sample(
    panel: pd.DataFrame, matched: pd.DataFrame, entries: pd.DataFrame, *, horizon: int, cost_factor: float = 1.0
) -> pd.DataFrame:
    """Child-years of the matched children with the outcomes of the economics step.

    Parameters
    ----------
    panel
        The cohort panel (``cost_per_child`` in ``prices.price_year`` prices).
    matched
        Matched children: ``person_id, weight``.
    entries
        :func:`placement_entries`.
    horizon
        Follow-up years :math:`H`; year :math:`H` collects all later years.
    cost_factor
        Price-year conversion of ``cost_per_child`` (``I_p / I_{p0}``).

    Returns
    -------
    pandas.DataFrame
        The panel rows of matched children with ``weight``, ``cost`` (converted), ``placement_entry``
        (0/1: a placement episode starts in the year), ``followup_year`` (1 = adoption year; 0 when not
        treated) and the indicators of :func:`event_columns`.
    """
    sample = panel.merge(matched[["person_id", "weight"]], on="person_id", how="inner", validate="many_to_one")
    sample = sample.merge(entries, on=["person_id", "year"], how="left")
    sample["placement_entry"] = (sample["placement_entry"].fillna(0) > 0).astype("float64")
    sample["cost"] = sample["cost_per_child"].astype("float64") * float(cost_factor)
    follow = np.where(sample["treated"] == 1, sample["year"] - sample["first_treat"] + 1, 0)
    sample["followup_year"] = follow.astype("int64")
    for e, name in enumerate(event_columns(horizon), start=1):
        hit = (follow >= e) if e == horizon else (follow == e)
        sample[name] = hit.astype("float64")
    return sample.sort_values(["person_id", "year"]).reset_index(drop=True)


def municipality_panel(caseworkers: pd.DataFrame, panel: pd.DataFrame, *, cost_factor: float = 1.0) -> pd.DataFrame:
    """Municipality-year staff panel with the mean cost per child-year with an open case.

    Parameters
    ----------
    caseworkers
        Ingested ``sagsbehandlere``.
    panel
        The cohort panel.
    cost_factor
        Price-year conversion of ``cost_per_child``.

    Returns
    -------
    pandas.DataFrame
        :data:`evaluation.economics.staff.STAFF_COLUMNS` plus ``cost_per_case`` (mean cost per child-year
        with an open case, DKK).
    """
    staff = staff_panel(caseworker_fte_years(caseworkers), panel)
    cost = panel.groupby(["municipality", "year"], as_index=False, sort=True)["cost_per_child"].mean()
    staff = staff.merge(cost, on=["municipality", "year"], how="left")
    staff["cost_per_case"] = staff.pop("cost_per_child") * float(cost_factor)
    return staff
