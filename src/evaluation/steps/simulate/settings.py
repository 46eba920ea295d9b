"""Default parameters of the synthetic registry and how a given config is merged over them.

The study design (scales, planted effects, confounding, adoptions, prices, the interim
report's data cut-off) mirrors the ``synthetic``, ``treatment``, ``prices`` and
``report.cutoff_date`` entries of ``config/config.yaml``. The
behavioural model (``synthetic.model``) holds the generator's internal, documented
assumptions: hazards, shares and noise levels chosen so that the national aggregates
land near the calibration targets of ``docs/synthetic-registry.md``. Every number
here can be overridden from config; none is hidden elsewhere in the code.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import numbers
from collections.abc import Mapping
from typing import Any

from evaluation.errors import ConfigError

#: The defaults, deep-merged under any config passed to :func:`evaluation.steps.simulate.simulate`.
DEFAULTS: dict[str, Any] = {
    "synthetic": {
        "scale": "demo",
        "seed": 20130101,
        "format": "parquet",
        "first_year": 2010,
        "last_year": 2023,
        "population_share": {"tiny": 0.03, "demo": 0.15, "national": 1.0},
        "effects": {
            "caseload_reduction": 0.45,
            "sdq_change": -1.5,
            "sdq_change_per_year": 0.0,
            "sdq_change_by_life_phase": None,  # {"0-6": ..., "7-13": ..., "14-17": ...} replaces sdq_change by phase
            "absence_change": -1.0,
            "absence_change_per_year": 0.0,
            "placement_rate_change": -0.20,
            "network_foster_shift": 0.25,
            "breakdown_rate_change": -0.30,
        },
        "confounding": {"adopter_low_education_shift": 0.12, "risk_trend_per_year": 0.06},
        "model": {
            # Population.
            "child_share": 0.195,  # children 0-17 per inhabitant (DST: about 1.15 million of 5.9 million)
            "child_share_overrides": {657: 0.212},  # Herning: about 18,900 of 89,230 (herning.dk)
            "burn_in_years": 6,  # years simulated before first_year so that stocks start in equilibrium
            "boys_share": 0.513,
            "father_known_share": 0.88,
            "immigrant_family_share": 0.13,
            "low_education_share": 0.16,  # parents with basic schooling only (HFAUDD level 10)
            "low_education_sd": 0.03,  # spread of that share between municipalities
            # Latent risk (SD units).
            "risk_low_education": 0.9,
            "risk_immigrant_family": 0.2,
            "risk_shock_sd": 0.08,  # municipality-year shock
            # Case process (logit scale; year terms centred on 2016).
            "case_entry_intercept": -4.45,
            "case_entry_risk": 0.95,
            "case_entry_year": 0.012,
            "case_entry_teen": 0.35,  # ages 12-17
            "case_entry_infant": 0.25,  # ages 0-1
            "case_continue_intercept": 0.05,
            "case_continue_risk": 1.0,
            "notified_continuing_share": 0.40,  # continuing case-years notified although covered by a measure
            "extra_notifications_mean": 0.72,  # Poisson mean of notifications beyond the first
            "preventive_intercept": -0.82,
            "preventive_risk": 0.35,
            "preventive_year": 0.0,
            "placement_intercept": -4.38,
            "placement_risk": 0.75,
            "placement_year": -0.08,
            "placement_teen": 0.45,
            "placement_continue": 0.90,
            "breakdown_child": 0.040,  # yearly breakdown hazard, ages 0-12
            "breakdown_teen": 0.075,  # ages 13-17
            "planned_change": 0.06,  # yearly hazard of a planned change of placement
            # Placement-type shares (network, foster, institution, residential, other) in 2011 and 2018.
            "type_shares_2011": [0.05, 0.42, 0.22, 0.19, 0.12],
            "type_shares_2018": [0.08, 0.55, 0.16, 0.13, 0.08],
            # Outcomes.
            "sdq_intercept": 10.0,
            "sdq_risk": 3.2,
            "sdq_noise_sd": 3.0,
            "absence_intercept": 7.0,
            "absence_risk": 2.6,
            "absence_noise_sd": 3.0,
            # Case work (probabilities without and with the model).
            "screened_24h": [0.62, 0.86],
            "assessment_4_months": [0.55, 0.80],
            "child_conversations": [0.9, 2.0],
            "followups_per_year": [2, 4],
            "audit_share": [0.15, 0.50],
            "caseload_points": {2010: 45.0, 2014: 43.0, 2019: 37.0, 2023: 35.0},  # before the model's reduction
            "worker_fte_mean": 0.93,
            "monthly_turnover": [0.016, 0.009],
            # Accounts.
            "unexplained_share": [0.10, 0.20],  # share of 5.28 spending not in the micro-costs
            "price_growth": 0.02,
        },
    },
    "treatment": {
        "adoptions": {
            657: 2013,
            167: 2015,
            510: 2015,
            316: 2017,
            580: 2017,
            630: 2017,
            756: 2017,
            813: 2017,
            320: 2019,
            330: 2019,
            707: 2019,
            740: 2019,
            791: 2019,
            360: 2021,
            376: 2021,
            479: 2021,
            860: 2021,
        }
    },
    # The interim report's data cut-off: truth.json's "interim" estimands cover the years up to its year.
    "report": {"cutoff_date": "2019-12-31"},
    "prices": {
        "price_year": 2019,
        "items": {
            "institution": {"dkk_per_year": 1160000, "source": "nb-okonomi.dk, 2019: institution or opholdssted"},
            "residential": {"dkk_per_year": 1160000, "source": "nb-okonomi.dk, 2019: institution or opholdssted"},
            "foster": {"dkk_per_year": 470000, "source": "nb-okonomi.dk, 2019: foster care"},
            "network": {"dkk_per_year": 250000, "source": "Assumption: about half of ordinary foster care"},
            "other": {"dkk_per_year": 300000, "source": "Assumption: boarding school or own room"},
            "preventive": {"dkk_per_year": 90000, "source": "Assumption: average preventive measure"},
        },
    },
}

#: Life phases of ``synthetic.effects.sdq_change_by_life_phase``: name -> (youngest, oldest) age on 1 January.
LIFE_PHASES: dict[str, tuple[int, int]] = {"0-6": (0, 6), "7-13": (7, 13), "14-17": (14, 17)}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "adoptions":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_config() -> dict[str, Any]:
    """Return a fresh copy of the generator's default configuration.

    Returns
    -------
    dict
        The ``synthetic``, ``treatment`` and ``prices`` sections with their defaults.
    """
    return copy.deepcopy(DEFAULTS)


def resolve_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge ``config`` over the defaults and normalise the adoption table.

    ``treatment.adoptions`` is taken whole from ``config`` when given (it is the
    design, not a default to be extended). Municipality codes may be ints or strings.

    Parameters
    ----------
    config
        The parsed ``config/config.yaml``, or None for the defaults.

    Returns
    -------
    dict
        The merged configuration, with ``treatment.adoptions`` as ``{int: int}``.

    Raises
    ------
    ConfigError
        When an adoption entry is not a municipality code and a year, when
        ``synthetic.effects.sdq_change_by_life_phase`` is neither null nor a mapping of exactly
        the phases of :data:`LIFE_PHASES` to numbers, or when ``report.cutoff_date`` is not a
        ``YYYY-MM-DD`` date.
    """
    unknown = sorted(set((config or {}).get("synthetic", {}).get("model", {})) - set(DEFAULTS["synthetic"]["model"]))
    if unknown:
        hints = [
            f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            for key in unknown
            for close in [difflib.get_close_matches(str(key), list(DEFAULTS["synthetic"]["model"]), n=1)]
        ]
        raise ConfigError(
            f"config synthetic.model: unknown parameter {', '.join(hints)}; "
            "the parameters are listed in docs/synthetic-registry.md."
        )
    merged = _merge(default_config(), config or {})
    adoptions: dict[int, int] = {}
    for kom, year in (merged["treatment"].get("adoptions") or {}).items():
        try:
            adoptions[int(kom)] = int(year)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"config treatment.adoptions: entry {kom!r}: {year!r} is not 'kommunekode: year'; "
                "write e.g. '657: 2013'."
            ) from exc
    merged["treatment"]["adoptions"] = adoptions
    effects = merged["synthetic"]["effects"]
    effects["sdq_change_by_life_phase"] = _check_life_phases(effects.get("sdq_change_by_life_phase"))
    interim_last_year(merged)  # a readable error for a bad report.cutoff_date
    model = merged["synthetic"]["model"]
    model["child_share_overrides"] = {int(k): float(v) for k, v in model["child_share_overrides"].items()}
    model["caseload_points"] = {int(k): float(v) for k, v in model["caseload_points"].items()}
    return merged


