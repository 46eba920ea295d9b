r"""The synthetic control method with placebo-in-space inference.

Abadie, A. and Gardeazabal, J. (2003), "The Economic Costs of Conflict: A Case
Study of the Basque Country", *American Economic Review* 93(1), 113-132; Abadie,
A., Diamond, A. and Hainmueller, J. (2010), "Synthetic Control Methods for
Comparative Case Studies", *JASA* 105(490), 493-505 (ADH 2010).

For one treated unit and donors :math:`j = 2, \dots, J+1` the synthetic unit is
:math:`\hat Y^N_{1t} = \sum_j w_j Y_{jt}` with weights on the simplex (ADH 2010
eq. 2-4; see :mod:`evaluation.methods.synth.solver` for how they are solved). The gap
:math:`Y_{1t} - \hat Y^N_{1t}` estimates the effect in period :math:`t \ge T_0`;
the ATT reported is its mean over the post period.

Inference (ADH 2010 section 2.4 and 3.3): every donor in turn is treated as if
it had adopted at :math:`T_0`, with the other donors as its pool (the real
treated unit is left out of every placebo pool). For each unit the ratio of
post- to pre-period root mean squared prediction error (RMSPE) is computed,
and the p-value is the rank of the treated unit's ratio among all
:math:`J + 1` ratios divided by :math:`J + 1`: the share of units, the treated
included, whose ratio is at least the treated one.

Conventions: pre period = periods before ``treatment_time``, post period = from
``treatment_time`` on; all periods in the data are used. With ``predictors=None``
the predictors are the outcome in every pre-period with equal importance (V = I),
so that the weights minimise the sum of squared pre-period gaps.

With predictors the specification follows R's ``Synth`` (``dataprep`` + ``synth``):
predictors are averaged as in :mod:`evaluation.methods.synth.predictors`, divided by their
standard deviation across the treated unit and its donors, and V minimises the mean
squared outcome gap over ``optimisation_periods`` (``time.optimize.ssr``) unless a
``custom_v`` is given. The V search is multi-start (:func:`~evaluation.methods.synth.solver.optimise_v`)
and can find a smaller loss than ``Synth``'s local search; the nested problem often has
several optima with different weights (Klößner, Kaul, Pfeifer and Schieler 2018,
*Swiss Journal of Economics and Statistics* 154:11; Becker and Klößner 2018,
*Econometrics and Statistics* 5, 1-19). ``SyntheticControl.v_loss`` reports the loss so
that fits can be compared, and ``custom_v`` reproduces a published V exactly.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.synth.predictors import PredictorSpec, custom_importances, predictor_table
from evaluation.methods.synth.solver import optimise_v, simplex_weights
from evaluation.results import TidyResult, tidy_frame

__all__ = ["SyntheticControl", "synthetic_control", "PredictorSpec"]

_PLACEBO_POOLS = ("donors", "all")
_TIDY_EXTRA = ("pre_rmspe", "post_rmspe", "ratio", "n_donors", "n_placebos")


@dataclass(frozen=True)
class SyntheticControl(TidyResult):
    """Result of :func:`synthetic_control`; ``tidy()`` has one row, the ATT.

    Attributes
    ----------
    treated, treatment_time
        The treated unit and its first treated period.
    weights : pandas.Series
        Donor weights indexed by donor unit (non-negative, sum 1).
    v : pandas.Series or None
        Predictor importances (sum 1), None when matching on pre-period outcomes.
    predictor_balance : pandas.DataFrame
        By predictor: ``treated``, ``synthetic``, ``donor_mean`` (unstandardised).
    observed, synthetic, gap : pandas.Series
        By period: outcome of the treated unit, of its synthetic control, and their difference.
    att : float
        Mean post-period gap.
    pre_rmspe, post_rmspe, ratio : float
        Root mean squared gap before and from ``treatment_time``, and post/pre.
    placebos : pandas.DataFrame
        One row per donor run as a placebo: ``unit, pre_rmspe, post_rmspe, ratio, att``
        (empty when ``placebo=False``).
    placebo_gaps : pandas.DataFrame
        Gaps of the placebo runs, periods by unit.
    p_value : float or None
        Placebo-in-space p-value (None when ``placebo=False``).
    v_loss : float or None
        Mean squared outcome gap over the optimisation periods: the loss that V minimises
        (R ``synth``'s ``loss.v``).
    """

    treated: Hashable
    treatment_time: Any
    weights: pd.Series
    v: pd.Series | None
    predictor_balance: pd.DataFrame
    observed: pd.Series
    synthetic: pd.Series
    gap: pd.Series
    att: float
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    placebos: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    p_value: float | None = None
    v_loss: float | None = None

    def gap_data(self, *, max_pre_rmspe_ratio: float | None = None) -> pd.DataFrame:
        """Long table of the gap figure: ``unit, time, gap, role`` (``treated`` or ``placebo``).

        Parameters
        ----------
        max_pre_rmspe_ratio
            Leave out placebos whose pre-period RMSPE exceeds this multiple of the treated
            unit's (ADH 2010 Figures 5-7 use MSPE multiples 20, 5 and 2); None keeps all.

        Returns
        -------
        pandas.DataFrame
        """
        rows = [pd.DataFrame({"unit": self.treated, "time": self.gap.index, "gap": self.gap.to_numpy()})]
        rows[0]["role"] = "treated"
        keep = self.placebos
        if max_pre_rmspe_ratio is not None and not keep.empty:
            keep = keep.loc[keep["pre_rmspe"] <= max_pre_rmspe_ratio * self.pre_rmspe]
        for unit in keep.get("unit", []):
            g = self.placebo_gaps[unit]
            rows.append(pd.DataFrame({"unit": unit, "time": g.index, "gap": g.to_numpy(), "role": "placebo"}))
        return pd.concat(rows, ignore_index=True)

    def tidy(self) -> pd.DataFrame:
        """Return one row ``"ATT"``: the mean post-period gap, the placebo p-value and the fit.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, pre_rmspe, post_rmspe, ratio, n_donors, n_placebos``;
            no SE or interval (NaN), and ``p_value`` NaN without placebos.
        """
        row = {"term": "ATT", "estimate": self.att, "p_value": self.p_value}
        return tidy_frame([{**row, **{k: v for k, v in self.to_dict().items() if k in _TIDY_EXTRA}}])

    def _heading(self) -> str:
        v = "" if self.v_loss is None else f", V loss {self.v_loss:.4g}"
        return f"Synthetic control of {self.treated} from {self.treatment_time}{v}"

    def to_dict(self) -> dict[str, Any]:
        """Return the scalar results as a plain dictionary (for ``results/`` JSON files).

        Before the common result interface this was ``summary()``, which now returns text.

        Returns
        -------
        dict
            ``treated, treatment_time, att, pre_rmspe, post_rmspe, ratio, p_value, n_donors, n_placebos, v_loss``.
        """
        return {
            "treated": self.treated,
            "treatment_time": self.treatment_time,
            "att": self.att,
            "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe,
            "ratio": self.ratio,
            "p_value": self.p_value,
            "n_donors": int(len(self.weights)),
            "n_placebos": int(len(self.placebos)),
            "v_loss": self.v_loss,
        }


def _wide(df: pd.DataFrame, unit: str, time: str, column: str) -> pd.DataFrame:
    dup = df.duplicated([unit, time])
    if dup.any():
        first = df.loc[dup, [unit, time]].iloc[0].tolist()
        raise EvaluationError(
            f"synthetic control: {int(dup.sum())} duplicated ({unit}, {time}) rows (first {first}); "
            "aggregate to one row per unit and period first."
        )
    return df.pivot(index=time, columns=unit, values=column).sort_index()


def _fit_one(
    outcome: pd.DataFrame,
    predictors: pd.DataFrame | None,
    treated: Hashable,
    donors: list[Hashable],
    pre: np.ndarray,
    optimisation: np.ndarray,
    custom_v: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Weights, importances and the synthetic outcome path of one unit."""
    z = outcome.to_numpy(dtype=float)
    cols = {u: i for i, u in enumerate(outcome.columns)}
    y1 = z[:, cols[treated]]
    y0 = z[:, [cols[d] for d in donors]]
    if predictors is None:
        w = simplex_weights(y1[pre], y0[pre])
        v = None
    else:
        units = [treated, *donors]
        table = predictors.reindex(columns=units)
        if table.isna().any().any():
            holes = table.isna()
            raise ModelNotIdentifiedError(
                f"synthetic control: predictor {holes.index[holes.any(axis=1)][0]} has no value in its periods "
                f"for units {holes.columns[holes.any(axis=0)].tolist()[:10]}; change its periods or drop the units."
            )
        x = table.to_numpy(dtype=float)
        sd = x.std(axis=1, ddof=1)
        sd[sd == 0] = 1.0
        xs = x / sd[:, None]
        if custom_v is None:
            v, w, _ = optimise_v(xs[:, 0], xs[:, 1:], y1[optimisation], y0[optimisation])
        else:
            v, w = custom_v, simplex_weights(xs[:, 0], xs[:, 1:], custom_v)
    return w, v, y0 @ w


def _rmspe(gap: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap**2))) if len(gap) else float("nan")


