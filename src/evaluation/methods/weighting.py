r"""Weights for a comparison group: inverse probability weighting and entropy balancing.

Public API::

    from evaluation.methods.weighting import weights
    w = weights(df, treatment="treat", covariates=[...], method="ipw", estimand="ATT")

Both methods return a :class:`pandas.Series` aligned with the rows of ``df``,
following the conventions of R's WeightIt (``weightit(method = "glm")`` and
``method = "ebal"``).

Inverse probability weights (Rosenbaum 1987; Hirano, Imbens & Ridder 2003),
with :math:`e_i` the fitted propensity score (logit or probit GLM on the
covariates as given, :func:`evaluation.methods.matching.fit_propensity`):

- ATT: treated :math:`1`, controls :math:`e_i/(1-e_i)`;
- ATC: treated :math:`(1-e_i)/e_i`, controls :math:`1`;
- ATE: treated :math:`1/e_i`, controls :math:`1/(1-e_i)`.

These are WeightIt's weights, which are not normalised. With
``normalize=True`` the weights of each group are rescaled to sum to the
number of units in that group (mean 1 per group). Any estimator that takes
weighted means within groups (the weighted difference in means, WLS of the
outcome on the treatment) gives the same estimate either way.

Entropy balancing (Hainmueller 2012, *Political Analysis* 20(1), 25-46): the
weights of the reweighted group minimise the Kullback-Leibler divergence
:math:`\sum_i w_i \log(w_i/q_i)` from uniform base weights :math:`q_i`
subject to :math:`\sum_i w_i c_i = m` (eq. 2-4), where :math:`c_i` holds the
covariates (and, with ``moments=2``, their squares, so that variances are
balanced too) and :math:`m` the target moments: the treated means for the
ATT (controls reweighted), the control means for the ATC, the full-sample
means for the ATE (each group reweighted separately). The solution is
:math:`w_i \propto q_i \exp(-\lambda' c_i)`; :math:`\lambda` minimises the
convex dual :math:`\log \sum_i q_i \exp(\lambda'(c_i - m))` (eq. 5), found by
Newton's method with a backtracking line search on standardised covariates.
Weights of a reweighted group are scaled to sum to its number of units
(WeightIt's convention; Hainmueller's ``ebal`` package scales the controls to
the number of treated instead, which changes no estimate). The target
moments are reproduced to rounding error; when they lie outside the convex
hull of the reweighted group the problem is infeasible and
:class:`evaluation.errors.ModelNotIdentifiedError` is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.matching.checks import binary_treatment
from evaluation.methods.matching.score import covariate_matrix, fit_propensity

__all__ = ["entropy_balance", "weights"]

_METHODS = ("ipw", "entropy")
_ESTIMANDS = ("ATT", "ATC", "ATE")


def weights(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    method: Literal["ipw", "entropy"] = "ipw",
    estimand: Literal["ATT", "ATC", "ATE"] = "ATT",
    *,
    link: Literal["logit", "probit"] = "logit",
    normalize: bool = False,
    moments: Literal[1, 2] = 1,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> pd.Series:
    """Compute inverse-probability or entropy-balancing weights aligned with the rows of ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit with the treatment and the covariates.
    treatment : str
        Column coded 0/1 (or boolean).
    covariates : sequence of str
        Covariates (string or categorical columns enter as indicators, first level left out).
    method : {"ipw", "entropy"}
        Inverse probability weighting or entropy balancing (see the module docstring).
    estimand : {"ATT", "ATC", "ATE"}
        Target population.
    link : {"logit", "probit"}
        Link of the propensity model (IPW only).
    normalize : bool
        IPW only: rescale the weights of each group to sum to its number of units.
    moments : {1, 2}
        Entropy balancing only: balance means (1) or means and variances (2).
    max_iter : int
        Entropy balancing only: largest number of Newton steps.
    tol : float
        Entropy balancing only: convergence tolerance on the largest standardised
        imbalance; the moments are then reproduced to well below ``tol`` times their SD.

    Returns
    -------
    pandas.Series
        Named ``"weight"``, with the index of ``df``.

    Raises
    ------
    EvaluationError
        A column is missing or has missing values, or an option is invalid.
    ModelNotIdentifiedError
        Entropy balancing is infeasible (target outside the convex hull), or the
        propensity model cannot be fitted.
    """
    if method not in _METHODS:
        raise EvaluationError(f"weights: method must be one of {_METHODS}, not {method!r}.")
    if estimand not in _ESTIMANDS:
        raise EvaluationError(f"weights: estimand must be one of {_ESTIMANDS}, not {estimand!r}.")
    if link not in ("logit", "probit"):
        raise EvaluationError(f"weights: link must be 'logit' or 'probit', not {link!r}.")
    if moments not in (1, 2):
        raise EvaluationError(f"weights: moments must be 1 (means) or 2 (means and variances), not {moments!r}.")
    covariates = list(covariates)
    missing = [c for c in [treatment, *covariates] if c not in df.columns]
    if missing:
        raise EvaluationError(f"weights: column(s) {missing} not in the data; columns are {list(df.columns)}.")
    if not covariates:
        raise EvaluationError("weights: at least one covariate is needed.")
    for col in covariates:
        n_missing = int(df[col].isna().sum())
        if n_missing:
            raise EvaluationError(
                f"weights: covariate '{col}' is missing in {n_missing} of {len(df)} rows; impute or drop them first."
            )
    treat = binary_treatment(df, treatment)
    if method == "ipw":
        fit_data = df[[treatment, *covariates]].assign(**{treatment: treat.astype(float)})
        try:
            p, _ = fit_propensity(fit_data, treatment, covariates, link=link)
        except EvaluationError as exc:
            raise ModelNotIdentifiedError(str(exc)) from exc
        e = p.to_numpy()
        if estimand == "ATT":
            w = np.where(treat == 1, 1.0, e / (1 - e))
        elif estimand == "ATC":
            w = np.where(treat == 1, (1 - e) / e, 1.0)
        else:
            w = np.where(treat == 1, 1 / e, 1 / (1 - e))
        if normalize:
            for g in (0, 1):
                rows = treat == g
                w[rows] *= rows.sum() / w[rows].sum()
        return pd.Series(w, index=df.index, name="weight")

    x = covariate_matrix(df, covariates, drop_first=True).to_numpy(dtype=float)
    if moments == 2:
        x = np.hstack([x, x**2])
    w = np.ones(len(df))
    targets = {"ATT": [(0, x[treat == 1].mean(axis=0))], "ATC": [(1, x[treat == 0].mean(axis=0))]}
    targets["ATE"] = [(0, x.mean(axis=0)), (1, x.mean(axis=0))]
    for group, target in targets[estimand]:
        rows = treat == group
        w[rows] = entropy_balance(x[rows], target, max_iter=max_iter, tol=tol) * rows.sum()
    return pd.Series(w, index=df.index, name="weight")


def entropy_balance(c: np.ndarray, target: np.ndarray, *, max_iter: int = 200, tol: float = 1e-10) -> np.ndarray:
    r"""Solve the entropy-balancing dual for one group (Hainmueller 2012, eq. 5).

    Parameters
    ----------
    c : numpy.ndarray
        Constraint columns of the reweighted units (units by moments).
    target : numpy.ndarray
        Target value of each column's weighted mean.
    max_iter : int
        Largest number of Newton steps.
    tol : float
        Stop when the largest standardised imbalance is below ``tol``.

    Returns
    -------
    numpy.ndarray
        Weights summing to one whose weighted means of ``c`` equal ``target``.

    Raises
    ------
    ModelNotIdentifiedError
        The target cannot be reached (outside the convex hull of ``c``).
    """
    sd = c.std(axis=0)
    varying = sd > 1e-12 * (1 + np.abs(c).max(axis=0))
    const_gap = np.abs(c[0, ~varying] - target[~varying]) if len(c) else np.abs(target[~varying])
    if len(c) == 0 or np.any(const_gap > 1e-12 * (1 + np.abs(target[~varying]))):
        raise ModelNotIdentifiedError(
            "entropy balancing: a covariate is constant in the reweighted group but its target differs, so "
            "the constraints cannot be met; drop the covariate or use fewer moments."
        )
    z = (c[:, varying] - target[varying]) / sd[varying]
    # drop exactly collinear columns (e.g. squares of binary indicators): they add no constraint
    q, r = np.linalg.qr(z)
    independent = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(np.diag(r)).max(initial=0.0)) * np.sqrt(len(z))
    z = z[:, independent]
    lam = np.zeros(z.shape[1])

    def dual(lam_: np.ndarray) -> tuple[float, np.ndarray]:
        eta = z @ lam_
        shift = eta.max()
        u = np.exp(eta - shift)
        return float(np.log(u.sum()) + shift), u / u.sum()

    value, p = dual(lam)
    for _ in range(max_iter):
        grad = z.T @ p
        if np.max(np.abs(grad)) < tol:
            break
        zc = z - grad
        hess = (zc * p[:, None]).T @ zc
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            new_value, new_p = dual(lam - t * step)
            if new_value <= value - 1e-4 * t * float(grad @ step) or t < 1e-12:
                break
            t /= 2
        lam, value, p = lam - t * step, new_value, new_p
    grad = z.T @ p
    if np.max(np.abs(grad)) >= max(tol, 1e-8):
        raise ModelNotIdentifiedError(
            f"entropy balancing did not converge in {max_iter} steps (largest remaining imbalance "
            f"{np.max(np.abs(grad)):.2e} SD): the target moments are probably outside the range of the "
            "reweighted group; drop or coarsen covariates, use moments=1, or trim the sample."
        )
    return p
