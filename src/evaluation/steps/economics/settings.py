"""The ``economics`` section of the configuration, read once and checked.

Defaults live in the config schema (``workflow/schemas/config.schema.yaml``);
this module only reads the validated values and names a missing key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.config import setting
from evaluation.errors import ConfigError
from evaluation.methods.economics.prices import price_index

__all__ = ["EconomicsSettings", "economics_settings"]


@dataclass(frozen=True)
class EconomicsSettings:
    """Validated economics settings (see the config schema for each key)."""

    index: pd.Series
    price_year: int
    discount_rate: float
    caseworker_cost: Mapping[str, Any]
    horizon_years: int
    replications: int
    jobs: int
    seed: int
    ceac_max_wtp: float
    ceac_steps: int
    budget_children: float
    budget_case_open_children: float | None
    alpha: float
    min_cell: int


def _get(section: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in section or section[key] is None and key not in ("case_open_children", "price_year"):
        raise ConfigError(f"config {where}.{key} is not set; see docs/config.md for its meaning and default.")
    return section.get(key)


def economics_settings(config: Mapping[str, Any]) -> EconomicsSettings:
    """Read the ``economics`` section (and ``prices.price_year``, ``estimation.alpha``, ``disclosure.min_cell``).

    Parameters
    ----------
    config
        The validated study configuration.

    Returns
    -------
    EconomicsSettings

    Raises
    ------
    ConfigError
        When a key is missing or out of range.
    """
    eco = config.get("economics")
    if not isinstance(eco, Mapping):
        raise ConfigError("config has no 'economics' section; see docs/config.md for its keys.")
    boot = _get(eco, "bootstrap", "economics")
    ceac = _get(eco, "ceac", "economics")
    budget = _get(eco, "budget", "economics")
    price_year = eco.get("price_year") or config["prices"]["price_year"]
    horizon = int(_get(eco, "horizon_years", "economics"))
    replications = int(_get(boot, "replications", "economics.bootstrap"))
    if horizon < 1 or replications < 1:
        raise ConfigError(
            f"economics.horizon_years ({horizon}) and economics.bootstrap.replications ({replications}) "
            "must be at least 1."
        )
    jobs = int(setting(config, "economics", "bootstrap", "jobs"))
    if jobs < 1:
        raise ConfigError(f"economics.bootstrap.jobs ({jobs}) must be at least 1.")
    case_open = budget.get("case_open_children")
    return EconomicsSettings(
        index=price_index(_get(eco, "price_index", "economics")),
        price_year=int(price_year),
        discount_rate=float(_get(eco, "discount_rate", "economics")),
        caseworker_cost=_get(eco, "caseworker_cost", "economics"),
        horizon_years=horizon,
        replications=replications,
        jobs=jobs,
        seed=int(_get(boot, "seed", "economics.bootstrap")),
        ceac_max_wtp=float(_get(ceac, "max_dkk_per_sdq_point", "economics.ceac")),
        ceac_steps=int(_get(ceac, "steps", "economics.ceac")),
        budget_children=float(_get(budget, "children", "economics.budget")),
        budget_case_open_children=None if case_open is None else float(case_open),
        alpha=float(setting(config, "estimation", "alpha")),
        min_cell=int(setting(config, "disclosure", "min_cell")),
    )
