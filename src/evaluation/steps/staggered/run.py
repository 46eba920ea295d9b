"""Pipeline step ``estimate_staggered``: the staggered DiD results files of ``results/estimate/``.

Sample: the robust analyses (TWFE, Callaway-Sant'Anna, event study, pre-trend test, heterogeneity,
dose-response and the Goodman-Bacon decomposition) run on municipality-year means of the *matched*
children's child-years, weighted by the matching weights (``compare/matched.parquet``), the sample of
the headline imputation estimator; :mod:`evaluation.steps.staggered.panels` documents the means and their
weights. The 2x2 DiD stays the naive comparison: all children, unweighted. Without a matched sample
(``matched_path=None``) every analysis uses all children, unweighted, and the log says so.

Files written into ``out_dir`` (one row per outcome of ``outcomes.primary`` + ``outcomes.secondary``
and per row of each analysis; :mod:`evaluation.steps.staggered.analyses` defines the estimators):

``att_gt.csv``
    ``outcome, group, time, att, se, ci_low, ci_high, [band_low, band_high], n_treated, n_control,
    base_period, post``.
``event_study.csv``
    ``outcome, event_time, att, se, ci_low, ci_high, [band_low, band_high], pre, n_treated``.
``pretrend.csv``
    ``outcome, statistic, df, p_value`` (joint Wald test of the pre-treatment event times).
``naive_vs_robust.csv``
    ``outcome, estimator, estimate, se, ci_low, ci_high, p_value, n_treated, n_control, label`` with
    estimators ``did_2x2`` (naive: all children), ``twfe``, ``cs_simple``, ``cs_dynamic`` (matched
    children) and ``did_imputation``: the headline, copied from the ``main`` rows of
    ``results/estimates.csv`` (its counts of children stay there: ``n_treated`` and ``n_control`` of this
    file count municipalities, and are empty in that row).
``heterogeneity.csv``
    ``outcome, subgroup_variable, subgroup, estimate, se, ci_low, ci_high, p_value, n``.
``dose_response.csv``
    ``outcome, exposure, per, control_for_reform, estimate, se, ci_low, ci_high, p_value,
    n_municipalities, n_municipality_years``.
``multiplicity.csv``
    ``analysis, outcome, estimator, family, estimate, se, ci_low, ci_high, p_value, p_holm, p_bh``:
    the ``main`` rows of ``results/estimates.csv`` and the CS simple ATTs, adjusted within the
    primary and the secondary family (:func:`evaluation.methods.multiplicity.adjust_within_families`).
``bacon.csv``
    ``outcome, family, comparison, treated_cohort, control_cohort, weight, estimate, municipalities,
    municipalities_dropped, years``: the Goodman-Bacon decomposition of the (unweighted) TWFE on the
    balanced panel of municipality-year means, a row per 2x2 comparison and a row ``twfe``
    (:mod:`evaluation.steps.staggered.decomposition`).

Disclosure control: no municipality-year mean is written. Every count column (``n`` and ``n_*``:
municipalities, children or municipality-years) below ``disclosure.min_cell`` is written empty, and so
are the estimates of a subgroup of fewer than ``disclosure.min_cell`` children (:func:`hide_few_children`).
``bacon.csv`` counts municipalities and years of its balanced panel in columns not named ``n_*``
(``municipalities``, ``municipalities_dropped``, ``years``): municipalities are public, and the rule is
for counts of persons (:mod:`evaluation.steps.staggered.decomposition`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.disclosure.rules import below_threshold
from evaluation.errors import EvaluationError, ExtractError, ModelNotIdentifiedError
from evaluation.io import write_csv
from evaluation.methods.multiplicity import adjust_within_families
from evaluation.results import Estimate
from evaluation.steps.staggered.analyses import cs_analysis, dose, heterogeneity, twfe, two_by_two
from evaluation.steps.staggered.decomposition import BACON_COLUMNS, bacon_rows
from evaluation.steps.staggered.panels import (
    WEIGHT,
    caseload_panel,
    child_subgroups,
    matched_child_years,
    municipality_panel,
)
from evaluation.steps.staggered.settings import StaggeredSettings

__all__ = [
    "FILES",
    "LABELS",
    "estimator_labels",
    "headline_rows",
    "hide_few_children",
    "multiplicity_table",
    "run_staggered",
    "suppress_counts",
]

Progress = Callable[[str], None]

#: Table name -> file name inside ``out_dir``.
FILES: dict[str, str] = {
    "att_gt": "att_gt.csv",
    "event_study": "event_study.csv",
    "pretrend": "pretrend.csv",
    "naive_vs_robust": "naive_vs_robust.csv",
    "heterogeneity": "heterogeneity.csv",
    "dose_response": "dose_response.csv",
    "multiplicity": "multiplicity.csv",
    "bacon": "bacon.csv",
}

#: English labels of the naive-vs-robust estimators (the report translates them); ``{sample}`` names the sample.
LABELS: dict[str, str] = {
    "did_2x2": "Naive 2x2 DiD: first adopter vs never adopting, before vs after, all children, unweighted",
    "twfe": "Two-way fixed effects, municipality-year means of {sample}",
    "cs_simple": "Callaway-Sant'Anna, simple ATT, {sample}",
    "cs_dynamic": "Callaway-Sant'Anna, average of post-adoption event times, {sample}",
    "did_imputation": "Imputation estimator, matched children (headline)",
}
#: The estimator of the headline (``results/estimates.csv``, analysis ``main``).
HEADLINE_ESTIMATOR = "did_imputation"
_ESTIMATE_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"]


def estimator_labels(*, matched: bool) -> dict[str, str]:
    """:data:`LABELS` with the sample of the robust rows: the matched children, or all children without matching."""
    sample = "matched children, weighted" if matched else "all children, unweighted"
    return {name: text.format(sample=sample) for name, text in LABELS.items()}


def suppress_counts(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Blank every count column (``n`` or ``n_*``) below ``min_cell`` (the threshold rule; zeros are published)."""
    out = frame.copy()
    for column in out.columns:
        if column == "n" or column.startswith("n_"):
            counts = pd.to_numeric(out[column], errors="raise").astype("Int64")
            out[column] = counts.mask(below_threshold(counts, min_cell))
    return out


