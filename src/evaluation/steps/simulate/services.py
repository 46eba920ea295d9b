"""From yearly states to dated records: placement spells and events, preventive spells, notifications.

Every record of a child-year is dated inside that child-year: between 1 January and
31 December, and never on or after the child's 18th birthday. Placement episodes
are runs of placed years, preventive spells are runs of preventive years, and a
notification is dated in the year it belongs to. This makes the case-open rule of
the analysis exact (see ``docs/synthetic-registry.md``).
"""

from __future__ import annotations

import numpy as np

from evaluation.steps.simulate.cases import States

NOTIFIERS = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99])
NOTIFIER_PROBS = np.array([0.21, 0.08, 0.20, 0.125, 0.07, 0.03, 0.06, 0.07, 0.05, 0.01, 0.03, 0.025, 0.03, 0.01])
REASONS = np.array([1, 2, 3, 4, 5, 6, 7, 99])
REASON_PROBS = np.array([0.30, 0.22, 0.12, 0.03, 0.09, 0.08, 0.08, 0.08])
MEASURES = np.array([1, 2, 3, 4, 5, 6, 7, 9])
MEASURE_PROBS = np.array([0.10, 0.12, 0.20, 0.03, 0.12, 0.33, 0.03, 0.07])
EXITS = np.array([1, 2, 3, 6, 7, 97, 99])
EXIT_PROBS = np.array([0.62, 0.10, 0.01, 0.08, 0.07, 0.09, 0.03])
#: Probability that each of the reasons UDSLAG1-18 applies to a placement.
REASON_RATES = np.array(
    [0.25, 0.20, 0.15, 0.10, 0.12, 0.08, 0.10, 0.06, 0.05, 0.30, 0.22, 0.18, 0.12, 0.10, 0.08, 0.06, 0.05, 0.04]
)
NO_DATE = np.datetime64("NaT", "D")


