r"""Predictor matrices of the synthetic control method, built as R's ``Synth::dataprep`` builds them.

A predictor is a column averaged over a set of periods (missing values skipped, as
``dataprep``'s ``mean`` with ``na.rm = TRUE``). A plain column name is averaged over the
``predictor_periods`` (R's ``time.predictors.prior``; default: every pre-treatment period),
and ``(column, periods)`` is averaged over ``periods`` (R's ``special.predictors``). The
periods of a predictor may lie anywhere in the data, also outside the pre-period window
that the weights are fitted on (for example ``("beer", range(1984, 1989))`` in Abadie,
Diamond and Hainmueller 2010, Table 1).

The label of a predictor is its column name for a plain column, and the column with its
periods for ``(column, periods)``, e.g. ``lnincome[1980-1988]`` or ``cigsale[1975]``;
labels index ``SyntheticControl.v`` and ``.predictor_balance``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["PredictorSpec", "predictor_table", "custom_importances"]

PredictorSpec = str | tuple[str, Sequence[Any]]
"""A predictor: a column averaged over ``predictor_periods``, or ``(column, periods)`` averaged over ``periods``."""


def _label(column: str, periods: list[Any]) -> str:
    return f"{column}[{periods[0]}]" if len(periods) == 1 else f"{column}[{periods[0]}-{periods[-1]}]"


def predictor_table(
    df: pd.DataFrame,
    unit: str,
    time: str,
    predictors: Sequence[PredictorSpec],
    default_periods: Sequence[Any],
) -> pd.DataFrame:
    """Return the predictors by unit: one row per predictor (its label), one column per unit.

    Parameters
    ----------
    df
        Long panel with the predictor columns.
    unit, time
        Column names.
    predictors
        Predictor specifications (see the module docstring).
    default_periods
        Periods over which a plain column name is averaged.

    Returns
    -------
    pandas.DataFrame
        Means over the periods, missing values skipped; NaN where a unit has no value at all.

    Raises
    ------
    EvaluationError
        For an unknown column, a predictor without periods, or two predictors with one label.
    """
    rows: dict[str, pd.Series] = {}
    for spec in predictors:
        if isinstance(spec, str):
            column, periods, label = spec, list(default_periods), spec
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
            column, periods = spec[0], list(spec[1])
            label = _label(column, periods) if periods else column
        else:
            raise EvaluationError(
                f"synthetic control: predictor {spec!r} must be a column name or a (column, periods) pair."
            )
        if column not in df.columns:
            raise EvaluationError(f"synthetic control: predictor column '{column}' is not in the data.")
        if not periods:
            raise EvaluationError(f"synthetic control: predictor '{column}' has no periods to average over.")
        if label in rows:
            raise EvaluationError(f"synthetic control: predictor {label} is listed twice.")
        sub = df.loc[df[time].isin(periods), [unit, column]]
        rows[label] = sub.groupby(unit)[column].mean()
    return pd.DataFrame(rows).T


def custom_importances(custom_v: Sequence[float] | Mapping[Hashable, float], labels: pd.Index) -> np.ndarray:
    """Check a user-given V (R ``synth``'s ``custom.v``) and scale it to sum 1.

    Parameters
    ----------
    custom_v
        Non-negative importances, in the order of ``predictors`` or keyed by predictor label.
    labels
        Predictor labels, as :func:`predictor_table` makes them.

    Returns
    -------
    numpy.ndarray
        The importances in the order of ``labels``, summing to 1.

    Raises
    ------
    EvaluationError
        For a wrong length, unknown or missing labels, negative or non-finite values, or all zeros.
    """
    if isinstance(custom_v, Mapping):
        unknown = [k for k in custom_v if k not in labels]
        missing = [k for k in labels if k not in custom_v]
        if unknown or missing:
            raise EvaluationError(
                f"synthetic control: custom_v labels must be the predictors {list(labels)} "
                f"(unknown {unknown}, missing {missing})."
            )
        v = np.array([custom_v[k] for k in labels], dtype=float)
    else:
        v = np.asarray(list(custom_v), dtype=float)
        if v.shape != (len(labels),):
            raise EvaluationError(
                f"synthetic control: custom_v has {v.size} entries for {len(labels)} predictors {list(labels)}."
            )
    if not np.all(np.isfinite(v)) or np.any(v < 0) or v.sum() <= 0:
        raise EvaluationError("synthetic control: custom_v must be finite, non-negative and not all zero.")
    return v / v.sum()
