"""The ground truth: estimands computed from the two potential-outcome worlds.

Each entry is ``{"value": float, "definition": str, "n": int}``. Treated child-years
are child-years in an adopting municipality from its adoption year on, with an open
case (and in the measure's age band, for outcomes). ``truth.json`` is for checking the
analysis; no analysis step reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def build_truth(tally: Mapping[str, float], config: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the tallies of :func:`evaluation.simulate.world.simulate_world` into ``truth.json``.

    Parameters
    ----------
    tally
        Sums of potential-outcome differences and their counts.
    config
        The merged configuration.

    Returns
    -------
    dict
        Estimands, adoption years and notes.
    """
    t = tally
    eff = config["synthetic"]["effects"]
    entry = {
        "att_sdq": (
            _ratio(t["sdq_diff"], t["sdq_n"]),
            int(t["sdq_n"]),
            "Mean over treated case-open child-years aged 4-17 on 1 January of SDQ(reform on) - SDQ(reform off), "
            "both rounded to whole points and clipped to 0-40 (SDQ points).",
        ),
        "att_school_absence": (
            _ratio(t["absence_diff"], t["absence_n"]),
            int(t["absence_n"]),
            "Mean over treated case-open child-years aged 7-16 on 1 January of absence(on) - absence(off), "
            "rounded to one decimal and clipped to 0-100 (percentage points of school days).",
        ),
        "att_cost_per_child": (
            _ratio(t["cost_on"] - t["cost_off"], t["cost_n"]),
            int(t["cost_n"]),
            "Mean over treated case-open child-years (ages 0-17) of cost(on) - cost(off), where cost is "
            "evaluation.costs.child_year_costs of the child's placement and preventive spells (DKK per year, "
            "prices.price_year prices).",
        ),
        "att_placement_rate": (
            _ratio(t["entries_on"] - t["entries_off"], t["entries_n"]),
            int(t["entries_n"]),
            "Mean over treated case-open child-years of [a placement episode starts in the year](on) - (off): "
            "the change in the yearly probability of entering care (proportion).",
        ),
        "network_foster_share_change": (
            _ratio(t["family_on"], t["starts_on"]) - _ratio(t["family_off"], t["starts_off"]),
            int(t["starts_on"]),
            "Share of new placement episodes in treated municipality-years that start in network or foster care "
            "(PLACEMENT_GROUP network/foster), reform on minus reform off (proportion).",
        ),
        "breakdown_rate_change": (
            _ratio(_ratio(t["breakdowns_on"], t["placed_years_on"]), _ratio(t["breakdowns_off"], t["placed_years_off"]))
            - 1.0
            if t["breakdowns_off"]
            else 0.0,
            int(t["placed_years_on"]),
            "Relative change in breakdowns per placed child-year in treated municipality-years: "
            "(breakdowns/placed child-years)(on) / (same)(off) - 1.",
        ),
        "caseload_change": (
            _ratio(t["caseload_on"] - t["caseload_off"], t["caseload_n"]),
            int(t["caseload_n"]),
            "Mean over treated municipality-months of open cases per caseworker (head count) with the reform minus "
            "without it (cases per caseworker).",
        ),
    }
    out: dict[str, Any] = {name: {"value": float(v), "n": n, "definition": d} for name, (v, n, d) in entry.items()}
    out["planted_effects"] = dict(eff)
    out["adoptions"] = {str(k): int(v) for k, v in sorted(config["treatment"]["adoptions"].items())}
    out["notes"] = {
        "naive_bias": (
            "Adopting municipalities have more parents with basic schooling only "
            f"(+{config['synthetic']['confounding']['adopter_low_education_shift']}), and those children's risk "
            "rises over time, so a naive post-period comparison and an unmatched difference-in-differences are "
            "biased upwards (adopters look worse); matching on parents' education removes the bias."
        ),
        "case_open": "The set of case-open child-years is the same with and without the reform.",
        "costs": "Costs cover children aged 0-17 only; the accounts add an unexplained share on top.",
    }
    return out
