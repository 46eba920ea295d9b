r"""Covariate balance before and after matching or weighting, computed as R's cobalt does.

For each covariate (categorical covariates are split into one indicator per level):

- **Mean difference** ``smd``: treated mean minus comparison mean (weighted
  means after adjustment). Continuous covariates are divided by the
  standardisation factor :math:`s^*`; for the ATT, :math:`s^*` is the standard
  deviation of the *treated* group in the *unadjusted* sample, and the same
  :math:`s^*` is used before and after adjustment (cobalt's ``s.d.denom =
  "treated"``, which cobalt uses for the ATT). Binary covariates (exactly two
  distinct values) get the raw difference in proportions by default (cobalt's
  ``binary = "raw"``); ``binary="std"`` divides by :math:`\sqrt{p_t(1-p_t)}`
  of the treated group instead.
- **Variance ratio** ``var_ratio``: treated variance over comparison variance
  (cobalt's ``V.Ratio``), with weighted variances after adjustment, using the
  unbiased form for reliability weights
  :math:`\sum w (x-\bar x_w)^2 \,/\, (\sum w - \sum w^2/\sum w)`, which is the
  ordinary :math:`n-1` variance when all weights are 1. Not defined for binary
  covariates (NaN), as in cobalt.
- **eCDF statistics** ``ecdf_mean``, ``ecdf_max``: the mean and the largest
  absolute difference between the (weighted) empirical cumulative distribution
  functions of the two groups, evaluated at every distinct value of the
  covariate (MatchIt's ``summary()`` "eCDF Mean" / "eCDF Max"; ``ecdf_max`` is
  the Kolmogorov-Smirnov statistic of cobalt's ``stats = "ks.statistics"``).
  Weights are normalised to sum to one within each group. For binary
  covariates both equal the absolute difference in proportions.
- **Flags**: ``smd_flag`` marks :math:`|\text{smd\_after}|` above the
  threshold (default 0.1); ``var_ratio_flag`` marks a variance ratio after
  adjustment outside the bounds (default [0.5, 2]), cobalt's ``thresholds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError
from evaluation.methods.matching.score import covariate_matrix
from evaluation.results import format_table, tidy_frame

__all__ = ["BALANCE_COLUMNS", "balance_table", "balance_text", "ecdf_statistics", "tidy_balance"]

#: Columns of :func:`balance_table`.
BALANCE_COLUMNS = columns_of("results/{release}/compare/balance.csv")[1:]


def tidy_balance(balance: pd.DataFrame) -> pd.DataFrame:
    """Return a balance table as tidy rows: one per covariate, the mean difference after matching as ``estimate``.

    Parameters
    ----------
    balance : pandas.DataFrame
        :data:`BALANCE_COLUMNS`, indexed by covariate (:func:`balance_table`) or with a column ``covariate``.

    Returns
    -------
    pandas.DataFrame
        ``term`` (the covariate), ``estimate`` (``smd_after``), ``se, ci_low, ci_high, p_value`` (NaN: balance
        statistics describe the sample, they are not inferred), then the other balance columns.
    """
    table = balance if "covariate" in balance.columns else balance.rename_axis("covariate").reset_index()
    return tidy_frame(table.rename(columns={"covariate": "term", "smd_after": "estimate"}))


def balance_text(balance: pd.DataFrame, heading: str = "Balance") -> str:
    """Return the balance as text: mean differences before and after, and the variance ratio after.

    Parameters
    ----------
    balance : pandas.DataFrame
        As for :func:`tidy_balance`.
    heading : str
        The line above the table.

    Returns
    -------
    str
    """
    table = tidy_balance(balance).rename(columns={"term": "covariate", "estimate": "smd_after"})
    return format_table(table[["covariate", "smd_before", "smd_after", "var_ratio_after"]], heading=heading)


def balance_table(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    weights: pd.Series | np.ndarray | None = None,
    *,
    estimand: Literal["ATT", "ATC", "ATE"] = "ATT",
    binary: Literal["raw", "std"] = "raw",
    smd_threshold: float = 0.1,
    var_ratio_bounds: tuple[float, float] = (0.5, 2.0),
) -> pd.DataFrame:
    r"""Tabulate standardised mean differences and variance ratios before and after adjustment.

    Parameters
    ----------
    df : pandas.DataFrame
        The full (unmatched) sample with a 0/1 treatment column.
    treatment : str
        The treatment column.
    covariates : sequence of str
        Covariates to tabulate.
    weights : Series or array, optional
        Adjustment weights aligned with ``df`` (zero for units left out). Without
        weights, the ``_after`` columns equal the ``_before`` columns.
    estimand : {"ATT", "ATC", "ATE"}
        Chooses the standardisation factor: the treated SD (ATT), the comparison
        SD (ATC) or the pooled :math:`\sqrt{(s_t^2 + s_c^2)/2}` (ATE).
    binary : {"raw", "std"}
        Raw or standardised differences for binary covariates.
    smd_threshold : float
        ``smd_flag`` is True where the absolute SMD after adjustment exceeds it.
    var_ratio_bounds : (float, float)
        ``var_ratio_flag`` is True where the variance ratio after adjustment lies outside.

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate: ``type`` ("binary" or "continuous"), ``smd_before``,
        ``smd_after``, ``var_ratio_before``, ``var_ratio_after``,
        ``ecdf_mean_before``, ``ecdf_mean_after``, ``ecdf_max_before``,
        ``ecdf_max_after``, ``smd_flag``, ``var_ratio_flag``.
    """
    if estimand not in ("ATT", "ATC", "ATE"):
        raise EvaluationError(f"balance_table: estimand must be 'ATT', 'ATC' or 'ATE', not {estimand!r}.")
    if binary not in ("raw", "std"):
        raise EvaluationError(f"balance_table: binary must be 'raw' or 'std', not {binary!r}.")
    treat = df[treatment].to_numpy(dtype=float) == 1
    x = covariate_matrix(df, covariates, drop_first=False)
    w_after = np.ones(len(df)) if weights is None else np.asarray(weights, dtype=float)
    if w_after.shape != (len(df),):
        raise EvaluationError(f"balance_table: weights have shape {w_after.shape}, expected ({len(df)},).")
    w_before = np.ones(len(df))
    rows = []
    for name in x.columns:
        v = x[name].to_numpy(dtype=float)
        is_binary = len(np.unique(v)) == 2
        if is_binary:
            v = (v == v.max()).astype(float)
        denom = _std_factor(v, treat, estimand, is_binary)
        row = {"covariate": name, "type": "binary" if is_binary else "continuous"}
        for label, w in (("before", w_before), ("after", w_after)):
            diff = _wmean(v[treat], w[treat]) - _wmean(v[~treat], w[~treat])
            if is_binary and binary == "raw":
                row[f"smd_{label}"] = diff
            else:
                row[f"smd_{label}"] = diff / denom if denom > 0 else np.nan
            if is_binary:
                row[f"var_ratio_{label}"] = np.nan
            else:
                vc = _wvar(v[~treat], w[~treat])
                row[f"var_ratio_{label}"] = _wvar(v[treat], w[treat]) / vc if vc > 0 else np.nan
            row[f"ecdf_mean_{label}"], row[f"ecdf_max_{label}"] = ecdf_statistics(v, treat, w, binary=is_binary)
        row["smd_flag"] = bool(abs(row["smd_after"]) > smd_threshold)
        vr = row["var_ratio_after"]
        row["var_ratio_flag"] = bool(np.isfinite(vr) and not var_ratio_bounds[0] <= vr <= var_ratio_bounds[1])
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=BALANCE_COLUMNS, index=pd.Index([], name="covariate"))
    return pd.DataFrame(rows).set_index("covariate")[BALANCE_COLUMNS]


def ecdf_statistics(v: np.ndarray, treat: np.ndarray, w: np.ndarray, *, binary: bool = False) -> tuple[float, float]:
    """Mean and maximum absolute difference of the weighted eCDFs of treated and controls.

    Parameters
    ----------
    v : numpy.ndarray
        Covariate values.
    treat : numpy.ndarray of bool
        Treated units.
    w : numpy.ndarray
        Weights (zero for units left out).
    binary : bool
        Binary covariate: both statistics are the absolute difference in (weighted) proportions.

    Returns
    -------
    (float, float)
        ``(ecdf_mean, ecdf_max)``; NaN when a group has no weight.
    """
    sw_t, sw_c = w[treat].sum(), w[~treat].sum()
    if sw_t <= 0 or sw_c <= 0:
        return np.nan, np.nan
    if binary:
        diff = abs(_wmean(v[treat], w[treat]) - _wmean(v[~treat], w[~treat]))
        return diff, diff
    signed = np.where(treat, w / sw_t, -w / sw_c)
    order = np.argsort(v, kind="stable")
    xs = v[order]
    cum = np.abs(np.cumsum(signed[order]))
    last = np.append(xs[1:] != xs[:-1], True)
    ediff = cum[last]
    return float(ediff.mean()), float(ediff.max())


def _std_factor(v: np.ndarray, treat: np.ndarray, estimand: str, is_binary: bool) -> float:
    """Return the standardisation factor s*, computed on the unadjusted sample."""

    def sd(a: np.ndarray) -> float:
        if is_binary:
            p = a.mean() if len(a) else np.nan
            return float(np.sqrt(p * (1 - p)))
        return float(np.std(a, ddof=1)) if len(a) > 1 else np.nan

    if estimand == "ATT":
        return sd(v[treat])
    if estimand == "ATC":
        return sd(v[~treat])
    return float(np.sqrt((sd(v[treat]) ** 2 + sd(v[~treat]) ** 2) / 2))


def _wmean(v: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    return float(np.sum(w * v) / sw) if sw > 0 else np.nan


def _wvar(v: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    if sw <= 0:
        return np.nan
    m = np.sum(w * v) / sw
    denom = sw - np.sum(w**2) / sw
    return float(np.sum(w * (v - m) ** 2) / denom) if denom > 0 else np.nan
