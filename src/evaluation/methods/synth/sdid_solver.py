r"""The weights of synthetic difference-in-differences: Frank-Wolfe on the simplex, as R ``synthdid``.

Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021, *AER* 111(12), 4088-4118; AAHIW 2021),
Algorithm 1, as implemented by ``synthdid_estimate`` and ``sc.weight.fw`` in R ``synthdid`` 0.0.9.

Both weight problems (AAHIW 2021 eq. 2-5) have the form

.. math:: \min_{x \in \Delta} \frac1n \lVert \tilde A x - \tilde b \rVert^2 + \zeta^2 \lVert x \rVert^2,

where the tilde means centred over the ``n`` rows, which profiles out the intercept
(:math:`\omega_0` or :math:`\lambda_0`). For the time weights the rows are the control units,
:math:`A` their pre-period outcomes and :math:`b` their post-period means; for the unit weights the
rows are the pre-periods, :math:`A` the controls' outcomes and :math:`b` the treated units' mean.

``synthdid`` runs Frank-Wolfe with exact line search from uniform weights (or given starting weights)
for at most 100 iterations, sets the weights at or below a quarter of the largest to zero
(``sparsify_function``), and runs Frank-Wolfe again from there for at most 10,000 iterations; each
run stops when an iteration lowers the objective by less than ``min_decrease**2``. This module does
the same, on one problem or on a batch of problems at once (the placebo and bootstrap replications).
It keeps :math:`Ax - b` and the gradient up to date by convex combinations instead of recomputing
them, which makes an iteration :math:`O(n + k)`; the iterates agree with ``synthdid``'s to rounding.

The iteration loop is compiled with numba (``_fw_loop``). An iteration is a few sums over vectors of
length ``n`` and ``k`` (at most about 100 here), and a run takes up to 10,000 iterations, for each of
the hundreds or thousands of problems of the placebo and bootstrap replications. Written with numpy,
each of those sums is a separate call, with its overhead and its own pass over memory, and the loop
took most of the run time of the synthetic DiD step. Compiled, an iteration is one pass over the
columns and one over the rows, a fraction of a microsecond. The kernel runs without ``fastmath``:
plain IEEE arithmetic with every sum taken in index order, so the results are deterministic and
differ from numpy's only by the rounding of the summation order. The set-up (:math:`A'(A - b)`, one
matrix product a problem) stays in numpy. numba caches the compiled kernel beside this file
(``cache=True``; elsewhere when that directory is read-only), so only the first call after an
install or an edit compiles (about a second).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["frank_wolfe_simplex", "fit_weights", "sparsify", "sum_normalize"]

#: ``synthdid_estimate``'s iteration limits before and after sparsifying, and ``sparsify_function``'s
#: threshold (a share of the largest weight).
ITER_PRE_SPARSIFY = 100
ITER = 10_000
SPARSIFY_SHARE = 0.25

# The line search divides by |A d|^2 + eta |d|^2 for the move d = e_i - x. It is 0 when x is vertex i
# already (then the numerator is 0 too and x stays) or, with zeta = 0, when the move leaves A x as it is
# (synthdid would divide by zero; here the step is 0 or 1, and the objective is the same either way).
_TINY = 1e-300


def frank_wolfe_simplex(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    x0: np.ndarray | None = None,
    *,
    min_decrease: float = 1e-3,
    max_iter: int = 1000,
    n_cols: np.ndarray | None = None,
    n_rows: np.ndarray | None = None,
) -> np.ndarray:
    r"""Minimise :math:`\lVert A x - b\rVert^2 / n + \zeta^2 \lVert x\rVert^2` over the simplex by Frank-Wolfe.

    ``synthdid``'s ``sc.weight.fw`` without its centring (the caller centres): each iteration moves
    towards the vertex with the smallest gradient entry, with an exact line search; it stops after
    ``max_iter`` iterations or once an iteration lowers the objective by less than ``min_decrease**2``.

    Parameters
    ----------
    a
        Design, shape ``(n, k)``, or a batch of independent problems ``(B, n, k)``.
    b
        Target, shape ``(n,)`` or ``(B, n)``.
    zeta
        Ridge parameter :math:`\zeta` (the penalty is :math:`n\zeta^2\lVert x\rVert^2` on the sum of squares).
    x0
        Starting weights on the simplex, ``(k,)`` or ``(B, k)``; default uniform.
    min_decrease, max_iter
        Stopping rules (each problem of a batch stops on its own).
    n_cols, n_rows
        Batches only: the number of real columns and rows of each problem, for problems of different
        sizes padded to one shape. Padding rows of ``a`` and ``b`` must be zero, padding entries of
        ``x0`` zero. Default: all columns and rows are real.

    Returns
    -------
    numpy.ndarray
        The weights, shaped as ``x0``.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:  # one problem: a batch of one
        x1 = None if x0 is None else np.asarray(x0)[None]
        x = frank_wolfe_simplex(a[None], np.asarray(b)[None], zeta, x1, min_decrease=min_decrease, max_iter=max_iter)
        return x[0]
    n_batch, n, k = a.shape
    b = np.asarray(b, dtype=float)
    ncol = np.full(n_batch, k, dtype=np.int64) if n_cols is None else np.asarray(n_cols, dtype=np.int64)
    nrow = np.full(n_batch, n, dtype=np.int64) if n_rows is None else np.asarray(n_rows, dtype=np.int64)
    if x0 is None:
        x = np.where(np.arange(k)[None, :] < ncol[:, None], 1.0 / ncol[:, None], 0.0)
    else:
        x = np.array(x0, dtype=float, order="C")
    zeta2 = float(zeta) ** 2
    eta = nrow * zeta2
    # row i of ab_t is A_i - b; row i of h_t is A'(A_i - b) + eta e_i, the gradient at vertex i. Padding
    # rows of A and b are zero, so they add nothing here, to r or to |r|^2; the loop never reads
    # padding columns, and their weights stay zero.
    ab_t = np.swapaxes(a - b[:, :, None], 1, 2).copy()
    h_t = ab_t @ a + eta[:, None, None] * np.eye(k)
    r = (a @ x[:, :, None])[:, :, 0] - b
    g = (r[:, None, :] @ a)[:, 0, :] + eta[:, None] * x
    _fw_loop(ab_t, h_t, r, g, x, nrow, ncol, eta, zeta2, float(min_decrease) ** 2, int(max_iter))
    return x


