r"""Event-study tables and the joint pre-trend test from Callaway-Sant'Anna dynamic aggregation.

:func:`event_study` turns :func:`evaluation.methods.did.att_gt` into the data of the report's event-study
figure: :math:`\theta(e)` by event time with pointwise intervals and, when the bootstrap ran,
simultaneous bands (R ``did::ggdid`` on ``aggte(type = "dynamic")``).

:func:`pretrend_test` is the joint Wald test that all pre-treatment event-time effects are zero,

.. math:: W = \hat\theta_{pre}' \hat V_{pre}^{-1} \hat\theta_{pre} \sim \chi^2_q,

with :math:`\hat V_{pre}` the covariance of the pre-period :math:`\hat\theta(e), e < 0`, from their
influence functions (clustered when the estimate was). Event times whose estimate is identically zero
(the reference period with a universal base) carry no information and are left out. R ``did`` reports
the analogous test on the pre-period ATT(g,t) (``att_gt(...)$Wpval``); :func:`pretrend_test` with
``level="group_time"`` gives that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.did import AttGtResult
from evaluation.methods.did.influence import covariance_from_influence
from evaluation.results import TidyResult, tidy_frame

__all__ = ["PretrendTest", "event_study", "pretrend_test"]


@dataclass(frozen=True)
class PretrendTest(TidyResult):
    """Joint Wald test of zero pre-treatment effects."""

    statistic: float
    df: int
    p_value: float
    event_times: tuple[float, ...]

    def tidy(self) -> pd.DataFrame:
        """Return one row ``"pretrend"``: the Wald statistic as ``estimate``, its chi-squared p-value and ``df``.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, df`` (no SE or interval: NaN).
        """
        return tidy_frame([{"term": "pretrend", "estimate": self.statistic, "p_value": self.p_value, "df": self.df}])


def event_study(
    result: AttGtResult, *, min_e: float = -np.inf, max_e: float = np.inf, balance_e: int | None = None
) -> pd.DataFrame:
    """Event-study table: ``event_time, att, se, ci_low, ci_high, band_low, band_high, pre, n_treated``.

    ``ci_*`` are pointwise normal intervals; ``band_*`` are the bootstrap's simultaneous bands when the
    estimate was bootstrapped with uniform bands, and equal ``ci_*`` otherwise.
    """
    agg = result.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
    table = agg.table.copy()
    z = stats.norm.ppf(1 - result.inference.alpha / 2)
    table["band_low"], table["band_high"] = table["ci_low"], table["ci_high"]
    table["ci_low"] = table["att"] - z * table["se"]
    table["ci_high"] = table["att"] + z * table["se"]
    table["pre"] = table["event_time"] < 0
    return table[columns_of("results/{release}/estimate/event_study.csv")[1:]]  # the file's columns but outcome


def _wald(theta: np.ndarray, cov: np.ndarray, labels: tuple[float, ...]) -> PretrendTest:
    if theta.size == 0:
        raise ModelNotIdentifiedError("pretrend_test: no pre-treatment estimates to test")
    if np.linalg.cond(cov) > 1 / np.finfo(float).eps:
        raise ModelNotIdentifiedError("pretrend_test: the covariance of the pre-treatment estimates is singular")
    statistic = float(theta @ np.linalg.solve(cov, theta))
    return PretrendTest(statistic, int(theta.size), float(stats.chi2.sf(statistic, theta.size)), labels)


def pretrend_test(result: AttGtResult, *, level: Literal["event_time", "group_time"] = "event_time") -> PretrendTest:
    r"""Joint Wald test that the pre-treatment effects are all zero (module docstring).

    Parameters
    ----------
    result : AttGtResult
    level : {"event_time", "group_time"}
        Test the dynamic aggregates :math:`\\theta(e), e < 0` (default) or every pre-period ATT(g,t) as R
        ``did``'s ``Wpval``.
    """
    codes = result.inference.cluster_codes
    if level == "event_time":
        agg = result.aggregate("dynamic")
        pre = (agg.table["event_time"] < 0).to_numpy() & np.any(agg.influence != 0, axis=0)
        psi = agg.influence[:, pre]
        theta = agg.table["att"].to_numpy()[pre]
        labels = tuple(agg.table["event_time"].to_numpy()[pre].tolist())
    elif level == "group_time":
        tab = result.table
        pre = (tab["group"] > tab["time"]).to_numpy() & np.any(result.influence != 0, axis=0)
        psi = result.influence[:, pre]
        theta = tab["att"].to_numpy()[pre]
        labels = tuple(zip(tab["group"][pre], tab["time"][pre], strict=True))
    else:
        raise EvaluationError(f"pretrend_test: level must be 'event_time' or 'group_time'; got {level!r}")
    return _wald(theta, covariance_from_influence(psi, codes), labels)
