"""Cut the synthetic registry down to a study's extracts, as a Statistics Denmark project database delivers them.

A research project receives the registers for its own years and municipalities: the population of the
chosen municipalities in the chosen years, the events dated in those years, and every spell, measure or
employment that was open at some time in the period, *with its real end date*, also when that date is
after the period (it was still open at the end of the period), or missing. :func:`study_extracts` makes
such a delivery from a folder written by :func:`evaluation.steps.simulate.simulate` (CSV or Parquet), so that a
small study, such as Herning alone over a few municipalities, can be run and tested end to end.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from evaluation.contract import EXTRACTS
from evaluation.errors import EvaluationError

__all__ = ["study_extracts"]

#: Extract -> its date column (events in the period are kept), or (start, end) for spells open in the period.
_DATES: dict[str, str | tuple[str, str]] = {
    "underretninger": "DATO",
    "forebyggende": ("STARTDATO", "SLUTDATO"),
    "anbringelser_forloeb": ("STARTDATO", "SLUTDATO"),
    "anbringelser_haendelser": "HAENDDATO",
    "sagshaendelser": "DATO",
    "sagsbehandlere": "MAANED",
}


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="latin-1")


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep=";", index=False, encoding="latin-1", lineterminator="\n")


def _dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values.replace("", None), errors="coerce", dayfirst=True, format="mixed")


def study_extracts(
    source: Path, dest: Path, municipalities: Iterable[int], first_year: int, last_year: int
) -> dict[str, int]:
    """Write the extracts of a study of ``municipalities`` over ``first_year``-``last_year`` into ``dest``.

    Parameters
    ----------
    source
        A folder of the synthetic registry (``evaluation simulate``), CSV or Parquet.
    dest
        The folder to write the study's extracts to (same format and names).
    municipalities
        Municipality codes of the study.
    first_year, last_year
        The study period.

    Returns
    -------
    dict
        Rows written per extract.
    """
    koms = {int(k) for k in municipalities}
    start, end = pd.Timestamp(f"{first_year}-01-01"), pd.Timestamp(f"{last_year}-12-31")
    dest.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    frames: dict[str, tuple[pd.DataFrame, Path]] = {}
    for name in EXTRACTS:
        files = sorted(p for p in source.glob(f"{name}.*") if p.suffix in (".csv", ".parquet"))
        if not files:
            raise EvaluationError(f"{source} has no extract {name}")
        frames[name] = (_read(files[0]), files[0])

    def in_koms(frame: pd.DataFrame) -> pd.Series:
        return pd.to_numeric(frame["KOM"], errors="coerce").isin(koms)

    def in_years(frame: pd.DataFrame) -> pd.Series:
        return pd.to_numeric(frame["AAR"], errors="coerce").between(first_year, last_year)

    population = frames["befolkning"][0]
    population = population[in_koms(population) & in_years(population)]
    children = set(population["PNR"].astype(str))
    parents = set(population["MOR_ID"].astype(str)) | set(population["FAR_ID"].astype(str))
    for name, (frame, path) in frames.items():
        keep = pd.Series(True, index=frame.index)
        if "KOM" in frame.columns:
            keep &= in_koms(frame)
        if "AAR" in frame.columns:
            keep &= in_years(frame)
        if name == "udfald":
            keep &= frame["PNR"].astype(str).isin(children)
        if name == "foraeldre":
            keep &= frame["PNR"].astype(str).isin(parents)
        dates = _DATES.get(name)
        if isinstance(dates, str):
            keep &= _dates(frame[dates]).between(start, end)
        elif dates is not None:
            began, ended = _dates(frame[dates[0]]), _dates(frame[dates[1]])
            keep &= (began <= end) & (ended.isna() | (ended >= start))
        part = population if name == "befolkning" else frame[keep]
        _write(part, dest / path.name)
        written[name] = len(part)
    return written
