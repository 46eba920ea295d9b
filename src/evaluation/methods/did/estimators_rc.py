r"""Two-period DiD estimators of the ATT with repeated cross sections (Sant'Anna and Zhao 2020).

The repeated cross-section twins of :mod:`evaluation.methods.did.estimators`. Each observation ``i``
is seen once, in the base period (``post = 0``) or in the later period (``post = 1``), and
belongs to the treated group (``d = 1``) or the comparison group (``d = 0``); covariates are
the observation's own. Each estimator returns the ATT and its influence function, one value
per observation, scaled so that ``mean(psi**2) / n`` is the variance of the estimate. They
follow R ``DRDID`` (version 1.2 and later) formula by formula:

``"reg"`` (``reg_did_rc``)
    Outcome regression (Sant'Anna and Zhao 2020, eq. 2.2):
    separate least-squares fits :math:`\mu_{0,t}(X)` on the comparison observations of each
    period, and :math:`\hat\tau = \bar Y_{1,1} - \bar Y_{1,0} -
    \bar E_n[\hat\mu_{0,1}(X) - \hat\mu_{0,0}(X) \mid D = 1]`. Without covariates this is the
    difference of the four cell means.
``"ipw"`` (``std_ipw_did_rc``)
    Normalised (Hájek) inverse probability weighting (Abadie 2005; Sant'Anna and Zhao 2020,
    eq. 4.2): logit propensity score of ``d`` on ``X`` by maximum likelihood over all
    observations, comparison weights :math:`p(X)/(1-p(X))` normalised within each period.
``"dr"`` (``drdid_rc``)
    The locally efficient doubly robust estimator (Sant'Anna and Zhao 2020, eq. 3.4): logit
    propensity score, and least-squares outcome regressions for both groups in both periods.
    This is what R ``did::att_gt(est_method = "dr", panel = FALSE)`` calls. The influence
    function is ``DRDID``'s as published: it *adds* the estimation effect of the pre-period
    outcome regressions of the comparison group (``inf.treat.or.post + inf.treat.or.pre`` and
    ``inf.cont.or.post + inf.cont.or.pre``) where a first-order expansion subtracts it; the
    two agree asymptotically (the term converges to zero when either first-step model is
    correct); on the data of DRDID's regression lock they differ in the third significant digit of
    the standard error, and this module reproduces R's locked value (``tests/test_did_rc.py``).
``"dr_imp"`` (``drdid_imp_rc``)
    The improved, locally efficient doubly robust estimator (Sant'Anna and Zhao 2020,
    section 3.2): propensity score by inverse probability tilting
    (:func:`evaluation.methods.did.estimators.ipt_fit`), comparison-group outcome regressions weighted
    by :math:`p(X)/(1-p(X))`, treated-group ones by least squares; the influence function is
    the plug-in one (no estimation effects, Sant'Anna and Zhao 2020, section 3.2).

Conventions copied from ``DRDID``: sampling weights are normalised to mean one; the fitted
propensity score is capped at :math:`1 - 10^{-6}`; comparison observations with a score of
0.995 or more are trimmed (``trim.level = 0.995``).

References
----------
Sant'Anna, P. H. C. and Zhao, J. (2020), "Doubly robust difference-in-differences
estimators", *Journal of Econometrics* 219(1), 101-122.
Abadie, A. (2005), "Semiparametric difference-in-differences estimators",
*Review of Economic Studies* 72(1), 1-19.
"""

from __future__ import annotations

import numpy as np

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did.estimators import (
    METHODS,
    Method,
    _xtwx,
    ipt_fit,
    lin_rep_logit,
    logit_fit,
    propensity,
    wls,
)

__all__ = ["did_rc"]


def did_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: Method
) -> tuple[float, np.ndarray]:
    r"""ATT of a two-period repeated cross-section comparison and its influence function.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome of each observation.
    post : numpy.ndarray
        1 for observations of the later period, 0 for the base period.
    d : numpy.ndarray
        1 for treated-group observations, 0 for comparison observations.
    x : numpy.ndarray
        Covariate matrix whose first column is the intercept (``n x k``), each observation's own values.
    w : numpy.ndarray
        Sampling weights (normalised here to mean one, as ``DRDID``).
    method : {"dr", "dr_imp", "ipw", "reg"}
        The estimator (module docstring).

    Returns
    -------
    att : float
    psi : numpy.ndarray
        The influence function, one value per observation, with ``Var(att) = mean(psi**2) / n``.

    Raises
    ------
    ModelNotIdentifiedError
        When one of the four cells (group by period) is empty or a regression is singular.
    """
    if method not in METHODS:
        raise EvaluationError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    post = post.astype(float)
    d = d.astype(float)
    for label, cell in (
        ("treated, base period", d * (1 - post)),
        ("treated, later period", d * post),
        ("comparison, base period", (1 - d) * (1 - post)),
        ("comparison, later period", (1 - d) * post),
    ):
        if not cell.any():
            raise ModelNotIdentifiedError(f"no {label} observations in this repeated cross-section comparison")
    w = w / w.mean()
    if method == "reg":
        return _reg_rc(y, post, d, x, w)
    if method == "ipw":
        return _ipw_rc(y, post, d, x, w)
    if method == "dr":
        return _dr_rc(y, post, d, x, w)
    return _dr_imp_rc(y, post, d, x, w)