def choose(rng: np.random.Generator, values: np.ndarray, probs: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` values with the given probabilities (normalised)."""
    return rng.choice(values, n, p=probs / probs.sum())


def birthday18(birth_date: np.ndarray) -> np.ndarray:
    """Return the 18th birthdays (29 February becomes 1 March in common years).

    Parameters
    ----------
    birth_date
        ``datetime64[D]`` dates of birth.

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` 18th birthdays.
    """
    month = birth_date.astype("datetime64[M]")
    day = (birth_date - month.astype("datetime64[D]")).astype(np.int64)
    return (month + 18 * 12).astype("datetime64[D]") + day


def year_start(year: np.ndarray) -> np.ndarray:
    """1 January of each year, as ``datetime64[D]``."""
    return (np.asarray(year, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def date_in_child_year(bday18: np.ndarray, year: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Place a date inside a child-year: from 1 January to 31 December, before the 18th birthday.

    Parameters
    ----------
    bday18
        The children's 18th birthdays.
    year
        Calendar years.
    frac
        Position inside the child-year, in [0, 1).

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` dates, non-decreasing in ``frac``.
    """
    lo = year_start(year)
    hi = np.minimum(year_start(np.asarray(year) + 1), bday18)  # exclusive bound
    n_days = (hi - lo).astype(np.int64)
    return lo + np.minimum(np.floor(frac.astype(np.float64) * n_days).astype(np.int64), n_days - 1)


def placement_records(
    states: States, world: int, bday18: np.ndarray, window: tuple[int, int], rng: np.random.Generator | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Dated placement spells and events of one world.

    Episodes that ended before 1 January of ``first_year`` are left out; those that
    overlap the data keep their whole history (left-censoring as in a register).

    Parameters
    ----------
    states
        The municipality's states.
    world
        ``ON`` or ``OFF``.
    bday18
        18th birthdays of the municipality's children.
    window
        First and last year of the data. The states run one year past the last, so that
        placements ending in the last year are known to end; anything dated later is cut
        (spells ending later become ongoing).
    rng
        Generator for exit destinations and reasons (observed world), or None to skip them.

    Returns
    -------
    spells, events
        Column arrays. Spells: ``child, start, end, ptype, legal, breakdown, exit``; events:
        ``child, date, kind, ptype, legal, exit, reasons`` (reasons an ``(n, 18)`` 0/1 array).
        ``end`` is NaT while ongoing, ``exit`` is 0 where missing.
    """
    first_year, last_year = window
    last_day = np.datetime64(f"{last_year}-12-31")
    ev = states.events[world]
    t = ev["year"] - states.years[0]
    col = np.where(ev["kind"] == 0, 0, np.where(ev["kind"] == 1, 1, 2))
    date = date_in_child_year(bday18[ev["child"]], ev["year"], states.date_u[ev["child"], t, col])
    episode = np.cumsum(ev["kind"] == 0) - 1
    n_ep = int(episode[-1] + 1) if len(episode) else 0
    ended = np.zeros(n_ep, dtype=bool)
    last = np.full(n_ep, NO_DATE)
    is_end = ev["kind"] == 5
    ended[episode[is_end]] = True
    last[episode[is_end]] = date[is_end]
    keep_ep = ~ended | (last >= year_start(np.array([first_year]))[0])
    keep = keep_ep[episode]
    ev = {k: v[keep] for k, v in ev.items()}
    date, episode = date[keep], episode[keep]
    n = len(date)
    exit_code = np.zeros(n, dtype=np.int64)
    reasons = np.zeros((n, len(REASON_RATES)), dtype=np.int64)
    if rng is not None:
        exit_code = np.where(ev["kind"] == 5, choose(rng, EXITS, EXIT_PROBS, n), 0)
        ep_ids, ep_index = np.unique(episode, return_inverse=True)
        ep_reasons = (rng.random((len(ep_ids), len(REASON_RATES))) < REASON_RATES).astype(np.int64)
        none = ep_reasons.sum(axis=1) == 0
        ep_reasons[none, rng.integers(0, len(REASON_RATES), int(none.sum()))] = 1
        reasons = ep_reasons[ep_index]
    seen = date <= last_day
    events = {
        "child": ev["child"][seen],
        "date": date[seen],
        "kind": ev["kind"][seen],
        "ptype": ev["ptype"][seen],
        "legal": ev["legal"][seen],
        "exit": exit_code[seen],
        "reasons": reasons[seen],
    }

    opens = np.nonzero(ev["kind"] != 5)[0]
    nxt = opens + 1
    has_next = nxt < n
    nxt_c = np.minimum(nxt, max(n - 1, 0))
    has_next &= (ev["child"][nxt_c] == ev["child"][opens]) & (ev["kind"][nxt_c] != 0)
    next_kind = np.where(has_next, ev["kind"][nxt_c], -1)
    end = np.where(has_next, np.where(next_kind == 1, date[nxt_c] - 1, date[nxt_c]), NO_DATE)
    spells = {
        "child": ev["child"][opens],
        "start": date[opens],
        "end": end,
        "ptype": ev["ptype"][opens],
        "legal": ev["legal"][opens],
        "breakdown": np.where(next_kind == 1, ev["breakdown"][nxt_c], 0),
        "exit": np.where(next_kind == 5, exit_code[nxt_c], 0),
    }
    later = ~np.isnat(spells["end"]) & (spells["end"] > last_day)
    spells["end"] = np.where(later, NO_DATE, spells["end"])
    spells["breakdown"] = np.where(later, 0, spells["breakdown"])
    spells["exit"] = np.where(later, 0, spells["exit"])
    started = spells["start"] <= last_day
    return {k: v[started] for k, v in spells.items()}, events


def preventive_records(
    states: States, world: int, bday18: np.ndarray, window: tuple[int, int], rng: np.random.Generator | None
) -> dict[str, np.ndarray]:
    """Dated preventive spells of one world (runs of preventive years).

    Parameters
    ----------
    states
        The municipality's states.
    world
        ``ON`` or ``OFF``.
    bday18
        18th birthdays of the municipality's children.
    window
        First and last year of the data; spells that ended before it are left out, spells
        starting after it too, and spells ending after it become ongoing.
    rng
        Generator for the type of measure, or None (measure 0).

    Returns
    -------
    dict
        ``child, start, end, measure`` arrays; ``end`` is NaT while ongoing.
    """
    first_year, last_year = window
    last_day = np.datetime64(f"{last_year}-12-31")
    prev = states.preventive[world]
    years = states.years
    before = np.zeros_like(prev)
    before[:, 1:] = prev[:, :-1]
    after = np.zeros_like(prev)
    after[:, :-1] = prev[:, 1:]
    starts = np.argwhere(prev & ~before)  # sorted by child, then year
    ends = np.argwhere(prev & ~after)
    final = ends[:, 1] == len(years) - 1
    child = starts[:, 0]
    start = date_in_child_year(bday18[child], years[starts[:, 1]], states.prev_u[child, starts[:, 1], 0])
    end_date = date_in_child_year(bday18[ends[:, 0]], years[ends[:, 1]], states.prev_u[ends[:, 0], ends[:, 1], 1])
    end = np.where(final | (end_date > last_day), NO_DATE, end_date)
    keep = (np.isnat(end) | (end >= year_start(np.array([first_year]))[0])) & (start <= last_day)
    measure = choose(rng, MEASURES, MEASURE_PROBS, len(child)) if rng is not None else np.zeros(len(child), np.int64)
    return {"child": child[keep], "start": start[keep], "end": end[keep], "measure": measure[keep]}


def notification_records(
    states: States, bday18: np.ndarray, window: tuple[int, int], q: float, extra_mean: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Notifications of the observed world.

    A case-open child-year is notified when the case is new, when no measure covers
    it, or otherwise with probability ``q``; a notified child-year has ``1 + Poisson``
    notifications, dated inside the child-year.

    Parameters
    ----------
    states
        The municipality's states.
    bday18
        18th birthdays of the municipality's children.
    window
        First and last year of the data (other years are not written).
    q
        Probability that a covered, continuing case-year is notified.
    extra_mean
        Mean number of notifications beyond the first.
    rng
        Generator.

    Returns
    -------
    dict
        ``child, date, notifier, reason`` arrays, sorted by child and date; plus
        ``new_case`` (the child-year starts a case run) and ``year``.
    """
    case = states.case
    before = np.zeros_like(case)
    before[:, 1:] = case[:, :-1]
    covered = states.placed[0] | states.preventive[0]
    new_case = case & ~before
    draw = rng.random(case.shape) < q
    notified = case & (new_case | ~covered | draw)
    notified[:, (states.years < window[0]) | (states.years > window[1])] = False
    ci, ti = np.nonzero(notified)
    count = 1 + rng.poisson(extra_mean, len(ci))
    child = np.repeat(ci, count)
    tt = np.repeat(ti, count)
    year = states.years[tt]
    date = date_in_child_year(bday18[child], year, rng.random(len(child)))
    order = np.lexsort((date, child))
    n = len(child)
    return {
        "child": child[order],
        "date": date[order],
        "year": year[order],
        "new_case": new_case[child, tt][order],
        "notifier": choose(rng, NOTIFIERS, NOTIFIER_PROBS, n),
        "reason": choose(rng, REASONS, REASON_PROBS, n),
    }
