"""Short column names for SAS transport files (XPORT version 5), whose names have at most 8 characters.

SAS writes a version 5 transport file (``.xpt``, the format of ``libname ... xport``
and of ``%loc2xpt(format=v5)``) only when every variable name has at most 8
characters, and refuses longer names. Many columns of the contract are longer
(``SAGSBEHANDLER_ID``), so an extract exported that way carries short names.
:data:`XPORT_ALIASES` says which short name stands for which column of the
contract. The rule is simple: the first 8 characters of the contract's name,
except where two columns of one extract would then share a name
(``HAENDELSE_ID`` and ``HAENDELSE`` in ``sagshaendelser``). Names of 8
characters or fewer are used as they are. The table is the same for every
extract: a short name means one column wherever it occurs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from evaluation.contract.extracts import Extract
from evaluation.errors import ExtractValidationError

#: The longest variable name a SAS transport file of version 5 can hold.
XPORT_NAME_LENGTH = 8

#: Short name in a SAS transport (version 5) file -> the contract's (DST) column name.
XPORT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "FAMILIE_": "FAMILIE_ID",
        "HFAUDD_N": "HFAUDD_NIV",
        "PERINDKI": "PERINDKIALT",
        "UNDERRET": "UNDERRETNING_ID",
        "FORLOEB_": "FORLOEB_ID",
        "STARTDAT": "STARTDATO",
        "RETSGRUN": "RETSGRUNDLAG",
        "SAMMENBR": "SAMMENBRUD",
        "HAENDDAT": "HAENDDATO",
        "HAENDELS": "HAENDELSE",
        "HAEND_ID": "HAENDELSE_ID",
        "SAGSBEHA": "SAGSBEHANDLER_ID",
        "AARSVAER": "AARSVAERK",
        "AKTIVE_S": "AKTIVE_SAGER",
        "ANSAT_ST": "ANSAT_START",
        "ANSAT_SL": "ANSAT_SLUT",
    }
)

_SHORT_NAME = MappingProxyType({long: short for short, long in XPORT_ALIASES.items()})


def xport_name(name: str) -> str:
    """Return the name a column of the contract has in a SAS transport file of version 5.

    Parameters
    ----------
    name
        The contract's (DST) column name, for example ``SAGSBEHANDLER_ID``.

    Returns
    -------
    str
        The short name of :data:`XPORT_ALIASES` (``SAGSBEHA``), or ``name`` itself
        when it has at most :data:`XPORT_NAME_LENGTH` characters.

    Raises
    ------
    KeyError
        If ``name`` is longer than 8 characters and the table has no short name for it.
    """
    if len(name) <= XPORT_NAME_LENGTH:
        return name
    return _SHORT_NAME[name]


def xport_contract_name(name: str) -> str | None:
    """Return the contract's column name that a short name of a transport file stands for.

    Parameters
    ----------
    name
        A variable name found in a ``.xpt`` file (compared ignoring case and
        surrounding blanks).

    Returns
    -------
    str or None
        The contract's (DST) column name, or ``None`` when :data:`XPORT_ALIASES`
        has no entry for ``name``.
    """
    return XPORT_ALIASES.get(str(name).strip().upper())


def xport_renames(found: Sequence[str], extract: Extract, file: str) -> dict[str, str]:
    """Translate the short variable names of a SAS transport file to the contract's column names.

    A name that is a column of the contract (ignoring case) is kept. Any other
    name is looked up in :data:`XPORT_ALIASES` and renamed when it stands for a
    column of ``extract``.

    Parameters
    ----------
    found
        Variable names in the file.
    extract
        The extract the file holds.
    file
        File name, for messages.

    Returns
    -------
    dict
        Short name in the file -> the contract's (DST) column name, for the names translated.

    Raises
    ------
    ExtractValidationError
        If a column of the contract is still missing: the message names the
        missing columns with their short names, the variables found that match
        nothing, and the alias table to extend.
    """
    wanted = {name.upper(): name for name in extract.names}
    renames: dict[str, str] = {}
    present: set[str] = set()
    unmatched: list[str] = []
    for col in found:
        key = str(col).strip().upper()
        if key in wanted:
            present.add(wanted[key])
            continue
        target = xport_contract_name(key)
        if target is not None and target in extract.names:
            renames[str(col)] = target
            present.add(target)
        else:
            unmatched.append(str(col))
    missing = [name for name in extract.names if name not in present]
    if missing:
        expected = ", ".join(
            f"{name} (as {xport_name(name)})" if len(name) > XPORT_NAME_LENGTH else name for name in missing
        )
        raise ExtractValidationError(
            f"{file}: required column(s) missing: {expected}. Variables found: {', '.join(str(c) for c in found)}."
            + (f" Of these, {', '.join(unmatched)} match no column of {extract.name}." if unmatched else "")
            + f" A SAS transport file of version 5 holds names of at most {XPORT_NAME_LENGTH} characters; they are "
            "read with the alias table evaluation.contract.aliases.XPORT_ALIASES. Rename the variables to the "
            "names in brackets before the export, or add your names to XPORT_ALIASES."
        )
    return renames
