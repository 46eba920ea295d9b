"""Readable labels for the report, in Danish and English.

Results files carry machine names (``sdq``, ``cost_per_child``, ``main``); the
report shows these labels instead. A name without a label is shown as it is,
so that a new outcome or covariate still renders.
"""

from __future__ import annotations

from evaluation.report.labels_results import RESULT_LABELS
from evaluation.report.numbers import check_language

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "outcome": {
        "da": {
            "sdq": "SDQ-score (0-40)",
            "cost_per_child": "Udgift pr. barn (kr.)",
            "school_absence": "Skolefravær (pct.)",
            "placement_rate": "Anbringelser pr. barneår (andel)",
            "network_foster_share": "Andel nye anbringelser i netværks- eller plejefamilie",
            "breakdown_rate": "Sammenbrud pr. anbragt barneår (relativ ændring)",
            "caseload": "Sager pr. sagsbehandler",
        },
        "en": {
            "sdq": "SDQ score (0-40)",
            "cost_per_child": "Cost per child (DKK)",
            "school_absence": "School absence (%)",
            "placement_rate": "Placements per child-year (share)",
            "network_foster_share": "Share of new placements in network or foster care",
            "breakdown_rate": "Breakdowns per placed child-year (relative change)",
            "caseload": "Cases per caseworker",
        },
    },
    "analysis": {
        "da": {
            "main": "Imputationsestimator, matchede børn (hovedanalyse)",
            "twfe_matched": "Matchet DiD med to-vejs faste effekter",
            "unmatched_did": "Umatchet DiD",
            "naive": "Naiv sammenligning",
        },
        "en": {
            "main": "Imputation estimator, matched children (main analysis)",
            "twfe_matched": "Matched two-way fixed-effects DiD",
            "unmatched_did": "Unmatched DiD",
            "naive": "Naive comparison",
        },
    },
    "group": {
        "da": {
            "treated": "Indsatskommuner",
            "comparison_matched": "Matchet sammenligningsgruppe",
            "comparison_all": "Alle sammenligningskommuner",
            "comparison": "Sammenligningskommuner",
            "national": "Hele landet",
            "all_in_data": "Alle kommuner i data",
        },
        "en": {
            "treated": "Adopting municipalities",
            "comparison_matched": "Matched comparison group",
            "comparison_all": "All comparison municipalities",
            "comparison": "Comparison municipalities",
            "national": "Denmark",
            "all_in_data": "All municipalities in the data",
        },
    },
    "covariate": {
        "da": {
            "sex": "Køn (pige)",
            "age_at_entry": "Alder ved første sag",
            "entry_year": "År for første sag",
            "parent_basic_education": "Forælder med grundskole som højeste uddannelse",
            "parent_income": "Forældres indkomst",
            "origin": "Herkomst (indvandrer/efterkommer)",
            "origin_2": "Indvandrer",
            "origin_3": "Efterkommer",
            "prior_notifications": "Tidligere underretninger",
            "propensity_score": "Propensity score",
        },
        "en": {
            "sex": "Sex (girl)",
            "age_at_entry": "Age at first case",
            "entry_year": "Year of first case",
            "parent_basic_education": "Parent with basic schooling only",
            "parent_income": "Parents' income",
            "origin": "Origin (immigrant/descendant)",
            "origin_2": "Immigrant",
            "origin_3": "Descendant",
            "prior_notifications": "Prior notifications",
            "propensity_score": "Propensity score",
        },
    },
    "indicator": {
        "da": {
            "caseload_per_worker": "Sager pr. sagsbehandler (årsværk)",
            "screened_24h": "Underretninger vurderet inden for 24 timer",
            "assessment_4_months": "Børnefaglige undersøgelser afsluttet inden for 4 måneder",
            "conversation_before_decision": "Handleplaner med børnesamtale forud",
            "followups_per_child": "Opfølgninger pr. barn med foranstaltning",
            "audit_share": "Sager med ledelsestilsyn",
            "caseworker_turnover": "Personaleomsætning blandt sagsbehandlere",
        },
        "en": {
            "caseload_per_worker": "Cases per caseworker (FTE)",
            "screened_24h": "Notifications screened within 24 hours",
            "assessment_4_months": "Child assessments finished within 4 months",
            "conversation_before_decision": "Action plans preceded by a child conversation",
            "followups_per_child": "Follow-ups per child with a measure",
            "audit_share": "Cases with a management audit",
            "caseworker_turnover": "Caseworker turnover",
        },
    },
    "figure": {
        "da": {
            "open_case_per_1000": "Børn med åben sag pr. 1.000 børn",
            "placed_per_1000": "Anbragte børn pr. 1.000 børn",
            "family_care_share": "Andel anbragt i netværks- eller plejefamilie",
            "caseload_per_worker": "Sager pr. sagsbehandler (årsværk)",
            "sdq_mean": "Gennemsnitlig SDQ-score (0-40)",
            "cost_per_child": "Udgift pr. barn med åben sag (kr.)",
        },
        "en": {
            "open_case_per_1000": "Children with an open case per 1,000 children",
            "placed_per_1000": "Children in care per 1,000 children",
            "family_care_share": "Share placed in network or foster care",
            "caseload_per_worker": "Cases per caseworker (FTE)",
            "sdq_mean": "Mean SDQ score (0-40)",
            "cost_per_child": "Cost per child with an open case (DKK)",
        },
    },
    "subgroup": {
        "da": {"all": "Alle"},
        "en": {"all": "All"},
    },
    "column": {
        "da": {
            "extract": "Udtræk",
            "file": "Fil",
            "rows_read": "Rækker læst",
            "rows_accepted": "Rækker godkendt",
            "rows_quarantined": "Rækker i karantæne",
            "step": "Trin",
            "description": "Beskrivelse",
            "n_treated": "Indsatsgruppe",
            "n_control": "Sammenligningsgruppe",
            "n_treated_short": "N indsats",
            "n_control_short": "N sammenligning",
            "covariate": "Kovariat",
            "smd_before": "SMD før",
            "smd_after": "SMD efter",
            "var_ratio_before": "VK før",
            "var_ratio_after": "VK efter",
            "var_ratio_short": "VK",
            "analysis": "Analyse",
            "outcome": "Udfald",
            "subgroup": "Undergruppe",
            "estimate": "Estimat",
            "se": "Std.fejl",
            "ci": "95 %-KI",
            "p_value": "p-værdi",
            "year": "År",
            "estimate_axis": "Estimeret effekt (95 %-KI)",
            "adoption": "Indførelse",
            "children": "børn",
            "ci_to": "til",
            "indicator": "Indikator",
            "key_figure": "Nøgletal",
            "sha256": "SHA-256",
            "package": "Pakke",
            "version": "Version",
            "source": "Kilde",
        },
        "en": {
            "extract": "Extract",
            "file": "File",
            "rows_read": "Rows read",
            "rows_accepted": "Rows accepted",
            "rows_quarantined": "Rows quarantined",
            "step": "Step",
            "description": "Description",
            "n_treated": "Treated group",
            "n_control": "Comparison group",
            "n_treated_short": "N treated",
            "n_control_short": "N comparison",
            "covariate": "Covariate",
            "smd_before": "SMD before",
            "smd_after": "SMD after",
            "var_ratio_before": "VR before",
            "var_ratio_after": "VR after",
            "var_ratio_short": "VR",
            "analysis": "Analysis",
            "outcome": "Outcome",
            "subgroup": "Subgroup",
            "estimate": "Estimate",
            "se": "Std. error",
            "ci": "95% CI",
            "p_value": "p-value",
            "year": "Year",
            "estimate_axis": "Estimated effect (95% CI)",
            "adoption": "Adoption",
            "children": "children",
            "ci_to": "to",
            "indicator": "Indicator",
            "key_figure": "Key figure",
            "sha256": "SHA-256",
            "package": "Package",
            "version": "Version",
            "source": "Source",
        },
    },
}


