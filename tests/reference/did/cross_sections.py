"""Repeated cross sections and an unbalanced panel built from this project's synthetic staggered panel.

Deterministic (seeded), written by and for this project (no third-party data); used by
``generate_did_rc_reference.py`` and ``tests/test_did_rc.py``.

- :func:`repeated_cross_sections`: a larger draw of :func:`staggered_panel.staggered_panel` in which every
  person is observed in exactly one year drawn at random, so each period holds different people (true
  repeated cross sections: ``id`` identifies rows).
- :func:`unbalanced_panel`: the default synthetic panel with about 10 % of the unit-years removed at random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from staggered_panel import staggered_panel


def repeated_cross_sections(n_people: int = 2400, seed: int = 20240607) -> pd.DataFrame:
    """One row per person, ``id, year, y, first_treat, x1, x2, w, cluster``; each person seen in one year."""
    panel = staggered_panel(n_units=n_people, seed=seed)
    years = np.sort(panel["year"].unique())
    seen = years[np.random.default_rng(seed + 1).integers(0, len(years), size=n_people)]
    keep = panel["year"].to_numpy() == seen[panel["id"].to_numpy()]
    return panel[keep].sort_values(["year", "id"]).reset_index(drop=True)


def unbalanced_panel(share_missing: float = 0.10, seed: int = 20240608) -> pd.DataFrame:
    """The default synthetic panel without a random ``share_missing`` of its unit-years."""
    panel = staggered_panel()
    keep = np.random.default_rng(seed).random(len(panel)) >= share_missing
    return panel[keep].reset_index(drop=True)
