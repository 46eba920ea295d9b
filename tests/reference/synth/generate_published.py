"""Generate pysyncon reference fits for the published specifications (ADH 2010; Abadie-Gardeazabal 2003).

Run in a scratch virtualenv (never in the project's), from this folder:

    python3 -m venv /tmp/ref-synth && /tmp/ref-synth/bin/pip install pysyncon==1.7.0
    /tmp/ref-synth/bin/python generate_published.py [path/to/basque.csv]

Writes ``prop99_adh_pysyncon.json`` (ADH 2010 Table 1 predictors on ``prop99_smoking.csv``) and,
when the Basque data are given (R Synth's ``basque``, GPL-2, not stored here; pysyncon ships it
as ``data/basque.csv``), ``basque_pysyncon.json``. Each fit is pysyncon's ``Synth`` with
Nelder-Mead from its two starts (``equal``, ``ols``): V, W, the V loss (mean squared outcome
gap over ``time.optimize.ssr``) and the gap path ``Y_treated - Y_donors @ W`` over all years.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

import pandas as pd
from pysyncon import Dataprep, Synth

SECTORS = [
    "sec.agriculture",
    "sec.energy",
    "sec.industry",
    "sec.construction",
    "sec.services.venta",
    "sec.services.nonventa",
]
SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high"]


def fit(prep: Dataprep, wide: pd.DataFrame, treated: str, controls: list[str], start: str) -> dict:
    synth = Synth()
    with contextlib.redirect_stdout(io.StringIO()):
        synth.fit(dataprep=prep, optim_method="Nelder-Mead", optim_initial=start)
    w = pd.Series(synth.W, index=controls)
    gap = wide[treated] - wide[controls] @ w
    return {
        "loss_v": float(synth.loss_V),
        "v": [float(x) for x in synth.V],
        "weights": {k: float(x) for k, x in w.items()},
        "gap": {str(int(t)): float(g) for t, g in gap.items()},
    }


def prop99() -> dict:
    df = pd.read_csv("prop99_smoking.csv")
    controls = sorted(s for s in df["state"].unique() if s != "California")
    prep = Dataprep(
        foo=df,
        predictors=["lnincome", "retprice", "age15to24"],
        predictors_op="mean",
        time_predictors_prior=range(1980, 1989),
        special_predictors=[
            ("beer", range(1984, 1989), "mean"),
            ("cigsale", [1975], "mean"),
            ("cigsale", [1980], "mean"),
            ("cigsale", [1988], "mean"),
        ],
        dependent="cigsale",
        unit_variable="state",
        time_variable="year",
        treatment_identifier="California",
        controls_identifier=controls,
        time_optimize_ssr=range(1970, 1989),
    )
    wide = df.pivot(index="year", columns="state", values="cigsale")
    predictors = ["lnincome[1980-1988]", "retprice[1980-1988]", "age15to24[1980-1988]"]
    predictors += ["beer[1984-1988]", "cigsale[1975]", "cigsale[1980]", "cigsale[1988]"]
    return {
        "predictors": predictors,
        "fits": {s: fit(prep, wide, "California", controls, s) for s in ("equal", "ols")},
    }


def basque(path: str) -> dict:
    df = pd.read_csv(path)
    treated = "Basque Country (Pais Vasco)"
    wide = df.pivot(index="year", columns="regionname", values="gdpcap")
    wide.index = wide.index.astype(int)
    out = {
        "predictors": [f"{c}[1964-1969]" for c in [*SCHOOL, "invest"]]
        + ["gdpcap[1960-1969]"]
        + [f"{c}[1961-1969]" for c in SECTORS]
        + ["popdens[1969]"]
    }
    # R Synth's example (controls 2:16 and 18: Spain left out) and pysyncon's test (Spain in the pool).
    for pool, drop in (("r_synth", {treated, "Spain (Espana)"}), ("with_spain", {treated})):
        controls = [u for u in df["regionname"].unique() if u not in drop]
        prep = Dataprep(
            foo=df,
            predictors=[*SCHOOL, "invest"],
            predictors_op="mean",
            time_predictors_prior=range(1964, 1970),
            special_predictors=[("gdpcap", range(1960, 1970), "mean")]
            + [(c, range(1961, 1970, 2), "mean") for c in SECTORS]
            + [("popdens", [1969], "mean")],
            dependent="gdpcap",
            unit_variable="regionname",
            time_variable="year",
            treatment_identifier=treated,
            controls_identifier=controls,
            time_optimize_ssr=range(1960, 1970),
        )
        out[pool] = {s: fit(prep, wide, treated, controls, s) for s in ("equal", "ols")}
    return out


def main() -> None:
    result = {"pysyncon": "1.7.0", **prop99()}
    with open("prop99_adh_pysyncon.json", "w") as fh:
        json.dump(result, fh, indent=1, sort_keys=True)
    for start, f in result["fits"].items():
        print("prop99", start, round(f["loss_v"], 6), {k: round(v, 4) for k, v in f["weights"].items() if v > 1e-3})
    if len(sys.argv) > 1:
        result = {"pysyncon": "1.7.0", **basque(sys.argv[1])}
        with open("basque_pysyncon.json", "w") as fh:
            json.dump(result, fh, indent=1, sort_keys=True)
        for pool in ("r_synth", "with_spain"):
            for start, f in result[pool].items():
                w = {k: round(v, 4) for k, v in f["weights"].items() if v > 1e-3}
                print("basque", pool, start, round(f["loss_v"], 6), w)


if __name__ == "__main__":
    main()
