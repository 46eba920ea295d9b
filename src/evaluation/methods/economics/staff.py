r"""Staff cost of lower caseloads: caseworker full-time equivalents and their cost.

FTE-years
    The caseworker extract (``sagsbehandlere``) has one row per caseworker and
    month with the FTE of the post and the employment dates. A row counts for
    the days of the month the caseworker was employed, so that partial months
    and partial years are exact:

    .. math:: \mathrm{FTE}_{mt} = \sum_{k,\,\text{months of } t} \mathrm{fte}_k \,
              \frac{\text{days employed in the month}}{\text{days in year } t},

    (a full-time caseworker employed all year gives 1.0 in leap years too; a
    0.8 FTE post held for half of the year gives 0.4).
Staff intensity
    FTE-years per child-year with an open case in the municipality-year,
    :math:`s_{mt} = \mathrm{FTE}_{mt} / C_{mt}`, where :math:`C_{mt}` counts the
    cohort panel's child-years of municipality :math:`m` in year :math:`t`.
Extra FTEs implied by the caseload change
    The reform's effect on staff intensity, :math:`\delta`, from the imputation
    estimator (Borusyak, Jaravel and Spiess 2024; :func:`staff_effect`,
    :mod:`evaluation.methods.economics.effects`) on all municipality-years: the untreated
    model :math:`s_{mt}(0) = a_m + l_t` is fitted on the municipality-years before
    adoption and of never-adopting municipalities, weighted by :math:`C_{mt}`, and
    :math:`\delta` is the :math:`C_{mt}`-weighted mean of :math:`s_{mt} - \hat s_{mt}(0)`
    over the treated municipality-years, i.e. the average over treated child-years
    with an open case, clustered by municipality. :math:`\delta` is the extra FTE per
    treated child-year with an open case; the staff cost per such child-year is
    :math:`\delta \times` the cost of one FTE-year (salary with overheads,
    :func:`cost_per_fte_year`). Lowering the caseload from :math:`L_0` to
    :math:`L_1` cases per caseworker needs :math:`1/L_1 - 1/L_0` extra FTE per
    case, which is what :math:`\delta` measures without assuming :math:`L_0`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, ExtractValidationError
from evaluation.methods.economics.prices import deflator
from evaluation.results import Estimate

__all__ = ["STAFF_COLUMNS", "caseworker_fte_years", "cost_per_fte_year", "staff_effect", "staff_fit", "staff_panel"]

STAFF_COLUMNS = [
    "municipality",
    "year",
    "fte_years",
    "case_years",
    "fte_per_case",
    "cases_per_fte",
    "first_treat",
    "treated",
]


def caseworker_fte_years(caseworkers: pd.DataFrame) -> pd.DataFrame:
    """FTE-years and average active cases by municipality and year (module docstring).

    Parameters
    ----------
    caseworkers
        The ingested caseworker extract: ``caseworker_id, municipality, month`` (first day of the
        month), ``fte, active_cases, employed_from, employed_to`` (missing = still employed).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, fte_years, active_cases`` (cases averaged over the days of the year,
        counted for the days each caseworker was employed), sorted.

    Raises
    ------
    ExtractValidationError
        When an FTE is outside (0, 1.5] or a month row lies outside the employment.
    """
    cw = caseworkers
    fte = cw["fte"].to_numpy(dtype="float64")
    bad = ~((fte > 0) & (fte <= 1.5))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ExtractValidationError(
            f"sagsbehandlere: row {row} has fte {fte[row]!r}; an FTE lies in (0, 1.5]. Correct the extract."
        )
    month = pd.to_datetime(cw["month"]).to_numpy().astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    after = (month + 1).astype("datetime64[D]")
    start = pd.to_datetime(cw["employed_from"]).to_numpy().astype("datetime64[D]")
    end = pd.to_datetime(cw["employed_to"]).to_numpy().astype("datetime64[D]")
    start = np.where(np.isnat(start), first, start)
    end = np.where(np.isnat(end), after - 1, end)
    days = (np.minimum(end + 1, after) - np.maximum(start, first)).astype(np.int64)
    if (days <= 0).any():
        row = int(np.flatnonzero(days <= 0)[0])
        raise ExtractValidationError(
            f"sagsbehandlere: row {row} (caseworker {cw['caseworker_id'].iloc[row]}) is for month {month[row]} "
            "but the caseworker was not employed in that month; drop the row or correct the employment dates."
        )
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    year_days = ((year + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - jan1).astype(np.int64)
    share = days / year_days
    frame = pd.DataFrame(
        {
            "municipality": cw["municipality"].to_numpy(dtype=np.int64),
            "year": year,
            "fte_years": fte * share,
            "active_cases": cw["active_cases"].to_numpy(dtype="float64") * share,
        }
    )
    return frame.groupby(["municipality", "year"], as_index=False, sort=True)[["fte_years", "active_cases"]].sum()


def staff_panel(fte: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Municipality-year staff intensity with treatment status.

    Parameters
    ----------
    fte
        :func:`caseworker_fte_years`.
    panel
        The cohort panel (one row per child-year with an open case; ``municipality, year, first_treat``).

    Returns
    -------
    pandas.DataFrame
        :data:`STAFF_COLUMNS`: municipality-years present in both inputs. ``case_years`` counts
        child-years with an open case; ``fte_per_case = fte_years / case_years``; ``cases_per_fte``
        is the average caseload (active cases per FTE); ``first_treat`` the adoption year (0: never);
        ``treated = 1`` from the adoption year on.
    """
    cases = panel.groupby(["municipality", "year"], as_index=False, sort=True).agg(
        case_years=("year", "size"), first_treat=("first_treat", "max")
    )
    out = fte.merge(cases, on=["municipality", "year"], how="inner")
    out["fte_per_case"] = out["fte_years"] / out["case_years"]
    out["cases_per_fte"] = out["active_cases"] / out["fte_years"]
    out["treated"] = ((out["first_treat"] > 0) & (out["year"] >= out["first_treat"])).astype("int64")
    out["case_years"] = out["case_years"].astype("int64")
    return out[STAFF_COLUMNS].sort_values(["municipality", "year"]).reset_index(drop=True)


