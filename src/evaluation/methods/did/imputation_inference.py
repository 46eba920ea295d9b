r"""Few-cluster inference for the imputation estimator: restricted wild cluster bootstrap and randomization.

Both work on the linearity of the estimator, :math:`\hat\tau = \sum_i v_i Y_i`
(:mod:`evaluation.methods.did.imputation`); the weights :math:`v` depend only on who is treated, not on the
outcome.

Restricted wild cluster bootstrap (:func:`restricted_wild_bootstrap`)
    For a hypothesised effect :math:`\tau_0` the model is refitted with the effect imposed: the untreated model on
    all untreated rows and the treated rows of the estimand, whose outcome is :math:`Y - \tau_0`. Its residuals
    :math:`\tilde u(\tau_0)` are linear in :math:`\tau_0`. A bootstrap sample :math:`Y^* = \text{restricted fit} +
    \tau_0 D + \tilde u \odot r_{c(i)}` with one weight :math:`r_c` per cluster (Rademacher, or Webb's six points
    with few treated clusters) gives exactly :math:`\hat\tau^* - \tau_0 = \sum_c r_c s_c(\tau_0)` with :math:`s_c =
    \sum_{i \in c} v_i \tilde u_i`, so every draw costs one product of length :math:`G`. The test is studentised
    (the "WCR-t" of Cameron, Gelbach and Miller 2008, as Stata ``boottest``'s default): each draw's statistic is
    divided by the BJS standard error of its own bootstrap sample. That standard error is linear in the weights too:
    every part of it (the untreated fit's residuals, the treated rows' deviations from their reference means,
    leave-out or not) is a linear map of :math:`Y^*` that removes the restricted fit and the constant effect, so it
    equals :math:`\lVert B(\tau_0) r \rVert` with a :math:`G \times G` matrix :math:`B`, linear in :math:`\tau_0`,
    built once from cluster-level sums. The p-value of :math:`\tau_0` is the share of draws with :math:`|t^*| \ge
    |\hat\tau - \tau_0| / \widehat{se}`, and the interval collects the :math:`\tau_0` that are not rejected (test
    inversion by bisection, the draws held fixed, as ``boottest``). Studentising matters here: the BJS standard
    error is conservative when effects vary, and without it the bootstrap interval over-covered (the Monte Carlo of
    ``docs/design-validation.md``). Leave-out residuals matter too: without them a cohort of one municipality moves
    the draws but not their standard errors, the draws' tails grow, and the Monte Carlo's critical values were about
    2.6 with 17 adopters; with them they are about 2.0 (``did_imputation(..., leave_out=True)``).
Randomization inference (:func:`imputation_randomization`)
    The adoption years are reassigned across clusters (units), every assignment distinct when they are
    few (:func:`evaluation.methods.inference.randomization.randomization_inference`), and the estimator
    recomputed. The interval inverts the test of a constant effect :math:`\tau_0`: by linearity,
    :math:`\hat\tau_b(Y - \tau_0 D_{obs}) = a_b - \tau_0 c_b` with :math:`a_b = \hat\tau_b(Y)` and
    :math:`c_b = \hat\tau_b(D_{obs})` (Imbens and Rubin 2015, ch. 5). On a matched sample the placebos
    reuse the real adopters' matched comparison children, so a placebo municipality's "treated" rows are the
    few of them who live there and its estimate is noisier than an adopter's: the test stays valid but is very
    conservative. The headline therefore redoes the matching for every reassignment and studentises
    (:mod:`evaluation.steps.design_randomization`, with :func:`randomization_interval` and :func:`applied_att`);
    this function remains for municipality-level outcomes and for ``inference.redesign: false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from evaluation.errors import EvaluationError
from evaluation.methods.did.imputation import ImputationResult, _Fit, _Reference
from evaluation.methods.inference.inversion import invert_test
from evaluation.results import TidyResult, tidy_attributes

__all__ = [
    "FewClusterInterval",
    "applied_att",
    "event_study_bootstrap",
    "few_cluster_inference",
    "invert_test",
    "imputation_randomization",
    "randomization_interval",
    "restricted_wild_bootstrap",
]

_TIE_TOL = 1e-10


@dataclass(frozen=True)
class FewClusterInterval(TidyResult):
    """A p-value and interval from a few-cluster method; ``tidy()`` has one row, the ATT.

    Attributes
    ----------
    estimate, p_value, ci_low, ci_high : float
        The ATT, the p-value of zero effect and the interval (infinite ends when the test cannot reject).
    method : str
        ``"wild_cluster_bootstrap"`` or ``"randomization_inference"``.
    draws : int
        Bootstrap draws or reassignments.
    exact : bool
        Whether the draws enumerate every possibility.
    """

    estimate: float
    p_value: float
    ci_low: float
    ci_high: float
    method: str
    draws: int
    exact: bool

    def tidy(self) -> pd.DataFrame:
        """Return one row ``"ATT"``: the estimate with the method's p-value and interval.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, method, draws, exact`` (``se`` NaN: the method
            gives none).
        """
        names = ("estimate", "ci_low", "ci_high", "p_value", "method", "draws", "exact")
        return tidy_attributes(self, "ATT", names)

    def _heading(self) -> str:
        draws = f"all {self.draws} draws" if self.exact else f"{self.draws} draws"
        return f"Few-cluster inference: {self.method.replace('_', ' ')}, {draws}"


def _restricted_residuals(design: Any, fit: _Fit, rows_t: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, ...]:
    """Restricted residuals of ``Y`` and of ``D`` over the training rows then ``rows_t`` (linear in tau_0).

    ``fit`` is the untreated fit; ``rows_t`` and ``a`` the rows and weights of the estimand. The restricted
    model is the untreated model fitted on both sets with the effect imposed on ``rows_t``.
    """
    train = fit.rows
    both = np.concatenate([train, rows_t])
    extra = _Fit.parts_of(design, rows_t)
    full = _Fit.on(design, both, tuple(a + b for a, b in zip(fit.parts, extra, strict=True)))
    d_vec = np.concatenate([np.zeros(len(train)), np.ones(len(rows_t))])
    return tuple(values - full.predict(values, both) for values in (design.y[both], d_vec))


def _untreated_weights(design: Any, fit: _Fit, rows_t: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""Return the weights :math:`v_j` of the training rows in the estimator :math:`\sum_j v_j Y_j`."""
    d, train = design, fit.rows
    a_unit = np.bincount(d.unit[rows_t], weights=a, minlength=d.n_units)
    q = d.group_sums(a, rows_t, None, 1)[0] - fit.unit_mean_z.T @ a_unit
    r = fit.ginv @ q
    safe = np.where(fit.unit_weight > 0, fit.unit_weight, 1.0)
    m = d.unit[train]
    return -d.w[train] * (a_unit[m] / safe[m] + d.zb(train, r) - (fit.unit_mean_z @ r)[m])


