"""The data contract: every extract, every column, its type, unit, codes and meaning.

This module is the single source of truth for what an extract must look like.
The pandera schemas (:mod:`evaluation.contract.schemas`), the ingestion step,
the synthetic registry and ``docs/data-contract.md`` are all derived from it.

Column names in the extracts are Statistics Denmark style (``PNR``, ``KOM``,
``FOED_DAG``); ingestion renames them to the readable ``field`` names that the
rest of the code uses (``person_id``, ``municipality``, ``birth_date``).

Types
-----
``string``
    Text. Identifiers are strings so that leading zeros survive.
``int``
    Whole number.
``float``
    Number; CSV extracts may use a decimal comma.
``date``
    Calendar date; CSV extracts may write ISO ``2013-01-31``, ``31-01-2013``,
    ``31.01.2013`` or SAS ``31JAN2013``.
``code``
    Whole number or text drawn from the column's code list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from evaluation.contract import codes as C
from evaluation.contract.codes import Codes

DType = Literal["string", "int", "float", "date", "code"]
Identifier = Literal["person", "record"]

#: Danish CPR-like person number: DDMMYY followed by four digits.
CPR_PATTERN = r"^(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}[0-9]{4}$"
#: A pseudonymised DST person id: digits or hex, 6-64 characters.
PSEUDONYM_PATTERN = r"^[0-9A-Za-z]{6,64}$"


@dataclass(frozen=True)
class Column:
    """One column of an extract.

    Attributes
    ----------
    name
        Name in the extract (DST style, upper case).
    field
        Readable name after ingestion.
    dtype
        One of ``string``, ``int``, ``float``, ``date``, ``code``.
    meaning
        What the column holds, in one sentence.
    unit
        Unit of measurement, or ``""``.
    codes
        Allowed values and their labels, for ``code`` columns.
    minimum, maximum
        Allowed range for numbers, inclusive.
    nullable
        Whether the value may be missing.
    identifier
        ``"person"`` for identifiers of persons (pseudonymised at ingestion),
        ``"record"`` for identifiers of records; ``None`` otherwise.
    """

    name: str
    field: str
    dtype: DType
    meaning: str
    unit: str = ""
    codes: Codes | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    identifier: Identifier | None = None


@dataclass(frozen=True)
class Extract:
    """One extract (one file) of the registry.

    Attributes
    ----------
    name
        File stem: the extract is ``<name>.csv``, ``<name>.parquet``,
        ``<name>.dta``, ``<name>.sas7bdat`` or ``<name>.xpt``.
    title
        Danish title.
    description
        What one row is and where the data come from.
    columns
        The columns, in order.
    key
        Columns (extract names) that identify a row uniquely.
    """

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called ``name`` (extract name)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Extract column names, in order."""
        return [c.name for c in self.columns]

    @property
    def renames(self) -> dict[str, str]:
        """Mapping from extract names to readable field names."""
        return {c.name: c.field for c in self.columns}


def _pnr(meaning: str, name: str = "PNR", field_: str = "person_id", nullable: bool = False) -> Column:
    return Column(name, field_, "string", meaning, nullable=nullable, identifier="person")


def _kom(meaning: str = "Municipality responsible (kommunekode).") -> Column:
    return Column("KOM", "municipality", "code", meaning, codes=C.MUNICIPALITY)


YEAR_MIN, YEAR_MAX = 1990, 2040

POPULATION = Extract(
    name="befolkning",
    title="Befolkningen (BEF)",
    description=("One row per child aged 0-17 and calendar year, status on 1 January. Like DST's BEF register."),
    columns=(
        Column("AAR", "year", "int", "Calendar year of the status.", "year", minimum=YEAR_MIN, maximum=YEAR_MAX),
        _pnr("Person number of the child (CPR-like, or DST's pseudonymised PNR)."),
        Column("KOEN", "sex", "code", "Sex.", codes=C.SEX),
        Column("FOED_DAG", "birth_date", "date", "Date of birth."),
        _kom("Municipality of residence on 1 January."),
        _pnr("Person number of the mother.", "MOR_ID", "mother_id", nullable=True),
        _pnr("Person number of the father.", "FAR_ID", "father_id", nullable=True),
        Column("FAMILIE_ID", "family_id", "string", "Family identifier.", identifier="person"),
        Column("IE_TYPE", "origin", "code", "Origin (immigrant or descendant status).", codes=C.ORIGIN),
    ),
    key=("AAR", "PNR"),
)

