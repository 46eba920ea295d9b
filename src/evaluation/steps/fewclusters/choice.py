r"""The inference the policy picks for the headline, and its result beside the cluster-robust one.

For every outcome of ``outcomes.primary`` and ``outcomes.secondary``, :func:`inference_table` fits the
headline (:func:`evaluation.steps.estimate.headline_fit`: the imputation estimator of Borusyak, Jaravel and
Spiess 2024 on the matched children, errors clustered by municipality), counts the treated and all
municipalities of the fit, lets :func:`evaluation.methods.inference.choose_inference` pick the method (G* is the
balanced-design value of Carter, Schnepel and Steigerwald 2017) and runs it
(:mod:`evaluation.methods.did.imputation_inference`):

``wild_cluster_bootstrap``
    Restricted wild cluster bootstrap of the linear estimator, Webb weights below
    ``inference.webb_below`` treated clusters, interval by test inversion.
``randomization_inference``
    The adoption years are permuted across municipalities (MacKinnon and Webb 2020) and, for each
    permutation, the matching and the estimator are redone and the estimate divided by its own standard
    error (:mod:`evaluation.steps.design_randomization`); the interval inverts the randomization test of a constant
    effect (Imbens and Rubin 2015, ch. 5). :func:`randomization_ci` is the generic inversion for statistics of
    the form :math:`a_b - \beta_0 c_b`.

``cluster_robust``
    The estimator's own t-interval (BJS standard error) with G - 1 degrees of freedom.

The cluster-robust row is always written beside the chosen one (``chosen`` False) so the report can
show how much the inference matters. In the pipeline the estimate step writes ``inference.csv`` beside
``estimates.csv`` from the same fits and intervals (:func:`inference_rows`, with the interval of
:func:`evaluation.steps.estimate.few_cluster_interval`), so the two files agree and the draws run once;
:func:`inference_table` computes the same rows on its own, for use outside the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import inference_outcomes, schema_defaults, section
from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError
from evaluation.io import write_csv

__all__ = [
    "INFERENCE_COLUMNS",
    "INFERENCE_DEFAULTS",
    "inference_rows",
    "inference_table",
    "randomization_ci",
    "write_inference",
]

INFERENCE_DEFAULTS: dict[str, Any] = schema_defaults("inference")
"""Defaults of the config block ``inference``, read from the schema (their one source)."""

INFERENCE_COLUMNS = columns_of("results/{release}/estimate/inference.csv")
_TIE_TOL = 1e-10


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    cfg = section(config, "inference")
    for key in ("cluster_robust_min", "wild_bootstrap_min", "webb_below", "bootstrap_draws", "permutations", "seed"):
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError) as err:
            raise ConfigError(f"inference.{key} must be an integer, not {cfg[key]!r}.") from err
    if cfg["bootstrap_draws"] < 99 or cfg["permutations"] < 99:
        raise ConfigError("inference.bootstrap_draws and inference.permutations must be at least 99.")
    cfg["rho"] = float(cfg["rho"])
    if not 0 <= cfg["rho"] <= 1:
        raise ConfigError(f"inference.rho must lie in [0, 1], not {cfg['rho']}.")
    return cfg


def randomization_ci(
    a: np.ndarray, c: np.ndarray, estimate: float, *, exact: bool, alpha: float = 0.05, step: float = 1.0
) -> tuple[float, float]:
    r"""Confidence interval by inverting the randomization test of a constant effect.

    Parameters
    ----------
    a, c
        Per reassignment ``b``: :math:`a_b` and :math:`c_b` of the module docstring (the
        observed assignment first when ``exact``; then :math:`a = \hat\beta, c = 1` for it).
    estimate
        The observed coefficient :math:`\hat\beta`.
    exact
        Whether ``a, c`` enumerate all distinct reassignments (p = share) or are random
        draws (p = (1 + count) / (1 + B)).
    alpha
        1 minus the confidence level.
    step
        Initial step of the search (the cluster-robust SE is a good scale).

    Returns
    -------
    tuple of float
        ``(low, high)``; infinite when the test cannot reject at ``alpha`` on that side.
    """
    a, c = np.asarray(a, dtype=float), np.asarray(c, dtype=float)

    def p_value(beta0: float) -> float:
        with np.errstate(invalid="ignore"):
            extreme = np.abs(a - beta0 * c) >= abs(estimate - beta0) * (1 - _TIE_TOL)
        return float(extreme.mean()) if exact else float((1 + extreme.sum()) / (1 + len(a)))

    from evaluation.methods.inference.inversion import invert_test

    return invert_test(p_value, estimate, step, alpha)


def inference_table(
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    progress: Callable[[str], None] = print,
    outcomes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Chosen and cluster-robust inference for the headline of every configured outcome.

    Parameters
    ----------
    panel
        The cohort panel.
    matched
        Matched children (``person_id, weight``).
    config
        Study config: ``outcomes``, ``matching.covariates``, ``estimation`` and the ``inference`` block
        (:data:`INFERENCE_DEFAULTS`).
    progress
        Progress messages.
    outcomes
        The outcomes to run (default: :func:`inference_outcomes` of ``config``). The pipeline does not call this:
        its estimate step writes the same rows from the headline's own fits (:func:`inference_rows`).

    Returns
    -------
    pandas.DataFrame
        :data:`INFERENCE_COLUMNS`; per outcome one row with ``inference`` = the chosen method
        (``chosen`` True) and, unless that is cluster-robust, a ``cluster_robust`` row.
    """
    from evaluation.errors import ModelNotIdentifiedError
    from evaluation.steps.estimate import few_cluster_interval, headline_fit, headline_sample, redesigned_intervals

    _settings(config)  # a wrong setting stops here with a clear message
    outcomes = inference_outcomes(config) if outcomes is None else list(outcomes)
    sample, covariates, controls = headline_sample(panel, matched, config, progress)
    rows = []
    for outcome in outcomes:
        if outcome not in sample.columns:
            progress(f"inference: outcome {outcome} is not in the panel; skipped")
            continue
        try:
            fit = headline_fit(sample, outcome, covariates, config, controls=controls)
        except ModelNotIdentifiedError as exc:
            progress(f"inference: {outcome}: not estimated ({exc})")
            continue
        redesigned = redesigned_intervals(panel, {outcome: fit}, config, progress)
        choice, interval = few_cluster_interval(fit, outcome, config, progress, redesigned)
        rows.extend(inference_rows(fit, outcome, choice, interval))
        treated = f"{fit.n_treated_clusters} of {fit.n_clusters} municipalities treated"
        progress(f"inference: {outcome}: {choice.method} ({treated})")
    return pd.DataFrame(rows, columns=INFERENCE_COLUMNS)


