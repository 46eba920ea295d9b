r"""Municipality-year panels for the staggered analyses, child subgroups and caseload exposure.

The reform is assigned to municipalities, so the group-time estimators run on a panel of
municipality-years (:func:`municipality_panel`): the mean outcome over the child-years with an open
case *and a value of the outcome*.

The matched sample (the headline's, :func:`matched_child_years`)
    The pipeline builds these means from the child-years of the *matched* children
    (``data/interim/<release>/compare/matched.parquet`` of the rule ``match_children``), each carrying its
    child's matching weight :math:`w_i` to every year, as the headline imputation estimator does. The
    municipality-year mean is the weighted mean
    :math:`\bar y_{mt} = \sum_{i \in mt} w_i y_{it} / \sum_{i \in mt} w_i`. Without the matching the means
    of the comparison municipalities are those of all their children, whose mix of background (and
    so of outcome trends) differs from the adopters' children: the confounded trend the matching
    removes. Children of adopting municipalities have weight 1 (matching for the ATT), so their
    municipalities' means are unchanged up to the children the caliper drops.

Weights (the estimand per child-year)
    Each municipality-year carries two numbers. ``n_child_years`` is the count of child-years
    behind the mean (persons' records; it is never written, and the disclosure rule of the step
    applies to counts of persons). ``weight_sum`` :math:`W_{mt} = \sum_{i \in mt} w_i` is the
    estimation weight: the sum of the matching weights, which is what the matched child-years
    stand for (a comparison child matched to several treated children counts several times, one
    matched to none does not count). With all weights 1 (no matching) it equals ``n_child_years``.
    :func:`evaluation.methods.did.att_gt` takes a sampling weight that is constant within a unit, so each
    municipality gets :math:`W_m = \sum_t W_{mt}` (``unit_weight``). Every ATT(g,t) is then a
    weighted average of municipal DiDs, and the cohort shares :math:`p_g` of the aggregations count
    matched child-years, so the simple ATT approximates the mean effect over treated child-years, as
    the headline and the synthetic ``truth.json`` define it. It is an approximation: within a
    municipality every year counts the same, however many children that year has. The TWFE and
    dose-response regressions use the time-varying :math:`W_{mt}` as analytic weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.did.heterogeneity import life_phase
from evaluation.steps.cohort.placements import caseload_per_fte

__all__ = [
    "WEIGHT",
    "caseload_panel",
    "child_subgroups",
    "matched_child_years",
    "municipality_panel",
    "prior_placement",
]

#: Labels of ``sex`` (KOEN: 1 male, 2 female).
SEX_LABELS: dict[int, str] = {1: "male", 2: "female"}


#: Column of the child-year sample holding the child's matching weight (1 for every child without matching).
WEIGHT = "matching_weight"


def matched_child_years(panel: pd.DataFrame, matched: pd.DataFrame, *, source: str = "matched") -> pd.DataFrame:
    """Child-years of the matched children, each carrying its child's matching weight in :data:`WEIGHT`.

    Parameters
    ----------
    panel : pandas.DataFrame
        The cohort's child-year panel (``person_id`` and the analysis columns).
    matched : pandas.DataFrame
        ``person_id, weight`` of the matched children (``compare/matched.parquet``), one row per child.
    source : str
        The file ``matched`` was read from, for messages.

    Returns
    -------
    pandas.DataFrame
        The panel rows of the matched children with the column :data:`WEIGHT`, in the panel's order.

    Raises
    ------
    EvaluationError
        A column is missing, a child appears twice, a weight is missing, negative or infinite, or no
        matched child is in the panel.
    """
    missing = [c for c in ("person_id", "weight") if c not in matched.columns]
    if missing:
        raise EvaluationError(f"{source}: column(s) {missing} missing; rerun the rule match_children")
    if matched["person_id"].duplicated().any():
        child = matched.loc[matched["person_id"].duplicated(), "person_id"].iloc[0]
        raise EvaluationError(f"{source}: child {child!r} appears more than once; rerun the rule match_children")
    weights = pd.to_numeric(matched["weight"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise EvaluationError(
            f"{source}, row {row}: weight {matched['weight'].iloc[row]!r} is not a non-negative number; "
            "rerun the rule match_children"
        )
    if WEIGHT in panel.columns:
        raise EvaluationError(f"staggered: the panel already has a column {WEIGHT!r}; rename it")
    weight = pd.Series(weights, index=matched["person_id"].to_numpy())
    sample = panel.loc[panel["person_id"].isin(weight.index)].copy()
    if sample.empty:
        raise EvaluationError(f"{source}: none of its {len(matched):,} children is in the panel; rerun match_children")
    sample[WEIGHT] = sample["person_id"].map(weight).astype(float)
    return sample


def municipality_panel(
    panel: pd.DataFrame, outcome: str, covariates: Sequence[str] = (), *, weight: str | None = None
) -> pd.DataFrame:
    r"""Municipality-year (weighted) means of ``outcome`` (and ``covariates``) over child-years with the outcome.

    Parameters
    ----------
    panel : pandas.DataFrame
        Child-year panel with ``municipality, year, first_treat`` and the columns named.
    outcome : str
        Outcome column; child-years without a value are left out before averaging.
    covariates : sequence of str
        Child-level columns averaged per municipality-year (e.g. the share with basic parental schooling);
        each over the child-years with a value of it.
    weight : str or None
        Column of child-year weights (the matching weights, :data:`WEIGHT`); None weighs every child-year 1.
        Child-years of weight 0 are left out.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, first_treat, <outcome>, <covariates>..., n_child_years, weight_sum, treated,
        unit_weight``: ``n_child_years`` counts the child-years behind the mean, ``weight_sum`` sums
        their weights (the estimation weight :math:`W_{mt}`), ``treated`` is 1 from the adoption year
        on and ``unit_weight`` the municipality's :math:`\sum_t W_{mt}` (module docstring). Sorted by
        municipality and year.
    """
    columns = [outcome, *covariates]
    missing = [c for c in ("municipality", "year", "first_treat", *columns) if c not in panel.columns]
    if missing:
        raise EvaluationError(
            f"staggered: column(s) {missing} are not columns of the panel; check config outcomes and covariates"
        )
    if weight is not None and weight not in panel.columns:
        raise EvaluationError(f"staggered: weight column {weight!r} is not a column of the panel")
    if (panel.groupby("municipality")["first_treat"].nunique() > 1).any():
        raise EvaluationError("staggered: 'first_treat' varies within a municipality; rebuild the panel")
    w = pd.Series(1.0, index=panel.index) if weight is None else panel[weight].astype(float)
    keep = panel[outcome].notna() & (w > 0)
    sample, w = panel.loc[keep], w.loc[keep]
    keys = [sample["municipality"], sample["year"]]
    grouped = w.groupby(keys, sort=True)
    out = pd.DataFrame({"first_treat": sample["first_treat"].groupby(keys, sort=True).first()})
    for column in columns:
        values = sample[column].astype(float)
        present = values.notna()
        numerator = (values * w).where(present).groupby(keys, sort=True).sum()
        denominator = w.where(present).groupby(keys, sort=True).sum()
        out[column] = (numerator / denominator.where(denominator > 0)).reindex(out.index)
    out["n_child_years"] = grouped.size().astype("int64")
    out["weight_sum"] = grouped.sum().astype(float)
    out = out.reset_index()
    first = out["first_treat"]
    out["treated"] = ((first > 0) & (out["year"] >= first)).astype("int64")
    out["unit_weight"] = out.groupby("municipality")["weight_sum"].transform("sum").astype(float)
    return out.sort_values(["municipality", "year"]).reset_index(drop=True)


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
    """Caseload per full-time caseworker by municipality-year: the headline's measure, as the dose's exposure.

    The yearly mean over months of open cases over worked FTE
    (:func:`evaluation.steps.cohort.placements.caseload_per_fte`,
    the caseload ``truth.json`` defines), so that the dose-response and the headline's caseload effect are in
    the same units.

    Parameters
    ----------
    caseworkers : pandas.DataFrame
        Ingested ``sagsbehandlere`` (``municipality, month, fte, active_cases``).

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, caseload_per_worker`` (municipality-years with a positive FTE).
    """
    load = caseload_per_fte(caseworkers)
    return load.rename(columns={"caseload": "caseload_per_worker"})[["municipality", "year", "caseload_per_worker"]]
