r"""Exact and coarsened exact matching: strata and MatchIt's stratum weights.

Exact matching (MatchIt's ``method = "exact"``) puts units with identical values
of the covariates into one stratum; coarsened exact matching (CEM; Iacus, King &
Porro 2012, *Political Analysis* 20(1), 1-24) first coarsens each numeric
covariate into bins, then matches exactly on the bins. Strata that hold units of
only one group are dropped.

Coarsening follows MatchIt's in-house ``cem_matchit`` (which follows the ``cem``
package except that a number means a number of *bins*):

- default ``"sturges"``: :math:`k = \lceil \log_2 n + 1 \rceil` equal-width bins
  between the minimum and the maximum of the covariate over the :math:`n`
  units used (R's ``nclass.Sturges``); the outer bin edges are open
  (:math:`-\infty, +\infty`);
- an integer :math:`k`: :math:`k` equal-width bins; ``0`` means no coarsening
  (exact on the raw values);
- a sequence of numbers: the interior cut points; bins are
  :math:`[c_j, c_{j+1})` (R's ``findInterval``), with :math:`-\infty` and
  :math:`+\infty` added at the ends;
- ``"q<k>"``: the :math:`k`-quantile cut points (e.g. ``"q4"`` for quartiles).

Non-numeric and boolean covariates are matched exactly on their values.

Weights are MatchIt's ``get_weights_from_subclass``: with :math:`n_{1s}, n_{0s}`
the treated and control units of stratum :math:`s`,

- ATT: treated weight 1; control weight :math:`n_{1s}/n_{0s}`, rescaled so the
  control weights sum to the number of matched controls;
- ATC: control weight 1; treated weight :math:`n_{0s}/n_{1s}`, rescaled to sum
  to the number of matched treated;
- ATE: treated :math:`(n_{1s}+n_{0s})/n_{1s}` and control
  :math:`(n_{1s}+n_{0s})/n_{0s}`, each group rescaled to sum to its matched count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["coarsen", "exact_strata", "stratum_weights"]

Cutpoint = str | int | Sequence[float]


def coarsen(
    df: pd.DataFrame,
    covariates: Sequence[str],
    cutpoints: Mapping[str, Cutpoint] | Cutpoint | None = None,
    *,
    keep: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict[str, list[float] | None]]:
    """Coarsen numeric covariates into bins as MatchIt's CEM does.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    covariates : sequence of str
        Covariates to coarsen (non-numeric ones are returned unchanged).
    cutpoints : mapping, str, int, sequence or None
        One rule for all numeric covariates, or a mapping from covariate to
        rule (covariates not named get ``"sturges"``). See the module docstring.
    keep : numpy.ndarray of bool, optional
        Units whose values define the bins (the units not discarded); all by default.

    Returns
    -------
    coarsened : pandas.DataFrame
        Bin numbers (0-based) for numeric covariates, raw values otherwise.
    breaks : dict
        The interior cut points used per covariate (None when not coarsened).
    """
    keep = np.ones(len(df), dtype=bool) if keep is None else keep
    rules: Mapping[str, Cutpoint]
    if cutpoints is None:
        rules = {}
    elif isinstance(cutpoints, Mapping):
        unknown = [c for c in cutpoints if c not in covariates]
        if unknown:
            raise EvaluationError(
                f"cem: cutpoints name {unknown}, which are not among the covariates {list(covariates)}."
            )
        rules = cutpoints
    else:
        rules = dict.fromkeys(covariates, cutpoints)
    out = {}
    breaks: dict[str, list[float] | None] = {}
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            out[col] = s.to_numpy()
            breaks[col] = None
            continue
        x = s.to_numpy(dtype=float)
        interior = _interior_breaks(col, x[keep], rules.get(col, "sturges"))
        breaks[col] = None if interior is None else [float(b) for b in interior]
        out[col] = x if interior is None else np.searchsorted(interior, x, side="right")
    return pd.DataFrame(out, index=df.index), breaks


def _interior_breaks(col: str, x: np.ndarray, rule: Cutpoint) -> np.ndarray | None:
    if isinstance(rule, str):
        if rule == "sturges":
            bins = math.ceil(math.log2(len(x)) + 1) if len(x) > 0 else 1
        elif rule.startswith("q") and rule[1:].isdigit() and int(rule[1:]) >= 1:
            q = int(rule[1:])
            probs = np.arange(1, q) / q
            # R's quantile type 7 is numpy's default "linear"
            return np.unique(np.quantile(x, probs))
        else:
            raise EvaluationError(
                f"cem: cutpoints for '{col}' must be 'sturges', 'q<k>', a number of bins or a list of cut points, "
                f"not {rule!r}."
            )
    elif isinstance(rule, (int, np.integer)) and not isinstance(rule, bool):
        if rule < 0:
            raise EvaluationError(f"cem: the number of bins for '{col}' must be >= 0, not {rule}.")
        if rule == 0:
            return None
        bins = int(rule)
    else:
        try:
            cuts = np.asarray(rule, dtype=float)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(f"cem: cut points for '{col}' must be numbers, not {rule!r}.") from exc
        if cuts.ndim != 1 or not np.all(np.isfinite(cuts)):
            raise EvaluationError(f"cem: cut points for '{col}' must be a flat list of finite numbers.")
        return np.unique(cuts)
    if bins == 1:
        return np.empty(0)
    edges = np.linspace(x.min(), x.max(), bins + 1)
    return edges[1:-1]


def exact_strata(cells: pd.DataFrame, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Give a number to each cell that holds both treated and control units among the kept units.

    Parameters
    ----------
    cells : pandas.DataFrame
        Values (or bins) to match exactly on.
    treat : numpy.ndarray
        0/1 treatment.
    keep : numpy.ndarray of bool
        Units taking part (not discarded).

    Returns
    -------
    numpy.ndarray of int
        Stratum 1, 2, ... (numbered in the order in which strata first appear
        among the treated units), 0 for units in no stratum.
    """
    if cells.shape[1] == 0:
        codes = np.zeros(len(cells), dtype=np.int64)
    else:
        codes = pd.MultiIndex.from_frame(cells.astype(object)).factorize()[0]
    n_codes = int(codes.max()) + 1 if len(codes) else 0
    has_t = np.bincount(codes[keep & (treat == 1)], minlength=n_codes) > 0
    has_c = np.bincount(codes[keep & (treat == 0)], minlength=n_codes) > 0
    both = has_t & has_c
    first_seen = pd.unique(codes[keep & (treat == 1)])
    number = np.zeros(n_codes, dtype=np.int64)
    ordered = [c for c in first_seen if both[c]]
    number[np.asarray(ordered, dtype=np.int64)] = np.arange(1, len(ordered) + 1)
    stratum = number[codes]
    stratum[~keep] = 0
    return stratum


