"""Test inversion (evaluation.methods.inference.inversion.invert_test): ends found to their precision, and always found.

A restricted wild bootstrap of a thin event time (three treated municipalities, interim cut-off, network or
foster share) accepted effects up to about 2**50 standard errors away; the bisection's tolerance of a
millionth of a standard error was then below the spacing of floating-point numbers there, and it never ended.
"""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.methods.inference.inversion import invert_test


def _counted(p_value, limit=5_000):
    calls = []

    def wrapped(t0):
        calls.append(t0)
        if len(calls) > limit:
            raise AssertionError(f"invert_test called the p-value more than {limit} times")
        return p_value(t0)

    return wrapped, calls


def test_ends_of_an_ordinary_interval_to_a_millionth_of_the_step():
    p_value, _ = _counted(lambda t0: 1.0 if -1.3 <= t0 <= 2.7 else 0.0)
    low, high = invert_test(p_value, 0.5, 0.4, 0.05)
    assert low == pytest.approx(-1.3, abs=0.4e-6) and high == pytest.approx(2.7, abs=0.4e-6)


def test_an_end_far_beyond_the_step_is_found_to_a_millionth_of_its_distance():
    edge = 1e12  # 1e15 steps out: a millionth of a step is below the spacing of floating point there
    p_value, calls = _counted(lambda t0: 1.0 if abs(t0) < edge else 0.0)
    low, high = invert_test(p_value, 0.3, 1e-3, 0.05)
    assert low == pytest.approx(-edge, rel=2e-12) and high == pytest.approx(edge, rel=2e-12)
    assert len(calls) < 400


def test_a_step_below_the_spacing_of_floating_point_at_the_estimate_still_ends():
    estimate = 1e10  # neighbouring floats are 2e-6 apart here, the tolerance is 1e-9
    p_value, _ = _counted(lambda t0: 1.0 if abs(t0 - estimate) <= 5.0 else 0.0)
    low, high = invert_test(p_value, estimate, 1e-3, 0.05)
    assert low == pytest.approx(estimate - 5.0, abs=1e-5) and high == pytest.approx(estimate + 5.0, abs=1e-5)


def test_a_side_the_test_never_rejects_is_infinite():
    p_value, _ = _counted(lambda t0: 1.0 if t0 > -3.0 else 0.0)
    low, high = invert_test(p_value, 0.0, 1.0, 0.05)
    assert low == pytest.approx(-3.0, abs=1e-6) and high == np.inf


def test_a_missing_or_zero_step_starts_from_the_estimate_size():
    for step in (0.0, float("nan")):
        p_value, calls = _counted(lambda t0: 1.0 if abs(t0 - 40.0) <= 8.0 else 0.0)
        low, high = invert_test(p_value, 40.0, step, 0.05)
        assert calls[0] == pytest.approx(0.0)  # first step: max(|estimate|, 1) = 40 below the estimate
        assert low == pytest.approx(32.0, abs=4e-5) and high == pytest.approx(48.0, abs=4e-5)
