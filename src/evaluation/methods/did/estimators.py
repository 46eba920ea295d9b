r"""Two-period, two-group DiD estimators of the ATT (Sant'Anna and Zhao 2020).

Each estimator takes one 2x2 comparison (a treated group ``d = 1`` and a
comparison group ``d = 0``) and returns the ATT with its influence function,
the ingredients :func:`evaluation.methods.did.att_gt` stacks into group-time effects.
They follow R ``DRDID`` (version 1.2) formula by formula:

``"reg"`` (``reg_did_panel``)
    Outcome regression (Heckman, Ichimura and Todd 1997): fit
    :math:`\Delta Y = X'\beta` by weighted least squares on the comparison
    units and average :math:`\Delta Y - X'\hat\beta` over the treated.
``"ipw"`` (``std_ipw_did_panel``)
    Normalised (Hájek) inverse probability weighting (Abadie 2005), logit
    propensity score by maximum likelihood; comparison weights
    :math:`p(X)/(1-p(X))` normalised to sum to one.
``"dr"`` (``drdid_panel``)
    The locally efficient doubly robust estimator of Sant'Anna and Zhao (2020,
    eq. 3.1 with the estimators of section 3): logit propensity score by maximum
    likelihood, outcome regression by least squares on the comparison units, and
    an influence function that carries both estimation effects. This is what R
    ``did::att_gt(est_method = "dr")`` calls.
``"dr_imp"`` (``drdid_imp_panel``)
    The improved, locally efficient doubly robust estimator of Sant'Anna and
    Zhao (2020, section 3.1): the propensity score is fitted by inverse
    probability tilting (Graham, Pinto and Egel 2012), which balances the
    covariate means of the reweighted comparison group with the treated
    group exactly, and the outcome regression by least squares weighted by
    :math:`p(X)/(1-p(X))`. With these two first steps the estimation effects
    vanish from the influence function (Sant'Anna and Zhao 2020, eq. 3.7),
    which is therefore the plug-in one.

Conventions copied from ``DRDID``: sampling weights are normalised to mean
one; the fitted propensity score is capped at :math:`1 - 10^{-6}`; comparison
units with a score of 0.995 or more are trimmed (``trim.level = 0.995``). The
influence function ``psi`` is scaled so that ``mean(psi**2) / n`` is the
variance of the estimate (``n`` the number of units of the 2x2 comparison).

The repeated cross-section versions (``reg_did_rc``, ``std_ipw_did_rc``,
``drdid_rc``, ``drdid_imp_rc``) live in :mod:`evaluation.methods.did.estimators_rc`.

References
----------
Sant'Anna, P. H. C. and Zhao, J. (2020), "Doubly robust difference-in-differences
estimators", *Journal of Econometrics* 219(1), 101-122.
Graham, B. S., Pinto, C. C. and Egel, D. (2012), "Inverse probability tilting for
moment condition models with missing data", *Review of Economic Studies* 79(3), 1053-1079.
Abadie, A. (2005), "Semiparametric difference-in-differences estimators",
*Review of Economic Studies* 72(1), 1-19.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from evaluation.errors import EvaluationError, ModelNotIdentifiedError

__all__ = [
    "Method",
    "METHODS",
    "did_panel",
    "did_panel_change",
    "logit_fit",
    "ipt_fit",
    "lin_rep_logit",
    "propensity",
    "wls",
]

Method = Literal["dr", "dr_imp", "ipw", "reg"]
METHODS: tuple[str, ...] = ("dr", "dr_imp", "ipw", "reg")
PS_CAP = 1.0 - 1e-6
TRIM_LEVEL = 0.995
#: Rows per block of the row-wise steps at scale (a block's temporaries stay in cache; little fresh memory).
BLOCK_ROWS = 8192


def _xtwx(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x' diag(w) x``."""
    return (x * w[:, None]).T @ x


