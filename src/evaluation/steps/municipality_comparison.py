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
  spending per child (:func:`evaluation.steps.municipality_panel.municipality_outcomes`, the same
  definitions as the synthetic control) -- the pre-reform levels and trends.

The yearly values come from the release's municipality-year panel (:mod:`evaluation.steps.municipality_panel`),
which the rule ``municipality_panel`` computes once for this step, the synthetic control and the factsheets.

Each adopting municipality is then matched to the ``k`` nearest never-adopting municipalities on the
standardised features (:func:`evaluation.methods.municipalities.comparison_municipalities`; Mahalanobis by
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

from evaluation.config import schema_defaults, section
from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import EvaluationError
from evaluation.io import write_csv
from evaluation.methods.municipalities import comparison_municipalities, pre_reform_features
from evaluation.steps.municipality_panel import municipality_panel, read_municipality_panel

__all__ = [
    "FEATURES",
    "MUNICIPALITY_DEFAULTS",
    "feature_balance",
    "municipality_features",
    "panel_features",
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
MUNICIPALITY_DEFAULTS: dict[str, Any] = schema_defaults("matching", "municipalities")


def panel_features(panel: pd.DataFrame, before: int) -> pd.DataFrame:
    """Describe every municipality before ``before`` by the features of the module docstring.

    Parameters
    ----------
    panel
        The municipality-year panel (:func:`evaluation.steps.municipality_panel.municipality_panel`).
    before
        The first adoption year; only earlier years are used.

    Returns
    -------
    pandas.DataFrame
        Indexed by municipality, columns :data:`FEATURES`.

    Raises
    ------
    EvaluationError
        If fewer than two years before ``before`` are in the data (no trend can be computed).
    """
    pre = panel.loc[panel["year"] < before]
    if pre["year"].nunique() < 2:
        raise EvaluationError(
            f"comparison municipalities: the data hold {pre['year'].nunique()} year(s) before the first "
            f"adoption in {before}; levels and trends need at least two"
        )
    trends = pre_reform_features(pre, ["placement_rate", "spending_per_child"], before)
    structure = pre.groupby("municipality")[["parent_basic_education_share", "parent_income"]].mean()
    size = np.log(pre.groupby("municipality")["children"].mean()).rename("children_log")
    return pd.concat([size, structure, trends], axis=1)[list(FEATURES)].sort_index()


def municipality_features(
    extracts: Mapping[str, pd.DataFrame],
    prices: Mapping[str, Any],
    before: int,
    *,
    min_age: int = 0,
    max_age: int = 17,
) -> pd.DataFrame:
    """Describe every municipality before ``before`` by the features of the module docstring.

    The features of :func:`panel_features` of the municipality-year panel of ``extracts``
    (:func:`evaluation.steps.municipality_panel.municipality_panel`), as the pipeline computes them.

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
    panel = municipality_panel(extracts, prices, min_age=min_age, max_age=max_age, parents_before=before)
    return panel_features(panel, before)


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
    panel_path: Path,
    config: Mapping[str, Any],
    distances_path: Path,
    balance_path: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Pipeline step ``compare_municipalities``: features, nearest comparisons and their balance.

    Parameters
    ----------
    panel_path
        The municipality-year panel of the release
        (:func:`evaluation.steps.municipality_panel.write_municipality_panel`).
    config
        The pipeline config (``treatment.adoptions``, ``matching.municipalities``).
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
    settings = section(config, "matching", "municipalities")
    adoptions = {int(m): int(y) for m, y in config["treatment"]["adoptions"].items()}
    first = min(adoptions.values())
    features = panel_features(read_municipality_panel(Path(panel_path)), first)
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
        write_csv(frame, path)
    return table
