"""Labels of the economics and staggered-DiD results, in Danish and English.

Merged into :data:`evaluation.report.labels.LABELS`; kept apart so that each
file holds one family of names. Every economic item carries its label and its
unit in words; :data:`ECONOMICS_FORMAT` says how its numbers are shown.
"""

from __future__ import annotations

RESULT_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "econ_item": {
        "da": {
            "staff_cost_per_year": "Personaleudgift (flere sagsbehandlere)",
            "measure_cost_change_per_year": "Ændring i foranstaltningsudgifter",
            "measure_cost_change_per_year_municipality": "Ændring i foranstaltningsudgifter (kommune-år-DiD)",
            "net_cost_per_year": "Nettoudgift",
            "cumulative_net_cost": "Akkumuleret nettoudgift (diskonteret)",
            "payback_year": "Tilbagebetalingsår",
            "cost_per_sdq_point": "Nettoudgift pr. SDQ-point",
            "cost_per_avoided_placement": "Nettoudgift pr. undgået anbringelse",
            "sdq_change": "Ændring i SDQ-score",
            "placement_entry_change": "Ændring i nye anbringelser",
            "extra_fte_per_case_year": "Ekstra sagsbehandlerårsværk",
            "cost_per_fte_year": "Udgift pr. sagsbehandlerårsværk",
            "discount_rate": "Diskonteringsrente",
            "micro_costing_share_of_accounts": "Mikroopgjorte udgifters andel af regnskabet",
        },
        "en": {
            "staff_cost_per_year": "Staff cost (more caseworkers)",
            "measure_cost_change_per_year": "Change in measure costs",
            "measure_cost_change_per_year_municipality": "Change in measure costs (municipality-year DiD)",
            "net_cost_per_year": "Net cost",
            "cumulative_net_cost": "Cumulative net cost (discounted)",
            "payback_year": "Payback year",
            "cost_per_sdq_point": "Net cost per SDQ point",
            "cost_per_avoided_placement": "Net cost per placement avoided",
            "sdq_change": "Change in SDQ score",
            "placement_entry_change": "Change in placement entries",
            "extra_fte_per_case_year": "Extra caseworker FTE",
            "cost_per_fte_year": "Cost per caseworker FTE-year",
            "discount_rate": "Discount rate",
            "micro_costing_share_of_accounts": "Micro-costed spending as a share of the accounts",
        },
    },
    "econ_unit": {
        "da": {
            "dkk_child_year": "kr. pr. barneår",
            "dkk_child_year_cumulative": "kr. pr. barneår, {horizon} år",
            "followup_year": "opfølgningsår",
            "dkk_sdq": "kr. pr. SDQ-point",
            "dkk_placement": "kr. pr. anbringelse",
            "sdq_child_year": "point pr. barneår",
            "placements_child_year": "anbringelser pr. barneår",
            "fte_child_year": "årsværk pr. barneår",
            "dkk_fte": "kr. pr. årsværk",
            "per_year": "pr. år",
            "share": "andel",
        },
        "en": {
            "dkk_child_year": "DKK per child-year",
            "dkk_child_year_cumulative": "DKK per child-year, {horizon} years",
            "followup_year": "follow-up year",
            "dkk_sdq": "DKK per SDQ point",
            "dkk_placement": "DKK per placement",
            "sdq_child_year": "points per child-year",
            "placements_child_year": "placements per child-year",
            "fte_child_year": "FTE per child-year",
            "dkk_fte": "DKK per FTE-year",
            "per_year": "per year",
            "share": "share",
        },
    },
    "cost_item": {
        "da": {
            "staff_cost": "Personaleudgift",
            "measure_cost_change": "Ændring i foranstaltningsudgifter",
            "net_cost": "Nettoudgift",
            "cumulative_net_cost": "Akkumuleret nettoudgift (diskonteret)",
            "extra_fte": "Ekstra årsværk",
        },
        "en": {
            "staff_cost": "Staff cost",
            "measure_cost_change": "Change in measure costs",
            "net_cost": "Net cost",
            "cumulative_net_cost": "Cumulative net cost (discounted)",
            "extra_fte": "Extra FTE",
        },
    },
    "cost_column": {
        "da": {
            "staff_cost": "Personale",
            "measure_cost_change": "Foranstaltninger",
            "net_cost": "Nettoudgift",
            "cumulative_net_cost": "Akkumuleret",
            "extra_fte": "Årsværk",
        },
        "en": {
            "staff_cost": "Staff",
            "measure_cost_change": "Measures",
            "net_cost": "Net cost",
            "cumulative_net_cost": "Cumulative",
            "extra_fte": "FTE",
        },
    },
    "estimator": {
        "da": {
            "did_2x2": "Naiv 2x2-DiD (første kommune)",
            "twfe": "TWFE, kommune-år",
            "cs_simple": "Callaway-Sant'Anna, samlet",
            "cs_dynamic": "Callaway-Sant'Anna, dynamisk",
            "did_imputation": "Imputationsestimator, matchede børn (hovedanalyse)",
            "did_twfe_matched": "Matchet DiD med to-vejs faste effekter",
        },
        "en": {
            "did_2x2": "Naive 2x2 DiD (first adopter)",
            "twfe": "TWFE, municipality-years",
            "cs_simple": "Callaway-Sant'Anna, overall",
            "cs_dynamic": "Callaway-Sant'Anna, dynamic",
            "did_imputation": "Imputation estimator, matched children (main analysis)",
            "did_twfe_matched": "Matched two-way fixed-effects DiD",
        },
    },
    "subgroup_variable": {
        "da": {"life_phase": "Alder ved første sag", "sex": "Køn", "prior_placement": "Tidligere anbragt"},
        "en": {"life_phase": "Age at first case", "sex": "Sex", "prior_placement": "Placed before"},
    },
    "result_column": {
        "da": {
            "item": "Post",
            "estimate": "Estimat",
            "ci": "95 %-KI",
            "unit": "Enhed",
            "followup_year": "År efter indførelse",
            "budget_year": "Budgetår",
            "child_years": "Barneår",
            "year": "År",
            "function": "Funktion",
            "accounts": "Regnskab (mio. kr.)",
            "micro": "Mikroopgjort (mio. kr.)",
            "share_explained": "Andel forklaret",
            "children": "Børn",
            "outcome": "Udfald",
            "estimator": "Estimator",
            "se": "Std.fejl",
            "p_value": "p",
            "p_holm": "p (Holm)",
            "p_bh": "p (BH)",
            "family": "Familie",
            "analysis": "Analyse",
            "subgroup_variable": "Opdeling",
            "subgroup": "Undergruppe",
            "n": "Barneår",
            "type": "Type",
            "ecdf_max_after": "eCDF maks. efter",
            "flags": "Flag",
            "binary": "binær",
            "continuous": "kontinuert",
        },
        "en": {
            "item": "Item",
            "estimate": "Estimate",
            "ci": "95% CI",
            "unit": "Unit",
            "followup_year": "Years since adoption",
            "budget_year": "Budget year",
            "child_years": "Child-years",
            "year": "Year",
            "function": "Function",
            "accounts": "Accounts (DKK m)",
            "micro": "Micro-costed (DKK m)",
            "share_explained": "Share explained",
            "children": "Children",
            "outcome": "Outcome",
            "estimator": "Estimator",
            "se": "Std. error",
            "p_value": "p",
            "p_holm": "p (Holm)",
            "p_bh": "p (BH)",
            "family": "Family",
            "analysis": "Analysis",
            "subgroup_variable": "Split",
            "subgroup": "Subgroup",
            "n": "Child-years",
            "type": "Type",
            "ecdf_max_after": "eCDF max after",
            "flags": "Flags",
            "binary": "binary",
            "continuous": "continuous",
        },
    },
    "family": {
        "da": {"primary": "Primære udfald", "secondary": "Sekundære udfald"},
        "en": {"primary": "Primary outcomes", "secondary": "Secondary outcomes"},
    },
}

