"""Generate the reference outputs of the staggered-DiD tests (run in a scratch virtualenv, never by the tests).

Reference implementations: ``moderndid`` (a port of R ``did`` 2.x / ``DRDID`` 1.2 that ships R's
``mpdta``), cross-checked with ``csdid`` (the port by Rios-Avila et al.). Outputs:

- ``att_gt_reference.csv``: ATT(g,t) and analytic SEs, one row per (data set, configuration, group, time);
- ``aggte_reference.csv``: aggregations (simple, dynamic, group, calendar) with analytic SEs;
- ``csdid_crosscheck.csv``: csdid's ATT(g,t) for the default configuration on both data sets.

Data sets: ``synthetic`` (``staggered_panel.py`` beside this file) and ``mpdta`` (from ``moderndid``;
GPL-2 data of R ``did``, not stored here; the tests that use it look for ``mpdta.csv`` beside this file).

Usage::

    python3 -m venv /tmp/ref-did && /tmp/ref-did/bin/pip install moderndid==0.2.0 csdid==0.4.3
    /tmp/ref-did/bin/python -W ignore tests/reference/did/generate_did_reference.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from staggered_panel import staggered_panel  # noqa: E402

CONFIGS = [
    {"method": m, "control": c, "base": b, "covariates": cov, "weights": wt}
    for m, c, b, cov, wt in itertools.product(
        ["dr", "ipw", "reg"], ["nevertreated", "notyettreated"], ["varying", "universal"], ["none", "x"], [False, True]
    )
]


def _datasets() -> dict[str, dict]:
    import moderndid

    mpdta = moderndid.load_mpdta().to_pandas()
    return {
        "synthetic": {
            "data": staggered_panel(),
            "y": "y",
            "t": "year",
            "id": "id",
            "g": "first_treat",
            "x": "~ x1 + x2",
            "w": "w",
        },
        "mpdta": {
            "data": mpdta.assign(w=1.0 + (mpdta["countyreal"] % 7) / 10),
            "y": "lemp",
            "t": "year",
            "id": "countyreal",
            "g": "first.treat",
            "x": "~ lpop",
            "w": "w",
        },
    }


def _key(name: str, cfg: dict) -> dict:
    return {"dataset": name, **{k: cfg[k] for k in ("method", "control", "base", "covariates", "weights")}}


def main() -> None:
    import moderndid

    att_rows, agg_rows = [], []
    for name, spec in _datasets().items():
        for cfg in CONFIGS:
            res = moderndid.att_gt(
                spec["data"],
                yname=spec["y"],
                tname=spec["t"],
                idname=spec["id"],
                gname=spec["g"],
                xformla=spec["x"] if cfg["covariates"] == "x" else None,
                weightsname=spec["w"] if cfg["weights"] else None,
                boot=False,
                cband=False,
                est_method=cfg["method"],
                control_group=cfg["control"],
                base_period=cfg["base"],
            )
            if cfg["weights"]:
                res = _with_unit_weights(res, spec)
            for g, t, a, s in zip(res.groups, res.times, res.att_gt, res.se_gt, strict=False):
                att_rows.append({**_key(name, cfg), "group": int(g), "time": int(t), "att": a, "se": s})
            for kind in ["simple", "dynamic", "group", "calendar"]:
                agg = moderndid.aggte(res, type=kind)
                agg_rows.append(
                    {**_key(name, cfg), "kind": kind, "label": "overall", "att": agg.overall_att, "se": agg.overall_se}
                )
                if kind != "simple":
                    for lab, a, s in zip(agg.event_times, agg.att_by_event, agg.se_by_event, strict=False):
                        agg_rows.append({**_key(name, cfg), "kind": kind, "label": str(int(lab)), "att": a, "se": s})
            if (
                cfg["method"] == "dr"
                and cfg["covariates"] == "none"
                and not cfg["weights"]
                and cfg["base"] == "varying"
            ):
                for e_kwargs in [{"min_e": -2, "max_e": 2}, {"balance_e": 1}]:
                    agg = moderndid.aggte(res, type="dynamic", **e_kwargs)
                    tag = "dynamic_" + "_".join(f"{k}{v}" for k, v in e_kwargs.items())
                    agg_rows.append(
                        {
                            **_key(name, cfg),
                            "kind": tag,
                            "label": "overall",
                            "att": agg.overall_att,
                            "se": agg.overall_se,
                        }
                    )
                    for lab, a, s in zip(agg.event_times, agg.att_by_event, agg.se_by_event, strict=False):
                        agg_rows.append({**_key(name, cfg), "kind": tag, "label": str(int(lab)), "att": a, "se": s})
    pd.DataFrame(_pretests()).to_csv(HERE / "pretest_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(_dr_imp_two_by_two()).to_csv(HERE / "drdid_imp_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(att_rows).to_csv(HERE / "att_gt_reference.csv", index=False, float_format="%.12g")
    pd.DataFrame(agg_rows).to_csv(HERE / "aggte_reference.csv", index=False, float_format="%.12g")
    _csdid_crosscheck()


def _pretests() -> list[dict]:
    """R did's Wald pre-test over pre-period ATT(g,t) (``W``, ``Wpval``) for the default configuration."""
    import moderndid

    rows = []
    for name, spec in _datasets().items():
        for xf in [None, spec["x"]]:
            res = moderndid.att_gt(
                spec["data"],
                yname=spec["y"],
                tname=spec["t"],
                idname=spec["id"],
                gname=spec["g"],
                xformla=xf,
                boot=False,
                cband=False,
            )
            rows.append(
                {
                    "dataset": name,
                    "covariates": "none" if xf is None else "x",
                    "wald_stat": float(res.wald_stat),
                    "wald_pvalue": float(res.wald_pvalue),
                }
            )
    return rows


