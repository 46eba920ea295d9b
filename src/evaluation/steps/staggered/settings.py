"""The design choices of the staggered analyses, read from config and checked once.

Config keys (their defaults are in ``workflow/schemas/config.schema.yaml`` only, and listed in ``docs/config.md``):

``estimation.staggered``
    ``control_group``, ``method``, ``base_period``, ``covariates`` (panel columns averaged per
    municipality-year), ``anticipation``, ``bootstrap``, ``n_bootstrap``, ``seed``.
``estimation.dose_response``
    ``per_cases``: report the slope per this many more cases per caseworker; ``control_for_reform``: include
    the municipality-year reform indicator as a control.
``estimation.heterogeneity``
    ``subgroups``: a selection of :data:`SUBGROUPS`.

The universal base period is the default because its pre-period estimates are long differences
against the year before adoption, the quantities an event-study figure should show (Roth 2024,
"Interpreting event-studies from recent difference-in-differences methods"). Not-yet-treated
comparisons use the later adopters as well as the never-treated municipalities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evaluation.config import section, setting
from evaluation.errors import ConfigError
from evaluation.methods.did.estimators import METHODS

__all__ = ["SUBGROUPS", "StaggeredSettings"]

#: Subgroup variables :func:`evaluation.steps.staggered.panels.child_subgroups` can build.
SUBGROUPS: tuple[str, ...] = ("life_phase", "sex", "prior_placement")


@dataclass(frozen=True)
class StaggeredSettings:
    """Checked settings of :func:`evaluation.steps.staggered.run_staggered` (module docstring for the keys).

    Built by :meth:`from_config`, which takes what the config leaves out from the schema.
    """

    control_group: str
    method: str
    base_period: str
    covariates: tuple[str, ...]
    anticipation: int
    bootstrap: bool
    n_bootstrap: int
    seed: int
    alpha: float
    dose_per: float
    dose_control_for_reform: bool
    subgroups: tuple[str, ...]
    primary: tuple[str, ...]
    secondary: tuple[str, ...]
    min_cell: int
    min_treated_municipalities: int

    def __post_init__(self) -> None:
        """Check the options, naming the config key to fix."""
        key = "estimation.staggered"
        if self.control_group not in ("never_treated", "not_yet_treated"):
            raise ConfigError(
                f"{key}.control_group must be never_treated or not_yet_treated; got {self.control_group!r}"
            )
        if self.method not in METHODS:
            raise ConfigError(f"{key}.method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if self.base_period not in ("varying", "universal"):
            raise ConfigError(f"{key}.base_period must be varying or universal; got {self.base_period!r}")
        if self.n_bootstrap < 2:
            raise ConfigError(f"{key}.n_bootstrap must be at least 2; got {self.n_bootstrap}")
        if self.anticipation < 0:
            raise ConfigError(f"{key}.anticipation must be a non-negative number of years; got {self.anticipation}")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"estimation.alpha must lie strictly between 0 and 1; got {self.alpha}")
        if self.dose_per <= 0:
            raise ConfigError(f"estimation.dose_response.per_cases must be positive; got {self.dose_per}")
        unknown = [s for s in self.subgroups if s not in SUBGROUPS]
        if unknown:
            raise ConfigError(
                f"estimation.heterogeneity.subgroups: unknown subgroup variable(s) {unknown}; choose from {SUBGROUPS}"
            )
        if self.min_cell < 1:
            raise ConfigError(f"disclosure.min_cell must be at least 1; got {self.min_cell}")

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Primary then secondary outcomes, each once."""
        return tuple(dict.fromkeys((*self.primary, *self.secondary)))

    def family(self, outcome: str) -> str:
        """``"primary"`` or ``"secondary"``: the multiplicity family of ``outcome``."""
        return "primary" if outcome in self.primary else "secondary"

    def att_gt_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`evaluation.methods.did.att_gt` (besides data and column names)."""
        return {
            "control_group": self.control_group,
            "method": self.method,
            "base_period": self.base_period,
            "bootstrap": self.bootstrap,
            "n_bootstrap": self.n_bootstrap,
            "random_state": self.seed,
            "anticipation": self.anticipation,
            "alpha": self.alpha,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StaggeredSettings:
        """Build the settings from the study config; what it leaves out takes the schema's default."""
        staggered = section(config, "estimation", "staggered")
        dose = section(config, "estimation", "dose_response")
        hetero = section(config, "estimation", "heterogeneity")
        return cls(
            control_group=str(staggered["control_group"]),
            method=str(staggered["method"]),
            base_period=str(staggered["base_period"]),
            covariates=tuple(staggered["covariates"]),
            anticipation=int(staggered["anticipation"]),
            bootstrap=bool(staggered["bootstrap"]),
            n_bootstrap=int(staggered["n_bootstrap"]),
            seed=int(staggered["seed"]),
            alpha=float(setting(config, "estimation", "alpha")),
            dose_per=float(dose["per_cases"]),
            dose_control_for_reform=bool(dose["control_for_reform"]),
            subgroups=tuple(hetero["subgroups"]),
            primary=tuple(setting(config, "outcomes", "primary")),
            secondary=tuple(setting(config, "outcomes", "secondary")),
            min_cell=int(setting(config, "disclosure", "min_cell")),
            min_treated_municipalities=int(setting(config, "estimation", "min_treated_municipalities")),
        )
