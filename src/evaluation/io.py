"""Reading and writing intermediate tables, with fixed options so that identical frames give identical bytes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.errors import ExtractError


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to Parquet with pinned writer options, so that identical frames give identical bytes.

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
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        data_page_version="2.0",
        version="2.6",
    )


def read_extracts(folder: Path, names: Iterable[str], *, step: str) -> dict[str, pd.DataFrame]:
    """Read the ingested (or cut) extracts ``<name>.parquet`` of ``folder``.

    Parameters
    ----------
    folder
        Folder of the extracts (``data/interim/ingest`` or ``data/interim/cut``).
    names
        Extract names to read.
    step
        The step that needs them, named in the error message.

    Raises
    ------
    ExtractError
        When a file is missing (run the ingest step first).
    """
    out = {}
    for name in names:
        path = Path(folder) / f"{name}.parquet"
        if not path.is_file():
            raise ExtractError(
                f"{path} not found: the {step} step needs the ingested extract '{name}'; run the ingest step first."
            )
        out[name] = pd.read_parquet(path)
    return out
