"""The ground truth: estimands computed from the two potential-outcome worlds.

Each entry is ``{"value": float, "definition": str, "n": int}``. Treated child-years
are child-years in an adopting municipality from its adoption year on, with an open
case (and in the measure's age band, for outcomes). ``truth.json`` is for checking the
analysis; no analysis step reads it.

The top-level entries are the final report's estimands, over all data. ``"interim"``
holds the same entries for the interim report, over the calendar years up to and
including the year of ``report.cutoff_date`` (whole years: a cut-off inside a year counts
that whole year), with ``"cutoff_date"`` and ``"last_year"`` (the last year covered). An
interim entry with no treated observation up to the cut-off (``n`` 0) has value None
(``null`` in JSON), not 0. With a null cut-off, or one in or after the last simulated year,
the interim entries equal the final ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from evaluation.steps.simulate.settings import interim_last_year


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _estimands(tally: Mapping[str, float]) -> dict[str, tuple[float, int, str]]:
    """Return ``name -> (value, n, definition)`` from one set of tallies (a ratio with no denominator is 0)."""
    t: defaultdict[str, float] = defaultdict(float, tally)
    return {
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
            "evaluation.methods.costs.child_year_costs of the child's placement and preventive spells (DKK per year, "
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
            "Mean over treated municipality-months of open cases per full-time equivalent worked on children's "
            "cases (AARSVAERK), with the reform minus without it (cases per FTE).",
        ),
    }


def build_truth(
    tally: Mapping[str, float], config: Mapping[str, Any], interim: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Turn the tallies of :func:`evaluation.steps.simulate.world.simulate_world` into ``truth.json``.

    Parameters
    ----------
    tally
        Sums of potential-outcome differences and their counts, over all data.
    config
        The merged configuration.
    interim
        The same sums over the calendar years up to the interim cut-off year
        (:func:`evaluation.steps.simulate.settings.interim_last_year`); None leaves ``"interim"`` out.

    Returns
    -------
    dict
        Estimands (the final ones at the top level, the interim ones under ``"interim"``),
        planted effects, adoption years and notes.
    """
    eff = config["synthetic"]["effects"]
    out: dict[str, Any] = {
        name: {"value": float(v), "n": n, "definition": d} for name, (v, n, d) in _estimands(tally).items()
    }
    if interim is not None:
        out["interim"] = {
            name: {"value": float(v) if n else None, "n": n, "definition": d}
            for name, (v, n, d) in _estimands(interim).items()
        }
        out["interim"]["cutoff_date"] = (config.get("report") or {}).get("cutoff_date")
        out["interim"]["last_year"] = interim_last_year(config)
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
        "interim": (
            "The interim entries are the same estimands over the treated child-years, municipality-years, "
            "placement events and municipality-months of the calendar years up to and including interim.last_year "
            "(the year of report.cutoff_date, or the last simulated year when it is null); a cut-off inside a year "
            "counts that whole year. An entry with no treated observation by then has value null and n 0."
        ),
    }
    return out
