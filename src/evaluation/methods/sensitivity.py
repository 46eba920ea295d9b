r"""Sensitivity of an event-study effect to violations of parallel trends (Rambachan and Roth 2023, "HonestDiD").

An event study estimates :math:`\hat\beta = (\hat\beta_{pre}', \hat\beta_{post}')' \approx N(\beta, \Sigma)` with
:math:`\beta = (0', \tau_{post}')' + \delta`: the post-period coefficients are the effects :math:`\tau` plus the
difference in trends :math:`\delta`, and the pre-period coefficients are :math:`\delta_{pre}` (the reference period
0, just before treatment, is normalised to :math:`\delta_0 = 0` and excluded from :math:`\hat\beta`). Parallel trends
says :math:`\delta_{post} = 0`. Rambachan and Roth (2023) instead assume only :math:`\delta \in \Delta` and report a
confidence set for :math:`\theta = l'\tau_{post}` (here the first post-period effect, :math:`l = e_1`) that is valid
for every :math:`\delta \in \Delta`, for a range of the parameter that sizes :math:`\Delta`:

``relative_magnitudes``, :math:`\Delta^{RM}(\bar M)`
    No post-period change in the trend difference is more than :math:`\bar M` times the largest pre-period change,
    :math:`|\delta_{t+1} - \delta_t| \le \bar M \max_{s < 0} |\delta_{s+1} - \delta_s|` for :math:`t \ge 0`.
    :math:`\Delta^{RM}` is the union over the location :math:`s` and sign of the largest pre-period change of
    polyhedra :math:`\{A_{s,\pm} \delta \le 0\}`, and the confidence set is the union of the sets for each one.
    Each is the conditional-least-favourable hybrid test of Andrews, Roth and Pakes (2023) ("C-LF" in the package)
    with first-stage size :math:`\kappa = \alpha / 10`, inverted on a grid of ``grid_points`` values of
    :math:`\theta` on :math:`\pm 20` standard errors of :math:`\hat\theta` around zero.
``smoothness``, :math:`\Delta^{SD}(M)`
    The slope of the trend difference changes by at most :math:`M` between consecutive periods,
    :math:`|(\delta_{t+1} - \delta_t) - (\delta_t - \delta_{t-1})| \le M`. :math:`M = 0` allows exactly linear
    trends. The confidence set is the optimal fixed-length confidence interval (FLCI; Armstrong and Kolesar 2018,
    as adapted by Rambachan and Roth 2023): the affine estimator :math:`v'\hat\beta` with :math:`v_{post} = l` whose
    half-length :math:`h\, cv_\alpha(\bar b / h)` is smallest, where :math:`h` is its standard error,
    :math:`\bar b` its worst-case bias over :math:`\Delta^{SD}(M)` and :math:`cv_\alpha(t)` the :math:`1-\alpha`
    quantile of :math:`|N(t, 1)|`. The minimal bias for a given :math:`h` is read off the exact solution path of an
    :math:`\ell_1`-penalised quadratic programme (a lasso path in the cumulated weights), so no conic solver is needed.

These are the defaults of R ``HonestDiD`` (``createSensitivityResults_relativeMagnitudes`` and
``createSensitivityResults``), and :func:`honest_did` reproduces them: its grid, its search for the FLCI's
standard error and its Monte Carlo draws (the least-favourable critical value uses 1,000 draws and the folded-normal
quantile 1,000,000 draws, both from R's ``set.seed(seed)`` stream, which is reproduced here). On the
Benzarti-Carloni, Lovenheim-Willen and Medicaid examples it returns the same grid points as HonestDiD 0.2.6 for
relative magnitudes, and FLCIs whose half-lengths agree to 1e-6 (centres to 5e-4 of the half-length, the precision of
R's cone solver) for smoothness (``tests/test_honest_did.py``, references in ``tests/reference/honestdid``).

References: Rambachan, A. and J. Roth (2023), "A more credible approach to parallel trends", *Review of Economic
Studies* 90(5), 2555-2591. Andrews, I., J. Roth and A. Pakes (2023), "Inference for linear conditional moment
inequalities", *Review of Economic Studies* 90(6), 2763-2791. Armstrong, T. and M. Kolesar (2018), "Optimal inference
in a class of regression models", *Econometrica* 86(2), 655-683.

API page: Sensitivity to parallel trends (`evaluation.methods.sensitivity`)
-------------------------------------------------------------------
```python
from evaluation.methods.sensitivity import honest_did, original_ci, breakdown_m, SensitivityInputError, GridEndWarning
rm = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2,
                method="relative_magnitudes", m=[0, 0.5, 1, 1.5, 2])   # Delta^RM(Mbar), C-LF hybrid
sd = honest_did(betahat, sigma, 5, 2, method="smoothness", m=[0, 0.01, 0.02])   # Delta^SD(M), FLCI
rm                       # m, ci_low, ci_high, method, ci_method: one row per m, for the first post-period effect
original_ci(betahat, sigma, 5, 2)   # (low, high): the conventional interval for that coefficient
breakdown_m(rm)          # smallest m whose interval contains 0 ("no longer distinguishable from zero"), NaN if none
```

Rambachan and Roth (2023, *REStud* 90(5)): instead of parallel trends, assume the post-period trend difference
`delta` lies in a set indexed by `m`, and report confidence sets for the first post-period effect that are valid for
all of it. `betahat` holds the event-study coefficients, pre periods then post periods, without the reference period
(the period before treatment); `sigma` is their covariance matrix. `relative_magnitudes` bounds each post-period
change in `delta` by `m` (Mbar) times the largest pre-period change; `smoothness` bounds the change in its slope
between consecutive periods by `m` (M, in outcome units; `m = 0` allows exactly linear trends). The defaults are R
HonestDiD's: the conditional-least-favourable hybrid test (Andrews, Roth and Pakes 2023) inverted on 1,000 points
over +-20 standard errors for `relative_magnitudes` (an interval reaching a grid end raises `GridEndWarning`, as R
warns), the optimal fixed-length interval (Armstrong and Kolesar 2018) for `smoothness`; `m=None` gives HonestDiD's
default grids, `l_vec=` another linear combination of post-period effects (smoothness only), `seed=` the seed of
the Monte Carlo draws, which reproduce R's `set.seed` stream. Bad shapes, a covariance matrix that is not symmetric
positive semi-definite, an unknown method or a negative `m` raise `SensitivityInputError` (an `EvaluationError` and a
`ValueError`). Reproduces HonestDiD 0.2.6 on the Benzarti-Carloni, Lovenheim-Willen and Medicaid examples: the same
grid points for relative magnitudes, FLCI half-lengths to 1e-6 (`tests/test_honest_did.py`, references in
`tests/reference/honestdid/`). About half a second for 10 pre and 10 post periods and 10 values of `m`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from scipy.special import ndtr, ndtri

from evaluation.errors import EvaluationError

__all__ = ["METHODS", "GridEndWarning", "SensitivityInputError", "breakdown_m", "honest_did", "original_ci"]

Method = Literal["relative_magnitudes", "smoothness"]
METHODS: tuple[Method, ...] = ("relative_magnitudes", "smoothness")
_CI_METHOD = {"relative_magnitudes": "C-LF", "smoothness": "FLCI"}
_LF_DRAWS = 1_000  # HonestDiD's .compute_least_favorable_cv(sims = 1000)
_FOLDED_DRAWS = 1_000_000  # HonestDiD's .qfoldednormal(numSims = 10^6)
_EPS = np.finfo(float).eps


class SensitivityInputError(EvaluationError, ValueError):
    """The event-study coefficients, covariance matrix or sensitivity options cannot be used."""


class GridEndWarning(UserWarning):
    """A relative-magnitudes confidence set reaches the end of its grid, so that end is not a real bound."""


def honest_did(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    method: Method = "relative_magnitudes",
    m: Sequence[float] | ArrayLike | None = None,
    alpha: float = 0.05,
    *,
    l_vec: ArrayLike | None = None,
    grid_points: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Robust confidence intervals for the first post-period effect under bounded violations of parallel trends.

    Implements Rambachan and Roth (2023) with R HonestDiD's defaults: the conditional-least-favourable hybrid for
    :math:`\Delta^{RM}(\bar M)` and the optimal FLCI for :math:`\Delta^{SD}(M)` (see the module docstring).

    Parameters
    ----------
    betahat : array_like
        Event-study coefficients, pre periods (earliest first) then post periods, reference period excluded.
    sigma : array_like
        Their covariance matrix (symmetric, positive semi-definite, positive variance of each post coefficient).
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period coefficients; they must add up to ``len(betahat)``.
    method : {"relative_magnitudes", "smoothness"}
        :math:`\Delta^{RM}(\bar M)` with ``m`` the values of :math:`\bar M`, or :math:`\Delta^{SD}(M)` with ``m`` the
        values of :math:`M` (in the units of ``betahat``).
    m : sequence of float, optional
        Non-negative values of :math:`\bar M` or :math:`M`. Default as in HonestDiD: 10 values from 0 to 2 for
        relative magnitudes; for smoothness 10 values from 0 to the largest pre-period second difference plus
        :math:`z_{1-\alpha}` of its standard error (``DeltaSD_upperBound_Mpre``), or to the standard error of the
        only pre-period coefficient.
    alpha : float
        One minus the coverage, in (0, 1).
    l_vec : array_like, optional
        Smoothness only: weights :math:`l` of :math:`\theta = l'\tau_{post}`. Default (and the only choice for
        relative magnitudes) the first post period, :math:`e_1`.
    grid_points : int
        Relative magnitudes only: number of grid points on which the test is inverted (HonestDiD's ``gridPoints``).
    seed : int
        Seed of R's ``set.seed`` for the Monte Carlo draws; 0 is HonestDiD's default.

    Returns
    -------
    pandas.DataFrame
        One row per value of ``m``, in the given order: ``m``, ``ci_low``, ``ci_high``, ``method`` and
        ``ci_method`` (``"C-LF"`` or ``"FLCI"``). A relative-magnitudes interval is the smallest and largest accepted
        grid point, so it is open at a grid end if the test accepts there (a :class:`GridEndWarning` says so); an
        empty set is ``NaN``.

    Raises
    ------
    SensitivityInputError
        If the shapes do not match, ``sigma`` is not a symmetric positive semi-definite matrix, or an option is
        out of range (also a :class:`ValueError`).

    Warns
    -----
    GridEndWarning
        If a relative-magnitudes interval reaches the end of the test grid (HonestDiD warns "CI is open at one of the
        endpoints").
    """
    beta, cov = _check_event_study(betahat, sigma, num_pre_periods, num_post_periods)
    if method not in METHODS:
        raise SensitivityInputError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise SensitivityInputError(f"alpha must be a number in (0, 1); got {alpha!r}.")
    if isinstance(grid_points, bool) or not isinstance(grid_points, int | np.integer) or grid_points < 2:
        raise SensitivityInputError(f"grid_points must be an integer of at least 2; got {grid_points!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise SensitivityInputError(f"seed must be an integer; got {seed!r}.")
    weights = _check_l_vec(l_vec, num_post_periods, method)
    if m is None:
        values = _default_m(beta, cov, num_pre_periods, method)
    else:
        values = np.atleast_1d(np.asarray(m, dtype=float))
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise SensitivityInputError(f"m must be a non-empty list of finite non-negative numbers; got {m!r}.")

    if method == "relative_magnitudes":
        bounds = [
            _relative_magnitudes_ci(beta, cov, num_pre_periods, num_post_periods, mbar, alpha, grid_points, seed)
            for mbar in values
        ]
        sd_theta = np.sqrt(cov[num_pre_periods, num_pre_periods])
        open_ended = [
            mbar for mbar, (low, high) in zip(values, bounds, strict=True) if max(-low, high) >= 20 * sd_theta
        ]
        if open_ended:
            warnings.warn(
                f"The relative-magnitudes confidence set for m = {', '.join(f'{v:g}' for v in open_ended)} reaches the "
                f"end of the test grid (+-20 standard errors of the first post-period coefficient, as in HonestDiD): "
                "the interval is open there, and the reported bound is only the grid end.",
                GridEndWarning,
                stacklevel=2,
            )
    else:
        frontier = _BiasVarianceFrontier(cov, num_pre_periods, weights)
        bounds = [_flci(beta, frontier, mm, alpha, seed) for mm in values]
    low, high = (np.array(b, dtype=float) for b in zip(*bounds, strict=True))
    return pd.DataFrame(
        {"m": values, "ci_low": low, "ci_high": high, "method": method, "ci_method": _CI_METHOD[method]}
    )


def original_ci(
    betahat: ArrayLike, sigma: ArrayLike, num_pre_periods: int, num_post_periods: int, alpha: float = 0.05
) -> tuple[float, float]:
    r"""Conventional confidence interval for the first post-period coefficient (HonestDiD's ``constructOriginalCS``).

    Parameters
    ----------
    betahat, sigma, num_pre_periods, num_post_periods, alpha
        As in :func:`honest_did`.

    Returns
    -------
    tuple of float
        :math:`\hat\beta_1 \mp z_{1-\alpha/2}` times its standard error.
    """
    beta, cov = _check_event_study(betahat, sigma, num_pre_periods, num_post_periods)
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise SensitivityInputError(f"alpha must be a number in (0, 1); got {alpha!r}.")
    k = num_pre_periods
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(cov[k, k])
    return float(beta[k] - half), float(beta[k] + half)


def breakdown_m(table: pd.DataFrame) -> float:
    """Smallest ``m`` whose interval contains zero: where the effect stops being distinguishable from zero.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`honest_did` (columns ``m``, ``ci_low`` and ``ci_high``).

    Returns
    -------
    float
        The breakdown value among the ``m`` tried, or ``NaN`` if every interval excludes zero (then the breakdown
        value is above the largest ``m``; an empty interval counts as excluding zero). It is only as fine as the
        grid of ``m``; if the smallest ``m`` already covers zero, the effect is not significant even there.
    """
    missing = {"m", "ci_low", "ci_high"} - set(table.columns)
    if missing:
        raise SensitivityInputError(f"breakdown_m needs the columns m, ci_low and ci_high; missing {sorted(missing)}.")
    ordered = table.sort_values("m", kind="stable")
    covers = (ordered["ci_low"] <= 0) & (ordered["ci_high"] >= 0)
    return float(ordered.loc[covers, "m"].iloc[0]) if covers.any() else float("nan")


# --- Input checks --------------------------------------------------------------------------------------------------


def _check_event_study(
    betahat: ArrayLike, sigma: ArrayLike, num_pre: int, num_post: int
) -> tuple[np.ndarray, np.ndarray]:
    for name, value in (("num_pre_periods", num_pre), ("num_post_periods", num_post)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise SensitivityInputError(f"{name} must be a positive integer; got {value!r}.")
    try:
        beta = np.asarray(betahat, dtype=float)
        cov = np.asarray(sigma, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SensitivityInputError(f"betahat and sigma must be numeric: {exc}") from None
    beta = beta.ravel() if beta.ndim == 2 and 1 in beta.shape else beta
    n = num_pre + num_post
    if beta.ndim != 1 or beta.size != n:
        raise SensitivityInputError(
            f"betahat must be a vector of num_pre_periods + num_post_periods = {n} coefficients; "
            f"got shape {beta.shape}."
        )
    if cov.shape != (n, n):
        raise SensitivityInputError(f"sigma must be a {n} x {n} matrix to match betahat; got shape {cov.shape}.")
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))):
        raise SensitivityInputError("betahat and sigma must be finite (no NaN or infinite entries).")
    scale = max(float(np.max(np.abs(cov))), np.finfo(float).tiny)
    if not np.allclose(cov, cov.T, rtol=0, atol=1e-10 * scale):
        raise SensitivityInputError("sigma must be symmetric; got an asymmetric covariance matrix.")
    cov = (cov + cov.T) / 2
    smallest = float(np.linalg.eigvalsh(cov)[0])
    if smallest < -1e-10 * scale:
        raise SensitivityInputError(
            f"sigma must be positive semi-definite; its smallest eigenvalue is {smallest:.3g}. "
            "Pass the covariance matrix of betahat (not, say, standard errors or a correlation of another model)."
        )
    if np.any(np.diag(cov)[num_pre:] <= 0):
        raise SensitivityInputError("sigma gives a post-period coefficient zero variance; it cannot be tested.")
    return beta, cov


