"""Readable messages for problems in extracts, with person identifiers redacted.

A problem line reads ``file, row R, column C: reason [rule]; fix: what to do``.
Every rule of the data contract, with what it checks and its fix, is listed
once in :data:`RULES`; ``docs/data-contract.md`` shows that table. Person
identifiers are redacted (first two characters kept): messages end up in logs
and on screens, and a raw CPR number must not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluation.contract.extracts import Column
from evaluation.steps.ingest.crossfield import MAX_AGE, MIN_AMOUNT

#: Code lists longer than this are summarised in messages.
MAX_CODES_SHOWN = 12
#: Problems shown per extract in the message that stops ingestion over the quarantine budget.
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Rule:
    """A rule of the data contract.

    Attributes
    ----------
    checks
        What the rule checks, as a phrase for the rule table.
    fix
        What to do about a row or file that breaks it (``{column}`` is replaced by the column).
    row_level
        Whether a row that breaks it is a row problem (quarantined, or stops with
        ``data.on_invalid_row: stop``); otherwise it concerns the whole file or run.
    """

    checks: str
    fix: str
    row_level: bool = True


#: Every rule, in the order of the rule table of ``docs/data-contract.md``.
RULES: dict[str, Rule] = {
    "missing_column": Rule(
        "a column the contract requires is not in the file (names are compared ignoring case); stops ingestion",
        "add the column to the extract, or rename the file's column to the contract's name",
        row_level=False,
    ),
    "fields": Rule(
        "a line has another number of fields than the header (a truncated line, or a delimiter inside an "
        "unquoted value)",
        "quote values that contain the delimiter, or export the extract again so that every line is complete",
    ),
    "type": Rule(
        "a value cannot be read as the column's type (a whole number, a number or text)",
        "correct the value of {column}: digits only, without thousands separators (a decimal comma only in "
        "';'-delimited files), or an empty field where the column may be missing",
    ),
    "date": Rule(
        "a value is not a valid date, or is written in another format than the column's first value",
        "write every date of {column} in one format (YYYY-MM-DD, DD-MM-YYYY, DD.MM.YYYY or DDMMMYYYY) and "
        "correct impossible dates such as 31-02-2013",
    ),
    "missing": Rule(
        "a value is missing in a column that may not be missing",
        "fill in {column}; only the columns marked 'may be missing' may be empty",
    ),
    "code": Rule(
        "a value is not one of the column's codes",
        "recode {column} to one of the contract's codes (docs/data-contract.md lists them)",
    ),
    "range": Rule(
        "a value is outside the column's allowed range",
        "correct the value of {column} (check its unit, for example DKK or DKK 1,000)",
    ),
    "person_id": Rule(
        "a person identifier is neither CPR-like (DDMMYY and four digits) nor a DST pseudonym (6-64 letters and "
        "digits)",
        "write {column} as text with its leading zeros (CPR-like, or DST's pseudonymised PNR)",
    ),
    "duplicate_key": Rule(
        "rows share the extract's key but differ in another column; all of them are set aside",
        "keep the one right row for the key and remove the others",
    ),
    "duplicate_row": Rule(
        "a row is an exact copy of an earlier row: one copy is kept and the others are dropped and counted "
        "in rows_duplicate_dropped (not a problem: the run goes on)",
        "nothing is needed; remove the copies from the extract to silence the warning",
        row_level=False,
    ),
    "end_before_start": Rule(
        "a spell or an employment ends (SLUTDATO, ANSAT_SLUT) before it starts",
        "correct the first or the last day (were they swapped?)",
    ),
    "overlap": Rule(
        "a placement spell of a child starts before the child's earlier spell has ended",
        "end the earlier spell the day before the later one starts (or on that day for a change of placement), "
        "or merge the two spells",
    ),
    "future_date": Rule(
        "a date is after the delivery date of the extract (data.delivery_date; null: the date of the run)",
        "correct the date; if the extract was delivered later than data.delivery_date, set the real delivery date",
    ),
    "after_period": Rule(
        "a start, event or month date is after the end of the extract period (31 December of the last year in "
        "befolkning); a last day after the period end is valid (right-censoring) and is accepted",
        "remove rows of years after the period from the extract, or add those years to befolkning",
    ),
    "birth_after_year": Rule(
        "in befolkning, the birth date is after the year of the row",
        "correct the birth date (FOED_DAG) or the year (AAR)",
    ),
    "age": Rule(
        f"in befolkning, the person is older than {MAX_AGE} on 1 January of the row's year",
        f"correct the birth date (FOED_DAG), or leave persons older than {MAX_AGE} out of the extract",
    ),
    "implausible_amount": Rule(
        f"in regnskab, net expenditure below {MIN_AMOUNT:,.0f} (DKK 1,000): a sign error or a wrong unit",
        "check the sign and the unit of BELOEB (DKK 1,000)",
    ),
    "budget": Rule(
        "with data.on_invalid_row: quarantine, more than data.max_quarantined_share of an extract's rows "
        "would be quarantined; stops ingestion and prints the counts by rule and column",
        "fix the rules that account for most rows (usually a whole column in a wrong format), or raise "
        "data.max_quarantined_share once you have checked that those rows may be set aside",
        row_level=False,
    ),
}


def rule_fix(rule: str, column: str = "") -> str:
    """Return the fix of a rule for a problem in ``column``.

    Parameters
    ----------
    rule
        A key of :data:`RULES`.
    column
        The column (DST name) of the problem; ``*`` or ``""`` for a whole row or the rule in general
        (the fix then says "the column").

    Returns
    -------
    str
        The fix, or ``"see docs/data-contract.md"`` for an unknown rule.
    """
    known = RULES.get(rule)
    if known is None:
        return "see docs/data-contract.md"
    shown = column if column and column != "*" else "the column"
    return known.fix.replace("{column}", shown)


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
    """Format problems as readable lines: ``file, row R, column C: reason [rule]; fix: ...``.

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
        lines.append(f"{file}, {where}: {reason} [{rule}]; fix: {rule_fix(rule, column)}")
    return lines


