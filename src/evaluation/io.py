"""Writing intermediate tables with fixed options, so that identical frames give identical bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to Parquet with fixed options, so that identical frames give identical bytes.

    Parameters
    ----------
    df
        The frame (its index is not written).
    path
        Output file; parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True)