def staff_effect(staff: pd.DataFrame, *, alpha: float = 0.05) -> Estimate:
    """Effect of the reform on FTE per child-year with an open case (imputation estimator, module docstring).

    Parameters
    ----------
    staff
        :func:`staff_panel`.
    alpha
        One minus the confidence level.

    Returns
    -------
    Estimate
        The BJS standard error and t(G - 1) interval, clustered by municipality; ``n_treated`` and
        ``n_control`` count municipalities (adopting, never adopting).
    """
    fit = staff_fit(staff, "fte_per_case", alpha=alpha)
    ever = staff.groupby("municipality")["treated"].max()
    return fit.to_estimate(n_treated=int(ever.sum()), n_control=int((ever == 0).sum()))


def staff_fit(staff: pd.DataFrame, outcome: str, *, alpha: float = 0.05) -> Any:
    """Imputation fit of a municipality-year outcome of :func:`staff_panel`, weighted by ``case_years``.

    Municipality and year effects, no covariates, errors clustered by municipality
    (:func:`evaluation.methods.did.imputation.did_imputation`).
    """
    from evaluation.methods.did.imputation import did_imputation

    return did_imputation(
        staff,
        outcome,
        unit="municipality",
        time="year",
        cohort="first_treat",
        weights="case_years",
        cluster="municipality",
        alpha=alpha,
    )


def cost_per_fte_year(caseworker_cost: Mapping[str, Any], index: pd.Series, *, price_year: int) -> float:
    """Cost of one caseworker FTE-year with overheads, in ``price_year`` prices.

    :math:`c = w (1 + o) I_p / I_{q}` for salary :math:`w` in prices of year :math:`q` and overhead share :math:`o`.

    Parameters
    ----------
    caseworker_cost
        ``{"salary_dkk_per_year": w, "salary_price_year": q, "overhead_share": o, "source": ...}``.
    index
        Price index by year (:func:`evaluation.methods.economics.prices.price_index`).
    price_year
        Target price year.

    Returns
    -------
    float
        DKK per FTE-year.
    """
    try:
        salary = float(caseworker_cost["salary_dkk_per_year"])
        year = int(caseworker_cost["salary_price_year"])
        overhead = float(caseworker_cost.get("overhead_share", 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"economics.caseworker_cost needs salary_dkk_per_year, salary_price_year and overhead_share ({exc!r})."
        ) from None
    if salary <= 0 or overhead < 0:
        raise ConfigError(
            f"economics.caseworker_cost: salary {salary} must be positive and overhead_share {overhead} not negative."
        )
    return salary * (1.0 + overhead) * float(deflator([year], index, price_year=price_year)[0])
