r"""Which inference to use given the number of treated clusters, and the effective number of clusters.

Cluster-robust standard errors rely on many clusters, and, for a treatment that
varies at the cluster level, on many *treated* clusters: with few, t-tests
over-reject badly (MacKinnon and Webb 2017, "Wild bootstrap inference for wildly
different cluster sizes", *J. Applied Econometrics* 32(2), 233-254; Conley and
Taber 2011). The default policy (thresholds in config, key ``inference``):

=================================  =====================================================
treated clusters                   inference
=================================  =====================================================
at least ``cluster_robust_min``    cluster-robust t with G - 1 degrees of freedom
(default 30)
``wild_bootstrap_min`` (5) to      wild cluster bootstrap, restricted (WCR); Webb weights
``cluster_robust_min`` - 1         below ``webb_below`` (12) treated clusters, Rademacher
                                   otherwise (MacKinnon and Webb 2017; Webb 2023)
fewer than ``wild_bootstrap_min``  randomization inference over municipalities, with the
                                   synthetic control as the companion analysis
=================================  =====================================================

The effective number of clusters of Carter, Schnepel and Steigerwald (2017),
"Asymptotic Behavior of a t-Test Robust to Cluster Heterogeneity", *REStat*
99(4), 698-709, is always reported: with :math:`\tilde x` the regressor of
interest after partialling out the rest of the model and a working
within-cluster correlation :math:`\rho`,

.. math:: \gamma_g = (1-\rho)\sum_{i \in g}\tilde x_i^2 + \rho\Big(\sum_{i\in g}\tilde x_i\Big)^2, \qquad
          \Gamma = \frac1G \sum_g \frac{(\gamma_g - \bar\gamma)^2}{\bar\gamma^2}, \qquad G^* = \frac{G}{1+\Gamma}.

Without data, :func:`choose_inference` uses the balanced-design value for a
cluster-level binary treatment with share :math:`p = G_1/G` treated:
:math:`G^* = G\,p(1-p) / (p(1-p) + (1-2p)^2)` (any :math:`\rho`, since then
:math:`\gamma_g \propto \tilde x_g^2` up to a common factor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, EvaluationError
from evaluation.methods.inference.design import partial_design

__all__ = [
    "InferenceChoice",
    "choose_inference",
    "effective_clusters",
    "effective_clusters_balanced",
    "effective_clusters_from_data",
    "DEFAULT_POLICY",
    "REASON_CODES",
]

Method = Literal["cluster_robust", "wild_cluster_bootstrap", "randomization_inference"]
_METHODS = ("cluster_robust", "wild_cluster_bootstrap", "randomization_inference")
DEFAULT_POLICY: dict[str, Any] = {
    "method": "auto",
    "cluster_robust_min": 30,
    "wild_bootstrap_min": 5,
    "webb_below": 12,
}
"""The policy without a config: the schema's defaults of ``inference`` (methods read no config, so this is a copy;
``tests/test_config.py`` checks that it equals the schema's)."""


@dataclass(frozen=True)
class InferenceChoice:
    """The inference the policy picked.

    Attributes
    ----------
    method : str
        ``"cluster_robust"``, ``"wild_cluster_bootstrap"`` or ``"randomization_inference"``.
    reason : str
        The reason in one English sentence (for interactive use; the report words it from ``reason_code``).
    effective_clusters : float
        Carter-Schnepel-Steigerwald G*.
    weight_type : str or None
        ``"webb"`` or ``"rademacher"`` for the wild bootstrap, else None.
    companion : str or None
        A companion analysis to report beside it (``"synthetic_control"`` with very few treated).
    reason_code : str
        The reason as a code (:data:`REASON_CODES`): what the pipeline writes, and the report words in
        ``reports/_text/<language>/inference.yml``.
    """

    method: str
    reason: str
    effective_clusters: float
    weight_type: str | None = None
    companion: str | None = None
    reason_code: str = ""


#: Codes of the policy's reasons: the method set in the config, enough treated clusters for cluster-robust
#: t-tests, too few for them (the wild cluster bootstrap), too few for the bootstrap as well (randomization
#: inference).
REASON_CODES = ("configured", "enough_treated", "too_few_for_t_tests", "too_few_for_bootstrap")


def effective_clusters(x_tilde: np.ndarray, clusters: np.ndarray, *, rho: float = 0.0) -> float:
    """Carter, Schnepel and Steigerwald (2017) effective number of clusters G*.

    Parameters
    ----------
    x_tilde
        Regressor of interest with the rest of the model partialled out, one value per observation.
    clusters
        Cluster label of each observation.
    rho
        Working within-cluster correlation of the errors, in [0, 1] (0 and 1 bracket it).

    Returns
    -------
    float
        G*, between 1 and G.
    """
    if not 0 <= rho <= 1:
        raise EvaluationError(f"rho must lie in [0, 1], not {rho}.")
    codes, levels = pd.factorize(pd.Series(clusters), sort=True)
    g = len(levels)
    x = np.asarray(x_tilde, dtype=float)
    sq = np.bincount(codes, weights=x * x, minlength=g)
    total = np.bincount(codes, weights=x, minlength=g)
    gamma = (1 - rho) * sq + rho * total**2
    mean = gamma.mean()
    if mean <= 0:
        raise EvaluationError("effective_clusters: the regressor is zero after partialling out.")
    big_gamma = float(np.mean((gamma - mean) ** 2) / mean**2)
    return g / (1 + big_gamma)


