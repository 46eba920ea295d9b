"""Simulate every municipality and collect its records, with the ground-truth tallies.

One pass over the 98 municipalities: population, case process in both worlds, dated
records of the observed world, case work, outcomes and accounts, plus the tallies of
potential outcomes that :mod:`evaluation.steps.simulate.truth` turns into ``truth.json``: once
over all data (the final estimands) and once over the calendar years up to the interim
report's cut-off year (:func:`evaluation.steps.simulate.settings.interim_last_year`). The
tallies only read the simulated states, so they never change a random draw.
Indices of children, families and caseworkers are made global here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation.contract.codes import ACCOUNT_FUNCTION_OF_TYPE, PLACEMENT_GROUP
from evaluation.methods.costs import child_year_costs, spell_year_costs
from evaluation.second_process import SecondProcess
from evaluation.steps.simulate.cases import OFF, ON, simulate_states
from evaluation.steps.simulate.casework import assign_workers, case_events, caseload_target, workforce
from evaluation.steps.simulate.outcomes import outcome_records
from evaluation.steps.simulate.population import build_municipality, children_per_year
from evaluation.steps.simulate.rng import stream
from evaluation.steps.simulate.services import birthday18, notification_records, placement_records, preventive_records
from evaluation.steps.simulate.settings import interim_last_year

ACCOUNT_OF_TYPE = ACCOUNT_FUNCTION_OF_TYPE
FAMILY_GROUPS = ("network", "foster")


@dataclass
class World:
    """Everything simulated: global record arrays (``parts`` concatenated) and truth tallies.

    ``tally`` holds the sums over all data (the final estimands), ``interim_tally`` the same sums
    over the calendar years up to the interim report's cut-off year.
    """

    parts: dict[str, dict[str, list[np.ndarray]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    tally: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    interim_tally: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    n_children: int = 0
    n_families: int = 0
    n_workers: int = 0

    def add(self, table: str, **cols: np.ndarray) -> None:
        """Append column arrays to ``table``."""
        for k, v in cols.items():
            self.parts[table][k].append(np.asarray(v))

    def add_records(self, table: str, kom: int, records: Mapping[str, np.ndarray], columns: Sequence[str]) -> None:
        """Append a municipality's records to ``table``: their ``child``, ``kom`` and ``columns``."""
        self.add(
            table, child=records["child"], kom=np.full(len(records["child"]), kom), **{c: records[c] for c in columns}
        )

    def table(self, name: str) -> dict[str, np.ndarray]:
        """Concatenated columns of ``name``."""
        return {k: np.concatenate(v) for k, v in self.parts[name].items()}

    def absorb(self, one: Simulated) -> None:
        """Append one municipality's records, its local indices made global, and add its tallies."""
        offsets = {
            "children": self.n_children,
            "families": self.n_families,
            "workers": self.n_workers,
            "notifications": sum(len(a) for a in self.parts["notifications"]["child"]),
        }
        for table, columns in one.tables.items():
            for column, values in columns.items():
                index = GLOBAL_INDICES.get((table, column))
                if index is not None:
                    values = values + offsets[index]
                    if index == "notifications":  # -1: an event without a notification
                        values = np.where(values >= offsets[index], values, -1)
                self.parts[table][column].append(values)
        for mine, theirs in ((self.tally, one.tally), (self.interim_tally, one.interim_tally)):
            for key, value in theirs.items():
                mine[key] += value
        self.n_children += one.n_children
        self.n_families += one.n_families
        self.n_workers += one.n_workers


#: Columns holding local indices of one municipality's children, families, caseworkers or notifications.
GLOBAL_INDICES: dict[tuple[str, str], str] = {
    ("children", "family"): "families",
    ("population", "child"): "children",
    ("family_years", "family"): "families",
    ("notifications", "child"): "children",
    ("placements", "child"): "children",
    ("placement_events", "child"): "children",
    ("preventive", "child"): "children",
    ("case_events", "child"): "children",
    ("case_events", "worker"): "workers",
    ("case_events", "notification"): "notifications",
    ("worker_months", "worker"): "workers",
    ("outcomes", "child"): "children",
}


@dataclass
class Simulated:
    """One municipality's records with local indices (from 0), its tallies and its counts (picklable)."""

    tables: dict[str, dict[str, np.ndarray]]
    tally: dict[str, float]
    interim_tally: dict[str, float]
    n_children: int
    n_families: int
    n_workers: int


