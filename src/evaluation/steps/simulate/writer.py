"""Write extracts as Parquet or as registry-style CSV, and small JSON/CSV side files, byte-reproducibly.

Parquet: one file per extract, pyarrow, zstd, fixed options, no pandas metadata;
dates ``date32``, whole numbers ``int64`` (with nulls where the contract allows),
text as ``string``. CSV: as it would arrive from a registry: ``;`` separator,
decimal comma, latin-1, dates ``DD-MM-YYYY``, missing values empty, a header line,
newline (LF) line endings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation.contract.extracts import Extract

CSV_CHUNK_ROWS = 1_000_000


def arrow_type(extract: Extract, name: str) -> pa.DataType:
    """Arrow type of a contract column (codes with text values are strings, other codes int64)."""
    col = extract.column(name)
    if col.dtype == "code":
        return pa.string() if col.codes and isinstance(next(iter(col.codes)), str) else pa.int64()
    return {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32()}[col.dtype]


def to_table(extract: Extract, columns: Mapping[str, Any]) -> pa.Table:
    """Build the extract's table in contract order from arrays (numpy or arrow).

    Parameters
    ----------
    extract
        The contract's extract.
    columns
        Column name to values; NaT / masked values become nulls.

    Returns
    -------
    pyarrow.Table
        The typed table.
    """
    arrays = []
    for name in extract.names:
        values = columns[name]
        typ = arrow_type(extract, name)
        if isinstance(values, pa.Array | pa.ChunkedArray):
            arr = values.cast(typ)
        elif typ == pa.date32():
            v = np.asarray(values).astype("datetime64[D]")
            arr = pa.array(v.astype(np.int64).astype(np.int32), mask=np.isnat(v), type=pa.int32()).view(pa.date32())
        else:
            arr = pa.array(values, type=typ)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=extract.names)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` to Parquet with fixed options."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=False,
        write_statistics=True,
        row_group_size=1_000_000,
        store_schema=False,
    )


def _csv_strings(col: pa.Array) -> pa.Array:
    t = col.type
    if pa.types.is_date(t):
        s = pc.strftime(col.cast(pa.timestamp("s")), format="%d-%m-%Y")
    elif pa.types.is_floating(t):
        s = pc.replace_substring(pc.cast(col, pa.string()), ".", ",")
    else:
        s = pc.cast(col, pa.string())
    return pc.fill_null(s, "")


def write_csv(table: pa.Table, path: Path) -> None:
    """Write ``table`` as a registry-style CSV (module docstring).

    Raises
    ------
    UnicodeEncodeError
        When a value cannot be written in latin-1 (never for the synthetic registry).
    """
    with open(path, "wb") as fh:
        fh.write((";".join(table.column_names) + "\n").encode("latin-1"))
        for start in range(0, table.num_rows, CSV_CHUNK_ROWS):
            part = table.slice(start, CSV_CHUNK_ROWS).combine_chunks()
            cols = [_csv_strings(part.column(i).combine_chunks()) for i in range(part.num_columns)]
            joined = cols[0] if len(cols) == 1 else pc.binary_join_element_wise(*cols, ";")
            lines = pc.binary_join_element_wise(joined, pa.array(["\n"] * part.num_rows, pa.string()), "")
            fh.write("".join(lines.to_pylist()).encode("latin-1"))


def _fmt(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"non-finite number {v!r} cannot be written to JSON")
        return float(f"{v:.6g}") if abs(v) < 1e-3 else round(v, 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _fmt(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fmt(v) for v in value]
    return value


def write_json(obj: Mapping[str, Any], path: Path) -> None:
    """Write ``obj`` as JSON with sorted keys, two-space indent and floats rounded to 6 decimals."""
    Path(path).write_text(json.dumps(_fmt(obj), sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