def synthetic_control(
    df: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    treated: Hashable,
    treatment_time: Any,
    predictors: Sequence[PredictorSpec] | None = None,
    placebo: bool = True,
    *,
    donors: Sequence[Hashable] | None = None,
    optimisation_periods: Sequence[Any] | None = None,
    predictor_periods: Sequence[Any] | None = None,
    custom_v: Sequence[float] | Mapping[Hashable, float] | None = None,
    placebo_pool: Literal["donors", "all"] = "donors",
) -> SyntheticControl:
    """Estimate the effect on one treated unit with a synthetic control (ADH 2010).

    Parameters
    ----------
    df
        Long panel: one row per unit and period (balanced in the outcome).
    unit, time, outcome
        Column names.
    treated
        Label of the treated unit.
    treatment_time
        First treated period (pre period: ``time < treatment_time``).
    predictors
        None: match on the outcome in every pre-period (V = I). Otherwise a list of
        predictors, each a column name (its mean over ``predictor_periods``) or
        ``(column, periods)`` (its mean over ``periods``, which may lie outside the
        pre-period window, e.g. ``("y", [1975])`` for a lagged outcome); missing values
        are skipped. V is then chosen by the nested optimisation. Predictors are divided
        by their standard deviation across the treated unit and its donors (as ``Synth``).
    placebo
        Run the placebo-in-space analysis (one synthetic control per donor, each with its
        own V search unless ``custom_v`` is given).
    donors
        Donor pool (default: every other unit).
    optimisation_periods
        Periods whose outcome fit chooses V (R ``time.optimize.ssr``; default: all
        pre-periods; ADH 2010 use 1970-1988, Abadie and Gardeazabal 2003 use 1960-1969).
    predictor_periods
        Periods over which plain column predictors are averaged (R ``time.predictors.prior``;
        default: all pre-periods).
    custom_v
        Fixed predictor importances instead of the V search (R ``custom.v``): one
        non-negative number per predictor, in the order of ``predictors`` or keyed by
        predictor label (``"lnincome[1980-1988]"``); scaled to sum 1. Used for the placebos too.
    placebo_pool
        ``"donors"``: each placebo's pool is the other donors, the treated unit left out
        (its post-period outcome is affected by the treatment). ``"all"``: the treated unit
        joins each placebo pool, as in ADH 2010, section 3.3.

    Returns
    -------
    SyntheticControl

    Raises
    ------
    EvaluationError
        For missing columns, an unknown treated unit, or an empty pre or post period.
    ModelNotIdentifiedError
        For a missing outcome in a used period, a missing predictor, or fewer than two donors.
    """
    if placebo_pool not in _PLACEBO_POOLS:
        raise EvaluationError(f"synthetic control: placebo_pool must be one of {_PLACEBO_POOLS}, not {placebo_pool!r}.")
    if custom_v is not None and predictors is None:
        raise EvaluationError("synthetic control: custom_v needs predictors (without them V = I).")
    for col in (unit, time, outcome):
        if col not in df.columns:
            raise EvaluationError(f"synthetic control: column '{col}' is not in the data (columns {list(df.columns)}).")
    wide = _wide(df, unit, time, outcome)
    if treated not in wide.columns:
        raise EvaluationError(f"synthetic control: treated unit {treated!r} is not in column '{unit}'.")
    pool = [u for u in (wide.columns if donors is None else donors) if u != treated]
    unknown = [u for u in pool if u not in wide.columns]
    if unknown:
        raise EvaluationError(f"synthetic control: donors {unknown} are not in column '{unit}'.")
    if len(pool) < 2:
        raise ModelNotIdentifiedError("synthetic control: needs at least two donor units.")
    wide = wide[[treated, *pool]]
    missing = wide.columns[wide.isna().any()].tolist()
    if missing:
        raise ModelNotIdentifiedError(
            f"synthetic control: outcome '{outcome}' is missing in some periods for units {missing[:10]}; "
            "the method needs a balanced panel (drop those units or periods)."
        )
    periods = wide.index.to_numpy()
    pre = periods < treatment_time
    if pre.sum() == 0 or pre.all():
        raise EvaluationError(
            f"synthetic control: treatment_time {treatment_time!r} leaves no pre or no post periods "
            f"(periods run {periods[0]}-{periods[-1]})."
        )
    optimisation = pre if optimisation_periods is None else np.isin(periods, list(optimisation_periods))
    if not optimisation.any():
        raise EvaluationError(
            f"synthetic control: optimisation_periods {list(optimisation_periods or [])} are not in the data."
        )
    table, fixed_v = None, None
    if predictors is not None:
        default_periods = periods[pre] if predictor_periods is None else list(predictor_periods)
        table = predictor_table(df, unit, time, list(predictors), default_periods)
        if custom_v is not None:
            fixed_v = custom_importances(custom_v, table.index)

    w, v, synth = _fit_one(wide, table, treated, pool, pre, optimisation, fixed_v)
    observed = wide[treated].astype(float)
    gap = observed - synth
    g = gap.to_numpy()
    pre_rmspe, post_rmspe = _rmspe(g[pre]), _rmspe(g[~pre])
    if table is not None:
        x = table[[treated, *pool]].to_numpy(dtype=float)
        balance = pd.DataFrame(
            {"treated": x[:, 0], "synthetic": x[:, 1:] @ w, "donor_mean": x[:, 1:].mean(axis=1)}, index=table.index
        )
        v_series = pd.Series(v, index=table.index, name="v")
    else:
        pre_idx = wide.index[pre]
        y0 = wide.loc[pre_idx, pool].to_numpy(dtype=float)
        balance = pd.DataFrame(
            {"treated": observed[pre_idx].to_numpy(), "synthetic": y0 @ w, "donor_mean": y0.mean(axis=1)},
            index=pd.Index([f"{outcome}[{t}]" for t in pre_idx], name="predictor"),
        )
        v_series = None

    placebos = pd.DataFrame(columns=["unit", "pre_rmspe", "post_rmspe", "ratio", "att"])
    placebo_gaps = pd.DataFrame(index=wide.index)
    p_value = None
    ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")
    if placebo:
        rows, gaps = [], {}
        for d in pool:
            others = [u for u in pool if u != d]
            if placebo_pool == "all":
                others = [treated, *others]
            _, _, s = _fit_one(wide, table, d, others, pre, optimisation, fixed_v)
            gd = wide[d].to_numpy(dtype=float) - s
            a, b = _rmspe(gd[pre]), _rmspe(gd[~pre])
            rows.append(
                {
                    "unit": d,
                    "pre_rmspe": a,
                    "post_rmspe": b,
                    "ratio": b / a if a > 0 else np.inf,
                    "att": gd[~pre].mean(),
                }
            )
            gaps[d] = gd
        placebos = pd.DataFrame(rows)
        placebo_gaps = pd.DataFrame(gaps, index=wide.index)
        p_value = float((1 + np.sum(placebos["ratio"].to_numpy() >= ratio)) / (1 + len(placebos)))

    return SyntheticControl(
        treated=treated,
        treatment_time=treatment_time,
        weights=pd.Series(w, index=pd.Index(pool, name=unit), name="weight"),
        v=v_series,
        predictor_balance=balance,
        observed=observed.rename("observed"),
        synthetic=pd.Series(synth, index=wide.index, name="synthetic"),
        gap=gap.rename("gap"),
        att=float(g[~pre].mean()),
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        ratio=float(ratio),
        placebos=placebos,
        placebo_gaps=placebo_gaps,
        p_value=p_value,
        v_loss=float(np.mean(g[optimisation] ** 2)),
    )
