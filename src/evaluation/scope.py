"""The study's scope: its years and municipalities, read from the data, and the design checked against them.

A study on real extracts covers the years and municipalities of its population extract (``befolkning``:
``AAR`` and ``KOM``), not the synthetic registry's 2010-2023 and 98 municipalities. The pipeline reads the
scope once, before it plans its jobs (the factsheets it renders depend on it), and checks the design
against it: every adopter must be in the data, adopt after the first year (so that it has a year before
adoption) and no later than the last, and every factsheet municipality must be in the data. A municipality
of the default six-city factsheets (:data:`SIX_CITIES`) that is absent is skipped with a note; any other
problem stops the run with one message that names every problem.

On the synthetic registry the scope is ``synthetic.first_year`` to ``synthetic.last_year`` and all 98
municipalities (the simulator writes every municipality).

Reading the population extract's two columns takes seconds even at national scale; the result is cached
in ``data/interim/scope.json`` under a signature of the files (path, size, modification time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import setting
from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import ConfigError, ExtractError

__all__ = ["SIX_CITIES", "StudyScope", "check_design", "factsheet_municipalities", "read_scope", "study_scope"]

#: The six largest cities (domain brief: København, Aarhus, Odense, Aalborg, Esbjerg, Randers), whose
#: factsheets the default design renders beside the adopters'.
SIX_CITIES: tuple[int, ...] = (101, 751, 461, 851, 561, 730)
#: Where the scope of an extracts study is cached, relative to the project root.
CACHE = Path("data/interim/scope.json")


@dataclass(frozen=True)
class StudyScope:
    """The years and municipalities a study's data cover.

    Attributes
    ----------
    first_year, last_year : int
        The first and last calendar year of the population extract.
    municipalities : tuple of int
        The municipality codes with children in the population extract, sorted.
    source : str
        ``"synthetic"`` or ``"extracts"``.
    """

    first_year: int
    last_year: int
    municipalities: tuple[int, ...]
    source: str

    @property
    def whole_country(self) -> bool:
        """Whether every one of the 98 municipalities is in the data."""
        return set(MUNICIPALITY) <= set(self.municipalities)

    def to_dict(self) -> dict[str, Any]:
        """Return the scope as a JSON-ready dict (the form kept in the config under ``scope``)."""
        out = asdict(self)
        out["municipalities"] = list(self.municipalities)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudyScope:
        """Build a scope from :meth:`to_dict`'s form."""
        return cls(
            int(data["first_year"]),
            int(data["last_year"]),
            tuple(int(m) for m in data["municipalities"]),
            str(data["source"]),
        )


def _synthetic_scope(config: Mapping[str, Any]) -> StudyScope:
    return StudyScope(
        int(setting(config, "synthetic", "first_year")),
        int(setting(config, "synthetic", "last_year")),
        tuple(sorted(MUNICIPALITY)),
        "synthetic",
    )


def read_scope(config: Mapping[str, Any]) -> StudyScope:
    """Return the scope a step runs with: the config's ``scope`` (set by the workflow), else the synthetic one."""
    if config.get("scope"):
        return StudyScope.from_dict(config["scope"])
    return _synthetic_scope(config)


def _population_columns(path: Path) -> pd.DataFrame:
    """Read ``AAR`` and ``KOM`` of one population extract file as numbers (unreadable values become NaN)."""
    from evaluation.contract import EXTRACTS
    from evaluation.steps.ingest.readers import read_raw

    wanted = ["AAR", "KOM"]
    ext = path.suffix.lower().lstrip(".")
    if ext == "parquet":
        import pyarrow.parquet as pq

        names = [n for n in pq.read_schema(path).names if n.upper() in wanted]
        frame = pq.read_table(path, columns=names).to_pandas()
    else:
        frame = read_raw(path, EXTRACTS["befolkning"]).frame
    frame = frame.rename(columns=lambda c: str(c).upper())  # the contract matches names ignoring case
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ExtractError(f"{path.name}: the population extract has no column {', '.join(missing)}")
    return pd.DataFrame({c: pd.to_numeric(frame[c].astype("string").str.strip(), errors="coerce") for c in wanted})


def _signature(paths: list[Path]) -> list[list[Any]]:
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths]


