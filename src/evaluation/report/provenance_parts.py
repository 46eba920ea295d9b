"""The provenance appendix: tables and values from ``results/provenance.json`` and ``run_info.json``.

The words of :func:`provenance_variables` are in ``reports/_text/<language>/provenance.yml`` (:data:`WORDS`),
read by the caller (:func:`evaluation.report.sentences.read_sentences`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evaluation.report.labels import label

#: the file of the words ("none", "not recorded"), in ``reports/_text/<language>/``
WORDS = "provenance.yml"


def inputs_table(provenance: dict[str, Any], *, language: str = "da") -> pd.DataFrame:
    """List every input file with its SHA-256.

    Parameters
    ----------
    provenance : dict
        ``results/provenance.json``.
    language : {"da", "en"}, default "da"
        Column labels.

    Returns
    -------
    pandas.DataFrame
        Display strings, sorted by file.
    """
    inputs = dict(sorted(provenance.get("inputs", {}).items()))
    return pd.DataFrame(
        {
            label("column", "file", language): [f"`{name}`" for name in inputs],
            label("column", "sha256", language): [f"`{digest}`" for digest in inputs.values()],
        }
    )


def packages_table(provenance: dict[str, Any], *, language: str = "da") -> pd.DataFrame:
    """List the versions of Python and the key packages."""
    packages = dict(sorted(provenance.get("packages", {}).items()))
    return pd.DataFrame(
        {
            label("column", "package", language): list(packages),
            label("column", "version", language): [str(v) for v in packages.values()],
        }
    )


def provenance_variables(
    provenance: dict[str, Any],
    run_info: dict[str, Any] | None,
    *,
    sentences: Mapping[str, str],
    release: str | None = None,
) -> dict[str, str]:
    """Values of the provenance appendix: code version, hashes, seeds and run date.

    Parameters
    ----------
    provenance : dict
        ``results/provenance.json``.
    run_info : dict or None
        ``results/run_info.json`` (the run date, kept out of the byte-identical results).
    sentences : mapping
        The words of :data:`WORDS` in the report's language (:func:`evaluation.report.sentences.read_sentences`).
    release : str, optional
        The release the report is rendered from (``study.json``), naming the folder of its ``config.yaml``.

    Returns
    -------
    dict of str to str
        ``prov_code_version``, ``prov_config_sha256``, ``prov_inputs_sha256``,
        ``prov_n_inputs``, ``prov_seeds``, ``prov_run_date``, ``prov_config_file``.
    """
    seeds = provenance.get("seeds", {})
    return {
        "prov_code_version": str(provenance.get("code_version", sentences["not_recorded"])),
        "prov_config_sha256": str(provenance.get("config_sha256", sentences["not_recorded"])),
        "prov_inputs_sha256": str(provenance.get("inputs_sha256", sentences["not_recorded"])),
        "prov_n_inputs": str(len(provenance.get("inputs", {}))),
        "prov_seeds": ", ".join(f"`{k}` = {v}" for k, v in sorted(seeds.items())) or sentences["none"],
        "prov_run_date": str((run_info or {}).get("run_date", sentences["not_recorded"])),
        "prov_config_file": f"results/{release}/config.yaml" if release else "results/config.yaml",
    }
