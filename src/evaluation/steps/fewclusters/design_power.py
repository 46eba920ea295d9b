r"""Minimum detectable effect of the study's own design: its numbers estimated from the cohort panel.

The MDE formula of :func:`evaluation.methods.power.mde_formula` needs the number of
municipalities G, the share treated P, children per municipality and year m, the
outcome's SD :math:`\sigma` and its intra-cluster correlation :math:`\rho`. Here they
come from the cohort panel (:func:`design_numbers`); :math:`\rho` is the one-way ANOVA
estimator over municipality-year cells (Fisher 1925; Donner 1986, "A review of
inference procedures for the intraclass correlation coefficient in the one-way random
effects model", *Int. Stat. Review* 54(1), 67-82, eq. 2.2):

.. math:: \hat\rho = \frac{MSB - MSW}{MSB + (n_0 - 1)\,MSW}, \qquad
          n_0 = \frac{1}{k-1}\Big(N - \frac{\sum_g n_g^2}{N}\Big)

with k cells of sizes :math:`n_g`, N observations, and the between- and within-cell
mean squares :math:`MSB = \sum_g n_g(\bar y_g - \bar y)^2/(k-1)` and
:math:`MSW = \sum_g\sum_i (y_{gi} - \bar y_g)^2/(N-k)`. The pre- and post-periods are
the mean over adopting municipalities of the panel years before, and from, adoption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.config import inference_outcomes, schema_defaults, section, setting
from evaluation.contract.results import columns_of
from evaluation.errors import ConfigError, EvaluationError
from evaluation.io import write_csv

__all__ = ["POWER_COLUMNS", "POWER_DEFAULTS", "design_numbers", "icc_anova", "power_design_table", "write_power"]

POWER_DEFAULTS: dict[str, Any] = schema_defaults("power")
"""Defaults of the config block ``power``, read from the schema (their one source)."""

POWER_COLUMNS = columns_of("results/{release}/power/mde.csv")


def icc_anova(df: pd.DataFrame, outcome: str, groups: Sequence[str]) -> float:
    r"""One-way ANOVA estimator of the intra-cluster correlation of ``outcome`` within ``groups`` cells.

    Parameters
    ----------
    df
        Data; rows with a missing outcome are left out.
    outcome
        Outcome column.
    groups
        Columns whose combinations are the clusters (e.g. ``["municipality", "year"]``).

    Returns
    -------
    float
        :math:`\hat\rho` (module docstring); it can be negative when cells are less alike
        than chance, and is NaN when there is no within-cell variation and no between-cell variation.

    Raises
    ------
    EvaluationError
        Fewer than two cells, or no cell with more than one observation.
    """
    data = df.loc[df[outcome].notna(), [*groups, outcome]]
    codes = data.groupby(list(groups), sort=False).ngroup().to_numpy()
    y = data[outcome].to_numpy(dtype=float)
    n_obs, k = len(y), int(codes.max()) + 1 if len(codes) else 0
    if k < 2 or n_obs <= k:
        raise EvaluationError(
            f"icc_anova: need at least 2 cells and one with 2+ observations ({k} cells, {n_obs} obs)."
        )
    n_g = np.bincount(codes, minlength=k).astype(float)
    means = np.bincount(codes, weights=y, minlength=k) / n_g
    msb = float(np.sum(n_g * (means - y.mean()) ** 2) / (k - 1))
    msw = float(np.sum((y - means[codes]) ** 2) / (n_obs - k))
    n0 = (n_obs - float(np.sum(n_g**2)) / n_obs) / (k - 1)
    denom = msb + (n0 - 1) * msw
    return float((msb - msw) / denom) if denom > 0 else float("nan")


def design_numbers(panel: pd.DataFrame, outcome: str, *, cluster: str = "municipality") -> dict[str, float]:
    """Return the design's inputs to the MDE formula, from the cohort panel.

    Parameters
    ----------
    panel
        Child-years with ``cluster``, ``year``, ``first_treat`` (0 = never) and the outcome.
    outcome
        Outcome column.
    cluster
        Cluster column.

    Returns
    -------
    dict
        ``n_clusters`` (municipalities with the outcome), ``treated_clusters`` (those with
        ``first_treat > 0``), ``cluster_size`` (child-years per municipality-year cell), ``sd``
        (ddof = 1), ``icc`` (:func:`icc_anova` over municipality-years), ``pre_periods`` and
        ``post_periods`` (means over adopters of the panel years before / from adoption).
    """
    data = panel.loc[panel[outcome].notna()]
    if data.empty:
        raise EvaluationError(f"design_numbers: outcome '{outcome}' has no values.")
    schedule = data.groupby(cluster)["first_treat"].first()
    adopt = schedule[schedule > 0].to_numpy(dtype=float)
    first, last = int(data["year"].min()), int(data["year"].max())
    cells = data.groupby([cluster, "year"]).size()
    return {
        "n_clusters": int(schedule.size),
        "treated_clusters": int(adopt.size),
        "cluster_size": float(cells.mean()),
        "sd": float(data[outcome].std(ddof=1)),
        "icc": icc_anova(data, outcome, [cluster, "year"]),
        "pre_periods": float(np.mean(np.clip(adopt - first, 1, None))) if adopt.size else float("nan"),
        "post_periods": float(np.mean(np.clip(last - adopt + 1, 1, None))) if adopt.size else float("nan"),
    }


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    cfg = section(config, "power")
    cfg["power"] = float(cfg["power"])
    if not 0 < cfg["power"] < 1:
        raise ConfigError(f"power.power must lie strictly between 0 and 1, not {cfg['power']}.")
    cfg["treated_clusters"] = [int(g) for g in cfg["treated_clusters"]]
    cfg["iccs"] = [float(r) for r in cfg["iccs"]]
    if any(g < 1 for g in cfg["treated_clusters"]) or any(not 0 <= r <= 1 for r in cfg["iccs"]):
        raise ConfigError("power: treated_clusters must be >= 1 and iccs in [0, 1].")
    return cfg


def power_design_table(panel: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """MDE of the actual design and over the configured grid, per outcome.

    Parameters
    ----------
    panel
        The cohort panel.
    config
        Study config: ``outcomes``, ``estimation.alpha``, ``estimation.cluster`` and ``power``
        (:data:`POWER_DEFAULTS`).

    Returns
    -------
    pandas.DataFrame
        :data:`POWER_COLUMNS`. ``row`` is ``"actual"`` for the design's own numbers (ICC
        truncated at 0) and ``"grid"`` for the grid of treated municipalities x ICC at the
        design's G, m, SD and periods (grid values with as many treated as clusters are left out).
    """
    from evaluation.methods.power import mde_formula

    cfg = _settings(config)
    alpha, cluster = float(setting(config, "estimation", "alpha")), setting(config, "estimation", "cluster")
    outcomes = inference_outcomes(config)
    rows = []
    for outcome in outcomes:
        if outcome not in panel.columns:
            continue
        d = design_numbers(panel, outcome, cluster=cluster)
        icc_actual = min(max(d["icc"], 0.0), 1.0) if np.isfinite(d["icc"]) else 0.0
        designs = [("actual", d["treated_clusters"], icc_actual)]
        designs += [("grid", g1, r) for g1 in cfg["treated_clusters"] for r in cfg["iccs"] if g1 < d["n_clusters"]]
        for row, g1, icc in designs:
            kw = {"sd": d["sd"], "alpha": alpha, "power": cfg["power"]}
            mde = mde_formula(
                d["n_clusters"],
                g1 / d["n_clusters"],
                d["cluster_size"],
                icc,
                pre_periods=d["pre_periods"],
                post_periods=d["post_periods"],
                **kw,
            )
            rows.append(
                {
                    "outcome": outcome,
                    "row": row,
                    "treated_clusters": int(g1),
                    "n_clusters": d["n_clusters"],
                    "cluster_size": d["cluster_size"],
                    "icc": icc,
                    "sd": d["sd"],
                    "pre_periods": d["pre_periods"],
                    "post_periods": d["post_periods"],
                    "alpha": alpha,
                    "power": cfg["power"],
                    "mde": mde,
                    "mde_sd": mde / d["sd"] if d["sd"] > 0 else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=POWER_COLUMNS)


def plot_mde(table: pd.DataFrame, path: Path) -> None:
    """Figure: MDE in SD units against treated municipalities, one line per ICC, the actual design marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, max(len(outcomes), 1), figsize=(4 * max(len(outcomes), 1), 3.2), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=False):
        part = table.loc[table["outcome"] == outcome]
        grid = part.loc[part["row"] == "grid"]
        for icc, line in grid.groupby("icc", sort=True):
            ax.plot(line["treated_clusters"], line["mde_sd"], marker="o", ms=3, label=f"ICC {icc:g}")
        actual = part.loc[part["row"] == "actual"]
        ax.scatter(actual["treated_clusters"], actual["mde_sd"], color="black", zorder=3, label="design")
        ax.set_xscale("log")
        ax.set_title(outcome)
        ax.set_xlabel("treated municipalities")
        ax.set_ylabel("MDE (SD)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def write_power(panel_path: Path, config: Mapping[str, Any], table_path: Path, figure_path: Path) -> pd.DataFrame:
    """Read the panel, write the MDE table (CSV) and its figure (PNG, no timestamp)."""
    table = power_design_table(pd.read_parquet(panel_path), config)
    table_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, table_path)
    plot_mde(table, figure_path)
    return table