def _extracts_scope(raw_dir: Path, cache: Path | None) -> StudyScope:
    from evaluation.contract import EXTRACTS
    from evaluation.steps.ingest.readers import find_extract_files

    found, _ = find_extract_files(raw_dir, {"befolkning": EXTRACTS["befolkning"]})
    paths = sorted(found.get("befolkning", []))
    if not paths:
        raise ExtractError(
            f"no population extract (befolkning) in {raw_dir}: the study's years and municipalities come from it"
        )
    signature = _signature(paths)
    if cache is not None and cache.exists():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("files") == signature:
            return StudyScope.from_dict(stored["scope"])
    frame = pd.concat([_population_columns(p) for p in paths], ignore_index=True)
    years = frame["AAR"].dropna()
    years = years[(years == np.floor(years)) & years.between(1900, 2100)].astype(int)
    koms = frame["KOM"].dropna()
    koms = sorted({int(k) for k in koms[koms == np.floor(koms)] if int(k) in MUNICIPALITY})
    if years.empty or not koms:
        raise ExtractError(f"the population extract in {raw_dir} has no valid year (AAR) or municipality (KOM)")
    scope = StudyScope(int(years.min()), int(years.max()), tuple(koms), "extracts")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"files": signature, "scope": scope.to_dict()}, indent=1, sort_keys=True)
        cache.write_text(text + "\n", encoding="utf-8")
    return scope


def study_scope(config: Mapping[str, Any], *, root: Path = Path("."), cache: bool = True) -> StudyScope:
    """Return the study's scope: from the population extract (``data.source: extracts``), else the synthetic one.

    Parameters
    ----------
    config
        The validated configuration.
    root
        The project root (``data.raw_dir`` and the cache are relative to it).
    cache
        Whether to keep the scope in ``data/interim/scope.json`` for the next run.

    Raises
    ------
    ExtractError
        When the raw folder has no readable population extract.
    """
    if config["data"]["source"] == "synthetic":
        return _synthetic_scope(config)
    return _extracts_scope(root / config["data"]["raw_dir"], root / CACHE if cache else None)


def _name(code: int) -> str:
    return f"{code} ({MUNICIPALITY[code]})" if code in MUNICIPALITY else str(code)


def factsheet_municipalities(config: Mapping[str, Any], scope: StudyScope) -> list[int]:
    """Return the municipalities that get a factsheet: every adopter and ``report.factsheets``, if in the data."""
    codes = {int(k) for k in config["treatment"]["adoptions"]} | {int(k) for k in config["report"]["factsheets"]}
    return sorted(codes & set(scope.municipalities))


def check_design(config: Mapping[str, Any], scope: StudyScope) -> list[str]:
    """Check the adopters and factsheets against the data; return notes on skipped six-city factsheets.

    Raises
    ------
    ConfigError
        One message naming every adopter or factsheet municipality that is not in the data, and every
        adoption year outside the study period.
    """
    present = set(scope.municipalities)
    problems, notes = [], []
    period = f"{scope.first_year}-{scope.last_year}"
    where = "the data" if scope.source == "extracts" else "the synthetic registry"
    for code, year in sorted((int(k), int(v)) for k, v in config["treatment"]["adoptions"].items()):
        if code not in present:
            problems.append(f"treatment.adoptions: {_name(code)} is not in {where}")
        elif not scope.first_year < year <= scope.last_year:
            problems.append(
                f"treatment.adoptions.{code} = {year} is outside the study period {period}: an adopter needs a "
                "year before adoption in the data, so the adoption year must lie in "
                f"{scope.first_year + 1}-{scope.last_year}"
            )
    for code in sorted({int(k) for k in config["report"]["factsheets"]} - present):
        if code in SIX_CITIES:
            notes.append(f"report.factsheets: {_name(code)} is not in {where}; its factsheet is skipped")
        else:
            problems.append(f"report.factsheets: {_name(code)} is not in {where}")
    if problems:
        listed = ", ".join(str(m) for m in scope.municipalities)
        raise ConfigError(
            "The design does not fit the data:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\n{where.capitalize()} cover the years {period} and {len(present)} municipalities: {listed}. "
            "Change treatment.adoptions or report.factsheets in the study file, or check data.raw_dir."
        )
    return notes