def _xtv(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``x' v`` for a vector or a matrix ``v``."""
    return x.T @ v


def wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares coefficients of ``y`` on ``x`` (columns of ``x`` include the intercept).

    ``y`` is a vector, or a matrix whose columns are regressed on ``x`` one by one.

    Raises
    ------
    ModelNotIdentifiedError
        When the weighted design is singular (a covariate constant among the comparison units).
    """
    xtwx = _xtwx(x, w)
    if np.linalg.cond(xtwx) > 1e12:
        raise ModelNotIdentifiedError(
            "the outcome regression is singular: a covariate is constant (or collinear) among the comparison "
            "units of a group-time cell; drop it from `covariates` or use fewer, coarser covariates"
        )
    return np.linalg.solve(xtwx, _xtv(x, (w * y.T).T))


def logit_fit(x: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-11, max_iter: int = 50) -> np.ndarray:
    """Weighted logit maximum likelihood by Newton-Raphson (R ``glm(family = binomial, weights = w)``).

    Returns
    -------
    numpy.ndarray
        The coefficients.
    """
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        step = np.linalg.solve(_xtwx(x, w * p * (1 - p)), _xtv(x, w * (d - p)))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    return beta


def ipt_fit(x: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    r"""Propensity score by inverse probability tilting (Graham, Pinto and Egel 2012; ``DRDID::pscore.cal``).

    Minimises the convex loss :math:`\bar{E}_n[w\{-D X'\gamma + (1-D) e^{X'\gamma}\}]`, whose first-order
    condition :math:`\sum_i w_i D_i X_i = \sum_i w_i (1-D_i) e^{X_i'\gamma} X_i` makes the odds-weighted
    comparison group reproduce the treated group's covariate totals. Damped Newton from the logit fit
    (the minimiser is unique, so any convergent algorithm gives R's ``trust`` solution).
    """
    gamma = logit_fit(x, d, w)
    n = len(d)
    c = 1 - d

    def loss(g: np.ndarray) -> float:
        idx = x @ g
        return float(np.sum(w * (-d * idx + c * np.exp(idx))) / n)

    current = loss(gamma)
    for _ in range(max_iter):
        e = np.exp(x @ gamma)
        grad = -_xtv(x, w * (d - c * e)) / n
        hess = _xtwx(x, w * c * e) / n
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10:
            candidate = gamma - t * step
            value = loss(candidate)
            if np.isfinite(value) and value <= current + 1e-16 * abs(current):
                break
            t /= 2
        gamma, current = candidate, value
        if np.max(np.abs(t * step)) < tol * (1 + np.max(np.abs(gamma))):
            break
    return gamma


def propensity(x: np.ndarray, gamma: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the fitted logit score, the score capped at :data:`PS_CAP`, and ``DRDID``'s trimming indicator.

    The indicator is 1 for treated units and for comparison units whose capped score is below
    :data:`TRIM_LEVEL`, 0 for the comparison units trimmed.
    """
    raw = 1.0 / (1.0 + np.exp(-(x @ gamma)))
    capped = np.minimum(raw, PS_CAP)
    return raw, capped, np.where(d == 1, 1.0, (capped < TRIM_LEVEL).astype(float))


def lin_rep_logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, ps: np.ndarray, p_hessian: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of the logit coefficients: the score at ``ps`` times the inverse Hessian.

    The Hessian is taken at the scores ``p_hessian`` (the uncapped fit for panels, as ``DRDID``'s
    ``vcov(glm)``; the capped one for repeated cross sections, as ``DRDID::*_rc``). Rows: units.
    """
    hessian = np.linalg.inv(_xtwx(x, w * p_hessian * (1 - p_hessian))) * len(d)
    return (w * (d - ps))[:, None] * x @ hessian


def _hajek_weights(
    keep: np.ndarray, w: np.ndarray, d: np.ndarray, ps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Treated and odds-reweighted comparison weights (trimmed units at 0), with their means, which must not be 0."""
    w_treat = keep * w * d
    w_cont = keep * w * ps * (1 - d) / (1 - ps)
    mean_treat, mean_cont = w_treat.mean(), w_cont.mean()
    if mean_treat == 0 or mean_cont == 0:
        raise ModelNotIdentifiedError("no treated or no comparison units are left after propensity-score trimming")
    return w_treat, w_cont, mean_treat, mean_cont


def did_panel(
    y1: np.ndarray, y0: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: Method
) -> tuple[float | np.ndarray, np.ndarray]:
    r"""ATT of a two-period panel comparison and its influence function.

    Parameters
    ----------
    y1, y0 : numpy.ndarray
        Outcomes in the later and the base period, one value per unit; or matrices with one column per
        comparison of the same units (several later periods, say), estimated together: the propensity
        score and the design of the outcome regression depend only on ``d``, ``x`` and ``w``, so they are
        fitted once for all columns.
    d : numpy.ndarray
        1 for treated-group units, 0 for comparison units.
    x : numpy.ndarray
        Covariate matrix whose first column is the intercept (``n x k``).
    w : numpy.ndarray
        Sampling weights (normalised here to mean one, as ``DRDID``).
    method : {"dr", "dr_imp", "ipw", "reg"}
        The estimator (module docstring).

    Returns
    -------
    att : float or numpy.ndarray
        The ATT (one per column when ``y1`` is a matrix).
    psi : numpy.ndarray
        The influence function, one value per unit (one column per comparison), with
        ``Var(att) = mean(psi**2) / n``.
    """
    dy = np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float)
    single = dy.ndim == 1
    att, psi = did_panel_change(dy.reshape(len(d), -1), d, x, w, method)
    if single:
        return float(att[0]), psi[:, 0]
    return att, psi


def did_panel_change(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: Method
) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`did_panel` on the changes ``dy = y1 - y0`` (``n x m``, a column per comparison); may overwrite them.

    For callers that hold the changes already and need them no more (:func:`evaluation.methods.did.att_gt`'s
    cells): the doubly robust estimator reuses their memory for its weighted OLS residuals, which at scale saves
    the time of touching fresh memory as well as the memory. Returns ``att`` (``m``) and ``psi`` (``n x m``).
    """
    if method not in METHODS:
        raise EvaluationError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    n = len(d)
    w = w / w.mean()
    if method == "reg":
        return _reg_panel(dy, d, x, w, n)
    if method == "ipw":
        return _ipw_panel(dy, d, x, w, n)
    if method == "dr":
        return _dr_panel(dy, d, x, w, n)
    return _dr_imp_panel(dy, d, x, w, n)


# The estimators below take ``dy`` as an ``n x m`` matrix (m comparisons of the same units) and return
# ``att`` (m,) and ``psi`` (n x m). Means over units are ``v @ dy / n``.


def _reg_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Outcome-regression DiD (``DRDID::reg_did_panel``), Sant'Anna and Zhao (2020) eq. 2.2."""
    w_ols = w * (1 - d)
    beta = wls(x, dy, w_ols)
    fitted = x @ beta
    w_treat = w * d
    mean_treat = w_treat.mean()
    eta_treat = w_treat @ dy / n / mean_treat
    eta_cont = w_treat @ fitted / n / mean_treat
    att = eta_treat - eta_cont
    xpx_inv = np.linalg.inv(_xtwx(x, w_ols) / n)
    m1 = (w_treat[:, None] * x).mean(axis=0)
    lin_rep_ols_m1 = (w_ols[:, None] * (dy - fitted)) * (x @ (xpx_inv @ m1))[:, None]
    inf_treat = w_treat[:, None] * (dy - eta_treat) / mean_treat
    inf_cont = (w_treat[:, None] * (fitted - eta_cont) + lin_rep_ols_m1) / mean_treat
    return att, inf_treat - inf_cont


def _ipw_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised IPW DiD (``DRDID::std_ipw_did_panel``), Abadie (2005) with Hájek weights."""
    p_raw, ps, keep = propensity(x, logit_fit(x, d, w), d)
    w_treat, w_cont, mean_treat, mean_cont = _hajek_weights(keep, w, d, ps)
    eta_treat = w_treat @ dy / n / mean_treat
    eta_cont = w_cont @ dy / n / mean_cont
    att = eta_treat - eta_cont
    lin_rep_ps = lin_rep_logit(x, d, w, ps, p_raw)
    dev_cont = w_cont[:, None] * (dy - eta_cont)
    m2 = _xtv(x, dev_cont) / n
    inf_treat = w_treat[:, None] * (dy - eta_treat) / mean_treat
    inf_cont = (dev_cont + lin_rep_ps @ m2) / mean_cont
    return att, inf_treat - inf_cont


def _dr_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Locally efficient DR DiD (``DRDID::drdid_panel``), Sant'Anna and Zhao (2020) eq. 3.1, with its full IF.

    Overwrites ``dy``. The ``n x m`` arrays are the bulk of the time and memory at scale, so only three are
    whole: ``resid`` (then the treated part of the influence function, then all of it), ``dev_cont`` (the
    comparison units' weighted deviations) and ``dy`` (then the weighted OLS residuals); the comparison part
    is computed by blocks of rows.
    """
    p_raw, ps, keep = propensity(x, logit_fit(x, d, w), d)
    w_ols = w * (1 - d)
    beta = wls(x, dy, w_ols)
    resid = x @ beta  # then dy - x @ beta in its memory (row-major, as the reductions below expect)
    np.subtract(dy, resid, out=resid)
    w_treat, w_cont, mean_treat, mean_cont = _hajek_weights(keep, w, d, ps)
    eta_treat = w_treat @ resid / n / mean_treat
    eta_cont = w_cont @ resid / n / mean_cont
    att = eta_treat - eta_cont
    # the OLS and propensity-score estimation effects; the OLS one enters only through x @ (inv @ m)
    ols_inv = np.linalg.inv(_xtwx(x, w_ols) / n)
    lin_rep_ps = lin_rep_logit(x, d, w, ps, p_raw)
    m1 = (w_treat[:, None] * x).mean(axis=0)
    m3 = (w_cont[:, None] * x).mean(axis=0)
    dev_cont = resid - eta_cont
    dev_cont *= w_cont[:, None]
    m2 = _xtv(x, dev_cont) / n
    ols_resid = np.multiply(w_ols[:, None], resid, out=dy)
    inf_treat = np.subtract(resid, eta_treat, out=resid)
    inf_treat *= w_treat[:, None]
    v1 = x @ (ols_inv @ m1)
    v3 = x @ (ols_inv @ m3)
    # inf_treat = (w_treat (resid - eta_treat) - ols_resid v1) / mean_treat
    # inf_cont = (lin_rep_ps m2 + w_cont (resid - eta_cont) - ols_resid v3) / mean_cont
    for start in range(0, n, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        treat, ols = inf_treat[rows], ols_resid[rows]
        treat -= ols * v1[rows, None]
        treat /= mean_treat
        cont = lin_rep_ps[rows] @ m2
        cont += dev_cont[rows]
        cont -= ols * v3[rows, None]
        cont /= mean_cont
        treat -= cont
    return att, inf_treat


def _dr_imp_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Improved locally efficient DR DiD (``DRDID::drdid_imp_panel``), Sant'Anna and Zhao (2020) eq. 3.1, 3.7."""
    _, ps, keep = propensity(x, ipt_fit(x, d, w), d)
    odds = ps / (1 - ps)
    beta = wls(x, dy, w * (1 - d) * odds)
    resid = dy - x @ beta
    summand = (keep * (d - (1 - d) * odds))[:, None] * resid
    mean_d = np.mean(w * d)
    att = w @ summand / n / mean_d
    psi = (w * keep)[:, None] * (summand - d[:, None] * att) / mean_d
    return att, psi