@numba.njit(cache=True)
def _fw_loop(
    ab_t: np.ndarray,
    h_t: np.ndarray,
    r: np.ndarray,
    g: np.ndarray,
    x: np.ndarray,
    n_rows: np.ndarray,
    n_cols: np.ndarray,
    eta: np.ndarray,
    zeta2: float,
    tol: float,
    max_iter: int,
) -> None:
    r"""Run the Frank-Wolfe iterations of each problem, updating ``x`` (and ``r``, ``g``) in place.

    Problem ``p`` uses its first ``n_rows[p]`` rows and ``n_cols[p]`` columns only. ``r`` is
    :math:`Ax - b` and ``g`` the gradient (halved) at the starting ``x``. An iteration is one pass over
    the columns (update ``x`` and ``g``; their sums and the next vertex) and one over the rows (update
    ``r``; its sum of squares and the next line search's :math:`\lVert A d\rVert^2`).
    """
    for p in range(x.shape[0]):
        n, k, e = n_rows[p], n_cols[p], eta[p]
        xp, rp, gp, ab, h = x[p], r[p], g[p], ab_t[p], h_t[p]
        # the vertex i: argmin of the gradient, the first on ties (and the first NaN), as numpy's argmin
        xsq = gx = 0.0
        i = 0
        gmin = gp[0]
        for j in range(k):
            xsq += xp[j] * xp[j]
            gx += gp[j] * xp[j]
            if gp[j] < gmin or (gp[j] != gp[j] and gmin == gmin):
                gmin = gp[j]
                i = j
        # the move d = e_i - x changes A x - b by ab[i] - r
        dd = 0.0
        for j in range(n):
            d = ab[i, j] - rp[j]
            dd += d * d
        prev = last = np.nan
        for t in range(max_iter):
            # exact line search towards vertex i
            den = dd + e * (xsq - 2 * xp[i] + 1)
            step = (gx - gp[i]) / max(den, _TINY)
            if not step > 0.0:
                step = 0.0
            elif step > 1.0:
                step = 1.0
            keep = 1 - step
            xsq = gx = 0.0
            i_next = 0
            for j in range(k):
                v = xp[j] * keep
                if j == i:
                    v += step
                xp[j] = v
                w = gp[j] * keep + step * h[i, j]
                gp[j] = w
                xsq += v * v
                gx += w * v
                if j == 0 or w < gmin or (w != w and gmin == gmin):
                    gmin = w
                    i_next = j
            rr = dd = 0.0
            for j in range(n):
                u = rp[j] + step * (ab[i, j] - rp[j])
                rp[j] = u
                rr += u * u
                d = ab[i_next, j] - u
                dd += d * d
            i = i_next
            prev, last = last, zeta2 * xsq + rr / n
            if t >= 1 and not prev - last > tol:
                break


