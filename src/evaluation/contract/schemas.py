"""Pandera schemas derived from the data contract.

:func:`schema_for` turns an :class:`~evaluation.contract.extracts.Extract` into a
:class:`pandera.pandas.DataFrameSchema` that checks a *typed* frame with the
extract's own (DST-style) column names: the frame that
:func:`evaluation.steps.ingest.read_extract` returns. Types are checked as the pandas
dtypes of :func:`pandas_dtype`; allowed codes, ranges, missing values, the
CPR-or-pseudonym rule for person identifiers and the uniqueness of the key are
checks. Each check carries a rule name (see :func:`column_rules`) so that
ingestion can turn pandera's failure cases into its own messages.
"""

from __future__ import annotations

import pandera.pandas as pa

from evaluation.contract.extracts import CPR_PATTERN, PSEUDONYM_PATTERN, Column, Extract

#: A person identifier must be CPR-like or an already pseudonymised DST id.
PERSON_ID_PATTERN = f"(?:{CPR_PATTERN})|(?:{PSEUDONYM_PATTERN})"

#: Rule names used in validation messages and quarantine files.
RULES: dict[str, str] = {
    "missing_column": "a required column is missing",
    "fields": "the line has the wrong number of fields",
    "type": "the value has the wrong type",
    "date": "the value is not a valid date",
    "missing": "the value is missing but the column is required",
    "code": "the value is not an allowed code",
    "range": "the value is outside the allowed range",
    "person_id": "a person identifier is neither CPR-like nor a DST pseudonym",
    "duplicate_key": "the key of the row is not unique",
}


def code_keys_are_text(column: Column) -> bool:
    """Return whether a ``code`` column's code list has text keys (``"SDQ"``) rather than numbers.

    Parameters
    ----------
    column
        A column of the contract.

    Returns
    -------
    bool
        ``True`` when every key of the code list is a string.
    """
    return column.codes is not None and all(isinstance(k, str) for k in column.codes)


def pandas_dtype(column: Column, *, final: bool = False) -> str:
    """Return the pandas dtype a column has after ingestion.

    Parameters
    ----------
    column
        A column of the contract.
    final
        ``False`` (default): the dtype of the typed frame during validation,
        where every whole-number column is the nullable ``Int64`` (a value that
        did not convert is missing). ``True``: the dtype written to the clean
        Parquet file, where whole numbers that may not be missing are ``int64``.

    Returns
    -------
    str
        ``"str"``, ``"Int64"``, ``"int64"``, ``"float64"`` or ``"datetime64[ms]"``.
    """
    if column.dtype == "string" or (column.dtype == "code" and code_keys_are_text(column)):
        return "str"
    if column.dtype in ("int", "code"):
        return "int64" if final and not column.nullable else "Int64"
    if column.dtype == "float":
        return "float64"
    if column.dtype == "date":
        return "datetime64[ms]"
    raise ValueError(f"unknown dtype {column.dtype!r} of column {column.name}")


def column_rules(column: Column) -> list[str]:
    """Return the rule names of a column's checks, in the order :func:`schema_for` adds them.

    Parameters
    ----------
    column
        A column of the contract.

    Returns
    -------
    list of str
        Rule names (keys of :data:`RULES`); pandera's ``check_number`` indexes this list.
    """
    rules = []
    if column.codes is not None:
        rules.append("code")
    if column.minimum is not None or column.maximum is not None:
        rules.append("range")
    if column.identifier == "person":
        rules.append("person_id")
    return rules


def _checks(column: Column) -> list[pa.Check]:
    checks = []
    for rule in column_rules(column):
        if rule == "code":
            checks.append(pa.Check.isin(list(column.codes or {})))
        elif rule == "range":
            if column.minimum is not None and column.maximum is not None:
                checks.append(pa.Check.in_range(column.minimum, column.maximum))
            elif column.minimum is not None:
                checks.append(pa.Check.ge(column.minimum))
            else:
                checks.append(pa.Check.le(column.maximum))
        elif rule == "person_id":
            checks.append(pa.Check.str_matches(PERSON_ID_PATTERN))
    return checks


def schema_for(extract: Extract, *, final: bool = False, unique_key: bool = True) -> pa.DataFrameSchema:
    """Return the pandera schema of an extract, on its DST column names.

    Parameters
    ----------
    extract
        The extract of the contract.
    final
        Use the dtypes of the clean output (see :func:`pandas_dtype`) instead of
        those of the typed frame during validation.
    unique_key
        Check that the key is unique. Ingestion validates an extract in batches of rows and checks the
        key once over all of them.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Columns with dtype, ``nullable`` and checks (codes, range, person id);
        the extract's key as ``unique`` (with ``unique_key``). Other columns (such as ``_row``) are
        allowed (``strict=False``); the columns must be present.

    Examples
    --------
    >>> from evaluation.contract import EXTRACTS
    >>> schema = schema_for(EXTRACTS["kommuner"])
    >>> sorted(schema.columns)
    ['KOM', 'KOMNAVN', 'REGION']
    """
    columns = {
        col.name: pa.Column(
            pandas_dtype(col, final=final),
            checks=_checks(col),
            nullable=col.nullable,
            required=True,
            description=col.meaning,
        )
        for col in extract.columns
    }
    return pa.DataFrameSchema(
        columns,
        unique=(list(extract.key) or None) if unique_key else None,
        strict=False,
        name=extract.name,
        description=extract.description,
    )
