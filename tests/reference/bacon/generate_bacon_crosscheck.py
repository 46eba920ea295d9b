"""Cross-check of the Goodman-Bacon decomposition with Python ``diff-diff`` (run in a scratch virtualenv only).

Reads the data sets that ``generate_bacon_reference.R`` wrote beside this file and writes
``bacon_diffdiff_crosscheck.csv``: one row per 2x2 comparison of ``diff_diff.BaconDecomposition(weights="exact")``
(``dataset, comparison_type, treated_group, control_group, estimate, weight``) plus one row per data set with
``comparison_type == "twfe"`` holding diff-diff's TWFE coefficient in ``estimate``.

diff-diff codes the never treated as ``0`` or ``inf``; cohorts that are missing or later than the last period are
recoded to ``0`` here (they are never treated within the panel). Units treated in or before the first period are
pooled by diff-diff with the never treated (its "U" bucket, Goodman-Bacon 2021 footnote 11), where R bacondecomp
reports them separately as "Later vs Always Treated"; the tests compare the pooled rows accordingly.

Usage (from the repository root)::

    python3 -m venv /tmp/baconvenv && /tmp/baconvenv/bin/pip install diff-diff==3.13.0
    /tmp/baconvenv/bin/python -W ignore tests/reference/bacon/generate_bacon_crosscheck.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from diff_diff import BaconDecomposition

HERE = Path(__file__).resolve().parent
SPECS = {
    "castle": {"y": "l_homicide", "id": "state", "t": "year", "g": "effyear"},
    "divorce": {"y": "suiciderate_elast_jag", "id": "st", "t": "year", "g": "divyear"},
    "math_reform": {"y": "incearn_ln", "id": "state", "t": "class", "g": "reformyr_math"},
    "figure2": {"y": "y", "id": "id", "t": "time", "g": "first_treat"},
}


def main() -> None:
    """Run diff-diff on every data set and write ``bacon_diffdiff_crosscheck.csv``."""
    rows = []
    for name, s in SPECS.items():
        df = pd.read_csv(HERE / f"{name}.csv")
        g = df[s["g"]].astype(float)
        df["cohort"] = np.where(g.isna() | (g > df[s["t"]].max()), 0.0, g)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = BaconDecomposition(weights="exact").fit(
                df, outcome=s["y"], unit=s["id"], time=s["t"], first_treat="cohort"
            )
        table = res.to_dataframe()
        for r in table.itertuples():
            control = 0.0 if r.control_group == "never_treated" else float(r.control_group)
            rows.append(
                {
                    "dataset": name,
                    "comparison_type": r.comparison_type,
                    "treated_group": float(r.treated_group),
                    "control_group": control,
                    "estimate": repr(float(r.estimate)),
                    "weight": repr(float(r.weight)),
                }
            )
        rows.append(
            {
                "dataset": name,
                "comparison_type": "twfe",
                "treated_group": np.nan,
                "control_group": np.nan,
                "estimate": repr(float(res.twfe_estimate)),
                "weight": np.nan,
            }
        )
    pd.DataFrame(rows).to_csv(HERE / "bacon_diffdiff_crosscheck.csv", index=False)


if __name__ == "__main__":
    main()