def _dr_imp_two_by_two() -> list[dict]:
    """DRDID::drdid_imp_panel (moderndid port) on 2x2 comparisons of the synthetic panel."""
    from moderndid.drdid.estimators.drdid_imp_panel import drdid_imp_panel

    data = staggered_panel()
    rows = []
    for g, t, base in [(2004, 2004, 2003), (2004, 2006, 2003), (2006, 2006, 2005), (2003, 2002, 2001)]:
        for weighted in [False, True]:
            wide = data[data["first_treat"].isin([g, 0])].pivot(index="id", columns="year", values="y")
            units = data.drop_duplicates("id").set_index("id").loc[wide.index]
            x = np.column_stack([np.ones(len(units)), units["x1"], units["x2"]])
            res = drdid_imp_panel(
                y1=wide[t].to_numpy(),
                y0=wide[base].to_numpy(),
                d=(units["first_treat"] == g).to_numpy(float),
                covariates=x,
                i_weights=units["w"].to_numpy() if weighted else np.ones(len(units)),
                influence_func=True,
            )
            psi = np.asarray(res.att_inf_func)
            rows.append(
                {
                    "group": g,
                    "time": t,
                    "base": base,
                    "weights": weighted,
                    "att": res.att,
                    "se": float(np.sqrt(np.mean(psi**2) / len(psi))),
                }
            )
    return rows


def _with_unit_weights(res, spec):
    """Give aggte the sampling weights (moderndid 0.2.0 drops them there; R did and csdid use them for p_g)."""
    units = spec["data"].drop_duplicates(spec["id"])
    order = units.assign(_g=units[spec["g"]].replace(0, np.inf)).sort_values(["_g", spec["id"]])
    groups = np.asarray(res.G, dtype=float)
    assert np.array_equal(order["_g"].to_numpy(), groups), "unit order of moderndid's G not reproduced"
    return res._replace(weights_ind=order[spec["w"]].to_numpy())


def _csdid_crosscheck() -> None:
    try:
        from csdid.att_gt import ATTgt
    except ImportError:
        return
    rows = []
    for name, spec in _datasets().items():
        data = spec["data"].rename(columns={spec["g"]: "gvar"})
        try:
            fit = ATTgt(yname=spec["y"], tname=spec["t"], idname=spec["id"], gname="gvar", data=data).fit(
                est_method="dr", bstrap=False
            )
        except Exception as exc:  # noqa: BLE001 - a peer that fails is recorded, not fatal
            print(f"csdid failed on {name}: {exc!r}")
            continue
        res = fit.results
        for g, t, a, s in zip(res["group"], res["year"], res["att"], res["se"], strict=False):
            rows.append({"dataset": name, "group": int(g), "time": int(t), "att": float(a), "se": float(s)})
    if rows:
        pd.DataFrame(rows).to_csv(HERE / "csdid_crosscheck.csv", index=False, float_format="%.12g")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
