r"""Comparison municipalities chosen by pre-reform similarity.

Public API::

    from evaluation.methods.municipalities import comparison_municipalities, pre_reform_features
    feats = pre_reform_features(panel, value_columns=["placements_per_1000", "spending_per_child"],
                                before=2013)
    table = comparison_municipalities(feats.join(structure), treated=[657], k=5)

A municipality-level comparison is a nearest-neighbour match of each adopting
municipality to the never- (or not-yet-) adopting ones on pre-reform
characteristics: socio-economic structure, child population, and the levels
and trends of placements and spending before the reform (the features are
computed by the caller from the ingested extracts; :func:`pre_reform_features`
turns a municipality-year panel into levels and linear trends).

Distances are computed on standardised features: each feature is centred and
divided by its sample standard deviation (n - 1) over the treated and the
candidate municipalities together. ``metric="euclidean"`` is the (optionally
weighted) Euclidean distance of the standardised features;
``metric="mahalanobis"`` scales by the inverse of their correlation matrix
(Moore-Penrose pseudo-inverse when singular, as with few municipalities and
many features), so that correlated features do not count twice (Rubin 1980).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError

__all__ = ["DISTANCE_COLUMNS", "comparison_municipalities", "pre_reform_features"]

DISTANCE_COLUMNS = ["treated", "comparison", "distance", "rank", "selected"]


def comparison_municipalities(
    table: pd.DataFrame,
    treated: Sequence[Hashable],
    features: Sequence[str] | None = None,
    k: int = 5,
    *,
    metric: Literal["mahalanobis", "euclidean"] = "mahalanobis",
    pool: Sequence[Hashable] | None = None,
    feature_weights: Mapping[str, float] | None = None,
    replace: bool = True,
) -> pd.DataFrame:
    """Rank candidate comparison municipalities for each treated one by pre-reform distance.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per municipality, indexed by municipality code, with numeric feature columns.
    treated : sequence
        Codes of the treated (adopting) municipalities.
    features : sequence of str, optional
        Feature columns; all numeric columns by default.
    k : int
        Comparison municipalities to select per treated municipality.
    metric : {"mahalanobis", "euclidean"}
        Distance on the standardised features (see the module docstring).
    pool : sequence, optional
        Candidate municipalities; all non-treated rows by default.
    feature_weights : mapping, optional
        Euclidean metric only: weight of each feature in the squared distance (default 1).
    replace : bool
        True: each treated municipality gets its own ``k`` nearest (a candidate may
        serve several). False: treated municipalities choose in the given order and
        a candidate is selected at most once.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTANCE_COLUMNS`, one row per treated-candidate pair, sorted by
        treated (in the given order) then distance: ``rank`` (1 = nearest) among
        the candidates, ``selected`` True for the chosen comparison municipalities.

    Raises
    ------
    EvaluationError
        Unknown municipalities or features, missing or constant features, too few candidates.
    """
    if metric not in ("mahalanobis", "euclidean"):
        raise EvaluationError(
            f"comparison_municipalities: metric must be 'mahalanobis' or 'euclidean', not {metric!r}."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise EvaluationError(f"comparison_municipalities: k must be a whole number >= 1, not {k!r}.")
    if not table.index.is_unique:
        dup = table.index[table.index.duplicated()][0]
        raise EvaluationError(f"comparison_municipalities: municipality {dup!r} appears more than once in the table.")
    treated = list(treated)
    unknown = [m for m in treated if m not in table.index]
    if unknown:
        raise EvaluationError(f"comparison_municipalities: treated municipalities {unknown} are not in the table.")
    candidates = [m for m in (table.index if pool is None else pool) if m not in set(treated)]
    unknown = [m for m in candidates if m not in table.index]
    if unknown:
        raise EvaluationError(f"comparison_municipalities: pool municipalities {unknown} are not in the table.")
    if len(candidates) < k or (not replace and len(candidates) < k * len(treated)):
        raise EvaluationError(
            f"comparison_municipalities: {len(candidates)} candidate municipalities are too few for k={k}"
            + ("" if replace else f" without replacement for {len(treated)} treated")
            + "; lower k or widen the pool."
        )
    if features is None:
        features = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    features = list(features)
    missing = [f for f in features if f not in table.columns]
    if missing or not features:
        raise EvaluationError(f"comparison_municipalities: feature(s) {missing or '(none)'} not in the table.")
    x = table.loc[treated + candidates, features]
    if x.isna().any().any():
        col = x.columns[x.isna().any()][0]
        raise EvaluationError(
            f"comparison_municipalities: feature '{col}' is missing for {int(x[col].isna().sum())} municipalities "
            f"(e.g. {x.index[x[col].isna()][0]!r}); impute it or leave the feature out."
        )
    values = x.to_numpy(dtype=float)
    sd = values.std(axis=0, ddof=1)
    if np.any(sd == 0):
        raise EvaluationError(
            f"comparison_municipalities: feature(s) {[f for f, s in zip(features, sd, strict=True) if s == 0]} "
            "do not vary between the municipalities; leave them out."
        )
    z = (values - values.mean(axis=0)) / sd
    if metric == "mahalanobis":
        if feature_weights is not None:
            raise EvaluationError("comparison_municipalities: feature_weights apply to metric='euclidean' only.")
        vals, vecs = np.linalg.eigh(np.corrcoef(z, rowvar=False).reshape(len(features), len(features)))
        tol = vals.max() * len(features) * np.finfo(float).eps
        z = z @ (vecs * np.where(vals > tol, 1.0 / np.sqrt(np.where(vals > tol, vals, 1.0)), 0.0))
    elif feature_weights is not None:
        bad = [f for f in feature_weights if f not in features]
        if bad or any(v < 0 for v in feature_weights.values()):
            raise EvaluationError(
                f"comparison_municipalities: feature_weights must be non-negative and name features ({bad})."
            )
        z = z * np.sqrt([feature_weights.get(f, 1.0) for f in features])
    n_t = len(treated)
    zt, zc = z[:n_t], z[n_t:]
    dist = np.sqrt(np.maximum(((zt[:, None, :] - zc[None, :, :]) ** 2).sum(axis=2), 0.0))
    ranks = dist.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable") + 1
    selected = np.zeros_like(dist, dtype=bool)
    if replace:
        selected = ranks <= k
    else:
        taken = np.zeros(len(candidates), dtype=bool)
        for i in range(n_t):  # loop over the (few) treated municipalities: the order is the rule
            free = np.flatnonzero(~taken)
            chosen = free[np.argsort(dist[i, free], kind="stable")[:k]]
            selected[i, chosen] = True
            taken[chosen] = True
    out = pd.DataFrame(
        {
            "treated": np.repeat(np.asarray(treated, dtype=object), len(candidates)),
            "comparison": np.tile(np.asarray(candidates, dtype=object), n_t),
            "distance": dist.ravel(),
            "rank": ranks.ravel(),
            "selected": selected.ravel(),
            "_order": np.repeat(np.arange(n_t), len(candidates)),
        }
    )
    out = out.sort_values(["_order", "rank"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return out[DISTANCE_COLUMNS]


def pre_reform_features(
    panel: pd.DataFrame,
    value_columns: Sequence[str],
    before: int,
    *,
    municipality: str = "municipality",
    year: str = "year",
) -> pd.DataFrame:
    r"""Summarise a municipality-year panel before the reform into levels and linear trends.

    For each value column and municipality, the level is the mean over the
    pre-reform years (``year < before``) and the trend is the least-squares
    slope on the year, :math:`\widehat\beta = \sum (t - \bar t)(y - \bar y) / \sum (t - \bar t)^2`
    (units per year).

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per municipality and year.
    value_columns : sequence of str
        Columns to summarise (e.g. placements per 1,000 children, spending per child).
    before : int
        First reform year; only earlier years are used.
    municipality, year : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Indexed by municipality, columns ``<value>_level`` and ``<value>_trend``.

    Raises
    ------
    EvaluationError
        Missing columns, or a municipality with fewer than two pre-reform years (no trend).
    """
    value_columns = list(value_columns)
    missing = [c for c in [municipality, year, *value_columns] if c not in panel.columns]
    if missing:
        raise EvaluationError(f"pre_reform_features: column(s) {missing} not in the panel.")
    pre = panel.loc[panel[year] < before, [municipality, year, *value_columns]].copy()
    if pre.empty:
        raise EvaluationError(f"pre_reform_features: no rows before {before}.")
    g = pre.groupby(municipality, sort=True)
    n_years = g[year].nunique()
    if (n_years < 2).any():
        short = list(n_years.index[n_years < 2][:5])
        raise EvaluationError(
            f"pre_reform_features: municipalities {short} have fewer than two years before {before}; "
            "a trend needs at least two."
        )
    t = pre[year].astype(float)
    tc = t - g[year].transform("mean").astype(float)
    out = {}
    for col in value_columns:
        y = pre[col].astype(float)
        yc = y - g[col].transform("mean")
        out[f"{col}_level"] = g[col].mean()
        out[f"{col}_trend"] = (tc * yc).groupby(pre[municipality]).sum() / (tc**2).groupby(pre[municipality]).sum()
    return pd.DataFrame(out)