PARENTS = Extract(
    name="foraeldre",
    title="Forældres socioøkonomi",
    description="One row per parent and calendar year: education, income and socio-economic status.",
    columns=(
        Column("AAR", "year", "int", "Calendar year.", "year", minimum=YEAR_MIN, maximum=YEAR_MAX),
        _pnr("Person number of the parent."),
        Column("HFAUDD_NIV", "education_level", "code", "Highest completed education, level.", codes=C.EDUCATION_LEVEL),
        Column(
            "PERINDKIALT",
            "income",
            "float",
            "Total personal income in the year, current prices.",
            "DKK",
            minimum=-1e7,
            maximum=1e9,
        ),
        Column("SOCIO13", "socio_status", "code", "Socio-economic status (subset of SOCIO13).", codes=C.SOCIO_STATUS),
    ),
    key=("AAR", "PNR"),
)

NOTIFICATIONS = Extract(
    name="underretninger",
    title="Underretninger",
    description="One row per notification (underretning) about a child.",
    columns=(
        Column("UNDERRETNING_ID", "notification_id", "string", "Notification identifier.", identifier="record"),
        _pnr("Person number of the child."),
        Column("DATO", "date", "date", "Date the notification was received."),
        _kom("Municipality that received the notification."),
        Column("ANMELDER", "notifier", "code", "Who notified.", codes=C.NOTIFIER),
        Column("AARSAG", "reason", "code", "Main reason given.", codes=C.NOTIFICATION_REASON),
    ),
    key=("UNDERRETNING_ID",),
)

PREVENTIVE = Extract(
    name="forebyggende",
    title="Forebyggende foranstaltninger",
    description="One row per spell of a preventive measure (Serviceloven §52 stk. 3 / Barnets Lov §32).",
    columns=(
        Column("FORLOEB_ID", "spell_id", "string", "Spell identifier.", identifier="record"),
        _pnr("Person number of the child."),
        _kom("Acting municipality."),
        Column("FORANST", "measure", "code", "Type of measure (§52 stk. 3 nr.).", codes=C.PREVENTIVE_MEASURE),
        Column("STARTDATO", "start_date", "date", "First day of the spell."),
        Column("SLUTDATO", "end_date", "date", "Last day of the spell; missing while ongoing.", nullable=True),
    ),
    key=("FORLOEB_ID",),
)

PLACEMENT_SPELLS = Extract(
    name="anbringelser_forloeb",
    title="Anbringelser, forløb",
    description="One row per placement spell: one continuous stay at one placement type.",
    columns=(
        Column("FORLOEB_ID", "spell_id", "string", "Spell identifier.", identifier="record"),
        _pnr("Person number of the child."),
        _kom("Acting municipality."),
        Column("ANBSTED", "placement_type", "code", "Placement type (anbringelsessted).", codes=C.PLACEMENT_TYPE),
        Column("RETSGRUNDLAG", "legal_basis", "code", "Legal basis.", codes=C.LEGAL_BASIS),
        Column("STARTDATO", "start_date", "date", "First day of the spell."),
        Column("SLUTDATO", "end_date", "date", "Last day of the spell; missing while ongoing.", nullable=True),
        Column(
            "SAMMENBRUD",
            "breakdown",
            "code",
            "The spell ended in an unplanned breakdown (1) or not (0).",
            codes={0: "nej", 1: "ja"},
        ),
        Column(
            "UDSTED",
            "exit_destination",
            "code",
            "Where the child went when the placement ended.",
            codes=C.EXIT_DESTINATION,
            nullable=True,
        ),
    ),
    key=("FORLOEB_ID",),
)

PLACEMENT_EVENTS = Extract(
    name="anbringelser_haendelser",
    title="Anbringelser, hændelser",
    description="One row per placement event (start, change, change of legal basis, end, aftercare).",
    columns=(
        _pnr("Person number of the child."),
        _kom("Acting municipality."),
        Column("HAENDDATO", "event_date", "date", "Date of the event."),
        Column("HAENDELSE", "event", "code", "Event.", codes=C.PLACEMENT_EVENT),
        Column("ANBSTED", "placement_type", "code", "Placement type after the event.", codes=C.PLACEMENT_TYPE),
        Column("RETSGRUNDLAG", "legal_basis", "code", "Legal basis after the event.", codes=C.LEGAL_BASIS),
        Column(
            "UDSTED",
            "exit_destination",
            "code",
            "Exit destination (end events only).",
            codes=C.EXIT_DESTINATION,
            nullable=True,
        ),
        *(
            Column(
                f"UDSLAG{i}",
                f"reason_{i}",
                "code",
                f"Reason {i} for the placement applies (1) or not (0); reasons are not mutually exclusive.",
                codes={0: "nej", 1: "ja"},
            )
            for i in range(1, 19)
        ),
    ),
    key=("PNR", "HAENDDATO", "HAENDELSE"),
)

