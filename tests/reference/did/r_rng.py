"""R's default random number generator, to rebuild data sets that R code generates from a seed.

Implements, from R's documentation (``?RNGkind``, ``?set.seed``), the defaults of R >= 3.6:
Mersenne-Twister uniforms seeded by ``set.seed`` (the seed scrambled by 50 steps of the linear
congruential map ``s -> 69069 s + 1``, then 625 further steps filling the generator's state, whose
position starts at 624), normals by inversion from two uniforms (``u = floor(2^27 u1) + u2``,
``qnorm(u / 2^27)``), and ``rbinom(n, 1, p)`` by R's inversion for small means (one uniform per draw,
a success when ``u >= 1 - min(p, 1 - p)``, flipped when ``p > 0.5``).

Used by ``tests/test_did_rc.py`` to regenerate the data of DRDID's numeric regression lock
(``tests/testthat/test_regression_lock.R`` of R ``DRDID``) and compare with its locked estimates.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_TO_UNIT = 2.3283064365386963e-10  # 2^-32, R's MT_genrand scale
_BIG = 134217728  # 2^27


class RRandom:
    """Draws that reproduce ``set.seed(seed)`` followed by ``runif`` / ``rnorm`` / ``rbinom(., 1, .)`` in R."""

    def __init__(self, seed: int) -> None:
        state = seed & 0xFFFFFFFF
        for _ in range(50):
            state = (69069 * state + 1) & 0xFFFFFFFF
        filled = []
        for _ in range(625):
            state = (69069 * state + 1) & 0xFFFFFFFF
            filled.append(state)
        self._bits = np.random.MT19937()
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(filled[1:], dtype=np.uint32), "pos": 624},
        }

    def runif(self, n: int) -> np.ndarray:
        """``runif(n)``: uniforms on (0, 1)."""
        u = self._bits.random_raw(n).astype(np.float64) * _TO_UNIT
        tiny = 0.5 * 2.328306437080797e-10
        return np.clip(u, tiny, 1 - tiny)

    def rnorm(self, n: int) -> np.ndarray:
        """``rnorm(n)``: standard normals by inversion."""
        u = self.runif(2 * n).reshape(n, 2)
        return ndtri((np.floor(_BIG * u[:, 0]) + u[:, 1]) / _BIG)

    def rbinom1(self, p: np.ndarray) -> np.ndarray:
        """``rbinom(length(p), 1, p)``: Bernoulli draws, one uniform each."""
        p = np.asarray(p, dtype=float)
        u = self.runif(len(p))
        success = (u >= 1 - np.minimum(p, 1 - p)).astype(float)
        return np.where(p > 0.5, 1 - success, success)


def drdid_lock_data() -> dict[str, np.ndarray]:
    """The data of ``make_lock_data()`` in DRDID's ``test_regression_lock.R`` (seed 20240115, n = 1000)."""
    rng = RRandom(20240115)
    n = 1000
    x = np.column_stack([np.ones(n), rng.rnorm(n), rng.rbinom1(np.full(n, 0.5))])
    d = rng.rbinom1(1 / (1 + np.exp(-(-0.2 + 0.5 * x[:, 1] - 0.3 * x[:, 2]))))
    y0 = 1 + x[:, 1] + 0.5 * x[:, 2] + rng.rnorm(n)
    y1 = y0 + 0.8 * d + rng.rnorm(n)
    post = rng.rbinom1(np.full(n, 0.5))
    y = 1 + x[:, 1] + 0.5 * x[:, 2] + 0.8 * d * post + rng.rnorm(n)
    return {"x": x, "d": d, "y0": y0, "y1": y1, "post": post, "y": y}