@dataclass(frozen=True)
class Setup:
    """What every municipality's simulation reads: the configuration and the draws shared by all."""

    config: Mapping[str, Any]
    kom: np.ndarray
    inhabitants: np.ndarray
    share: float
    seed: int
    low_base: np.ndarray
    caseload: np.ndarray
    interim_year: int

    @classmethod
    def of(cls, config: Mapping[str, Any], municipalities: pd.DataFrame, share: float, seed: int) -> Setup:
        """Build the setup of a run: the municipalities' base shares of low education and the caseload targets."""
        syn = config["synthetic"]
        m = syn["model"]
        data_years = np.arange(int(syn["first_year"]), int(syn["last_year"]) + 1)
        rng_low = stream(seed, "education")
        low_base = m["low_education_share"] + rng_low.normal(0.0, m["low_education_sd"], len(municipalities))
        return cls(
            config=config,
            kom=municipalities["KOM"].to_numpy(),
            inhabitants=municipalities["INDBYGGERE"].to_numpy(),
            share=share,
            seed=seed,
            low_base=low_base,
            caseload=caseload_target(data_years, m["caseload_points"]),
            interim_year=interim_last_year(config),
        )


def split_by_size(inhabitants: np.ndarray) -> tuple[list[int], list[int]]:
    """Split municipality positions in two lists of about the same number of inhabitants (largest first)."""
    sums = [0, 0]
    lists: tuple[list[int], list[int]] = ([], [])
    for k in np.argsort(-np.asarray(inhabitants), kind="stable"):
        side = int(sums[1] < sums[0])
        lists[side].append(int(k))
        sums[side] += int(inhabitants[k])
    return sorted(lists[0]), sorted(lists[1])


def simulate_some(
    _inbox: Any, config: Mapping[str, Any], municipalities: pd.DataFrame, share: float, seed: int, positions: list[int]
) -> dict[int, Simulated]:
    """Simulate the municipalities at ``positions``: the second process's part of :func:`simulate_world`."""
    setup = Setup.of(config, municipalities, share, seed)
    return {k: simulate_municipality(setup, k) for k in positions}


def _spell_frame(placements: Mapping[str, np.ndarray], preventive: Mapping[str, np.ndarray]) -> pd.DataFrame:
    n_p, n_v = len(placements["child"]), len(preventive["child"])
    return pd.DataFrame(
        {
            "person_id": np.r_[placements["child"], preventive["child"]],
            "start_date": np.r_[placements["start"], preventive["start"]],
            "end_date": np.r_[placements["end"], preventive["end"]],
            "placement_type": pd.Series(np.r_[placements["ptype"], np.zeros(n_v, np.int64)], dtype="Int64").where(
                np.r_[np.ones(n_p, bool), np.zeros(n_v, bool)]
            ),
            "measure": pd.Series(np.r_[np.zeros(n_p, np.int64), preventive["measure"]], dtype="Int64").where(
                np.r_[np.zeros(n_p, bool), np.ones(n_v, bool)]
            ),
        }
    )


def simulate_world(
    config: Mapping[str, Any],
    municipalities: pd.DataFrame,
    share: float,
    seed: int,
    progress: Callable[[str], None] | None,
    workers: int = 1,
) -> World:
    """Run the generator over all municipalities.

    Each municipality draws from random streams of its own (:func:`evaluation.steps.simulate.rng.stream`), so
    they can be simulated in any order and in two processes: with ``workers=2`` a second process
    simulates about half of the children (:func:`split_by_size`), and the municipalities are then put
    together in their order, with the same indices and the same tallies: the files are the same bytes.

    Parameters
    ----------
    config
        The merged configuration.
    municipalities
        ``KOM, KOMNAVN, REGION, INDBYGGERE``.
    share
        Population share of the scale.
    seed
        Root seed.
    progress
        Progress callback, or None.
    workers
        1, or 2 for a second process.

    Returns
    -------
    World
        The records and truth tallies.
    """
    setup = Setup.of(config, municipalities, share, seed)
    world = World()
    n = len(municipalities)
    if workers > 1 and n > 1:
        mine, theirs = split_by_size(municipalities["INDBYGGERE"].to_numpy())
        second = SecondProcess(
            "evaluation.steps.simulate.world:simulate_some", config, municipalities, share, seed, theirs
        )
        try:
            done = {}
            for i, k in enumerate(mine):
                done[k] = simulate_municipality(setup, k)
                if progress is not None and (i + 1) % 20 == 0:
                    progress(
                        f"municipalities: {i + 1} of {len(mine)} simulated here, {len(theirs)} in a second process"
                    )
            done.update(second.result())
        finally:
            second.close()
        for k in range(n):  # in the order of one process: the same indices and tallies
            world.absorb(done.pop(k))
        if progress is not None:
            progress(f"municipalities: {n} of {n} simulated ({world.n_children:,} children)")
        return world
    for k in range(n):
        world.absorb(simulate_municipality(setup, k))
        if progress is not None and (k + 1) % 20 == 0:
            progress(f"municipalities: {k + 1} of {n} simulated ({world.n_children:,} children so far)")
    return world


