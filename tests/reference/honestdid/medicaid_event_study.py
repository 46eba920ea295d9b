"""Event study of the HonestDiD README's Medicaid example, as R ``fixest::feols`` computes it.

The README regresses ``dins`` on ``i(year, D, ref = 2013) | stfips + year`` with errors clustered by state on the
data in ``medicaid_panel.csv`` (its ``df_nonstaggered``), but its knitr cache keeps only the version with an extra
``control`` regressor. This script fits both by two-way demeaning with fixest's default small-sample factor
(G / (G - 1) * (n - 1) / (n - K), K = slopes + year levels, the state effects being nested in the clusters),
checks the controls version against the cached ``medicaid_controls_*.csv`` and writes ``medicaid_betahat.csv`` and
``medicaid_sigma.csv``. Run from this folder: ``python medicaid_event_study.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
YEARS = [2008, 2009, 2010, 2011, 2012, 2014, 2015]


def event_study(panel: pd.DataFrame, with_control: bool) -> tuple[np.ndarray, np.ndarray]:
    columns = [((panel["year"] == y) & (panel["D"] == 1)).to_numpy(float) for y in YEARS]
    if with_control:
        columns.append(panel["control"].to_numpy(float))
    x, y = np.column_stack(columns), panel["dins"].to_numpy(float)

    def demean(v: np.ndarray) -> np.ndarray:
        for _ in range(100):  # alternating projections; the panel is balanced, so this converges at once
            v = v - pd.Series(v).groupby(panel["stfips"].to_numpy()).transform("mean").to_numpy()
            v = v - pd.Series(v).groupby(panel["year"].to_numpy()).transform("mean").to_numpy()
        return v

    xd = np.column_stack([demean(c) for c in x.T])
    yd = demean(y)
    bread = np.linalg.inv(xd.T @ xd)
    beta = bread @ xd.T @ yd
    resid = yd - xd @ beta
    meat = sum(np.outer(s, s) for s in (xd[i].T @ resid[i] for i in panel.groupby("stfips").indices.values()))
    n, g, k = len(y), panel["stfips"].nunique(), x.shape[1] + panel["year"].nunique()
    vcov = g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    return beta[:7], ((vcov + vcov.T) / 2)[:7, :7]


def main() -> None:
    panel = pd.read_csv(HERE / "medicaid_panel.csv")
    beta_c, sigma_c = event_study(panel, with_control=True)
    cached_beta = np.loadtxt(HERE / "medicaid_controls_betahat.csv", delimiter=",")
    cached_sigma = np.loadtxt(HERE / "medicaid_controls_sigma.csv", delimiter=",")
    assert np.allclose(beta_c, cached_beta, rtol=1e-10, atol=0), "controls betahat differs from fixest's"
    assert np.allclose(sigma_c, cached_sigma, rtol=1e-10, atol=0), "controls sigma differs from fixest's"
    beta, sigma = event_study(panel, with_control=False)
    np.savetxt(HERE / "medicaid_betahat.csv", beta[None, :], delimiter=",", fmt="%.17g")
    np.savetxt(HERE / "medicaid_sigma.csv", sigma, delimiter=",", fmt="%.17g")


if __name__ == "__main__":
    main()
