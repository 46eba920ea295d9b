"""The Monte Carlo study as Snakemake jobs: settings, seeds, one replication per job, and the summary.

Each replication (:func:`evaluation.steps.montecarlo.run_replication`) regenerates the
synthetic registry with its own seed in a scratch folder, reruns ingest, cohort,
matching and estimation, and writes one small JSON of estimates against the
planted truth; the scratch microdata are removed afterwards, whether the
replication succeeds or fails. :func:`write_summary` gives bias, RMSE and coverage
per estimator and inference (Morris, White and Crowther 2019).

Settings (config block ``montecarlo``) may arrive as strings from
``snakemake --config 'montecarlo={replications: 200}'`` (Snakemake reads nested
``--config`` values without typing them); :func:`montecarlo_settings` converts and checks them.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.config import schema_defaults, section
from evaluation.errors import ConfigError
from evaluation.io import write_csv

__all__ = ["MONTECARLO_DEFAULTS", "montecarlo_settings", "montecarlo_seeds", "run_replication_job", "write_summary"]

MONTECARLO_DEFAULTS: dict[str, Any] = schema_defaults("montecarlo")
"""Defaults of the config block ``montecarlo``, scenarios included, read from the schema (their one source)."""

_SCALES = ("tiny", "demo", "national")


def _quiet(_: str) -> None:
    return None


def montecarlo_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``montecarlo`` block with defaults filled in and values converted (``--config`` strings too).

    Raises
    ------
    ConfigError
        Non-integer or non-positive ``replications``/``bootstrap_draws``, a negative ``first_seed``,
        or an unknown ``scale``.
    """
    cfg = section(config, "montecarlo")
    for key, low in (("replications", 1), ("first_seed", 0), ("bootstrap_draws", 99)):
        value = cfg[key]
        try:
            number = int(str(value).strip())
        except ValueError as err:
            raise ConfigError(f"montecarlo.{key} must be an integer, not {value!r}.") from err
        if number < low:
            raise ConfigError(f"montecarlo.{key} must be at least {low}, not {number}.")
        cfg[key] = number
    cfg["scale"] = str(cfg["scale"]).strip()
    if cfg["scale"] not in _SCALES:
        raise ConfigError(f"montecarlo.scale must be one of {_SCALES}, not {cfg['scale']!r}.")
    return cfg


