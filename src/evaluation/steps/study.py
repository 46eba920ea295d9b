"""The study's metadata for the report: design, data source and provenance."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation import __version__
from evaluation.config import config_digest, effective_cutoff, setting
from evaluation.contract.codes import MUNICIPALITY
from evaluation.scope import read_scope


def last_data_year(config: Mapping[str, Any]) -> int:
    """Return the last year with data in the analysis: the data's last year, or the cut-off's year when earlier.

    The cut-off is the release's (:func:`evaluation.config.effective_cutoff`): none in the final release.
    """
    last_year, cutoff = read_scope(config).last_year, effective_cutoff(config)
    return min(last_year, int(str(cutoff)[:4])) if cutoff else last_year


def study_metadata(config: Mapping[str, Any]) -> dict[str, Any]:
    """Collect what the report says about the study, from the validated config.

    Returns
    -------
    dict
        Title, publisher, data source, scale and seed (synthetic data), years
        of the data (the last is the cut-off's year when the cut-off comes first), cut-off,
        the treated municipalities with adoption years, the municipalities in the data
        (``municipalities``, ``n_municipalities``, ``whole_country``), the disclosure
        threshold and provenance (config digest, package version). Nothing here
        depends on the time of the run, so reruns give the same bytes.
    """
    syn, rep = config["synthetic"], config["report"]
    scope = read_scope(config)
    adoptions = {int(k): int(v) for k, v in config["treatment"]["adoptions"].items()}
    synthetic = config["data"]["source"] == "synthetic"
    return {
        "title": rep["title"],
        "subtitle": rep["subtitle"],
        "language": rep["language"],
        "publisher": rep["publisher"],
        "project_number": rep["project_number"],
        "year_published": rep["year_published"] or scope.last_year + 1,
        "source": config["data"]["source"],
        "scale": syn["scale"] if synthetic else None,
        "seed": syn["seed"] if synthetic else None,
        "first_year": scope.first_year,
        "last_year": last_data_year(config),
        "cutoff_date": effective_cutoff(config),
        "release": rep.get("release"),
        "treated": [
            {"municipality": kom, "name": MUNICIPALITY[kom], "adoption_year": year}
            for kom, year in sorted(adoptions.items(), key=lambda kv: (kv[1], kv[0]))
        ],
        "n_municipalities": len(scope.municipalities),
        "municipalities": list(scope.municipalities),
        "whole_country": scope.whole_country,
        "config_sha256": config_digest(config),
        "package_version": __version__,
        "min_cell": config["disclosure"]["min_cell"],
        "min_treated_municipalities": int(setting(config, "estimation", "min_treated_municipalities")),
    }


def write_study(config: Mapping[str, Any], path: str | Path) -> None:
    """Write :func:`study_metadata` as JSON (sorted keys, UTF-8) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(study_metadata(config), ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
