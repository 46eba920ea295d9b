"""Ingestion: read registry extracts, validate them against the data contract, pseudonymise, account for rows.

The public entry points are :func:`read_extract`, :func:`validate_folder`,
:func:`ingest_folder` and :func:`load_key`; see ``docs/data-contract.md`` for
the contract itself.
"""

from evaluation.ingest.pipeline import ingest_folder
from evaluation.ingest.pseudonymise import SYNTHETIC_KEY, load_key
from evaluation.ingest.report import ExtractReport, ValidationReport, validate_folder
from evaluation.ingest.validate import read_extract

__all__ = [
    "SYNTHETIC_KEY",
    "ExtractReport",
    "ValidationReport",
    "ingest_folder",
    "load_key",
    "read_extract",
    "validate_folder",
]
