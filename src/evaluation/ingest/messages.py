"""Readable messages for problems in extracts, with person identifiers redacted.

A problem line reads ``file, row R, column C: reason [rule]``. Person
identifiers are redacted (first two characters kept): messages end up in logs
and on screens, and a raw CPR number must not.
"""

from __future__ import annotations

import pandas as pd

from evaluation.contract.extracts import Column

#: Code lists longer than this are summarised in messages.
MAX_CODES_SHOWN = 12


def redact(text: pd.Series) -> pd.Series:
    """Redact identifiers for messages: keep the first two characters, star the rest.

    Parameters
    ----------
    text
        Identifier values as text.

    Returns
    -------
    pandas.Series
        ``'0505121001'`` becomes ``'05********'``.
    """
    text = text.fillna("").astype("str")
    stars = text.str.len().sub(2).clip(lower=0).map(lambda n: "*" * int(n))
    return (text.str.slice(0, 2) + stars).astype("str")


def describe_codes(column: Column) -> str:
    """Describe a column's allowed codes for a message: ``1 dreng/mand, 2 pige/kvinde``.

    Long code lists (such as the 98 municipalities) are summarised.
    """
    codes = column.codes or {}
    if len(codes) > MAX_CODES_SHOWN:
        first = ", ".join(f"{k} {v}" for k, v in list(codes.items())[:3])
        return f"the {len(codes)} codes of the contract, e.g. {first}, ...; see docs/data-contract.md"
    return ", ".join(f"{k} {v}" for k, v in codes.items())


def format_problems(file: str, problems: pd.DataFrame, limit: int | None = None) -> list[str]:
    """Format problems as readable lines: ``file, row R, column C: reason [rule]``.

    Parameters
    ----------
    file
        File name shown at the start of each line.
    problems
        A problem table.
    limit
        Format at most this many (the first by row); ``None`` for all.

    Returns
    -------
    list of str
        One line per problem.
    """
    shown = problems if limit is None else problems.head(limit)
    lines = []
    for row, column, rule, reason in shown[["_row", "column", "rule", "reason"]].itertuples(index=False):
        where = f"row {row}" if column == "*" else f"row {row}, column {column}"
        lines.append(f"{file}, {where}: {reason} [{rule}]")
    return lines


def problems_message(file: str, problems: pd.DataFrame, limit: int = 5) -> str:
    """Return a message for an exception: the first ``limit`` problems and how many more there are."""
    lines = format_problems(file, problems, limit)
    more = len(problems) - len(lines)
    n_rows = problems["_row"].nunique()
    head = f"{file}: {len(problems)} problem(s) in {n_rows} row(s) break the data contract (docs/data-contract.md):"
    tail = [f"... and {more} more"] if more > 0 else []
    return "\n".join([head, *("  " + line for line in lines), *("  " + t for t in tail)])
