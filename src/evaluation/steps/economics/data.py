"""Analysis data of the economics step: the matched child-year sample and the municipality-year staff panel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from evaluation.methods.economics.staff import caseworker_fte_years, staff_panel

__all__ = ["child_sample", "municipality_panel"]


def child_sample(
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    cost_factor: float = 1.0,
    progress: Callable[[str], None] = print,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Child-years of the matched children as the headline sees them, with the cost in the economics' prices.

    Parameters
    ----------
    panel
        The cohort panel (``cost_per_child`` in ``prices.price_year`` prices; ``placement_rate``, ``sdq``).
    matched
        Matched children: ``person_id, weight``.
    config
        The study configuration (``matching.covariates``, as the headline).
    cost_factor
        Price-year conversion of ``cost_per_child`` (``I_p / I_{p0}``).
    progress
        Told which covariate indicators are constant.

    Returns
    -------
    (pandas.DataFrame, list of str, list of str)
        :func:`evaluation.steps.estimate.headline_sample` (the weighted sample with its covariate and age
        columns, and their names) with ``cost``: ``cost_per_child`` converted to the economics' price year.
    """
    from evaluation.steps.estimate import headline_sample

    sample, covariates, controls = headline_sample(panel, matched, config, progress)
    sample["cost"] = sample["cost_per_child"].astype("float64") * float(cost_factor)
    return sample, covariates, controls


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
        :data:`evaluation.methods.economics.staff.STAFF_COLUMNS` plus ``cost_per_case`` (mean cost per child-year
        with an open case, DKK).
    """
    staff = staff_panel(caseworker_fte_years(caseworkers), panel)
    cost = panel.groupby(["municipality", "year"], as_index=False, sort=True)["cost_per_child"].mean()
    staff = staff.merge(cost, on=["municipality", "year"], how="left")
    staff["cost_per_case"] = staff.pop("cost_per_child") * float(cost_factor)
    return staff
