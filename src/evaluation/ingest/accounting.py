"""Row accounting: for every extract, rows read = rows accepted + rows quarantined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.errors import EvaluationError

#: Columns of the row accounting table, in order.
ACCOUNTING_COLUMNS = ["extract", "file", "rows_read", "rows_accepted", "rows_quarantined"]


def accounting_row(extract: str, file: str, rows_read: int, rows_accepted: int, rows_quarantined: int) -> dict:
    """Return one row of the accounting table after checking that the rows add up.

    Parameters
    ----------
    extract
        Extract name.
    file
        File name it was read from.
    rows_read
        Data rows in the file.
    rows_accepted
        Rows written to the clean output.
    rows_quarantined
        Rows written to the quarantine file.

    Returns
    -------
    dict
        The row, keyed by :data:`ACCOUNTING_COLUMNS`.

    Raises
    ------
    EvaluationError
        If ``rows_read != rows_accepted + rows_quarantined`` (a bug: rows were lost or duplicated).
    """
    if rows_read != rows_accepted + rows_quarantined:
        raise EvaluationError(
            f"{file}: row accounting does not add up: {rows_read} rows read, {rows_accepted} accepted, "
            f"{rows_quarantined} quarantined. This is a bug in ingestion; please report it."
        )
    return dict(zip(ACCOUNTING_COLUMNS, [extract, file, rows_read, rows_accepted, rows_quarantined], strict=True))


def accounting_table(rows: list[dict]) -> pd.DataFrame:
    """Return the accounting table, sorted by extract.

    Parameters
    ----------
    rows
        Rows from :func:`accounting_row`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACCOUNTING_COLUMNS`; the counts are ``int64``.
    """
    table = pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
    table = table.astype(
        {"extract": "str", "file": "str", "rows_read": "int64", "rows_accepted": "int64", "rows_quarantined": "int64"}
    )
    return table.sort_values("extract", kind="stable").reset_index(drop=True)


def write_accounting(table: pd.DataFrame, path: Path) -> None:
    """Write the accounting table as CSV (UTF-8, ``,``, no index)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, lineterminator="\n")
