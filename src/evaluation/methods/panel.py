r"""Linear panel models with unit and time fixed effects.

:func:`fixed_effects` estimates

.. math:: y_{it} = x_{it}'\beta + \alpha_i + \lambda_t + \varepsilon_{it}

by (weighted) least squares after sweeping out the fixed effects, with
conventional, heteroskedasticity-robust or cluster-robust standard errors whose
small-sample corrections follow Stata (``xtreg, fe vce(cluster)``) and R's
fixest (``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``).

How the fixed effects are removed
---------------------------------
The factor with more levels (usually the unit) is swept out exactly by
(weighted) within-group demeaning; the other factor (usually the year) enters
as explicit dummies, themselves demeaned, with its first level left out. By
the Frisch-Waugh-Lovell theorem this gives the least-squares dummy-variable
coefficients exactly, without iteration, on balanced and unbalanced panels.

Conventions of the standard errors
----------------------------------
Write :math:`N` for the observations used, :math:`k` for the regressors and
:math:`K = k + K_{FE}` where :math:`K_{FE}` counts the fixed-effect parameters
(levels of the unit factor plus levels of the time factor minus one when both
are present; a model without fixed effects has an intercept and
:math:`K = k + 1`).

``"unadjusted"``
    :math:`\hat V = \hat\sigma^2 (X'WX)^{-1}` with
    :math:`\hat\sigma^2 = \sum_i w_i e_i^2 / (N - K)`; t with :math:`N-K`
    degrees of freedom (fixest ``vcov = "iid"``).
``"robust"``
    HC1: :math:`\frac{N}{N-K} (X'WX)^{-1} (\sum_i w_i^2 e_i^2 x_i x_i')
    (X'WX)^{-1}`, all fixed effects counted in :math:`K`; t with :math:`N-K`
    degrees of freedom (fixest ``vcov = "hetero"``).
``"clustered"``
    :math:`\frac{G}{G-1}\frac{N-1}{N-K_c} (X'WX)^{-1} (\sum_g u_g u_g')
    (X'WX)^{-1}` with :math:`u_g = \sum_{i \in g} w_i e_i x_i`. A fixed-effect
    factor nested in the clusters (every level inside one cluster, as units
    inside their own cluster or children inside their municipality) is not
    counted in :math:`K_c`, apart from one parameter for each such factor
    (:math:`K_c = K - L_{nested} + n_{nested}`): this reproduces Stata's
    ``xtreg, fe vce(cluster)``, which counts the regressors and the constant
    but not the absorbed unit effects, and fixest's ``fixef.K = "nested"``.
    t with :math:`G - 1` degrees of freedom (Stata, fixest ``t.df = "min"``).

References: Cameron, A. C. and Miller, D. L. (2015), "A Practitioner's Guide to
Cluster-Robust Inference", *Journal of Human Resources* 50(2), 317-372,
sections II.C and VI; Bergé, L., fixest vignette "On standard errors"
(small-sample corrections, ``ssc()``).

Rows and singletons
-------------------
Rows with a missing outcome, regressor, unit, time, cluster or weight, and
rows with zero weight, are left out; they are counted in
``FixedEffectsResult.n_dropped`` and reported in a warning (as fixest reports
removed observations). Singletons (a unit or period observed once) are kept,
as in ``xtreg`` and fixest's ``feols``; they do not change the coefficients but
count in :math:`N` and, for their fixed effect, in :math:`K`. Their number is
in ``n_singletons``.

API page: Panel fixed effects (`evaluation.methods.panel`)
--------------------------------------------------
```python
from evaluation.methods.panel import fixed_effects
fe = fixed_effects(df, outcome="y", regressors=["x1", "x2"], unit="id", time="year",
                   entity_effects=True, time_effects=True,
                   cluster=None,          # None or a column name
                   weights=None,          # column of analytic weights
                   cov_type=None,         # "unadjusted", "robust" (HC1), "clustered"; default from cluster
                   alpha=0.05)
fe.table       # by regressor: coef, se, t, p_value, ci_low, ci_high
fe.nobs, fe.n_clusters, fe.df_resid, fe.df_inference, fe.cov_type, fe.small_sample_factor
fe.estimate("x1", n_treated=0, n_control=0)   # Estimate
fe.tidy(); fe.summary()   # one row per regressor (term), coef as estimate, then t; the same as text
```

Clustered standard errors follow Stata `xtreg, fe vce(cluster)` and fixest's default: fixed
effects nested in the clusters are not counted in the small-sample correction
G/(G-1)·(N-1)/(N-K), and inference uses t with G-1 degrees of freedom. Results agree with
fixest at rtol 1e-7 (fixtures in `tests/reference/`).

The larger factor is swept out by weighted demeaning, the smaller one enters as demeaned dummies
(exact, no iteration). Whether a column is identified is read off the cross products when every
column is clearly identified, and otherwise decided by the QR of the design (a column whose part not
explained by the fixed effects and the columns before it is below 1e-9 of its size is redundant).
The within transformation itself is `evaluation.methods.within.demean(values, codes, n_levels, w)` and
`evaluation.methods.within.demeaned_dummies(codes, n_levels, within, n_within, w)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.within import demean, demeaned_dummies
from evaluation.results import Estimate, TidyResult, tidy_frame

__all__ = ["FixedEffectsResult", "fixed_effects"]

CovType = Literal["unadjusted", "robust", "clustered"]
_COV_TYPES = ("unadjusted", "robust", "clustered")
_COLLINEARITY_TOL = 1e-9
# squared scaled residual above which the cross products alone prove a column identified (see _check_identified)
_GRAM_CLEAR = 1e-6


@dataclass(frozen=True)
class FixedEffectsResult(TidyResult):
    """Result of :func:`fixed_effects`; ``tidy()`` has one row per regressor.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by regressor: ``coef, se, t, p_value, ci_low, ci_high``.
    vcov : pandas.DataFrame
        Covariance matrix of the coefficients (with the small-sample correction).
    nobs : int
        Observations used.
    n_clusters : int or None
        Number of clusters (None unless ``cov_type == "clustered"``).
    df_resid : int
        :math:`N - K`, all fixed effects counted.
    df_inference : int
        Degrees of freedom of the t-distribution used for p-values and intervals
        (:math:`G - 1` when clustered, :math:`N - K` otherwise).
    cov_type : str
        ``"unadjusted"``, ``"robust"`` or ``"clustered"``.
    n_fixed_effects : int
        Fixed-effect parameters counted in :math:`K` (:math:`K_{FE}`).
    small_sample_factor : float
        The factor applied to the sandwich (see the module docstring).
    n_dropped : dict
        Rows left out, by reason.
    n_singletons : int
        Observations that are alone in their unit or period.
    alpha : float
        1 minus the confidence level of the intervals.
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    nobs: int
    n_clusters: int | None
    df_resid: int
    df_inference: int
    cov_type: str
    n_fixed_effects: int
    small_sample_factor: float
    n_dropped: dict[str, int] = field(default_factory=dict)
    n_singletons: int = 0
    alpha: float = 0.05

    def estimate(self, regressor: str, n_treated: int = 0, n_control: int = 0) -> Estimate:
        """Return one coefficient as an :class:`~evaluation.results.Estimate`.

        Parameters
        ----------
        regressor : str
            Name of a regressor in :attr:`table`.
        n_treated, n_control : int
            Sample sizes to record; the model does not know which units are
            treated, so the caller fills them in.

        Returns
        -------
        Estimate
        """
        if regressor not in self.table.index:
            raise EvaluationError(
                f"'{regressor}' is not a regressor of this model; regressors are {list(self.table.index)}."
            )
        row = self.table.loc[regressor]
        return Estimate(
            estimate=row["coef"],
            se=row["se"],
            ci_low=row["ci_low"],
            ci_high=row["ci_high"],
            n_treated=n_treated,
            n_control=n_control,
            p_value=row["p_value"],
        )

    def tidy(self) -> pd.DataFrame:
        """Return one row per regressor (``term``): the coefficient as ``estimate``, then ``t``.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, t``; the numbers of :attr:`table` and
            :meth:`estimate`.
        """
        table = self.table.rename_axis("term").reset_index().rename(columns={"coef": "estimate"})
        return tidy_frame(table)

    def _heading(self) -> str:
        clusters = f", {self.n_clusters} clusters" if self.n_clusters is not None else ""
        return (
            f"Fixed effects: {self.nobs:,} observations, {self.cov_type} standard errors{clusters}, "
            f"t with {self.df_inference} degrees of freedom, {1 - self.alpha:.0%} intervals"
        )