def effective_clusters_balanced(n_treated_clusters: int, n_clusters: int) -> float:
    """G* of a balanced design with a cluster-level binary treatment on ``n_treated_clusters`` of ``n_clusters``.

    Parameters
    ----------
    n_treated_clusters, n_clusters
        G_1 and G.

    Returns
    -------
    float
        ``G p (1-p) / (p (1-p) + (1 - 2p)^2)`` with ``p = G_1 / G``.
    """
    if not 0 < n_treated_clusters < n_clusters:
        raise EvaluationError(f"effective clusters need 0 < treated ({n_treated_clusters}) < clusters ({n_clusters}).")
    p = n_treated_clusters / n_clusters
    return n_clusters * p * (1 - p) / (p * (1 - p) + (1 - 2 * p) ** 2)


def effective_clusters_from_data(
    df: pd.DataFrame,
    regressor: str,
    *,
    cluster: str,
    controls: Sequence[str] = (),
    unit: str | None = None,
    time: str | None = None,
    weights: str | None = None,
    rho: float = 0.0,
) -> float:
    """G* for the coefficient of ``regressor`` in a fixed-effects regression (partialled as the bootstrap does).

    Parameters
    ----------
    df
        Data.
    regressor
        Regressor of interest.
    cluster, controls, unit, time, weights
        As in :func:`evaluation.methods.inference.wild_cluster_bootstrap`.
    rho
        Working within-cluster correlation.

    Returns
    -------
    float
    """
    design = partial_design(
        df.assign(__y=0.0), "__y", regressor, cluster=cluster, controls=controls, unit=unit, time=time, weights=weights
    )
    return effective_clusters(design.x, design.clusters, rho=rho)


def _policy(config: Mapping[str, Any] | None) -> dict[str, Any]:
    cfg = dict(DEFAULT_POLICY)
    if config:
        cfg.update((config.get("inference") or {}) if "inference" in config else config)
    if cfg["method"] not in ("auto", *_METHODS):
        raise ConfigError(f"inference.method must be 'auto' or one of {_METHODS}, not {cfg['method']!r}.")
    if not 1 <= cfg["wild_bootstrap_min"] <= cfg["cluster_robust_min"]:
        raise ConfigError("inference: need 1 <= wild_bootstrap_min <= cluster_robust_min.")
    return cfg


def choose_inference(
    n_treated_clusters: int,
    n_clusters: int,
    config: Mapping[str, Any] | None = None,
    *,
    effective: float | None = None,
) -> InferenceChoice:
    """Pick the inference from the number of treated clusters (see the module docstring).

    Parameters
    ----------
    n_treated_clusters
        Clusters (municipalities) with treated observations.
    n_clusters
        All clusters.
    config
        The study config (its ``inference`` block is used) or the block itself; None uses
        :data:`DEFAULT_POLICY`. ``method`` other than ``"auto"`` forces a method.
    effective
        G* computed from the data (:func:`effective_clusters_from_data`); None uses the
        balanced-design value.

    Returns
    -------
    InferenceChoice
    """
    cfg = _policy(config)
    g_star = effective if effective is not None else effective_clusters_balanced(n_treated_clusters, n_clusters)
    count = f"{n_treated_clusters} treated of {n_clusters} clusters (effective number {g_star:.1f})"
    webb = n_treated_clusters < cfg["webb_below"]
    if cfg["method"] != "auto":
        method, code = cfg["method"], "configured"
        reason = f"Set in config (inference.method = {method}); {count}."
    elif n_treated_clusters >= cfg["cluster_robust_min"]:
        method, code = "cluster_robust", "enough_treated"
        reason = f"{count}: enough treated clusters for cluster-robust t-tests with G - 1 degrees of freedom."
    elif n_treated_clusters >= cfg["wild_bootstrap_min"]:
        method, code = "wild_cluster_bootstrap", "too_few_for_t_tests"
        kind = "Webb" if webb else "Rademacher"
        reason = (
            f"{count}: too few treated clusters for cluster-robust t-tests; restricted wild cluster bootstrap "
            f"with {kind} weights."
        )
    else:
        method, code = "randomization_inference", "too_few_for_bootstrap"
        reason = (
            f"{count}: too few treated clusters for cluster-robust or bootstrap inference; randomization "
            "inference over municipalities, with a synthetic control beside it."
        )
    return InferenceChoice(
        method=method,
        reason=reason,
        effective_clusters=float(g_star),
        weight_type=("webb" if webb else "rademacher") if method == "wild_cluster_bootstrap" else None,
        companion="synthetic_control" if method == "randomization_inference" else None,
        reason_code=code,
    )
