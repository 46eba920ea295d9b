"""Inference with few treated clusters: wild cluster bootstrap, randomization inference, and the policy."""

from evaluation.methods.inference.design import PartialDesign, partial_design
from evaluation.methods.inference.policy import (
    DEFAULT_POLICY,
    REASON_CODES,
    InferenceChoice,
    choose_inference,
    effective_clusters,
    effective_clusters_balanced,
    effective_clusters_from_data,
)
from evaluation.methods.inference.randomization import RandomizationResult, randomization_inference, reassign_adoption
from evaluation.methods.inference.wild_bootstrap import WildBootstrapResult, bootstrap_weights, wild_cluster_bootstrap

__all__ = [
    "DEFAULT_POLICY",
    "InferenceChoice",
    "PartialDesign",
    "REASON_CODES",
    "RandomizationResult",
    "WildBootstrapResult",
    "bootstrap_weights",
    "choose_inference",
    "effective_clusters",
    "effective_clusters_balanced",
    "effective_clusters_from_data",
    "partial_design",
    "randomization_inference",
    "reassign_adoption",
    "wild_cluster_bootstrap",
]
