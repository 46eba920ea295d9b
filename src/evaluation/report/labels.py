"""Readable labels for the report, in Danish and English.

Results files carry machine names (``sdq``, ``cost_per_child``, ``main``); the report shows these labels
instead, read from ``reports/_text/<language>/labels.yml`` (kind of name -> machine name -> label). A name
without a label is shown as it is, so that a new outcome or covariate still renders.
"""

from __future__ import annotations

import pandas as pd

from evaluation.report.numbers import check_language
from evaluation.report.sentences import project_words


def labels(language: str) -> dict[str, dict[str, str]]:
    """Return every label in ``language``: kind of name -> machine name -> label (``labels.yml``, read once)."""
    return project_words(language, "labels.yml")


def label(kind: str, name: str, language: str = "da", default: str | None = None) -> str:
    """Return the readable label of a machine name.

    Parameters
    ----------
    kind : str
        The kind of name: a top-level key of ``labels.yml`` (``"outcome"``, ``"analysis"``, ``"group"``,
        ``"covariate"``, ``"subgroup"``, ``"column"``, ``"econ_item"``, ...).
    name : str
        The machine name, for example ``"sdq"``.
    language : {"da", "en"}, default "da"
        The report language.
    default : str or None
        What to show when no label is defined (None: ``name`` itself).

    Returns
    -------
    str
        The label, or ``default`` (``name``) when no label is defined.
    """
    language = check_language(language)
    return labels(language).get(kind, {}).get(str(name), str(name) if default is None else default)


def sample_flow_descriptions(sample_flow: pd.DataFrame, language: str = "da") -> list[str]:
    """Word each step of ``results/cohort/sample_flow.csv`` in the report's language.

    The steps write a code (``step``); the report words each code from ``labels.yml`` (``sample_flow_step``),
    and a code without a label (a reason for leaving children unmatched that a new matching method gives) is
    shown as it is.
    """
    return [label("sample_flow_step", str(step), language) for step in sample_flow["step"]]


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