def hide_few_children(heterogeneity: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Leave empty the subgroup estimates of fewer than ``min_cell`` children (their ``n`` is emptied on writing)."""
    out = heterogeneity.copy()
    few = (pd.to_numeric(out["n"], errors="coerce") < min_cell).fillna(True).astype(bool)
    out.loc[few, ["estimate", "se", "ci_low", "ci_high", "p_value"]] = np.nan
    return out


def _write(frame: pd.DataFrame, path: Path, min_cell: int) -> Path:
    return write_csv(suppress_counts(frame, min_cell), path)


def _row(outcome: str, estimator: str, est: Estimate) -> dict[str, Any]:
    values = est.to_dict()
    return {"outcome": outcome, "estimator": estimator, **{k: values[k] for k in _ESTIMATE_COLUMNS}}


def _guarded(outcome: str, estimator: str, compute: Callable[[], Estimate], progress: Progress) -> dict[str, Any]:
    try:
        return _row(outcome, estimator, compute())
    except ModelNotIdentifiedError as exc:
        progress(f"{estimator} {outcome}: not estimated ({exc})")
        return _row(outcome, estimator, Estimate(np.nan, np.nan, np.nan, np.nan, 0, 0, None))


def _main_rows(estimates_path: Path, settings: StaggeredSettings) -> pd.DataFrame:
    """Read the ``main`` rows of ``results/estimates.csv`` for the configured outcomes (the whole sample only)."""
    main = pd.read_csv(estimates_path)
    missing = {"analysis", "outcome", "estimator", *_ESTIMATE_COLUMNS[:5]} - set(main.columns)
    if missing:
        raise EvaluationError(f"{estimates_path}: column(s) {sorted(missing)} missing; rerun estimate_effects")
    keep = (main["analysis"] == "main") & main["outcome"].isin(settings.outcomes)
    if "subgroup" in main.columns:
        keep &= main["subgroup"].fillna("all").astype(str) == "all"
    rows = main.loc[keep]
    if rows["outcome"].duplicated().any():
        outcome = rows.loc[rows["outcome"].duplicated(), "outcome"].iloc[0]
        raise EvaluationError(
            f"{estimates_path}: more than one main row for outcome {outcome!r}; rerun estimate_effects"
        )
    return rows


def headline_rows(estimates_path: Path, settings: StaggeredSettings) -> pd.DataFrame:
    """Return the headline (``main`` rows of ``results/estimates.csv``) as rows of naive_vs_robust.

    Returns
    -------
    pandas.DataFrame
        ``outcome, estimator, estimate, se, ci_low, ci_high, p_value, n_treated, n_control`` with the
        headline's estimator (:data:`HEADLINE_ESTIMATOR`, ``did_imputation``); the counts are left empty,
        as the headline counts children and this table's counts are municipalities.
    """
    main = _main_rows(estimates_path, settings)
    rows = main[["outcome", "estimator", *_ESTIMATE_COLUMNS[:5]]].assign(n_treated=np.nan, n_control=np.nan)
    return rows.astype({"estimator": str}).reset_index(drop=True)


def multiplicity_table(cs_rows: pd.DataFrame, estimates_path: Path | None, settings: StaggeredSettings) -> pd.DataFrame:
    """Adjust the ``main`` rows of ``results/estimates.csv`` and the CS simple ATTs within outcome families."""
    parts = []
    if estimates_path is not None:
        parts.append(_main_rows(estimates_path, settings))
    parts.append(cs_rows.loc[cs_rows["estimator"] == "cs_simple"].assign(analysis="staggered"))
    table = pd.concat(parts, ignore_index=True)
    table["family"] = table["outcome"].map(settings.family)
    table = adjust_within_families(table)
    columns = ["analysis", "outcome", "estimator", "family", "estimate", "se", "ci_low", "ci_high", "p_value"]
    return table[[*columns, "p_holm", "p_bh"]].sort_values(["family", "outcome", "analysis"]).reset_index(drop=True)


def _read_extract(ingest_dir: Path, name: str) -> pd.DataFrame:
    path = ingest_dir / f"{name}.parquet"
    if not path.is_file():
        raise ExtractError(f"{path} is missing: estimate_staggered needs the ingested extract {name}; run ingest first")
    return pd.read_parquet(path)


def run_staggered(
    panel_path: Path,
    ingest_dir: Path,
    config: dict[str, Any],
    out_dir: Path,
    *,
    matched_path: Path | None,
    estimates_path: Path | None = None,
    progress: Progress = print,
) -> dict[str, Path]:
    """Estimate the staggered DiD analyses of every configured outcome and write their tables (module docstring).

    Parameters
    ----------
    panel_path : Path
        The cohort's child-year panel (``data/interim/cohort/panel.parquet``).
    ingest_dir : Path
        Folder of the ingested extracts (``sagsbehandlere`` for caseload, ``anbringelser_forloeb`` for
        prior placement).
    config : dict
        The validated study config (``estimation``, ``outcomes``, ``disclosure``; see
        :class:`evaluation.steps.staggered.settings.StaggeredSettings`).
    out_dir : Path
        Folder of the results files (``results/estimate``).
    matched_path : Path or None
        ``compare/matched.parquet`` of the rule ``match_children`` (``person_id, weight``): the robust
        analyses use the matched children's child-years weighted by the matching weights. None (say it
        explicitly) uses all children, unweighted.
    estimates_path : Path or None
        ``results/estimates.csv`` of the rule ``estimate_effects``; its ``main`` rows join the
        multiplicity adjustment and give the ``did_imputation`` rows of ``naive_vs_robust.csv``. None
        adjusts the CS estimates alone and leaves the headline out.
    progress : callable
        Told what is estimated and every warning of the estimators (dropped units, skipped cells).

    Returns
    -------
    dict of str to Path
        Table name (:data:`FILES`) -> file written.
    """
    settings = StaggeredSettings.from_config(config)
    ingest_dir, out_dir = Path(ingest_dir), Path(out_dir)
    panel = pd.read_parquet(panel_path)
    outcomes = [o for o in settings.outcomes if o in panel.columns]
    absent = sorted(set(settings.outcomes) - set(outcomes))
    if absent:
        raise EvaluationError(f"{panel_path}: configured outcome(s) {absent} are not columns of the panel")
    sample = _robust_sample(panel, matched_path, progress)
    placements = _read_extract(ingest_dir, "anbringelser_forloeb") if "prior_placement" in settings.subgroups else None
    with_groups = child_subgroups(sample, placements, settings.subgroups)
    caseload = caseload_panel(_read_extract(ingest_dir, "sagsbehandlere"))
    progress(
        f"{panel['municipality'].nunique()} municipalities, {len(panel):,} child-years; "
        f"{settings.control_group}, {settings.method}, {settings.base_period} base period, "
        f"bootstrap {settings.n_bootstrap if settings.bootstrap else 'off'}"
    )
    tables: dict[str, list[Any]] = {name: [] for name in FILES}
    columns = {f"subgroup_{name}": name for name in settings.subgroups}
    labels = estimator_labels(matched=matched_path is not None)
    for outcome in outcomes:
        means = municipality_panel(sample, outcome, settings.covariates, weight=WEIGHT)
        cs = cs_analysis(means, outcome, settings, progress)
        progress(f"{outcome}: CS simple ATT {cs.simple.estimate:.4f} (se {cs.simple.se:.4f})")
        tables["att_gt"].append(cs.att_gt_table())
        tables["event_study"].append(cs.event_study_table())
        tables["pretrend"].append(pd.DataFrame([cs.pretrend_row()]))
        rows = [
            _guarded(outcome, "did_2x2", lambda o=outcome: two_by_two(panel, o, alpha=settings.alpha), progress),
            _guarded(outcome, "twfe", lambda o=outcome, m=means: twfe(m, o, alpha=settings.alpha), progress),
            _row(outcome, "cs_simple", cs.simple),
            _row(outcome, "cs_dynamic", cs.dynamic),
        ]
        tables["naive_vs_robust"].append(pd.DataFrame(rows))
        hetero = heterogeneity(
            with_groups, outcome, {name: col for col, name in columns.items()}, settings, progress, weight=WEIGHT
        )
        tables["heterogeneity"].append(hetero)
        tables["dose_response"].append(pd.DataFrame([dose(means, caseload, outcome, settings)]))
        tables["bacon"].append(bacon_rows(means, outcome, settings.family(outcome), progress))
    frames = {name: pd.concat(parts, ignore_index=True) for name, parts in tables.items() if parts}
    frames["heterogeneity"] = hide_few_children(frames["heterogeneity"], settings.min_cell)
    frames["multiplicity"] = multiplicity_table(frames["naive_vs_robust"], estimates_path, settings)
    if estimates_path is not None:
        frames["naive_vs_robust"] = pd.concat(
            [frames["naive_vs_robust"], headline_rows(estimates_path, settings)], ignore_index=True
        )
    frames["naive_vs_robust"] = frames["naive_vs_robust"].assign(
        label=lambda f: f["estimator"].map(labels).fillna(f["estimator"] + " (headline)")
    )
    frames["att_gt"] = frames["att_gt"].sort_values(["outcome", "group", "time"])
    frames["event_study"] = frames["event_study"].sort_values(["outcome", "event_time"])
    frames["naive_vs_robust"] = frames["naive_vs_robust"].sort_values(["outcome", "estimator"])
    frames["bacon"] = frames.get("bacon", pd.DataFrame(columns=BACON_COLUMNS))
    written = {name: _write(frames[name], out_dir / file, settings.min_cell) for name, file in FILES.items()}
    progress(f"wrote {', '.join(str(p) for p in written.values())}")
    return written


def _robust_sample(panel: pd.DataFrame, matched_path: Path | None, progress: Progress) -> pd.DataFrame:
    """Return the child-years of the robust analyses with their weights in :data:`WEIGHT` (module docstring)."""
    if matched_path is None:
        progress("no matched sample given: the robust analyses use all children, unweighted")
        return panel.assign(**{WEIGHT: 1.0})
    matched_path = Path(matched_path)
    if not matched_path.is_file():
        raise EvaluationError(
            f"{matched_path} is missing: estimate_staggered needs the matched children; run match_children"
        )
    matched = pd.read_parquet(matched_path)
    sample = matched_child_years(panel, matched, source=str(matched_path))
    children = matched.loc[matched["person_id"].isin(sample["person_id"])]
    treated = int(children["treat"].sum()) if "treat" in children.columns else None
    split = (
        "" if treated is None else f" ({treated:,} of adopting and {len(children) - treated:,} of other municipalities)"
    )
    progress(
        f"matched sample: {len(children):,} children{split}, {len(sample):,} of {len(panel):,} child-years; "
        "municipality-year means weighted by the matching weights"
    )
    return sample
