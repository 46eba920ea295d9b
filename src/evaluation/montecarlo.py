"""Design validation by Monte Carlo: regenerate the synthetic registry, rerun the estimators, compare with truth.

One replication (:func:`run_replication`) simulates the registry with a new
seed (:func:`evaluation.simulate.simulate`), ingests it, builds the cohort,
matches and estimates exactly as the pipeline does, adds the inference the
policy picks (:func:`evaluation.inference.choose_inference`) for the main
analysis, and compares every interval with the planted truth of ``truth.json``.
Replications are independent, so each is one Snakemake job;
:func:`summarise` turns their rows into bias, RMSE and coverage per estimator
(Morris, White and Crowther 2019, "Using simulation studies to evaluate
statistical methods", *Statistics in Medicine* 38(11), 2074-2102, Table 6:
coverage with its Monte Carlo standard error).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TRUTH_KEYS", "REPLICATION_COLUMNS", "run_replication", "replication_frame", "summarise"]

TRUTH_KEYS = {"sdq": "att_sdq", "cost_per_child": "att_cost_per_child", "school_absence": "att_school_absence"}
"""Outcome -> the key of its planted ATT in ``truth.json``."""

REPLICATION_COLUMNS = [
    "seed",
    "analysis",
    "outcome",
    "estimator",
    "inference",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "truth",
    "covered",
]


def _quiet(_: str) -> None:
    return None


def _policy_rows(
    panel: pd.DataFrame, matched: pd.DataFrame, config: Mapping[str, Any], outcomes: Sequence[str], seed: int
) -> list[dict[str, Any]]:
    """Return the main analysis with the inference the policy picks (when it is not cluster-robust)."""
    from evaluation.estimate import matched_sample
    from evaluation.inference import choose_inference, effective_clusters_from_data, wild_cluster_bootstrap

    cfg = config.get("inference") or {}
    alpha = float((config.get("estimation") or {}).get("alpha", 0.05))
    cluster = (config.get("estimation") or {}).get("cluster", "municipality")
    weighted = matched_sample(panel, matched)
    n_treated = int(panel.loc[panel["treated"] == 1, cluster].nunique())
    n_clusters = int(weighted[cluster].nunique())
    rows = []
    for outcome in outcomes:
        sample = weighted.loc[weighted[outcome].notna()]
        g_star = effective_clusters_from_data(
            sample, "treated", cluster=cluster, unit="person_id", time="year", weights="weight"
        )
        choice = choose_inference(n_treated, n_clusters, config, effective=g_star)
        if choice.method != "wild_cluster_bootstrap":
            continue
        res = wild_cluster_bootstrap(
            sample,
            outcome,
            "treated",
            cluster=cluster,
            unit="person_id",
            time="year",
            weights="weight",
            weight_type=choice.weight_type or "rademacher",
            n_boot=int(cfg.get("bootstrap_draws", 999)),
            seed=seed,
            alpha=alpha,
        )
        rows.append(
            {
                "analysis": "main",
                "outcome": outcome,
                "estimator": "did_twfe_matched",
                "inference": f"wild_cluster_bootstrap_{choice.weight_type}",
                "estimate": res.estimate,
                "se": res.se,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "p_value": res.p_value,
            }
        )
    return rows


def run_replication(
    seed: int, config: Mapping[str, Any], workdir: str | Path, progress: Callable[[str], None] = _quiet
) -> dict[str, Any]:
    """Run one Monte Carlo replication.

    Parameters
    ----------
    seed
        Seed of the synthetic registry (and of the bootstrap draws).
    config
        The validated study configuration; ``synthetic.scale`` sets the size (``tiny`` for the study).
    workdir
        Scratch folder for this replication's extracts (microdata; removed by the caller).
    progress
        Called with progress messages.

    Returns
    -------
    dict
        ``{"seed": seed, "rows": [...]}``, one row per analysis, outcome and inference with
        :data:`REPLICATION_COLUMNS` (``inference`` is ``"cluster_robust"`` for the estimators' own intervals).
    """
    from evaluation.cohort import build_cohort, read_extracts
    from evaluation.compare import match_cohort
    from evaluation.estimate import estimate_all
    from evaluation.ingest import ingest_folder, load_key
    from evaluation.simulate import simulate

    cfg = copy.deepcopy(dict(config))
    cfg["synthetic"] = {**cfg.get("synthetic", {}), "seed": int(seed)}
    work = Path(workdir)
    raw = work / "raw"
    sim = simulate(
        raw, scale=cfg["synthetic"].get("scale", "tiny"), seed=int(seed), fmt="parquet", config=cfg, progress=None
    )
    truth = sim.truth
    key = load_key(raw, env_var=(cfg.get("ingest") or {}).get("key_env", "EVALUATION_PSEUDONYM_KEY"))
    ingest_folder(
        raw,
        work / "ingest",
        on_invalid="quarantine",
        quarantine_dir=work / "quarantine",
        accounting_path=work / "row_accounting.csv",
        key=key,
        progress=progress,
    )
    panel = build_cohort(read_extracts(work / "ingest"), cfg, progress).panel
    matched = match_cohort(panel, cfg, progress).matched
    table = estimate_all(panel, matched, cfg, progress)
    rows = [{**r, "inference": "cluster_robust"} for r in table.to_dict("records")]
    outcomes = [o for o in dict.fromkeys(table["outcome"]) if o in TRUTH_KEYS]
    rows += _policy_rows(panel, matched, cfg, outcomes, int(seed))
    out = []
    for r in rows:
        key_name = TRUTH_KEYS.get(r["outcome"])
        if key_name is None or key_name not in truth:
            continue
        value = truth[key_name]["value"] if isinstance(truth[key_name], Mapping) else truth[key_name]
        row = {c: r.get(c) for c in REPLICATION_COLUMNS}
        row.update(seed=int(seed), truth=float(value), covered=bool(r["ci_low"] <= value <= r["ci_high"]))
        out.append(row)
    progress(f"montecarlo: replication {seed}: {len(out)} rows")
    return {"seed": int(seed), "rows": out}


def replication_frame(replications: Sequence[Mapping[str, Any]] | Sequence[str | Path]) -> pd.DataFrame:
    """Stack replication results (dicts from :func:`run_replication`, or JSON files of them) into one table."""
    rows = []
    for rep in replications:
        data = json.loads(Path(rep).read_text(encoding="utf-8")) if isinstance(rep, str | Path) else rep
        rows += list(data["rows"])
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def summarise(replications: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE and coverage per analysis, outcome, estimator and inference.

    Parameters
    ----------
    replications
        Rows with :data:`REPLICATION_COLUMNS` (from :func:`replication_frame`).

    Returns
    -------
    pandas.DataFrame
        ``analysis, outcome, estimator, inference, n, truth, mean_estimate, bias, rmse, sd_estimate,
        mean_se, coverage, coverage_mc_se``; ``truth`` is the mean planted value (it varies a little
        between seeds, because the truth is the realised ATT of each registry); bias and RMSE use each
        replication's own truth; ``sd_estimate`` uses ddof = 1 (NaN with one replication).
    """
    keys = ["analysis", "outcome", "estimator", "inference"]
    data = replications.assign(
        error=replications["estimate"] - replications["truth"], covered=replications["covered"].astype(float)
    )
    grouped = data.groupby(keys, sort=True)
    out = grouped.agg(
        n=("estimate", "size"),
        truth=("truth", "mean"),
        mean_estimate=("estimate", "mean"),
        bias=("error", "mean"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))),
        sd_estimate=("estimate", "std"),
        mean_se=("se", "mean"),
        coverage=("covered", "mean"),
    ).reset_index()
    out["coverage_mc_se"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["n"])
    return out
