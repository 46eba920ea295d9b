r"""Aggregations of group-time ATTs (Callaway and Sant'Anna 2021, section 3; R ``did::aggte``).

With :math:`p_g` the (weighted) share of units in cohort :math:`g`:

``"simple"``
    :math:`\theta = \sum_{g \le t \le g + e_{max}} p_g ATT(g,t) / \sum p_g`: every post-treatment
    cell weighted by its cohort's size.
``"group"``
    :math:`\theta(g) = \frac{1}{T - g + 1} \sum_{t \ge g} ATT(g,t)` per cohort, and overall
    :math:`\sum_g p_g \theta(g) / \sum_g p_g` (eq. 3.8-3.9).
``"dynamic"``
    :math:`\theta(e) = \sum_g p_g 1\{g + e \le T\} ATT(g, g+e) / \sum_g p_g 1\{g + e \le T\}` per event
    time :math:`e` (eq. 3.4), within ``[min_e, max_e]``; with ``balance_e`` only cohorts observed
    for ``balance_e`` periods after treatment (eq. 3.6). Overall: the mean of :math:`\theta(e)`,
    :math:`e \ge 0`.
``"calendar"``
    :math:`\theta(t) = \sum_{g \le t} p_g ATT(g,t) / \sum_{g \le t} p_g` per period from the first
    treatment on (eq. 3.10); overall: their mean.

Standard errors come from the aggregated influence functions, including the term for the estimated
weights :math:`p_g` (:func:`evaluation.methods.did.influence.weight_influence`); with the bootstrap, from the
multiplier bootstrap of those influence functions, and the rows' intervals are uniform bands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did.influence import aggregate_influence, covariance_from_influence, weight_influence
from evaluation.results import Estimate, TidyResult, tidy_estimates, tidy_rows

if TYPE_CHECKING:
    from evaluation.methods.did.att_gt import AttGtResult

__all__ = ["AggregateResult", "aggregate"]

AggregationKind = Literal["simple", "dynamic", "group", "calendar"]
_KINDS = ("simple", "dynamic", "group", "calendar")
_INDEX = {"dynamic": "event_time", "group": "group", "calendar": "time"}
_TERM_KEY = {"dynamic": "e", "group": "g", "calendar": "t"}


@dataclass(frozen=True)
class AggregateResult(TidyResult):
    """An aggregation of ATT(g,t): the overall :class:`Estimate` and, except ``"simple"``, a table of rows.

    Attributes
    ----------
    kind : str
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    overall : Estimate
        The overall summary (pointwise normal interval; bootstrap scale when the bootstrap ran).
    table : pandas.DataFrame
        ``event_time`` (or ``group``, ``time``), ``att, se, ci_low, ci_high``; empty for ``"simple"``.
    influence : numpy.ndarray
        ``n_units x len(table)`` influence functions of the rows.
    overall_influence : numpy.ndarray
        Influence function of the overall summary.
    crit_val : float
        Critical value of the rows' intervals (sup-t when bootstrapped with uniform bands).
    """

    kind: str
    overall: Estimate
    table: pd.DataFrame
    influence: np.ndarray
    overall_influence: np.ndarray
    crit_val: float
    cluster_codes: np.ndarray | None = None

    def covariance(self) -> np.ndarray:
        """Analytic covariance matrix of the rows of :attr:`table`."""
        return covariance_from_influence(self.influence, self.cluster_codes)

    def tidy(self) -> pd.DataFrame:
        """Return the overall summary (``"ATT"``), then one row per row of :attr:`table`.

        The rows' terms are ``"ATT(e=<event time>)"``, ``"ATT(g=<group>)"`` or ``"ATT(t=<time>)"``.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control``, and for ``"dynamic"``,
            ``"group"`` and ``"calendar"`` the column of :attr:`table`'s index (``event_time``, ``group`` or
            ``time``; empty on the overall row). The rows have no p-value (NaN), nor a control count.
        """
        overall = tidy_estimates({"ATT": self.overall})
        if self.kind not in _INDEX:
            return overall
        return tidy_rows(self.table, {_TERM_KEY[self.kind]: _INDEX[self.kind]}, estimate="att", first=overall)

    def _heading(self) -> str:
        return f"Aggregated ATT(g,t), {self.kind} (Callaway and Sant'Anna 2021; R did::aggte)"


def _overall(result: AttGtResult, att: float, psi: np.ndarray, n_treated: int, n_control: int) -> Estimate:
    inference = result.inference
    if np.isnan(att):
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), n_treated, n_control, None)
    se_arr, _ = inference.standard_errors(psi)
    se = float(se_arr[0])
    z = float(stats.norm.ppf(1 - inference.alpha / 2))
    p_value = float(2 * stats.norm.sf(abs(att / se))) if se > 0 else None
    return Estimate(att, se, att - z * se, att + z * se, n_treated, n_control, p_value)


def aggregate(
    result: AttGtResult,
    kind: AggregationKind = "dynamic",
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
) -> AggregateResult:
    """Aggregate group-time ATTs (module docstring); the semantics are those of R ``did::aggte``.

    Parameters
    ----------
    result : AttGtResult
        Output of :func:`evaluation.methods.did.att_gt`.
    kind : {"simple", "dynamic", "group", "calendar"}
    min_e, max_e : float
        Event-time window of ``"dynamic"``; ``max_e`` also caps the cells of ``"simple"`` and ``"group"``.
    balance_e : int or None
        ``"dynamic"`` only: keep cohorts observed at least ``balance_e`` periods after treatment.

    Returns
    -------
    AggregateResult
    """
    if kind not in _KINDS:
        raise EvaluationError(f"aggregate: kind must be one of {', '.join(_KINDS)}; got {kind!r}")
    tab = result.table
    group = tab["group"].to_numpy(dtype=float)
    time = tab["time"].to_numpy(dtype=float)
    att = tab["att"].to_numpy(dtype=float)
    psi = result.influence
    unit_group, unit_w = result.unit_group, result.unit_weights
    glist = np.unique(group)
    p_of_group = {g: float(np.mean(unit_w * (unit_group == g))) for g in glist}
    pg = np.array([p_of_group[g] for g in group])
    n_control = int(np.sum(unit_group == 0))

    def n_treated_of(which: np.ndarray) -> int:
        return int(np.isin(unit_group, np.unique(group[which])).sum())

    keepers = np.flatnonzero((group <= time) & (time <= group + max_e))
    if kind == "simple":
        if keepers.size == 0:
            raise ModelNotIdentifiedError("aggregate: no post-treatment group-time cells to average")
        w = pg[keepers] / pg[keepers].sum()
        value = float(np.sum(att[keepers] * w))
        wif = weight_influence(keepers, pg, unit_w, unit_group, group)
        inf = aggregate_influence(att, psi, keepers, w, wif)
        overall = _overall(result, value, inf, n_treated_of(keepers), n_control)
        return AggregateResult(
            "simple",
            overall,
            pd.DataFrame(columns=["att", "se", "ci_low", "ci_high"]),
            inf[:, None],
            inf,
            float("nan"),
            result.inference.cluster_codes,
        )

    labels, values, columns, n_treat = [], [], [], []
    if kind == "group":
        for g in glist:
            which = np.flatnonzero((group == g) & (g <= time) & (time <= group + max_e))
            if which.size == 0:
                continue
            w = pg[which] / pg[which].sum()
            labels.append(g)
            values.append(float(np.mean(att[which])))
            columns.append(aggregate_influence(att, psi, which, w))
            n_treat.append(n_treated_of(which))
        row_att, row_psi = np.array(values), np.column_stack(columns)
        pgg = np.array([p_of_group[g] for g in labels])
        w_all = pgg / pgg.sum()
        wif = weight_influence(np.arange(len(labels)), pgg, unit_w, unit_group, np.array(labels))
        overall_inf = aggregate_influence(row_att, row_psi, np.arange(len(labels)), w_all, wif)
        overall_value = float(np.sum(row_att * w_all))
    elif kind == "dynamic":
        event = time - group
        include = np.ones(len(att), dtype=bool)
        if balance_e is not None:
            include = (time.max() - group) >= balance_e
        eseq = np.unique(event[include])
        if balance_e is not None:
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - time.max() + time.min())]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        for e in eseq:
            which = np.flatnonzero((event == e) & include)
            w = pg[which] / pg[which].sum()
            labels.append(e)
            values.append(float(np.sum(att[which] * w)))
            wif = weight_influence(which, pg, unit_w, unit_group, group)
            columns.append(aggregate_influence(att, psi, which, w, wif))
            n_treat.append(n_treated_of(which))
        if not labels:
            raise ModelNotIdentifiedError("aggregate: no event times inside [min_e, max_e]")
        row_att, row_psi = np.array(values), np.column_stack(columns)
        post = np.flatnonzero(np.array(labels) >= 0)
        if post.size:
            overall_value = float(np.mean(row_att[post]))
            overall_inf = aggregate_influence(row_att, row_psi, post, np.full(post.size, 1 / post.size))
        else:
            overall_value, overall_inf = float("nan"), np.zeros(psi.shape[0])
    else:
        periods = np.unique(time)
        for t in periods[periods >= group.min()]:
            which = np.flatnonzero((time == t) & (group <= time))
            if which.size == 0:
                continue
            w = pg[which] / pg[which].sum()
            labels.append(t)
            values.append(float(np.sum(att[which] * w)))
            wif = weight_influence(which, pg, unit_w, unit_group, group)
            columns.append(aggregate_influence(att, psi, which, w, wif))
            n_treat.append(n_treated_of(which))
        row_att, row_psi = np.array(values), np.column_stack(columns)
        k = len(labels)
        overall_value = float(np.mean(row_att))
        overall_inf = aggregate_influence(row_att, row_psi, np.arange(k), np.full(k, 1 / k))

    se, crit = result.inference.standard_errors(row_psi)
    table = pd.DataFrame({_INDEX[kind]: labels, "att": row_att, "se": se})
    table["ci_low"] = table["att"] - crit * table["se"]
    table["ci_high"] = table["att"] + crit * table["se"]
    table["n_treated"] = n_treat
    if kind != "group":
        table[_INDEX[kind]] = table[_INDEX[kind]].astype(int) if np.all(np.mod(labels, 1) == 0) else table[_INDEX[kind]]
    overall_treated = int(np.isin(unit_group, glist).sum())
    overall = _overall(result, overall_value, overall_inf, overall_treated, n_control)
    return AggregateResult(kind, overall, table, row_psi, overall_inf, crit, result.inference.cluster_codes)