def _cluster_scores(
    design: Any, fit: _Fit, rows_t: np.ndarray, a: np.ndarray, *residuals: np.ndarray, v_train: np.ndarray | None = None
) -> tuple:
    """Cluster sums ``s_c = sum v_i u_i`` of each residual vector (over the training rows, then ``rows_t``).

    ``v_train`` (:func:`_untreated_weights` of the same arguments) saves computing the weights again.
    """
    v_train = _untreated_weights(design, fit, rows_t, a) if v_train is None else v_train
    v = np.concatenate([v_train, a])
    cluster = design.cluster[np.concatenate([fit.rows, rows_t])]
    return tuple(np.bincount(cluster, weights=v * u, minlength=design.n_clusters) for u in residuals)


def _restricted_scores(design: Any, fit: _Fit, rows_t: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster sums ``s_c = sum v_i u_i`` of the restricted residuals for ``Y`` and for ``D`` (linear in tau_0)."""
    return _cluster_scores(design, fit, rows_t, a, *_restricted_residuals(design, fit, rows_t, a))


def _score_matrices(
    design: Any,
    fit: _Fit,
    rows_t: np.ndarray,
    a: np.ndarray,
    ref: _Reference,
    *us: np.ndarray,
    v_train: np.ndarray | None = None,
) -> list[np.ndarray]:
    r"""Return, for each ``u``, the ``(G, G)`` matrix of BJS cluster-score vectors of ``u`` kept in one cluster each.

    Column ``c`` of the matrix is the score vector of ``u`` kept in cluster ``c``.
    Each ``u`` is a vector over the training rows then ``rows_t`` (a restricted residual), ``ref`` the
    reference groups of the rows of ``rows_t`` (:class:`evaluation.methods.did.imputation._Reference`). The
    variance estimator of a bootstrap sample with cluster weights ``r`` is ``|B r|^2`` (every part of it
    is linear in the outcome and blind to the restricted fit and a constant effect), so a studentised
    draw costs one ``G x G`` product. Every column is found at once from cluster-level sums, without
    refitting. The parts that do not depend on ``u`` (the estimator's weights, the treated rows' deviation
    operator and the reference groups' covariate sums) are computed once for all of them; ``v_train``
    (:func:`_untreated_weights` of the same arguments) saves computing the weights.
    """
    d, train = design, fit.rows
    n_g, n_m, n_tr, n_t = d.n_clusters, d.n_units, len(train), len(rows_t)
    safe = np.where(fit.unit_weight > 0, fit.unit_weight, 1.0)
    w_tr = d.w[train]
    v = _untreated_weights(d, fit, rows_t, a) if v_train is None else v_train
    c_tr = d.cluster[train]
    v_members = sparse.csr_matrix((v, (c_tr, d.unit[train])), shape=(n_g, n_m))
    v_z = d.group_sums(v, train, d.cluster, n_g)
    idx = np.arange(n_t)
    c_t = d.cluster[rows_t]
    own, ref_coef = ref.operator(a, n_g)
    phi = sparse.csr_matrix((own, (c_t, idx)), shape=(n_g, n_t)) - ref_coef @ ref.members()
    phi_units = phi @ sparse.csr_matrix((np.ones(n_t), (idx, d.unit[rows_t])), shape=(n_t, n_m))
    member_z = np.vstack([d.group_sums(ref.w2, rows_t, _full(d, rows_t, codes), n) for codes, n in ref.levels()])
    own_z = d.group_sums(own, rows_t, d.cluster, n_g) - ref_coef @ member_z
    out = []
    for u in us:
        u_tr, u_t = u[:n_tr], u[n_tr:]
        # Coefficients of the untreated fit of each column (as _Fit.coefficients, one column per cluster).
        ym = sparse.csr_matrix((w_tr * u_tr, (d.unit[train], c_tr)), shape=(n_m, n_g)).toarray()
        ym /= safe[:, None]
        zy = d.group_sums(w_tr * u_tr, train, d.cluster, n_g).T
        coef = fit.ginv @ (zy - fit.unit_mean_z.T @ (ym * fit.unit_weight[:, None]))
        alpha = ym - fit.unit_mean_z @ coef
        # Untreated rows: sum_j v_j (u_j [c_j = c] - alpha_{m_j c} - z_j' coef_c) within each cluster k.
        b = np.diag(np.bincount(c_tr, weights=v * u_tr, minlength=n_g))
        b -= v_members @ alpha
        b -= v_z @ coef
        # Treated rows: sum_i phi_ki u_i, phi the deviation of each row from its reference group's mean.
        b += (phi @ sparse.csr_matrix((u_t, (idx, c_t)), shape=(n_t, n_g))).toarray()
        b -= phi_units @ alpha
        b -= own_z @ coef
        out.append(b)
    return out


def _full(design: Any, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Return ``values`` placed at ``rows`` of a full-length integer vector (zeros elsewhere)."""
    out = np.zeros(design.unit.shape, dtype=np.int64)
    out[rows] = values
    return out


def _reference(state: dict[str, Any], rows: np.ndarray) -> _Reference:
    """Return the reference groups of ``rows`` (cohort-period cells, event times), as the fit used them."""
    design, g = state["design"], state["g"]
    cell = pd.DataFrame({"g": g[rows], "t": design.time[rows]}).groupby(["g", "t"]).ngroup().to_numpy()
    event = (state["t_values"][rows] - g[rows]).astype(np.int64)
    return _Reference.of(cell, event, design.cluster[rows], design.w[rows], bool(state.get("leave_out", False)))


def _studentised_interval(
    state: dict[str, Any],
    fit: _Fit,
    rows: np.ndarray,
    a: np.ndarray,
    r: np.ndarray,
    enumerated: bool,
    estimate: float,
    se: float,
    alpha: float,
) -> tuple[float, float, float]:
    """P-value of zero effect and interval of the studentised restricted wild cluster bootstrap."""
    design = state["design"]
    u_y, u_d = _restricted_residuals(design, fit, rows, a)
    v = _untreated_weights(design, fit, rows, a)
    s_y, s_d = _cluster_scores(design, fit, rows, a, u_y, u_d, v_train=v)
    b_y, b_d = _score_matrices(design, fit, rows, a, _reference(state, rows), u_y, u_d, v_train=v)
    q_y, q_d = r @ b_y.T, r @ b_d.T
    p_y, p_d = r @ s_y, r @ s_d
    syy, syd, sdd = (q_y * q_y).sum(1), (q_y * q_d).sum(1), (q_d * q_d).sum(1)

    def p_value(t0: float) -> float:
        spread = np.sqrt(np.maximum(syy - 2 * t0 * syd + t0 * t0 * sdd, 0.0))
        extreme = np.abs(p_y - t0 * p_d) >= abs(estimate - t0) / se * spread * (1 - _TIE_TOL)
        return float(extreme.mean()) if enumerated else float((1 + extreme.sum()) / (1 + len(extreme)))

    lo, hi = invert_test(p_value, estimate, se, alpha)
    return p_value(0.0), lo, hi


def restricted_wild_bootstrap(
    result: ImputationResult,
    *,
    weight_type: Literal["rademacher", "webb"] = "rademacher",
    n_boot: int = 9999,
    seed: int = 0,
    enumerate_max_clusters: int = 12,
) -> FewClusterInterval:
    """Restricted wild cluster bootstrap p-value and interval of the ATT (module docstring).

    Parameters
    ----------
    result
        A fit of :func:`evaluation.methods.did.imputation.did_imputation`.
    weight_type
        ``"rademacher"`` or ``"webb"`` (better with few treated clusters).
    n_boot
        Draws when the Rademacher weights are not enumerated.
    seed
        Seed of the draws.
    enumerate_max_clusters
        Enumerate all ``2**G`` Rademacher sign vectors when ``G`` is at most this.

    Returns
    -------
    FewClusterInterval
    """
    from evaluation.methods.inference.wild_bootstrap import bootstrap_weights

    st = result._state
    r, enumerated = bootstrap_weights(
        result.n_clusters,
        weight_type=weight_type,
        n_boot=n_boot,
        seed=seed,
        enumerate_max_clusters=enumerate_max_clusters,
    )
    p, lo, hi = _studentised_interval(
        st, st["fit"], st["rows_t"], st["weights_t"], r, enumerated, result.estimate, result.se, result.alpha
    )
    return FewClusterInterval(result.estimate, p, lo, hi, "wild_cluster_bootstrap", len(r), enumerated)


def event_study_bootstrap(
    result: ImputationResult,
    *,
    weight_type: Literal["rademacher", "webb"] = "rademacher",
    n_boot: int = 9999,
    seed: int = 0,
    enumerate_max_clusters: int = 12,
) -> pd.DataFrame:
    """Restricted wild cluster bootstrap intervals of every event-study estimate (same draws for all).

    Returns
    -------
    pandas.DataFrame
        The event-study table of ``result`` with ``ci_low, ci_high, p_value`` from the bootstrap.
    """
    from evaluation.methods.inference.wild_bootstrap import bootstrap_weights

    st = result._state
    r, enumerated = bootstrap_weights(
        result.n_clusters,
        weight_type=weight_type,
        n_boot=n_boot,
        seed=seed,
        enumerate_max_clusters=enumerate_max_clusters,
    )
    table = result.event_study.copy()
    fit, funcs = st["event_fit"], st["event_functionals"]
    for i, (rows, a) in enumerate(zip(funcs.rows, funcs.weights, strict=True)):
        est, se = float(table["estimate"].iloc[i]), float(table["se"].iloc[i])
        if not np.isfinite(est):
            continue
        p, lo, hi = _studentised_interval(st, fit, rows, a, r, enumerated, est, se, result.alpha)
        table.loc[table.index[i], ["p_value", "ci_low", "ci_high"]] = [p, lo, hi]
    return table


def imputation_randomization(
    result: ImputationResult, *, n_permutations: int = 999, seed: int = 0, studentize: bool = False
) -> FewClusterInterval:
    """Randomization inference for the ATT over reassignments of the adoption schedule (module docstring).

    The schedule is reassigned across the fixed-effect units, which must nest in the clusters (the reform
    is assigned to municipalities). A reassignment that leaves no imputable treated row (for example an
    adoption in the first period) has no estimate and is left out of the reference distribution
    (:func:`randomization_interval`).

    Parameters
    ----------
    result
        A fit of :func:`evaluation.methods.did.imputation.did_imputation`.
    n_permutations
        Random reassignments; every distinct one is used when there are fewer.
    seed
        Seed of the ``numpy.random.Generator``.
    studentize
        Divide each reassignment's estimate by its own BJS standard error (:func:`randomization_interval`'s
        ``scale``), as the headline does: units of very different size otherwise let the noisy estimates of small
        ones set the critical value for a large one. False (the default) compares the estimates themselves.

    Returns
    -------
    FewClusterInterval
    """
    from evaluation.methods.inference.randomization import randomization_inference

    st = result._state
    design, data = st["design"], st["data"]
    frame = pd.DataFrame({"unit": design.unit, "first_treat": st["g"].astype(np.int64)})
    t_values = st["t_values"]
    d_obs = st["treated_mask"].astype(float)
    pieces: list[tuple[float, ...]] = []

    def stat(df: pd.DataFrame) -> float:
        g = df["first_treat"].to_numpy()
        treated = (g > 0) & (t_values >= g)
        placebo = _placebo_fit(design, treated)
        if placebo is None:
            pieces.append((np.nan,) * (5 if studentize else 2))
        else:
            fit, rows, a = placebo
            a_b, s_y = _att_scores(design, fit, rows, a, g, t_values, st["leave_out"], design.y, studentize)
            c_b, s_d = _att_scores(design, fit, rows, a, g, t_values, st["leave_out"], d_obs, studentize)
            if s_y is None or s_d is None:  # not studentised: the estimates alone
                pieces.append((a_b, c_b))
            else:
                pieces.append((a_b, c_b, float(s_y @ s_y), float(s_y @ s_d), float(s_d @ s_d)))
        return pieces[-1][0]

    del data
    res = randomization_inference(
        frame, stat, unit="unit", first_treat="first_treat", time=None, n_permutations=n_permutations, seed=seed
    )
    arr = np.array(pieces[1:])
    scale = (arr[:, 2], arr[:, 3], arr[:, 4]) if studentize else None
    return randomization_interval(
        res.statistic, result.se, result.alpha, arr[:, 0], arr[:, 1], exact=res.exact, scale=scale
    )


def randomization_interval(
    estimate: float,
    se: float,
    alpha: float,
    a: np.ndarray,
    c: np.ndarray,
    *,
    exact: bool,
    scale: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> FewClusterInterval:
    r"""p-value and interval of randomization inference from each reassignment's two linear pieces.

    Reassignment :math:`b` gives :math:`a_b = \hat\tau_b(Y)` and :math:`c_b = \hat\tau_b(D_{obs})`, so that under
    a constant effect :math:`\tau_0` its statistic is :math:`a_b - \tau_0 c_b`. The p-value of :math:`\tau_0` is
    the share of reassignments with :math:`|a_b - \tau_0 c_b| \ge |\hat\tau - \tau_0|` (exact: the observed
    assignment is among them; random: :math:`(1 + \#) / (1 + B)`), and the interval inverts it at ``alpha``
    (:func:`evaluation.methods.inference.inversion.invert_test`, bracketed from ``se``). Reassignments under which the
    estimator is not defined (NaN pieces: no imputable treated row, or a placebo design that cannot be built) are
    left out: the test conditions on the assignments that give an estimate, as the observed one does. Counting
    them as estimates of 0 instead would make them never as extreme as the observed estimate, and the p-value
    too small.

    Parameters
    ----------
    estimate, se, alpha
        The observed estimate, its standard error (a scale for the search) and the level.
    a, c
        The pieces of every reassignment (the observed one included when ``exact``).
    exact
        Whether the reassignments are every distinct one.
    scale
        ``(yy, yd, dd)`` of every reassignment for the studentised test ("randomization-t", Young 2019, *QJE*
        134(2); Wu and Ding 2021, *JASA* 116): the squared standard error of reassignment :math:`b` under
        :math:`\tau_0` is :math:`yy_b - 2\tau_0\, yd_b + \tau_0^2 dd_b` (the scores are linear in the outcome:
        :func:`applied_att`), and each statistic is divided by it, the observed one by ``se`` (the observed fit's
        scores of :math:`D_{obs}` are zero). Without it the statistics are the estimates themselves.

    Returns
    -------
    FewClusterInterval
        With the p-value of zero effect and ``draws = len(a)``.
    """
    a, c = np.asarray(a, dtype=float), np.asarray(c, dtype=float)
    parts = [np.asarray(x, dtype=float) for x in scale] if scale is not None else []
    defined = np.isfinite(a) & np.isfinite(c) & np.logical_and.reduce([np.isfinite(x) for x in parts] or [True])
    a, c, parts = a[defined], c[defined], [x[defined] for x in parts]
    if not len(a):
        raise EvaluationError("randomization inference: no reassignment gives an estimate.")

    def p_value(t0: float) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            if parts:
                yy, yd, dd = parts
                spread = np.sqrt(np.maximum(yy - 2 * t0 * yd + t0 * t0 * dd, 0.0))
                extreme = np.abs(a - t0 * c) / spread >= abs(estimate - t0) / se * (1 - _TIE_TOL)
            else:
                extreme = np.abs(a - t0 * c) >= abs(estimate - t0) * (1 - _TIE_TOL)
        return float(extreme.mean()) if exact else float((1 + extreme.sum()) / (1 + len(a)))

    lo, hi = invert_test(p_value, estimate, se, alpha)
    return FewClusterInterval(estimate, p_value(0.0), lo, hi, "randomization_inference", len(a), exact)


def applied_att(result: ImputationResult, values: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Return the fitted estimator's ATT of another outcome vector, and its BJS cluster scores.

    For a given design (rows, weights, treatment) the imputation estimator and every part of its standard error
    are linear in the outcome: the ATT is :math:`\sum_i v_i x_i`, and the cluster scores
    :math:`s_c = \sum_{i \in c} v_i \tilde\varepsilon_i(x)` use the residuals of ``x`` (the untreated fit's, and
    the treated rows' deviations from their reference means, leave-out as in the fit), so that the standard error of
    the fit of ``x`` is :math:`\lVert s \rVert`. ``values`` is aligned with the rows the fit used
    (``result._state["data"]``); for example the observed treatment indicator :math:`D_{obs}` when the fit is a
    placebo, whose estimate and scores of :math:`Y - \tau_0 D_{obs}` are then the fit's less :math:`\tau_0` times
    these.

    Returns
    -------
    (float, numpy.ndarray)
        The ATT and the cluster scores (one per cluster of the fit).
    """
    st = result._state
    return _att_scores(
        st["design"], st["fit"], st["rows_t"], st["weights_t"], st["g"], st["t_values"], st["leave_out"], values
    )


def _att_scores(
    design: Any,
    fit: _Fit,
    rows: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    t_values: np.ndarray,
    leave_out: bool,
    values: np.ndarray,
    scores: bool = True,
) -> tuple[float, np.ndarray | None]:
    """ATT and BJS cluster scores of ``values`` for the untreated fit ``fit``, treated ``rows`` with weights ``a``.

    With ``scores`` false the scores are not computed (None): the ATT alone costs one solve.
    """
    values = np.asarray(values, dtype=float)
    train = fit.rows
    b, alpha_m = fit.coefficients(values[train])
    tau = values[rows] - alpha_m[design.unit[rows]] - design.zb(rows, b)
    if not scores:
        return float(a @ tau), None
    res_train = values[train] - alpha_m[design.unit[train]] - design.zb(train, b)
    g_t, t_t = np.asarray(g)[rows], np.asarray(t_values)[rows]
    event = (t_t - g_t).astype(np.int64)
    cell = pd.DataFrame({"cohort": g_t, "time": t_t}).groupby(["cohort", "time"], sort=True).ngroup().to_numpy()
    ref = _Reference.of(cell, event, design.cluster[rows], design.w[rows], bool(leave_out))
    (cluster_scores,) = _cluster_scores(design, fit, rows, a, np.concatenate([res_train, ref.deviation(tau)]))
    return float(a @ tau), cluster_scores


def _placebo_fit(design: Any, treated: np.ndarray) -> tuple[_Fit, np.ndarray, np.ndarray] | None:
    """Return the untreated fit, imputable treated rows and their ATT weights under ``treated`` (None: no estimate)."""
    if not treated.any() or treated.all():
        return None
    train = np.flatnonzero(~treated)
    fit = _Fit.on(design, train)
    rows = np.flatnonzero(treated)
    t_has_train = np.bincount(design.time[train], minlength=design.n_times) > 0
    rows = rows[(fit.unit_weight[design.unit[rows]] > 0) & t_has_train[design.time[rows]]]
    if not len(rows):
        return None
    return fit, rows, design.w[rows] / design.w[rows].sum()


def few_cluster_inference(
    result: ImputationResult,
    method: str,
    *,
    weight_type: str | None = None,
    n_boot: int = 9999,
    n_permutations: int = 999,
    seed: int = 0,
    studentize: bool = False,
) -> FewClusterInterval:
    """Dispatch to the method the inference policy chose (``cluster_robust`` returns the t interval).

    ``studentize`` is passed to :func:`imputation_randomization`.
    """
    if method == "cluster_robust":
        return FewClusterInterval(
            result.estimate, result.p_value, result.ci_low, result.ci_high, "cluster_robust", 0, False
        )
    if method == "wild_cluster_bootstrap":
        return restricted_wild_bootstrap(
            result,
            weight_type=weight_type or "rademacher",
            n_boot=n_boot,
            seed=seed,  # type: ignore[arg-type]
        )
    if method == "randomization_inference":
        return imputation_randomization(result, n_permutations=n_permutations, seed=seed, studentize=studentize)
    raise EvaluationError(f"unknown inference method {method!r}")
