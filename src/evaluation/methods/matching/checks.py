"""Checks of the options and data given to :func:`evaluation.methods.matching.match`, with readable errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["SCORE_DISTANCES", "binary_treatment", "check_columns", "check_options"]

METHODS = ("nearest", "exact", "cem", "mahalanobis")
SCORE_DISTANCES = ("logit", "probit", "linear.logit", "linear.probit")
M_ORDERS = ("largest", "smallest", "random", "data")
DISCARDS = ("none", "both", "control", "treated")
ESTIMANDS = {
    "nearest": ("ATT", "ATC"),
    "mahalanobis": ("ATT", "ATC"),
    "exact": ("ATT", "ATC", "ATE"),
    "cem": ("ATT", "ATC", "ATE"),
}


def check_options(
    method: str,
    distance: str,
    estimand: str,
    ratio: int,
    caliper: float | None,
    m_order: str | None,
    binary: str,
    discard: str,
) -> None:
    """Raise :class:`EvaluationError` for an invalid or unsupported combination of options."""
    if method not in METHODS:
        raise EvaluationError(f"match: unknown method {method!r}; use one of {METHODS}.")
    if estimand not in ("ATT", "ATC", "ATE"):
        raise EvaluationError(f"match: unknown estimand {estimand!r}; use 'ATT', 'ATC' or 'ATE'.")
    if estimand not in ESTIMANDS[method]:
        raise EvaluationError(
            f"match: estimand='{estimand}' is not available with method='{method}' (as in MatchIt); "
            f"use one of {ESTIMANDS[method]}, or method='exact'/'cem' for the ATE."
        )
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise EvaluationError(f"match: ratio must be a whole number >= 1, not {ratio!r}.")
    if caliper is not None and (
        isinstance(caliper, bool) or not isinstance(caliper, (int, float)) or not np.isfinite(caliper) or caliper <= 0
    ):
        raise EvaluationError(
            f"match: caliper must be a positive number of standard deviations or None, not {caliper!r}."
        )
    if m_order is not None and m_order not in M_ORDERS:
        raise EvaluationError(f"match: m_order must be one of {M_ORDERS} or None, not {m_order!r}.")
    if binary not in ("raw", "std"):
        raise EvaluationError(f"match: binary must be 'raw' or 'std', not {binary!r}.")
    if discard not in DISCARDS:
        raise EvaluationError(f"match: discard must be one of {DISCARDS}, not {discard!r}.")
    if method in ("exact", "cem") and caliper is not None:
        raise EvaluationError(
            f"match: method='{method}' forms strata and uses no caliper; set caliper=None (or use method='nearest')."
        )
    if distance == "mahalanobis":
        if caliper is not None:
            raise EvaluationError(
                "match: a caliper needs a score, but distance='mahalanobis' fits none; for Mahalanobis matching "
                "within a propensity-score caliper use method='mahalanobis' with distance='logit' (MatchIt's mahvars)."
            )
        if discard != "none":
            raise EvaluationError(
                "match: common-support trimming (discard) needs a score, but distance='mahalanobis' fits none; "
                "use distance='logit' with method='mahalanobis' instead."
            )
        if m_order in ("largest", "smallest"):
            raise EvaluationError(
                f"match: m_order='{m_order}' orders by a score, but distance='mahalanobis' fits none; "
                "use 'data' or 'random'."
            )


def check_columns(
    df: pd.DataFrame, treatment: str, covariates: list[str], extra: list[str], distance: str, needs_covariate: bool
) -> None:
    """Raise :class:`EvaluationError` for missing columns, reserved names and missing values."""
    score_column = distance not in (*SCORE_DISTANCES, "mahalanobis")
    needed = [treatment, *covariates, *extra] + ([distance] if score_column else [])
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        hint = (
            f" ('{distance}' is neither a column nor one of {(*SCORE_DISTANCES, 'mahalanobis')})"
            if distance in missing
            else ""
        )
        raise EvaluationError(f"match: column(s) {missing} not in the data{hint}; columns are {list(df.columns)}.")
    for reserved in ("weight", "subclass"):
        if reserved in df.columns:
            raise EvaluationError(
                f"match: the data already have a column '{reserved}', which match() adds to the matched rows; "
                "rename it first."
            )
    if not covariates and needs_covariate:
        raise EvaluationError("match: this method needs at least one covariate.")
    for col in dict.fromkeys([*covariates, *extra] + ([distance] if score_column else [])):
        n_missing = int(df[col].isna().sum())
        if n_missing:
            first = df.index[df[col].isna().to_numpy()][0]
            raise EvaluationError(
                f"match: covariate '{col}' is missing in {n_missing} of {len(df)} rows (first at index {first!r}); "
                "impute it or drop those rows (and count them) before matching."
            )
    if score_column:
        if not pd.api.types.is_numeric_dtype(df[distance]):
            raise EvaluationError(
                f"match: distance column '{distance}' has type {df[distance].dtype}; it must be numeric."
            )
        if not np.all(np.isfinite(df[distance].to_numpy(dtype=float))):
            raise EvaluationError(f"match: distance column '{distance}' has non-finite values.")


def binary_treatment(df: pd.DataFrame, treatment: str) -> np.ndarray:
    """Return the treatment as an int array of 0/1, or raise :class:`EvaluationError`."""
    s = df[treatment]
    n_missing = int(s.isna().sum())
    if n_missing:
        raise EvaluationError(f"match: treatment column '{treatment}' is missing in {n_missing} rows; it must be 0/1.")
    if pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=int)
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float)
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            raise EvaluationError(
                f"match: treatment column '{treatment}' must be coded 0/1; found {int(bad.sum())} row(s) with other "
                f"values (e.g. {values[bad][0]!r} at index {df.index[np.flatnonzero(bad)[0]]!r})."
            )
        values = values.astype(int)
    else:
        raise EvaluationError(f"match: treatment column '{treatment}' has type {s.dtype}; it must be 0/1 or boolean.")
    n1 = int(values.sum())
    if n1 == 0 or n1 == len(values):
        raise EvaluationError(
            f"match: treatment column '{treatment}' has {n1} treated of {len(values)} rows; both groups are needed."
        )
    return values
