"""The yearly case process of one municipality, in both potential-outcome worlds.

For every child and year the generator decides whether the child is known to
the services (``case_open``), and, inside an open case, whether it is placed out
of home, receives a preventive measure, or neither. ``case_open`` never depends on
the reform: the reform changes what happens inside a case, not who has one.

Everything the reform can change is simulated twice with common random numbers:
world 0 has the reform switched on where and when it applies (the observed data),
world 1 has it switched off (the counterfactual used only for ``truth.json``). Both
worlds compare the same uniform draws with different thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.steps.simulate.population import Municipality
from evaluation.steps.simulate.rng import stream

ON, OFF = 0, 1
WORLDS = (ON, OFF)

#: Placement groups in the order of ``type_shares_*`` and the DST codes drawn inside each group.
GROUPS = ("network", "foster", "institution", "residential", "other")
GROUP_CODES = {
    "network": (np.array([1]), np.array([1.0])),
    "foster": (np.array([21, 22, 26]), np.array([0.72, 0.16, 0.12])),
    "institution": (np.array([9, 7, 8]), np.array([0.86, 0.09, 0.05])),
    "residential": (np.array([27]), np.array([1.0])),
    "other": (np.array([11, 6]), np.array([0.5, 0.5])),
}
LEGAL_CODES = np.array([101, 102, 103, 199])
LEGAL_PROBS = np.array([0.84, 0.12, 0.03, 0.01])
CENTRE_YEAR = 2016


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Events:
    """Placement events of one world: arrays aligned by event.

    ``kind`` is 0 (start of an episode), 1 (change of placement) or 5 (end); ``year``
    is the calendar year of the event; ``breakdown`` marks changes caused by a breakdown.
    """

    child: list[np.ndarray] = field(default_factory=list)
    year: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    ptype: list[np.ndarray] = field(default_factory=list)
    breakdown: list[np.ndarray] = field(default_factory=list)
    legal: list[np.ndarray] = field(default_factory=list)

    def add(self, child, year, kind, ptype, breakdown, legal) -> None:  # noqa: D102
        n = len(child)
        self.child.append(child)
        self.year.append(np.full(n, year, dtype=np.int64))
        self.kind.append(np.full(n, kind, dtype=np.int64))
        self.ptype.append(ptype)
        self.breakdown.append(breakdown.astype(np.int64))
        self.legal.append(legal)

    def arrays(self) -> dict[str, np.ndarray]:
        """Concatenate and sort by child, year and kind."""
        out = {
            k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.zeros(0, np.int64)
            for k in ("child", "year", "kind", "ptype", "breakdown", "legal")
        }
        order = np.lexsort((out["kind"], out["year"], out["child"]))
        return {k: v[order] for k, v in out.items()}


@dataclass
class States:
    """The yearly states of one municipality's children (rows) over the simulated years (columns).

    Attributes
    ----------
    years
        The simulated calendar years, burn-in included.
    present, age, risk, case
        Child aged 0-17 on 1 January; age then; latent risk; open case.
    placed, preventive
        Per world (``ON``, ``OFF``): placed out of home, receiving a preventive measure.
    prevented
        World ON only: a placement the reform prevented (the child got a preventive measure instead).
    treated
        Per year: the municipality works under the model.
    events
        Per world: the placement events.
    date_u, prev_u
        Sorted uniforms that place events inside the child-year (placements: start, change,
        end; preventive: start, end), shared by the worlds.
    """

    years: np.ndarray
    present: np.ndarray
    age: np.ndarray
    risk: np.ndarray
    case: np.ndarray
    placed: list[np.ndarray]
    preventive: list[np.ndarray]
    prevented: np.ndarray
    treated: np.ndarray
    events: list[dict[str, np.ndarray]]
    date_u: np.ndarray
    prev_u: np.ndarray


def type_shares(year: int, age: np.ndarray, model: Mapping[str, Any]) -> np.ndarray:
    """Probabilities of the placement groups for new placements in ``year`` at ``age``.

    Parameters
    ----------
    year
        Calendar year (shares move linearly from 2011 to 2018 and stay flat outside).
    age
        Ages on 1 January.
    model
        ``synthetic.model``.

    Returns
    -------
    numpy.ndarray
        ``(len(age), 5)`` probabilities over :data:`GROUPS`.
    """
    w = min(max((year - 2011) / 7.0, 0.0), 1.0)
    base = (1 - w) * np.asarray(model["type_shares_2011"]) + w * np.asarray(model["type_shares_2018"])
    teen = (age >= 13)[:, None]
    small = (age < 6)[:, None]
    mult_teen = np.array([0.7, 0.7, 1.7, 1.7, 1.6])
    mult_small = np.array([1.2, 1.3, 0.4, 0.4, 0.2])
    p = base[None, :] * np.where(teen, mult_teen, np.where(small, mult_small, 1.0))
    return p / p.sum(axis=1, keepdims=True)


def draw_type(u: np.ndarray, shares: np.ndarray, shift: float) -> np.ndarray:
    """Draw placement-type codes from uniforms, optionally moving institution placements to families.

    Parameters
    ----------
    u
        ``(n, 3)`` uniforms: group, shift, code within group.
    shares
        ``(n, 5)`` group probabilities.
    shift
        Share of would-be institution or opholdssted placements moved to network (40 %)
        or foster (60 %) care; 0 without the reform.

    Returns
    -------
    numpy.ndarray
        Placement-type codes (``ANBSTED``).
    """
    group = (u[:, [0]] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)
    moved = np.isin(group, (2, 3)) & (u[:, 1] < shift)
    group = np.where(moved, np.where(u[:, 1] < 0.4 * shift, 0, 1), group)
    codes = np.zeros(len(u), dtype=np.int64)
    for g, name in enumerate(GROUPS):
        values, probs = GROUP_CODES[name]
        sel = group == g
        codes[sel] = values[np.minimum((u[sel, 2][:, None] > np.cumsum(probs)[:-1]).sum(axis=1), len(values) - 1)]
    return codes


def simulate_states(
    mun: Municipality,
    years: np.ndarray,
    low_education_child: np.ndarray,
    adoption: int | None,
    config: Mapping[str, Any],
    seed: int,
) -> States:
    """Simulate the yearly case process of one municipality in both worlds.

    Parameters
    ----------
    mun
        The municipality's population.
    years
        Simulated years (burn-in included), consecutive.
    low_education_child
        Per child: the parents have basic schooling only.
    adoption
        First year under the model, or None for a municipality that never adopts.
    config
        The merged configuration.
    seed
        Root seed of the run.

    Returns
    -------
    States
        The child-by-year states and the placement events of both worlds.
    """
    syn = config["synthetic"]
    m, eff, conf = syn["model"], syn["effects"], syn["confounding"]
    first_year = int(syn["first_year"])
    rng = stream(seed, "cases", mun.kom)
    n, n_years = mun.n_children, len(years)
    birth_year = mun.birth_year
    age = years[None, :] - birth_year[:, None] - 1
    present = (age >= 0) & (age <= 17)
    shock = rng.normal(0.0, m["risk_shock_sd"], n_years)
    low = low_education_child.astype(float)
    origin_risk = m["risk_immigrant_family"] * (mun.origin != 1)
    risk = (
        mun.child_effect[:, None]
        + (m["risk_low_education"] * low + origin_risk)[:, None]
        + conf["risk_trend_per_year"] * (years - first_year)[None, :] * low[:, None]
        + shock[None, :]
    ).astype(np.float32)
    treated = np.array([adoption is not None and y >= adoption for y in years])

    case = np.zeros((n, n_years), dtype=bool)
    placed = [np.zeros((n, n_years), dtype=bool) for _ in WORLDS]
    prev = [np.zeros((n, n_years), dtype=bool) for _ in WORLDS]
    prevented = np.zeros((n, n_years), dtype=bool)
    current_type = [np.zeros(n, dtype=np.int64) for _ in WORLDS]
    current_legal = [np.zeros(n, dtype=np.int64) for _ in WORLDS]
    events = [Events() for _ in WORLDS]
    no_case = np.zeros(n, dtype=bool)

    for t, year in enumerate(years):
        u = rng.random((n, 10), dtype=np.float32)
        r, a = risk[:, t], age[:, t]
        teen = (a >= 12).astype(float)
        p_entry = sigmoid(
            m["case_entry_intercept"]
            + m["case_entry_risk"] * r
            + m["case_entry_year"] * (year - CENTRE_YEAR)
            + m["case_entry_teen"] * teen
            + m["case_entry_infant"] * (a <= 1)
        )
        p_cont = sigmoid(m["case_continue_intercept"] + m["case_continue_risk"] * r)
        prev_case = case[:, t - 1] if t > 0 else no_case
        case[:, t] = present[:, t] & (u[:, 0] < np.where(prev_case, p_cont, p_entry))
        c = case[:, t]
        h = sigmoid(
            m["placement_intercept"]
            + m["placement_risk"] * r
            + m["placement_year"] * (year - CENTRE_YEAR)
            + m["placement_teen"] * teen
        )
        p_prev = sigmoid(
            m["preventive_intercept"] + m["preventive_risk"] * r + m["preventive_year"] * (year - CENTRE_YEAR)
        )
        shares = type_shares(int(year), a, m)
        teen_bd = a >= 13
        for w in WORLDS:
            on = bool(treated[t]) and w == ON
            was = placed[w][:, t - 1] if t > 0 else no_case
            cont = was & c & (u[:, 1] < m["placement_continue"])
            h_w = h * (1.0 + eff["placement_rate_change"]) if on else h
            new = c & ~was & (u[:, 2] < h_w)
            stop = was & ~cont
            placed[w][:, t] = cont | new
            if on:
                prevented[:, t] = c & ~was & (u[:, 2] < h) & ~new
            prev[w][:, t] = c & ~placed[w][:, t] & ((u[:, 3] < p_prev) | (prevented[:, t] if on else False))
            # Ends of episodes (dated in the previous year).
            idx = np.nonzero(stop)[0]
            if t > 0 and len(idx):
                events[w].add(idx, years[t - 1], 5, current_type[w][idx], np.zeros(len(idx)), current_legal[w][idx])
            # Starts.
            idx = np.nonzero(new)[0]
            shift = eff["network_foster_shift"] if on else 0.0
            codes = draw_type(u[idx][:, 4:7], shares[idx], shift)
            legal = LEGAL_CODES[np.minimum((u[idx, 7][:, None] > np.cumsum(LEGAL_PROBS)[:-1]).sum(axis=1), 3)]
            current_type[w][idx] = codes
            current_legal[w][idx] = legal
            events[w].add(idx, year, 0, codes, np.zeros(len(idx)), legal)
            # Changes of placement within continuing episodes: breakdowns and planned moves.
            hb = np.where(teen_bd, m["breakdown_teen"], m["breakdown_child"])
            if on:
                hb = hb * (1.0 + eff["breakdown_rate_change"])
            brk = cont & (u[:, 8] < hb)
            planned = cont & (u[:, 8] >= 0.5) & (u[:, 8] < 0.5 + m["planned_change"])
            idx = np.nonzero(brk | planned)[0]
            codes = draw_type(u[idx][:, [9, 5, 6]], shares[idx], shift)
            current_type[w][idx] = codes
            events[w].add(idx, year, 1, codes, brk[idx], current_legal[w][idx])
    # Episodes still running at the end: the child's 18th birthday ends them in its last year.
    for w in WORLDS:
        idx = np.nonzero(placed[w][:, -1] & (age[:, -1] == 17))[0]
        events[w].add(idx, years[-1], 5, current_type[w][idx], np.zeros(len(idx)), current_legal[w][idx])

    date_u = np.sort(rng.random((n, n_years, 3), dtype=np.float32), axis=2)
    prev_u = np.sort(rng.random((n, n_years, 2), dtype=np.float32), axis=2)
    return States(
        years=years,
        present=present,
        age=age,
        risk=risk,
        case=case,
        placed=placed,
        preventive=prev,
        prevented=prevented,
        treated=treated,
        events=[e.arrays() for e in events],
        date_u=date_u,
        prev_u=prev_u,
    )
