"""Outcomes of case-open child-years, in both worlds with the same noise.

All outcomes are measured for the child-years with an open case (the study
population; see ``docs/synthetic-registry.md``): SDQ total difficulties (ages 4-17),
school absence (ages 7-16), national test score (ages 8-15), 9th-grade mark average
(age 15) and youth crime (ages 15-17). SDQ and absence worsen with risk and carry
the planted effects; test scores, marks and crime depend on risk only.

The planted effect in a treated child-year *e* years after adoption (0 in the adoption
year) at age *a* on 1 January is

    SDQ:     sdq_change (or sdq_change_by_life_phase[phase of a]) + e * sdq_change_per_year
    absence: absence_change + e * absence_change_per_year

added to the latent outcome before rounding and clipping. The effects are deterministic
given the draws, so changing them never changes a random draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evaluation.steps.simulate.cases import States, sigmoid
from evaluation.steps.simulate.settings import LIFE_PHASES

MEASURE_AGES = {"SDQ": (4, 17), "FRAVAER": (7, 16), "NATTEST": (8, 15), "KARAKTER9": (15, 15), "KRIMINALITET": (15, 17)}


def sdq_constant_effect(age: np.ndarray, effects: Mapping[str, Any]) -> float | np.ndarray:
    """Return the constant part of the planted SDQ effect at each ``age`` (on 1 January).

    Parameters
    ----------
    age
        Ages of the child-years.
    effects
        ``synthetic.effects`` of the merged configuration.

    Returns
    -------
    float or numpy.ndarray
        ``sdq_change`` (one number for every age) when ``sdq_change_by_life_phase`` is null;
        otherwise the effect of each age's life phase (:data:`evaluation.steps.simulate.settings.LIFE_PHASES`).
    """
    phases = effects.get("sdq_change_by_life_phase")
    if phases is None:
        return effects["sdq_change"]
    out = np.full(len(age), np.nan)
    for name, (lo, hi) in LIFE_PHASES.items():
        out[(age >= lo) & (age <= hi)] = float(phases[name])
    return out


def outcome_records(
    states: States,
    window: tuple[int, int],
    config: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    interim_last_year: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Outcome rows of the observed world and the potential-outcome differences for the truth.

    Parameters
    ----------
    states
        The municipality's states.
    window
        First and last year of the data.
    config
        The merged configuration.
    rng
        Generator.
    interim_last_year
        Last calendar year of the interim truth (:func:`evaluation.steps.simulate.settings.interim_last_year`);
        None for the last year of ``window``.

    Returns
    -------
    rows, truth
        ``rows``: ``child, year, measure, value`` arrays (measure as text). ``truth``:
        ``{"sdq": [sum of on-off differences, n], "absence": [...]}`` over treated child-years, and
        ``"sdq_interim"``, ``"absence_interim"`` over those up to ``interim_last_year``.
    """
    m = config["synthetic"]["model"]
    eff = config["synthetic"]["effects"]
    years = states.years
    in_window = (years >= window[0]) & (years <= window[1])
    ci, ti = np.nonzero(states.case & in_window[None, :])
    age = states.age[ci, ti]
    risk = states.risk[ci, ti].astype(np.float64)
    treated = states.treated[ti]
    # Years since adoption (0 in the adoption year) for the dynamic part of the effects.
    exposure = (np.cumsum(states.treated) - 1)[ti].clip(min=0)
    year = years[ti]
    early = year <= (window[1] if interim_last_year is None else interim_last_year)
    out = {"child": [], "year": [], "measure": [], "value": []}
    truth: dict[str, list[float]] = {}

    def emit(sel: np.ndarray, name: str, value: np.ndarray) -> None:
        out["child"].append(ci[sel])
        out["year"].append(year[sel])
        out["measure"].append(np.full(int(sel.sum()), name, dtype=object))
        out["value"].append(value)

    def tally(name: str, diff: np.ndarray, treated_sel: np.ndarray, early_sel: np.ndarray) -> None:
        truth[name] = [float(diff[treated_sel].sum()), float(treated_sel.sum())]
        interim = treated_sel & early_sel
        truth[f"{name}_interim"] = [float(diff[interim].sum()), float(interim.sum())]

    def in_ages(name: str) -> np.ndarray:
        lo, hi = MEASURE_AGES[name]
        return (age >= lo) & (age <= hi)

    sel = in_ages("SDQ")
    latent = m["sdq_intercept"] + m["sdq_risk"] * risk[sel] + rng.normal(0.0, m["sdq_noise_sd"], int(sel.sum()))
    off = np.clip(np.round(latent), 0, 40)
    sdq_effect = sdq_constant_effect(age[sel], eff) + eff["sdq_change_per_year"] * exposure[sel]
    on = np.clip(np.round(latent + sdq_effect * treated[sel]), 0, 40)
    tally("sdq", on - off, treated[sel], early[sel])
    emit(sel, "SDQ", on)

    sel = in_ages("FRAVAER")
    latent = (
        m["absence_intercept"] + m["absence_risk"] * risk[sel] + rng.normal(0.0, m["absence_noise_sd"], int(sel.sum()))
    )
    off = np.clip(np.round(latent, 1), 0, 100)
    absence_effect = eff["absence_change"] + eff["absence_change_per_year"] * exposure[sel]
    on = np.clip(np.round(latent + absence_effect * treated[sel], 1), 0, 100)
    tally("absence", on - off, treated[sel], early[sel])
    emit(sel, "FRAVAER", on)

    sel = in_ages("NATTEST")
    emit(sel, "NATTEST", np.clip(np.round(50 - 8 * risk[sel] + rng.normal(0, 15, int(sel.sum()))), 1, 100))
    sel = in_ages("KARAKTER9")
    emit(sel, "KARAKTER9", np.clip(np.round(6.0 - 1.3 * risk[sel] + rng.normal(0, 2.2, int(sel.sum())), 1), -3, 12))
    sel = in_ages("KRIMINALITET")
    emit(sel, "KRIMINALITET", (rng.random(int(sel.sum())) < sigmoid(-3.0 + 0.9 * risk[sel])).astype(float))
    rows = {k: np.concatenate(v) for k, v in out.items()}
    return rows, truth
