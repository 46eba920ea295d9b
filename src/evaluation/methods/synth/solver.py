r"""Synthetic-control weights: the inner quadratic program and the outer search over V.

Abadie and Gardeazabal (2003) and Abadie, Diamond and Hainmueller (2010, eq. 4 and
section 2.3) choose donor weights :math:`W` on the simplex that make the treated
unit's predictors :math:`X_1` close to the donors' :math:`X_0 W`, in the metric of
a diagonal, non-negative predictor-importance matrix :math:`V`:

.. math:: W^*(V) = \arg\min_{W \ge 0,\ \mathbf 1'W = 1} (X_1 - X_0 W)' V (X_1 - X_0 W),

and choose :math:`V` so that the synthetic unit tracks the outcome over the
pre-period (the "optimisation period"):

.. math:: V^* = \arg\min_{V} (Z_1 - Z_0 W^*(V))' (Z_1 - Z_0 W^*(V)).

The inner problem is a convex quadratic program, solved by an active-set
method (non-negative least squares for the support, then the exact KKT solution
on it; SLSQP as a fallback) on the problem scaled to unit size. The outer
problem is not convex; as R's ``Synth`` it is searched over
:math:`V = \mathrm{softmax}(\theta)` with Nelder-Mead from the best of several
starts (equal importance and a regression-based start, ``Synth``'s default pair,
plus seeded random ones), and the best optimum is kept. Predictors are divided by their standard deviation
across all units first (as ``Synth``), so that :math:`V` does not depend on units
of measurement.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from evaluation.errors import ModelNotIdentifiedError

__all__ = ["simplex_weights", "optimise_v"]

_WEIGHT_TOL = 1e-10
_XATOL = 1e-3  # Nelder-Mead tolerance on theta = log V (V is scale-free: 1e-3 is a 0.1% change)
_FATOL_REL = 1e-6  # ... and on the loss, relative to the loss at the start of each search
_MAX_RESTARTS = 5


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    r"""Solve :math:`\min_W (x_1 - X_0 W)' \mathrm{diag}(v) (x_1 - X_0 W)` over the simplex.

    An active-set solution: non-negative least squares on the problem with the adding-up
    constraint appended as a heavily weighted row gives the support; the equality-constrained
    least-squares problem on that support is then solved exactly from its KKT system, and
    the Karush-Kuhn-Tucker conditions are checked. When they fail (degenerate problems)
    SLSQP polishes the solution from there.

    Parameters
    ----------
    x1
        Treated unit's predictors, shape ``(k,)``.
    x0
        Donors' predictors, shape ``(k, J)``.
    v
        Non-negative predictor importances, shape ``(k,)``; None means all ones.

    Returns
    -------
    numpy.ndarray
        Weights of shape ``(J,)``: non-negative, summing to 1 (entries below 1e-10 set to 0).
    """
    x1 = np.asarray(x1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    n_donors = x0.shape[1]
    if n_donors == 1:
        return np.ones(1)
    root_v = np.sqrt(np.ones(len(x1)) if v is None else np.asarray(v, dtype=float))
    a = x0 * root_v[:, None]
    b = x1 * root_v
    scale = np.sqrt(max(float(np.sum(b**2)), float(np.max(np.sum(a**2, axis=0))), 1e-300))
    a, b = a / scale, b / scale
    big = 1e4
    w0, _ = optimize.nnls(np.vstack([a, np.full((1, n_donors), big)]), np.append(b, big), maxiter=50 * n_donors)
    w = _refine_on_support(a, b, w0)
    if w is None:
        w = _slsqp(a, b, w0 / w0.sum() if w0.sum() > 0 else np.full(n_donors, 1.0 / n_donors))
    w = np.clip(w, 0.0, None)
    w[w < _WEIGHT_TOL] = 0.0
    total = w.sum()
    if not np.isfinite(total) or total <= 0:
        raise ModelNotIdentifiedError("synthetic control: the weight problem has no solution (check the predictors).")
    return w / total


def _refine_on_support(a: np.ndarray, b: np.ndarray, w0: np.ndarray) -> np.ndarray | None:
    """Exact equality-constrained least squares on the support of ``w0``; None if KKT fails."""
    support = np.flatnonzero(w0 > 1e-12)
    if support.size == 0:
        return None
    for _ in range(a.shape[1]):
        a_s = a[:, support]
        n_s = support.size
        kkt = np.zeros((n_s + 1, n_s + 1))
        kkt[:n_s, :n_s] = 2 * a_s.T @ a_s
        kkt[:n_s, n_s] = 1.0
        kkt[n_s, :n_s] = 1.0
        rhs = np.append(2 * a_s.T @ b, 1.0)
        sol, *_ = np.linalg.lstsq(kkt, rhs, rcond=None)
        w_s, lam = sol[:n_s], sol[n_s]
        if np.any(w_s < -1e-12):
            support = support[w_s > 1e-12]  # drop the units pushed out and solve again
            if support.size == 0:
                return None
            continue
        w = np.zeros(a.shape[1])
        w[support] = np.clip(w_s, 0.0, None)
        grad = 2 * a.T @ (a @ w - b)
        # KKT: grad_j + lam = 0 on the support, grad_j + lam >= 0 off it.
        if np.all(grad + lam >= -1e-9):
            return w
        return None
    return None


def _slsqp(a: np.ndarray, b: np.ndarray, start: np.ndarray) -> np.ndarray:
    gram, lin, const = a.T @ a, a.T @ b, float(b @ b)
    res = optimize.minimize(
        lambda w: float(w @ gram @ w - 2 * lin @ w + const),
        start,
        jac=lambda w: 2 * (gram @ w - lin),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(start),
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    return res.x


def _outcome_loss(w: np.ndarray, z1: np.ndarray, z0: np.ndarray) -> float:
    gap = z1 - z0 @ w
    return float(gap @ gap) / len(z1)


def _regression_start(x1: np.ndarray, x0: np.ndarray, z1: np.ndarray, z0: np.ndarray) -> np.ndarray | None:
    """Return the importance from a regression of the outcome periods on the predictors (Synth's second start)."""
    x = np.column_stack([np.ones(x0.shape[1] + 1), np.column_stack([x1, x0]).T])
    z = np.column_stack([z1, z0]).T
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    imp = np.sum(coef[1:] ** 2, axis=1)
    if not np.all(np.isfinite(imp)) or imp.sum() <= 0:
        return None
    return imp / imp.sum()


def optimise_v(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    maxiter: int = 2000,
    n_random_starts: int = 30,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Nested optimisation of the predictor importances V and the weights W.

    V is parametrised as ``softmax(theta)``. Candidate starts are equal importance, the
    regression-based importance (R ``Synth``'s two starts) and ``n_random_starts`` draws
    from a Dirichlet(0.5) distribution (seeded); Nelder-Mead with an initial simplex of
    width 2 in ``theta`` runs from the three best candidates, and the best optimum is kept.
    Each search stops when the simplex is within 1e-3 in ``theta`` and the loss within a
    relative 1e-6; the best end point is then searched again from a fresh simplex (up to
    five times) while that still lowers the loss by more than a relative 1e-6.

    Parameters
    ----------
    x1, x0
        Standardised predictors of the treated unit ``(k,)`` and of the donors ``(k, J)``.
    z1, z0
        Outcomes over the optimisation period, ``(T0,)`` and ``(T0, J)``.
    maxiter
        Iterations of each Nelder-Mead search.
    n_random_starts
        Random candidate starts evaluated before the searches.
    seed
        Seed of the random starts.

    Returns
    -------
    tuple
        ``(v, w, loss)``: importances summing to 1, weights, and the pre-period outcome MSPE.
    """
    k = len(x1)
    if k == 1:
        w = simplex_weights(x1, x0)
        return np.ones(1), w, _outcome_loss(w, z1, z0)

    def to_v(theta: np.ndarray) -> np.ndarray:
        e = np.exp(theta - theta.max())
        return e / e.sum()

    def objective(theta: np.ndarray) -> float:
        return _outcome_loss(simplex_weights(x1, x0, to_v(theta)), z1, z0)

    candidates = [np.full(k, 1.0 / k)]
    reg = _regression_start(x1, x0, z1, z0)
    if reg is not None:
        candidates.append(reg)
    rng = np.random.default_rng(seed)
    candidates += list(rng.dirichlet(np.full(k, 0.5), size=n_random_starts))
    thetas = [np.log(np.clip(c, 1e-8, None)) for c in candidates]
    scored = sorted(((objective(t), i) for i, t in enumerate(thetas)), key=lambda p: (p[0], p[1]))

    def search(theta: np.ndarray, loss: float) -> tuple[np.ndarray, float]:
        # Stop within 1e-3 in theta and a relative 1e-6 of the loss at the start of the search.
        res = optimize.minimize(
            objective,
            theta,
            method="Nelder-Mead",
            options={
                "maxiter": maxiter,
                "initial_simplex": np.vstack([theta, theta + 2.0 * np.eye(k)]),
                "xatol": _XATOL,
                "fatol": _FATOL_REL * max(loss, 1e-300),
            },
        )
        return (res.x, float(res.fun)) if res.fun < loss else (theta, loss)

    best_theta, best_loss = thetas[scored[0][1]], scored[0][0]
    for loss, i in scored[:3]:
        theta, loss = search(thetas[i], loss)
        if loss < best_loss:
            best_theta, best_loss = theta, loss
    for _ in range(_MAX_RESTARTS):
        # Restart from the best point with a fresh simplex: tightens fatol as the loss falls and
        # undoes a collapsed simplex; stop when a restart no longer lowers the loss.
        theta, loss = search(best_theta, best_loss)
        improved = loss < best_loss * (1 - _FATOL_REL)
        best_theta, best_loss = theta, loss
        if not improved:
            break
    v = to_v(best_theta)
    w = simplex_weights(x1, x0, v)
    return v, w, _outcome_loss(w, z1, z0)
