r"""Goodman-Bacon (2021) decomposition of the municipality-year TWFE estimate, one outcome at a time.

:func:`bacon_rows` runs :func:`evaluation.methods.did.bacon_decomposition` on the municipality-year means of
:func:`evaluation.steps.staggered.panels.municipality_panel` (the matched children's weighted means in the
pipeline) and returns the rows of ``bacon.csv``.

Which TWFE is decomposed
    Theorem 1 of Goodman-Bacon (2021) decomposes the *unweighted* OLS coefficient of
    :math:`\bar y_{mt} = \alpha_m + \lambda_t + \beta D_{mt} + \varepsilon_{mt}` in a *balanced*
    panel. The ``twfe`` row of ``naive_vs_robust.csv`` weights the municipality-years by
    :math:`W_{mt}` and keeps every municipality-year, so the two coefficients differ; the
    decomposition shows how the TWFE design mixes comparisons (and how much weight the forbidden
    ones get), not a split of that weighted number. The decomposed coefficient is written beside
    the comparisons (the row ``twfe``), so that ``sum(weight * estimate)`` over the 2x2 rows can be
    checked against it.
Balanced panel
    The municipalities observed in every year of the outcome's panel are kept; the others (a
    municipality-year without a matched child with a value of the outcome) are dropped, and the
    file and the step log say how many (``municipalities_dropped``). Keeping the years that all
    municipalities share instead would cut pre-adoption years, which the comparisons need.

Columns of the rows (one per 2x2 comparison, then one ``twfe`` row per outcome):

``outcome``, ``family``
    The outcome and its multiplicity family (``primary`` / ``secondary``; the report shows the primary ones).
``comparison``
    ``treated_vs_never``, ``earlier_vs_later``, ``later_vs_earlier`` (already-treated municipalities
    as controls: the "forbidden" comparison), ``later_vs_always`` (:data:`evaluation.methods.did.bacon.COMPARISONS`);
    ``twfe`` for the decomposed coefficient.
``treated_cohort``, ``control_cohort``
    Adoption years of the two groups (0 = never adopting; the first year = adopted before the panel);
    empty in the ``twfe`` row.
``weight``, ``estimate``
    Goodman-Bacon's weight :math:`s` (eqs. 10e-10g; they sum to one per outcome) and the 2x2 DiD of
    the group means; in the ``twfe`` row, the sum of the weights and the TWFE coefficient.
``municipalities``, ``municipalities_dropped``, ``years``
    Size of the balanced panel and the municipalities left out. These count municipalities, which
    are public (``study.json``), not persons, so the ``min_cell`` rule does not apply to them (their
    names do not start with ``n_`` so that :func:`evaluation.steps.staggered.run.suppress_counts` leaves them).

Reference: Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment timing",
*Journal of Econometrics* 225(2), 254-277.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import ModelNotIdentifiedError
from evaluation.methods.did import bacon_decomposition

__all__ = ["BACON_COLUMNS", "balanced_municipalities", "bacon_rows"]

Progress = Callable[[str], None]

#: Columns of ``bacon.csv`` (module docstring).
BACON_COLUMNS: list[str] = columns_of("results/{release}/estimate/bacon.csv")


def balanced_municipalities(means: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, int]:
    """Keep the municipalities with a mean of ``outcome`` in every year of the panel.

    Parameters
    ----------
    means : pandas.DataFrame
        Municipality-year panel with ``municipality, year`` and ``outcome``.
    outcome : str
        The outcome column; a municipality-year without a value counts as not observed.

    Returns
    -------
    (pandas.DataFrame, int)
        The balanced panel (sorted by municipality and year) and the number of municipalities dropped.
    """
    observed = means.loc[means[outcome].notna()]
    n_years = observed["year"].nunique()
    years_per_unit = observed.groupby("municipality")["year"].transform("nunique")
    balanced = observed.loc[years_per_unit == n_years]
    dropped = means["municipality"].nunique() - balanced["municipality"].nunique()
    return balanced.sort_values(["municipality", "year"]).reset_index(drop=True), int(dropped)


def bacon_rows(means: pd.DataFrame, outcome: str, family: str, progress: Progress = print) -> pd.DataFrame:
    """Goodman-Bacon decomposition of the unweighted TWFE of ``outcome`` on the balanced panel (module docstring).

    Parameters
    ----------
    means : pandas.DataFrame
        Municipality-year means (:func:`evaluation.steps.staggered.panels.municipality_panel`).
    outcome : str
        The outcome column.
    family : str
        ``"primary"`` or ``"secondary"``, written in the column ``family``.
    progress : callable
        Told the size of the balanced panel, the municipalities dropped and the weight of each comparison type.

    Returns
    -------
    pandas.DataFrame
        :data:`BACON_COLUMNS`: the 2x2 comparisons, then the ``twfe`` row; no rows when the TWFE
        coefficient is not identified on the balanced panel (the log says why).
    """
    balanced, dropped = balanced_municipalities(means, outcome)
    n_units, n_years = balanced["municipality"].nunique(), balanced["year"].nunique()
    progress(
        f"bacon {outcome}: balanced panel of {n_units} municipalities x {n_years} years; "
        f"{dropped} municipalit{'y' if dropped == 1 else 'ies'} dropped (not observed in every year)"
    )
    try:
        result = bacon_decomposition(balanced, outcome, "municipality", "year", "first_treat")
    except ModelNotIdentifiedError as exc:
        progress(f"bacon {outcome}: not decomposed ({exc})")
        return pd.DataFrame(columns=BACON_COLUMNS)
    table = result.tidy()
    shares = result.weight_shares()
    progress(
        f"bacon {outcome}: TWFE (unweighted, balanced) {result.twfe:.4f}; weights "
        + ", ".join(f"{name} {share:.3f}" for name, share in shares.items())
    )
    cohorts = {"treated_cohort": "Int64", "control_cohort": "Int64"}
    total = pd.DataFrame(
        {
            "comparison": ["twfe"],
            "treated_cohort": pd.array([pd.NA], dtype="Int64"),
            "control_cohort": pd.array([pd.NA], dtype="Int64"),
            "weight": [float(table["weight"].sum())],
            "estimate": [result.twfe],
        }
    )
    rows = pd.concat([table.astype(cohorts), total], ignore_index=True).astype(cohorts)
    rows.insert(0, "outcome", outcome)
    rows.insert(1, "family", family)
    rows["municipalities"] = result.n_units
    rows["municipalities_dropped"] = dropped
    rows["years"] = result.n_periods
    return rows[BACON_COLUMNS]