def simulate_municipality(setup: Setup, k: int) -> Simulated:
    """Simulate the municipality at position ``k``: its records with local indices, and its tallies."""
    config, seed, share = setup.config, setup.seed, setup.share
    syn = config["synthetic"]
    m, eff = syn["model"], syn["effects"]
    first_year, last_year = int(syn["first_year"]), int(syn["last_year"])
    window = (first_year, last_year)
    years = np.arange(first_year - int(m["burn_in_years"]), last_year + 2)
    data_years = np.arange(first_year, last_year + 1)
    adoptions = config["treatment"]["adoptions"]
    prices = config["prices"]
    interim_year, low_base, caseload = setup.interim_year, setup.low_base, setup.caseload
    kom, inhabitants = int(setup.kom[k]), int(setup.inhabitants[k])
    world = World()
    adoption = adoptions.get(kom)
    low_share = float(
        np.clip(low_base[k] + (syn["confounding"]["adopter_low_education_shift"] if adoption else 0.0), 0.02, 0.8)
    )
    mun = build_municipality(
        kom,
        children_per_year(int(inhabitants), kom, m, share),
        (int(years[0]) - 18, last_year - 1),
        low_share,
        m,
        first_year,
        seed,
    )
    states = simulate_states(mun, years, mun.low_education[mun.family], adoption, config, seed)
    b18 = birthday18(mun.birth_date)
    out_rng = stream(seed, "records", kom)

    # Population and families.
    world.add(
        "children",
        birth=mun.birth_date,
        sex=mun.sex,
        origin=mun.origin,
        kom=np.full(mun.n_children, kom),
        family=mun.family,
    )
    world.add(
        "families",
        mother_birth=mun.mother_birth,
        father_birth=mun.father_birth,
        mother_edu=mun.mother_education,
        father_edu=mun.father_education,
        mother_income=mun.mother_income,
        father_income=mun.father_income,
        low=mun.low_education,
    )
    in_data = (years >= first_year) & (years <= last_year)
    pc_, pt_ = np.nonzero(states.present & in_data[None, :])
    world.add("population", child=pc_, year=years[pt_])
    fy = np.unique(mun.family[pc_] * 10_000 + years[pt_])
    world.add("family_years", family=fy // 10_000, year=fy % 10_000)

    # Records of the observed world.
    spells, events = placement_records(states, ON, b18, window, out_rng)
    prev = preventive_records(states, ON, b18, window, out_rng)
    notes = notification_records(
        states, b18, window, m["notified_continuing_share"], m["extra_notifications_mean"], out_rng
    )
    world.add_records("notifications", kom, notes, ("date", "notifier", "reason", "year"))
    world.add_records("placements", kom, spells, ("start", "end", "ptype", "legal", "breakdown", "exit"))
    world.add_records("placement_events", kom, events, ("date", "kind", "ptype", "legal", "exit", "reasons"))
    world.add_records("preventive", kom, prev, ("start", "end", "measure"))

    # Case work.
    cases = states.case[:, in_data].sum(axis=0)
    treated = states.treated[in_data]
    target = {w: caseload * np.where(treated & (w == ON), 1.0 - eff["caseload_reduction"], 1.0) for w in (ON, OFF)}
    turnover = np.where(treated, m["monthly_turnover"][1], m["monthly_turnover"][0])
    work = {w: workforce(cases, target[w], turnover, first_year, stream(seed, "workforce", kom)) for w in (ON, OFF)}
    starts = (np.r_[spells["child"], prev["child"]], np.r_[spells["start"], prev["start"]])
    ev = case_events(states, b18, window, notes, starts, m, out_rng)
    worker = assign_workers(ev["date"], first_year, work[ON], out_rng)
    world.add(
        "case_events",
        child=ev["child"],
        kom=np.full(len(ev["child"]), kom),
        date=ev["date"],
        type=ev["type"],
        worker=worker,
        notification=ev["notification"],
    )
    wk = work[ON]
    world.add("workers", kom=np.full(len(wk["start"]), kom), start=wk["start"], end=wk["end"], team=wk["team"])
    world.add(
        "worker_months",
        worker=wk["worker"],
        month=wk["month"],
        fte=wk["fte"],
        active=wk["active_cases"],
        kom=np.full(len(wk["worker"]), kom),
    )

    # Outcomes.
    rows, truth = outcome_records(states, window, config, out_rng, interim_last_year=interim_year)
    world.add("outcomes", child=rows["child"], year=rows["year"], measure=rows["measure"], value=rows["value"])

    # Accounts: micro-costs of the observed world by account function, current prices.
    frame = _spell_frame(spells, prev)
    per = spell_year_costs(frame, prices, data_years)
    ptype = frame["placement_type"].to_numpy(dtype=np.int64, na_value=-1)[per["spell"].to_numpy()]
    function = np.where(ptype < 0, "5.28.21", pd.Series(ptype).map(ACCOUNT_OF_TYPE).to_numpy(dtype=object))
    micro = per.assign(function=function).groupby(["year", "function"])["cost"].sum()
    world.add(
        "micro_costs",
        kom=np.full(len(micro), kom),
        year=micro.index.get_level_values(0).to_numpy(),
        function=micro.index.get_level_values(1).to_numpy(dtype=object),
        cost=micro.to_numpy(),
    )

    if adoption is not None:
        _tally_truth(world, states, spells, prev, work, cases, truth, adoption, window, b18, prices, interim_year)

    return Simulated(
        tables={
            name: {c: v[0] if len(v) == 1 else np.concatenate(v) for c, v in cols.items()}
            for name, cols in world.parts.items()
        },
        tally=dict(world.tally),
        interim_tally=dict(world.interim_tally),
        n_children=mun.n_children,
        n_families=len(mun.low_education),
        n_workers=len(wk["start"]),
    )


def _tally_truth(world, states, spells_on, prev_on, work, cases, truth, adoption, window, b18, prices, interim_year):
    """Add one adopting municipality's potential-outcome differences to the truth tallies.

    ``world.tally`` gets the treated child-years, municipality-years, placement events and
    municipality-months of the years ``adoption`` to ``window[1]``; ``world.interim_tally`` those
    of the years ``adoption`` to ``interim_year`` (nothing when the municipality adopts later).
    """
    first_year, last_year = window
    years = states.years
    data_years = np.arange(first_year, last_year + 1)
    # Cost per case-open child-year, over all post years once; the interim sum takes its early years.
    post = (years >= adoption) & (years <= last_year)
    ci, ti = np.nonzero(states.case & post[None, :])
    spells_off, _ = placement_records(states, OFF, b18, window, None)
    prev_off = preventive_records(states, OFF, b18, window, None)
    post_years = list(range(adoption, last_year + 1))
    prev_on_nomeasure = {**prev_on, "measure": np.zeros(len(prev_on["child"]), np.int64)}
    keys = pd.DataFrame({"person_id": ci, "year": years[ti]})
    cost: dict[str, np.ndarray] = {}
    for w, (sp, pv) in {"on": (spells_on, prev_on_nomeasure), "off": (spells_off, prev_off)}.items():
        per_year = child_year_costs(_spell_frame(sp, pv), prices, post_years)
        cost[w] = keys.merge(per_year, on=["person_id", "year"], how="left")["cost"].fillna(0.0).to_numpy()
    fte = {w: np.bincount(work[w]["month"], weights=work[w]["fte"], minlength=12 * len(cases)) for w in (ON, OFF)}
    for t, upto, suffix in ((world.tally, last_year, ""), (world.interim_tally, interim_year, "_interim")):
        for key in ("sdq", "absence"):
            t[f"{key}_diff"] += truth[f"{key}{suffix}"][0]
            t[f"{key}_n"] += truth[f"{key}{suffix}"][1]
        in_years = (years >= adoption) & (years <= upto)
        early = years[ti] <= upto
        for w in ("on", "off"):
            t[f"cost_{w}"] += float(cost[w][early].sum())
        t["cost_n"] += int(early.sum())
        # Placement entries, placement mix and breakdowns, from the yearly events.
        case_post = states.case & in_years[None, :]
        for w, name in ((ON, "on"), (OFF, "off")):
            ev = states.events[w]
            yi = ev["year"] - years[0]
            in_post = (ev["year"] >= adoption) & (ev["year"] <= upto)
            start = (ev["kind"] == 0) & in_post
            t[f"entries_{name}"] += float(case_post[ev["child"][start], yi[start]].sum())
            groups = np.array([PLACEMENT_GROUP[int(c)] for c in ev["ptype"][start]], dtype=object)
            t[f"family_{name}"] += float(np.isin(groups, FAMILY_GROUPS).sum())
            t[f"starts_{name}"] += float(start.sum())
            t[f"breakdowns_{name}"] += float(((ev["kind"] == 1) & in_post & (ev["breakdown"] == 1)).sum())
            t[f"placed_years_{name}"] += float((states.placed[w] & in_years[None, :]).sum())
        t["entries_n"] += int(case_post.sum())
        # Open cases per worked FTE, treated municipality-months.
        post_months = np.nonzero(np.repeat((data_years >= adoption) & (data_years <= upto), 12))[0]
        for w, name in ((ON, "on"), (OFF, "off")):
            t[f"caseload_{name}"] += float((cases[post_months // 12] / fte[w][post_months]).sum())
        t["caseload_n"] += len(post_months)
