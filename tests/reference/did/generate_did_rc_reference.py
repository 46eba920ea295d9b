"""Generate the reference outputs of repeated cross sections and unbalanced panels (scratch virtualenv only).

Sibling of ``generate_did_reference.py``; same environment (moderndid 0.2.0, csdid 0.4.3). Outputs:

- ``att_gt_rc_reference.csv``: ATT(g,t) and analytic SEs of moderndid (a port of R ``did`` 2.x / ``DRDID``)
  for est_method {dr, ipw, reg} x control_group x base_period x covariates {none, x} x weights, on
  ``rc_synthetic`` (``panel=FALSE``), ``unbalanced_synthetic`` (``allow_unbalanced_panel=TRUE``) and
  ``mpdta_rc`` (R's mpdta with ``panel=FALSE``, rows as independent observations);
- ``aggte_rc_reference.csv``: ``aggte`` simple / dynamic / group / calendar for the same grid;
- ``drdid_imp_rc_reference.csv``: ``DRDID::drdid_imp_rc`` (moderndid's ``drdid_imp_local_rc``) on 2x2 cells;
- ``csdid_rc_crosscheck.csv``: csdid's ATT(g,t) and SEs for a sub-grid, to compare the two ports.

Two corrections of moderndid 0.2.0, made here so that the stored numbers follow R (README):

- for an unbalanced panel moderndid's ``att_gt(panel=True, allow_unbalanced_panel=True)`` fails (it looks
  for a balanced outcome tensor); ``panel=False, allow_unbalanced_panel=True`` with ``idname`` runs R's
  unbalanced path (repeated cross-section estimators, influence function summed by unit), and is used;
- its ``aggte`` gets the units' groups and weights in the order of the influence function's rows
  (sorted unit ids for an unbalanced panel; moderndid's row order for cross sections), as R's
  ``compute.aggte`` does with ``dta`` averaged by id.

Usage::

    /tmp/ref-did/bin/python -W ignore tests/reference/did/generate_did_rc_reference.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cross_sections import repeated_cross_sections, unbalanced_panel  # noqa: E402

CONFIGS = [
    {"method": m, "control": c, "base": b, "covariates": cov, "weights": wt}
    for m, c, b, cov, wt in itertools.product(
        ["dr", "ipw", "reg"], ["nevertreated", "notyettreated"], ["varying", "universal"], ["none", "x"], [False, True]
    )
]
KINDS = ["simple", "dynamic", "group", "calendar"]


def _datasets() -> dict[str, dict]:
    import moderndid

    mpdta = moderndid.load_mpdta().to_pandas()
    synthetic = {"y": "y", "t": "year", "g": "first_treat", "x": "~ x1 + x2", "w": "w"}
    return {
        "rc_synthetic": {**synthetic, "data": repeated_cross_sections(), "id": None},
        "unbalanced_synthetic": {**synthetic, "data": unbalanced_panel(), "id": "id"},
        "mpdta_rc": {
            "data": mpdta.assign(w=1.0 + (mpdta["countyreal"] % 7) / 10),
            "y": "lemp",
            "t": "year",
            "id": None,
            "g": "first.treat",
            "x": "~ lpop",
            "w": "w",
        },
    }


def _key(name: str, cfg: dict) -> dict:
    return {"dataset": name, **{k: cfg[k] for k in ("method", "control", "base", "covariates", "weights")}}


def _fit(spec: dict, cfg: dict):
    import moderndid

    return moderndid.att_gt(
        spec["data"],
        yname=spec["y"],
        tname=spec["t"],
        idname=spec["id"],
        gname=spec["g"],
        xformla=spec["x"] if cfg["covariates"] == "x" else None,
        weightsname=spec["w"] if cfg["weights"] else None,
        panel=False,
        allow_unbalanced_panel=spec["id"] is not None,
        boot=False,
        cband=False,
        est_method=cfg["method"],
        control_group=cfg["control"],
        base_period=cfg["base"],
    )


def _with_units(res, spec: dict, weighted: bool):
    """Units' groups and weights in the order of the influence function's rows (module docstring)."""
    data = spec["data"]
    g = data[spec["g"]].replace(0, np.inf).astype(float)
    if spec["id"] is None:
        order = data.assign(_g=g, _row=np.arange(len(data))).sort_values([spec["t"], "_g", "_row"])
        if not np.array_equal(order["_g"].to_numpy(), np.asarray(res.G, dtype=float)):
            raise RuntimeError("moderndid's row order of repeated cross sections not reproduced")
        units = order
    else:
        units = data.assign(_g=g).drop_duplicates(spec["id"]).sort_values(spec["id"])
    weights = units[spec["w"]].to_numpy(dtype=float) if weighted else np.ones(len(units))
    return res._replace(G=units["_g"].to_numpy(), weights_ind=weights)


def main() -> None:
    import moderndid

    att_rows, agg_rows = [], []
    for name, spec in _datasets().items():
        for cfg in CONFIGS:
            res = _with_units(_fit(spec, cfg), spec, cfg["weights"])
            for g, t, a, s in zip(res.groups, res.times, res.att_gt, res.se_gt, strict=True):
                att_rows.append({**_key(name, cfg), "group": int(g), "time": int(t), "att": a, "se": s})
            for kind in KINDS:
                agg = moderndid.aggte(res, type=kind)
                agg_rows.append(
                    {**_key(name, cfg), "kind": kind, "label": "overall", "att": agg.overall_att, "se": agg.overall_se}
                )
                if kind != "simple":
                    for lab, a, s in zip(agg.event_times, agg.att_by_event, agg.se_by_event, strict=True):
                        agg_rows.append({**_key(name, cfg), "kind": kind, "label": str(int(lab)), "att": a, "se": s})
    pd.DataFrame(att_rows).to_csv(HERE / "att_gt_rc_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(agg_rows).to_csv(HERE / "aggte_rc_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(_dr_imp_two_by_two()).to_csv(HERE / "drdid_imp_rc_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(_csdid_crosscheck()).to_csv(HERE / "csdid_rc_crosscheck.csv", index=False, float_format="%.12g")


def _dr_imp_two_by_two() -> list[dict]:
    """DRDID::drdid_imp_rc (moderndid's drdid_imp_local_rc) on 2x2 cells of the synthetic cross sections."""
    from moderndid.drdid.estimators.drdid_imp_local_rc import drdid_imp_local_rc

    data = repeated_cross_sections()
    rows = []
    for g, t, base in [(2004, 2004, 2003), (2004, 2006, 2003), (2006, 2006, 2005), (2003, 2002, 2001)]:
        for weighted in [False, True]:
            cell = data[data["first_treat"].isin([g, 0]) & data["year"].isin([t, base])]
            x = np.column_stack([np.ones(len(cell)), cell["x1"], cell["x2"]])
            res = drdid_imp_local_rc(
                y=cell["y"].to_numpy(),
                post=(cell["year"] == t).to_numpy(float),
                d=(cell["first_treat"] == g).to_numpy(float),
                covariates=x,
                i_weights=cell["w"].to_numpy() if weighted else np.ones(len(cell)),
                influence_func=True,
            )
            psi = np.asarray(res.att_inf_func)
            se = float(np.sqrt(np.mean(psi**2) / len(psi)))
            rows.append({"group": g, "time": t, "base": base, "weights": weighted, "att": res.att, "se": se})
    return rows


def _csdid_crosscheck() -> list[dict]:
    """csdid's ATT(g,t) for est_method x covariates (never-treated, varying base, unweighted)."""
    from csdid.att_gt import ATTgt

    rows = []
    for name, spec in _datasets().items():
        data = spec["data"].rename(columns={spec["g"]: "gvar"})
        for method, cov in itertools.product(["dr", "ipw", "reg"], ["none", "x"]):
            formula = f"{spec['y']} {spec['x']}" if cov == "x" else None
            fit = ATTgt(
                yname=spec["y"],
                tname=spec["t"],
                idname=spec["id"],
                gname="gvar",
                data=data,
                xformla=formula,
                panel=spec["id"] is not None,
                allow_unbalanced_panel=spec["id"] is not None,
            ).fit(est_method=method, bstrap=False)
            res = fit.results
            for g, t, a, s in zip(res["group"], res["year"], res["att"], res["se"], strict=True):
                rows.append(
                    {
                        "dataset": name,
                        "method": method,
                        "covariates": cov,
                        "group": int(g),
                        "time": int(t),
                        "att": float(a),
                        "se": float(s),
                    }
                )
    return rows


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