def montecarlo_scenarios(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the scenarios: name -> overrides of ``synthetic.effects`` (``montecarlo.scenarios``)."""
    scenarios = montecarlo_settings(config)["scenarios"]
    if not isinstance(scenarios, Mapping) or not scenarios:
        raise ConfigError("montecarlo.scenarios must map at least one scenario name to effect overrides.")
    return {str(name): dict(over or {}) for name, over in scenarios.items()}


def montecarlo_seeds(config: Mapping[str, Any]) -> list[int]:
    """Seeds of the replications: ``first_seed, first_seed + 1, ...`` (``replications`` of them)."""
    cfg = montecarlo_settings(config)
    return list(range(cfg["first_seed"], cfg["first_seed"] + cfg["replications"]))


def run_replication_job(
    seed: int,
    config: Mapping[str, Any],
    out_path: Path,
    workdir: Path,
    *,
    scenario: str = "constant",
    progress: Callable[[str], None] = _quiet,
) -> dict[str, Any]:
    """Run one replication of a scenario in ``workdir``, write its JSON to ``out_path`` and remove ``workdir``.

    Parameters
    ----------
    seed
        Seed of the registry and of the bootstrap draws.
    config
        Study config; ``montecarlo.scale`` and ``montecarlo.bootstrap_draws`` replace
        ``synthetic.scale`` and ``inference.bootstrap_draws`` for the replication.
    out_path
        JSON file written (``{"seed": ..., "rows": [...]}``).
    workdir
        Scratch folder for the replication's microdata; removed afterwards.
    scenario
        Name of a scenario of :func:`montecarlo_scenarios`: its overrides replace ``synthetic.effects``.
    progress
        Progress messages.

    Returns
    -------
    dict
        The replication's result.
    """
    from evaluation.steps.montecarlo import run_replication

    mc = montecarlo_settings(config)
    cfg = copy.deepcopy(dict(config))
    scenarios = montecarlo_scenarios(config)
    if scenario not in scenarios:
        raise ConfigError(f"montecarlo: unknown scenario {scenario!r}; configured: {sorted(scenarios)}.")
    synthetic = dict(cfg.get("synthetic") or {})
    effects = {**(synthetic.get("effects") or {}), **scenarios[scenario]}
    cfg["synthetic"] = {**synthetic, "scale": mc["scale"], "effects": effects}
    cfg["inference"] = {**(cfg.get("inference") or {}), "bootstrap_draws": mc["bootstrap_draws"]}
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    try:
        result = run_replication(int(seed), cfg, workdir, progress, scenario=scenario)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return result


#: Coverage of a nominal 95 % interval counted as acceptable by the design validation.
COVERAGE_BAND = (0.90, 0.99)


def _replication_counts(table: pd.DataFrame) -> str:
    """Say how many replications each scenario has (``n`` of its rows), e.g. "36 replications (growing), ..."."""
    if "scenario" not in table.columns or not len(table):
        return f"{int(table['n'].max()) if len(table) else 0} replications"
    counts = table.groupby("scenario")["n"].max().astype(int)
    if counts.nunique() == 1:
        return f"{int(counts.iloc[0])} replications per scenario"
    return "Replications per scenario: " + ", ".join(f"{n} ({name})" for name, n in counts.items())


def summary_markdown(table: pd.DataFrame, *, scale: str | None = None) -> str:
    """Render the Monte Carlo summary as a Markdown page: one table per outcome, coverage judged.

    Each row gives bias, RMSE, the mean standard error against the SD of the estimates, and the
    coverage of the nominal 95 % interval with its Monte Carlo standard error (Morris, White and
    Crowther 2019); the last column says whether the coverage lies in :data:`COVERAGE_BAND`
    ("under" below it, "over" above it). Every number comes from ``table``.

    Parameters
    ----------
    table
        Output of :func:`evaluation.steps.montecarlo.summarise`.
    scale
        The synthetic scale of the replications, for the heading.

    Returns
    -------
    str
        The page.
    """
    lo, hi = COVERAGE_BAND
    lines = [
        "# Design validation: Monte Carlo study",
        "",
        f"{_replication_counts(table)}{f' at the `{scale}` scale' if scale else ''}: each regenerates the "
        "synthetic registry with its own seed and the scenario's planted effects, reruns ingestion, cohort, "
        "matching and estimation, and compares every 95 % interval with the planted truth "
        "(`make montecarlo REPS=...`; written by the rule `montecarlo_summary`).",
        f"Coverage is judged acceptable between {lo:.0%} and {hi:.0%}.",
        "",
        "The headline is `main` / `did_imputation` with inference `policy` (the interval the report shows: "
        "the few-cluster policy's choice); `bjs_t` is the same estimate with the Borusyak-Jaravel-Spiess "
        "standard error (leave-out residuals unless `estimation.leave_out` is false) and a t interval. "
        "The other rows are the comparisons.",
        "",
        'Coverage above the band ("over") means intervals wider than they need to be. The BJS standard error '
        "counts the adopting municipalities' departures from the average effect as noise, so it is conservative "
        "when the effect differs between them (Borusyak, Jaravel and Spiess 2024). The replications keep the "
        "adopters fixed, so such differences are the same in every replication and do not add to the SD of the "
        "estimates. In the scenario `none`, where no effect can differ, an outcome's intervals can still be "
        "wider than needed: the leave-out residuals (BJS appendix A.9; `estimation.leave_out`) make the "
        "standard error conservative (the `bjs_t` rows' mean SE above the SD of the estimates). The policy's "
        "studentised restricted wild cluster bootstrap divides each draw by a standard error computed the same "
        "way, so a smaller standard error would leave its interval where it is; for SDQ and school absence its "
        "draws' standard errors are inflated less than the estimate's own, so its critical values are too "
        "large. A CR2-type correction of the leave-out residuals was tried: it did not move the bootstrap "
        "intervals and took the `bjs_t` intervals of the calibrated outcomes below the band.",
        "",
    ]
    heads = table.loc[(table["analysis"] == "main") & (table["inference"] == "policy")]
    if len(heads):
        lines += [
            "## Headline coverage by scenario",
            "",
            "| scenario | outcome | n | truth | bias | RMSE | coverage (MC SE) | judged |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in heads.sort_values(["scenario", "outcome"]).itertuples(index=False):
            verdict = "ok" if lo <= r.coverage <= hi else ("under" if r.coverage < lo else "over")
            lines.append(
                f"| {r.scenario} | {r.outcome} | {int(r.n)} | {r.truth:.4g} | {r.bias:.4g} | {r.rmse:.4g} "
                f"| {r.coverage:.3f} ({r.coverage_mc_se:.3f}) | {verdict} |"
            )
        lines.append("")
    for (scenario, outcome), rows in table.groupby(["scenario", "outcome"], sort=True):
        lines += [
            f"## {scenario}: {outcome}",
            "",
            "| analysis | estimator | inference | n | truth | bias | RMSE | mean SE | SD of estimates "
            "| coverage (MC SE) | judged |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in rows.itertuples(index=False):
            verdict = "ok" if lo <= r.coverage <= hi else ("under" if r.coverage < lo else "over")
            lines.append(
                f"| {r.analysis} | {r.estimator} | {r.inference} | {int(r.n)} | {r.truth:.4g} | {r.bias:.4g} "
                f"| {r.rmse:.4g} | {r.mean_se:.4g} | {r.sd_estimate:.4g} | {r.coverage:.3f} ({r.coverage_mc_se:.3f}) "
                f"| {verdict} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_summary(
    replication_paths: Sequence[Path], out_path: Path, markdown_path: Path | None = None, *, scale: str | None = None
) -> pd.DataFrame:
    """Stack the replication JSONs and write bias, RMSE and coverage (:func:`evaluation.steps.montecarlo.summarise`).

    With ``markdown_path``, also write :func:`summary_markdown` there.
    """
    from evaluation.steps.montecarlo import replication_frame, summarise

    table = summarise(replication_frame([Path(p) for p in replication_paths]))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, out_path)
    if markdown_path is not None:
        Path(markdown_path).write_text(summary_markdown(table, scale=scale), encoding="utf-8")
    return table