def fixed_effects(
    df: pd.DataFrame,
    outcome: str,
    regressors: Sequence[str],
    unit: str,
    time: str,
    entity_effects: bool = True,
    time_effects: bool = True,
    cluster: str | None = None,
    weights: str | None = None,
    cov_type: CovType | None = None,
    *,
    alpha: float = 0.05,
) -> FixedEffectsResult:
    """Estimate a linear model with unit and/or time fixed effects.

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel: one row per unit and period (unbalanced panels allowed).
    outcome : str
        Column of the dependent variable.
    regressors : sequence of str
        Columns of the regressors (numeric; binary indicators included as 0/1).
    unit, time : str
        Columns identifying the unit and the period.
    entity_effects, time_effects : bool
        Whether to include unit and time fixed effects.
    cluster : str or None
        Column to cluster the standard errors on (for example ``"municipality"``;
        it need not be the unit).
    weights : str or None
        Column of analytic weights (weighted least squares, as Stata ``aweight``
        and fixest ``weights``).
    cov_type : {"unadjusted", "robust", "clustered"} or None
        None means ``"clustered"`` when ``cluster`` is given, else ``"unadjusted"``.
    alpha : float
        1 minus the confidence level of the intervals (keyword only).

    Returns
    -------
    FixedEffectsResult

    Raises
    ------
    EvaluationError
        A column is missing, an option is invalid, weights are negative, or no
        rows remain.
    ModelNotIdentifiedError
        A regressor is collinear with the fixed effects or the other regressors
        (for example constant within units under entity effects).

    Notes
    -----
    The conventions of the standard errors (degrees of freedom, small-sample
    factors, fixed effects nested in clusters) are documented in the module
    docstring of :mod:`evaluation.methods.panel`.
    """
    regressors = list(regressors)
    if isinstance(regressors, str) or not regressors:
        raise EvaluationError("fixed_effects needs a non-empty list of regressor names, e.g. regressors=['treated'].")
    if cov_type is None:
        cov_type = "clustered" if cluster is not None else "unadjusted"
    if cov_type not in _COV_TYPES:
        raise EvaluationError(f"cov_type must be one of {_COV_TYPES} or None, not {cov_type!r}.")
    if cov_type == "clustered" and cluster is None:
        raise EvaluationError("cov_type='clustered' needs a cluster column: pass cluster='<column>'.")
    if not 0 < alpha < 1:
        raise EvaluationError(f"alpha must lie strictly between 0 and 1, not {alpha}.")
    needed = [outcome, *regressors, unit, time]
    if cluster is not None:
        needed.append(cluster)
    if weights is not None:
        needed.append(weights)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise EvaluationError(
            f"fixed_effects: column(s) {missing} not in the data (columns are {list(df.columns)}); "
            "check the names passed as outcome, regressors, unit, time, cluster and weights."
        )
    for col in [outcome, *regressors] + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            raise EvaluationError(
                f"fixed_effects: column '{col}' has type {df[col].dtype}; it must be numeric (code categories as 0/1)."
            )

    data, n_dropped = _usable_rows(df, list(dict.fromkeys(needed)), weights)
    nobs = len(data)
    if nobs == 0:
        raise EvaluationError("fixed_effects: no rows left after removing missing values; check the input columns.")

    y = data[outcome].to_numpy(dtype=float)
    x = data[regressors].to_numpy(dtype=float)
    w = data[weights].to_numpy(dtype=float) if weights is not None else np.ones(nobs)
    unit_codes, unit_levels = pd.factorize(data[unit], sort=True)
    time_codes, time_levels = pd.factorize(data[time], sort=True)
    n_units, n_times = len(unit_levels), len(time_levels)

    factors: list[tuple[str, np.ndarray, int]] = []
    if entity_effects:
        factors.append((unit, unit_codes, n_units))
    if time_effects:
        factors.append((time, time_codes, n_times))
    n_singletons = int(
        sum(np.sum(np.bincount(codes, minlength=n)[codes] == 1) for _, codes, n in factors) if factors else 0
    )

    # Sweep out the larger factor exactly; the smaller one enters as dummies.
    d_t = np.empty((nobs, 0))
    dummy_names: list[str] = []
    d_sq_norms = np.empty(0)  # weighted squared norms of the raw dummies
    if factors:
        factors_by_size = sorted(factors, key=lambda f: f[2], reverse=True)
        _, a_codes, n_a = factors_by_size[0]
        y_t = demean(y, a_codes, n_a, w)
        x_t = demean(x, a_codes, n_a, w)
        if len(factors_by_size) == 2:
            name, b_codes, n_b = factors_by_size[1]
            d_t = demeaned_dummies(b_codes, n_b, a_codes, n_a, w)
            dummy_names = [f"__fe_{name}_{j}" for j in range(1, n_b)]
            d_sq_norms = np.bincount(b_codes, weights=w, minlength=n_b)[1:]
    else:
        y_t, x_t = y, x
        d_t = np.ones((nobs, 1))
        dummy_names = ["Intercept"]
        d_sq_norms = np.array([w.sum()])

    sq_norms = np.concatenate([d_sq_norms, np.einsum("ij,ij,i->j", x, x, w)])
    design, gram, n_dummies_kept = _check_identified(d_t, dummy_names, x_t, sq_norms, regressors, w)

    try:
        bread = np.linalg.inv(gram)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - guarded by _check_identified
        raise ModelNotIdentifiedError(f"fixed_effects: the regressors {regressors} are not identified.") from exc
    beta = bread @ (design.T @ (w * y_t))
    resid = y_t - design @ beta

    if factors:
        k_fe = sum(n for _, _, n in factors) - (len(factors) - 1) - (len(dummy_names) - n_dummies_kept)
        k_total = len(regressors) + k_fe
        reported = list(range(n_dummies_kept, design.shape[1]))
        names = regressors
    else:
        k_fe = 0
        k_total = len(regressors) + 1
        reported = list(range(design.shape[1]))
        names = ["Intercept", *regressors]

    if nobs - k_total <= 0:
        raise ModelNotIdentifiedError(
            f"fixed_effects: {nobs} observations cannot identify {k_total} parameters "
            f"({len(regressors)} regressors and {k_fe} fixed effects)."
        )

    n_clusters: int | None = None
    if cov_type == "unadjusted":
        sigma2 = float(np.sum(w * resid**2)) / (nobs - k_total)
        factor = 1.0
        vcov = sigma2 * bread
        df_inf = nobs - k_total
    elif cov_type == "robust":
        scores = design * (w * resid)[:, None]
        meat = scores.T @ scores
        factor = nobs / (nobs - k_total)
        vcov = factor * bread @ meat @ bread
        df_inf = nobs - k_total
    else:
        cl_codes, cl_levels = pd.factorize(data[cluster], sort=True)
        n_clusters = len(cl_levels)
        if n_clusters < 2:
            raise EvaluationError(f"fixed_effects: clustering on '{cluster}' needs at least 2 clusters, found 1.")
        we = w * resid
        cluster_scores = np.column_stack(
            [np.bincount(cl_codes, weights=we * design[:, j], minlength=n_clusters) for j in range(design.shape[1])]
        )
        meat = cluster_scores.T @ cluster_scores
        k_nested = 0
        n_nested = 0
        for _, codes, n_levels in factors:
            if _is_nested(codes, n_levels, cl_codes):
                k_nested += n_levels
                n_nested += 1
        k_cluster = k_total - k_nested + n_nested
        factor = n_clusters / (n_clusters - 1) * (nobs - 1) / (nobs - k_cluster)
        vcov = factor * bread @ meat @ bread
        df_inf = n_clusters - 1

    coef = beta[reported]
    vc = vcov[np.ix_(reported, reported)]
    se = np.sqrt(np.maximum(np.diag(vc), 0.0))  # a sandwich is positive semi-definite: below 0 is rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = coef / se
    p_value = 2 * stats.t.sf(np.abs(tstat), df_inf)
    crit = stats.t.ppf(1 - alpha / 2, df_inf)
    table = pd.DataFrame(
        {
            "coef": coef,
            "se": se,
            "t": tstat,
            "p_value": p_value,
            "ci_low": coef - crit * se,
            "ci_high": coef + crit * se,
        },
        index=pd.Index(names, name="regressor"),
    )
    return FixedEffectsResult(
        table=table,
        vcov=pd.DataFrame(vc, index=names, columns=names),
        nobs=nobs,
        n_clusters=n_clusters,
        df_resid=nobs - k_total,
        df_inference=int(df_inf),
        cov_type=cov_type,
        n_fixed_effects=int(k_fe),
        small_sample_factor=float(factor),
        n_dropped=n_dropped,
        n_singletons=n_singletons,
        alpha=alpha,
    )


