r"""Comparison municipalities by pre-reform similarity, as a pipeline step.

Before any municipality adopted the model (years before the first adoption year), each
municipality is described by

* ``children_log``: the natural log of its mean number of children aged ``cohort.min_age``-
  ``cohort.max_age`` (age on 1 January) -- the size of the child population;
* ``parent_basic_education_share``: the share of those child-years whose best-educated known
  parent has only basic schooling (``HFAUDD_NIV`` 10), and ``parent_income``: the mean over
  child-years of the parents' mean total income, in DKK 1,000 (current prices) -- the
  socio-economic structure;
* ``placement_rate_level`` / ``_trend`` and ``spending_per_child_level`` / ``_trend``: the mean and
  the least-squares slope per year of the placement rate per 1,000 children and of the micro-costed
  spending per child (:func:`evaluation.fewclusters.synth_step.municipality_outcomes`, the same
  definitions as the synthetic control) -- the pre-reform levels and trends.

Each adopting municipality is then matched to the ``k`` nearest never-adopting municipalities on the
standardised features (:func:`evaluation.municipalities.comparison_municipalities`; Mahalanobis by
default). The step writes every candidate's distance and rank (``municipalities.csv``) and the
balance of the features between the adopters and their selected comparisons, and all never-adopters
(``municipality_balance.csv``: means and standardised differences, the SD of the adopters and all
candidates pooled).

Disclosure: the features are aggregates of whole municipal child populations (hundreds to tens of
thousands of children each); the files hold no count of persons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.cohort.cases import age_on_january_first
from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import EvaluationError
from evaluation.fewclusters.synth_step import municipality_outcomes
from evaluation.io import read_extracts
from evaluation.municipalities import comparison_municipalities, pre_reform_features

__all__ = [
    "FEATURES",
    "MUNICIPALITY_DEFAULTS",
    "feature_balance",
    "municipality_features",
    "write_municipality_comparison",
]

FEATURES: tuple[str, ...] = (
    "children_log",
    "parent_basic_education_share",
    "parent_income",
    "placement_rate_level",
    "placement_rate_trend",
    "spending_per_child_level",
    "spending_per_child_trend",
)
MUNICIPALITY_DEFAULTS: dict[str, Any] = {"k": 5, "metric": "mahalanobis", "features": list(FEATURES)}
BASIC_EDUCATION = 10
UNKNOWN_EDUCATION = 99


def _parents_structure(population: pd.DataFrame, parents: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """Municipality-year share of children with basically educated parents, and mean parental income (DKK 1,000)."""
    kids = children.merge(
        population[["person_id", "year", "mother_id", "father_id"]], on=["person_id", "year"], how="left"
    )
    known = parents.loc[parents["education_level"] != UNKNOWN_EDUCATION, ["person_id", "year", "education_level"]]
    rows = []
    for role in ("mother_id", "father_id"):
        part = kids[["person_id", "year", "municipality", role]].rename(columns={role: "parent_id"}).dropna()
        rows.append(part)
    links = pd.concat(rows, ignore_index=True)
    links = links.merge(
        parents[["person_id", "year", "income"]].rename(columns={"person_id": "parent_id"}),
        on=["parent_id", "year"],
        how="left",
    ).merge(known.rename(columns={"person_id": "parent_id"}), on=["parent_id", "year"], how="left")
    per_child = links.groupby(["municipality", "year", "person_id"]).agg(
        best=("education_level", "max"), income=("income", "mean")
    )
    per_child["basic"] = (per_child["best"] == BASIC_EDUCATION).where(per_child["best"].notna())
    out = per_child.groupby(level=["municipality", "year"]).agg(
        parent_basic_education_share=("basic", "mean"), parent_income=("income", "mean")
    )
    out["parent_income"] = out["parent_income"] / 1000.0
    return out


def municipality_features(
    extracts: Mapping[str, pd.DataFrame],
    prices: Mapping[str, Any],
    before: int,
    *,
    min_age: int = 0,
    max_age: int = 17,
) -> pd.DataFrame:
    """Describe every municipality before ``before`` by the features of the module docstring.

    Parameters
    ----------
    extracts
        The cut extracts ``befolkning``, ``foraeldre``, ``anbringelser_forloeb`` and ``forebyggende``.
    prices
        The config's ``prices`` section (for the spending per child).
    before
        The first adoption year; only earlier years are used.
    min_age, max_age
        Ages (on 1 January) of the children described.

    Returns
    -------
    pandas.DataFrame
        Indexed by municipality, columns :data:`FEATURES`.

    Raises
    ------
    EvaluationError
        If fewer than two years before ``before`` are in the data (no trend can be computed).
    """
    population = extracts["befolkning"]
    outcomes = municipality_outcomes(
        population, extracts["anbringelser_forloeb"], extracts["forebyggende"], prices, min_age=min_age, max_age=max_age
    )
    outcomes = outcomes.loc[outcomes["year"] < before]
    if outcomes["year"].nunique() < 2:
        raise EvaluationError(
            f"comparison municipalities: the data hold {outcomes['year'].nunique()} year(s) before the first "
            f"adoption in {before}; levels and trends need at least two"
        )
    trends = pre_reform_features(outcomes, ["placement_rate", "spending_per_child"], before)
    pre = population.loc[population["year"] < before]
    age = age_on_january_first(pd.to_datetime(pre["birth_date"]), pre["year"])
    kids = pre.loc[(age >= min_age) & (age <= max_age), ["person_id", "year", "municipality"]]
    kids = kids.drop_duplicates(["person_id", "year"])
    structure = _parents_structure(population, extracts["foraeldre"], kids)
    structure = structure.groupby(level="municipality").mean()
    size = np.log(outcomes.groupby("municipality")["children"].mean()).rename("children_log")
    return pd.concat([size, structure, trends], axis=1)[list(FEATURES)].sort_index()


def feature_balance(
    features: pd.DataFrame, treated: list[int], selected: list[int], candidates: list[int]
) -> pd.DataFrame:
    """Means of each feature among the adopters, their selected comparisons and all candidates, with SMDs.

    The standardised mean difference divides the difference in means by the SD (n - 1) of the
    adopters and all candidates pooled, the scale the distances are computed on.

    Returns
    -------
    pandas.DataFrame
        ``feature, treated, selected, candidates, smd_selected, smd_candidates``.
    """
    pooled = features.loc[list(dict.fromkeys([*treated, *candidates]))].std(ddof=1)
    means = {
        "treated": features.loc[treated].mean(),
        "selected": features.loc[selected].mean(),
        "candidates": features.loc[candidates].mean(),
    }
    out = pd.DataFrame(means)
    scale = pooled.where(pooled > 0)
    out["smd_selected"] = (out["treated"] - out["selected"]) / scale
    out["smd_candidates"] = (out["treated"] - out["candidates"]) / scale
    return out.rename_axis("feature").reset_index()


def write_municipality_comparison(
    extracts_dir: Path,
    config: Mapping[str, Any],
    distances_path: Path,
    balance_path: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Pipeline step ``compare_municipalities``: features, nearest comparisons and their balance.

    Parameters
    ----------
    extracts_dir
        Folder of the cut extracts.
    config
        The pipeline config (``treatment.adoptions``, ``prices``, ``cohort``, ``matching.municipalities``).
    distances_path
        Output CSV: ``treated, treated_name, comparison, comparison_name, distance, rank, selected``,
        one row per adopter and candidate.
    balance_path
        Output CSV of :func:`feature_balance`.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        The distances table written.
    """
    say = progress or (lambda _msg: None)
    settings = {**MUNICIPALITY_DEFAULTS, **((config.get("matching") or {}).get("municipalities") or {})}
    adoptions = {int(m): int(y) for m, y in config["treatment"]["adoptions"].items()}
    read = read_extracts(
        Path(extracts_dir),
        ("befolkning", "foraeldre", "anbringelser_forloeb", "forebyggende"),
        step="compare_municipalities",
    )
    cohort = config.get("cohort", {})
    first = min(adoptions.values())
    features = municipality_features(
        read,
        config["prices"],
        first,
        min_age=int(cohort.get("min_age", 0)),
        max_age=int(cohort.get("max_age", 17)),
    )
    treated = sorted(m for m in adoptions if m in features.index)
    pool = sorted(m for m in features.index if m not in adoptions)
    say(
        f"compare_municipalities: {len(treated)} adopters against {len(pool)} never-adopting municipalities "
        f"on {len(settings['features'])} features before {first} ({settings['metric']}, k = {settings['k']})"
    )
    table = comparison_municipalities(
        features[list(settings["features"])].dropna(),
        treated=treated,
        k=int(settings["k"]),
        metric=settings["metric"],
        pool=pool,
    )
    table.insert(1, "treated_name", table["treated"].map(MUNICIPALITY))
    table.insert(3, "comparison_name", table["comparison"].map(MUNICIPALITY))
    chosen = table.loc[table["selected"], "comparison"].astype(int)
    balance = feature_balance(features, treated, chosen.tolist(), pool)
    worst = balance["smd_selected"].abs().max()
    say(f"compare_municipalities: largest |SMD| of a feature after selection {worst:.3f}")
    for frame, path in ((table, distances_path), (balance, balance_path)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return table
