r"""The inference the policy picks for the headline, and its result beside the cluster-robust one.

For every outcome of ``outcomes.primary`` and ``outcomes.secondary``, :func:`inference_table` fits the
headline (:func:`evaluation.estimate.headline_fit`: the imputation estimator of Borusyak, Jaravel and
Spiess 2024 on the matched children, errors clustered by municipality), counts the treated and all
municipalities of the fit, lets :func:`evaluation.inference.choose_inference` pick the method (G* is the
balanced-design value of Carter, Schnepel and Steigerwald 2017) and runs it
(:mod:`evaluation.did.imputation_inference`):

``wild_cluster_bootstrap``
    Restricted wild cluster bootstrap of the linear estimator, Webb weights below
    ``inference.webb_below`` treated clusters, interval by test inversion.
``randomization_inference``
    The adoption years are permuted across municipalities (MacKinnon and Webb 2020) and, for each
    permutation, the matching and the estimator are redone and the estimate divided by its own standard
    error (:mod:`evaluation.design_randomization`); the interval inverts the randomization test of a constant
    effect (Imbens and Rubin 2015, ch. 5). :func:`randomization_ci` is the generic inversion for statistics of
    the form :math:`a_b - \beta_0 c_b`.

``cluster_robust``
    The estimator's own t-interval (BJS standard error) with G - 1 degrees of freedom.

The cluster-robust row is always written beside the chosen one (``chosen`` False) so the report can
show how much the inference matters. ``estimates.csv`` carries the chosen interval in its ``main`` rows: both
come from :func:`evaluation.estimate.few_cluster_interval`, so the two files agree.
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

__all__ = ["INFERENCE_COLUMNS", "INFERENCE_DEFAULTS", "inference_table", "randomization_ci", "write_inference"]

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

    from evaluation.inference.inversion import invert_test

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
        The outcomes to run (default: :func:`inference_outcomes` of ``config``); the pipeline runs each
        outcome's bootstrap or permutation draws as a job of its own.

    Returns
    -------
    pandas.DataFrame
        :data:`INFERENCE_COLUMNS`; per outcome one row with ``inference`` = the chosen method
        (``chosen`` True) and, unless that is cluster-robust, a ``cluster_robust`` row.
    """
    from evaluation.errors import ModelNotIdentifiedError
    from evaluation.estimate import (
        RELATIVE_OUTCOMES,
        few_cluster_interval,
        headline_fit,
        headline_sample,
        redesigned_intervals,
    )

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
        n_treated, n_clusters = fit.n_treated_clusters, fit.n_clusters
        redesigned = redesigned_intervals(panel, {outcome: fit}, config, progress)
        choice, res = few_cluster_interval(fit, outcome, config, progress, redesigned)
        g_star = choice.effective_clusters
        common = {
            "outcome": outcome,
            "method": choice.method,
            "weight_type": choice.weight_type,
            "reason": choice.reason_code,
            "effective_clusters": g_star,
            "n_clusters": n_clusters,
            "n_treated_clusters": n_treated,
        }

        def scaled(estimate: float, lo: float, hi: float, fit: Any = fit, outcome: str = outcome) -> dict[str, float]:
            if outcome not in RELATIVE_OUTCOMES:
                return {"estimate": estimate, "ci_low": lo, "ci_high": hi}
            rel = replace(fit, ci_low=lo, ci_high=hi).relative()
            return {"estimate": rel.estimate, "ci_low": rel.ci_low, "ci_high": rel.ci_high}

        se = fit.relative().se if outcome in RELATIVE_OUTCOMES else fit.se
        robust_row = {
            **common,
            "inference": "cluster_robust",
            "chosen": choice.method == "cluster_robust",
            **scaled(fit.estimate, fit.ci_low, fit.ci_high),
            "se": se,
            "p_value": fit.p_value,
            "draws": 0,
        }
        if choice.method != "cluster_robust":
            chosen = {**scaled(res.estimate, res.ci_low, res.ci_high), "se": se, "p_value": res.p_value}
            rows.append({**common, "inference": choice.method, "chosen": True, **chosen, "draws": res.draws})
        rows.append(robust_row)
        progress(f"inference: {outcome}: {choice.method} ({n_treated} of {n_clusters} municipalities treated)")
    return pd.DataFrame(rows, columns=INFERENCE_COLUMNS)


def write_inference_part(
    panel_path: Path,
    matched_path: Path,
    config: Mapping[str, Any],
    outcome: str,
    out_path: Path,
    *,
    progress: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Run :func:`inference_table` for one outcome and write it to ``out_path`` (Parquet, exact values)."""
    from evaluation.io import write_table

    table = inference_table(
        pd.read_parquet(panel_path), pd.read_parquet(matched_path), config, progress=progress, outcomes=[outcome]
    )
    write_table(table, out_path)
    return table


def gather_inference(part_paths: Sequence[Path], out_path: Path) -> pd.DataFrame:
    """Concatenate the outcomes' tables of :func:`write_inference_part`, in order, into ``out_path`` (CSV)."""
    tables = [pd.read_parquet(path) for path in part_paths]
    # an outcome missing from the panel gives an empty table, whose untyped columns must not turn floats into text
    table = pd.concat([t for t in tables if len(t)] or tables[:1], ignore_index=True).reindex(columns=INFERENCE_COLUMNS)
    _write_csv(table, out_path)
    return table


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