def _fit_in(x: np.ndarray, y: np.ndarray, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fitted values over all observations of a weighted least-squares fit on the ``mask`` cell."""
    return x @ wls(x[mask], y[mask], w[mask])


def _lin_rep_ols(x: np.ndarray, resid: np.ndarray, w_ols: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of least-squares coefficients (rows: observations)."""
    n = len(resid)
    return (w_ols * resid)[:, None] * x @ np.linalg.inv(_xtwx(x, w_ols) / n)


def _ratio(weight: np.ndarray, values: np.ndarray) -> float:
    """Weighted mean ``E_n[weight * values] / E_n[weight]``, refusing an empty (trimmed-away) cell."""
    total = weight.mean()
    if total == 0:
        raise ModelNotIdentifiedError("no treated or no comparison observations are left after propensity trimming")
    return float(np.mean(weight * values) / total)


def _centred(weight: np.ndarray, values: np.ndarray, mean: float) -> np.ndarray:
    """Leading influence-function term ``weight * (values - mean) / E_n[weight]`` of a weighted mean."""
    return weight * (values - mean) / weight.mean()


def _reg_rc(y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD (``DRDID::reg_did_rc``)."""
    w_ols_pre, w_ols_post = w * (1 - d) * (1 - post), w * (1 - d) * post
    or_pre = _fit_in(x, y, w, w_ols_pre > 0)
    or_post = _fit_in(x, y, w, w_ols_post > 0)
    w_treat_pre, w_treat_post, w_d = w * d * (1 - post), w * d * post, w * d
    eta_pre, eta_post = _ratio(w_treat_pre, y), _ratio(w_treat_post, y)
    eta_cont = _ratio(w_d, or_post - or_pre)
    att = (eta_post - eta_pre) - eta_cont
    inf_treat = _centred(w_treat_post, y, eta_post) - _centred(w_treat_pre, y, eta_pre)
    m1 = (w_d[:, None] * x).mean(axis=0)
    lin_pre = _lin_rep_ols(x, y - or_pre, w_ols_pre)
    lin_post = _lin_rep_ols(x, y - or_post, w_ols_post)
    inf_cont = (w_d * (or_post - or_pre - eta_cont) + (lin_post - lin_pre) @ m1) / w_d.mean()
    return float(att), inf_treat - inf_cont


def _ipw_rc(y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Normalised IPW DiD (``DRDID::std_ipw_did_rc``)."""
    _, ps, keep = propensity(x, logit_fit(x, d, w), d)
    odds = ps / (1 - ps)
    w_treat_pre, w_treat_post = keep * w * d * (1 - post), keep * w * d * post
    w_cont_pre, w_cont_post = keep * w * odds * (1 - d) * (1 - post), keep * w * odds * (1 - d) * post
    att_treat_pre, att_treat_post = _ratio(w_treat_pre, y), _ratio(w_treat_post, y)
    att_cont_pre, att_cont_post = _ratio(w_cont_pre, y), _ratio(w_cont_post, y)
    att = (att_treat_post - att_treat_pre) - (att_cont_post - att_cont_pre)
    inf_treat = _centred(w_treat_post, y, att_treat_post) - _centred(w_treat_pre, y, att_treat_pre)
    inf_cont = _centred(w_cont_post, y, att_cont_post) - _centred(w_cont_pre, y, att_cont_pre)
    m2_pre = ((w_cont_pre * (y - att_cont_pre))[:, None] * x).mean(axis=0) / w_cont_pre.mean()
    m2_post = ((w_cont_post * (y - att_cont_post))[:, None] * x).mean(axis=0) / w_cont_post.mean()
    inf_cont = inf_cont + lin_rep_logit(x, d, w, ps, ps) @ (m2_post - m2_pre)
    return float(att), inf_treat - inf_cont


def _dr_rc(y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient DR DiD (``DRDID::drdid_rc``), Sant'Anna and Zhao (2020) eq. 3.4, with its full IF."""
    _, ps, keep = propensity(x, logit_fit(x, d, w), d)
    odds = ps / (1 - ps)
    w_ols = {
        (0, 0): w * (1 - d) * (1 - post),
        (0, 1): w * (1 - d) * post,
        (1, 0): w * d * (1 - post),
        (1, 1): w * d * post,
    }
    fit = {cell: _fit_in(x, y, w, weight > 0) for cell, weight in w_ols.items()}
    lin = {cell: _lin_rep_ols(x, y - fit[cell], w_ols[cell]) for cell in w_ols}
    or_cont = post * fit[0, 1] + (1 - post) * fit[0, 0]
    resid = y - or_cont
    w_treat_pre, w_treat_post = keep * w * d * (1 - post), keep * w * d * post
    w_cont_pre, w_cont_post = keep * w * odds * (1 - d) * (1 - post), keep * w * odds * (1 - d) * post
    w_d, w_dt1, w_dt0 = keep * w * d, w_treat_post, w_treat_pre
    gap_post, gap_pre = fit[1, 1] - fit[0, 1], fit[1, 0] - fit[0, 0]
    att_treat_pre, att_treat_post = _ratio(w_treat_pre, resid), _ratio(w_treat_post, resid)
    att_cont_pre, att_cont_post = _ratio(w_cont_pre, resid), _ratio(w_cont_post, resid)
    att_d_post, att_dt1_post = _ratio(w_d, gap_post), _ratio(w_dt1, gap_post)
    att_d_pre, att_dt0_pre = _ratio(w_d, gap_pre), _ratio(w_dt0, gap_pre)
    att = (
        (att_treat_post - att_treat_pre)
        - (att_cont_post - att_cont_pre)
        + (att_d_post - att_dt1_post)
        - (att_d_pre - att_dt0_pre)
    )

    def colmean(weight: np.ndarray) -> np.ndarray:
        return (weight[:, None] * x).mean(axis=0) / weight.mean()

    # outcome-regression estimation effects, with DRDID's signs (module docstring)
    inf_treat_or = -(lin[0, 1] @ colmean(w_treat_post)) - lin[0, 0] @ colmean(w_treat_pre)
    inf_cont_or = -(lin[0, 1] @ colmean(w_cont_post)) - lin[0, 0] @ colmean(w_cont_pre)
    inf_treat = (
        _centred(w_treat_post, resid, att_treat_post) - _centred(w_treat_pre, resid, att_treat_pre) + inf_treat_or
    )
    m2_pre = ((w_cont_pre * (resid - att_cont_pre))[:, None] * x).mean(axis=0) / w_cont_pre.mean()
    m2_post = ((w_cont_post * (resid - att_cont_post))[:, None] * x).mean(axis=0) / w_cont_post.mean()
    inf_cont = (
        _centred(w_cont_post, resid, att_cont_post)
        - _centred(w_cont_pre, resid, att_cont_pre)
        + lin_rep_logit(x, d, w, ps, ps) @ (m2_post - m2_pre)
        + inf_cont_or
    )
    inf_eff = (
        _centred(w_d, gap_post, att_d_post)
        - _centred(w_dt1, gap_post, att_dt1_post)
        - (_centred(w_d, gap_pre, att_d_pre) - _centred(w_dt0, gap_pre, att_dt0_pre))
    )
    mom_post = ((w_d / w_d.mean() - w_dt1 / w_dt1.mean())[:, None] * x).mean(axis=0)
    mom_pre = ((w_d / w_d.mean() - w_dt0 / w_dt0.mean())[:, None] * x).mean(axis=0)
    inf_or = (lin[1, 1] - lin[0, 1]) @ mom_post - (lin[1, 0] - lin[0, 0]) @ mom_pre
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


def _dr_imp_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Improved locally efficient DR DiD (``DRDID::drdid_imp_rc``), Sant'Anna and Zhao (2020) section 3.2."""
    _, ps, keep = propensity(x, ipt_fit(x, d, w), d)
    odds = ps / (1 - ps)
    or_cont_pre = _fit_in(x, y, w * odds, (d == 0) & (post == 0))
    or_cont_post = _fit_in(x, y, w * odds, (d == 0) & (post == 1))
    or_treat_pre = _fit_in(x, y, w, (d == 1) & (post == 0))
    or_treat_post = _fit_in(x, y, w, (d == 1) & (post == 1))
    resid = y - (post * or_cont_post + (1 - post) * or_cont_pre)
    w_treat_pre, w_treat_post = w * d * (1 - post), w * d * post
    w_cont_pre, w_cont_post = keep * w * odds * (1 - d) * (1 - post), keep * w * odds * (1 - d) * post
    w_d = w * d
    gap_post, gap_pre = or_treat_post - or_cont_post, or_treat_pre - or_cont_pre
    terms = [
        (1.0, w_treat_post, resid),
        (-1.0, w_treat_pre, resid),
        (-1.0, w_cont_post, resid),
        (1.0, w_cont_pre, resid),
        (1.0, w_d, gap_post),
        (-1.0, w_treat_post, gap_post),
        (-1.0, w_d, gap_pre),
        (1.0, w_treat_pre, gap_pre),
    ]
    means = [_ratio(weight, values) for _, weight, values in terms]
    att = sum(sign * m for (sign, _, _), m in zip(terms, means, strict=True))
    psi = sum(sign * _centred(weight, values, m) for (sign, weight, values), m in zip(terms, means, strict=True))
    return float(att), np.asarray(psi, dtype=float)