#: subgroup values shown in words (life phases are shown as age ranges, with "år"/"years")
SUBGROUP_VALUES: dict[str, dict[str, str]] = {
    "da": {"female": "Pige", "male": "Dreng", "yes": "Ja", "no": "Nej", "all": "Alle"},
    "en": {"female": "Girl", "male": "Boy", "yes": "Yes", "no": "No", "all": "All"},
}

#: economic item -> (unit key of "econ_unit", kind of number: "dkk", "decimals:<n>", "percent", "year")
ECONOMICS_FORMAT: dict[str, tuple[str, str]] = {
    "staff_cost_per_year": ("dkk_child_year", "dkk"),
    "measure_cost_change_per_year": ("dkk_child_year", "dkk"),
    "measure_cost_change_per_year_municipality": ("dkk_child_year", "dkk"),
    "net_cost_per_year": ("dkk_child_year", "dkk"),
    "cumulative_net_cost": ("dkk_child_year_cumulative", "dkk"),
    "payback_year": ("followup_year", "year"),
    "cost_per_sdq_point": ("dkk_sdq", "dkk"),
    "cost_per_avoided_placement": ("dkk_placement", "dkk"),
    "sdq_change": ("sdq_child_year", "decimals:2"),
    "placement_entry_change": ("placements_child_year", "decimals:3"),
    "extra_fte_per_case_year": ("fte_child_year", "decimals:3"),
    "cost_per_fte_year": ("dkk_fte", "dkk"),
    "discount_rate": ("per_year", "percent"),
    "micro_costing_share_of_accounts": ("share", "percent"),
}

#: the order of the economic items in the summary table; unknown items follow, sorted
ECONOMICS_ORDER: tuple[str, ...] = tuple(ECONOMICS_FORMAT)
#: the order of the naive-vs-robust estimators, from the most naive to the most robust
ESTIMATOR_ORDER: tuple[str, ...] = ("did_2x2", "twfe", "cs_simple", "cs_dynamic")
#: the order of the cost items by follow-up year
COST_ITEM_ORDER: tuple[str, ...] = ("staff_cost", "measure_cost_change", "net_cost", "cumulative_net_cost")
