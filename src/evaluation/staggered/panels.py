r"""Municipality-year panels for the staggered analyses, child subgroups and caseload exposure.

The reform is assigned to municipalities, so the group-time estimators run on a panel of
municipality-years (:func:`municipality_panel`): the mean outcome over the child-years with an open
case *and a value of the outcome*, with the number :math:`n_{mt}` of those child-years.

Weights (the estimand per child-year)
    :func:`evaluation.did.att_gt` takes a sampling weight that is constant within a unit. Each
    municipality gets :math:`w_m = \sum_t n_{mt}`, its child-years with the outcome over the study
    years. Every ATT(g,t) is then a child-year-weighted average of municipal DiDs, and the cohort
    shares :math:`p_g` of the aggregations count child-years, so the simple ATT approximates the mean
    effect over treated child-years, as the child-level DiD and the synthetic ``truth.json`` define
    it. It is an approximation: within a municipality every year counts the same, however many
    children that year has. The TWFE and dose-response regressions use the time-varying
    :math:`n_{mt}` as analytic weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.did.heterogeneity import life_phase, municipality_year_means
from evaluation.errors import EvaluationError
from evaluation.implementation import caseload_records

__all__ = ["caseload_panel", "child_subgroups", "municipality_panel", "prior_placement"]

#: Labels of ``sex`` (KOEN: 1 male, 2 female).
SEX_LABELS: dict[int, str] = {1: "male", 2: "female"}


def municipality_panel(panel: pd.DataFrame, outcome: str, covariates: Sequence[str] = ()) -> pd.DataFrame:
    """Municipality-year means of ``outcome`` (and ``covariates``) over child-years with the outcome.

    Parameters
    ----------
    panel : pandas.DataFrame
        Child-year panel with ``municipality, year, first_treat`` and the columns named.
    outcome : str
        Outcome column; child-years without a value are left out before averaging.
    covariates : sequence of str
        Child-level columns averaged per municipality-year (e.g. the share with basic parental schooling).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, first_treat, <outcome>, <covariates>..., treated, n_child_years, unit_weight``:
        ``treated`` is 1 from the adoption year on, ``unit_weight`` the municipality's child-years
        (module docstring). Sorted by municipality and year.
    """
    if outcome not in panel.columns:
        raise EvaluationError(f"staggered: outcome {outcome!r} is not a column of the panel; check config outcomes")
    sample = panel.loc[panel[outcome].notna()]
    means = municipality_year_means(sample, [outcome, *covariates])
    means = means.rename(columns={"n_children": "n_child_years"})
    first = means["first_treat"]
    means["treated"] = ((first > 0) & (means["year"] >= first)).astype("int64")
    means["unit_weight"] = means.groupby("municipality")["n_child_years"].transform("sum").astype(float)
    return means.sort_values(["municipality", "year"]).reset_index(drop=True)


def prior_placement(panel: pd.DataFrame, placements: pd.DataFrame) -> pd.Series:
    """Whether each child-year's child was placed out of home before or in its entry year.

    A child counts as previously placed when a placement spell of ``anbringelser_forloeb`` starts
    on or before 31 December of the child's ``entry_year`` (its first year with an open case in the
    panel). Spells that started before the data window count (registers keep the history of
    episodes that overlap it). Caveat: a placement *in* the entry year of a child entering after
    adoption may itself respond to the reform; the subgroup is then not purely pre-treatment.

    Parameters
    ----------
    panel : pandas.DataFrame
        Child-year panel with ``person_id`` and ``entry_year``.
    placements : pandas.DataFrame
        Ingested ``anbringelser_forloeb`` with ``person_id`` and ``start_date``.

    Returns
    -------
    pandas.Series
        ``"yes"`` or ``"no"``, aligned with ``panel``.
    """
    for column in ("person_id", "start_date"):
        if column not in placements.columns:
            raise EvaluationError(f"anbringelser_forloeb lacks the column {column!r}: rerun the ingest step")
    first_start = placements.groupby("person_id")["start_date"].min().dt.year
    first_year = panel["person_id"].map(first_start)
    placed = first_year.notna() & (first_year <= panel["entry_year"])
    return pd.Series(np.where(placed, "yes", "no"), index=panel.index, dtype="string")


def child_subgroups(panel: pd.DataFrame, placements: pd.DataFrame | None, subgroups: Sequence[str]) -> pd.DataFrame:
    """Add the subgroup columns ``life_phase`` (from ``age_at_entry``), ``sex`` labels and ``prior_placement``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``panel`` with one string column ``subgroup_<name>`` per requested subgroup.
    """
    out = panel.copy()
    for name in subgroups:
        if name == "life_phase":
            out["subgroup_life_phase"] = life_phase(out["age_at_entry"])
        elif name == "sex":
            out["subgroup_sex"] = out["sex"].map(SEX_LABELS).astype("string")
        elif name == "prior_placement":
            if placements is None:
                raise EvaluationError("staggered: prior_placement needs the ingested anbringelser_forloeb extract")
            out["subgroup_prior_placement"] = prior_placement(out, placements)
        else:
            raise EvaluationError(f"staggered: unknown subgroup variable {name!r}")
    return out


def caseload_panel(caseworkers: pd.DataFrame) -> pd.DataFrame:
    """Caseload per caseworker by municipality-year: the sum of active cases over the sum of FTE.

    Parameters
    ----------
    caseworkers : pandas.DataFrame
        Ingested ``sagsbehandlere`` (see :func:`evaluation.implementation.caseload_records`).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, caseload_per_worker`` (municipality-years with a positive FTE sum).
    """
    records = caseload_records(caseworkers)
    records = records.loc[records["indicator"] == "caseload_per_worker"]
    sums = records.groupby(["municipality", "year"], sort=True)[["numerator", "denominator"]].sum()
    sums = sums.loc[sums["denominator"] > 0]
    out = (sums["numerator"] / sums["denominator"]).rename("caseload_per_worker").reset_index()
    return out
