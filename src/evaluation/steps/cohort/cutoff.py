"""The data cut-off as a pipeline step: each extract file cut once, a row group at a time.

:func:`evaluation.steps.cohort.timing.apply_cutoff` states the cut-off on data frames. The step
:func:`cut_extracts` applies the same rule (:func:`cut_table`, on Arrow tables) to the ingested
Parquet files, one file and one row group at a time, so that the largest extracts (the population
and its parents, tens of millions of rows nationally) are never held whole in memory: the written
files hold the bytes that reading the whole extract into pandas, cutting it and writing it with
:func:`evaluation.io.write_table` gives. An extract the cut-off leaves whole (no cut-off, or an
extract with no date or year column) is rewritten the same way, not copied: the step has always
written it as pandas read it, its text columns in the pieces :func:`pandas.read_parquet` makes
(:func:`evaluation.io.text_in_read_pieces`), and the Parquet writer pages a column written in pieces
otherwise than one written whole, so that a copy of the ingested file (whose columns ingestion builds
from its own batches of rows) holds the same data in other bytes. The cut extracts' rows are taken
out of their pieces (pandas' take), and are written whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation.contract.results import columns_of
from evaluation.errors import ExtractError
from evaluation.io import text_in_read_pieces, write_csv, write_parts
from evaluation.steps.cohort.timing import CutoffRule, cutoff_rule, cutoff_timestamp

__all__ = ["CUTOFF_ACCOUNTING_COLUMNS", "cut_extract_file", "cut_extracts", "cut_table"]

#: Columns of the cut-off's row accounting (one row per extract).
CUTOFF_ACCOUNTING_COLUMNS = columns_of("results/{release}/ingest/cutoff_accounting.csv")


def _scalar(value: object, column: pa.ChunkedArray) -> pa.Scalar:
    """Return ``value`` (a cut-off date or year) as a scalar of the column's type, for comparisons."""
    if pa.types.is_timestamp(column.type):
        return pa.scalar(pd.Timestamp(value).as_unit(column.type.unit), type=column.type)
    return pa.scalar(value).cast(column.type)


def cut_table(table: pa.Table, rule: CutoffRule, cut: pd.Timestamp) -> tuple[pa.Table, int, int]:
    """Apply the data cut-off to an Arrow table of one extract (the rule of :func:`apply_cutoff`).

    Parameters
    ----------
    table
        Rows of an extract (a row group, or the whole extract).
    rule
        :func:`evaluation.steps.cohort.timing.cutoff_rule` of the extract's columns.
    cut
        The cut-off date.

    Returns
    -------
    (pyarrow.Table, int, int)
        The rows kept (spells ending after the cut-off, or still open, end at it), the number of
        rows removed and the number of spells truncated. A missing date or year is after every
        cut-off, as the comparison of :func:`apply_cutoff` has it.
    """
    kind, column = rule
    values = table.column(column)
    keep = pc.less_equal(values, _scalar(cut.year if kind == "year" else cut, values))
    n_kept = int(pc.sum(keep).as_py() or 0)  # a missing comparison (a missing value) drops the row
    kept = table if n_kept == table.num_rows else table.filter(keep)
    removed = table.num_rows - n_kept
    truncated = 0
    if kind == "spell":
        end = kept.column("end_date")
        limit = _scalar(cut, end)
        late = pc.or_kleene(pc.is_null(end), pc.greater(end, limit))
        truncated = int(pc.sum(late).as_py() or 0)
        if truncated:
            index = kept.schema.get_field_index("end_date")
            kept = kept.set_column(index, kept.schema.field(index), pc.if_else(late, limit, end))
    return kept, removed, truncated


def cut_extract_file(source: Path, target: Path, cutoff: str | None) -> tuple[int, int, int, int]:
    """Write the extract ``source`` after the data cut-off to ``target``, one row group at a time.

    Parameters
    ----------
    source
        An ingested extract (Parquet, written by :func:`evaluation.io.write_table`).
    target
        The cut extract to write.
    cutoff
        ``YYYY-MM-DD``, or None (the extract is rewritten whole).

    Returns
    -------
    (int, int, int, int)
        Rows in, rows removed, spells truncated, rows out.

    Raises
    ------
    ConfigError
        When ``cutoff`` is not a valid date.
    """
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetFile(source) as file:
        rows_in = file.metadata.num_rows
        rule = cutoff_rule(file.schema_arrow.names) if cutoff is not None else None
        cut = cutoff_timestamp(cutoff) if rule is not None else None
        counts = {"removed": 0, "truncated": 0}

        def parts() -> Iterator[pa.Table]:
            for i in range(file.num_row_groups):
                table = file.read_row_group(i)
                if rule is None or cut is None:  # left whole: the row group as pandas would have read it
                    yield text_in_read_pieces(table)
                    continue
                kept, removed, truncated = cut_table(table, rule, cut)
                counts["removed"] += removed
                counts["truncated"] += truncated
                yield kept

        rows_out = write_parts(parts(), file.schema_arrow, target, text_pieces=rule is None or cut is None)
    return rows_in, counts["removed"], counts["truncated"], rows_out


def cut_extracts(
    ingest_dir: Path,
    cutoff: str | None,
    out_dir: Path,
    accounting_path: Path,
    progress: Callable[[str], None] = print,
) -> None:
    """Pipeline step: apply the data cut-off once, for every later step, and count what it removes.

    Every ingested extract ``<name>.parquet`` in ``ingest_dir`` is written to ``out_dir`` after
    the cut-off (:func:`cut_extract_file`; unchanged when ``cutoff`` is None), one extract and one
    row group at a time, and ``accounting_path`` gets one row per extract: ``extract, rows_in,
    rows_removed, rows_truncated, rows_out``, so no row disappears without being counted.

    Raises
    ------
    ExtractError
        When an extract of the data contract is missing from ``ingest_dir`` (run the ingest step first).
    ConfigError
        When ``cutoff`` is not a valid date.
    """
    from evaluation.contract import EXTRACTS

    if cutoff is not None:
        cutoff_timestamp(cutoff)  # a bad date stops the step before it writes anything
    rows = []
    for name in sorted(EXTRACTS):
        source = Path(ingest_dir) / f"{name}.parquet"
        if not source.is_file():
            raise ExtractError(
                f"{source} not found: the cohort step needs the ingested extract '{name}'; run the ingest step first."
            )
        rows.append((name, *cut_extract_file(source, Path(out_dir) / f"{name}.parquet", cutoff)))
    table = pd.DataFrame(rows, columns=CUTOFF_ACCOUNTING_COLUMNS)
    Path(accounting_path).parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, accounting_path)
    progress(
        f"cut-off {cutoff or 'none'}: {int(table['rows_removed'].sum()):,} records left out, "
        f"{int(table['rows_truncated'].sum()):,} spells truncated"
    )
