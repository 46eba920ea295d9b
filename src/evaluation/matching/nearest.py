"""Nearest-neighbour matching on a one-dimensional distance (a propensity score).

Two engines, both working on the distances of one exact-matching cell:

- :func:`nearest_with_replacement` is fully vectorised: the controls are
  sorted once, each treated unit's ``ratio`` nearest controls lie in a window
  of ``2 * ratio`` sorted positions around its insertion point
  (``numpy.searchsorted``), and ties are resolved without a loop over units.
- :func:`greedy_without_replacement` follows MatchIt's greedy algorithm
  (``nn_matchC_vec``): treated units are visited in a given order, in
  ``ratio`` rounds (every unit gets its first control before any gets its
  second); each takes the closest control still available, the one with the
  smaller score winning a tie in distance. It loops over treated units (the
  greedy order makes each match depend on the ones before) but finds the next
  available control on either side in near-constant time with path-compressed
  pointers, so ~10^5 treated units take about a second.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIE_TOLERANCE", "greedy_without_replacement", "nearest_with_replacement"]

#: Two controls whose distances to a treated unit differ by less than this are tied.
TIE_TOLERANCE = 1e-10


def nearest_with_replacement(
    d_treated: np.ndarray,
    d_control: np.ndarray,
    ratio: int,
    caliper: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match each treated unit to its ``ratio`` nearest controls, with replacement and ties.

    Parameters
    ----------
    d_treated, d_control : numpy.ndarray
        Distances (scores) of the treated and control units.
    ratio : int
        Number of controls per treated unit. Controls tied (within
        :data:`TIE_TOLERANCE`) with the ``ratio``-th nearest are all kept, as
        R's Matching does with ``ties = TRUE``; the caller gives each of a
        treated unit's matches the weight ``1 / (number of its matches)``.
    caliper : float or None
        Largest allowed absolute distance (same scale as the scores).

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions (into ``d_treated`` and ``d_control``) of the matched pairs,
        sorted by treated position then control score.
    """
    n_t, n_c = len(d_treated), len(d_control)
    if n_t == 0 or n_c == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.argsort(d_control, kind="stable")
    s = d_control[order]
    k = min(ratio, n_c)
    pos = np.searchsorted(s, d_treated, side="left")
    window = pos[:, None] + np.arange(-k, k)[None, :]
    valid = (window >= 0) & (window < n_c)
    dist = np.where(valid, np.abs(s[np.clip(window, 0, n_c - 1)] - d_treated[:, None]), np.inf)
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1]
    radius = kth + TIE_TOLERANCE
    if caliper is not None:
        radius = np.minimum(radius, caliper)
    slack = 1e-9 * (1.0 + np.abs(d_treated)) + radius * 1e-9
    lo = np.searchsorted(s, d_treated - radius - slack, side="left")
    hi = np.searchsorted(s, d_treated + radius + slack, side="right")
    counts = hi - lo
    treated_pos = np.repeat(np.arange(n_t), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    sorted_pos = starts + np.arange(counts.sum())
    keep = np.abs(s[sorted_pos] - d_treated[treated_pos]) <= radius[treated_pos]
    return treated_pos[keep], order[sorted_pos[keep]]


def greedy_without_replacement(
    d_treated: np.ndarray,
    d_control: np.ndarray,
    ratio: int,
    caliper: float | None,
    visit_order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy nearest-neighbour matching without replacement (MatchIt's algorithm).

    Parameters
    ----------
    d_treated, d_control : numpy.ndarray
        Distances (scores) of the treated and control units.
    ratio : int
        Controls per treated unit, taken in rounds.
    caliper : float or None
        Largest allowed absolute distance; a unit whose closest available control
        is farther gets no match in that round.
    visit_order : numpy.ndarray
        Positions of the treated units in the order they choose.

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions of the matched pairs.
    failed_no_control : numpy.ndarray of bool
        Per treated unit: True when its first-round match failed because no
        control was left at all (as opposed to none within the caliper).
    """
    n_t, n_c = len(d_treated), len(d_control)
    failed_no_control = np.zeros(n_t, dtype=bool)
    if n_t == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), failed_no_control
    if n_c == 0:
        failed_no_control[:] = True
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), failed_no_control
    order = np.argsort(d_control, kind="stable")
    s = d_control[order].tolist()
    insert = np.searchsorted(d_control[order], d_treated, side="left").tolist()
    # right[j]: smallest available sorted index >= j (n_c if none);
    # left[j + 1]: largest available sorted index <= j, plus one (0 if none).
    right = list(range(n_c + 1))
    left = list(range(n_c + 1))

    def find(parent: list[int], j: int) -> int:
        root = j
        while parent[root] != root:
            root = parent[root]
        while parent[j] != root:
            parent[j], j = root, parent[j]
        return root

    d_t = d_treated.tolist()
    out_t: list[int] = []
    out_c: list[int] = []
    available = n_c
    visit = visit_order.tolist()
    for rnd in range(ratio):
        for i in visit:
            if available == 0:
                if rnd == 0:
                    failed_no_control[i] = True
                continue
            p = insert[i]
            di = d_t[i]
            jl = find(left, p) - 1  # largest available index <= p - 1
            jr = find(right, p)  # smallest available index >= p
            best = -1
            if jl >= 0 and jr < n_c:
                best = jl if abs(s[jl] - di) <= abs(s[jr] - di) else jr
            elif jl >= 0:
                best = jl
            elif jr < n_c:
                best = jr
            if caliper is not None and abs(s[best] - di) > caliper:
                continue
            out_t.append(i)
            out_c.append(best)
            right[best] = best + 1
            left[best + 1] = best
            available -= 1
    control_pos = order[np.asarray(out_c, dtype=np.int64)] if out_c else np.empty(0, dtype=np.int64)
    return np.asarray(out_t, dtype=np.int64), control_pos, failed_no_control
