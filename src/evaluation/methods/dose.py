r"""Dose-response of outcomes to caseload per caseworker, within municipality.

Caseload per worker is a continuous exposure that changes over time inside each municipality, with
or without the reform. :func:`dose_response` estimates the within-municipality slope

.. math:: \bar y_{mt} = \beta \, c_{mt} + x_{mt}'\gamma + \alpha_m + \lambda_t + \varepsilon_{mt}

by two-way fixed effects (:func:`evaluation.methods.panel.fixed_effects`) on a municipality-year panel, with
standard errors clustered by municipality (Stata/fixest small-sample convention). :math:`\beta` is the
change in the outcome per ``per`` more cases per worker, identified from the municipality's own changes
over time net of common year shocks. It is reported apart from the binary reform effect: the reform
moves caseload and placement practice together, and a slope says nothing about the other channels.

Caveats that the report states with the number: the slope assumes a linear dose-response and no
staggered-timing heterogeneity in it (de Chaisemartin and D'Haultfoeuille 2020 discuss the weights of
TWFE with continuous treatments; Callaway, Goodman-Bacon and Sant'Anna 2024 the identification of
dose-response with continuous treatments), and caseload may respond to the outcomes (reverse causality).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.panel import FixedEffectsResult, fixed_effects
from evaluation.results import Estimate, TidyResult

__all__ = ["DoseResult", "dose_response"]


@dataclass(frozen=True)
class DoseResult(TidyResult):
    """The caseload slope as an :class:`Estimate` (per ``per`` cases per worker) and the full model."""

    estimate: Estimate
    per: float
    model: FixedEffectsResult

    def tidy(self) -> pd.DataFrame:
        """Return one row: the slope per ``per`` units of exposure, its ``term`` the exposure column.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control, per, nobs``: :attr:`estimate`
            (``n_treated`` counts the units, ``n_control`` is 0) and the observations of :attr:`model`.
        """
        exposure = str(self.model.table.index[0])
        return self.estimate.tidy(exposure).assign(per=self.per, nobs=self.model.nobs)

    def _heading(self) -> str:
        return f"Dose-response: within-unit slope per {self.per:g} units of exposure (two-way fixed effects)"


def dose_response(
    df: pd.DataFrame,
    outcome: str,
    exposure: str = "caseload_per_worker",
    *,
    unit: str = "municipality",
    time: str = "year",
    controls: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    per: float = 1.0,
    alpha: float = 0.05,
) -> DoseResult:
    """Estimate the within-municipality slope of ``outcome`` in ``exposure`` (module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        Municipality-year panel with the outcome (e.g. a mean over children), the exposure and controls.
    outcome, exposure : str
        Columns of the outcome and of the continuous exposure.
    unit, time : str
        Municipality and year columns (both get fixed effects).
    controls : sequence of str
        Further time-varying regressors (e.g. the reform indicator, to separate the dose from the reform).
    weights : str or None
        Analytic weights (e.g. the number of children behind each mean).
    cluster : str or None
        Cluster column; defaults to ``unit``.
    per : float
        Report the effect of ``per`` more units of exposure (e.g. 10 cases per worker).
    alpha : float
        One minus the confidence level.

    Returns
    -------
    DoseResult
    """
    if per <= 0:
        raise EvaluationError(f"dose_response: per must be positive; got {per}")
    if exposure in controls:
        raise EvaluationError(f"dose_response: the exposure {exposure!r} is also listed among the controls")
    model = fixed_effects(
        df,
        outcome=outcome,
        regressors=[exposure, *controls],
        unit=unit,
        time=time,
        cluster=cluster or unit,
        weights=weights,
        alpha=alpha,
    )
    row = model.table.loc[exposure]
    n_units = int(df.loc[df[[outcome, exposure]].notna().all(axis=1), unit].nunique())
    estimate = Estimate(
        per * row["coef"], per * row["se"], per * row["ci_low"], per * row["ci_high"], n_units, 0, row["p_value"]
    )
    return DoseResult(estimate=estimate, per=per, model=model)
