r"""Confidence intervals by test inversion: the effects a test does not reject, found by doubling then bisection.

The bootstrap and permutation tests of this package give a p-value for every hypothesised effect
:math:`\tau_0`; their interval is :math:`\{\tau_0 : p(\tau_0) \ge \alpha\}` (as Stata's ``boottest``).
:func:`invert_test` finds each end by stepping away from the estimate in doublings of ``step`` (at most 60)
until the test rejects, then bisecting. An end the test never rejects, however far out, is infinite.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Doublings of the step before an end is taken to be infinite.
MAX_DOUBLINGS = 60
#: Precision of an end: this share of ``step``, or of the end's distance from the estimate times this share,
#: whichever is larger (an end a million steps out is found to within a millionth of its distance).
RELATIVE_TOLERANCE = 1e-6


def invert_test(p_value: Callable[[float], float], estimate: float, step: float, alpha: float) -> tuple[float, float]:
    """Return the ends of ``{t0: p_value(t0) >= alpha}`` on each side of ``estimate``.

    Parameters
    ----------
    p_value
        The test's p-value of the hypothesis that the effect is ``t0``.
    estimate
        The point estimate (inside the set).
    step
        The first step away from it, usually the standard error; when not positive and finite,
        ``max(|estimate|, 1)``.
    alpha
        The level: the interval covers with probability ``1 - alpha``.

    Returns
    -------
    tuple of float
        ``(low, high)``, each to within :data:`RELATIVE_TOLERANCE` of ``step`` (or of its distance from the
        estimate, when that is more than a million steps), or to the precision of floating point; infinite
        when the test does not reject at :data:`MAX_DOUBLINGS` doublings on that side.
    """
    step = step if np.isfinite(step) and step > 0 else max(abs(estimate), 1.0)

    def edge(side: int) -> float:
        inside, outside = estimate, estimate + side * step
        for _ in range(MAX_DOUBLINGS):
            if p_value(outside) < alpha:
                break
            inside, outside = outside, estimate + side * 2 * abs(outside - estimate)
        else:
            return float(side * np.inf)
        while abs(outside - inside) > RELATIVE_TOLERANCE * max(step, RELATIVE_TOLERANCE * abs(outside - estimate)):
            mid = 0.5 * (inside + outside)
            if mid in (inside, outside):
                break  # neighbouring floating-point numbers: no closer end exists
            inside, outside = (mid, outside) if p_value(mid) >= alpha else (inside, mid)
        return 0.5 * (inside + outside)

    return edge(-1), edge(+1)
