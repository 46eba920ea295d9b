r"""The inference the policy picks for the main analysis, and its result beside the cluster-robust one.

For every outcome of the ``main`` analysis (:func:`evaluation.estimate.did_twfe` on the
matched child-year panel: child and year fixed effects, matching weights, errors
clustered by municipality) :func:`inference_table` counts the treated and all
municipalities of the matched panel, computes the effective number of clusters G*
(Carter, Schnepel and Steigerwald 2017) of the ``treated`` coefficient, lets
:func:`evaluation.inference.choose_inference` pick the method, and runs it:

``wild_cluster_bootstrap``
    Restricted wild cluster bootstrap (WCR) of the same regression, Webb weights below
    ``inference.webb_below`` treated clusters, confidence interval by test inversion
    (Roodman et al. 2019).
``randomization_inference``
    The adoption years are permuted across municipalities (MacKinnon and Webb 2020) and the
    DiD coefficient recomputed. The interval inverts the randomization test of the constant
    effect :math:`\beta_0` (Imbens and Rubin 2015, ch. 5): with :math:`\tilde d_b` the
    reassigned treatment after partialling out the fixed effects, the coefficient of
    :math:`\tilde d_b` in :math:`\tilde y - \beta_0 \tilde d_{obs}` is
    :math:`a_b - \beta_0 c_b` with :math:`a_b = \tilde d_b'\tilde y / \tilde d_b'\tilde d_b` and
    :math:`c_b = \tilde d_b'\tilde d_{obs} / \tilde d_b'\tilde d_b`, so every :math:`\beta_0`
    reuses the same reassignments; :func:`randomization_ci` inverts it.
``cluster_robust``
    The estimator's own t-interval with G - 1 degrees of freedom.

The cluster-robust row is always written beside the chosen one (``chosen`` False) so the
report can show how much the inference matters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError

__all__ = ["INFERENCE_COLUMNS", "INFERENCE_DEFAULTS", "inference_table", "randomization_ci", "write_inference"]

INFERENCE_DEFAULTS: dict[str, Any] = {
    "method": "auto",
    "cluster_robust_min": 30,
    "wild_bootstrap_min": 5,
    "webb_below": 12,
    "bootstrap_draws": 9999,
    "permutations": 999,
    "seed": 20240501,
    "rho": 0.0,
}
"""Defaults of the config block ``inference`` (must equal the schema's)."""

INFERENCE_COLUMNS = [
    "outcome",
    "inference",
    "chosen",
    "method",
    "weight_type",
    "reason_en",
    "reason_da",
    "effective_clusters",
    "n_clusters",
    "n_treated_clusters",
    "estimate",
    "se",
    "p_value",
    "ci_low",
    "ci_high",
    "draws",
]
_TIE_TOL = 1e-10


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    cfg = dict(INFERENCE_DEFAULTS)
    cfg.update(config.get("inference") or {})
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


def _reason_da(
    method: str, weight_type: str | None, n_treated: int, n_clusters: int, g_star: float, forced: bool
) -> str:
    """Return the Danish sentence of the policy's reason (same facts as the English one)."""
    count = f"{n_treated} behandlede af {n_clusters} kommuner (effektivt antal {g_star:.1f})".replace(".", ",")
    if forced:
        return f"Valgt i konfigurationen (inference.method = {method}); {count}."
    if method == "cluster_robust":
        return f"{count}: nok behandlede kommuner til klyngerobuste t-test med G - 1 frihedsgrader."
    if method == "wild_cluster_bootstrap":
        kind = "Webb-vægte" if weight_type == "webb" else "Rademacher-vægte"
        return (
            f"{count}: for få behandlede kommuner til klyngerobuste t-test; restringeret wild cluster bootstrap "
            f"med {kind}."
        )
    return (
        f"{count}: for få behandlede kommuner til klyngerobust eller bootstrap-inferens; randomiseringsinferens "
        "over kommuner med en syntetisk kontrolgruppe ved siden af."
    )


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

    def edge(side: int) -> float:
        inside, outside = estimate, estimate + side * step
        for _ in range(60):
            if p_value(outside) < alpha:
                break
            inside, outside = outside, estimate + side * 2 * abs(outside - estimate)
        else:
            return float(side * np.inf)
        tol = 1e-6 * step
        while abs(outside - inside) > tol:
            mid = 0.5 * (inside + outside)
            inside, outside = (mid, outside) if p_value(mid) >= alpha else (inside, mid)
        return 0.5 * (inside + outside)

    return edge(-1), edge(+1)


def _randomization(
    sample: pd.DataFrame, outcome: str, cluster: str, cfg: Mapping[str, Any], alpha: float, step: float
) -> dict[str, Any]:
    from evaluation.inference import partial_design, randomization_inference

    design = partial_design(
        sample, outcome, "treated", cluster=cluster, unit="person_id", time="year", weights="weight"
    )
    sw = np.sqrt(sample["weight"].to_numpy(dtype=float))
    d_obs = design.x
    y = design.y
    pieces: list[tuple[float, float]] = []

    def stat(df: pd.DataFrame) -> float:
        d = design.residualise(df["treated"].to_numpy(dtype=float) * sw)
        dd = float(d @ d)
        a, c = (float(d @ y) / dd, float(d @ d_obs) / dd) if dd > 1e-12 else (np.nan, np.nan)
        pieces.append((a, c))
        return a

    res = randomization_inference(
        sample, stat, unit=cluster, n_permutations=cfg["permutations"], seed=cfg["seed"], time="year"
    )
    arr = np.array(pieces[1:])  # the first call is the observed assignment
    lo, hi = randomization_ci(arr[:, 0], arr[:, 1], res.statistic, exact=res.exact, alpha=alpha, step=step)
    return {"estimate": res.statistic, "p_value": res.p_value, "ci_low": lo, "ci_high": hi, "draws": res.n_permutations}


def inference_table(
    panel: pd.DataFrame,
    matched: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    progress: Callable[[str], None] = print,
    outcomes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Chosen and cluster-robust inference for the ``main`` analysis of every configured outcome.

    Parameters
    ----------
    panel
        The cohort panel (``person_id, municipality, year, first_treat, treated, treated_unit`` and outcomes).
    matched
        Matched children (``person_id, weight``).
    config
        Study config: ``outcomes``, ``estimation.alpha``, ``estimation.cluster`` and the
        ``inference`` block (:data:`INFERENCE_DEFAULTS`).
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
    from evaluation.estimate import did_twfe, matched_sample
    from evaluation.inference import choose_inference, effective_clusters_from_data, wild_cluster_bootstrap

    cfg = _settings(config)
    est = config.get("estimation") or {}
    alpha, cluster = float(est.get("alpha", 0.05)), est.get("cluster", "municipality")
    outcomes = inference_outcomes(config) if outcomes is None else list(outcomes)
    weighted = matched_sample(panel, matched)
    rows = []
    for outcome in outcomes:
        if outcome not in weighted.columns:
            progress(f"inference: outcome {outcome} is not in the panel; skipped")
            continue
        sample = weighted.loc[weighted[outcome].notna() & (weighted["weight"] > 0)].reset_index(drop=True)
        n_treated = int(sample.loc[sample["treated"] == 1, cluster].nunique())
        n_clusters = int(sample[cluster].nunique())
        g_star = effective_clusters_from_data(
            sample, "treated", cluster=cluster, unit="person_id", time="year", weights="weight", rho=cfg["rho"]
        )
        choice = choose_inference(n_treated, n_clusters, cfg, effective=g_star)
        robust = did_twfe(sample, outcome, weights="weight", cluster=cluster, alpha=alpha, progress=progress)
        common = {
            "outcome": outcome,
            "method": choice.method,
            "weight_type": choice.weight_type,
            "reason_en": choice.reason,
            "reason_da": _reason_da(
                choice.method, choice.weight_type, n_treated, n_clusters, g_star, cfg["method"] != "auto"
            ),
            "effective_clusters": g_star,
            "n_clusters": n_clusters,
            "n_treated_clusters": n_treated,
        }
        robust_row = {
            **common,
            "inference": "cluster_robust",
            "chosen": choice.method == "cluster_robust",
            "estimate": robust.estimate,
            "se": robust.se,
            "p_value": robust.p_value,
            "ci_low": robust.ci_low,
            "ci_high": robust.ci_high,
            "draws": 0,
        }
        if choice.method == "wild_cluster_bootstrap":
            res = wild_cluster_bootstrap(
                sample,
                outcome,
                "treated",
                cluster=cluster,
                unit="person_id",
                time="year",
                weights="weight",
                weight_type=choice.weight_type or "rademacher",
                n_boot=cfg["bootstrap_draws"],
                seed=cfg["seed"],
                alpha=alpha,
            )
            chosen = {"estimate": res.estimate, "se": res.se, "p_value": res.p_value}
            chosen |= {"ci_low": res.ci_low, "ci_high": res.ci_high, "draws": res.n_boot}
        elif choice.method == "randomization_inference":
            chosen = {"se": robust.se} | _randomization(sample, outcome, cluster, cfg, alpha, robust.se)
        else:
            chosen = None
        if chosen is not None:
            rows.append({**common, "inference": choice.method, "chosen": True, **chosen})
        rows.append(robust_row)
        progress(f"inference: {outcome}: {choice.method} (G* = {g_star:.1f}, {n_treated} of {n_clusters} treated)")
    return pd.DataFrame(rows, columns=INFERENCE_COLUMNS)


def inference_outcomes(config: Mapping[str, Any]) -> list[str]:
    """Return the outcomes of the inference step: ``outcomes.primary`` then ``outcomes.secondary``."""
    outcomes = config.get("outcomes") or {}
    return list(outcomes.get("primary") or []) + list(outcomes.get("secondary") or [])


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
    table.to_csv(out_path, index=False, float_format="%.6f")
