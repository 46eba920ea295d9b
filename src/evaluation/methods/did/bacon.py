r"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD estimate under staggered adoption.

In a balanced panel of :math:`N` units and :math:`T` periods where unit :math:`i` is treated from period
:math:`g_i` on, the TWFE coefficient :math:`\hat\beta^{DD}` of :math:`D_{it} = 1[t \ge g_i]` in

.. math:: y_{it} = \alpha_i + \lambda_t + \beta^{DD} D_{it} + \varepsilon_{it}

is a weighted average of all two-group, two-period DiD estimates between the *timing groups* (units sharing
:math:`g_i`), with weights that are non-negative and sum to one (Goodman-Bacon 2021, Theorem 1, eqs. 10a-10g):

.. math::
    \hat\beta^{DD} = \sum_{k \ne U} s_{kU} \hat\beta^{2x2}_{kU}
        + \sum_{k \ne U} \sum_{l > k} \left[ s^k_{kl} \hat\beta^{2x2,k}_{kl} + s^l_{kl} \hat\beta^{2x2,l}_{kl} \right].

Write :math:`n_k` for the share of units in group :math:`k`, :math:`\bar D_k` for the share of periods it is
treated, :math:`n_{kl} = n_k / (n_k + n_l)` and :math:`\hat V^D` for the variance of :math:`D_{it}` after
removing unit and time means (over all :math:`NT` observations, divided by :math:`NT`). The comparisons
(``comparison`` in :attr:`BaconResult.table`) and their weights are:

``treated_vs_never``
    Group :math:`k` against the never treated :math:`U`, over all periods, before against from :math:`k`:
    :math:`s_{kU} = (n_k + n_U)^2\, n_{kU}(1 - n_{kU})\, \bar D_k (1 - \bar D_k) / \hat V^D` (eqs. 7, 10e).
``earlier_vs_later``
    An earlier group :math:`k` against a later group :math:`l` not yet treated, over the periods before
    :math:`l`: :math:`s^k_{kl} = ((n_k + n_l)(1 - \bar D_l))^2\, n_{kl}(1 - n_{kl})
    \frac{\bar D_k - \bar D_l}{1 - \bar D_l} \frac{1 - \bar D_k}{1 - \bar D_l} / \hat V^D` (eqs. 8, 10f).
``later_vs_earlier``
    A later group :math:`l` against an earlier group :math:`k` already treated, over the periods from
    :math:`k` on: :math:`s^l_{kl} = ((n_k + n_l) \bar D_k)^2\, n_{kl}(1 - n_{kl})
    \frac{\bar D_l}{\bar D_k} \frac{\bar D_k - \bar D_l}{\bar D_k} / \hat V^D` (eqs. 9, 10g). These are the
    comparisons that use treated units as controls and are biased when effects change over time.
``later_vs_always``
    A group against the units treated from the first period on or earlier ("always treated"), over all
    periods. This is a ``later_vs_earlier`` comparison whose earlier group is treated throughout
    (:math:`\bar D_k = 1` in eq. 10g, which then equals eq. 10e). R ``bacondecomp`` labels it "Later vs
    Always Treated"; pooling the always treated with the never treated, as Python ``diff-diff`` does after
    the paper's footnote 11, merges it with ``treated_vs_never`` (weights add, estimates average with them).

Each 2x2 estimate is the difference of the two groups' changes in mean outcome between the post and the pre
periods of its window, which is the TWFE coefficient on that subsample; the always treated are never a
treated group (they have no untreated period, so their weight is zero, as in R).

Cohort coding: the ``cohort`` column holds the first treated period. Missing or 0 means never treated (where 0
is itself a period, code the never treated as missing), a cohort after the last period is never treated within
the panel, and a cohort at or before the first period means always treated. In :attr:`BaconResult.table`,
``control_cohort`` is 0 for the never treated and the first period of the panel for the always treated (R
``bacondecomp`` uses ``Inf`` and the first period); cohorts have the type of the time column.

The decomposition, the 2x2 estimates and the weights are checked against R ``bacondecomp`` 0.1.3 and Python
``diff-diff`` on Cheng and Hoekstra's castle-doctrine data, Stevenson and Wolfers' divorce data and Goodman's
math-reform data (``tests/reference/bacon``). The decomposition with time-varying covariates (section 5.2 of
the paper) is not implemented.

Reference: Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment timing",
*Journal of Econometrics* 225(2), 254-277.

