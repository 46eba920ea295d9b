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
"""

from __future__ import annotations

import numpy as np

__all__ = ["frank_wolfe_simplex", "fit_weights", "sparsify", "sum_normalize"]

#: ``synthdid_estimate``'s iteration limits before and after sparsifying, and ``sparsify_function``'s
#: threshold (a share of the largest weight).
ITER_PRE_SPARSIFY = 100
ITER = 10_000
SPARSIFY_SHARE = 0.25

_HUGE = 1e300  # gradient of padding columns in a batch: never the argmin, and 0 * _HUGE == 0
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
    if a.ndim == 3 and a.shape[0] == 1 and n_cols is None and n_rows is None:  # one problem: the faster loop
        x1 = None if x0 is None else np.asarray(x0)[0]
        return frank_wolfe_simplex(a[0], np.asarray(b)[0], zeta, x1, min_decrease=min_decrease, max_iter=max_iter)[None]
    if a.ndim == 2:
        k = a.shape[1]
        x = np.full(k, 1.0 / k) if x0 is None else np.array(x0, dtype=float)
        return _fw_one(a, np.asarray(b, dtype=float), zeta, x, min_decrease**2, max_iter)
    n_batch, n, k = a.shape
    ncol = np.full(n_batch, k) if n_cols is None else np.asarray(n_cols)
    pad = np.arange(k)[None, :] >= ncol[:, None]
    x = np.where(pad, 0.0, 1.0 / ncol[:, None]) if x0 is None else np.array(x0, dtype=float)
    nrow = np.full(n_batch, float(n)) if n_rows is None else np.asarray(n_rows, dtype=float)
    return _fw_batch(a, np.asarray(b, dtype=float), zeta, x, pad, nrow, min_decrease**2, max_iter)


def _fw_one(a: np.ndarray, b: np.ndarray, zeta: float, x: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    n, k = a.shape
    zeta2 = zeta**2
    eta = n * zeta2
    # row i of ab_t is A_i - b; row i of h_t is A'(A_i - b) + eta e_i, the gradient at vertex i
    ab_t = np.ascontiguousarray((a - b[:, None]).T)
    h_t = ab_t @ a + eta * np.eye(k)
    r = a @ x - b
    g = r @ a + eta * x
    xsq = float(x @ x)
    prev = last = np.nan
    for t in range(max_iter):
        i = int(g.argmin())
        d_err = ab_t[i] - r
        den = float(d_err @ d_err) + eta * (xsq - 2 * x[i] + 1)
        step = min(1.0, max(0.0, float(g @ x - g[i]) / max(den, _TINY)))
        x *= 1 - step
        x[i] += step
        r += step * d_err
        g *= 1 - step
        g += step * h_t[i]
        xsq = float(x @ x)
        prev, last = last, zeta2 * xsq + float(r @ r) / n
        if t >= 1 and not prev - last > tol:
            break
    return x


def _fw_batch(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    x: np.ndarray,
    pad: np.ndarray,
    nrow: np.ndarray,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    n_batch, _, k = a.shape
    zeta2 = zeta**2
    eta = nrow * zeta2
    ab_t = np.swapaxes(a - b[:, :, None], 1, 2).copy()
    h_t = ab_t @ a + eta[:, None, None] * np.eye(k)
    h_t[np.broadcast_to(pad[:, None, :], h_t.shape)] = _HUGE
    r = (a @ x[:, :, None])[:, :, 0] - b
    g = np.where(pad, _HUGE, (r[:, None, :] @ a)[:, 0, :] + eta[:, None] * x)
    # Rows i of ab_t and h_t of each problem are gathered by flat index (problem * k + i). The problems
    # still running are kept compacted; the arrays are rebuilt only when some of them stop.
    idx = np.arange(n_batch)
    xx = x.copy()
    ab_flat, h_flat = ab_t.reshape(n_batch * k, -1), h_t.reshape(n_batch * k, k)
    offset = np.arange(n_batch) * k
    prev = last = np.full(n_batch, np.nan)
    for t in range(max_iter):
        flat = offset + g.argmin(axis=1)
        d_err = ab_flat.take(flat, axis=0) - r
        xi = xx.take(flat)
        den = np.einsum("bn,bn->b", d_err, d_err) + eta * (np.einsum("bk,bk->b", xx, xx) - 2 * xi + 1)
        step = np.minimum(1.0, np.maximum(0.0, (np.einsum("bk,bk->b", g, xx) - g.take(flat)) / np.maximum(den, _TINY)))
        keep_share = (1 - step)[:, None]
        xx *= keep_share
        xx.reshape(-1)[flat] += step
        r += step[:, None] * d_err
        g = keep_share * g + step[:, None] * h_flat.take(flat, axis=0)
        prev, last = last, zeta2 * np.einsum("bk,bk->b", xx, xx) + np.einsum("bn,bn->b", r, r) / nrow
        if t >= 1:
            keep = prev - last > tol
            if not keep.all():
                x[idx[~keep]] = xx[~keep]
                idx, xx, r, g, eta, nrow = idx[keep], xx[keep], r[keep], g[keep], eta[keep], nrow[keep]
                prev, last = prev[keep], last[keep]
                if not idx.size:
                    break
                ab_t, h_t = ab_t[keep], h_t[keep]
                ab_flat, h_flat = ab_t.reshape(idx.size * k, -1), h_t.reshape(idx.size * k, k)
                offset = np.arange(idx.size) * k
    x[idx] = xx
    return x


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