def _usable_rows(df: pd.DataFrame, columns: list[str], weights: str | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep rows with every needed value present (and positive weight); count the rest by reason."""
    data = df[columns]
    n_dropped: dict[str, int] = {}
    missing = data.isna()
    any_missing = missing.any(axis=1).to_numpy()
    for col in columns:
        count = int(missing[col].sum())
        if count:
            n_dropped[f"missing_{col}"] = count
    keep = ~any_missing
    if weights is not None:
        wv = data[weights].to_numpy(dtype=float, na_value=np.nan)
        negative = keep & (wv < 0)
        if negative.any():
            first = data.index[np.flatnonzero(negative)[0]]
            raise EvaluationError(
                f"fixed_effects: weight column '{weights}' has {int(negative.sum())} negative value(s) "
                f"(first at row {first!r}: {wv[np.flatnonzero(negative)[0]]}); weights must be >= 0."
            )
        zero = keep & (wv == 0)
        if zero.any():
            n_dropped["zero_weight"] = int(zero.sum())
            keep &= ~zero
    if n_dropped:
        warnings.warn(
            f"fixed_effects: {int((~keep).sum())} of {len(df)} rows left out ({n_dropped}).",
            UserWarning,
            stacklevel=3,
        )
    return data.loc[keep], n_dropped


def _check_identified(
    d_t: np.ndarray,
    dummy_names: list[str],
    x_t: np.ndarray,
    sq_norms: np.ndarray,
    regressors: list[str],
    w: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop redundant fixed-effect dummies and fail on regressors the model cannot identify.

    A column counts as redundant when the part of it not explained by the fixed
    effects and the columns before it is below ``_COLLINEARITY_TOL`` relative to
    its own (weighted) size: the diagonal of R in the QR decomposition of the
    weighted, column-scaled design.

    The squares of those diagonal elements are first read off the cross-product
    matrix (sequential Schur complements), which costs one pass over the rows.
    When every one of them is far above rounding error (``_GRAM_CLEAR``) no column
    can be redundant and the QR is not needed; otherwise the decision is taken by
    the QR of the full design, which resolves residuals down to ``_COLLINEARITY_TOL``.

    Returns the design with the kept columns, its weighted cross-product matrix
    and the number of dummies kept.
    """
    n_d = d_t.shape[1]
    design = np.hstack([d_t, x_t])
    gram = design.T @ (design * w[:, None])
    # columns scaled by the weighted norms of the raw (not demeaned) columns, sqrt(sum_i w_i z_ij^2)
    scale = np.sqrt(sq_norms)
    scale[scale == 0] = 1.0
    if np.all(_sequential_residuals(gram / np.outer(scale, scale)) > _GRAM_CLEAR):
        return design, gram, n_d

    sw = np.sqrt(w)
    r = np.linalg.qr(design * (sw[:, None] / scale), mode="r")
    diag = np.abs(np.diag(r))
    redundant = diag < _COLLINEARITY_TOL
    bad = [regressors[j - n_d] for j in range(n_d, design.shape[1]) if redundant[j]]
    if bad:
        raise ModelNotIdentifiedError(
            f"fixed_effects: regressor(s) {bad} are collinear with the fixed effects or the other regressors "
            "(for example constant within units under entity effects, or constant within periods under time "
            "effects); remove them or drop the fixed effect that absorbs them."
        )
    keep = [j for j in range(design.shape[1]) if not redundant[j]]
    if any(redundant[:n_d]):
        # a redundant dummy can change the QR of later columns: recheck on the reduced design
        reduced = design[:, keep]
        r2 = np.linalg.qr(reduced * (sw[:, None] / scale[keep]), mode="r")
        if np.any(np.abs(np.diag(r2)) < _COLLINEARITY_TOL):
            raise ModelNotIdentifiedError(f"fixed_effects: the regressors {regressors} are not identified.")
    n_kept = int(np.sum(~redundant[:n_d]))
    return design[:, keep], gram[np.ix_(keep, keep)], n_kept


def _sequential_residuals(gram: np.ndarray) -> np.ndarray:
    """Squared norm of each column's part not explained by the columns before it, from their cross products.

    Gaussian elimination without pivoting on the (scaled) cross-product matrix: entry j is the Schur
    complement of column j given columns 0..j-1, the square of R[j, j] in the QR decomposition. A
    column at or below ``_GRAM_CLEAR`` is not eliminated on, as the QR would find it (nearly) redundant.
    """
    g = np.array(gram, dtype=float)
    out = np.empty(len(g))
    for j in range(len(g)):
        out[j] = g[j, j]
        if out[j] > _GRAM_CLEAR:
            g[j + 1 :, j + 1 :] -= np.outer(g[j + 1 :, j], g[j, j + 1 :]) / out[j]
    return out


def _is_nested(fe_codes: np.ndarray, n_levels: int, cluster_codes: np.ndarray) -> bool:
    """Tell whether every level of a fixed effect lies inside a single cluster."""
    first_cluster = np.full(n_levels, -1, dtype=np.int64)
    first_cluster[fe_codes[::-1]] = cluster_codes[::-1]
    return bool(np.all(first_cluster[fe_codes] == cluster_codes))
