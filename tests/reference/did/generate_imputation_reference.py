"""Reference numbers of the imputation estimator (Borusyak, Jaravel and Spiess 2024) from diff-diff.

Run in a scratch virtualenv (never the project's):

    python3 -m venv /tmp/ddvenv && /tmp/ddvenv/bin/pip install diff-diff==3.13.0 moderndid==0.2.0
    /tmp/ddvenv/bin/python -W ignore tests/reference/did/generate_imputation_reference.py

Writes ``imputation_reference.csv``: the overall ATT and the event-study effects with their Theorem 3
standard errors (diff-diff's default auxiliary partition, cohort x horizon), clustered by unit and by the
coarser ``cluster`` column, on the project's ``staggered_panel`` and on R did's ``mpdta`` (its numbers
only; the data are GPL-2 and not stored); and, clustered by unit, with the leave-one-out residuals of
BJS Supplementary Appendix A.9 (``leave_one_out=True``, column ``leave_out``).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import diff_diff as dd  # noqa: E402
from staggered_panel import staggered_panel  # noqa: E402

warnings.filterwarnings("ignore")


def rows(name: str, data: pd.DataFrame, outcome: str, unit: str, cluster: str | None, loo: bool = False) -> list[dict]:
    model = dd.ImputationDiD(cluster=cluster, leave_one_out=loo)
    overall = model.fit(data, outcome=outcome, unit=unit, time="year", first_treat="first_treat")
    common = dict(data=name, cluster=cluster or unit, leave_out=loo)
    out = [dict(**common, quantity="overall", estimate=overall.overall_att, se=overall.overall_se)]
    es = model.fit(data, outcome=outcome, unit=unit, time="year", first_treat="first_treat", aggregate="event_study")
    for e, eff in sorted(es.event_study_effects.items()):
        if eff["n_obs"]:
            out.append(
                dict(
                    **common,
                    quantity=f"event_{e}",
                    estimate=eff["effect"],
                    se=float(eff["se"]),
                )
            )
    return out


panel = staggered_panel()
import moderndid  # noqa: E402  (ships R did's mpdta; diff-diff downloads it)

mpdta = moderndid.load_mpdta().to_pandas().rename(columns={"first.treat": "first_treat"})
table = pd.DataFrame(
    rows("synthetic", panel, "y", "id", None)
    + rows("synthetic", panel, "y", "id", "cluster")
    + rows("mpdta", mpdta, "lemp", "countyreal", None)
    + rows("synthetic", panel, "y", "id", None, loo=True)
    + rows("mpdta", mpdta, "lemp", "countyreal", None, loo=True)
)
table.to_csv(HERE / "imputation_reference.csv", index=False, float_format="%.12g")
print(table)
