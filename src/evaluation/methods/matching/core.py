"""The public entry point :func:`match`: nearest-neighbour, Mahalanobis, exact and coarsened exact matching."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import LowOverlapWarning, NoOverlapError
from evaluation.methods.matching.balance import BALANCE_COLUMNS, balance_table
from evaluation.methods.matching.checks import SCORE_DISTANCES, binary_treatment, check_columns, check_options
from evaluation.methods.matching.mahalanobis import (
    mahalanobis_greedy,
    mahalanobis_matrix,
    mahalanobis_transform,
    mahalanobis_with_replacement,
    matchit_sort_key,
)
from evaluation.methods.matching.nearest import greedy_without_replacement, nearest_with_replacement
from evaluation.methods.matching.result import MatchResult
from evaluation.methods.matching.score import fit_propensity
from evaluation.methods.matching.subclass import Cutpoint, coarsen, exact_strata, stratum_weights

__all__ = ["MatchResult", "common_support", "match"]

#: Share of focal units that may be dropped before a LowOverlapWarning.
LOW_OVERLAP_SHARE = 0.10


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
    binary: Literal["raw", "std"] = "std",
    mahvars: Sequence[str] | None = None,
    discard: Literal["none", "both", "control", "treated"] = "none",
    cutpoints: Mapping[str, Cutpoint] | Cutpoint | None = None,
    score_solver: Literal["irls", "newton"] = "irls",
    balance: bool = True,
) -> MatchResult:
    r"""Match treated and comparison units, with MatchIt's conventions.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit, with the treatment, the covariates, and any outcome.
    treatment : str
        Column coded 0/1 (or boolean); 1 marks the treated.
    covariates : sequence of str
        Covariates of the propensity model (linear terms with an intercept; the
        caller adds squares or interactions as columns; string or categorical
        columns enter as indicators), of exact / coarsened exact matching, of
        the Mahalanobis distance (unless ``mahvars`` is given) and of the
        balance table.
    method : {"nearest", "exact", "cem", "mahalanobis"}
        ``"nearest"``: greedy nearest-neighbour matching (1:k) on ``distance``
        (MatchIt's ``method = "nearest"``). ``"mahalanobis"``: nearest-neighbour
        matching on the Mahalanobis distance of ``mahvars`` (default: the
        covariates); with a score ``distance`` the score serves only for the
        caliper, ``discard`` and ``m_order`` (MatchIt's ``mahvars``: Mahalanobis
        matching within propensity-score calipers, Rosenbaum & Rubin 1985);
        with ``distance="mahalanobis"`` no score is fitted. ``"exact"``: strata
        of identical covariate values (MatchIt's ``method = "exact"``).
        ``"cem"``: coarsened exact matching (Iacus, King & Porro 2012), see
        :mod:`evaluation.methods.matching.subclass`.
    distance : str
        ``"logit"`` / ``"probit"``: a GLM propensity score on the probability
        scale (MatchIt's default ``distance = "glm"``); ``"linear.logit"`` /
        ``"linear.probit"``: the linear predictor; ``"mahalanobis"``: the
        Mahalanobis distance of the covariates (MatchIt's ``distance =
        "mahalanobis"``; same as ``method="mahalanobis"`` without a score); any
        other value names a numeric column of ``df`` holding a score. Exact and
        coarsened exact matching use a score only for ``discard``.
    ratio : int
        Controls per treated unit (k >= 1) for nearest-neighbour methods.
    replace : bool
        Match with replacement (a control may serve several treated units).
    caliper : float or None
        Caliper in standard deviations of the score (MatchIt's ``std.caliper =
        TRUE``): pairs whose scores differ by more than ``caliper * sd(score)``
        are not formed, with the sample SD (n - 1) over the units not discarded.
        Focal units left without a match are dropped and counted.
    exact : sequence of str or None
        Columns to match exactly on: matches only within the same cell (for
        ``"cem"``, columns added to the strata without coarsening).
    estimand : {"ATT", "ATC", "ATE"}
        ATT (treated are focal) or ATC (controls are focal; equivalent to
        swapping the labels) for nearest-neighbour methods; ATT, ATC or ATE for
        exact and coarsened exact matching, as MatchIt allows.
    random_state : int, numpy.random.Generator or None
        Seed for ``m_order="random"`` (the only random step).
    m_order : {"largest", "smallest", "random", "data"} or None
        Order in which focal units choose matches without replacement. None
        means ``"largest"`` score first for the ATT, ``"smallest"`` for the ATC,
        and ``"data"`` without a score, as MatchIt.
    binary : {"std", "raw"}
        Binary covariates in the balance table: standardised like the others, as
        MatchIt's ``summary()`` (the default: every ``smd_*`` is then a standardised
        mean difference), or raw differences in proportions, as cobalt's ``bal.tab()``.
    mahvars : sequence of str or None
        Covariates of the Mahalanobis distance. Giving them with
        ``method="nearest"`` and a score distance means Mahalanobis matching
        within the score caliper, as MatchIt's ``mahvars``.
    discard : {"none", "both", "control", "treated"}
        Common-support trimming on the score before matching (MatchIt's
        ``discard``): ``"both"`` drops units of either group outside the range
        of the score in the other group, ``"control"`` only controls outside
        the treated range, ``"treated"`` only treated outside the control range.
        The score is not re-estimated afterwards (``reestimate = FALSE``).
    cutpoints : mapping, str, int, sequence or None
        CEM coarsening per covariate (see :func:`evaluation.methods.matching.subclass.coarsen`);
        default Sturges bins.
    score_solver : {"irls", "newton"}
        How a logit score is fitted (:func:`evaluation.methods.matching.score.fit_propensity`): statsmodels' IRLS
        (default, as R's ``glm``) or Newton-Raphson (the same maximum, faster on large samples); a probit
        score is always fitted by IRLS.
    balance : bool
        Compute the balance table (default). False leaves :attr:`MatchResult.balance` empty, for callers that
        match many times and read only the matches (the placebo designs of randomization inference).

    Returns
    -------
    MatchResult

    Raises
    ------
    EvaluationError
        A column is missing, the treatment is not binary, a covariate has
        missing values, or an option or combination of options is invalid.
    NoOverlapError
        No focal unit could be matched.

    Warns
    -----
    LowOverlapWarning
        More than 10 % of the focal units were left unmatched.

    Notes
    -----
    Nearest-neighbour weights follow MatchIt: a matched focal unit has weight
    1; a matched unit of the other group gets :math:`\sum_i 1/k_i` over the
    focal units :math:`i` it is matched to, with :math:`k_i` the number of
    matches of :math:`i`, rescaled to sum to the number of matched units of
    that group. Each focal unit gets exactly ``ratio`` matches (fewer only
    when the caliper, an exact cell or, without replacement, the pool runs
    out), and equally distant candidates are decided as MatchIt decides them:
    by the units' positions in MatchIt's sort (by score, or by MatchIt's
    first transformed Mahalanobis coordinate), see
    :mod:`evaluation.methods.matching.nearest` and :mod:`evaluation.methods.matching.mahalanobis`.
    On Lalonde's data the matched units equal those of MatchIt's own snapshot
    tests (``tests/test_matching_lalonde.py``). Exact and CEM weights are
    MatchIt's stratum weights (:func:`evaluation.methods.matching.subclass.stratum_weights`).
    """
    covariates = list(covariates)
    exact = list(exact) if exact is not None else []
    if distance == "mahalanobis":
        method = "mahalanobis" if method == "nearest" else method
    mahvars_l = list(mahvars) if mahvars is not None else None
    check_options(method, distance, estimand, ratio, caliper, m_order, binary, discard)
    uses_mahalanobis = method == "mahalanobis" or mahvars_l is not None
    check_columns(df, treatment, covariates, [*exact, *(mahvars_l or [])], distance, needs_covariate=True)
    treat = binary_treatment(df, treatment)

    wants_score = distance != "mahalanobis" and (method in ("nearest", "mahalanobis") or discard != "none")
    propensity, dist = _score(df, treatment, covariates, distance, treat, wants_score, score_solver)
    d = dist.to_numpy(dtype=float)
    keep = ~common_support(d, treat, discard) if wants_score else np.ones(len(df), dtype=bool)
    n_discarded = {"treated": int(np.sum(~keep & (treat == 1))), "control": int(np.sum(~keep & (treat == 0)))}
    focal = 0 if estimand == "ATC" else 1
    info: dict[str, object] = {
        "method": method,
        "distance": distance,
        "estimand": estimand,
        "exact": exact,
        "mahvars": (mahvars_l or covariates) if uses_mahalanobis else None,
        "discard": discard,
        "discarded": n_discarded,
        "n_input": {"treated": int(np.sum(treat == 1)), "control": int(np.sum(treat == 0))},
    }

    if method in ("exact", "cem"):
        cols = [*covariates, *[c for c in exact if c not in covariates]]
        if method == "cem":
            rules = _cem_rules(cutpoints, covariates, exact)
            cells, breaks = coarsen(df, cols, rules, keep=keep)
            info["cutpoints"] = breaks
        else:
            cells = df[cols]
        stratum = exact_strata(cells, treat, keep)
        if not (stratum > 0).any():
            raise NoOverlapError(
                f"match: no {method} stratum holds both treated and control units; "
                + (
                    "coarsen further (fewer bins) or use fewer covariates."
                    if method == "cem"
                    else "use fewer covariates or method='cem'."
                )
            )
        weights = stratum_weights(stratum, treat, estimand)
        in_focal = np.ones(len(df), dtype=bool) if estimand == "ATE" else treat == focal
        dropped = {
            "discarded": int(np.sum(in_focal & ~keep)),
            "no_exact_match": int(np.sum(in_focal & keep & (stratum == 0))),
        }
        subclass = stratum
        info.update(se_type="HC3", m_order=None)
        replace_used, ratio_used = False, 1
    else:
        caliper_abs = None if caliper is None else float(caliper * np.std(d[keep], ddof=1))
        has_score = distance != "mahalanobis"
        order_rule = m_order or (("smallest" if estimand == "ATC" else "largest") if has_score else "data")
        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        z = sort_key = None
        if uses_mahalanobis:
            x_mah = mahalanobis_matrix(df, mahvars_l or covariates)
            z = mahalanobis_transform(x_mah, treat, keep)
            sort_key = matchit_sort_key(z)
            if not has_score and z.shape[1] == 1:
                # MatchIt matches a single Mahalanobis coordinate as a score (nn_matchC_vec), with its tie rules
                d, z = z[:, 0].copy(), None
        is_focal = treat == focal
        pf, po, dropped = _nearest(
            d, z, sort_key, is_focal, keep, exact, df, ratio, replace, caliper_abs, order_rule, rng
        )
        dropped["discarded"] = int(np.sum(is_focal & ~keep))
        weights = _matching_weights(len(df), pf, po)
        subclass = None
        if not replace:
            subclass = np.zeros(len(df), dtype=np.int64)
            matched_focal = np.unique(pf)
            subclass[matched_focal] = np.arange(1, len(matched_focal) + 1)
            subclass[po] = subclass[pf]
        info.update(se_type="HC3" if replace else "cluster", m_order=None if replace else order_rule)
        replace_used, ratio_used = replace, ratio
        if len(pf) == 0:
            raise NoOverlapError(
                f"match: none of the {int(is_focal.sum())} focal units found a match ({_nonzero(dropped)}); "
                "widen or remove the caliper, relax the exact-matching columns, or check the comparison pool."
            )

    n_dropped = _nonzero(dropped)
    n_focal = len(df) if estimand == "ATE" else int(np.sum(treat == focal))
    n_lost = sum(n_dropped.values())
    if n_lost > LOW_OVERLAP_SHARE * n_focal:
        warnings.warn(
            f"match: {n_lost} of {n_focal} focal units ({n_lost / n_focal:.1%}) were left unmatched "
            f"({n_dropped}); the estimate describes the matched units only.",
            LowOverlapWarning,
            stacklevel=2,
        )
    matched = df.loc[weights > 0].copy()
    matched["weight"] = weights[weights > 0]
    if subclass is not None:
        matched["subclass"] = subclass[weights > 0]
    if balance:
        table = balance_table(df, treatment, covariates, weights, estimand=estimand, binary=binary)
    else:
        table = pd.DataFrame(columns=BALANCE_COLUMNS, index=pd.Index([], name="covariate"))
    return MatchResult(
        matched=matched,
        balance=table,
        propensity=propensity,
        distance=dist,
        n_dropped=n_dropped,
        caliper=None if method in ("exact", "cem") else caliper_abs,
        replace=replace_used,
        ratio=ratio_used,
        treatment=treatment,
        info=info,
    )


def common_support(score: np.ndarray, treat: np.ndarray, discard: str) -> np.ndarray:
    """Flag units outside the common support of the score (MatchIt's ``discard``).

    Parameters
    ----------
    score : numpy.ndarray
        Propensity score (or any monotone transform of it).
    treat : numpy.ndarray
        0/1 treatment.
    discard : {"none", "both", "control", "treated"}
        Which group is trimmed to the range of the other.

    Returns
    -------
    numpy.ndarray of bool
        True for discarded units.
    """
    t, c = score[treat == 1], score[treat == 0]
    if discard == "none":
        return np.zeros(len(score), dtype=bool)
    if discard == "both":
        return (score < max(t.min(), c.min())) | (score > min(t.max(), c.max()))
    if discard == "control":
        return (treat == 0) & ((score < t.min()) | (score > t.max()))
    return (treat == 1) & ((score < c.min()) | (score > c.max()))


def _score(
    df: pd.DataFrame,
    treatment: str,
    covariates: list[str],
    distance: str,
    treat: np.ndarray,
    wanted: bool,
    solver: Literal["irls", "newton"] = "irls",
) -> tuple[pd.Series, pd.Series]:
    if wanted and distance in SCORE_DISTANCES:
        link: Literal["logit", "probit"] = "logit" if distance.endswith("logit") else "probit"
        fit_data = df[[treatment, *covariates]].assign(**{treatment: treat.astype(float)})
        solver = solver if link == "logit" else "irls"  # Newton-Raphson is written for the logit
        propensity, linear = fit_propensity(fit_data, treatment, covariates, link=link, solver=solver)
        dist = linear if distance.startswith("linear.") else propensity
        return propensity, dist.rename("distance")
    if wanted:
        propensity = df[distance].astype(float).rename("propensity")
        return propensity, propensity.rename("distance")
    empty = pd.Series(np.nan, index=df.index, dtype=float)
    return empty.rename("propensity"), empty.rename("distance")


def _cem_rules(
    cutpoints: Mapping[str, Cutpoint] | Cutpoint | None, covariates: list[str], exact: list[str]
) -> dict[str, Cutpoint]:
    if isinstance(cutpoints, Mapping):
        rules = dict(cutpoints)
    elif cutpoints is None:
        rules = {}
    else:
        rules = dict.fromkeys(covariates, cutpoints)
    for col in exact:
        rules[col] = 0
    return rules


def _nearest(
    d: np.ndarray,
    z: np.ndarray | None,
    sort_key: np.ndarray | None,
    is_focal: np.ndarray,
    keep: np.ndarray,
    exact: list[str],
    df: pd.DataFrame,
    ratio: int,
    replace: bool,
    caliper: float | None,
    order_rule: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Match focal units to the others within exact cells; return pairs (positions) and drop counts.

    Ties are broken by the units' positions in MatchIt's sort: by score over all
    units for score matching, by :func:`matchit_sort_key` within each exact cell
    for Mahalanobis matching (MatchIt matches each cell separately there).
    """
    cells = pd.MultiIndex.from_frame(df[exact]).factorize(sort=True)[0] if exact else np.zeros(len(d), dtype=np.int64)
    rank = _ranks(d) if z is None else np.zeros(len(d), dtype=np.int64)
    pair_f: list[np.ndarray] = []
    pair_o: list[np.ndarray] = []
    dropped = {"no_exact_match": 0, "no_match_within_caliper": 0, "no_control_left": 0}
    focal_kept = is_focal & keep
    for cell in np.unique(cells[focal_kept]):
        in_cell = cells == cell
        it = np.flatnonzero(in_cell & focal_kept)
        ic = np.flatnonzero(in_cell & ~is_focal & keep)
        if len(ic) == 0:
            dropped["no_exact_match"] += len(it)
            continue
        if z is not None and sort_key is not None:
            members = np.flatnonzero(in_cell)
            rank[members] = _ranks(sort_key[members])
        rt, rc = rank[it], rank[ic]
        if replace:
            no_control = np.zeros(len(it), dtype=bool)
            if z is None:
                tp, cp = nearest_with_replacement(d[it], d[ic], ratio, caliper, rt, rc)
            else:
                tp, cp = mahalanobis_with_replacement(z[it], z[ic], ratio, d[it], d[ic], caliper, rt, rc)
        else:
            visit = _visit_order(d[it], order_rule, rng)
            if z is None:
                tp, cp, no_control = greedy_without_replacement(d[it], d[ic], ratio, caliper, visit, rt, rc)
            else:
                tp, cp, no_control = mahalanobis_greedy(z[it], z[ic], ratio, visit, d[it], d[ic], caliper, rt, rc)
        got = np.zeros(len(it), dtype=bool)
        got[tp] = True
        dropped["no_control_left"] += int(np.sum(~got & no_control))
        dropped["no_match_within_caliper"] += int(np.sum(~got & ~no_control))
        pair_f.append(it[tp])
        pair_o.append(ic[cp])
    pf = np.concatenate(pair_f) if pair_f else np.empty(0, dtype=np.int64)
    po = np.concatenate(pair_o) if pair_o else np.empty(0, dtype=np.int64)
    return pf, po, dropped


def _ranks(values: np.ndarray) -> np.ndarray:
    """Positions of the values in a stable sort (ties in data order), as R's ``order()``."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank


def _visit_order(d_t: np.ndarray, rule: str, rng: np.random.Generator) -> np.ndarray:
    if rule == "largest":
        return np.argsort(-d_t, kind="stable")
    if rule == "smallest":
        return np.argsort(d_t, kind="stable")
    if rule == "random":
        return rng.permutation(len(d_t))
    return np.arange(len(d_t))


def _matching_weights(n: int, pair_f: np.ndarray, pair_o: np.ndarray) -> np.ndarray:
    """MatchIt's weights from the list of matched pairs (see :func:`match`, Notes)."""
    k = np.bincount(pair_f, minlength=n).astype(float)
    weights = np.zeros(n)
    weights[np.unique(pair_f)] = 1.0
    other_w = np.bincount(pair_o, weights=1.0 / k[pair_f], minlength=n)
    others = np.unique(pair_o)
    weights[others] = other_w[others] * len(others) / other_w[others].sum()
    return weights


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}