def inference_rows(fit: Any, outcome: str, choice: Any, interval: Any) -> list[dict[str, Any]]:
    """Rows of :data:`INFERENCE_COLUMNS` for one headline fit: the chosen method's, then the cluster-robust one.

    Parameters
    ----------
    fit
        The headline fit (:class:`~evaluation.methods.did.imputation.ImputationResult`).
    outcome
        Its outcome; a relative outcome (``breakdown_rate``) is reported as the relative change, its interval
        mapped end by end (:meth:`~evaluation.methods.did.imputation.ImputationResult.relative`).
    choice, interval
        The policy's choice and interval (:func:`evaluation.steps.estimate.few_cluster_interval`).

    Returns
    -------
    list of dict
        One row with ``inference`` = the chosen method (``chosen`` True) and, unless that is cluster-robust, a
        ``cluster_robust`` row (``chosen`` False).
    """
    from evaluation.steps.estimate import RELATIVE_OUTCOMES

    common = {
        "outcome": outcome,
        "method": choice.method,
        "weight_type": choice.weight_type,
        "reason": choice.reason_code,
        "effective_clusters": choice.effective_clusters,
        "n_clusters": fit.n_clusters,
        "n_treated_clusters": fit.n_treated_clusters,
    }

    def scaled(estimate: float, lo: float, hi: float) -> dict[str, float]:
        if outcome not in RELATIVE_OUTCOMES:
            return {"estimate": estimate, "ci_low": lo, "ci_high": hi}
        rel = replace(fit, ci_low=lo, ci_high=hi).relative()
        return {"estimate": rel.estimate, "ci_low": rel.ci_low, "ci_high": rel.ci_high}

    se = fit.relative().se if outcome in RELATIVE_OUTCOMES else fit.se
    robust = {
        **common,
        "inference": "cluster_robust",
        "chosen": choice.method == "cluster_robust",
        **scaled(fit.estimate, fit.ci_low, fit.ci_high),
        "se": se,
        "p_value": fit.p_value,
        "draws": 0,
    }
    if choice.method == "cluster_robust":
        return [robust]
    chosen = {**scaled(interval.estimate, interval.ci_low, interval.ci_high), "se": se, "p_value": interval.p_value}
    return [{**common, "inference": choice.method, "chosen": True, **chosen, "draws": interval.draws}, robust]


def write_inference(
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    out_path: Path,
    *,
    progress: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Read the cohort panel and the matched children, run :func:`inference_table`, write ``out_path`` (CSV)."""
    table = inference_table(pd.read_parquet(panel_path), pd.read_parquet(matched_path), config, progress=progress)
    _write_csv(table, out_path)
    return table


def _write_csv(table: pd.DataFrame, out_path: Path) -> None:
    """Write ``results/<r>/estimate/inference.csv`` (one writer, so gathered parts give the same bytes)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out_path)