API page: Goodman-Bacon decomposition (`evaluation.methods.did.bacon_decomposition`)
----------------------------------------------------------------------------
```python
from evaluation.methods.did import bacon_decomposition, UnbalancedPanelError
b = bacon_decomposition(df, outcome="y", unit="id", time="year", cohort="first_treat")
b.twfe             # TWFE coefficient of D_it = 1[year >= first_treat], unit and year fixed effects
b.table            # comparison, treated_cohort, control_cohort, weight, estimate (one row per 2x2); = b.tidy()
b.summary()        # comparison, n_comparisons, weight, estimate (weighted mean) per type, then a "twfe" row
b.weight_shares()  # Series: total weight of treated_vs_never, earlier_vs_later, later_vs_earlier, later_vs_always
b.groups           # cohort, role (never / always / timing), n_units, share, treated_share; b.variance_d
```

Goodman-Bacon (2021, *Journal of Econometrics* 225(2), Theorem 1): in a balanced panel the TWFE DiD
coefficient is a weighted average of all 2x2 DiDs between timing groups, with weights (eqs. 10e-10g) set by
group sizes and the variance of treatment timing; weights sum to one and `sum(weight * estimate) == twfe`.
`later_vs_earlier` rows use already-treated units as controls. Cohort coding: missing or 0 = never treated
(`control_cohort` 0), a cohort after the last period = never treated, at or before the first period = always
treated (`later_vs_always`, `control_cohort` = first period; R bacondecomp's "Later vs Always Treated").
An unbalanced panel raises `UnbalancedPanelError` (an `EvaluationError`); no time-varying covariates.
Reproduces R bacondecomp 0.1.3 and diff-diff 3.13.0 at 1e-8 on the castle-doctrine, divorce and
math-reform data (`tests/test_bacon.py`, references in `tests/reference/bacon/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError

__all__ = ["COMPARISONS", "BaconResult", "Comparison", "UnbalancedPanelError", "bacon_decomposition"]

Comparison = Literal["treated_vs_never", "earlier_vs_later", "later_vs_earlier", "later_vs_always"]
COMPARISONS: tuple[Comparison, ...] = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier", "later_vs_always")
_COLUMNS = ["comparison", "treated_cohort", "control_cohort", "weight", "estimate"]
_NEVER, _ALWAYS, _TIMING = "never", "always", "timing"


class UnbalancedPanelError(EvaluationError):
    """The panel is not balanced (some unit lacks some period), so the decomposition does not hold."""


@dataclass(frozen=True)
class BaconResult:
    r"""Result of :func:`bacon_decomposition`: the TWFE coefficient and its 2x2 comparisons.

    Attributes
    ----------
    twfe : float
        Coefficient of :math:`D_{it} = 1[t \ge g_i]` in the regression with unit and time fixed effects.
    table : pandas.DataFrame
        One row per 2x2 comparison: ``comparison`` (see :data:`COMPARISONS`), ``treated_cohort``,
        ``control_cohort`` (0 = never treated, the first period = always treated), ``weight`` and
        ``estimate``. Weights sum to one and ``(weight * estimate).sum()`` equals :attr:`twfe`. Sorted by
        comparison (in the order of :data:`COMPARISONS`), treated and control cohort.
    groups : pandas.DataFrame
        One row per timing group: ``cohort`` (coded as in ``table``), ``role`` (``"never"``, ``"always"``
        or ``"timing"``), ``n_units``, ``share`` (:math:`n_k`) and ``treated_share`` (:math:`\bar D_k`).
    variance_d : float
        :math:`\hat V^D`, the variance of the treatment dummy net of unit and time means (the weights'
        denominator).
    n_units, n_periods : int
        Size of the balanced panel.

    Notes
    -----
    The one result class whose ``tidy()`` and ``summary()`` differ from the common interface of
    :mod:`evaluation.results`: a 2x2 comparison has a weight and an estimate but no standard error, and both
    methods keep the shapes of R ``bacondecomp`` that the published API and ``bacon.csv`` rest on (``tidy()``
    is :attr:`table`, ``summary()`` is ``bacon_summary`` as a table).
    """

    twfe: float
    table: pd.DataFrame
    groups: pd.DataFrame
    variance_d: float
    n_units: int
    n_periods: int

    def tidy(self) -> pd.DataFrame:
        """One row per 2x2 comparison (a copy of :attr:`table`).

        Returns
        -------
        pandas.DataFrame
            ``comparison, treated_cohort, control_cohort, weight, estimate``.
        """
        return self.table.copy()

    def weight_shares(self) -> pd.Series:
        """Total weight of each comparison type, for all of :data:`COMPARISONS` (0 for absent types).

        Returns
        -------
        pandas.Series
            Indexed by comparison type; sums to one.
        """
        shares = self.table.groupby("comparison", sort=False)["weight"].sum()
        return shares.reindex(list(COMPARISONS), fill_value=0.0).rename("weight").rename_axis("comparison")

    def summary(self) -> pd.DataFrame:
        """Weight and weighted average estimate by comparison type, and the TWFE coefficient (R ``bacon_summary``).

        Returns
        -------
        pandas.DataFrame
            ``comparison, n_comparisons, weight, estimate``: one row per comparison type present, in the order
            of :data:`COMPARISONS`, where ``estimate`` is the weight-averaged 2x2 estimate of the type; then a
            row ``"twfe"`` with all comparisons, their total weight (1) and the TWFE coefficient.
        """
        rows: list[tuple[str, int, float, float]] = []
        for comparison in COMPARISONS:
            part = self.table.loc[self.table["comparison"] == comparison]
            if part.empty:
                continue
            weight = float(part["weight"].sum())
            estimate = float((part["weight"] * part["estimate"]).sum() / weight) if weight > 0 else np.nan
            rows.append((comparison, len(part), weight, estimate))
        rows.append(("twfe", len(self.table), float(self.table["weight"].sum()), self.twfe))
        return pd.DataFrame(rows, columns=["comparison", "n_comparisons", "weight", "estimate"])


def bacon_decomposition(df: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str) -> BaconResult:
    r"""Decompose the TWFE DiD coefficient into 2x2 comparisons (Goodman-Bacon 2021, Theorem 1).

    Parameters
    ----------
    df : pandas.DataFrame
        Long balanced panel: one row per unit and period.
    outcome : str
        Column of the outcome (numeric, no missing values).
    unit, time : str
        Columns of the unit id and the period (numeric).
    cohort : str
        Column of the unit's first treated period, constant within unit. Missing or 0 means never treated;
        a value after the last period, never treated within the panel; at or before the first period,
        treated in every period (module docstring).

    Returns
    -------
    BaconResult
        ``.twfe``, ``.table`` (one row per comparison), ``tidy()``, ``summary()`` and ``weight_shares()``.

    Raises
    ------
    EvaluationError
        A column is missing or not numeric, a value is missing (or an outcome infinite), a unit appears twice in
        a period, the cohort varies within a unit, a cohort inside the panel is not one of its periods, a cohort
        is negative while no period is, or 0 is both a period and a cohort code.
    UnbalancedPanelError
        Some unit is not observed in every period.
    ModelNotIdentifiedError
        No unit's treatment changes within the panel, or all units share one timing group, so the TWFE
        coefficient is not identified.

    Notes
    -----
    The 2x2 estimates are the DiDs of timing-group means of Theorem 1 (each equal to the TWFE coefficient on
    its two groups and window); the weights are eqs. (10e)-(10g) with the variances of eqs. (7)-(9), divided by
    :math:`\hat V^D` computed from the data, so that their sum of one is a property of the data, not imposed.
    Without time-varying covariates.
    """
    y, periods, unit_cohort = _balanced_panel(df, outcome, unit, time, cohort)
    n_units, n_periods = y.shape
    first, last = periods[0], periods[-1]

    never = np.isnan(unit_cohort) | (unit_cohort == 0) | (unit_cohort > last)
    always = ~never & (unit_cohort <= first)
    key = np.where(never, np.inf, np.where(always, -np.inf, unit_cohort))  # one label per timing group
    labels, group_of_unit = np.unique(key, return_inverse=True)
    timing = labels[np.isfinite(labels)]
    if timing.size == 0 or labels.size < 2:
        raise ModelNotIdentifiedError(
            "bacon_decomposition: the treatment is not identified: "
            + (
                "no unit starts treatment inside the panel (between its second and last period)"
                if timing.size == 0
                else f"all {n_units} units start treatment in period {timing[0]:g} and there is no comparison group"
            )
            + f"; check the column {cohort!r}"
        )

    counts = np.bincount(group_of_unit, minlength=labels.size).astype(float)
    share = counts / n_units
    treated_share = np.array([1.0 if g == -np.inf else np.mean(periods >= g) for g in labels])
    # mean outcome of every group in every period (rows follow labels)
    means = np.zeros((labels.size, n_periods))
    np.add.at(means, group_of_unit, y)
    means /= counts[:, None]

    d = (periods[None, :] >= key[:, None]).astype(float)  # D_it = 1[t >= g_i]; never: g = inf, always: -inf
    d_tilde = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
    variance_d = float(np.mean(d_tilde**2))
    twfe = float(np.sum(y * d_tilde) / np.sum(d_tilde**2))

    index = {g: j for j, g in enumerate(labels)}
    rows = []
    for k in timing:
        j_k, n_k, d_k = index[k], share[index[k]], treated_share[index[k]]
        post = periods >= k
        for u, comparison in ((np.inf, "treated_vs_never"), (-np.inf, "later_vs_always")):
            if u in index:  # eqs. (7), (10e)
                j_u, n_u = index[u], share[index[u]]
                n_ku = n_k / (n_k + n_u)
                weight = (n_k + n_u) ** 2 * n_ku * (1 - n_ku) * d_k * (1 - d_k)
                rows.append((comparison, k, u, weight, _did(means, j_k, j_u, post, np.ones(n_periods, bool))))
        for l in timing[timing > k]:  # noqa: E741 (the paper's name for the later group)
            j_l, n_l, d_l = index[l], share[index[l]], treated_share[index[l]]
            n_kl = n_k / (n_k + n_l)
            # earlier k treated, later l not yet treated, periods before l: eqs. (8), (10f)
            weight = ((n_k + n_l) * (1 - d_l)) ** 2 * n_kl * (1 - n_kl) * (d_k - d_l) * (1 - d_k) / (1 - d_l) ** 2
            rows.append(("earlier_vs_later", k, l, weight, _did(means, j_k, j_l, post, periods < l)))
            # later l treated, earlier k already treated, periods from k on: eqs. (9), (10g)
            weight = ((n_k + n_l) * d_k) ** 2 * n_kl * (1 - n_kl) * d_l * (d_k - d_l) / d_k**2
            rows.append(("later_vs_earlier", l, k, weight, _did(means, j_l, j_k, periods >= l, post)))

    table = pd.DataFrame(rows, columns=["comparison", "treated_cohort", "control_cohort", "weight", "estimate"])
    table["weight"] = table["weight"] / variance_d
    order = {c: i for i, c in enumerate(COMPARISONS)}
    table = table.sort_values(
        ["comparison", "treated_cohort", "control_cohort"], key=lambda s: s.map(order) if s.name == "comparison" else s
    ).reset_index(drop=True)
    for column in ("treated_cohort", "control_cohort"):
        table[column] = _cohort_codes(table[column].to_numpy(), first, periods.dtype)
    groups = pd.DataFrame(
        {
            "cohort": _cohort_codes(labels, first, periods.dtype),
            "role": np.where(labels == np.inf, _NEVER, np.where(labels == -np.inf, _ALWAYS, _TIMING)),
            "n_units": counts.astype(np.int64),
            "share": share,
            "treated_share": treated_share,
        }
    )
    return BaconResult(
        twfe=twfe, table=table[_COLUMNS], groups=groups, variance_d=variance_d, n_units=n_units, n_periods=n_periods
    )


def _did(means: np.ndarray, treated: int, control: int, post: np.ndarray, window: np.ndarray) -> float:
    """2x2 DiD of group means: change of ``treated`` minus change of ``control``, from pre to post in ``window``."""
    pre, post = window & ~post, window & post
    change = means[:, post].mean(axis=1) - means[:, pre].mean(axis=1)
    return float(change[treated] - change[control])


def _cohort_codes(labels: np.ndarray, first: object, dtype: np.dtype) -> np.ndarray:
    """Group labels as reported: never treated (inf) as 0, always treated (-inf) as the first period."""
    codes = np.where(labels == np.inf, 0, np.where(labels == -np.inf, first, labels))
    return codes.astype(dtype)


def _balanced_panel(
    df: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the input and return the outcome as ``units x periods``, the sorted periods and each unit's cohort."""
    missing = [c for c in dict.fromkeys([outcome, unit, time, cohort]) if c not in df.columns]
    if missing:
        raise EvaluationError(
            f"bacon_decomposition: column(s) {missing} not in the data (columns are {list(df.columns)}); "
            "check the names passed as outcome, unit, time and cohort."
        )
    for column in (outcome, time, cohort):
        if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
            raise EvaluationError(
                f"bacon_decomposition: column {column!r} has type {df[column].dtype}; it must be numeric "
                "(periods and first treated periods as numbers, e.g. years)."
            )
    for column in (outcome, unit, time):
        absent = df[column].isna().to_numpy()
        if column == outcome:
            absent = ~np.isfinite(df[column].to_numpy(dtype=float))
        if absent.any():
            row = df.index[int(np.argmax(absent))]
            raise EvaluationError(
                f"bacon_decomposition: column {column!r} has {int(absent.sum())} missing or infinite value(s) (first "
                f"at row {_plain(row)!r}); the decomposition needs a complete balanced panel: drop the units concerned "
                "or fill the values."
            )
    duplicated = df.duplicated([unit, time]).to_numpy()
    if duplicated.any():
        row = [_plain(v) for v in df[[unit, time]].iloc[np.argmax(duplicated)]]
        raise EvaluationError(
            f"bacon_decomposition: {int(duplicated.sum())} duplicated ({unit}, {time}) row(s) (first {row}); "
            "keep one row per unit and period."
        )

    unit_codes, units = pd.factorize(df[unit], sort=True)
    time_codes, periods = pd.factorize(df[time], sort=True)
    periods = np.asarray(periods)
    n_units, n_periods = len(units), len(periods)
    if n_periods < 2:
        raise ModelNotIdentifiedError(
            f"bacon_decomposition: the panel has {n_periods} period(s); it needs two or more."
        )
    observed = np.bincount(unit_codes, minlength=n_units)
    if (observed < n_periods).any():
        short = np.flatnonzero(observed < n_periods)
        example = units[short[0]]
        seen: np.ndarray = np.zeros(n_periods, dtype=bool)
        seen[time_codes[unit_codes == short[0]]] = True
        raise UnbalancedPanelError(
            f"bacon_decomposition: the panel is unbalanced: {short.size} of {n_units} units are not observed in "
            f"all {n_periods} periods of column {time!r} (unit {_plain(example)!r} lacks "
            f"{[_plain(p) for p in periods[~seen][:5]]}). The Goodman-Bacon decomposition holds only in a "
            f"balanced panel: keep the units observed in every period, e.g. "
            f"df[df.groupby({unit!r})[{time!r}].transform('size') == {n_periods}], or fill the missing rows."
        )

    values = df[cohort].to_numpy(dtype=float)
    first_row: np.ndarray = np.empty(n_units, dtype=np.int64)
    first_row[unit_codes[::-1]] = np.arange(len(df) - 1, -1, -1)
    unit_cohort = values[first_row]
    varying = ~((values == unit_cohort[unit_codes]) | (np.isnan(values) & np.isnan(unit_cohort[unit_codes])))
    if varying.any():
        example = units[unit_codes[np.argmax(varying)]]
        raise EvaluationError(
            f"bacon_decomposition: column {cohort!r} must be constant within each unit (the first treated period), "
            f"but unit {_plain(example)!r} has several values; fix the data."
        )
    numeric_periods = periods.astype(float)
    if numeric_periods[0] >= 0 and (unit_cohort < 0).any():
        raise EvaluationError(
            f"bacon_decomposition: column {cohort!r} has negative values but the periods are not negative; code the "
            "never treated as missing or 0 and the always treated as a period at or before the first."
        )
    if (unit_cohort == 0).any() and (numeric_periods == 0).any():
        raise EvaluationError(
            f"bacon_decomposition: 0 is a period of column {time!r} and a value of column {cohort!r}, where it "
            "means never treated; code the never treated as missing (NaN) instead."
        )
    inside = (unit_cohort > numeric_periods[0]) & (unit_cohort <= numeric_periods[-1])
    off_grid = inside & ~np.isin(unit_cohort, numeric_periods)
    if off_grid.any():
        j = int(np.argmax(off_grid))
        raise EvaluationError(
            f"bacon_decomposition: unit {_plain(units[j])!r} has cohort {unit_cohort[j]:g}, which is inside the "
            f"panel but not one of its periods (column {time!r}); code {cohort!r} as the first period in which the "
            "unit is treated."
        )

    y = np.empty((n_units, n_periods))
    y[unit_codes, time_codes] = df[outcome].to_numpy(dtype=float)
    return y, periods, unit_cohort


def _plain(value: object) -> object:
    """Return a numpy scalar as a plain Python value, for messages."""
    return value.item() if isinstance(value, np.generic) else value
