"""The public entry point :func:`match` and its result :class:`MatchResult`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError, LowOverlapWarning, NoOverlapError
from evaluation.matching.balance import balance_table
from evaluation.matching.nearest import greedy_without_replacement, nearest_with_replacement
from evaluation.matching.score import fit_propensity
from evaluation.results import Estimate

__all__ = ["MatchResult", "match"]

_LATER_METHODS = ("exact", "cem", "mahalanobis")
_SCORE_DISTANCES = ("logit", "probit", "linear.logit", "linear.probit")
_M_ORDERS = ("largest", "smallest", "random", "data")
#: Share of treated units that may be dropped before a LowOverlapWarning.
LOW_OVERLAP_SHARE = 0.10


@dataclass(frozen=True)
class MatchResult:
    """Result of :func:`match`.

    Attributes
    ----------
    matched : pandas.DataFrame
        The kept rows of the input (original index and order) with a column
        ``weight`` and, for matching without replacement, ``subclass`` (the
        pair or set a unit belongs to, numbered 1, 2, ... in the order of the
        treated units in the input).
    balance : pandas.DataFrame
        Indexed by covariate: ``type, smd_before, smd_after, var_ratio_before,
        var_ratio_after`` (see :func:`evaluation.matching.balance_table`).
    propensity : pandas.Series
        The score aligned with the input: the fitted probability for
        ``distance="logit"``/``"probit"`` (and their ``linear.`` variants), or
        the user's column.
    distance : pandas.Series
        The quantity matched on (the probability, the linear predictor for
        ``"linear.*"``, or the user's column).
    n_dropped : dict
        Treated units left unmatched, by reason: ``no_exact_match`` (no control
        in their exact cell), ``no_match_within_caliper``, ``no_control_left``
        (matching without replacement ran out of controls).
    caliper : float or None
        The caliper in the units of ``distance`` (``caliper`` times the SD of the distance).
    replace : bool
        Whether controls were matched with replacement.
    ratio : int
        Controls per treated unit.
    treatment : str
        The treatment column.
    """

    matched: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.Series
    distance: pd.Series
    n_dropped: dict[str, int]
    caliper: float | None
    replace: bool
    ratio: int
    treatment: str
    info: dict[str, object] = field(default_factory=dict)

    def att(self, y: str, *, alpha: float = 0.05) -> Estimate:
        r"""Estimate the average treatment effect on the treated of outcome ``y``.

        The estimate is the weighted difference in means of ``y`` between
        matched treated and control units, i.e. the coefficient of the
        treatment in a weighted least-squares regression of ``y`` on an
        intercept and the treatment, as MatchIt's guide to estimating effects
        recommends. Standard errors are sandwich estimates of that regression:

        - without replacement: cluster-robust by ``subclass`` (pair), with the
          small-sample factor :math:`\frac{G}{G-1}\frac{n-1}{n-2}` (R's
          ``sandwich::vcovCL`` default, type HC1);
        - with replacement: HC3 heteroskedasticity-robust (R's
          ``sandwich::vcovHC(type = "HC3")``), since a control reused across
          pairs belongs to no single pair.

        p-values and intervals use the t-distribution with :math:`n - 2`
        degrees of freedom (``lmtest::coeftest``). The SEs treat the matching
        weights as fixed; Abadie-Imbens SEs that account for the matching step
        are not implemented.

        Parameters
        ----------
        y : str
            Outcome column of the input data.
        alpha : float
            1 minus the confidence level.

        Returns
        -------
        Estimate
            With ``n_treated``/``n_control`` the matched treated and distinct
            matched control units.
        """
        m = self.matched
        if y not in m.columns:
            raise EvaluationError(f"att: outcome column '{y}' is not in the data (columns are {list(m.columns)}).")
        if not pd.api.types.is_numeric_dtype(m[y]) and not pd.api.types.is_bool_dtype(m[y]):
            raise EvaluationError(f"att: outcome column '{y}' has type {m[y].dtype}; it must be numeric.")
        n_missing = int(m[y].isna().sum())
        if n_missing:
            raise EvaluationError(
                f"att: outcome column '{y}' is missing for {n_missing} matched row(s) "
                f"(first at index {m.index[m[y].isna().to_numpy()][0]!r}); impute or drop them before matching."
            )
        values = m[y].to_numpy(dtype=float)
        treat = m[self.treatment].to_numpy(dtype=float)
        w = m["weight"].to_numpy(dtype=float)
        x = np.column_stack([np.ones_like(treat), treat])
        xw = x * w[:, None]
        bread = np.linalg.inv(x.T @ xw)
        beta = bread @ (xw.T @ values)
        resid = values - x @ beta
        n = len(values)
        if self.replace or "subclass" not in m.columns:
            leverage = np.einsum("ij,jk,ik->i", x, bread, x) * w
            scores = x * (w * resid / (1.0 - leverage))[:, None]
            vcov = bread @ (scores.T @ scores) @ bread
        else:
            codes, levels = pd.factorize(m["subclass"], sort=True)
            g = len(levels)
            cluster_scores = np.zeros((g, 2))
            np.add.at(cluster_scores, codes, x * (w * resid)[:, None])
            factor = g / (g - 1) * (n - 1) / (n - 2) if g > 1 else np.nan
            vcov = factor * bread @ (cluster_scores.T @ cluster_scores) @ bread
        est = float(beta[1])
        se = float(np.sqrt(vcov[1, 1]))
        df = n - 2
        crit = stats.t.ppf(1 - alpha / 2, df)
        p_value = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 else np.nan
        return Estimate(
            estimate=est,
            se=se,
            ci_low=est - crit * se,
            ci_high=est + crit * se,
            n_treated=int(np.sum(treat == 1)),
            n_control=int(np.sum(treat == 0)),
            p_value=p_value,
        )


def match(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    method: Literal["nearest", "exact", "cem", "mahalanobis"] = "nearest",
    distance: str = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    exact: Sequence[str] | None = None,
    estimand: Literal["ATT", "ATC", "ATE"] = "ATT",
    random_state: int | np.random.Generator | None = 0,
    *,
    m_order: Literal["largest", "smallest", "random", "data"] | None = None,
    binary: Literal["raw", "std"] = "raw",
) -> MatchResult:
    r"""Match treated units to comparison units on a propensity score (nearest neighbour, 1:k).

    Follows R's MatchIt (``matchit(method = "nearest")``) in its conventions,
    and R's Matching in the handling of ties when matching with replacement.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit, with the treatment, the covariates, and any outcome.
    treatment : str
        Column coded 0/1 (or boolean); 1 marks the treated.
    covariates : sequence of str
        Covariates of the propensity model (linear terms with an intercept; the
        caller adds squares or interactions as columns; string or categorical
        columns enter as indicators) and of the balance table.
    method : {"nearest"}
        Only nearest-neighbour matching is implemented; ``"exact"``, ``"cem"``
        and ``"mahalanobis"`` raise :class:`EvaluationError` (planned in issue 3).
    distance : str
        ``"logit"`` or ``"probit"``: a GLM propensity score; matching, the
        caliper and ``m_order`` use the **probability** scale, as MatchIt's
        default ``distance = "glm"``. ``"linear.logit"`` / ``"linear.probit"``:
        the same model, matched on the linear predictor (MatchIt's
        ``link = "linear.logit"``; the scale Austin (2011) recommends for a
        0.2-SD caliper). Any other value names a numeric column of ``df``
        holding a score to match on.
    ratio : int
        Controls per treated unit (k >= 1).
    replace : bool
        Match with replacement (a control may serve several treated units).
    caliper : float or None
        Caliper in standard deviations of the distance measure (MatchIt's
        ``std.caliper = TRUE``): pairs farther apart than ``caliper * sd(distance)``
        are not formed, where the SD is the sample SD (n - 1) of the distance
        over all units. Treated units left without a match are dropped and counted.
    exact : sequence of str or None
        Columns to match exactly on: controls are only taken from the same cell
        of these columns.
    estimand : {"ATT"}
        Only the ATT is implemented; ``"ATC"`` and ``"ATE"`` raise :class:`EvaluationError`.
    random_state : int, numpy.random.Generator or None
        Seed for ``m_order="random"`` (the only random step).
    m_order : {"largest", "smallest", "random", "data"} or None
        Order in which treated units choose controls when matching without
        replacement. None means ``"largest"`` (highest score first), MatchIt's
        default for a propensity score. Irrelevant with replacement.
    binary : {"raw", "std"}
        Binary covariates in the balance table: raw differences in proportions
        (cobalt's default) or standardised.

    Returns
    -------
    MatchResult

    Raises
    ------
    EvaluationError
        A column is missing, the treatment is not binary, a covariate has
        missing values, or an option is invalid or not yet implemented.
    NoOverlapError
        No treated unit could be matched.

    Warns
    -----
    LowOverlapWarning
        More than 10 % of the treated units were left unmatched.

    Notes
    -----
    Weights follow MatchIt: a matched treated unit has weight 1; a control
    gets :math:`\sum_i 1/k_i` over the treated units :math:`i` it is matched
    to, with :math:`k_i` the number of controls matched to :math:`i`; the
    control weights are then rescaled to sum to the number of matched controls.
    Ties with replacement: controls within 1e-10 of the k-th nearest distance
    all count as matches and share the weight (R's Matching, ``ties = TRUE``);
    MatchIt instead picks one of them. Without replacement, ties in distance go
    to the control with the smaller score (MatchIt's rule).
    """
    covariates = list(covariates)
    exact = list(exact) if exact is not None else []
    _check_options(method, estimand, ratio, caliper, m_order, binary)
    _check_columns(df, treatment, covariates, exact, distance)
    treat = _binary_treatment(df, treatment)

    if distance in _SCORE_DISTANCES:
        link = "logit" if distance.endswith("logit") else "probit"
        fit_data = df[[treatment, *covariates]].assign(**{treatment: treat.astype(float)})
        propensity, linear = fit_propensity(fit_data, treatment, covariates, link=link)
        dist = linear if distance.startswith("linear.") else propensity
    else:
        propensity = df[distance].astype(float).rename("propensity")
        dist = propensity
    dist = dist.rename("distance")
    d = dist.to_numpy(dtype=float)

    caliper_abs = None if caliper is None else float(caliper * np.std(d, ddof=1))
    order_rule = m_order or "largest"
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)

    cells = pd.MultiIndex.from_frame(df[exact]).factorize(sort=True)[0] if exact else np.zeros(len(df), dtype=np.int64)
    idx_t_all = np.flatnonzero(treat == 1)
    pair_t: list[np.ndarray] = []
    pair_c: list[np.ndarray] = []
    dropped = {"no_exact_match": 0, "no_match_within_caliper": 0, "no_control_left": 0}
    for cell in np.unique(cells[idx_t_all]):
        in_cell = cells == cell
        it = np.flatnonzero(in_cell & (treat == 1))
        ic = np.flatnonzero(in_cell & (treat == 0))
        if len(ic) == 0:
            dropped["no_exact_match"] += len(it)
            continue
        if replace:
            tp, cp = nearest_with_replacement(d[it], d[ic], ratio, caliper_abs)
            no_control = np.zeros(len(it), dtype=bool)
        else:
            visit = _visit_order(d[it], order_rule, rng)
            tp, cp, no_control = greedy_without_replacement(d[it], d[ic], ratio, caliper_abs, visit)
        got = np.zeros(len(it), dtype=bool)
        got[tp] = True
        dropped["no_control_left"] += int(np.sum(~got & no_control))
        dropped["no_match_within_caliper"] += int(np.sum(~got & ~no_control))
        pair_t.append(it[tp])
        pair_c.append(ic[cp])
    n_dropped = {k: v for k, v in dropped.items() if v}

    pt = np.concatenate(pair_t) if pair_t else np.empty(0, dtype=np.int64)
    pc = np.concatenate(pair_c) if pair_c else np.empty(0, dtype=np.int64)
    if len(pt) == 0:
        raise NoOverlapError(
            f"match: none of the {len(idx_t_all)} treated units found a comparison unit ({n_dropped}); "
            "widen or remove the caliper, relax the exact-matching columns, or check the comparison pool."
        )
    n_lost = sum(n_dropped.values())
    if n_lost > LOW_OVERLAP_SHARE * len(idx_t_all):
        warnings.warn(
            f"match: {n_lost} of {len(idx_t_all)} treated units ({n_lost / len(idx_t_all):.1%}) were left "
            f"unmatched ({n_dropped}); the estimate describes the matched treated units only.",
            LowOverlapWarning,
            stacklevel=2,
        )

    weights = _matching_weights(len(df), pt, pc)
    matched = df.loc[weights > 0].copy()
    matched["weight"] = weights[weights > 0]
    if not replace:
        subclass = np.zeros(len(df), dtype=np.int64)
        matched_treated = np.unique(pt)  # sorted by row position = order in the input
        subclass[matched_treated] = np.arange(1, len(matched_treated) + 1)
        subclass[pc] = subclass[pt]
        matched["subclass"] = subclass[weights > 0]
    balance = balance_table(df, treatment, covariates, weights, estimand="ATT", binary=binary)
    return MatchResult(
        matched=matched,
        balance=balance,
        propensity=propensity,
        distance=dist,
        n_dropped=n_dropped,
        caliper=caliper_abs,
        replace=replace,
        ratio=ratio,
        treatment=treatment,
        info={"method": method, "distance": distance, "m_order": order_rule if not replace else None, "exact": exact},
    )


def _check_options(
    method: str, estimand: str, ratio: int, caliper: float | None, m_order: str | None, binary: str
) -> None:
    if method in _LATER_METHODS:
        raise EvaluationError(f"match: method='{method}' is not implemented yet (see issue 3); use method='nearest'.")
    if method != "nearest":
        raise EvaluationError(f"match: unknown method {method!r}; use 'nearest'.")
    if estimand in ("ATC", "ATE"):
        raise EvaluationError(f"match: estimand='{estimand}' is not yet supported; use estimand='ATT'.")
    if estimand != "ATT":
        raise EvaluationError(f"match: unknown estimand {estimand!r}; use 'ATT'.")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise EvaluationError(f"match: ratio must be a whole number >= 1, not {ratio!r}.")
    if caliper is not None and (not np.isfinite(caliper) or caliper <= 0):
        raise EvaluationError(
            f"match: caliper must be a positive number of standard deviations or None, not {caliper!r}."
        )
    if m_order is not None and m_order not in _M_ORDERS:
        raise EvaluationError(f"match: m_order must be one of {_M_ORDERS} or None, not {m_order!r}.")
    if binary not in ("raw", "std"):
        raise EvaluationError(f"match: binary must be 'raw' or 'std', not {binary!r}.")


def _check_columns(df: pd.DataFrame, treatment: str, covariates: list[str], exact: list[str], distance: str) -> None:
    needed = [treatment, *covariates, *exact]
    if distance not in _SCORE_DISTANCES:
        needed.append(distance)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        hint = f" ('{distance}' is neither a column nor one of {_SCORE_DISTANCES})" if distance in missing else ""
        raise EvaluationError(f"match: column(s) {missing} not in the data{hint}; columns are {list(df.columns)}.")
    for reserved in ("weight", "subclass"):
        if reserved in df.columns:
            raise EvaluationError(
                f"match: the data already have a column '{reserved}', which match() adds to the matched rows; "
                "rename it first."
            )
    if not covariates and distance in _SCORE_DISTANCES:
        raise EvaluationError("match: a propensity score needs at least one covariate.")
    check = [*covariates, *exact] + ([distance] if distance not in _SCORE_DISTANCES else [])
    for col in dict.fromkeys(check):
        n_missing = int(df[col].isna().sum())
        if n_missing:
            first = df.index[df[col].isna().to_numpy()][0]
            raise EvaluationError(
                f"match: covariate '{col}' is missing in {n_missing} of {len(df)} rows (first at index {first!r}); "
                "impute it or drop those rows (and count them) before matching."
            )
    if distance not in _SCORE_DISTANCES:
        if not pd.api.types.is_numeric_dtype(df[distance]):
            raise EvaluationError(
                f"match: distance column '{distance}' has type {df[distance].dtype}; it must be numeric."
            )
        if not np.all(np.isfinite(df[distance].to_numpy(dtype=float))):
            raise EvaluationError(f"match: distance column '{distance}' has non-finite values.")


def _binary_treatment(df: pd.DataFrame, treatment: str) -> np.ndarray:
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


def _visit_order(d_t: np.ndarray, rule: str, rng: np.random.Generator) -> np.ndarray:
    if rule == "largest":
        return np.argsort(-d_t, kind="stable")
    if rule == "smallest":
        return np.argsort(d_t, kind="stable")
    if rule == "random":
        return rng.permutation(len(d_t))
    return np.arange(len(d_t))


def _matching_weights(n: int, pair_t: np.ndarray, pair_c: np.ndarray) -> np.ndarray:
    """MatchIt's weights from the list of matched pairs (see :func:`match`, Notes)."""
    k = np.bincount(pair_t, minlength=n).astype(float)
    weights = np.zeros(n)
    weights[np.unique(pair_t)] = 1.0
    control_w = np.bincount(pair_c, weights=1.0 / k[pair_t], minlength=n)
    controls = np.unique(pair_c)
    weights[controls] = control_w[controls] * len(controls) / control_w[controls].sum()
    return weights
