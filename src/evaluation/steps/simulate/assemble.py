"""Turn the world's global arrays into the eleven extracts of the data contract (Arrow tables)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from evaluation.contract import EXTRACTS
from evaluation.steps.simulate.persons import make_pnr, socio_status, zero_padded
from evaluation.steps.simulate.rng import stream
from evaluation.steps.simulate.world import World
from evaluation.steps.simulate.writer import to_table


def _ids(prefix: str, n: int) -> pa.Array:
    return pa.array(zero_padded(np.arange(1, n + 1), 9, prefix), pa.string())


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(idx, mask=idx < 0, type=pa.int64()))


def assemble(world: World, municipalities: pd.DataFrame, config: Mapping[str, Any], seed: int) -> dict[str, pa.Table]:
    """Build every extract (:func:`assemble_each`, gathered).

    Returns
    -------
    dict
        Extract name to Arrow table, columns in contract order, rows sorted.
    """
    return dict(assemble_each(world, municipalities, config, seed))


def assemble_each(
    world: World, municipalities: pd.DataFrame, config: Mapping[str, Any], seed: int
) -> Iterator[tuple[str, pa.Table]]:
    """Build the extracts one after another, so that each can be written and freed before the next is built.

    Parameters
    ----------
    world
        The simulated world.
    municipalities
        ``KOM, KOMNAVN, REGION``.
    config
        The merged configuration.
    seed
        Root seed (person numbers and parents' yearly draws).

    Yields
    ------
    (str, pyarrow.Table)
        Extract name and table, columns in contract order, rows sorted. Each extract draws from its
        own random streams, so the tables do not depend on which others are built.
    """
    syn = config["synthetic"]
    first_year = int(syn["first_year"])
    growth = float(syn["model"]["price_growth"])
    kids, fam = world.table("children"), world.table("families")
    wk = world.table("workers")
    n_c, n_f, n_w = len(kids["birth"]), len(fam["low"]), len(wk["start"])
    has_father = ~np.isnat(fam["father_birth"])
    rng = stream(seed, "persons")
    worker_birth = (np.datetime64("1955-01-01") + rng.integers(0, 40 * 365, n_w)).astype("datetime64[D]")
    worker_male = rng.random(n_w) < 0.2
    births = np.concatenate([kids["birth"], fam["mother_birth"], fam["father_birth"][has_father], worker_birth])
    male = np.concatenate([kids["sex"] == 1, np.zeros(n_f, bool), np.ones(has_father.sum(), bool), worker_male])
    pnr = pa.array(make_pnr(births, male, rng), pa.string())
    mother_pid = n_c + np.arange(n_f)
    father_pid = np.full(n_f, -1)
    father_pid[has_father] = n_c + n_f + np.arange(has_father.sum())
    worker_pid = n_c + n_f + has_father.sum() + np.arange(n_w)

    pop = world.table("population")
    order = np.lexsort((pop["child"], pop["year"]))
    c, fam_of = pop["child"][order], kids["family"][pop["child"][order]]
    yield (
        "befolkning",
        to_table(
            EXTRACTS["befolkning"],
            {
                "AAR": pop["year"][order],
                "PNR": _take(pnr, c),
                "KOEN": kids["sex"][c],
                "FOED_DAG": kids["birth"][c],
                "KOM": kids["kom"][c],
                "MOR_ID": _take(pnr, mother_pid[fam_of]),
                "FAR_ID": _take(pnr, father_pid[fam_of]),
                "FAMILIE_ID": _take(pnr, mother_pid[fam_of]),
                "IE_TYPE": kids["origin"][c],
            },
        ),
    )

    fy = world.table("family_years")
    parent = np.concatenate([mother_pid[fy["family"]], father_pid[fy["family"]]])
    pyear = np.concatenate([fy["year"], fy["year"]])
    pfam = np.concatenate([fy["family"], fy["family"]])
    is_father = np.r_[np.zeros(len(fy["family"]), bool), np.ones(len(fy["family"]), bool)]
    keep = parent >= 0
    parent, pyear, pfam, is_father = parent[keep], pyear[keep], pfam[keep], is_father[keep]
    order = np.lexsort((parent, pyear))
    parent, pyear, pfam, is_father = parent[order], pyear[order], pfam[order], is_father[order]
    prng = stream(seed, "parents")
    edu = np.where(is_father, fam["father_edu"][pfam], fam["mother_edu"][pfam])
    base = np.where(is_father, fam["father_income"][pfam], fam["mother_income"][pfam])
    income = np.round(base * (1 + growth) ** (pyear - first_year) * np.exp(prng.normal(0, 0.1, len(parent))))
    yield (
        "foraeldre",
        to_table(
            EXTRACTS["foraeldre"],
            {
                "AAR": pyear,
                "PNR": _take(pnr, parent),
                "HFAUDD_NIV": edu,
                "PERINDKIALT": income,
                "SOCIO13": socio_status(edu == 10, prng),
            },
        ),
    )

    nt = world.table("notifications")
    yield (
        "underretninger",
        to_table(
            EXTRACTS["underretninger"],
            {
                "UNDERRETNING_ID": _ids("U", len(nt["child"])),
                "PNR": _take(pnr, nt["child"]),
                "DATO": nt["date"],
                "KOM": nt["kom"],
                "ANMELDER": nt["notifier"],
                "AARSAG": nt["reason"],
            },
        ),
    )

    pv = world.table("preventive")
    yield (
        "forebyggende",
        to_table(
            EXTRACTS["forebyggende"],
            {
                "FORLOEB_ID": _ids("P", len(pv["child"])),
                "PNR": _take(pnr, pv["child"]),
                "KOM": pv["kom"],
                "FORANST": pv["measure"],
                "STARTDATO": pv["start"],
                "SLUTDATO": pv["end"],
            },
        ),
    )

    pl = world.table("placements")
    yield (
        "anbringelser_forloeb",
        to_table(
            EXTRACTS["anbringelser_forloeb"],
            {
                "FORLOEB_ID": _ids("A", len(pl["child"])),
                "PNR": _take(pnr, pl["child"]),
                "KOM": pl["kom"],
                "ANBSTED": pl["ptype"],
                "RETSGRUNDLAG": pl["legal"],
                "STARTDATO": pl["start"],
                "SLUTDATO": pl["end"],
                "SAMMENBRUD": pl["breakdown"],
                "UDSTED": pa.array(pl["exit"], mask=pl["exit"] == 0, type=pa.int64()),
            },
        ),
    )

    ev = world.table("placement_events")
    cols: dict[str, Any] = {
        "PNR": _take(pnr, ev["child"]),
        "KOM": ev["kom"],
        "HAENDDATO": ev["date"],
        "HAENDELSE": ev["kind"],
        "ANBSTED": ev["ptype"],
        "RETSGRUNDLAG": ev["legal"],
        "UDSTED": pa.array(ev["exit"], mask=ev["exit"] == 0, type=pa.int64()),
    }
    for i in range(18):
        cols[f"UDSLAG{i + 1}"] = ev["reasons"][:, i]
    yield "anbringelser_haendelser", to_table(EXTRACTS["anbringelser_haendelser"], cols)

    ce = world.table("case_events")
    yield (
        "sagshaendelser",
        to_table(
            EXTRACTS["sagshaendelser"],
            {
                "HAENDELSE_ID": _ids("H", len(ce["child"])),
                "PNR": _take(pnr, ce["child"]),
                "KOM": ce["kom"],
                "DATO": ce["date"],
                "HAENDELSE": ce["type"],
                "SAGSBEHANDLER_ID": _take(pnr, worker_pid[ce["worker"]]),
                "UNDERRETNING_ID": _take(_ids("U", len(nt["child"])), ce["notification"]),
            },
        ),
    )

    wm = world.table("worker_months")
    order = np.lexsort((wm["worker"], wm["month"], wm["kom"]))
    w = wm["worker"][order]
    month = (np.datetime64(f"{first_year}-01", "M") + wm["month"][order]).astype("datetime64[D]")
    team = np.char.add(np.char.add(wk["kom"][w].astype(str), "-T"), np.char.zfill((wk["team"][w] + 1).astype(str), 2))
    yield (
        "sagsbehandlere",
        to_table(
            EXTRACTS["sagsbehandlere"],
            {
                "SAGSBEHANDLER_ID": _take(pnr, worker_pid[w]),
                "KOM": wm["kom"][order],
                "TEAM": team,
                "MAANED": month,
                "AARSVAERK": wm["fte"][order],
                "AKTIVE_SAGER": wm["active"][order],
                "ANSAT_START": wk["start"][w],
                "ANSAT_SLUT": wk["end"][w],
            },
        ),
    )

    oc = world.table("outcomes")
    order = np.lexsort((oc["measure"].astype(str), oc["year"], oc["child"]))
    yield (
        "udfald",
        to_table(
            EXTRACTS["udfald"],
            {
                "PNR": _take(pnr, oc["child"][order]),
                "AAR": oc["year"][order],
                "MAAL": oc["measure"][order].astype(str),
                "VAERDI": oc["value"][order].astype(float),
            },
        ),
    )

    yield "regnskab", to_table(EXTRACTS["regnskab"], accounts(world, municipalities, config, seed))
    yield (
        "kommuner",
        to_table(
            EXTRACTS["kommuner"],
            {
                "KOM": municipalities["KOM"].to_numpy(np.int64),
                "KOMNAVN": municipalities["KOMNAVN"].astype(str).to_numpy(),
                "REGION": municipalities["REGION"].to_numpy(np.int64),
            },
        ),
    )


def accounts(world: World, municipalities: pd.DataFrame, config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Municipal accounts, function 5.28: micro-costs plus an unexplained share, in current prices.

    Parameters
    ----------
    world
        The simulated world (its ``micro_costs``, price-year prices).
    municipalities
        The municipality table.
    config
        The merged configuration.
    seed
        Root seed.

    Returns
    -------
    dict
        ``KOM, AAR, FUNKTION, BELOEB`` arrays (DKK 1,000), one row per municipality, year and function.
    """
    from evaluation.contract.codes import ACCOUNT_FUNCTION

    syn = config["synthetic"]
    m = syn["model"]
    price_year = int(config["prices"]["price_year"])
    years = np.arange(int(syn["first_year"]), int(syn["last_year"]) + 1)
    functions = sorted(ACCOUNT_FUNCTION)
    grid = pd.MultiIndex.from_product(
        [municipalities["KOM"].astype(int), years, functions], names=["kom", "year", "function"]
    ).to_frame(index=False)
    mc = world.table("micro_costs")
    micro = pd.DataFrame(
        {
            "kom": mc["kom"].astype(int),
            "year": mc["year"].astype(int),
            "function": mc["function"].astype(str),
            "cost": mc["cost"],
        }
    )
    grid = grid.merge(micro, on=["kom", "year", "function"], how="left").fillna({"cost": 0.0})
    rng = stream(seed, "accounts")
    lo, hi = m["unexplained_share"]
    unexplained = rng.uniform(lo, hi, len(grid))
    current = grid["cost"].to_numpy() * (1 + float(m["price_growth"])) ** (grid["year"].to_numpy() - price_year)
    amount = np.round(current / (1 - unexplained) / 1000.0, 1)
    return {
        "KOM": grid["kom"].to_numpy(np.int64),
        "AAR": grid["year"].to_numpy(np.int64),
        "FUNKTION": grid["function"].to_numpy(dtype=object).astype(str),
        "BELOEB": amount,
    }