CASE_EVENTS = Extract(
    name="sagshaendelser",
    title="Sagshændelser",
    description=(
        "One row per case event recorded in the municipal case-management system "
        "(DUBU, Nexus, SBSYS), harmonised to one code list."
    ),
    columns=(
        Column("HAENDELSE_ID", "event_id", "string", "Event identifier.", identifier="record"),
        _pnr("Person number of the child."),
        _kom("Municipality."),
        Column("DATO", "date", "date", "Date of the event."),
        Column("HAENDELSE", "event_type", "code", "Type of case event.", codes=C.CASE_EVENT),
        Column(
            "SAGSBEHANDLER_ID", "caseworker_id", "string", "Caseworker responsible.", nullable=True, identifier="person"
        ),
        Column(
            "UNDERRETNING_ID",
            "notification_id",
            "string",
            "Notification the event answers (screenings only).",
            nullable=True,
            identifier="record",
        ),
    ),
    key=("HAENDELSE_ID",),
)

CASEWORKERS = Extract(
    name="sagsbehandlere",
    title="Sagsbehandlere",
    description="One row per caseworker and month in the children and families services.",
    columns=(
        Column("SAGSBEHANDLER_ID", "caseworker_id", "string", "Caseworker identifier.", identifier="person"),
        _kom("Employing municipality."),
        Column("TEAM", "team", "string", "Team or unit within the municipality."),
        Column("MAANED", "month", "date", "Month (first day of the month)."),
        Column(
            "AARSVAERK", "fte", "float", "Full-time equivalents worked in the month.", "FTE", minimum=0, maximum=1.5
        ),
        Column(
            "AKTIVE_SAGER",
            "active_cases",
            "int",
            "Open child cases held at the end of the month.",
            "cases",
            minimum=0,
            maximum=200,
        ),
        Column("ANSAT_START", "employed_from", "date", "First day of employment."),
        Column("ANSAT_SLUT", "employed_to", "date", "Last day of employment; missing while employed.", nullable=True),
    ),
    key=("SAGSBEHANDLER_ID", "MAANED"),
)

OUTCOMES = Extract(
    name="udfald",
    title="Udfaldsmål",
    description="One row per child, year and outcome measure (long format).",
    columns=(
        _pnr("Person number of the child."),
        Column("AAR", "year", "int", "Calendar year of the measurement.", "year", minimum=YEAR_MIN, maximum=YEAR_MAX),
        Column("MAAL", "measure", "code", "Outcome measure.", codes=C.OUTCOME_MEASURE),
        Column("VAERDI", "value", "float", "Value, in the unit of the measure.", minimum=-3, maximum=100),
    ),
    key=("PNR", "AAR", "MAAL"),
)

ACCOUNTS = Extract(
    name="regnskab",
    title="Kommunale regnskaber, hovedfunktion 5.28",
    description="One row per municipality, year and account function (net operating expenditure).",
    columns=(
        _kom("Municipality."),
        Column("AAR", "year", "int", "Financial year.", "year", minimum=YEAR_MIN, maximum=YEAR_MAX),
        Column("FUNKTION", "function", "code", "Account function.", codes=C.ACCOUNT_FUNCTION),
        Column(
            "BELOEB",
            "amount",
            "float",
            "Net operating expenditure, current prices.",
            "DKK 1,000",
            minimum=-1e8,
            maximum=1e8,
        ),
    ),
    key=("KOM", "AAR", "FUNKTION"),
)

MUNICIPALITIES = Extract(
    name="kommuner",
    title="Kommuner",
    description="One row per municipality: the 98 municipalities since the 2007 reform.",
    columns=(
        Column("KOM", "municipality", "code", "Municipality code.", codes=C.MUNICIPALITY),
        Column("KOMNAVN", "name", "string", "Municipality name."),
        Column("REGION", "region", "code", "Region code.", codes=C.REGION),
    ),
    key=("KOM",),
)

#: All extracts of the contract, in the order of the documentation.
EXTRACTS: dict[str, Extract] = {
    e.name: e
    for e in (
        POPULATION,
        PARENTS,
        NOTIFICATIONS,
        PREVENTIVE,
        PLACEMENT_SPELLS,
        PLACEMENT_EVENTS,
        CASE_EVENTS,
        CASEWORKERS,
        OUTCOMES,
        ACCOUNTS,
        MUNICIPALITIES,
    )
}
