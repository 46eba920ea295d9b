"""Reading and writing intermediate tables, with fixed options so that identical frames give identical bytes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.contract.results import header_problem
from evaluation.errors import ExtractError

#: Rows per Parquet row group (pyarrow's default, pinned: the row groups are part of the bytes written).
ROW_GROUP_ROWS = 1024 * 1024

#: The Parquet writer's options, pinned so that identical tables give identical bytes.
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "2.0",
    "version": "2.6",
}


#: The one number format of the results tables (:func:`write_csv`): twelve significant digits. Fixed decimals
#: would write a small p-value or weight as 0.000000 and a count as 1843.000000; twelve significant digits keep
#: both, write Danish kroner up to a trillion in plain digits, and a ratio of an exact fit (about 1e15) as 1e+15.
CSV_FLOAT_FORMAT = "%.12g"


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a results table as CSV, the one way every step writes one, so that identical frames give identical bytes.

    UTF-8, Unix line ends, no index, numbers in :data:`CSV_FLOAT_FORMAT`, missing values as empty fields;
    parent folders are created. Suppression happens before (:func:`evaluation.disclosure.below_threshold`).
    A file declared in :data:`evaluation.contract.results.RESULTS_FILES` must have exactly its declared
    columns, in their order.

    Parameters
    ----------
    df
        The table.
    path
        Output file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``path`` is a declared results file and ``df``'s columns differ from the declaration (a
        producer and the registry disagree: a bug, named in the message).
    """
    path = Path(path)
    problem = header_problem(path, list(df.columns))
    if problem is not None:
        raise ValueError(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format=CSV_FLOAT_FORMAT)
    return path


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
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS, **WRITER_OPTIONS)


#: Rows of the pieces in which :func:`pandas.read_parquet` (pyarrow's dataset scanner, ``batch_size``) hands
#: each row group's text columns to pandas; pandas keeps text in those pieces, and a column written in pieces
#: is paged otherwise than one written whole (:func:`text_in_read_pieces`).
READ_PIECE_ROWS = 131_072


