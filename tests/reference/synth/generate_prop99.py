"""Generate the pysyncon reference outputs for the California Proposition 99 check.

Run in a scratch virtualenv (never in the project's), from this folder:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install pysyncon==1.7.0
    /tmp/ref/bin/python generate_prop99.py

Writes ``prop99_pysyncon_weights.csv`` (outcome-only fit: V = I on the 1970-1988
outcomes), ``prop99_pysyncon_gaps.csv`` (gaps of California and of every placebo
state, fitted with the same specification and California left out of the
placebo pools) and ``prop99_pysyncon_nested.json`` (the nested V optimisation on
four outcome predictors: loss of the better of pysyncon's two starts).
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
from pysyncon import Dataprep, Synth
from pysyncon.utils import PlaceboTest

wide = pd.read_csv("prop99_packs_wide.csv")
df = wide.melt(id_vars="year", var_name="state", value_name="packs")
states = [c for c in wide.columns if c != "year"]
controls = [s for s in states if s != "California"]
pre = list(range(1970, 1989))


def outcome_only(treated: str, pool: list[str]) -> Dataprep:
    return Dataprep(
        foo=df,
        predictors=[],
        predictors_op="mean",
        dependent="packs",
        unit_variable="state",
        time_variable="year",
        treatment_identifier=treated,
        controls_identifier=pool,
        time_predictors_prior=pre,
        time_optimize_ssr=pre,
        special_predictors=[("packs", [y], "mean") for y in pre],
    )


prep = outcome_only("California", controls)
synth = Synth()
with contextlib.redirect_stdout(io.StringIO()):
    synth.fit(dataprep=prep, custom_V=np.ones(len(pre)))
weights = pd.Series(synth.W, index=controls, name="weight").rename_axis("state")
weights.reset_index().to_csv("prop99_pysyncon_weights.csv", index=False, float_format="%.10f")

placebo = PlaceboTest()
with contextlib.redirect_stdout(io.StringIO()):
    placebo.fit(dataprep=prep, scm=Synth(), scm_options={"custom_V": np.ones(len(pre))}, max_workers=1, verbose=False)
gaps = pd.concat([placebo.treated_gap.rename("California"), placebo.gaps], axis=1)
gaps.index.name = "year"
gaps.reset_index().to_csv("prop99_pysyncon_gaps.csv", index=False, float_format="%.10f")

nested = Dataprep(
    foo=df,
    predictors=["packs"],
    predictors_op="mean",
    dependent="packs",
    unit_variable="state",
    time_variable="year",
    treatment_identifier="California",
    controls_identifier=controls,
    time_predictors_prior=pre,
    time_optimize_ssr=pre,
    special_predictors=[("packs", [1975], "mean"), ("packs", [1980], "mean"), ("packs", [1988], "mean")],
)
losses = {}
for start in ("equal", "ols"):
    s = Synth()
    with contextlib.redirect_stdout(io.StringIO()):
        s.fit(dataprep=nested, optim_method="Nelder-Mead", optim_initial=start)
    losses[start] = {
        "loss_v": float(s.loss_V),
        "weights": {k: float(v) for k, v in zip(controls, s.W, strict=True) if v > 1e-6},
    }
with open("prop99_pysyncon_nested.json", "w") as fh:
    json.dump({"pysyncon": "1.7.0", "starts": losses}, fh, indent=1, sort_keys=True)
print(weights[weights > 1e-4])
print(losses)
