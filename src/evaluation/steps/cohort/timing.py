"""Treatment timing of municipalities and the data cut-off."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import ConfigError


def adoption_years(config: Mapping[str, Any]) -> dict[int, int]:
    """Return the adoption year of each adopting municipality from ``treatment.adoptions``.

    Parameters
    ----------
    config
        The study configuration; keys of ``treatment.adoptions`` may be int or str codes.

    Returns
    -------
    dict
        Municipality code -> first calendar year under the Herning model.

    Raises
    ------
    ConfigError
        For a code that is not one of the 98 municipalities, or a year that is not a whole number.
    """
    adoptions = (config.get("treatment") or {}).get("adoptions") or {}
    out: dict[int, int] = {}
    for code, year in adoptions.items():
        try:
            kom = int(code)
        except (TypeError, ValueError):
            raise ConfigError(
                f"treatment.adoptions: {code!r} is not a municipality code (a number such as 657)."
            ) from None
        if kom not in MUNICIPALITY:
            raise ConfigError(
                f"treatment.adoptions: {kom} is not one of the 98 municipality codes; "
                "see src/evaluation/data/municipalities.csv."
            )
        try:
            out[kom] = int(year)
        except (TypeError, ValueError):
            raise ConfigError(
                f"treatment.adoptions.{kom} = {year!r}: the adoption year must be a whole number."
            ) from None
    return out


def first_treat(municipality: pd.Series, adoptions: Mapping[int, int]) -> pd.Series:
    """Map municipality codes to their first year under the model (0 = never adopts).

    Parameters
    ----------
    municipality
        Municipality codes.
    adoptions
        Output of :func:`adoption_years`.

    Returns
    -------
    pandas.Series
        int64, aligned with ``municipality``.
    """
    return municipality.astype("int64").map(dict(adoptions)).fillna(0).astype("int64")


# --------------------------------------------------------------------------- cut-off


#: What the data cut-off applies to in an extract: ``(kind, column)`` (see :func:`cutoff_rule`).
CutoffRule = tuple[str, str]


def cutoff_rule(columns: Iterable[str]) -> CutoffRule | None:
    """Return how the data cut-off applies to an extract with ``columns`` (the readable names of the contract).

    Parameters
    ----------
    columns
        The extract's columns.

    Returns
    -------
    (str, str) or None
        ``("spell", "start_date")`` for spells (``start_date`` and ``end_date``), ``("dated", column)``
        for records dated by ``date``, ``event_date`` or ``month`` (the first of them present),
        ``("year", "year")`` for rows of calendar years, and None for an extract with none of these
        columns (the municipality table), which the cut-off leaves whole.
    """
    columns = set(columns)
    if {"start_date", "end_date"} <= columns:
        return ("spell", "start_date")
    if dated := [c for c in ("date", "event_date", "month") if c in columns]:
        return ("dated", dated[0])
    if "year" in columns:
        return ("year", "year")
    return None


def cutoff_timestamp(cutoff: str) -> pd.Timestamp:
    """Parse the data cut-off ``YYYY-MM-DD``.

    Raises
    ------
    ConfigError
        When ``cutoff`` is not a valid date.
    """
    try:
        return pd.Timestamp(str(cutoff))
    except ValueError:
        raise ConfigError(f"report.cutoff_date = {cutoff!r} is not a date; write it as YYYY-MM-DD.") from None


def _default_index(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has the index ``reset_index(drop=True)`` would give it (0, 1, 2, ...)."""
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def apply_cutoff(
    extracts: Mapping[str, pd.DataFrame], cutoff: str | None
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Leave out everything recorded after the data cut-off.

    The rule follows each extract's columns (:func:`cutoff_rule`): spells (``start_date`` and
    ``end_date``) starting after the cut-off are dropped and spells ending after it, or still open,
    are truncated at it; records dated after it (``date``, ``event_date``, ``month``) are dropped;
    rows of calendar years after the cut-off year (``year``) are dropped. Extracts with none of these
    columns (the municipality table) are kept whole, and so is an extract (the same frame, not a
    copy) from which nothing is dropped or truncated.

    Parameters
    ----------
    extracts
        Ingested extracts by name.
    cutoff
        ``YYYY-MM-DD`` or None (no cut-off: everything is returned unchanged).

    Returns
    -------
    (dict, dict)
        The extracts after the cut-off, and the number of records removed
        (``<extract>``) or truncated (``<extract>_truncated``).

    Raises
    ------
    ConfigError
        When ``cutoff`` is not a valid ``YYYY-MM-DD`` date.
    """
    out = dict(extracts)
    if cutoff is None:
        return out, {}
    cut = cutoff_timestamp(cutoff)
    removed: dict[str, int] = {}
    for name, frame in extracts.items():
        rule = cutoff_rule(frame.columns)
        if rule is None:
            continue
        kind, column = rule
        keep = frame[column] <= (cut.year if kind == "year" else cut)
        n_removed = int((~keep).sum())
        if n_removed or not _default_index(frame):
            frame = frame.loc[keep].reset_index(drop=True)
        if kind == "spell":
            late = frame["end_date"].isna() | (frame["end_date"] > cut)
            removed[f"{name}_truncated"] = int(late.sum())
            if late.any():
                frame = frame.assign(end_date=frame["end_date"].where(~late, cut))
        removed[name] = n_removed
        out[name] = frame
    return out, removed


# --------------------------------------------------------------------------- child-years and open cases
