"""Ingestion: read registry extracts, validate them against the data contract, pseudonymise, account for rows.

The public entry points are :func:`read_extract`, :func:`validate_folder`,
:func:`ingest_folder` and :func:`load_key`; see ``docs/data-contract.md`` for
the contract itself.

API page: Data contract and ingestion (`evaluation.contract`, `evaluation.steps.ingest`)
----------------------------------------------------------------------------------
```python
from evaluation.contract import EXTRACTS            # name -> Extract (columns, codes, key)
from evaluation.contract.schemas import schema_for  # pandera schema of an extract
from evaluation.steps.ingest import read_extract, validate_folder, ingest_folder, load_key
report = validate_folder(raw_dir, on_invalid="quarantine", max_quarantined_share=None, delivery_date=None)
report.ok; report.would_stop; print(report.render())   # would_stop: the pipeline would stop on this folder
ingest_folder(raw_dir, out_dir, on_invalid="stop" | "quarantine", quarantine_dir=..., accounting_path=..., key=...,
              max_quarantined_share=None, delivery_date=None)  # row accounting counts exact duplicates dropped
```
"""

from evaluation.steps.ingest.pipeline import ingest_folder
from evaluation.steps.ingest.pseudonymise import SYNTHETIC_KEY, load_key
from evaluation.steps.ingest.report import ExtractReport, ValidationReport, validate_folder
from evaluation.steps.ingest.validate import read_extract

__all__ = [
    "SYNTHETIC_KEY",
    "ExtractReport",
    "ValidationReport",
    "ingest_folder",
    "load_key",
    "read_extract",
    "validate_folder",
]
