"""Calibration: the synthetic registry's national aggregates beside the public targets.

Targets are the national figures of ``domain.md`` scaled to the simulated population
(``population_share``) and, where DST counts ages 0-22, to ages 0-17 with the
documented factors ``age_0_17_share_*`` (assumptions, not DST figures).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.contract.codes import PLACEMENT_GROUP

#: Ages 0-17 as a share of the DST 0-22 counts (assumption: aftercare at 18-22 is the rest).
AGE_0_17_SHARE_PLACED = 0.85
AGE_0_17_SHARE_PREVENTIVE = 0.85
AGE_0_17_SHARE_NEW_PLACEMENTS = 0.95


def _year(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _overlaps(start: np.ndarray, end: np.ndarray, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
    return (start <= hi) & (np.isnat(end) | (end >= lo))


def calibration_table(
    tables: Mapping[str, Mapping[str, np.ndarray]], share: float, years: range, herning: int = 657
) -> pd.DataFrame:
    """Achieved aggregates and scaled targets.

    Parameters
    ----------
    tables
        The world's tables (``population``, ``children``, ``notifications``, ``placements``,
        ``placement_events``, ``preventive``, ``worker_months``).
    share
        Population share of the scale.
    years
        The data years.
    herning
        Code of Herning (its child population is a target).

    Returns
    -------
    pandas.DataFrame
        ``quantity, target, achieved, unit, source``.
    """
    rows: list[tuple[str, float, float, str, str]] = []
    pop, kids = tables["population"], tables["children"]
    n_years = len(years)
    rows.append(("municipalities", 98, len(np.unique(kids["kom"])), "municipalities", "DST"))
    rows.append(("children_0_17_per_year", 1_150_000 * share, len(pop["year"]) / n_years, "children", "DST"))
    herning_rows = kids["kom"][pop["child"]] == herning
    rows.append(
        ("herning_children_0_17_per_year", 18_900 * share, herning_rows.sum() / n_years, "children", "herning.dk")
    )
    nt = tables["notifications"]
    for y, target in ((2018, 75_019), (2022, 85_300)):
        sel = nt["year"] == y
        rows.append(
            (
                f"notified_children_{y}",
                target * share,
                len(np.unique(nt["child"][sel])),
                "children",
                "DST Nyt (underretninger)",
            )
        )
    sel = nt["year"] == 2018
    rows.append(
        (
            "notifications_per_notified_child_2018",
            127_182 / 75_019,
            sel.sum() / max(len(np.unique(nt["child"][sel])), 1),
            "notifications",
            "DST Nyt (underretninger)",
        )
    )
    pl = tables["placements"]
    for y, target in ((2011, 14_978), (2018, 13_823), (2023, 13_900)):
        day = np.datetime64(f"{y}-12-31")
        at = _overlaps(pl["start"], pl["end"], day, day)
        rows.append(
            (
                f"placed_end_{y}",
                target * AGE_0_17_SHARE_PLACED * share,
                len(np.unique(pl["child"][at])),
                "children 0-17",
                "DST Nyt (0-22) x age share assumption",
            )
        )
    day = np.datetime64("2018-12-31")
    at = _overlaps(pl["start"], pl["end"], day, day)
    groups = np.array([PLACEMENT_GROUP[int(c)] for c in pl["ptype"][at]], dtype=object)
    n_at = max(at.sum(), 1)
    for label, members, target in (
        ("foster_family", ("network", "foster"), 0.63),
        ("institution", ("institution",), 0.17),
        ("opholdssted", ("residential",), 0.14),
    ):
        rows.append(
            (f"share_{label}_end_2018", target, np.isin(groups, members).sum() / n_at, "share of placed", "DST Nyt")
        )
    ev = tables["placement_events"]
    for y, target in ((2016, 4_515), (2023, 3_400)):
        n_new = ((ev["kind"] == 0) & (_year(ev["date"]) == y)).sum()
        rows.append(
            (
                f"new_placements_{y}",
                target * AGE_0_17_SHARE_NEW_PLACEMENTS * share,
                n_new,
                "children 0-17",
                "DST Nyt (0-22) x age share assumption",
            )
        )
    pv = tables["preventive"]
    for y, target in ((2017, 40_800), (2023, 52_600)):
        sel = _overlaps(pv["start"], pv["end"], np.datetime64(f"{y}-01-01"), np.datetime64(f"{y}-12-31"))
        rows.append(
            (
                f"preventive_recipients_{y}",
                target * AGE_0_17_SHARE_PREVENTIVE * share,
                len(np.unique(pv["child"][sel])),
                "children 0-17",
                "DST Nyt (0-22) x age share assumption",
            )
        )
    # Breakdowns: spells ending in a breakdown, per child placed during the year (2011-2023 average).
    brk_year = _year(pl["end"][pl["breakdown"] == 1])
    brk_child = pl["child"][pl["breakdown"] == 1]
    shares, teen = [], []
    for y in years[1:]:
        placed = _overlaps(pl["start"], pl["end"], np.datetime64(f"{y}-01-01"), np.datetime64(f"{y}-12-31"))
        n_placed = len(np.unique(pl["child"][placed]))
        sel = brk_year == y
        shares.append(sel.sum() / max(n_placed, 1))
        age = y - _year(kids["birth"][brk_child[sel]]) - 1
        teen.extend((age >= 13).tolist())
    rows.append(("breakdown_share_per_year", 0.05, float(np.mean(shares)), "breakdowns per placed child", "KL / DST"))
    rows.append(
        ("breakdown_share_ages_13_17", 0.64, float(np.mean(teen)) if teen else 0.0, "share of breakdowns", "KL / DST")
    )
    wm = tables["worker_months"]
    month_year = years[0] + wm["month"] // 12
    for y, target in ((2014, 42.0), (2019, 33.0), (2023, 31.0)):
        sel = month_year == y
        rows.append(
            (
                f"caseload_{y}",
                target,
                wm["active"][sel].sum() / max(sel.sum(), 1),
                "cases per caseworker (head count)",
                "Dansk Socialrådgiverforening",
            )
        )
    out = pd.DataFrame(rows, columns=["quantity", "target", "achieved", "unit", "source"])
    out["target"] = out["target"].astype(float).round(4)
    out["achieved"] = out["achieved"].astype(float).round(4)
    return out


def render_calibration(table: pd.DataFrame) -> str:
    """Format the calibration table as aligned text for the progress log."""
    lines = [f"{'quantity':<42}{'target':>14}{'achieved':>14}  unit"]
    for row in table.itertuples(index=False):
        lines.append(f"{row.quantity:<42}{row.target:>14,.2f}{row.achieved:>14,.2f}  {row.unit}")
    return "\n".join(lines)


def parameters_note(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the age-share assumptions used for the targets."""
    return {
        "age_0_17_share_placed": AGE_0_17_SHARE_PLACED,
        "age_0_17_share_preventive": AGE_0_17_SHARE_PREVENTIVE,
        "age_0_17_share_new_placements": AGE_0_17_SHARE_NEW_PLACEMENTS,
    }
