"""CPR-like person numbers and the parents' yearly socio-economic rows."""

from __future__ import annotations

import numpy as np

SOCIO_CODES = np.array([110, 131, 132, 133, 139, 210, 220, 310, 321, 420])
SOCIO_PROBS_BASIC = np.array([0.03, 0.00, 0.05, 0.35, 0.07, 0.08, 0.06, 0.03, 0.08, 0.25])
SOCIO_PROBS_OTHER = np.array([0.07, 0.15, 0.25, 0.30, 0.08, 0.03, 0.03, 0.04, 0.02, 0.03])


def make_pnr(birth_date: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return unique CPR-like numbers: ``DDMMYY`` of the birth date and four digits (odd for males).

    Parameters
    ----------
    birth_date
        ``datetime64[D]`` dates of birth.
    male
        Boolean per person.
    rng
        Generator.

    Returns
    -------
    numpy.ndarray
        10-character strings, unique as long as fewer than 5,000 persons of one sex share a ``DDMMYY``.

    Raises
    ------
    ValueError
        When more than 5,000 persons of one sex share a ``DDMMYY``.
    """
    d = birth_date.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    key = (day * 100 + month) * 100 + year % 100
    group = key * 2 + male.astype(np.int64)
    by_draw = np.argsort(rng.random(len(d)), kind="stable")  # then by group, stably: lexsort((draw, group))
    order = by_draw[np.argsort(group[by_draw], kind="stable")]
    g_sorted = group[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(d)), 0))
    rank = np.empty(len(d), dtype=np.int64)
    rank[order] = np.arange(len(d)) - first
    if len(d) and rank.max() >= 5000:
        raise ValueError("more than 5,000 persons of one sex share a birth date: CPR-like numbers would repeat")
    offset = (group * 7907 + int(rng.integers(0, 5000))) % 5000
    serial = (rank * 7919 + offset) % 5000
    last4 = 2 * serial + male.astype(np.int64)
    return zero_padded(key * 10_000 + last4, 10)


def zero_padded(values: np.ndarray, width: int, prefix: str = "") -> np.ndarray:
    """Return ``prefix + str(v).zfill(width)`` for non-negative integers below ``10**width``, as a numpy str array.

    Digit by digit in integer arithmetic: several times faster than numpy's string functions on millions of values.
    """
    head = prefix.encode("ascii")
    size = len(head) + width
    text = np.empty((len(values), size), dtype=np.uint8)
    text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    rest = np.asarray(values, dtype=np.int64)
    for i in range(size - 1, len(head) - 1, -1):
        text[:, i] = rest % 10 + ord("0")
        rest = rest // 10
    return text.view(f"S{size}").ravel().astype(f"U{size}")


def socio_status(basic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw SOCIO13-style status codes, worse for parents with basic schooling only."""
    u = rng.random(len(basic))[:, None]
    cum_b = np.cumsum(SOCIO_PROBS_BASIC)[:-1]
    cum_o = np.cumsum(SOCIO_PROBS_OTHER)[:-1]
    idx = np.where(basic, (u > cum_b).sum(axis=1), (u > cum_o).sum(axis=1))
    return SOCIO_CODES[idx]