def stratum_weights(stratum: np.ndarray, treat: np.ndarray, estimand: str) -> np.ndarray:
    """MatchIt's weights from strata (see the module docstring).

    Parameters
    ----------
    stratum : numpy.ndarray of int
        Stratum per unit, 0 for none.
    treat : numpy.ndarray
        0/1 treatment.
    estimand : {"ATT", "ATC", "ATE"}
        Target population.

    Returns
    -------
    numpy.ndarray
        Weights, 0 for units in no stratum.
    """
    in_s = stratum > 0
    n_s = int(stratum.max()) + 1 if len(stratum) else 1
    n1 = np.bincount(stratum[in_s & (treat == 1)], minlength=n_s).astype(float)
    n0 = np.bincount(stratum[in_s & (treat == 0)], minlength=n_s).astype(float)
    w = np.zeros(len(stratum))
    i1, i0 = in_s & (treat == 1), in_s & (treat == 0)
    if estimand == "ATT":
        w[i1] = 1.0
        w[i0] = _sum_to_n(n1[stratum[i0]] / n0[stratum[i0]])
    elif estimand == "ATC":
        w[i0] = 1.0
        w[i1] = _sum_to_n(n0[stratum[i1]] / n1[stratum[i1]])
    else:
        total = n1 + n0
        w[i1] = _sum_to_n(total[stratum[i1]] / n1[stratum[i1]])
        w[i0] = _sum_to_n(total[stratum[i0]] / n0[stratum[i0]])
    return w


def _sum_to_n(w: np.ndarray) -> np.ndarray:
    return w * len(w) / w.sum() if len(w) else w
