r"""Randomization inference that redoes the matched design for every reassignment of the adoption schedule.

With fewer adopting municipalities than ``inference.wild_bootstrap_min``, the few-cluster policy
(:mod:`evaluation.methods.inference.policy`) uses randomization inference: the adoption schedule is reassigned across
municipalities, the estimator is recomputed for each reassignment, and the observed estimate is compared with
these placebo estimates (Fisher 1935; MacKinnon and Webb 2020). The headline is not the estimator alone but a
design: the children of the adopting municipalities are matched to children of the others
(:func:`evaluation.steps.compare.match_cohort`), and the imputation estimator runs on those matched children
(:func:`evaluation.steps.estimate.headline_fit`). For the placebo estimates to have the distribution the observed one
would have under the null, each reassignment must go through the same design. Reusing the observed matched
sample instead (:func:`evaluation.methods.did.imputation_inference.imputation_randomization`) gives a placebo
municipality only the few comparison children who happen to live there; its placebo estimate is then far noisier
than an adopter's, and the test, though valid, is very conservative: with one adopter in the synthetic registry
its intervals were about eight times wider than the estimate's sampling error.

Here each reassignment rebuilds the treatment columns of the cohort panel
(:func:`evaluation.methods.inference.randomization.reassign_adoption`), matches again with the study's matching settings
and seed, and refits every child-level headline outcome. The statistic is studentised, each placebo estimate divided
by its own BJS standard error (the "randomization-t" of Young 2019, *QJE* 134(2), 557-598; Wu and Ding 2021,
*JASA* 116(536), 1898-1913): municipalities differ greatly in size, so a small placebo municipality's estimate
is noisy and, unstudentised, it would set the critical value for a large adopter's far more precise one. The
test stays exact under the sharp null whatever the statistic. The interval inverts the test of a constant effect
:math:`\tau_0` as in :func:`evaluation.methods.did.imputation_inference.randomization_interval`: under
:math:`\tau_0` the
untreated outcome is :math:`Y - \tau_0 D_{obs}`, and since each placebo fit is linear in the outcome its
statistic is :math:`a_b - \tau_0 c_b` with :math:`a_b` the placebo estimate of :math:`Y` and :math:`c_b` the
same fit applied to :math:`D_{obs}`; its standard error is linear in the outcome as well
(:func:`evaluation.methods.did.imputation_inference.applied_att`). Matching uses
only baseline covariates, which the reform cannot change, so the matched samples do not depend on
:math:`\tau_0`. With one adopter every reassignment is enumerated (as many as there are municipalities); with
more, ``inference.redesign_permutations`` random ones are drawn with ``inference.seed``. A reassignment for
which the design cannot be built (its municipality has no child to match, or no child-year to impute from) has
no placebo estimate and is left out of the reference distribution
(:func:`~evaluation.methods.did.imputation_inference.randomization_interval`); the log counts them.

Municipality-year outcomes (``caseload``) have no matching; their randomization inference
(:func:`~evaluation.methods.did.imputation_inference.imputation_randomization`, studentised in the pipeline) already
redoes the whole design.

Validation (a Monte Carlo script, not in the repository; ``tiny``, Herning the only adopter, no effect, 25
replications): no interval missed the truth for SDQ, school absence, cost per child or placement rate, and the
median interval was 1.3 to 1.9 times as wide as the sampling error of the estimates implies (2 x 1.96 x their SD),
against about eight times when the observed matched sample was reused.

API page: Analysis steps (`evaluation.steps.cohort`, `evaluation.steps.compare`, `evaluation.steps.estimate`)
-------------------------------------------------------------------------------------------
```python
from evaluation.steps.design_randomization import design_randomization
    # panel, fits, config, progress -> {outcome: FewClusterInterval} (matching redone per reassignment)
```
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import setting
from evaluation.errors import EvaluationError
from evaluation.methods.did.imputation_inference import FewClusterInterval, applied_att, randomization_interval
from evaluation.methods.inference.randomization import randomization_inference

__all__ = ["design_randomization"]

#: Column of the panel carrying the observed treatment through the reassignments.
_OBSERVED = "_treated_observed"


def _placebo(panel: pd.DataFrame, outcomes: list[str], config: Mapping[str, Any]) -> dict[str, tuple[float, ...]]:
    """Match and fit under one reassignment.

    Returns, for each outcome the design could estimate, ``(a_b, c_b)`` and the products ``(yy, yd, dd)`` of its
    cluster scores of ``Y`` and ``D_obs``.
    """
    from evaluation.steps.compare import match_cohort
    from evaluation.steps.estimate import headline_fit, headline_sample

    def quiet(_message: str) -> None:
        return None

    # the event study's placebo leads come from a second fit that the ATT does not use
    config = {**config, "estimation": {**(config.get("estimation") or {}), "event_leads": 0}}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            matched = match_cohort(panel, config, quiet, score_solver="newton", balance=False).matched
            sample, covariates, controls = headline_sample(panel, matched, config, quiet)
        except EvaluationError:
            return {}
        out = {}
        for outcome in outcomes:
            try:
                fit = headline_fit(sample, outcome, covariates, config, controls=controls)
            except EvaluationError:
                continue
            observed = sample.loc[fit._state["data"].index, _OBSERVED].to_numpy(dtype=float)
            a, s_y = applied_att(fit, fit._state["design"].y)
            c, s_d = applied_att(fit, observed)
            out[outcome] = (a, c, float(s_y @ s_y), float(s_y @ s_d), float(s_d @ s_d))
    return out


def design_randomization(
    panel: pd.DataFrame,
    fits: Mapping[str, Any],
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
) -> dict[str, FewClusterInterval]:
    """Randomization inference for child-level headline outcomes with the matching redone per reassignment.

    Parameters
    ----------
    panel
        The cohort panel (:data:`evaluation.steps.cohort.PANEL_COLUMNS`), before matching.
    fits
        The observed headline fits (:func:`evaluation.steps.estimate.headline_fit`) by outcome; their estimates are the
        observed statistics.
    config
        Uses ``matching``, ``estimation``, ``inference.redesign_permutations`` and ``inference.seed``.
    progress
        Told how far the reassignments have come, and how many could not be estimated.

    Returns
    -------
    dict of str to FewClusterInterval
        For each outcome of ``fits``: the estimate, the randomization p-value of zero effect and the interval,
        ``draws`` the number of reassignments.
    """
    outcomes = list(fits)
    if not outcomes:
        return {}
    n_permutations = int(setting(config, "inference", "redesign_permutations"))
    seed = int(setting(config, "inference", "seed"))
    data = panel.assign(**{_OBSERVED: panel["treated"].astype("float64")})
    pieces: dict[str, list[tuple[float, ...]]] = {o: [] for o in outcomes}
    missing = dict.fromkeys(outcomes, 0)
    calls = itertools.count()
    start = time.monotonic()

    def statistic(reassigned: pd.DataFrame) -> float:
        i = next(calls)
        if i == 0:  # the observed assignment: the headline's own fits
            return float(fits[outcomes[0]].estimate)
        values = _placebo(reassigned, outcomes, config)
        for outcome in outcomes:
            if outcome not in values:
                missing[outcome] += 1
            pieces[outcome].append(values.get(outcome, (np.nan,) * 5))
        if i % 20 == 0:
            seconds = time.monotonic() - start
            progress(f"estimate: randomization with the design redone: {i:,} reassignments ({seconds:.0f} s)")
        return pieces[outcomes[0]][-1][0]

    res = randomization_inference(
        data,
        statistic,
        unit="municipality",
        first_treat="first_treat",
        time="year",
        n_permutations=n_permutations,
        seed=seed,
    )
    how = "every distinct" if res.exact else "random"
    progress(
        f"estimate: randomization with the design redone: {res.n_permutations:,} {how} reassignments in "
        f"{time.monotonic() - start:.0f} s"
    )
    out = {}
    for outcome in outcomes:
        if missing[outcome]:
            progress(
                f"estimate: main {outcome}: {missing[outcome]:,} of {res.n_permutations:,} reassignments give no "
                "estimate (no child to match or no child-year to impute from) and are left out"
            )
        fit = fits[outcome]
        arr = np.array(pieces[outcome], dtype=float)
        out[outcome] = randomization_interval(
            float(fit.estimate),
            float(fit.se),
            float(fit.alpha),
            arr[:, 0],
            arr[:, 1],
            exact=res.exact,
            scale=(arr[:, 2], arr[:, 3], arr[:, 4]),
        )
    return out
