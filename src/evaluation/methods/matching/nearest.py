"""Nearest-neighbour matching on a one-dimensional distance (a propensity score), as MatchIt does it.

Both engines work on the distances of one exact-matching cell and reproduce
MatchIt's choices, ties included (``nn_matchC_vec`` and ``find_control_vec``
in MatchIt's C++ sources). MatchIt sorts all units by their score (ties in
data order) and, for a focal unit, walks outwards through that order,
alternating one step to the left (smaller scores) and one to the right, and
skipping units that cannot be matched. The candidates are pushed in that visit
order, and the closest one wins; of two equally close, the one visited first
(the nearer in sorted position; the left one at an equal number of steps).
The sorted positions are passed in as ``rank_*`` (positions of the units in
the sort of *all* units by score, ties in data order); without them the
treated come before the controls at equal scores.

- :func:`nearest_with_replacement` gives each treated unit its ``ratio``
  nearest controls (with replacement, one pass): up to ``ratio`` candidates on
  each side, of which the ``ratio`` closest are kept as C++'s
  ``std::partial_sort`` (libstdc++'s heap selection) keeps them. The candidate
  search is vectorised; only rows with a tie at the ``ratio``-th place go
  through the exact emulation of the heap selection.
- :func:`greedy_without_replacement` is MatchIt's greedy algorithm: treated
  units visited in a given order, in ``ratio`` rounds (every unit gets its
  first control before any gets its second), each taking the closest control
  still available. It loops over treated units (the greedy order makes each
  match depend on the ones before) but finds the next available control on
  either side in near-constant time with path-compressed pointers, so ~10^5
  treated units take about a second.
"""

from __future__ import annotations

import numpy as np

__all__ = ["greedy_without_replacement", "heap_select", "nearest_with_replacement"]


def _default_ranks(d_treated: np.ndarray, d_control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions of treated and controls when no data order is given (treated first at ties)."""
    order = np.argsort(np.concatenate([d_treated, d_control]), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[: len(d_treated)], rank[len(d_treated) :]


def heap_select(keys: list[float], k: int) -> list[int]:
    """Return the positions that C++'s ``std::partial_sort(first, first + k, last)`` puts first.

    An exact emulation of libstdc++'s ``__heap_select`` (``__make_heap`` and
    ``__pop_heap`` with ``__adjust_heap``), comparing by ``keys`` with ``<``.
    The *set* it returns is the ``k`` smallest keys; which of several equal
    keys at the ``k``-th place survive depends on the heap's layout, and this
    function reproduces it.

    Parameters
    ----------
    keys : list of float
        Sort keys in the order of the input range.
    k : int
        Number of elements selected (``k <= len(keys)``).

    Returns
    -------
    list of int
        Positions (into ``keys``) of the selected elements, in heap order.
    """
    a = list(range(len(keys)))

    def adjust(hole: int, length: int, value: int) -> None:
        top = second = hole
        while second < (length - 1) // 2:
            second = 2 * (second + 1)
            if keys[a[second]] < keys[a[second - 1]]:
                second -= 1
            a[hole] = a[second]
            hole = second
        if length % 2 == 0 and second == (length - 2) // 2:
            second = 2 * (second + 1)
            a[hole] = a[second - 1]
            hole = second - 1
        parent = (hole - 1) // 2
        while hole > top and keys[a[parent]] < keys[value]:
            a[hole] = a[parent]
            hole = parent
            parent = (hole - 1) // 2
        a[hole] = value

    if k >= 2:
        parent = (k - 2) // 2
        while True:
            adjust(parent, k, a[parent])
            if parent == 0:
                break
            parent -= 1
    for i in range(k, len(a)):
        if keys[a[i]] < keys[a[0]]:
            value = a[i]
            a[i] = a[0]
            adjust(0, k, value)
    return a[:k]


def nearest_with_replacement(
    d_treated: np.ndarray,
    d_control: np.ndarray,
    ratio: int,
    caliper: float | None,
    rank_treated: np.ndarray | None = None,
    rank_control: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match each treated unit to its ``ratio`` nearest controls, with replacement, as MatchIt does.

    Parameters
    ----------
    d_treated, d_control : numpy.ndarray
        Distances (scores) of the treated and control units.
    ratio : int
        Number of controls per treated unit (fewer when fewer lie within the caliper).
    caliper : float or None
        Largest allowed absolute distance (same scale as the scores).
    rank_treated, rank_control : numpy.ndarray, optional
        Positions of the units in MatchIt's sort of all units by score (ties in
        data order); they decide ties (see the module docstring).

    Returns
    -------
    treated_pos, control_pos : numpy.ndarray
        Positions (into ``d_treated`` and ``d_control``) of the matched pairs,
        sorted by treated position.
    """
    n_t, n_c = len(d_treated), len(d_control)
    if n_t == 0 or n_c == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if rank_treated is None or rank_control is None:
        rank_treated, rank_control = _default_ranks(d_treated, d_control)
    order = np.argsort(rank_control, kind="stable")
    s, rc = d_control[order], rank_control[order]
    k = min(ratio, n_c)
    ins = np.searchsorted(rc, rank_treated)
    # candidates: k to the left (nearest first) and k to the right; side 0 = left, 1 = right
    offsets = np.concatenate([-np.arange(1, k + 1), np.arange(k)])
    window = ins[:, None] + offsets[None, :]
    valid = (window >= 0) & (window < n_c)
    pos = np.clip(window, 0, n_c - 1)
    dist = np.abs(s[pos] - d_treated[:, None])
    if caliper is not None:
        valid &= dist <= caliper
    dist = np.where(valid, dist, np.inf)
    side = np.concatenate([np.zeros(k, dtype=np.int64), np.ones(k, dtype=np.int64)])
    push = 2 * np.abs(rc[pos] - rank_treated[:, None]) + side[None, :]
    push = np.where(valid, push, np.iinfo(np.int64).max)
    by_push = np.argsort(push, axis=1, kind="stable")
    dist = np.take_along_axis(dist, by_push, axis=1)
    pos = np.take_along_axis(pos, by_push, axis=1)
    n_cand = valid.sum(axis=1)
    keep = np.isfinite(dist)
    crowded = n_cand > k
    if crowded.any():
        part = np.sort(dist[crowded], axis=1)
        kth, nxt = part[:, k - 1], part[:, k]
        rows = np.flatnonzero(crowded)
        keep[rows] = dist[rows] < kth[:, None]
        plain = kth < nxt
        keep[rows[plain]] |= dist[rows[plain]] == kth[plain, None]
        for r in rows[~plain]:
            keep[r] = False
            chosen = heap_select(dist[r, : n_cand[r]].tolist(), k)
            keep[r, chosen] = True
    treated_pos = np.repeat(np.arange(n_t), keep.sum(axis=1))
    return treated_pos, order[pos[keep]]


