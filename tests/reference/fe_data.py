"""The panels behind the fixed-effects reference fixtures (shared by the generator and the tests).

Built from ``linearmodels.datasets.wage_panel`` (Vella and Verbeek 1998, 545 men
observed 1980-1987), with deterministic derived columns:

- ``grp``: a coarse cluster that contains whole units (``nr // 1000``), so the
  unit fixed effects are nested in it;
- ``hours_w``: ``hours / 1000`` as analytic weights;
- the unbalanced panel drops rows with ``(nr + year) % 5 == 0`` and keeps only
  the first year of units with ``nr % 97 == 0`` (singletons).
"""

from __future__ import annotations

import pandas as pd
from linearmodels.datasets import wage_panel

REGRESSORS = ["expersq", "union", "married"]

# case -> (entity effects, time effects, weights, panel)
CASES = {
    "twfe": (True, True, None, "balanced"),
    "entity": (True, False, None, "balanced"),
    "time": (False, True, None, "balanced"),
    "pooled": (False, False, None, "balanced"),
    "twfe_weighted": (True, True, "hours_w", "balanced"),
    "twfe_unbalanced": (True, True, None, "unbalanced"),
    "twfe_unbalanced_weighted": (True, True, "hours_w", "unbalanced"),
}

# vcov label -> (cov_type, cluster column)
VCOVS = {
    "iid": ("unadjusted", None),
    "hetero": ("robust", None),
    "cluster_unit": ("clustered", "nr"),
    "cluster_grp": ("clustered", "grp"),
    "cluster_occupation": ("clustered", "occupation"),
}


def load_panel(kind: str) -> pd.DataFrame:
    """Return the balanced or unbalanced reference panel."""
    df = wage_panel.load()
    df = df.assign(grp=df["nr"] // 1000, hours_w=df["hours"] / 1000.0)
    if kind == "balanced":
        return df.reset_index(drop=True)
    keep = (df["nr"] + df["year"]) % 5 != 0
    first_year = df.groupby("nr")["year"].transform("min")
    singleton_units = df["nr"] % 97 == 0
    keep &= ~singleton_units | (df["year"] == first_year)
    return df.loc[keep].reset_index(drop=True)
