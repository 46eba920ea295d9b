"""Caseworkers and case events of one municipality (the observed world).

Each municipality needs ``open cases / caseload`` full-time equivalents (FTE) for its cases at
the year's caseload (cases per full-time caseworker): national caseload points interpolated
between the years in ``synthetic.model.caseload_points``, and, from the adoption year on, lower
by ``effects.caseload_reduction`` in adopting municipalities. It employs that many caseworkers,
rounded to a whole number and at least one, each on a contract of 0.6 to 1.0 FTE. The staff's
contract mix shifts its cases per worked FTE: a staff whose contracts sum to less than its head
count carries :data:`MIX_CASES` more cases per worked FTE for each unit of ``head count / sum of
contracts - 1``. The shift is added to the target, not multiplied with it, so a municipality's
caseload differs from another's by an amount that does not grow or shrink with the national
target (parallel trends hold in the data-generating process, up to the mix's month-to-month
drift as people leave and are replaced). The FTE a caseworker works on children's cases in a
month is her share of the staff's contracts times the FTE the cases need at that caseload
(below her contract where a small municipality's one caseworker also works elsewhere, above it
for overtime where the head count is rounded down), so cases per worked FTE follow the target
plus the mix's shift at every size of municipality, while the head count moves in whole steps.
Caseworkers leave with a monthly probability (lower under the model) and are replaced the next
month.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evaluation.steps.simulate.cases import States
from evaluation.steps.simulate.services import date_in_child_year, year_start

FTE_VALUES = np.array([1.0, 0.9, 0.8, 0.6])
FTE_PROBS = np.array([0.65, 0.10, 0.15, 0.10])
WORKERS_PER_TEAM = 7
MAX_WORKED_FTE = 1.5  # the contract's maximum of AARSVAERK
MIX_CASES = 40.0
"""Cases per worked FTE added for each unit of ``head count / sum of contracts - 1`` (a staff with a
mean contract of 0.92 FTE, the expected mix, carries about 3.5 more than the target)."""


def caseload_target(years: np.ndarray, points: Mapping[int, float]) -> np.ndarray:
    """Cases per caseworker in each year, interpolated linearly between ``points`` (flat outside).

    Parameters
    ----------
    years
        Calendar years.
    points
        ``{year: cases per caseworker}``.

    Returns
    -------
    numpy.ndarray
        Caseload per year.
    """
    xs = np.array(sorted(points), dtype=float)
    return np.interp(np.asarray(years, dtype=float), xs, np.array([points[int(x)] for x in xs]))


def workforce(
    cases: np.ndarray, caseload: np.ndarray, turnover: np.ndarray, first_year: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate a municipality's caseworkers month by month.

    Parameters
    ----------
    cases
        Open cases in each year of the data.
    caseload
        Target cases per caseworker in each year.
    turnover
        Monthly probability of leaving in each year.
    first_year
        First year of the data.
    rng
        Generator.

    Returns
    -------
    dict
        ``worker`` (local id), ``month`` (index from January of ``first_year``), ``fte``
        (worked on children's cases, to three decimals, 0.001 to :data:`MAX_WORKED_FTE`), ``active_cases`` per
        worker-month; and per worker ``start``, ``end`` (NaT while employed), ``worker_fte``
        (the contract), ``team``.
    """
    n_months = 12 * len(cases)
    needed = cases / caseload
    heads = np.maximum(1, np.round(needed)).astype(np.int64)
    month_start = np.datetime64(f"{first_year}-01", "M") + np.arange(n_months + 1)
    start, end, fte, team = [], [], [], []
    active: list[int] = []
    rows_w, rows_m = [], []

    def hire(k: int, initial: bool) -> None:
        wid = len(start)
        if initial:
            first = year_start(np.array([first_year - 12]))[0]
            start.append(first + int(rng.integers(0, 12 * 365)))
        else:
            start.append(month_start[k].astype("datetime64[D]") + int(rng.integers(0, 10)))
        end.append(np.datetime64("NaT", "D"))
        fte.append(float(rng.choice(FTE_VALUES, p=FTE_PROBS)))
        team.append(wid % max(1, (heads.max() + WORKERS_PER_TEAM - 1) // WORKERS_PER_TEAM))
        active.append(wid)

    for k in range(n_months):
        y = k // 12
        target = int(heads[y])
        while len(active) > target:  # posts cut: the newest leave at the end of last month
            wid = active.pop()
            end[wid] = month_start[k].astype("datetime64[D]") - 1
        while len(active) < target:
            hire(k, initial=(k == 0))
        rows_w.extend(active)
        rows_m.extend([k] * len(active))
        leave = rng.random(len(active)) < turnover[y]
        last_day = month_start[k + 1].astype("datetime64[D]") - 1
        for wid in [w for w, gone in zip(active, leave, strict=True) if gone]:
            end[wid] = last_day
        active = [w for w, gone in zip(active, leave, strict=True) if not gone]

    worker = np.array(rows_w, dtype=np.int64)
    month = np.array(rows_m, dtype=np.int64)
    worker_fte = np.array(fte)
    f = worker_fte[worker]
    y = month // 12
    fte_sum = np.bincount(month, weights=f, minlength=n_months)[month]
    share = f / fte_sum  # of the staff's contracts; the staff is heads[y] people every month
    load = caseload[y] + MIX_CASES * (heads[y] / fte_sum - 1.0)
    active_cases = np.round(cases[y] * f / fte_sum).astype(np.int64)
    worked = np.clip(np.round(share * cases[y] / load, 3), 0.001, MAX_WORKED_FTE)
    return {
        "worker": worker,
        "month": month,
        "fte": worked,
        "active_cases": active_cases,
        "start": np.array(start, dtype="datetime64[D]"),
        "end": np.array(end, dtype="datetime64[D]"),
        "worker_fte": worker_fte,
        "team": np.array(team, dtype=np.int64),
    }


def case_events(
    states: States,
    bday18: np.ndarray,
    window: tuple[int, int],
    notifications: Mapping[str, np.ndarray],
    spell_starts: tuple[np.ndarray, np.ndarray],
    model: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Case events of the observed world (codes of :data:`evaluation.contract.codes.CASE_EVENT`).

    Parameters
    ----------
    states
        The municipality's states.
    bday18
        Children's 18th birthdays.
    window
        First and last year of the data.
    notifications
        The municipality's notifications (``child, date, year, new_case``), in their final order.
    spell_starts
        ``(child, start)`` of the placement and preventive spells, for action plans.
    model
        ``synthetic.model``: the process parameters, each a pair (without, with the model).
    rng
        Generator.

    Returns
    -------
    dict
        ``child, date, type, notification`` (row of the notification for screenings, -1 otherwise).
    """
    first_year, last_year = window
    years = states.years
    treated_year = dict(zip(years.tolist(), states.treated.tolist(), strict=True))
    last_day = np.datetime64(f"{last_year}-12-31")
    parts = []

    def add(child: np.ndarray, date: np.ndarray, kind: int, notif: np.ndarray | None = None) -> None:
        date = np.minimum(np.minimum(date, last_day), bday18[child] - 1)
        parts.append((child, date, np.full(len(child), kind), notif if notif is not None else np.full(len(child), -1)))

    def by_treat(year: np.ndarray, key: str) -> np.ndarray:
        on = np.array([treated_year.get(int(y), False) for y in np.unique(year)])
        lookup = dict(zip(np.unique(year).tolist(), on.tolist(), strict=True))
        flag = np.array([lookup[int(y)] for y in year], dtype=bool) if len(year) else np.zeros(0, bool)
        return np.where(flag, model[key][1], model[key][0])

    # 1: screening of every notification.
    nc, nd, ny = notifications["child"], notifications["date"], notifications["year"]
    fast = rng.random(len(nc)) < by_treat(ny, "screened_24h")
    delay = np.where(fast, rng.integers(0, 2, len(nc)), 2 + rng.geometric(0.25, len(nc)))
    add(nc, nd + delay, 1, np.arange(len(nc)))
    # 2-3: a §50 assessment after the first notification of a new case.
    first = notifications["new_case"] & np.r_[True, (nc[1:] != nc[:-1]) | (ny[1:] != ny[:-1])]
    ac, ad, ay = nc[first], nd[first], ny[first]
    a_start = ad + rng.integers(1, 15, len(ac))
    quick = rng.random(len(ac)) < by_treat(ay, "assessment_4_months")
    dur = np.where(quick, rng.integers(30, 121, len(ac)), rng.integers(121, 241, len(ac)))
    add(ac, a_start, 2)
    add(ac, a_start + dur, 3)
    # Case-open child-years of the data.
    in_window = (years >= first_year) & (years <= last_year)
    ci, ti = np.nonzero(states.case[:, in_window])
    ti = np.nonzero(in_window)[0][ti]
    cy = years[ti]
    # 4: child conversations.
    k = rng.poisson(by_treat(cy, "child_conversations"))
    c4, y4 = np.repeat(ci, k), np.repeat(cy, k)
    add(c4, date_in_child_year(bday18[c4], y4, rng.random(len(c4))), 4)
    # 5: an action plan at the start of every spell in the data.
    sc, ss = spell_starts
    keep = ss >= year_start(np.array([first_year]))[0]
    add(sc[keep], ss[keep] + rng.integers(0, 15, int(keep.sum())), 5)
    # 6: follow-ups of measures, every 3 (model) or 6 months.
    measure = states.placed[0][ci, ti] | states.preventive[0][ci, ti]
    mc, my = ci[measure], cy[measure]
    per_year = by_treat(my, "followups_per_year").astype(np.int64)
    fc, fy = np.repeat(mc, per_year), np.repeat(my, per_year)
    j = np.arange(len(fc)) - np.repeat(np.cumsum(per_year) - per_year, per_year)
    frac = (j + rng.uniform(0.2, 0.8, len(fc))) / np.repeat(per_year, per_year)
    add(fc, date_in_child_year(bday18[fc], fy, frac), 6)
    # 7: management audits.
    audited = rng.random(len(ci)) < by_treat(cy, "audit_share")
    add(ci[audited], date_in_child_year(bday18[ci[audited]], cy[audited], rng.random(int(audited.sum()))), 7)

    child = np.concatenate([p[0] for p in parts])
    date = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts]).astype(np.int64)
    notif = np.concatenate([p[3] for p in parts]).astype(np.int64)
    order = np.lexsort((notif, kind, date, child))
    return {"child": child[order], "date": date[order], "type": kind[order], "notification": notif[order]}


def assign_workers(
    date: np.ndarray, first_year: int, work: Mapping[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Pick, for each event, a caseworker employed in the event's month.

    Parameters
    ----------
    date
        Event dates inside the data window.
    first_year
        First year of the data.
    work
        Output of :func:`workforce`.
    rng
        Generator.

    Returns
    -------
    numpy.ndarray
        Local caseworker ids.
    """
    month = (date.astype("datetime64[M]").astype(np.int64) - (first_year - 1970) * 12).astype(np.int64)
    order = np.argsort(work["month"], kind="stable")
    w_sorted = work["worker"][order]
    n_months = int(work["month"].max()) + 1
    counts = np.bincount(work["month"], minlength=n_months)
    offsets = np.cumsum(counts) - counts
    pick = np.floor(rng.random(len(month)) * counts[month]).astype(np.int64)
    return w_sorted[offsets[month] + pick]