def greedy_without_replacement(
    d_treated: np.ndarray,
    d_control: np.ndarray,
    ratio: int,
    caliper: float | None,
    visit_order: np.ndarray,
    rank_treated: np.ndarray | None = None,
    rank_control: np.ndarray | None = None,
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
    rank_treated, rank_control : numpy.ndarray, optional
        Positions of the units in MatchIt's sort of all units by score; they
        decide which side wins a tie in distance (see the module docstring).

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
    if rank_treated is None or rank_control is None:
        rank_treated, rank_control = _default_ranks(d_treated, d_control)
    order = np.argsort(rank_control, kind="stable")
    s = d_control[order].tolist()
    rc = rank_control[order]
    insert = np.searchsorted(rc, rank_treated).tolist()
    rc_list = rc.tolist()
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
    # MatchIt searches from the outermost earlier matches of a unit (its "possible starts")
    lo = rank_treated.tolist()
    hi = list(lo)
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
                dl, dr = abs(s[jl] - di), abs(s[jr] - di)
                if dl == dr:
                    best = jl if lo[i] - rc_list[jl] <= rc_list[jr] - hi[i] else jr
                else:
                    best = jl if dl < dr else jr
            elif jl >= 0:
                best = jl
            elif jr < n_c:
                best = jr
            if caliper is not None and abs(s[best] - di) > caliper:
                continue
            out_t.append(i)
            out_c.append(best)
            lo[i] = min(lo[i], rc_list[best])
            hi[i] = max(hi[i], rc_list[best])
            right[best] = best + 1
            left[best + 1] = best
            available -= 1
    control_pos = order[np.asarray(out_c, dtype=np.int64)] if out_c else np.empty(0, dtype=np.int64)
    return np.asarray(out_t, dtype=np.int64), control_pos, failed_no_control
