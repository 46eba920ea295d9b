"""Baseline covariates at the child's entry year, and outcomes per child-year."""

from __future__ import annotations

import pandas as pd

from evaluation.errors import ExtractValidationError
from evaluation.steps.cohort.keys import among

#: Outcome columns of the panel and the ``udfald`` measure code each comes from.
OUTCOME_MEASURES = {"sdq": "SDQ", "school_absence": "FRAVAER"}

#: Education level (HFAUDD level) meaning basic schooling only (grundskole).
BASIC_EDUCATION_LEVEL = 10


def baseline_covariates(entry: pd.DataFrame, parents: pd.DataFrame, notifications: pd.DataFrame) -> pd.DataFrame:
    """Baseline covariates of each child, fixed in its entry year.

    Parameters
    ----------
    entry
        One row per child: ``person_id, entry_year, mother_id, father_id`` (parents from the
        child's ``befolkning`` row in the entry year; missing ids allowed).
    parents
        Ingested ``foraeldre``: ``year, person_id, education_level, income``.
    notifications
        Ingested ``underretninger``.

    Returns
    -------
    pandas.DataFrame
        One row per child: ``person_id, parent_basic_education`` (any parent with basic schooling
        only, 0/1), ``parent_missing`` (no parent found in ``foraeldre`` in the entry year, 0/1),
        ``parent_income`` (mean income of the parents found, DKK 1,000; missing values imputed with
        the mean over the cohort), ``parent_income_missing`` (0/1) and ``prior_notifications``
        (notifications in the entry year).
    """
    links = pd.concat(
        [
            entry[["person_id", "entry_year", col]].rename(columns={col: "parent_id"})
            for col in ("mother_id", "father_id")
        ],
        ignore_index=True,
    )
    links = links.loc[links["parent_id"].notna()]
    rows = parents[["year", "person_id", "education_level", "income"]].rename(
        columns={"person_id": "parent_id", "year": "entry_year"}
    )
    # only the parents of the children matter: the others are left out before the join (same rows, same order)
    rows = rows.loc[among(rows["parent_id"], links["parent_id"])]
    found = links.merge(rows, on=["parent_id", "entry_year"], how="inner")
    found = found.assign(basic=(found["education_level"] == BASIC_EDUCATION_LEVEL).astype("int64"))
    per_child = found.groupby("person_id", sort=True).agg(basic=("basic", "max"), income=("income", "mean"))
    out = entry[["person_id", "entry_year"]].merge(per_child, left_on="person_id", right_index=True, how="left")
    out["parent_missing"] = out["basic"].isna().astype("int64")
    out["parent_basic_education"] = out["basic"].fillna(0).astype("int64")
    income = out["income"].astype("float64") / 1000.0
    out["parent_income_missing"] = income.isna().astype("int64")
    mean_income = float(income.mean()) if income.notna().any() else 0.0
    out["parent_income"] = income.fillna(mean_income)
    counts = (
        notifications.assign(entry_year=notifications["date"].dt.year.astype("int64"))
        .groupby(["person_id", "entry_year"])
        .size()
        .rename("prior_notifications")
        .reset_index()
    )
    out = out.merge(counts, on=["person_id", "entry_year"], how="left")
    out["prior_notifications"] = out["prior_notifications"].fillna(0).astype("int64")
    cols = [
        "person_id",
        "parent_basic_education",
        "parent_missing",
        "parent_income",
        "parent_income_missing",
        "prior_notifications",
    ]
    return out[cols]


# --------------------------------------------------------------------------- outcomes


def outcome_values(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Wide child-year outcomes from the long ``udfald`` extract.

    Parameters
    ----------
    outcomes
        Ingested ``udfald``: ``person_id, year, measure, value``.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year`` and one float column per entry of :data:`OUTCOME_MEASURES`.

    Raises
    ------
    ExtractValidationError
        When a child has two values of the same measure in one year.
    """
    wanted = outcomes.loc[outcomes["measure"].isin(list(OUTCOME_MEASURES.values()))]
    dup = wanted.duplicated(["person_id", "year", "measure"])
    if dup.any():
        row = wanted.loc[dup].iloc[0]
        raise ExtractValidationError(
            f"udfald: {int(dup.sum())} duplicated (person_id, year, measure) rows, e.g. year {row['year']}, "
            f"measure {row['measure']}; keep one value per child, year and measure."
        )
    wide = wanted.pivot(index=["person_id", "year"], columns="measure", values="value")
    wide = wide.reindex(columns=list(OUTCOME_MEASURES.values()))
    wide.columns = list(OUTCOME_MEASURES.keys())
    return wide.astype("float64").reset_index()