def _check_l_vec(l_vec: ArrayLike | None, num_post: int, method: str) -> np.ndarray:
    first = np.eye(num_post)[0]
    if l_vec is None:
        return first
    weights = np.asarray(l_vec, dtype=float).ravel()
    if weights.shape != (num_post,) or not np.all(np.isfinite(weights)):
        raise SensitivityInputError(f"l_vec must hold {num_post} finite weights, one per post period.")
    if method == "relative_magnitudes" and not np.array_equal(weights, first):
        raise SensitivityInputError("relative_magnitudes supports only the first post period (l_vec = e_1).")
    return weights


def _default_m(beta: np.ndarray, cov: np.ndarray, num_pre: int, method: str) -> np.ndarray:
    if method == "relative_magnitudes":
        return np.linspace(0.0, 2.0, 10)
    if num_pre == 1:
        return np.linspace(0.0, float(np.sqrt(cov[0, 0])), 10)
    # Second differences of (beta_pre, 0); HonestDiD's DeltaSD_upperBound_Mpre uses alpha = 0.05 here.
    second = np.zeros((num_pre - 1, num_pre))
    for r in range(num_pre - 1):
        second[r, r : r + 3] = [1.0, -2.0, 1.0][: num_pre - r]
    diffs = second @ beta[:num_pre]
    se = np.sqrt(np.diag(second @ cov[:num_pre, :num_pre] @ second.T))
    upper = np.max(np.concatenate([diffs, -diffs]) + stats.norm.ppf(0.95) * np.concatenate([se, se]))
    return np.linspace(0.0, float(upper), 10)