def _check_life_phases(phases: Any) -> dict[str, float] | None:
    """Return ``sdq_change_by_life_phase`` as ``{phase: float}`` in phase order; refuse anything but the phases."""
    if phases is None:
        return None
    where = "config synthetic.effects.sdq_change_by_life_phase"
    expected = ", ".join(f"{p!r}" for p in LIFE_PHASES)
    if not isinstance(phases, Mapping):
        raise ConfigError(
            f"{where}: {phases!r} is not a mapping; write e.g. {{'0-6': -1.0, '7-13': -1.5, '14-17': -2.0}} "
            "or null to apply sdq_change at every age."
        )
    missing = [p for p in LIFE_PHASES if p not in phases]
    unknown = [k for k in phases if k not in LIFE_PHASES]
    if missing or unknown:
        problems = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unknown {', '.join(map(repr, unknown))}"] if unknown else []
        )
        raise ConfigError(
            f"{where}: {'; '.join(problems)}; the keys must be exactly {expected} (age on 1 January), "
            "quoted as text in YAML."
        )
    bad = [k for k, v in phases.items() if isinstance(v, bool) or not isinstance(v, numbers.Real)]
    if bad:
        raise ConfigError(f"{where}: the effect of phase {bad[0]!r} is {phases[bad[0]]!r}, not a number of SDQ points.")
    return {p: float(phases[p]) for p in LIFE_PHASES}


def interim_last_year(config: Mapping[str, Any]) -> int:
    """Return the last calendar year that the interim estimands of ``truth.json`` cover.

    The interim report's data cut-off is ``report.cutoff_date``. The interim truth is kept by
    calendar year: it covers the treated child-years, municipality-years, placement events
    and municipality-months of the years up to and including the cut-off's year.

    Parameters
    ----------
    config
        The merged configuration (:func:`resolve_config`).

    Returns
    -------
    int
        The cut-off's year, at most ``synthetic.last_year``; ``synthetic.last_year`` when the
        cut-off is null (the interim estimands then equal the final ones). A year before
        ``synthetic.first_year`` is returned as it is (no data before the cut-off).

    Raises
    ------
    ConfigError
        When ``report.cutoff_date`` is not a ``YYYY-MM-DD`` date.
    """
    last_year = int(config["synthetic"]["last_year"])
    cutoff = (config.get("report") or {}).get("cutoff_date")
    if cutoff is None:
        return last_year
    try:
        day = dt.date.fromisoformat(str(cutoff))
    except ValueError:
        raise ConfigError(f"config report.cutoff_date = {cutoff!r} is not a date; write it as YYYY-MM-DD.") from None
    return min(day.year, last_year)