def problems_message(file: str, problems: pd.DataFrame, limit: int = 5) -> str:
    """Return a message for an exception: the first ``limit`` problems and how many more there are.

    Parameters
    ----------
    file
        File name shown in each line.
    problems
        A problem table.
    limit
        Problems shown before ``... and N more``.

    Returns
    -------
    str
        A heading line, then one indented line per problem shown.
    """
    lines = format_problems(file, problems, limit)
    more = len(problems) - len(lines)
    n_rows = problems["_row"].nunique()
    head = f"{file}: {len(problems)} problem(s) in {n_rows} row(s) break the data contract (docs/data-contract.md):"
    tail = [f"... and {more} more"] if more > 0 else []
    return "\n".join([head, *("  " + line for line in lines), *("  " + t for t in tail)])


def problem_counts(problems: pd.DataFrame) -> pd.DataFrame:
    """Count the rows each rule and column sets aside.

    Parameters
    ----------
    problems
        A problem table.

    Returns
    -------
    pandas.DataFrame
        ``rule, column, rows`` (distinct rows), most rows first, then by rule and column.
    """
    if problems.empty:
        return pd.DataFrame({"rule": pd.Series(dtype="str"), "column": pd.Series(dtype="str"), "rows": []})
    counts = problems.groupby(["rule", "column"], sort=True)["_row"].nunique().rename("rows").reset_index()
    counts = counts.sort_values(["rows", "rule", "column"], ascending=[False, True, True], kind="stable")
    return counts.reset_index(drop=True)


def budget_lines(
    file: str, problems: pd.DataFrame, rows_read: int, max_share: float, *, examples: bool = True
) -> list[str]:
    """Describe an extract over the quarantine budget: its share, the counts by rule and column, examples.

    Parameters
    ----------
    file
        File name.
    problems
        The extract's problem table.
    rows_read
        Rows read from the file.
    max_share
        ``data.max_quarantined_share``.
    examples
        Whether to add the first :data:`MAX_EXAMPLES` problems.

    Returns
    -------
    list of str
        Lines without indentation of their own (the first is the summary; the others start with two spaces).
    """
    n_rows = int(problems["_row"].nunique())
    share = n_rows / rows_read if rows_read else 1.0
    lines = [
        f"{file}: {n_rows:,} of {rows_read:,} rows ({share:.2%}) would be quarantined, more than "
        f"data.max_quarantined_share = {max_share:g} ({max_share:.2%}) allows. Rows by rule and column:"
    ]
    for rule, column, rows in problem_counts(problems).itertuples(index=False):
        where = "whole line" if column == "*" else f"column {column}"
        lines.append(f"  [{rule}] {where}: {int(rows):,} row(s); fix: {rule_fix(rule, column)}")
    if examples:
        lines.append("  First problems:")
        lines += [f"    {line}" for line in format_problems(file, problems, MAX_EXAMPLES)]
    return lines


def budget_advice() -> str:
    """Return the closing advice of a message about the quarantine budget."""
    return (
        "Fix the extract(s) (the fix of every rule is in docs/data-contract.md), or, once you have checked that "
        "these rows may be set aside, raise data.max_quarantined_share in the study config."
    )


def duplicate_warning(duplicates: pd.DataFrame, limit: int = 5) -> str:
    """Describe the exact duplicate rows dropped from an extract.

    Parameters
    ----------
    duplicates
        ``_row`` (the dropped copy) and ``copy_of`` (the row kept), sorted by ``_row``.
    limit
        Pairs named before ``...``.

    Returns
    -------
    str
        One sentence for the warnings of an extract.
    """
    pairs = [f"row {r} repeats row {c}" for r, c in duplicates.head(limit).itertuples(index=False)]
    more = ", ..." if len(duplicates) > limit else ""
    return (
        f"{len(duplicates):,} exact duplicate row(s) dropped, one copy of each kept ({', '.join(pairs)}{more}); "
        "they are counted in rows_duplicate_dropped [duplicate_row]; fix: " + rule_fix("duplicate_row")
    )
