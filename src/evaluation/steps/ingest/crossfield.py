"""Rules that compare fields: spells that end before they start, overlapping placements, dates, ages.

These checks run after conversion (:mod:`evaluation.steps.ingest.validate`) and give
row problems like every other rule, so a row that breaks one is quarantined
with its reason, or stops ingestion (``data.on_invalid_row: stop``). Values that
did not convert are missing here and are not checked again.

Two dates bound an extract. The *period end* is 31 December of the last year in
the population extract (``befolkning.AAR``): the analysis covers the years up to
it. The *delivery date* (``data.delivery_date``; null: the date of the run) is
the day the extract was drawn: no register can hold a later date. A spell or an
employment that is still open at the period end is right-censored, not wrong: its
last day (``SLUTDATO``, ``ANSAT_SLUT``) may lie after the period end, up to the
delivery date, or be missing. The analysis censors it at the period end.

Rules
-----
``end_before_start``
    A spell's last day (``SLUTDATO``, ``ANSAT_SLUT``) is before its first day.
``overlap``
    A placement spell of a child starts on or before the last day of an earlier
    spell of the same child (an ongoing spell, with no last day, overlaps every
    later one). The later spell is the problem row; its reason names the earlier
    row. Consecutive spells start the day after the previous one ends.
``future_date``
    Any date after the delivery date (birth dates excepted: see ``birth_after_year``).
``after_period``
    A date other than a last day (a start, an event, a month) after the period
    end: the row belongs to a year the population extract does not cover.
``birth_after_year``
    In the population extract, a birth date after the year of the row.
``age``
    A child in the population extract who is older than :data:`MAX_AGE` years
    on 1 January of the row's year (the registers follow children to 22 at most).
``implausible_amount``
    Net expenditure in the accounts below :data:`MIN_AMOUNT` (DKK 1,000): a
    negative net cost on one account function of more than DKK 5 mio. is taken
    as a sign error or a wrong unit (an assumption; small negative amounts from
    refunds are accepted).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from evaluation.contract.extracts import Extract
from evaluation.errors import ConfigError

#: Oldest age (on 1 January) of a child in the population extract.
MAX_AGE = 22
#: Lowest plausible net expenditure on one account function, in DKK 1,000.
MIN_AMOUNT = -5_000.0
#: Spell extracts: (start column, end column).
SPELLS: dict[str, tuple[str, str]] = {
    "forebyggende": ("STARTDATO", "SLUTDATO"),
    "anbringelser_forloeb": ("STARTDATO", "SLUTDATO"),
    "sagsbehandlere": ("ANSAT_START", "ANSAT_SLUT"),
}
#: Columns holding the last day of a spell or an employment: they may lie after the period end.
END_COLUMNS: frozenset[str] = frozenset(end for _, end in SPELLS.values())


def _problems(rows: np.ndarray, column: str, value: pd.Series, rule: str, reason: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_row": rows.astype(np.int64),
            "column": column,
            "value": value.astype("str").to_numpy(),
            "rule": rule,
            "reason": reason.astype("str").to_numpy(),
        }
    )


def _day(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d").fillna("").astype("str")


def _end_before_start(typed: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    bad = (typed[end] < typed[start]).fillna(False).to_numpy(dtype=bool)
    sub = typed[bad]
    reason = "the last day " + _day(sub[end]) + f" is before the first day ({start}) " + _day(sub[start])
    return _problems(sub["_row"].to_numpy(), end, _day(sub[end]), "end_before_start", reason)


def _overlaps(typed: pd.DataFrame) -> pd.DataFrame:
    ok = typed["PNR"].notna() & typed["STARTDATO"].notna()
    sub = typed.loc[ok, ["_row", "PNR", "STARTDATO", "SLUTDATO"]]
    sub = sub.sort_values(["PNR", "STARTDATO", "_row"], kind="stable")
    ongoing = sub["SLUTDATO"].isna().to_numpy()
    end_ms = sub["SLUTDATO"].to_numpy(dtype="datetime64[ms]").astype("int64")
    end = pd.Series(np.where(ongoing, np.iinfo(np.int64).max, end_ms), index=sub.index)
    reach = end.groupby(sub["PNR"], sort=False).cummax()
    before = reach.groupby(sub["PNR"], sort=False).shift()
    # the row holding the running maximum before each spell, to name it in the reason
    holder = sub["_row"].where(end == reach).groupby(sub["PNR"], sort=False).ffill()
    holder = holder.groupby(sub["PNR"], sort=False).shift()
    start = pd.Series(sub["STARTDATO"].to_numpy(dtype="datetime64[ms]").astype("int64"), index=sub.index)
    bad = (before.notna() & (start <= before)).to_numpy(dtype=bool)
    hit = sub[bad]
    reason = (
        "the spell starts on "
        + _day(hit["STARTDATO"])
        + ", before an earlier spell of the same child (row "
        + holder[bad].astype("Int64").astype("str")
        + ") has ended"
    )
    return _problems(hit["_row"].to_numpy(), "STARTDATO", _day(hit["STARTDATO"]), "overlap", reason)


def _dated_columns(extract: Extract) -> list[str]:
    return [col.name for col in extract.columns if col.dtype == "date" and col.name != "FOED_DAG"]


def _future(values: pd.Series, delivery_date: pd.Timestamp | None) -> np.ndarray:
    if delivery_date is None:
        return np.zeros(len(values), dtype=bool)
    return (values > delivery_date).fillna(False).to_numpy(dtype=bool)


def _future_dates(typed: pd.DataFrame, extract: Extract, delivery_date: pd.Timestamp | None) -> list[pd.DataFrame]:
    parts = []
    for name in _dated_columns(extract):
        future = _future(typed[name], delivery_date)
        if future.any():
            sub = typed[future]
            reason = "the date " + _day(sub[name]) + f" is after the delivery date {delivery_date:%Y-%m-%d}"
            parts.append(_problems(sub["_row"].to_numpy(), name, _day(sub[name]), "future_date", reason))
    return parts


def after_period_problems(
    typed: pd.DataFrame, extract: Extract, period_end: pd.Timestamp | None, delivery_date: pd.Timestamp | None
) -> list[pd.DataFrame]:
    """Return the problems of the ``after_period`` rule: a date after the end of the extract period.

    The period end comes from the population extract (:func:`extract_period_end`), so this rule can only run
    once that extract is checked; the others' remaining checks need not wait for it. A date after the
    delivery date is a ``future_date`` problem instead, and a last day (:data:`END_COLUMNS`) after the period
    end is right-censoring, not a problem.

    Parameters
    ----------
    typed
        The typed frame of an extract (DST names plus ``_row``).
    extract
        The extract; the population extract itself has no such rule.
    period_end
        Last day of the extract period; ``None``: no problems.
    delivery_date
        The delivery date (:func:`delivery_bound`), or ``None``.

    Returns
    -------
    list of pandas.DataFrame
        Problem tables, possibly empty.
    """
    if period_end is None or extract.name == "befolkning":
        return []
    parts = []
    for name in _dated_columns(extract):
        if name in END_COLUMNS:
            continue
        values = typed[name]
        late = (values > period_end).fillna(False).to_numpy(dtype=bool) & ~_future(values, delivery_date)
        if late.any():
            sub = typed[late]
            reason = (
                "the date "
                + _day(sub[name])
                + f" is after the end of the extract period ({period_end:%Y-%m-%d}, the last year of befolkning)"
            )
            parts.append(_problems(sub["_row"].to_numpy(), name, _day(sub[name]), "after_period", reason))
    return parts


def _population(typed: pd.DataFrame) -> list[pd.DataFrame]:
    year, born = typed["AAR"], typed["FOED_DAG"]
    known = (year.notna() & born.notna()).to_numpy(dtype=bool)
    y = year.fillna(0).astype("int64").to_numpy()
    by = np.where(known, born.dt.year.fillna(0).astype("int64").to_numpy(), 0)
    late = (born.dt.month.fillna(1).to_numpy() > 1) | (born.dt.day.fillna(1).to_numpy() > 1)
    age = y - by - late.astype(np.int64)  # completed years on 1 January of the row's year
    parts = []
    future = known & (by > y)
    if future.any():
        sub = typed[future]
        reason = (
            "the birth date "
            + _day(sub["FOED_DAG"])
            + " is after the year of the row (AAR "
            + sub["AAR"].astype("str")
            + ")"
        )
        parts.append(_problems(sub["_row"].to_numpy(), "FOED_DAG", _day(sub["FOED_DAG"]), "birth_after_year", reason))
    old = known & ~future & (age > MAX_AGE)
    if old.any():
        sub = typed[old]
        shown = pd.Series(age[old], index=sub.index).astype("str")
        reason = (
            "the child is "
            + shown
            + f" years old on 1 January (older than {MAX_AGE}; birth date "
            + _day(sub["FOED_DAG"])
            + ")"
        )
        parts.append(_problems(sub["_row"].to_numpy(), "FOED_DAG", _day(sub["FOED_DAG"]), "age", reason))
    return parts


def _amounts(typed: pd.DataFrame) -> pd.DataFrame:
    bad = (typed["BELOEB"] < MIN_AMOUNT).fillna(False).to_numpy(dtype=bool)
    sub = typed[bad]
    shown = sub["BELOEB"].map(lambda v: f"{v:g}").astype("str")
    reason = (
        "net expenditure " + shown + f" (DKK 1,000) is below {MIN_AMOUNT:g}: a negative cost this large is implausible "
        "(a sign error or a wrong unit?)"
    )
    return _problems(sub["_row"].to_numpy(), "BELOEB", shown, "implausible_amount", reason)


def cross_field_problems(
    typed: pd.DataFrame,
    extract: Extract,
    *,
    period_end: pd.Timestamp | None = None,
    delivery_date: pd.Timestamp | None = None,
) -> list[pd.DataFrame]:
    """Return the problems of the rules that compare fields (see the module documentation).

    Parameters
    ----------
    typed
        The typed frame of an extract (DST names plus ``_row``).
    extract
        The extract.
    period_end
        Last day of the extract period (:func:`extract_period_end`); ``None``
        skips the ``after_period`` rule.
    delivery_date
        The extract's delivery date (:func:`delivery_bound`); ``None`` skips
        the ``future_date`` rule.

    Returns
    -------
    list of pandas.DataFrame
        Problem tables (columns of :data:`evaluation.steps.ingest.validate.PROBLEM_COLUMNS`); possibly empty.
    """
    parts: list[pd.DataFrame] = []
    if extract.name in SPELLS:
        parts.append(_end_before_start(typed, *SPELLS[extract.name]))
    if extract.name == "anbringelser_forloeb":
        parts.append(_overlaps(typed))
    if extract.name == "befolkning":
        parts += _population(typed)
    else:
        parts += _future_dates(typed, extract, delivery_date)
        parts += after_period_problems(typed, extract, period_end, delivery_date)
    if extract.name == "regnskab":
        parts.append(_amounts(typed))
    return [p for p in parts if not p.empty]


def extract_period_end(typed_population: pd.DataFrame) -> pd.Timestamp | None:
    """Return 31 December of the last year in the population extract.

    Parameters
    ----------
    typed_population
        The accepted typed rows of ``befolkning`` (DST names).

    Returns
    -------
    pandas.Timestamp or None
        The period end, or ``None`` when the extract has no year.
    """
    years = typed_population["AAR"].dropna()
    if years.empty:
        return None
    return pd.Timestamp(year=int(years.max()), month=12, day=31)


def delivery_bound(delivery_date: str | dt.date | None, *, today: dt.date | None = None) -> pd.Timestamp:
    """Return the last date an extract may hold: its delivery date, or the date of the run.

    Parameters
    ----------
    delivery_date
        ``data.delivery_date``: an ISO date (``YYYY-MM-DD``) or a date; ``None``
        means the date of the run (results then do not depend on the run date
        unless the extract holds dates between two run dates, which no real
        extract can).
    today
        The date of the run (default: the clock's local date); for tests.

    Returns
    -------
    pandas.Timestamp
        Midnight of the bounding day; a date later than it breaks the ``future_date`` rule.

    Raises
    ------
    ConfigError
        When ``delivery_date`` is not a valid date.
    """
    if delivery_date is None:
        return pd.Timestamp(today or dt.date.today())
    if isinstance(delivery_date, dt.date):
        return pd.Timestamp(delivery_date)
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(delivery_date)))
    except ValueError:
        raise ConfigError(
            f"data.delivery_date = {delivery_date!r} is not a date; write the day the extracts were delivered "
            "as YYYY-MM-DD (in quotes in YAML), or null for the date of the run."
        ) from None
