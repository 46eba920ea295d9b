"""Generate ``fixed_effects_reference.csv`` with pyfixest (which mirrors R fixest).

Run OUTSIDE the project environment, in a scratch virtualenv:

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install pyfixest linearmodels
    /tmp/refvenv/bin/python tests/reference/generate_fixed_effects_reference.py

Settings: ``fixef_rm="none"``, ``fixef_tol=1e-12`` (tight demeaning) (keep singletons, as R fixest's feols does),
``ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")`` (R fixest's
default ``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE, t.df = "min")``).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import sys
from pathlib import Path

import pandas as pd
import pyfixest as pf

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from fe_data import CASES, REGRESSORS, VCOVS, load_panel  # noqa: E402


def main() -> None:
    rows = []
    ssc = pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")
    for case, (entity, time, weights, kind) in CASES.items():
        df = load_panel(kind)
        fes = [name for name, on in (("nr", entity), ("year", time)) if on]
        fml = "lwage ~ " + " + ".join(REGRESSORS) + (" | " + " + ".join(fes) if fes else "")
        for label, (_, cluster) in VCOVS.items():
            vcov = {"CRV1": cluster} if cluster else label
            fit = pf.feols(
                fml,
                data=df,
                vcov=vcov,
                weights=weights,
                ssc=ssc,
                fixef_rm="none",
                fixef_tol=1e-12,
                fixef_maxiter=100_000,
            )
            tidy = fit.tidy()
            for reg in tidy.index:
                name = "Intercept" if reg == "Intercept" else reg
                rows.append(
                    {
                        "case": case,
                        "vcov": label,
                        "regressor": name,
                        "coef": tidy.loc[reg, "Estimate"],
                        "se": tidy.loc[reg, "Std. Error"],
                        "t": tidy.loc[reg, "t value"],
                        "p_value": tidy.loc[reg, "Pr(>|t|)"],
                        "ci_low": tidy.loc[reg, "2.5%"],
                        "ci_high": tidy.loc[reg, "97.5%"],
                        "nobs": fit._N,
                    }
                )
    out = pd.DataFrame(rows).sort_values(["case", "vcov", "regressor"]).reset_index(drop=True)
    out.to_csv(HERE / "fixed_effects_reference.csv", index=False, float_format="%.15g")
    versions = {p: importlib.metadata.version(p) for p in ("pyfixest", "linearmodels", "numpy", "pandas")}
    print(f"written {len(out)} rows on {datetime.date.today()} with {versions} (python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
