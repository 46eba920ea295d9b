"""Build the synthetic staggered-adoption panel used by the DiD reference tests.

Deterministic (seeded), written by and for this project (no third-party data). Shaped like R did's
``mpdta`` example: 600 units over periods 2001-2006, cohorts first treated in 2003, 2004 and 2006,
never-treated units, a time-invariant covariate ``x1``, a binary covariate ``x2`` that shifts both the
cohort probabilities and the outcome trend (so covariates matter), heterogeneous dynamic effects,
sampling weights ``w`` and 30 clusters ``cluster`` that contain whole units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(n_units: int = 600, seed: int = 20240601) -> pd.DataFrame:
    """Return the long panel ``id, year, y, first_treat, x1, x2, w, cluster``."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2007)
    x1 = rng.normal(size=n_units)
    x2 = rng.binomial(1, 0.4, size=n_units)
    score = np.column_stack([0.2 * x1, 0.5 * x2 - 0.3 * x1, 0.6 * x2, np.zeros(n_units)])
    prob = np.exp(score) / np.exp(score).sum(axis=1, keepdims=True)
    cohort = np.array([2003, 2004, 2006, 0])[(rng.random(n_units)[:, None] > prob.cumsum(axis=1)).sum(axis=1)]
    unit_effect = rng.normal(size=n_units) + 0.5 * x1
    rows = []
    for k, year in enumerate(years):
        trend = 0.1 * k + 0.15 * k * x2 + 0.05 * k * x1
        exposure = np.where(cohort > 0, year - cohort, -1)
        effect = np.where(exposure >= 0, (0.3 + 0.2 * exposure) * (1 + 0.5 * (cohort == 2003)), 0.0)
        y = unit_effect + trend + effect + rng.normal(scale=0.5, size=n_units)
        rows.append(pd.DataFrame({"id": np.arange(n_units), "year": year, "y": y, "first_treat": cohort}))
    panel = pd.concat(rows, ignore_index=True)
    panel["x1"] = x1[panel["id"]]
    panel["x2"] = x2[panel["id"]]
    panel["w"] = (0.5 + rng.random(n_units))[panel["id"]]
    panel["cluster"] = (panel["id"] % 30).astype(int)
    return panel.sort_values(["id", "year"]).reset_index(drop=True)


if __name__ == "__main__":
    print(staggered_panel().describe())
