"""Code lists of the registers, with Danish labels.

Codes follow Statistics Denmark (DST) where domain.md gives them. Lists marked
*unverified* are this project's assumption of the real code list and must be
confirmed against DST's documentation (TIMES / variable lists) before real
extracts are read with them; they are kept here, in one place, so that the
check is one edit.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

Codes = Mapping[int | str, str]


def _frozen(d: dict[int | str, str]) -> Codes:
    return MappingProxyType(d)


def _load_municipalities() -> Codes:
    text = resources.files("evaluation.data").joinpath("municipalities.csv").read_text(encoding="utf-8")
    return MappingProxyType({int(row["KOM"]): row["KOMNAVN"] for row in csv.DictReader(text.splitlines())})


#: The 98 municipalities since the 2007 reform (kommunekode: name).
MUNICIPALITY: Codes = _load_municipalities()

SEX: Codes = _frozen({1: "dreng/mand", 2: "pige/kvinde"})

ORIGIN: Codes = _frozen({1: "dansk oprindelse", 2: "indvandrer", 3: "efterkommer"})

REGION: Codes = _frozen(
    {
        1081: "Region Nordjylland",
        1082: "Region Midtjylland",
        1083: "Region Syddanmark",
        1084: "Region Hovedstaden",
        1085: "Region Sjælland",
    }
)

#: Highest completed education, grouped to levels (DST's UDDA level of HFAUDD).
#: *unverified* grouping.
EDUCATION_LEVEL: Codes = _frozen(
    {
        10: "grundskole",
        20: "gymnasial uddannelse",
        30: "erhvervsfaglig uddannelse",
        40: "kort videregående uddannelse",
        50: "mellemlang videregående uddannelse",
        60: "lang videregående uddannelse",
        99: "uoplyst",
    }
)

#: Socio-economic status, a subset of DST's SOCIO13. *unverified* subset.
SOCIO_STATUS: Codes = _frozen(
    {
        110: "selvstændig",
        131: "lønmodtager, højeste niveau",
        132: "lønmodtager, mellemniveau",
        133: "lønmodtager, grundniveau",
        139: "lønmodtager, andet",
        210: "arbejdsløs",
        220: "midlertidigt uden for arbejdsstyrken",
        310: "under uddannelse",
        321: "førtidspensionist",
        420: "kontanthjælpsmodtager og øvrige uden for arbejdsstyrken",
    }
)

#: Who notified the municipality (underretter). Codes 1-13 and 99 as in
#: domain.md; the labels are *unverified*.
NOTIFIER: Codes = _frozen(
    {
        1: "skole",
        2: "dagtilbud",
        3: "sundhedsvæsen",
        4: "politi",
        5: "forældre",
        6: "barnet/den unge selv",
        7: "familie og netværk",
        8: "anden kommunal forvaltning",
        9: "sociale tilbud og institutioner",
        10: "tandpleje",
        11: "anden myndighed",
        12: "anonym",
        13: "anden kommune",
        99: "uoplyst",
    }
)

#: Reason for a notification. *unverified*.
NOTIFICATION_REASON: Codes = _frozen(
    {
        1: "barnets adfærd eller trivsel",
        2: "forældrenes forhold",
        3: "vold",
        4: "seksuelle overgreb",
        5: "misbrug i familien",
        6: "kriminalitet",
        7: "skolefravær",
        99: "andet",
    }
)

#: Preventive measures, Serviceloven §52 stk. 3 nr. 1-9 (nr. 8, placement, is
#: in the placement registers instead).
PREVENTIVE_MEASURE: Codes = _frozen(
    {
        1: "konsulentbistand",
        2: "praktisk, pædagogisk eller anden støtte i hjemmet",
        3: "familiebehandling",
        4: "døgnophold for hele familien",
        5: "aflastningsordning",
        6: "fast kontaktperson",
        7: "praktiktilbud",
        9: "anden hjælp",
    }
)

#: Placement type (anbringelsessted), from domain.md. 23-25 are *unverified*.
PLACEMENT_TYPE: Codes = _frozen(
    {
        1: "netværksplejefamilie",
        21: "almindelig plejefamilie",
        22: "kommunal plejefamilie",
        23: "almen plejefamilie",
        24: "forstærket plejefamilie",
        25: "specialiseret plejefamilie",
        26: "plejefamilie §76a",
        9: "døgninstitution",
        7: "delvis lukket afdeling",
        8: "sikret afdeling",
        27: "opholdssted",
        11: "kost- eller efterskole",
        6: "eget værelse, kollegium",
        99: "uoplyst",
    }
)

#: Placement types grouped as in DST's publications.
PLACEMENT_GROUP: Mapping[int, str] = MappingProxyType(
    {
        1: "network",
        21: "foster",
        22: "foster",
        23: "foster",
        24: "foster",
        25: "foster",
        26: "foster",
        9: "institution",
        7: "institution",
        8: "institution",
        27: "residential",
        11: "other",
        6: "other",
        99: "other",
    }
)

#: Legal basis of a placement. 101-103 from domain.md; the rest *unverified*.
LEGAL_BASIS: Codes = _frozen(
    {
        101: "frivillig anbringelse (samtykke)",
        102: "tvangsanbringelse (uden samtykke)",
        103: "foreløbig afgørelse",
        104: "anbringelse efter dom",
        199: "andet",
    }
)

#: Placement events (HAENDELSE).
PLACEMENT_EVENT: Codes = _frozen(
    {
        0: "start på anbringelse",
        1: "skift af anbringelsessted",
        2: "tvang til frivillig",
        5: "ophør",
        7: "efterværn",
    }
)

#: Where the child went at the end of a placement (UDSTED).
EXIT_DESTINATION: Codes = _frozen(
    {
        1: "forældre",
        2: "egen bolig",
        3: "adoption",
        6: "anden familie",
        7: "netværk",
        97: "andet",
        99: "uoplyst",
    }
)

#: Case events from the municipal case-management systems (DUBU, Nexus, SBSYS),
#: harmonised by this project.
CASE_EVENT: Codes = _frozen(
    {
        1: "underretning vurderet",
        2: "børnefaglig undersøgelse (§50) startet",
        3: "børnefaglig undersøgelse (§50) afsluttet",
        4: "børnesamtale",
        5: "handleplan",
        6: "opfølgning",
        7: "ledelsestilsyn",
    }
)

#: Outcome measures in the outcome extract, with their units.
OUTCOME_MEASURE: Codes = _frozen(
    {
        "SDQ": "SDQ, samlet vanskelighedsscore (0-40)",
        "FRAVAER": "skolefravær (procent af skoledage)",
        "NATTEST": "nationale test, gennemsnitlig testscore (1-100)",
        "KARAKTER9": "karaktergennemsnit, 9. klasses afgangsprøve (-3 til 12)",
        "KRIMINALITET": "sigtet for kriminalitet i året (0/1)",
    }
)

#: Municipal accounts, main function 5.28. Only 5.28.21 is confirmed in
#: domain.md; the other sub-function numbers are *unverified*.
ACCOUNT_FUNCTION: Codes = _frozen(
    {
        "5.28.20": "plejefamilier",
        "5.28.21": "forebyggende foranstaltninger for børn og unge",
        "5.28.23": "døgninstitutioner for børn og unge",
        "5.28.24": "sikrede døgninstitutioner for børn og unge",
        "5.28.25": "opholdssteder for børn og unge",
    }
)


#: Account function (5.28.x) of each placement-type code: families 5.28.20, institutions 5.28.23,
#: secure units 5.28.24, opholdssteder and other 5.28.25. *unverified*, as the sub-functions are.
ACCOUNT_FUNCTION_OF_TYPE: Mapping[int, str] = MappingProxyType(
    {
        1: "5.28.20",
        21: "5.28.20",
        22: "5.28.20",
        23: "5.28.20",
        24: "5.28.20",
        25: "5.28.20",
        26: "5.28.20",
        9: "5.28.23",
        7: "5.28.23",
        8: "5.28.24",
        27: "5.28.25",
        11: "5.28.25",
        6: "5.28.25",
        99: "5.28.25",
    }
)

#: Account function of preventive measures.
ACCOUNT_FUNCTION_PREVENTIVE = "5.28.21"
