"""Row accounting: for every extract, rows read = rows accepted + rows quarantined + duplicate rows dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError, EvaluationError
from evaluation.io import write_csv

#: Columns of the row accounting table, in order.
ACCOUNTING_COLUMNS = columns_of("results/ingest/row_accounting.csv")
#: The count columns of the accounting table (numbers of file rows, not persons).
COUNT_COLUMNS = ACCOUNTING_COLUMNS[2:]


def accounting_row(
    extract: str,
    file: str,
    rows_read: int,
    rows_accepted: int,
    rows_quarantined: int,
    rows_duplicate_dropped: int = 0,
) -> dict:
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
    rows_duplicate_dropped
        Exact copies of an earlier row, dropped (the first copy is accepted or quarantined like any row).

    Returns
    -------
    dict
        The row, keyed by :data:`ACCOUNTING_COLUMNS`.

    Raises
    ------
    EvaluationError
        If ``rows_read != rows_accepted + rows_quarantined + rows_duplicate_dropped`` (a bug: rows were
        lost or counted twice).
    """
    if rows_read != rows_accepted + rows_quarantined + rows_duplicate_dropped:
        raise EvaluationError(
            f"{file}: row accounting does not add up: {rows_read} rows read, {rows_accepted} accepted, "
            f"{rows_quarantined} quarantined, {rows_duplicate_dropped} duplicate rows dropped. "
            "This is a bug in ingestion; please report it."
        )
    values = [extract, file, rows_read, rows_accepted, rows_quarantined, rows_duplicate_dropped]
    return dict(zip(ACCOUNTING_COLUMNS, values, strict=True))


def check_budget_option(max_quarantined_share: float | None) -> None:
    """Check ``data.max_quarantined_share`` at the boundary.

    Parameters
    ----------
    max_quarantined_share
        A share in [0, 1], or ``None`` for no budget.

    Raises
    ------
    ConfigError
        If it is not a number in [0, 1].
    """
    if max_quarantined_share is None:
        return
    if isinstance(max_quarantined_share, bool) or not isinstance(max_quarantined_share, int | float):
        raise ConfigError(f"data.max_quarantined_share must be a number, not {max_quarantined_share!r}.")
    if not 0 <= max_quarantined_share <= 1:
        raise ConfigError(
            f"data.max_quarantined_share = {max_quarantined_share!r} must lie between 0 and 1 "
            "(a share of each extract's rows)."
        )


def exceeds_budget(rows_quarantined: int, rows_read: int, max_share: float | None) -> bool:
    """Return whether an extract sets aside more of its rows than the quarantine budget allows.

    Parameters
    ----------
    rows_quarantined
        Rows quarantined.
    rows_read
        Rows read from the file (duplicate rows included).
    max_share
        ``data.max_quarantined_share``; ``None``: no budget.

    Returns
    -------
    bool
        ``rows_quarantined / rows_read > max_share``.
    """
    if max_share is None or rows_quarantined == 0:
        return False
    return rows_quarantined > max_share * rows_read


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
    table = table.astype({"extract": "str", "file": "str", **dict.fromkeys(COUNT_COLUMNS, "int64")})
    return table.sort_values("extract", kind="stable").reset_index(drop=True)


def write_accounting(table: pd.DataFrame, path: Path) -> None:
    """Write the accounting table as CSV (UTF-8, ``,``, no index).

    Parameters
    ----------
    table
        From :func:`accounting_table`.
    path
        The CSV file; its folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, path)