# --- R's random numbers --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _r_standard_normals(n: int, seed: int) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` in R (Mersenne-Twister with R's seed scrambling, normals by inversion)."""
    state = np.uint32(seed % 2**32)
    key = np.empty(625, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(50 + 625):  # R's RNG_Init: 50 scrambling steps, then one LCG step per seed word
            state = np.uint32(np.uint32(69069) * state + np.uint32(1))
            if j >= 50:
                key[j - 50] = state
    generator = np.random.MT19937()
    generator.state = {"bit_generator": "MT19937", "state": {"key": key[1:], "pos": 624}}
    uniforms = generator.random_raw(2 * n).astype(float) * 2.3283064365386963e-10
    tiny = 0.5 * 2.328306437080797e-10  # R's fixup() keeps uniforms inside (0, 1)
    uniforms = np.clip(uniforms, tiny, 1.0 - tiny)
    big = 134217728.0  # R's INVERSION: u = (int)(2^27 u1) + u2, then qnorm(u / 2^27)
    draws = ndtri((np.floor(big * uniforms[0::2]) + uniforms[1::2]) / big)
    draws.flags.writeable = False
    return draws


def _r_quantile(x: np.ndarray, p: float) -> float:
    """R's ``quantile(x, p)`` (type 7), with R's interpolation formula."""
    values = np.sort(x[~np.isnan(x)])
    index = 1 + (values.size - 1) * p
    lo, hi = int(np.floor(index)), int(np.ceil(index))
    h = index - lo
    return float((1 - h) * values[lo - 1] + h * values[hi - 1]) if hi > lo else float(values[lo - 1])


def _truncated_normal_quantile(p: float, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of N(0, 1) truncated to ``[lower, upper]``, computed as TruncatedNormal::norminvp's ``Phinv``."""
    flip = upper < 0  # Phinv works in the upper tail, reflecting intervals below zero
    lo = np.where(flip, -lower, lower)
    hi = np.where(flip, -upper, upper)
    tail_lo = ndtr(-lo)
    x = -ndtri(tail_lo + (ndtr(-hi) - tail_lo) * p)
    deep = np.minimum(lo, hi) > 35  # norminvp switches to Newton steps there; scipy's log-space quantile instead
    if deep.any():
        x[deep] = stats.truncnorm.ppf(
            np.where(flip, 1 - p, p)[deep], np.minimum(lo, hi)[deep], np.maximum(lo, hi)[deep]
        )
    return np.where(flip, -x, x)


def _folded_normal_quantile(p: float, mu: float, seed: int) -> float:
    """HonestDiD's ``.qfoldednormal``: R's ``quantile(abs(rnorm(10^6) + mu), p)`` after ``set.seed(seed)``."""
    z = _sorted_r_standard_normals(_FOLDED_DRAWS, seed)
    index = 1 + (z.size - 1) * p
    lo, hi = int(np.floor(index)), int(np.ceil(index))
    x_lo = _kth_smallest_abs(z, mu, lo - 1)
    if hi == lo:
        return x_lo
    h = index - lo
    return (1 - h) * x_lo + h * _kth_smallest_abs(z, mu, hi - 1)


@lru_cache(maxsize=4)
def _sorted_r_standard_normals(n: int, seed: int) -> np.ndarray:
    draws = np.sort(_r_standard_normals(n, seed))
    draws.flags.writeable = False
    return draws


def _kth_smallest_abs(z: np.ndarray, mu: float, k: int) -> float:
    """Return the k-th smallest (from 0) of ``|z + mu|`` for sorted ``z``, merging its two monotone halves."""
    j = int(np.searchsorted(z, -mu, side="left"))  # |z + mu| rises along z[j:] and along z[j-1::-1]
    n_up, n_down, take = z.size - j, j, k + 1
    lo, hi = max(0, take - n_down), min(take, n_up)
    while True:
        i = (lo + hi) // 2  # elements taken from the rising half, the rest (r) from the falling half
        r = take - i
        up_last = z[j + i - 1] + mu if i > 0 else -np.inf
        up_next = z[j + i] + mu if i < n_up else np.inf
        down_last = -(z[j - r] + mu) if r > 0 else -np.inf
        down_next = -(z[j - r - 1] + mu) if r < n_down else np.inf
        if up_last > down_next:
            hi = i - 1
        elif down_last > up_next:
            lo = i + 1
        else:
            return float(max(up_last, down_last))


# --- Relative magnitudes: Delta^RM(Mbar) with the conditional-least-favourable hybrid ------------------------------


def _relative_magnitudes_ci(
    beta: np.ndarray,
    cov: np.ndarray,
    num_pre: int,
    num_post: int,
    mbar: float,
    alpha: float,
    grid_points: int,
    seed: int,
) -> tuple[float, float]:
    """Union over (s, sign) of the C-LF confidence sets for theta = tau_1 (HonestDiD's computeConditionalCS_DeltaRM).

    For the location s of the largest pre-period change and its sign, Delta^RM is {delta: A delta <= 0}. Only the
    2 * num_post rows that involve post periods enter the test (HonestDiD's ``postPeriodMomentsOnly``): for each post
    period t, +-(delta_t - delta_{t-1}) - mbar * (+-(delta_s - delta_{s-1})) <= 0. With theta = tau_1 the nuisance
    parameters tau_2.. are free, so the dual polytope of the test's linear programme, {lambda >= 0 : lambda'sd = 1,
    X'lambda = 0}, is a simplex whose vertices are the two rows of period 1 and the sums of the +/- rows of each later
    period. The programme's value is therefore the largest vertex value, and every quantity of the Andrews, Roth and
    Pakes test (the optimal vertex, its truncation interval and the least-favourable draws) has a closed form.
    """
    sd_theta = np.sqrt(cov[num_pre, num_pre])
    grid = np.linspace(-20 * sd_theta, 20 * sd_theta, grid_points)
    kappa = alpha / 10
    accept = np.zeros(grid_points, dtype=bool)
    for s in range(-(num_pre - 1), 1):
        for positive in (True, False):
            rows = _rm_post_rows(num_pre, num_post, mbar, s, positive)
            sigma_y = rows @ cov @ rows.T
            sd = np.sqrt(np.diag(sigma_y))
            if not np.all(sd > 0):
                raise SensitivityInputError(
                    "sigma gives a change between consecutive post-period coefficients zero variance; "
                    "the relative-magnitudes test needs each to be random."
                )
            vertices = np.zeros((num_post + 1, 2 * num_post))
            vertices[0, 0], vertices[1, num_post] = 1 / sd[0], 1 / sd[num_post]
            for t in range(1, num_post):
                pair = [t, num_post + t]
                vertices[t + 1, pair] = 1 / sd[pair].sum()
            lf_cv = _least_favourable_cv(sigma_y, vertices, kappa, seed)
            moments = rows @ beta - np.outer(grid, rows[:, num_pre])
            accept |= _lf_hybrid_accepts(
                moments @ vertices.T, vertices @ sigma_y @ vertices.T, lf_cv, alpha, kappa, cap_at_lf_cv=num_post > 1
            )
    if not accept.any():
        return float("nan"), float("nan")
    return float(grid[accept].min()), float(grid[accept].max())


def _rm_post_rows(num_pre: int, num_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Post-period rows of HonestDiD's ``.create_A_RM`` (order: + rows for t = 1.., then - rows), period 0 dropped."""
    periods = num_pre + num_post + 1  # columns: periods -num_pre, ..., 0, ..., num_post
    largest = np.zeros(periods)
    largest[[num_pre + s - 1, num_pre + s]] = [-1.0, 1.0] if positive else [1.0, -1.0]
    rows = np.zeros((2 * num_post, periods))
    for block, sign in enumerate((1.0, -1.0)):
        for t in range(1, num_post + 1):
            rows[block * num_post + t - 1, [num_pre + t - 1, num_pre + t]] = [-sign, sign]
    return np.delete(rows - mbar * largest, num_pre, axis=1)


def _least_favourable_cv(sigma_y: np.ndarray, vertices: np.ndarray, kappa: float, seed: int) -> float:
    """1 - kappa quantile of the test statistic at delta's least favourable value (``.compute_least_favorable_cv``).

    The draws are mvtnorm's ``rmvnorm(1000, sigma = sigma_y)`` after ``set.seed(seed)``: R's standard normals, filled
    row by row, times the symmetric square root of ``sigma_y``.
    """
    values, vectors = np.linalg.eigh(sigma_y)
    root = (vectors * np.sqrt(np.maximum(values, 0.0))) @ vectors.T
    p = sigma_y.shape[0]
    normals = _r_standard_normals(_LF_DRAWS * p, seed).reshape(_LF_DRAWS, p)
    return _r_quantile((normals @ (root @ vertices.T)).max(axis=1), 1 - kappa)


def _lf_hybrid_accepts(
    values: np.ndarray, vertex_cov: np.ndarray, lf_cv: float, alpha: float, kappa: float, *, cap_at_lf_cv: bool
) -> np.ndarray:
    """Andrews-Roth-Pakes conditional-least-favourable hybrid test at each grid point; True where not rejected.

    ``values`` holds each grid point's vertex values (moments times dual vertices), ``vertex_cov`` the covariance of
    the vertex values. The statistic eta is the largest value; the test conditions on its vertex gamma staying
    optimal as gamma'y moves with the rest of y held fixed, which bounds gamma'y to [vlo, vup]. The second stage
    compares eta / sd(gamma'y) with the 1 - (alpha - kappa) / (1 - kappa) quantile of the normal truncated there (its
    top cut at lf_cv when there are nuisance parameters, as in HonestDiD's ``.lp_conditional_test_fn``).
    """
    n = values.shape[0]
    best = values.argmax(axis=1)
    eta = values[np.arange(n), best]
    var_b = vertex_cov[best, best]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = vertex_cov[:, best].T / var_b[:, None] - 1  # d(lambda_k'y)/d(gamma'y) - 1
        bound = ((slope + 1) * eta[:, None] - values) / slope
    slope[np.arange(n), best] = 0.0
    vlo = np.where(slope < 0, bound, -np.inf).max(axis=1)
    vup = np.where(slope > 0, bound, np.inf).min(axis=1)
    sd_b = np.sqrt(np.maximum(var_b, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = eta / sd_b
        z_lo = vlo / sd_b
        z_up = (np.minimum(vup, lf_cv) if cap_at_lf_cv else vup) / sd_b
    size = (alpha - kappa) / (1 - kappa)
    # With nuisance parameters HonestDiD does not reject when eta falls outside its truncation interval.
    valid = (z_lo <= stat) & (stat <= z_up) if cap_at_lf_cv else z_lo < z_up
    crit = np.full(n, np.inf)
    crit[valid] = np.maximum(0.0, _truncated_normal_quantile(1 - size, z_lo[valid], z_up[valid]))
    reject = stat > crit
    degenerate = np.abs(var_b) < _EPS  # HonestDiD: gamma'y has no variance, so reject iff eta > 0
    reject = np.where(degenerate, eta > 0, reject)
    return ~((eta > lf_cv) | reject)


# --- Smoothness: Delta^SD(M) with the optimal fixed-length confidence interval -------------------------------------


class _BiasVarianceFrontier:
    r"""Smallest worst-case bias of an affine estimator of :math:`l'\tau_{post}` for each standard error h.

    HonestDiD's ``findOptimalFLCI`` writes the pre-period weights as :math:`v_{pre} = D w` with :math:`1'w =
    \sum_t t\, l_t` (unbiased under linear trends) and the worst-case bias over :math:`\Delta^{SD}(1)` as a constant
    plus :math:`\sum_i |(Lw)_i|` (L cumulates). In the cumulated weights :math:`u = (Lw)_{1..K-1}` the variance is a
    quadratic :math:`u'Qu + 2q'u + q_0` and the bias :math:`b_0 + \lVert u \rVert_1`, so the smallest bias for a
    given variance is the solution path of :math:`\min_u \tfrac12 u'Qu + q'u + \lambda \lVert u \rVert_1`:
    piecewise linear in :math:`\lambda`, from :math:`u = 0` (the least-biased estimator, standard error h0) to the
    minimum-variance estimator (hmin) at :math:`\lambda = 0`. The path is computed exactly by homotopy.
    """

    def __init__(self, cov: np.ndarray, num_pre: int, weights: np.ndarray) -> None:
        k, n_post = num_pre, weights.size
        t = np.arange(1, n_post + 1)
        total = float(t @ weights)
        self.bias0 = sum(abs(float(t[:s] @ weights[n_post - s :])) for s in range(1, n_post + 1)) - total + abs(total)
        diff = np.eye(k) - np.eye(k, k=-1)  # v_pre = D w and w = D (L w)
        to_pre = diff @ diff
        self.free, self.fixed = to_pre[:, : k - 1], to_pre[:, k - 1] * total
        self.weights = weights
        s_pre, s_cross, s_post = cov[:k, :k], cov[:k, k:], cov[k:, k:]
        self.q_mat = self.free.T @ s_pre @ self.free
        self.q_vec = self.free.T @ (s_pre @ self.fixed + s_cross @ weights)
        self.q0 = float(
            self.fixed @ s_pre @ self.fixed + 2 * self.fixed @ s_cross @ weights + weights @ s_post @ weights
        )
        try:
            self.knots = self._lasso_path()
        except np.linalg.LinAlgError:
            raise SensitivityInputError(
                "sigma's pre-period block is singular, so the FLCI's weights are not identified; "
                "drop collinear pre-period coefficients."
            ) from None
        self.var_knots = np.array([self.variance(u) for u in self.knots])
        self.h0, self.hmin = float(np.sqrt(self.var_knots[0])), float(np.sqrt(self.var_knots[-1]))

    def variance(self, u: np.ndarray) -> float:
        return float(u @ self.q_mat @ u + 2 * self.q_vec @ u + self.q0)

    def _lasso_path(self) -> list[np.ndarray]:
        q_mat, q_vec, n = self.q_mat, self.q_vec, self.q_vec.size
        knots = [np.zeros(n)]
        if n == 0 or not np.any(q_vec):
            return knots
        lam = float(np.max(np.abs(q_vec)))
        first = int(np.argmax(np.abs(q_vec)))
        signs = {first: -np.sign(q_vec[first])}
        for _ in range(100 * (n + 1)):  # each step lowers lambda; a path has a few knots per variable
            if lam <= 0:
                return knots
            active = sorted(signs)
            inactive = [j for j in range(n) if j not in signs]
            q_aa = q_mat[np.ix_(active, active)]
            intercept = -np.linalg.solve(q_aa, q_vec[active])  # u_A(lambda) = intercept + lambda * slope
            slope = -np.linalg.solve(q_aa, np.array([signs[j] for j in active]))
            events: list[tuple[float, int, float]] = []  # (lambda, variable, new sign or 0 to leave)
            limit = lam * (1 - 1e-12)
            for pos, j in enumerate(active):
                if slope[pos] != 0:
                    at = -intercept[pos] / slope[pos]
                    if 0 < at < limit:
                        events.append((at, j, 0.0))
            if inactive:
                c0 = q_mat[np.ix_(inactive, active)] @ intercept + q_vec[inactive]
                c1 = q_mat[np.ix_(inactive, active)] @ slope
                for pos, j in enumerate(inactive):
                    for side in (1.0, -1.0):  # gradient reaches +-lambda: u_j enters with the opposite sign
                        if side - c1[pos] != 0:
                            at = c0[pos] / (side - c1[pos])
                            if 0 < at < limit:
                                events.append((at, j, -side))
            lam, variable, sign = max(events) if events else (0.0, -1, 0.0)
            u = np.zeros(n)
            u[active] = intercept + lam * slope
            knots.append(u)
            if sign == 0.0:
                signs.pop(variable, None)
            else:
                signs[variable] = sign
        raise SensitivityInputError(
            "the FLCI's bias-variance path did not converge; is sigma's pre-period block singular?"
        )

    def at(self, h: float) -> tuple[np.ndarray, float]:
        """Cumulated weights and worst-case bias (per unit of M) of the least-biased estimator with s.e. <= h."""
        target = h * h
        if target >= self.var_knots[0]:
            u = self.knots[0]
        elif target <= self.var_knots[-1] * (1 + 8 * _EPS):  # h_min up to rounding: the variance is flat there
            u = self.knots[-1]
        else:
            k = int(np.nonzero(self.var_knots <= target)[0][0])  # variance falls along the path
            near, far = self.knots[k - 1], self.knots[k]  # var(near) > target >= var(far)
            step = near - far
            a = float(step @ self.q_mat @ step)
            b = float(2 * (far @ self.q_mat @ step + self.q_vec @ step))
            c = self.var_knots[k] - target
            t = (-b + np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a) if a > 0 else -c / b
            u = far + min(max(t, 0.0), 1.0) * step
        return u, self.bias0 + float(np.abs(u).sum())


def _flci(beta: np.ndarray, frontier: _BiasVarianceFrontier, m: float, alpha: float, seed: int) -> tuple[float, float]:
    """HonestDiD's ``findOptimalFLCI``: its bisection on the derivative of the half-length in h, grid if it fails."""

    def half_length(h: float) -> float:
        return _folded_normal_quantile(1 - alpha, m * frontier.at(h)[1] / h, seed) * h

    h_star = _derivative_bisection(half_length, frontier.hmin, frontier.h0)
    if np.isnan(h_star):
        grid = np.linspace(frontier.hmin, frontier.h0, 100)
        h_star = float(grid[int(np.argmin([half_length(h) for h in grid]))])
    u, _ = frontier.at(h_star)
    weights = np.concatenate([frontier.free @ u + frontier.fixed, frontier.weights])
    centre, half = float(weights @ beta), half_length(h_star)
    return centre - half, centre + half


def _derivative_bisection(f: Callable[[float], float], a: float, b: float, num_points: int = 100) -> float:
    """``.findOptimalCIDerivativeBisection``: minimise convex f on [a, b] by bisection on finite differences."""
    fail_tol = np.sqrt(_EPS)
    dif = min((b - a) / num_points, abs(b) * _EPS ** (1 / 3))
    if not dif > 0:
        return a
    fa, fb = f(a), f(b)
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    max_iter = 10 * np.ceil(np.log(abs(b - a) / dif) / np.log(2))
    if fpa > fpb or np.isnan(fa) or np.isnan(fb):
        return float("nan")
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    iteration, failed = 1, False
    while not failed and abs(b - a) > dif:
        iteration += 1
        x = (a + b) / 2
        fpx = (f(x + dif) - f(x - dif)) / (2 * dif)
        failed = fpx > fpb + fail_tol or fpx + fail_tol < fpa or iteration > max_iter
        if fpx > 0:
            b = x
        else:
            a = x
    return float("nan") if failed else (a + b) / 2
