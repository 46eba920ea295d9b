"""Ages and open-case years: which child-years belong to the cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import ExtractValidationError


def age_on_january_first(birth_date: pd.Series, year: pd.Series) -> pd.Series:
    """Age in whole years on 1 January of ``year``.

    Parameters
    ----------
    birth_date
        Dates of birth (datetime64).
    year
        Calendar years, aligned with ``birth_date``.

    Returns
    -------
    pandas.Series
        int64 ages; a child born on 1 January is a year older than one born on 2 January.
    """
    born_jan1 = (birth_date.dt.month == 1) & (birth_date.dt.day == 1)
    return (year.astype("int64") - birth_date.dt.year.astype("int64") - 1 + born_jan1.astype("int64")).astype("int64")


def spell_years(spells: pd.DataFrame, open_end: pd.Timestamp, *, source: str = "spells") -> pd.DataFrame:
    """Expand spells to the calendar years they overlap.

    Parameters
    ----------
    spells
        Frame with ``person_id``, ``start_date`` and ``end_date`` (NaT = ongoing).
    open_end
        The date an ongoing spell is taken to last until (end of the data).
    source
        Name of the extract, for error messages.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year``, one row per spell and overlapped year (duplicates possible).

    Raises
    ------
    ExtractValidationError
        When a spell ends before it starts.
    """
    end = spells["end_date"].fillna(open_end)
    bad = end < spells["start_date"]
    if bad.any():
        first = spells.loc[bad].iloc[0]
        raise ExtractValidationError(
            f"{source}: {int(bad.sum())} spell(s) end before they start, e.g. spell {first.get('spell_id', '?')} "
            f"(start_date {first['start_date']:%Y-%m-%d}, end_date {first['end_date']:%Y-%m-%d}); "
            "correct the dates in the extract."
        )
    start_year = spells["start_date"].dt.year.to_numpy(dtype="int64")
    n_years = end.dt.year.to_numpy(dtype="int64") - start_year + 1
    idx = np.repeat(np.arange(len(spells)), n_years)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(n_years) - n_years, n_years)
    return pd.DataFrame({"person_id": spells["person_id"].to_numpy()[idx], "year": start_year[idx] + offset})


def open_case_years(
    notifications: pd.DataFrame, preventive: pd.DataFrame, placements: pd.DataFrame, open_end: pd.Timestamp
) -> pd.DataFrame:
    """Return the distinct (person_id, year) pairs with an open case.

    A year is open iff a notification is dated in it or a preventive or
    placement spell overlaps it (see the module docstring).

    Parameters
    ----------
    notifications, preventive, placements
        Ingested ``underretninger``, ``forebyggende`` and ``anbringelser_forloeb``.
    open_end
        End date assumed for ongoing spells.

    Returns
    -------
    pandas.DataFrame
        ``person_id, year`` with an ``open_case`` column of 1, sorted.
    """
    parts = [
        pd.DataFrame({"person_id": notifications["person_id"], "year": notifications["date"].dt.year.astype("int64")}),
        spell_years(preventive, open_end, source="forebyggende"),
        spell_years(placements, open_end, source="anbringelser_forloeb"),
    ]
    years = pd.concat(parts, ignore_index=True).drop_duplicates().sort_values(["person_id", "year"])
    return years.assign(open_case=1).reset_index(drop=True)


# --------------------------------------------------------------------------- baseline covariates