def sparsify(x: np.ndarray) -> np.ndarray:
    """``synthdid``'s ``sparsify_function``: zero the weights at or below a quarter of the largest, rescale.

    Parameters
    ----------
    x
        Weights, ``(k,)`` or one row per problem.

    Returns
    -------
    numpy.ndarray
    """
    out = np.where(x <= SPARSIFY_SHARE * x.max(axis=-1, keepdims=True), 0.0, x)
    return out / out.sum(axis=-1, keepdims=True)


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """Rescale to sum 1, or uniform weights when all are zero (``synthdid``'s ``sum_normalize``).

    Parameters
    ----------
    x
        Weights, ``(k,)`` or one row per problem.

    Returns
    -------
    numpy.ndarray
    """
    s = x.sum(axis=-1, keepdims=True)
    return np.where(s != 0, x / np.where(s != 0, s, 1.0), 1.0 / x.shape[-1])


def _two_stage(
    a: np.ndarray, b: np.ndarray, zeta: float, x0: np.ndarray | None, min_decrease: float, **pad: np.ndarray
) -> np.ndarray:
    """Frank-Wolfe for at most 100 iterations, sparsify, Frank-Wolfe again (``synthdid_estimate``)."""
    x = frank_wolfe_simplex(a, b, zeta, x0, min_decrease=min_decrease, max_iter=ITER_PRE_SPARSIFY, **pad)
    return frank_wolfe_simplex(a, b, zeta, sparsify(x), min_decrease=min_decrease, max_iter=ITER, **pad)


def fit_weights(
    controls: np.ndarray,
    treated_mean: np.ndarray,
    t0: int,
    *,
    zeta_omega: float,
    zeta_lambda: float,
    min_decrease: float,
    n_controls: np.ndarray | None = None,
    omega0: np.ndarray | None = None,
    lambda0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Time weights, unit weights and the SDID estimate (AAHIW 2021 Algorithm 1) for a batch of problems.

    Parameters
    ----------
    controls
        Control outcomes, ``(B, N_co, T)``, periods in order, pre-periods first.
    treated_mean
        Mean outcome of the treated units by period, ``(B, T)``.
    t0
        Number of pre-periods.
    zeta_omega, zeta_lambda, min_decrease
        Tuning (``synthdid_estimate``'s ``zeta.omega``, ``zeta.lambda`` and ``min.decrease``).
    n_controls
        Real controls of each problem when they differ (the first ``n_controls[b]`` rows, the rest
        padding); default all ``N_co``.
    omega0, lambda0
        Starting weights, ``(B, N_co)`` (zero on padding) and ``(B, t0)``; default uniform.

    Returns
    -------
    att, omega, lambda : numpy.ndarray
        ``(B,)``, ``(B, N_co)`` and ``(B, t0)``.
    """
    n_batch, n_max, _ = controls.shape
    n0 = np.full(n_batch, n_max) if n_controls is None else np.asarray(n_controls)
    valid = (np.arange(n_max)[None, :] < n0[:, None]).astype(float)
    ctrl = controls * valid[:, :, None]
    # synthdid's collapsed form: pre-periods plus the post-period mean
    c_pre, c_post = ctrl[:, :, :t0], ctrl[:, :, t0:].mean(axis=2)
    tr_pre, tr_post = treated_mean[:, :t0], treated_mean[:, t0:].mean(axis=1)
    padded = bool((n0 < n_max).any())
    # time weights: rows are the controls, centred over the real ones
    means = np.sum(c_pre, axis=1, keepdims=True) / n0[:, None, None]
    a_lam = (c_pre - means) * valid[:, :, None]
    b_lam = (c_post - (c_post.sum(axis=1) / n0)[:, None]) * valid
    pad_lam = {"n_rows": n0} if padded else {}
    lam = _two_stage(a_lam, b_lam, zeta_lambda, lambda0, min_decrease, **pad_lam)
    # unit weights: rows are the pre-periods, centred over them
    a_om = np.swapaxes(c_pre - c_pre.mean(axis=2, keepdims=True), 1, 2)
    b_om = tr_pre - tr_pre.mean(axis=1, keepdims=True)
    pad_om = {"n_cols": n0} if padded else {}
    omega = _two_stage(a_om, b_om, zeta_omega, omega0, min_decrease, **pad_om)
    att = (tr_post - np.einsum("bt,bt->b", tr_pre, lam)) - np.einsum(
        "bi,bi->b", omega, c_post - np.einsum("bit,bt->bi", c_pre, lam)
    )
    return att, omega, lam
