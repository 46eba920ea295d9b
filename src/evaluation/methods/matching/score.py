"""Propensity scores: the model matrix of the covariates and the logit or probit fit.

The score is fitted on the covariates as given (linear terms, as MatchIt's
``distance = "glm"``): numeric and boolean columns enter as they are, other
columns (strings, categoricals) as indicator columns with the first level left
out. The caller adds squares or interactions as columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from evaluation.errors import EvaluationError

__all__ = ["covariate_matrix", "fit_propensity"]


def covariate_matrix(df: pd.DataFrame, covariates: Sequence[str], *, drop_first: bool) -> pd.DataFrame:
    """Return the covariates as a float matrix, categorical columns expanded to indicators.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    covariates : sequence of str
        Covariate columns.
    drop_first : bool
        Leave out the first level of each categorical column (for a model with
        an intercept); keep every level for balance tables.

    Returns
    -------
    pandas.DataFrame
        Float columns, aligned with ``df``; indicator columns are named ``"<column>_<level>"``.
    """
    parts = []
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype(float).rename(col))
        else:
            levels = sorted(pd.unique(s.dropna()), key=str)
            used = levels[1:] if drop_first else levels
            for level in used:
                parts.append((s == level).astype(float).rename(f"{col}_{level}"))
    if not parts:
        return pd.DataFrame(index=df.index)
    return pd.concat(parts, axis=1)


def fit_propensity(
    df: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    link: Literal["logit", "probit"] = "logit",
    *,
    solver: Literal["irls", "newton"] = "irls",
) -> tuple[pd.Series, pd.Series]:
    """Fit a binary-response GLM of the treatment on the covariates.

    Parameters
    ----------
    df : pandas.DataFrame
        Data with a 0/1 treatment column and complete covariates.
    treatment : str
        The treatment column.
    covariates : sequence of str
        The covariates (linear terms with an intercept).
    link : {"logit", "probit"}
        Link function (statsmodels GLM, binomial family, fitted by IRLS as R's ``glm``).
    solver : {"irls", "newton"}
        ``"irls"``: statsmodels' GLM, as above. ``"newton"`` (logit only): Newton-Raphson with step halving on
        the log-likelihood, solving the information matrix's equations directly, which reaches the same maximum
        (to about 1e-10) several times faster on large samples because it forms no pseudo-inverse; where it
        does not settle (a covariate that separates the groups, a singular design) the fit falls back to IRLS,
        so the result is IRLS's there. The randomization inference that redoes the matching for every
        reassignment uses it (:mod:`evaluation.steps.design_randomization`).

    Returns
    -------
    probability, linear_predictor : pandas.Series
        The fitted propensity score and the linear predictor, aligned with ``df``.

    Raises
    ------
    EvaluationError
        The model cannot be fitted (for example perfect separation).
    """
    x = covariate_matrix(df, covariates, drop_first=True)
    design = sm.add_constant(x.to_numpy(dtype=float), has_constant="add")
    y = df[treatment].to_numpy(dtype=float)
    link_obj = sm.families.links.Logit() if link == "logit" else sm.families.links.Probit()
    if solver == "newton":
        if link != "logit":
            raise EvaluationError(f"fit_propensity: solver 'newton' fits the logit only, not the {link}.")
        params = _newton_logit(design, y)
    elif solver == "irls":
        params = None
    else:
        raise EvaluationError(f"fit_propensity: solver must be 'irls' or 'newton', not {solver!r}.")
    if params is None:
        model = sm.GLM(y, design, family=sm.families.Binomial(link=link_obj))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                params = model.fit(tol=1e-12, maxiter=100).params
            except Exception as exc:  # statsmodels raises several types on separation/singularity
                raise EvaluationError(
                    f"The {link} propensity model of '{treatment}' on {list(covariates)} could not be fitted ({exc}); "
                    "check for covariates that separate treated and comparison units perfectly."
                ) from exc
    # Row by row, so that units with identical covariates get identical scores (ties, as R's glm gives them);
    # a BLAS product may round identical rows differently by their position in memory.
    linear = np.sum(design * params, axis=1)
    prob = link_obj.inverse(linear)
    if not np.all(np.isfinite(prob)):
        raise EvaluationError(f"The {link} propensity model of '{treatment}' gave non-finite scores.")
    return pd.Series(prob, index=df.index, name="propensity"), pd.Series(linear, index=df.index, name="linear")


def _newton_logit(x: np.ndarray, y: np.ndarray, *, tol: float = 1e-10, max_iter: int = 25) -> np.ndarray | None:
    """Logit maximum likelihood by Newton-Raphson, halving a step that does not raise the log-likelihood.

    Returns the coefficients once no coefficient moves by more than ``tol`` relative to the largest, or None when
    the information matrix is singular or the steps do not settle within ``max_iter`` (a covariate that separates
    the groups, wholly or in part, sends coefficients off to infinity); the caller then fits by IRLS, whose result
    in those cases is where its deviance stopped changing.
    """

    def loglik(eta: np.ndarray) -> float:
        return float(y @ eta - np.logaddexp(0.0, eta).sum())

    beta = np.zeros(x.shape[1])
    eta = x @ beta
    current = loglik(eta)
    for _ in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # the logistic function without overflow
        info = (x * (p * (1.0 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(info, x.T @ (y - p))
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while True:
            candidate = beta + t * step
            eta_c = x @ candidate
            value = loglik(eta_c)
            if value >= current - 1e-12 * abs(current) or t < 1e-8:
                break
            t /= 2
        beta, eta, current = candidate, eta_c, value
        if not np.all(np.isfinite(beta)):
            return None
        if np.max(np.abs(t * step)) < tol * (1.0 + np.max(np.abs(beta))):
            return beta
    return None