def text_in_read_pieces(table: pa.Table) -> pa.Table:
    """Return a row group read from Parquet with its text columns in the pieces pandas would hold them in.

    :func:`write_table` of a frame that :func:`pandas.read_parquet` read writes the frame's number and
    date columns whole, but its text columns piece by piece, in pieces of :data:`READ_PIECE_ROWS` rows
    of each row group read; the Parquet writer cuts pages and gives up dictionaries at the pieces'
    ends. So that a row group passed through unchanged (:func:`write_parts` with ``text_pieces``)
    gets the bytes of that read-and-write, its text columns are cut into those pieces (no copy).
    """
    columns = []
    for column in table.columns:
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            starts = range(0, len(column), READ_PIECE_ROWS)
            column = pa.chunked_array([column.slice(start, READ_PIECE_ROWS) for start in starts], type=column.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def write_parts(parts: Iterable[pa.Table], schema: pa.Schema, path: Path, *, text_pieces: bool = False) -> int:
    """Write Arrow tables one after another into one Parquet file, as :func:`write_table` writes their concatenation.

    The parts are gathered into row groups of :data:`ROW_GROUP_ROWS` rows, each written as one
    contiguous table, so the file has the bytes :func:`write_table` gives for the frame of all parts
    (when ``schema`` is that frame's Arrow schema, pandas metadata included), while only about one
    row group is held in memory.

    Parameters
    ----------
    parts
        Tables of ``schema``, in order (any number of rows each, none at all included).
    schema
        The file's schema.
    path
        Output file; parent folders are created.
    text_pieces
        Keep the pieces of the parts' text columns (:func:`text_in_read_pieces`) instead of making
        every column contiguous: the bytes :func:`write_table` gives for a frame that
        :func:`pandas.read_parquet` read, when the parts are its row groups in those pieces.

    Returns
    -------
    int
        Rows written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(path, schema, **WRITER_OPTIONS) as writer:
        for group in _row_groups(parts, schema, text_pieces=text_pieces):
            writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
            written += group.num_rows
    return written


def _contiguous(table: pa.Table, text_pieces: bool) -> pa.Table:
    """Return ``table`` with each column in one piece (text columns left in theirs with ``text_pieces``)."""
    if not text_pieces:
        return table.combine_chunks()
    columns = [
        column if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else column.combine_chunks()
        for column in table.columns
    ]
    return pa.Table.from_arrays(columns, schema=table.schema)


def _row_groups(parts: Iterable[pa.Table], schema: pa.Schema, *, text_pieces: bool = False) -> Iterator[pa.Table]:
    """Regroup ``parts`` into tables of :data:`ROW_GROUP_ROWS` rows (the last may be shorter or empty)."""
    pending: list[pa.Table] = []
    rows = 0
    emitted = False
    for part in parts:
        if part.num_rows == 0:
            continue
        pending.append(part)
        rows += part.num_rows
        while rows >= ROW_GROUP_ROWS:
            whole = pa.concat_tables(pending)
            yield _contiguous(whole.slice(0, ROW_GROUP_ROWS), text_pieces)
            emitted = True
            rest = whole.slice(ROW_GROUP_ROWS)
            pending, rows = ([rest] if rest.num_rows else []), rest.num_rows
    if rows or not emitted:  # an empty file still holds one empty row group, as write_table writes it
        yield _contiguous(pa.concat_tables(pending) if pending else schema.empty_table(), text_pieces)


def read_extracts(
    folder: Path,
    names: Iterable[str],
    *,
    step: str,
    columns: Mapping[str, Sequence[str]] | None = None,
    filters: Mapping[str, Sequence[tuple[str, str, Any]]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the ingested (or cut) extracts ``<name>.parquet`` of ``folder``, or the columns and rows a step needs.

    Parameters
    ----------
    folder
        Folder of the extracts (``data/interim/ingest`` or ``data/interim/cut``).
    names
        Extract names to read.
    step
        The step that needs them, named in the error message.
    columns
        Columns to read of some extracts, in this order (an extract not named here is read whole).
    filters
        Rows to read of some extracts, as ``filters`` of :func:`pandas.read_parquet` (for example
        ``{"befolkning": [("year", "<", 2013)]}``); the other rows are never converted.

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
        wanted = (columns or {}).get(name)
        rows = (filters or {}).get(name)
        out[name] = pd.read_parquet(
            path, columns=None if wanted is None else list(wanted), filters=None if rows is None else list(rows)
        )
    return out


class ExtractFiles(Mapping[str, pd.DataFrame]):
    """The extracts of a folder as a mapping that reads an extract each time it is asked for, and keeps nothing.

    A step that takes its extracts from a mapping, one after another, then holds only the ones it is
    using: the frame of an extract is freed once the step lets go of it.

    Parameters
    ----------
    folder
        Folder of the extracts (``<name>.parquet``).
    names
        The extracts of the mapping.
    step
        The step that reads them, named in the error message.
    columns
        Columns to read of some extracts (:func:`read_extracts`).

    Raises
    ------
    ExtractError
        When a file is missing (checked when the mapping is made, before anything is read).
    """

    def __init__(
        self,
        folder: Path,
        names: Iterable[str],
        *,
        step: str,
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.names = tuple(names)
        self.step = step
        self.columns = dict(columns or {})
        for name in self.names:
            path = self.folder / f"{name}.parquet"
            if not path.is_file():
                raise ExtractError(
                    f"{path} not found: the {step} step needs the ingested extract '{name}'; run the ingest step first."
                )

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Read the extract ``name``."""
        if name not in self.names:
            raise KeyError(name)
        return read_extracts(self.folder, (name,), step=self.step, columns=self.columns)[name]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the names of the extracts."""
        return iter(self.names)

    def __len__(self) -> int:
        """Return the number of extracts."""
        return len(self.names)
