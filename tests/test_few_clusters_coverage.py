"""Why the inference policy exists: cluster-robust intervals under-cover when few clusters are treated.

A small Monte Carlo on a clustered cross section (20 clusters of 15, a cluster random effect as large
as the individual noise, the treatment on ``G1`` whole clusters, true effect 1): the share of 95 %
intervals that cover the truth, for cluster-robust errors (t with G - 1 degrees of freedom, the
Stata/fixest convention) and for the restricted wild cluster bootstrap the policy picks for 5 to 29
treated clusters (Webb weights below 12; coverage read off the bootstrap p-value at the true value,
which is what the test-inversion interval covers). MacKinnon and Webb (2017), "Wild bootstrap inference
for wildly different cluster sizes", *Journal of Applied Econometrics* 32(2), describe the pattern: the
cluster-robust t-test over-rejects badly with one to three treated clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.methods.inference import choose_inference
from evaluation.methods.inference.wild_bootstrap import wild_cluster_bootstrap
from evaluation.methods.panel import fixed_effects

N_CLUSTERS, CLUSTER_SIZE, BETA, N_SIMS = 20, 15, 1.0, 200


def _coverage(n_treated: int, *, bootstrap: bool, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(N_CLUSTERS), CLUSTER_SIZE)
    d = (g < n_treated).astype(float)
    covered = []
    for s in range(N_SIMS):
        y = BETA * d + rng.normal(size=N_CLUSTERS)[g] + rng.normal(size=len(g))
        df = pd.DataFrame({"y": y, "d": d, "g": g, "id": np.arange(len(g)), "t": 0})
        if bootstrap:
            r = wild_cluster_bootstrap(
                df, "y", "d", cluster="g", null=BETA, weight_type="webb", n_boot=999, seed=s, confidence_interval=False
            )
            covered.append(r.p_value > 0.05)
        else:
            fe = fixed_effects(
                df, outcome="y", regressors=["d"], unit="id", time="t", entity_effects=False, time_effects=False,
                cluster="g",
            )  # fmt: skip
            row = fe.table.loc["d"]
            covered.append(row["ci_low"] <= BETA <= row["ci_high"])
    return float(np.mean(covered))


@pytest.mark.parametrize("n_treated", [1, 2, 3])
def test_cluster_robust_intervals_under_cover_with_few_treated_clusters(n_treated):
    coverage = _coverage(n_treated, bootstrap=False)
    # 200 draws: Monte Carlo SE about 0.015 at 0.95; these are far below
    assert coverage < 0.88, coverage
    assert choose_inference(n_treated, N_CLUSTERS).method != "cluster_robust"  # so the policy does not use them


@pytest.mark.parametrize("n_treated", [5, 8])
def test_the_policys_wild_bootstrap_covers_where_it_is_chosen(n_treated):
    assert choose_inference(n_treated, N_CLUSTERS).method == "wild_cluster_bootstrap"
    coverage = _coverage(n_treated, bootstrap=True)
    assert 0.90 <= coverage <= 0.99, coverage
