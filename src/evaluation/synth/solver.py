r"""Synthetic-control weights: the inner quadratic program and the outer search over V.

Abadie and Gardeazabal (2003) and Abadie, Diamond and Hainmueller (2010, eq. 4 and
section 2.3) choose donor weights :math:`W` on the simplex that make the treated
unit's predictors :math:`X_1` close to the donors' :math:`X_0 W`, in the metric of
a diagonal, non-negative predictor-importance matrix :math:`V`:

.. math:: W^*(V) = \arg\min_{W \ge 0,\ \mathbf 1'W = 1} (X_1 - X_0 W)' V (X_1 - X_0 W),

and choose :math:`V` so that the synthetic unit tracks the outcome over the
pre-period (the "optimisation period"):

.. math:: V^* = \arg\min_{V} (Z_1 - Z_0 W^*(V))' (Z_1 - Z_0 W^*(V)).

The inner problem is a convex quadratic program, solved here with SLSQP on the
problem scaled to unit size, with the analytic gradient, from the equal-weight
start. The outer problem is not convex; as R's ``Synth`` it is searched over
:math:`V = \mathrm{diag}(|\theta|)/\sum|\theta|` with Nelder-Mead from two starts
(equal importance and a regression-based start, ``Synth``'s default pair), and
the better optimum is kept. Predictors are divided by their standard deviation
across all units first (as ``Synth``), so that :math:`V` does not depend on units
of measurement.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from evaluation.errors import ModelNotIdentifiedError

__all__ = ["simplex_weights", "optimise_v"]

_WEIGHT_TOL = 1e-10


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    r"""Solve :math:`\min_W (x_1 - X_0 W)' \mathrm{diag}(v) (x_1 - X_0 W)` over the simplex.

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
    scale = max(float(np.sum(b**2)), float(np.max(np.sum(a**2, axis=0))), 1e-300)
    gram = a.T @ a / scale
    lin = a.T @ b / scale
    const = float(b @ b) / scale

    def loss(w: np.ndarray) -> float:
        return float(w @ gram @ w - 2 * lin @ w + const)

    def grad(w: np.ndarray) -> np.ndarray:
        return 2 * (gram @ w - lin)

    start = np.full(n_donors, 1.0 / n_donors)
    res = optimize.minimize(
        loss,
        start,
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_donors,
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    w = np.clip(res.x, 0.0, None)
    w[w < _WEIGHT_TOL] = 0.0
    total = w.sum()
    if not np.isfinite(total) or total <= 0:
        raise ModelNotIdentifiedError("synthetic control: the weight problem has no solution (check the predictors).")
    return w / total


def _outcome_loss(w: np.ndarray, z1: np.ndarray, z0: np.ndarray) -> float:
    gap = z1 - z0 @ w
    return float(gap @ gap) / len(z1)


def _regression_start(x1: np.ndarray, x0: np.ndarray, z1: np.ndarray, z0: np.ndarray) -> np.ndarray | None:
    """Importance from a regression of the outcome periods on the predictors (Synth's second start)."""
    x = np.column_stack([np.ones(x0.shape[1] + 1), np.column_stack([x1, x0]).T])
    z = np.column_stack([z1, z0]).T
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    imp = np.sum(coef[1:] ** 2, axis=1)
    if not np.all(np.isfinite(imp)) or imp.sum() <= 0:
        return None
    return imp / imp.sum()


def optimise_v(
    x1: np.ndarray, x0: np.ndarray, z1: np.ndarray, z0: np.ndarray, *, maxiter: int = 2000
) -> tuple[np.ndarray, np.ndarray, float]:
    """Nested optimisation of the predictor importances V and the weights W.

    Parameters
    ----------
    x1, x0
        Standardised predictors of the treated unit ``(k,)`` and of the donors ``(k, J)``.
    z1, z0
        Outcomes over the optimisation period, ``(T0,)`` and ``(T0, J)``.
    maxiter
        Iterations of each Nelder-Mead search.

    Returns
    -------
    tuple
        ``(v, w, loss)``: importances summing to 1, weights, and the pre-period outcome MSPE.
    """
    k = len(x1)
    if k == 1:
        w = simplex_weights(x1, x0)
        return np.ones(1), w, _outcome_loss(w, z1, z0)

    def objective(theta: np.ndarray) -> float:
        v = np.abs(theta)
        if v.sum() <= 0:
            return np.inf
        return _outcome_loss(simplex_weights(x1, x0, v / v.sum()), z1, z0)

    starts = [np.full(k, 1.0 / k)]
    reg = _regression_start(x1, x0, z1, z0)
    if reg is not None:
        starts.append(reg)
    best_loss, best_theta = np.inf, starts[0]
    for start in starts:
        res = optimize.minimize(
            objective, start, method="Nelder-Mead", options={"maxiter": maxiter, "xatol": 1e-8, "fatol": 1e-12}
        )
        if res.fun < best_loss:
            best_loss, best_theta = float(res.fun), np.abs(res.x)
    v = best_theta / best_theta.sum()
    w = simplex_weights(x1, x0, v)
    return v, w, _outcome_loss(w, z1, z0)
