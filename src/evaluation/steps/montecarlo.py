"""Design validation by Monte Carlo: regenerate the synthetic registry, rerun the estimators, compare with truth.

One replication (:func:`run_replication`) simulates the registry with a new
seed (:func:`evaluation.steps.simulate.simulate`), ingests the extracts the analysis reads
(the others do not touch the estimates), builds the cohort of the final release (all data: the
estimands are the final ones of ``truth.json``), matches and estimates exactly as the
pipeline does, the headline with the inference the policy picks, and compares every
interval with the planted truth.
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

TRUTH_KEYS = {
    "sdq": "att_sdq",
    "cost_per_child": "att_cost_per_child",
    "school_absence": "att_school_absence",
    "placement_rate": "att_placement_rate",
    "network_foster_share": "network_foster_share_change",
    "breakdown_rate": "breakdown_rate_change",
    "caseload": "caseload_change",
}
"""Outcome -> the key of its planted ATT in ``truth.json``."""

REPLICATION_COLUMNS = [
    "scenario",
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


def run_replication(
    seed: int,
    config: Mapping[str, Any],
    workdir: str | Path,
    progress: Callable[[str], None] = _quiet,
    *,
    scenario: str = "default",
) -> dict[str, Any]:
    """Run one Monte Carlo replication.

    Parameters
    ----------
    seed
        Seed of the synthetic registry (and of the bootstrap draws).
    config
        The validated study configuration; ``synthetic.scale`` sets the size (``tiny`` for the study) and
        ``synthetic.effects`` the planted effects of the scenario.
    workdir
        Scratch folder for this replication's extracts (microdata; removed by the caller).
    progress
        Called with progress messages.

    scenario
        Name of the scenario, written into every row.

    Returns
    -------
    dict
        ``{"seed": seed, "scenario": ..., "rows": [...]}``, one row per analysis, outcome and inference with
        :data:`REPLICATION_COLUMNS`: the headline (``main``) with the interval the few-cluster policy picks
        (``inference`` = ``policy``) and with the Borusyak-Jaravel-Spiess t interval (``bjs_t``), and the
        comparisons with their own cluster-robust intervals (``cluster_robust``).
    """
    from evaluation.config import release_config, setting
    from evaluation.steps.cohort import COHORT_EXTRACTS, build_cohort, read_extracts
    from evaluation.steps.compare import match_cohort
    from evaluation.steps.estimate import RELATIVE_OUTCOMES, caseload_panel, estimate_all
    from evaluation.steps.ingest import ingest_folder, load_key
    from evaluation.steps.simulate import simulate

    # the final release: all data, compared with the final (top-level) truth
    cfg = release_config(copy.deepcopy(dict(config)), "final")
    cfg["synthetic"] = {**cfg.get("synthetic", {}), "seed": int(seed)}
    work = Path(workdir)
    raw = work / "raw"
    sim = simulate(
        raw, scale=setting(cfg, "synthetic", "scale"), seed=int(seed), fmt="parquet", config=cfg, progress=None
    )
    truth = sim.truth
    key = load_key(raw, env_var=setting(cfg, "ingest", "key_env"))
    ingest_folder(
        raw,
        work / "ingest",
        on_invalid="quarantine",
        quarantine_dir=work / "quarantine",
        accounting_path=work / "row_accounting.csv",
        key=key,
        progress=progress,
        names=(*COHORT_EXTRACTS, "sagsbehandlere"),
    )
    panel = build_cohort(read_extracts(work / "ingest"), cfg, progress).panel
    matched = match_cohort(panel, cfg, progress).matched
    caseload = caseload_panel(pd.read_parquet(work / "ingest" / "sagsbehandlere.parquet"), cfg)
    fits: dict[str, Any] = {}
    table = estimate_all(panel, matched, cfg, progress, caseload=caseload, fits=fits)
    rows = [
        {**r, "inference": "policy" if r["analysis"] == "main" else "cluster_robust"} for r in table.to_dict("records")
    ]
    for outcome, fit in fits.items():
        est = fit.relative() if outcome in RELATIVE_OUTCOMES else fit.to_estimate()
        rows.append(
            {
                "analysis": "main",
                "outcome": outcome,
                "estimator": "did_imputation",
                "inference": "bjs_t",
                **est.to_dict(),
            }
        )
    out = []
    for r in rows:
        key_name = TRUTH_KEYS.get(r["outcome"])
        if key_name is None or key_name not in truth:
            continue
        value = truth[key_name]["value"] if isinstance(truth[key_name], Mapping) else truth[key_name]
        if value is None or r["estimate"] is None or not np.isfinite(r["estimate"]):
            continue
        row = {c: r.get(c) for c in REPLICATION_COLUMNS}
        covered = bool(r["ci_low"] <= value <= r["ci_high"])
        row.update(scenario=scenario, seed=int(seed), truth=float(value), covered=covered)
        out.append(row)
    progress(f"montecarlo: {scenario} replication {seed}: {len(out)} rows")
    return {"seed": int(seed), "scenario": scenario, "rows": out}


def replication_frame(replications: Sequence[Mapping[str, Any]] | Sequence[str | Path]) -> pd.DataFrame:
    """Stack replication results (dicts from :func:`run_replication`, or JSON files of them) into one table."""
    rows = []
    for rep in replications:
        data = json.loads(Path(rep).read_text(encoding="utf-8")) if isinstance(rep, str | Path) else rep
        rows += list(data["rows"])
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def summarise(replications: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE and coverage per scenario, analysis, outcome, estimator and inference.

    Parameters
    ----------
    replications
        Rows with :data:`REPLICATION_COLUMNS` (from :func:`replication_frame`).

    Returns
    -------
    pandas.DataFrame
        ``scenario, analysis, outcome, estimator, inference, n, truth, mean_estimate, bias, rmse, sd_estimate,
        mean_se, coverage, coverage_mc_se``; ``truth`` is the mean planted value (it varies a little
        between seeds, because the truth is the realised ATT of each registry); bias and RMSE use each
        replication's own truth; ``sd_estimate`` uses ddof = 1 (NaN with one replication).
    """
    keys = ["scenario", "analysis", "outcome", "estimator", "inference"]
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