LABELS.update(RESULT_LABELS)


def label(kind: str, name: str, language: str = "da") -> str:
    """Return the readable label of a machine name.

    Parameters
    ----------
    kind : str
        The kind of name: ``"outcome"``, ``"analysis"``, ``"group"``,
        ``"covariate"``, ``"subgroup"`` or ``"column"``.
    name : str
        The machine name, for example ``"sdq"``.
    language : {"da", "en"}, default "da"
        The report language.

    Returns
    -------
    str
        The label, or ``name`` itself when no label is defined.
    """
    language = check_language(language)
    return LABELS.get(kind, {}).get(language, {}).get(str(name), str(name))


#: outcome -> (decimals in tables, decimals in running text)
OUTCOME_DECIMALS: dict[str, tuple[int, int]] = {
    "sdq": (2, 1),
    "cost_per_child": (0, 0),
    "school_absence": (2, 1),
    "placement_rate": (4, 3),
    "network_foster_share": (3, 2),
    "breakdown_rate": (3, 2),
    "caseload": (1, 1),
}

#: the order in which analyses and outcomes are shown; unknown names follow, sorted
ANALYSIS_ORDER: tuple[str, ...] = ("main", "twfe_matched", "unmatched_did", "naive")
OUTCOME_ORDER: tuple[str, ...] = (
    "sdq",
    "cost_per_child",
    "school_absence",
    "placement_rate",
    "network_foster_share",
    "breakdown_rate",
    "caseload",
)


def outcome_decimals(outcome: str) -> tuple[int, int]:
    """Return the decimals an outcome's effects are shown with.

    Parameters
    ----------
    outcome : str
        The outcome's machine name.

    Returns
    -------
    tuple of int
        Decimals in tables and in running text; ``(2, 1)`` for an unknown outcome.
    """
    return OUTCOME_DECIMALS.get(str(outcome), (2, 1))


def ordered(names: list[str] | set[str], order: tuple[str, ...]) -> list[str]:
    """Sort names by a preferred order, unknown names last in alphabetical order.

    Parameters
    ----------
    names : list or set of str
        The names to sort (duplicates are removed).
    order : tuple of str
        The preferred order.

    Returns
    -------
    list of str
        The sorted, unique names.
    """
    unique = {str(name) for name in names}
    known = [name for name in order if name in unique]
    return known + sorted(unique - set(order))
