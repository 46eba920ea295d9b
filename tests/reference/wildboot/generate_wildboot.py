"""Generate the reference p-values of the wild cluster bootstrap with wildboottest.

Run in a scratch virtualenv (never in the project's), from this folder:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install wildboottest==0.3.2
    /tmp/ref/bin/python generate_wildboot.py

Writes ``panel_data.csv`` (a small simulated panel: 10 clusters, 60 units, 4
years; 3 clusters treated from year 2) and ``panel_pvalues.csv``: the WCR
("11", null imposed) Rademacher p-values with full enumeration (2^10 draws) of
H0: beta_treated = beta0 in ``y ~ treated + x2 + unit FE + year FE``, clustered
by ``m``, on a grid of beta0. The fixed effects enter as explicit dummies and a
null beta0 is imposed by testing beta = 0 on ``y - beta0 * treated``.
Also ``ols_pvalues.csv``: the same for ``y ~ 1 + treated + x2`` with 8 clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from wildboottest.wildboottest import WildboottestCL


def simulate(n_clusters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(g, g * 100 + i, t) for g in range(n_clusters) for i in range(6) for t in range(4)]
    df = pd.DataFrame(rows, columns=["m", "id", "year"])
    df["treated"] = ((df["m"] < 3) & (df["year"] >= 2)).astype(float)
    df["x2"] = rng.normal(size=len(df)).round(6)
    shock = rng.normal(size=n_clusters)[df["m"]] + rng.normal(size=df["id"].max() + 1)[df["id"]]
    df["y"] = (0.3 * df["treated"] + 0.5 * df["x2"] + shock + 0.2 * df["year"] + rng.normal(size=len(df))).round(6)
    return df


def pvalue(x: np.ndarray, y: np.ndarray, cluster: np.ndarray) -> float:
    r = np.zeros(x.shape[1])
    r[0] = 1.0
    wb = WildboottestCL(X=x, Y=y, cluster=cluster, R=r, B=99999, seed=1, parallel=False)
    wb.get_scores(bootstrap_type="11", impose_null=True)
    _, _, enumerated = wb.get_weights(weights_type="rademacher")
    assert enumerated
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue(pval_type="two-tailed")
    return float(wb.pvalue)


def grid(df: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    y = df["y"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    b = beta[0]
    values = np.round(b + np.linspace(-3.0, 3.0, 61), 6)
    rows = [{"beta0": v, "p_value": pvalue(x, y - v * x[:, 0], df["m"].to_numpy())} for v in values]
    return pd.DataFrame(rows)


panel = simulate(10, seed=1)
panel.to_csv("panel_data.csv", index=False)
ids = pd.get_dummies(panel["id"], prefix="id", drop_first=True, dtype=float)
years = pd.get_dummies(panel["year"], prefix="year", drop_first=True, dtype=float)
x_fe = np.column_stack([panel[["treated", "x2"]].to_numpy(), np.ones(len(panel)), ids.to_numpy(), years.to_numpy()])
grid(panel, x_fe).to_csv("panel_pvalues.csv", index=False, float_format="%.10f")

ols = simulate(8, seed=2)
ols.to_csv("ols_data.csv", index=False)
x_ols = np.column_stack([ols[["treated", "x2"]].to_numpy(), np.ones(len(ols))])
grid(ols, x_ols).to_csv("ols_pvalues.csv", index=False, float_format="%.10f")
print(pd.read_csv("panel_pvalues.csv").to_string())
