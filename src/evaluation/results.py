"""The result type every estimator of the package returns.

An :class:`Estimate` is one number with its uncertainty and the sample sizes
behind it. It is the unit of ``results/estimates.csv`` (one row per analysis)
and of the report's tables, so every estimator (matching, fixed effects,
difference-in-differences, ...) returns one, or a table whose rows convert to
one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, confidence interval and sample sizes.

    Parameters
    ----------
    estimate : float
        The point estimate.
    se : float
        Its standard error.
    ci_low, ci_high : float
        The bounds of the confidence interval (95 % unless the estimator says otherwise).
    n_treated, n_control : int
        Units (children, municipalities, child-years: the estimator says which) in
        the treated and the comparison group that carry weight in the estimate.
    p_value : float or None
        Two-sided p-value of the hypothesis that the estimand is zero, where the
        estimator provides one.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n_treated: int
    n_control: int
    p_value: float | None = None

    def __post_init__(self) -> None:
        """Coerce numbers to plain Python types, so that results serialise cleanly."""
        for name in ("estimate", "se", "ci_low", "ci_high"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("n_treated", "n_control"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.p_value is not None:
            object.__setattr__(self, "p_value", float(self.p_value))

    def to_dict(self) -> dict[str, float | int | None]:
        """Return the fields as a plain dictionary (the columns of ``results/estimates.csv``).

        Returns
        -------
        dict
            ``estimate, se, ci_low, ci_high, p_value, n_treated, n_control``.
        """
        return asdict(self)

    @property
    def ci_width(self) -> float:
        """Width of the confidence interval."""
        return self.ci_high - self.ci_low

    def covers(self, value: float) -> bool:
        """Tell whether ``value`` lies inside the closed confidence interval.

        Parameters
        ----------
        value : float
            The value to check (for example a planted true effect).

        Returns
        -------
        bool
            True when ``ci_low <= value <= ci_high``.
        """
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return False
        return self.ci_low <= value <= self.ci_high


#: Columns of ``results/estimates.csv``, one row per analysis (the pipeline's contract with the report).
ESTIMATE_COLUMNS = [
    "analysis",
    "outcome",
    "estimator",
    "subgroup",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_control",
]
