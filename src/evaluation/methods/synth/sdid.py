r"""Synthetic difference-in-differences for a block design.

Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. and Wager, S. (2021), "Synthetic
Difference-in-Differences", *American Economic Review* 111(12), 4088-4118 (AAHIW 2021). This module
reimplements the estimator and the standard errors of the authors' R package ``synthdid`` (version
0.0.9) in numpy, with its defaults.

With :math:`N_{co}` control units, :math:`N_{tr}` treated units, :math:`T_{pre}` pre-periods and
:math:`T_{post}` post-periods (all treated units adopt at ``treatment_time``), the estimate is the
weighted double difference (AAHIW 2021 eq. 1 and Algorithm 1)

.. math:: \hat\tau = \Big(\bar Y_{tr,post} - \sum_t \hat\lambda_t \bar Y_{tr,t}\Big)
          - \sum_i \hat\omega_i \Big(\bar Y_{i,post} - \sum_t \hat\lambda_t Y_{it}\Big),

where bars are means over the treated units and/or the post-periods. The unit weights solve
(eq. 2-3, with an intercept :math:`\omega_0`)

.. math:: \min_{\omega_0,\ \omega \in \Delta} \sum_{t \le T_{pre}}
          \Big(\omega_0 + \sum_i \omega_i Y_{it} - \bar Y_{tr,t}\Big)^2 + \zeta^2 T_{pre} \lVert\omega\rVert^2,
          \qquad \zeta = (N_{tr} T_{post})^{1/4}\,\hat\sigma,

with :math:`\hat\sigma` the standard deviation of the first differences of the control units'
pre-period outcomes (eq. 4), and the time weights solve (eq. 5, with an intercept
:math:`\lambda_0`) :math:`\min \sum_i (\lambda_0 + \sum_t \lambda_t Y_{it} - \bar Y_{i,post})^2
+ \zeta_\lambda^2 N_{co} \lVert\lambda\rVert^2` over the simplex, with the "infinitesimal"
:math:`\zeta_\lambda = 10^{-6}\hat\sigma`. The intercepts are profiled out by centring.

Both problems are solved as ``synthdid`` does: Frank-Wolfe with exact line search from uniform
weights, at most 100 iterations, then the weights at or below a quarter of their maximum are set to
zero ("sparsify") and Frank-Wolfe runs again from there for at most 10,000 iterations; a run stops
when an iteration lowers the objective by less than :math:`(10^{-5}\hat\sigma)^2`.

Standard errors (section 5 of AAHIW 2021):

- ``"placebo"`` (Algorithm 4): the treated units are dropped and :math:`N_{tr}` randomly chosen
  controls are declared treated; the estimator is refitted (weights re-solved from the original
  weights as starting values, with the original :math:`\zeta`'s) and the SE is the standard deviation
  (divisor ``replications``) of the placebo estimates. Needs more controls than treated units; the
  only choice with one treated unit.
- ``"bootstrap"`` (Algorithm 2): units are resampled with replacement (draws with no control or no
  treated unit are redrawn) and the estimator is refitted as for the placebo. Needs two treated units.
- ``"jackknife"`` (Algorithm 3): leave-one-unit-out with the weights held fixed (the omitted control's
  weight dropped and the rest rescaled); deterministic. Needs two treated units and two controls with
  positive weight.

Confidence intervals and p-values use the normal approximation :math:`\hat\tau \pm z_{1-\alpha/2}\,
\widehat{se}` (``synthdid``'s README and print method use 1.96). Pre-period: ``time < treatment_time``;
post-period: ``time >= treatment_time``.

API page: Synthetic difference-in-differences (`evaluation.methods.synth.synthetic_did`)
--------------------------------------------------------------------------------
```python
from evaluation.methods.synth import synthetic_did
fit = synthetic_did(df, unit="state", time="year", outcome="cigsale", treated="california", treatment_time=1989,
                    method="placebo", replications=200, seed=2021, level=0.95)  # or "bootstrap", "jackknife"
fit.att, fit.se, fit.unit_weights, fit.time_weights, fit.effect_curve   # omega by control, lambda by pre-period
fit.tidy()       # one row "ATT": estimate, se, ci_low, ci_high, p_value (normal approximation), n_treated, n_control
fit.summary()    # a few lines of text; fit.estimate() gives an evaluation.results.Estimate
```

Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021, AER) for a block design: every treated unit adopts at
`treatment_time`. `treated` may flag treated units or treated unit-periods (D_it, as R synthdid's
`panel.matrices`); a unit is treated if it is ever 1, and any other pattern raises `ModelNotIdentifiedError`, as
do an unbalanced panel, no treated or control unit, and a `treatment_time` that is not a period after the first.
Everything follows R synthdid 0.0.9's defaults: zeta_omega = (N_tr T_post)^(1/4) times the SD of the controls'
pre-period first differences, zeta_lambda = 1e-6 times it, intercepts in both weight problems, Frank-Wolfe for
100 iterations, sparsify, then up to 10,000. The SE is synthdid's `vcov`: `placebo` (the default, and the only
one with one treated unit), `bootstrap`, or the fixed-weights `jackknife` (deterministic; two treated units
needed); the placebo and bootstrap replications restart from the fitted weights with the original zetas and
are solved as one batch. On Prop 99 the estimate is -15.6038 (synthdid: -15.60383) with weights equal to
synthdid's to 1e-15 (`tests/test_synthetic_did.py`, references in `tests/reference/synth/`). One estimate takes
about 0.1 s (the 10,000 iterations run in Python; R synthdid about 0.3 s), a placebo SE with 200
replications 1-3 s on 98 units and 14 years.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import ConfigError, EvaluationError, ModelNotIdentifiedError
from evaluation.methods.synth.sdid_solver import fit_weights, sum_normalize
from evaluation.results import Estimate, TidyResult

__all__ = ["SyntheticDiD", "synthetic_did"]

SEMethod = Literal["placebo", "bootstrap", "jackknife"]

# synthdid_estimate's defaults (R/synthdid.R): eta.lambda and min.decrease, both per unit of noise level
_ETA_LAMBDA = 1e-6
_MIN_DECREASE = 1e-5


@dataclass(frozen=True)
class SyntheticDiD(TidyResult):
    r"""Result of :func:`synthetic_did`; ``tidy()`` has one row, the ATT.

    Attributes
    ----------
    att : float
        The SDID estimate of the average effect on the treated units in the post-period.
    se : float
        Standard error by ``method``.
    unit_weights : pandas.Series
        :math:`\hat\omega`, indexed by control unit (non-negative, sum 1).
    time_weights : pandas.Series
        :math:`\hat\lambda`, indexed by pre-period (non-negative, sum 1).
    effect_curve : pandas.Series
        By post-period: treated mean minus the unit-weighted control mean, less the same
        difference averaged over the pre-period with :math:`\hat\lambda` (its mean is ``att``;
        ``synthdid_effect_curve``).
    treated_units : tuple
        The treated units.
    treatment_time
        First treated period.
    method : str
        ``"placebo"``, ``"bootstrap"`` or ``"jackknife"``.
    replications : int
        Placebo or bootstrap replications (0 for the jackknife).
    noise_level, zeta_omega, zeta_lambda : float
        :math:`\hat\sigma` and the two regularisation parameters used.
    level : float
        Confidence level of ``tidy()``.
    replicate_estimates : numpy.ndarray
        The placebo, bootstrap or leave-one-out estimates behind ``se``.
    """

    att: float
    se: float
    unit_weights: pd.Series
    time_weights: pd.Series
    effect_curve: pd.Series
    treated_units: tuple[Hashable, ...]
    treatment_time: Any
    method: str
    replications: int
    noise_level: float
    zeta_omega: float
    zeta_lambda: float
    level: float = 0.95
    replicate_estimates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def n_treated(self) -> int:
        """Number of treated units."""
        return len(self.treated_units)

    @property
    def n_control(self) -> int:
        """Number of control units."""
        return len(self.unit_weights)

    def estimate(self) -> Estimate:
        """Return the result as the package's :class:`~evaluation.results.Estimate` (normal CI at ``level``).

        Returns
        -------
        Estimate
        """
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        p = float(2 * stats.norm.sf(abs(self.att / self.se))) if self.se > 0 else float("nan")
        return Estimate(
            estimate=self.att,
            se=self.se,
            ci_low=self.att - z * self.se,
            ci_high=self.att + z * self.se,
            n_treated=self.n_treated,
            n_control=self.n_control,
            p_value=p,
        )

    def tidy(self) -> pd.DataFrame:
        """Return one row ``"ATT"``: ``estimate, se, ci_low, ci_high, p_value`` (normal approximation).

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control``: :meth:`estimate` as a row.
        """
        return self.estimate().tidy("ATT")

    def summary(self) -> str:
        """Describe the result in a few lines: estimate, SE, CI and the effective numbers of controls and pre-periods.

        Returns
        -------
        str
        """
        e = self.estimate()
        omega, lam = self.unit_weights.to_numpy(), self.time_weights.to_numpy()
        top = self.unit_weights.sort_values(ascending=False).head(5)
        top_text = ", ".join(f"{u} {w:.3f}" for u, w in top.items() if w > 0)
        reps = f", {self.replications} replications" if self.replications else ""
        return "\n".join(
            [
                "Synthetic difference-in-differences (Arkhangelsky et al. 2021)",
                f"ATT {e.estimate:.4f}  SE {e.se:.4f} ({self.method}{reps})  "
                f"{self.level:.0%} CI [{e.ci_low:.4f}, {e.ci_high:.4f}]  p = {e.p_value:.4g}",
                f"Treated units {self.n_treated}, adopting at {self.treatment_time}; post-periods "
                f"{len(self.effect_curve)}",
                f"Controls {self.n_control} (effective {1 / np.sum(omega**2):.1f}); pre-periods {len(lam)} "
                f"(effective {1 / np.sum(lam**2):.1f})",
                f"Largest unit weights: {top_text}",
            ]
        )


def _double_difference(y: np.ndarray, omega: np.ndarray, lam: np.ndarray, n0: int, t0: int) -> float:
    r"""Return :math:`(-\omega, 1/N_{tr})' Y (-\lambda, 1/T_{post})` for fixed weights (``synthdid_estimate``)."""
    n1, t1 = y.shape[0] - n0, y.shape[1] - t0
    return float(np.r_[-omega, np.full(n1, 1 / n1)] @ y @ np.r_[-lam, np.full(t1, 1 / t1)])


def _refit(
    y: np.ndarray,
    control_rows: list[np.ndarray],
    treated_rows: list[np.ndarray],
    t0: int,
    omega: np.ndarray,
    lam: np.ndarray,
    tuning: dict[str, float],
) -> np.ndarray:
    """Re-estimate on subsamples of the rows of ``y``, starting from the full-sample weights.

    As ``synthdid``'s placebo and bootstrap replications: the weights are re-solved with the original
    tuning, from the original time weights and the original unit weights of the subsample's controls
    (rescaled to sum 1). Control rows may repeat (the bootstrap), each copy a control of its own.
    """
    n_max = max(len(c) for c in control_rows)
    controls = np.zeros((len(control_rows), n_max, y.shape[1]))
    omega0 = np.zeros((len(control_rows), n_max))
    for r, c in enumerate(control_rows):
        controls[r, : len(c)] = y[c]
        omega0[r, : len(c)] = sum_normalize(omega[c])
    treated_mean = np.stack([y[tr].mean(axis=0) for tr in treated_rows])
    lambda0 = np.tile(lam, (len(control_rows), 1))
    n_controls = np.array([len(c) for c in control_rows])
    return fit_weights(controls, treated_mean, t0, n_controls=n_controls, omega0=omega0, lambda0=lambda0, **tuning)[0]


def _placebo_estimates(
    y: np.ndarray,
    n0: int,
    t0: int,
    omega: np.ndarray,
    lam: np.ndarray,
    tuning: dict[str, float],
    perms: list[np.ndarray],
) -> np.ndarray:
    """AAHIW 2021 Algorithm 4: in each permutation of the controls the last ``N_tr`` play the treated."""
    n1 = y.shape[0] - n0
    return _refit(y, [p[: n0 - n1] for p in perms], [p[n0 - n1 :] for p in perms], t0, omega, lam, tuning)


def _bootstrap_estimates(
    y: np.ndarray,
    n0: int,
    t0: int,
    omega: np.ndarray,
    lam: np.ndarray,
    tuning: dict[str, float],
    draws: list[np.ndarray],
) -> np.ndarray:
    """AAHIW 2021 Algorithm 2 at given draws of unit rows (each with a control and a treated unit)."""
    draws = [np.sort(d) for d in draws]
    return _refit(y, [d[d < n0] for d in draws], [d[d >= n0] for d in draws], t0, omega, lam, tuning)


def _jackknife_estimates(y: np.ndarray, n0: int, t0: int, omega: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """AAHIW 2021 Algorithm 3: leave one unit out, weights fixed (a left-out control's weight dropped)."""
    out = []
    for i in range(y.shape[0]):
        rest = np.delete(y, i, axis=0)
        if i < n0:
            out.append(_double_difference(rest, sum_normalize(np.delete(omega, i)), lam, n0 - 1, t0))
        else:
            out.append(_double_difference(rest, omega, lam, n0, t0))
    return np.array(out)


def _validate(df: pd.DataFrame, unit: str, time: str, outcome: str, treated: str, treatment_time: Any) -> pd.DataFrame:
    for col in (unit, time, outcome, treated):
        if col not in df.columns:
            raise EvaluationError(f"synthetic DiD: column '{col}' is not in the data (columns {list(df.columns)}).")
    dup = df.duplicated([unit, time])
    if dup.any():
        first = df.loc[dup, [unit, time]].iloc[0].tolist()
        raise ModelNotIdentifiedError(
            f"synthetic DiD: {int(dup.sum())} duplicated ({unit}, {time}) rows (first {first}); "
            "aggregate to one row per unit and period first."
        )
    flag = df[treated]
    if flag.isna().any() or not flag.isin([0, 1]).all():
        bad = df.loc[flag.isna() | ~flag.isin([0, 1]), [unit, time, treated]].iloc[0].tolist()
        raise EvaluationError(f"synthetic DiD: column '{treated}' must be 0/1 without gaps (first bad row {bad}).")
    wide = df.pivot(index=unit, columns=time, values=outcome).sort_index().sort_index(axis=1)
    if wide.isna().any().any():
        holes = wide.isna()
        units = holes.index[holes.any(axis=1)].tolist()
        raise ModelNotIdentifiedError(
            f"synthetic DiD: the panel is not balanced: '{outcome}' is missing for {int(holes.sum().sum())} "
            f"unit-periods (units {units[:10]}); the method needs every unit in every period (drop them)."
        )
    periods = wide.columns
    if treatment_time not in periods or treatment_time == periods[0]:
        raise ModelNotIdentifiedError(
            f"synthetic DiD: treatment_time {treatment_time!r} must be a period after the first "
            f"(periods run {periods[0]}-{periods[-1]}), so that there are pre- and post-periods."
        )
    return wide


def _treated_units(df: pd.DataFrame, unit: str, time: str, treated: str, treatment_time: Any) -> list[Hashable]:
    """Treated units (``treated`` ever 1), after checking it is a unit flag or the block indicator D_it."""
    d = df.pivot(index=unit, columns=time, values=treated).sort_index().sort_index(axis=1).astype(int)
    ever = d.any(axis=1)
    post = np.asarray(d.columns >= treatment_time)
    for u in d.index[ever]:
        row = d.loc[u].to_numpy()
        if not (row.all() or np.array_equal(row, post.astype(int))):
            raise ModelNotIdentifiedError(
                f"synthetic DiD: '{treated}' of unit {u!r} is neither 1 in every period (a treated-unit flag) "
                f"nor 1 exactly from treatment_time {treatment_time!r} on (the block indicator D_it); "
                "the estimator needs all treated units to adopt at treatment_time."
            )
    return d.index[ever].tolist()


def synthetic_did(
    df: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    treated: str,
    treatment_time: Any,
    *,
    method: SEMethod = "placebo",
    replications: int = 200,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
) -> SyntheticDiD:
    r"""Estimate the ATT of a block adoption by synthetic difference-in-differences (AAHIW 2021).

    Follows ``synthdid_estimate`` (AAHIW 2021 Algorithm 1) with its defaults: unit weights with
    :math:`\zeta_\omega = (N_{tr}T_{post})^{1/4}\hat\sigma`, time weights with
    :math:`\zeta_\lambda = 10^{-6}\hat\sigma`, intercepts in both, Frank-Wolfe with the sparsification
    step (module docstring). The standard error follows ``vcov.synthdid_estimate``.

    Parameters
    ----------
    df
        Long balanced panel: one row per unit and period.
    unit, time, outcome
        Column names.
    treated
        Column with a 0/1 indicator: either of treated units (constant within unit) or of treated
        unit-periods (:math:`D_{it}`, as ``synthdid``'s ``panel.matrices``). A unit is treated if the
        column is ever 1.
    treatment_time
        First treated period; one of the periods, after the first.
    method
        Standard error: ``"placebo"`` (AAHIW 2021 Algorithm 4; the default and the only choice with
        one treated unit), ``"bootstrap"`` (Algorithm 2) or ``"jackknife"`` (Algorithm 3, fixed weights).
    replications
        Placebo or bootstrap replications (``synthdid``'s default 200).
    seed
        Seed or :class:`numpy.random.Generator` for the placebo and bootstrap draws.
    level
        Confidence level of :meth:`SyntheticDiD.tidy`.

    Returns
    -------
    SyntheticDiD

    Raises
    ------
    ConfigError
        For an unknown ``method``, fewer than two ``replications`` or a ``level`` outside (0, 1).
    EvaluationError
        For a missing column or a ``treated`` column that is not 0/1.
    ModelNotIdentifiedError
        For an unbalanced panel or duplicated rows, no treated or no control unit, a ``treatment_time``
        that leaves no pre- or post-period, fewer than two pre-periods, treated units that do not all
        adopt at ``treatment_time``, or a standard error the design cannot give (placebo: no more
        controls than treated units; bootstrap and jackknife: one treated unit).
    """
    if method not in get_args(SEMethod):
        raise ConfigError(f"synthetic DiD: method must be one of {get_args(SEMethod)}, not {method!r}.")
    if method != "jackknife" and (not isinstance(replications, int | np.integer) or replications < 2):
        raise ConfigError(f"synthetic DiD: replications must be an integer of at least 2, not {replications!r}.")
    if not 0 < level < 1:
        raise ConfigError(f"synthetic DiD: level must lie between 0 and 1, not {level!r}.")
    wide = _validate(df, unit, time, outcome, treated, treatment_time)
    treated_units = _treated_units(df, unit, time, treated, treatment_time)
    controls = [u for u in wide.index if u not in set(treated_units)]
    if not treated_units:
        raise ModelNotIdentifiedError(f"synthetic DiD: no treated unit ('{treated}' is never 1).")
    if not controls:
        raise ModelNotIdentifiedError(f"synthetic DiD: no control unit ('{treated}' is 1 for every unit).")
    pre_periods = wide.columns[wide.columns < treatment_time]
    t0, n0, n1 = len(pre_periods), len(controls), len(treated_units)
    if t0 < 2:
        raise ModelNotIdentifiedError(
            f"synthetic DiD: needs at least two pre-periods to estimate the noise level; treatment_time "
            f"{treatment_time!r} leaves {t0}."
        )
    y = wide.loc[[*controls, *treated_units]].to_numpy(dtype=float)
    t1 = y.shape[1] - t0

    if n0 * (t0 - 1) < 2:
        raise ModelNotIdentifiedError(
            f"synthetic DiD: the noise level needs at least two first differences of control outcomes before "
            f"treatment_time ({n0} controls, {t0} pre-periods)."
        )
    noise = float(np.std(np.diff(y[:n0, :t0], axis=1), ddof=1))
    tuning = {
        "zeta_omega": (n1 * t1) ** 0.25 * noise,
        "zeta_lambda": _ETA_LAMBDA * noise,
        "min_decrease": _MIN_DECREASE * noise,
    }
    att_b, omega_b, lam_b = fit_weights(y[None, :n0], y[None, n0:].mean(axis=1), t0, **tuning)
    att, omega, lam = float(att_b[0]), omega_b[0], lam_b[0]

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if method == "placebo":
        if n0 <= n1:
            raise ModelNotIdentifiedError(
                f"synthetic DiD: the placebo SE needs more controls than treated units ({n0} and {n1})."
            )
        perms = [rng.permutation(n0) for _ in range(replications)]
        reps = _placebo_estimates(y, n0, t0, omega, lam, tuning, perms)
        se = float(np.std(reps))  # synthdid: sqrt((r - 1) / r) * sd
    elif method == "bootstrap":
        if n1 < 2:
            raise ModelNotIdentifiedError("synthetic DiD: the bootstrap SE needs two treated units; use 'placebo'.")
        draws: list[np.ndarray] = []
        while len(draws) < replications:  # redraw samples without a control or without a treated unit
            ind = rng.integers(0, n0 + n1, size=n0 + n1)
            if (ind < n0).any() and (ind >= n0).any():
                draws.append(ind)
        reps = _bootstrap_estimates(y, n0, t0, omega, lam, tuning, draws)
        se = float(np.std(reps))
    else:
        if n1 < 2 or np.count_nonzero(omega) < 2:
            raise ModelNotIdentifiedError(
                "synthetic DiD: the jackknife SE needs two treated units and two controls with positive weight; "
                "use 'placebo'."
            )
        reps = _jackknife_estimates(y, n0, t0, omega, lam)
        n = n0 + n1
        se = float(np.sqrt((n - 1) / n * (n - 1) * np.var(reps, ddof=1)))
        replications = 0

    tau_sc = np.r_[-omega, np.full(n1, 1 / n1)] @ y
    curve = tau_sc[t0:] - tau_sc[:t0] @ lam
    return SyntheticDiD(
        att=att,
        se=se,
        unit_weights=pd.Series(omega, index=pd.Index(controls, name=unit), name="omega"),
        time_weights=pd.Series(lam, index=pd.Index(pre_periods, name=time), name="lambda"),
        effect_curve=pd.Series(curve, index=pd.Index(wide.columns[t0:], name=time), name="effect"),
        treated_units=tuple(treated_units),
        treatment_time=treatment_time,
        method=method,
        replications=int(replications),
        noise_level=noise,
        zeta_omega=tuning["zeta_omega"],
        zeta_lambda=tuning["zeta_lambda"],
        level=level,
        replicate_estimates=np.asarray(reps, dtype=float),
    )
