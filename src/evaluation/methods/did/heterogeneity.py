"""Municipality-year panels from the child panel, and staggered DiD by subgroup (heterogeneity).

The reform is adopted by municipalities, and children enter and leave the case population, so the
child-year panel of :mod:`evaluation.steps.cohort` is far from balanced. :func:`municipality_year_means`
collapses it to a balanced municipality-year panel of outcome means (the level at which treatment is
assigned), on which :func:`evaluation.methods.did.att_gt` runs with municipalities as units.

:func:`att_gt_by_subgroup` repeats that analysis within subgroups of children: life phase at entry
into the case population (0-6, 7-13, 14-17; the national leadership network's phases), sex, prior
placement, or any other baseline column, and returns one row per subgroup with the aggregated effect.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did.att_gt import att_gt

__all__ = ["LIFE_PHASES", "att_gt_by_subgroup", "life_phase", "municipality_year_means"]

LIFE_PHASES: dict[str, tuple[int, int]] = {"0-6": (0, 6), "7-13": (7, 13), "14-17": (14, 17)}


def life_phase(age: pd.Series) -> pd.Series:
    """Life phase ``"0-6"``, ``"7-13"`` or ``"14-17"`` of an age in whole years (missing outside 0-17)."""
    bins = [-0.5, 6.5, 13.5, 17.5]
    return pd.cut(age, bins=bins, labels=list(LIFE_PHASES)).astype("string")


def municipality_year_means(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    municipality: str = "municipality",
    time: str = "year",
    group: str = "first_treat",
) -> pd.DataFrame:
    """Collapse a child-year panel to municipality-year means of ``outcomes`` with the number of children.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, first_treat, <outcome>..., n_children`` (one row per municipality-year with
        at least one child); the group must be constant within municipality.
    """
    missing = [c for c in (municipality, time, group, *outcomes) if c not in panel.columns]
    if missing:
        raise EvaluationError(f"municipality_year_means: column(s) {missing} not in the panel")
    if (panel.groupby(municipality)[group].nunique() > 1).any():
        raise EvaluationError(f"municipality_year_means: {group!r} varies within a municipality")
    grouped = panel.groupby([municipality, time], sort=True)
    out = grouped[list(outcomes)].mean()
    out["n_children"] = grouped.size()
    out[group] = grouped[group].first()
    return out.reset_index()


def att_gt_by_subgroup(
    panel: pd.DataFrame,
    outcome: str,
    subgroup: str,
    *,
    municipality: str = "municipality",
    time: str = "year",
    group: str = "first_treat",
    aggregation: Literal["simple", "dynamic", "group", "calendar"] = "simple",
    **att_gt_options: Any,
) -> pd.DataFrame:
    """Staggered DiD at municipality level within each value of ``subgroup`` (module docstring).

    Parameters
    ----------
    panel : pandas.DataFrame
        Child-year panel with the municipality, year, group, outcome and subgroup columns.
    outcome, subgroup : str
        Outcome column and the column whose values define the subgroups (e.g. a :func:`life_phase`).
    aggregation : {"simple", "dynamic", "group", "calendar"}
        Which overall summary to report.
    **att_gt_options
        Passed to :func:`evaluation.methods.did.att_gt` (``control_group``, ``method``, ``bootstrap``, ...).

    Returns
    -------
    pandas.DataFrame
        ``subgroup, estimate, se, ci_low, ci_high, p_value, n_treated, n_control`` (municipalities), one
        row per subgroup; a subgroup that cannot be estimated gets missing numbers and a warning.
    """
    if subgroup not in panel.columns:
        raise EvaluationError(f"att_gt_by_subgroup: column {subgroup!r} not in the panel")
    rows = []
    for value, part in panel.groupby(subgroup, sort=True, dropna=True):
        means = municipality_year_means(part, [outcome], municipality=municipality, time=time, group=group)
        row: dict[str, Any] = {"subgroup": value}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = att_gt(means, outcome=outcome, unit=municipality, time=time, group=group, **att_gt_options)
            row |= result.aggregate(aggregation).overall.to_dict()
        except ModelNotIdentifiedError as exc:
            warnings.warn(f"att_gt_by_subgroup: subgroup {value!r} not estimated: {exc}", stacklevel=2)
            row |= {k: np.nan for k in ("estimate", "se", "ci_low", "ci_high", "p_value")}
            row |= {"n_treated": 0, "n_control": 0}
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["subgroup", "estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"]
    )
