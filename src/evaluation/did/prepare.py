"""Checks and reshaping of a long panel before :func:`evaluation.did.att_gt` (R ``did::pre_process_did``).

Rules copied from R ``did`` (version 2.x), each announced by a warning so nothing is dropped silently:

- rows with a missing outcome, time, group, covariate, weight or cluster are dropped;
- a group later than the last period is recoded as never treated (0);
- units already treated in the first period (``0 < g <= first period + anticipation``) are dropped;
- without never-treated units, ``"never_treated"`` uses the last-treated cohort as the comparison group
  and ``"not_yet_treated"`` keeps only periods before it is treated (``t < max(g) - anticipation``);
- with ``panel=True`` the panel is balanced: units not observed in every period are dropped.

The group, the weight and the cluster must be constant within a unit; a unit observed twice in one
period is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError

__all__ = ["PanelArrays", "prepare_panel"]


@dataclass(frozen=True)
class PanelArrays:
    """A balanced panel as arrays: ``outcome[i, t]``, ``covariates[t, i, :]`` (intercept first)."""

    units: np.ndarray
    periods: np.ndarray
    outcome: np.ndarray
    covariates: np.ndarray
    group: np.ndarray
    weights: np.ndarray
    cluster_codes: np.ndarray | None
    n_clusters: int


def _require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise EvaluationError(f"att_gt: column(s) {', '.join(missing)} not in the data; available: {list(df.columns)}")


def _constant_within(frame: pd.DataFrame, unit: str, column: str) -> None:
    varying = frame.groupby(unit, sort=False)[column].nunique(dropna=False)
    if (varying > 1).any():
        example = varying.index[varying > 1][0]
        raise EvaluationError(
            f"att_gt: column {column!r} must be constant within each unit, but unit {example!r} has several "
            f"values; fix the data (a unit's first treatment period, weight and cluster do not change)"
        )


def prepare_panel(
    df: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    covariates: Sequence[str],
    control_group: str,
    anticipation: int,
    weights: str | None,
    cluster: str | None,
) -> PanelArrays:
    """Validate and reshape the long panel ``df`` into :class:`PanelArrays` (module docstring for the rules)."""
    extra = [c for c in (weights, cluster) if c is not None and c != unit]
    columns = list(dict.fromkeys([unit, time, group, outcome, *covariates, *extra]))
    _require(df, columns)
    frame = df[columns]
    complete = frame.notna().all(axis=1)
    if not complete.all():
        warnings.warn(f"att_gt: dropped {int((~complete).sum())} rows with missing values", stacklevel=3)
        frame = frame[complete]
    for column in [time, group, outcome, *covariates] + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise EvaluationError(f"att_gt: column {column!r} must be numeric")
    if frame.duplicated([unit, time]).any():
        raise EvaluationError(f"att_gt: a unit appears twice in one period (columns {unit!r}, {time!r})")
    for column in [group, *extra]:
        _constant_within(frame, unit, column)
    if weights is not None and (frame[weights] < 0).any():
        raise EvaluationError(f"att_gt: weights in column {weights!r} must be non-negative")

    periods = np.sort(frame[time].unique())
    g = frame[group].to_numpy(dtype=float)
    g = np.where(g > periods[-1], 0.0, g)
    if (g < 0).any():
        raise EvaluationError(f"att_gt: column {group!r} must be 0 (never treated) or a period; found negatives")
    early = (g > 0) & (g <= periods[0] + anticipation)
    if early.any():
        n_early = frame.loc[early, unit].nunique()
        warnings.warn(f"att_gt: dropped {n_early} units already treated in the first period", stacklevel=3)
    frame = frame.assign(**{group: g})[~early]
    g = frame[group].to_numpy()
    if not (g == 0).any():
        last = g.max()
        if control_group == "never_treated":
            warnings.warn(
                "att_gt: no never-treated units; the last-treated cohort is used as the never-treated group",
                stacklevel=3,
            )
            frame = frame[frame[time] < last - anticipation]
            frame = frame.assign(**{group: np.where(frame[group] == last, 0.0, frame[group])})
        else:
            frame = frame[frame[time] < last - anticipation]
    periods = np.sort(frame[time].unique())
    counts = frame.groupby(unit, sort=False)[time].transform("size")
    if (counts < len(periods)).any():
        n_drop = frame.loc[counts < len(periods), unit].nunique()
        warnings.warn(f"att_gt: dropped {n_drop} units not observed in every period (balanced panel)", stacklevel=3)
        frame = frame[counts == len(periods)]
    if frame.empty or len(periods) < 2:
        raise ModelNotIdentifiedError("att_gt: fewer than two periods or no units remain after the checks")

    frame = frame.sort_values([unit, time])
    units = frame[unit].drop_duplicates().to_numpy()
    n, n_t = len(units), len(periods)
    y = frame[outcome].to_numpy(dtype=float).reshape(n, n_t)
    x = np.ones((n_t, n, 1 + len(covariates)))
    if covariates:
        x[:, :, 1:] = frame[list(covariates)].to_numpy(dtype=float).reshape(n, n_t, -1).transpose(1, 0, 2)
    first = frame.groupby(unit, sort=True).head(1)
    w = first[weights].to_numpy(dtype=float) if weights else np.ones(n)
    if weights and not w.sum() > 0:
        raise EvaluationError(f"att_gt: weights in column {weights!r} sum to zero")
    codes, n_clusters = None, n
    if cluster is not None and cluster != unit:
        codes_raw, uniques = pd.factorize(first[cluster], sort=True)
        codes, n_clusters = codes_raw.astype(np.int64), len(uniques)
    return PanelArrays(
        units=units,
        periods=periods,
        outcome=y,
        covariates=x,
        group=first[group].to_numpy(dtype=float),
        weights=w / w.mean(),
        cluster_codes=codes,
        n_clusters=n_clusters,
    )
