"""Monte Carlo design validation: the summary by hand, and two real replications at the tiny scale."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from evaluation.config import load_config
from evaluation.steps.montecarlo import REPLICATION_COLUMNS, replication_frame, run_replication, summarise


def test_summarise_by_hand() -> None:
    reps = pd.DataFrame(
        {
            "scenario": "constant",
            "seed": [1, 2, 3, 4],
            "analysis": "main",
            "outcome": "sdq",
            "estimator": "did",
            "inference": "cluster_robust",
            "estimate": [-1.0, -2.0, -1.5, -0.5],
            "se": [0.2, 0.4, 0.3, 0.1],
            "ci_low": 0.0,
            "ci_high": 0.0,
            "p_value": 0.0,
            "truth": [-1.5, -1.5, -1.4, -1.6],
            "covered": [True, True, False, True],
        }
    )
    row = summarise(reps).iloc[0]
    errors = np.array([0.5, -0.5, -0.1, 1.1])
    assert row["n"] == 4
    assert row["bias"] == pytest.approx(errors.mean())
    assert row["rmse"] == pytest.approx(math.sqrt(np.mean(errors**2)))
    assert row["sd_estimate"] == pytest.approx(np.std([-1.0, -2.0, -1.5, -0.5], ddof=1))
    assert row["mean_se"] == pytest.approx(0.25)
    assert row["coverage"] == pytest.approx(0.75)
    assert row["coverage_mc_se"] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))

    from evaluation.steps.fewclusters.mc import summary_markdown

    page = summary_markdown(summarise(reps), scale="tiny")
    assert "4 replications per scenario at the `tiny` scale" in page
    # coverage 0.75 is below the 90-99 % band: judged "under", with its Monte Carlo SE
    assert "| main | did | cluster_robust | 4 |" in page and "| 0.750 (0.217) | under |" in page


@pytest.mark.e2e
def test_two_replications_at_tiny_scale(tmp_path, config_path) -> None:
    config = load_config(config_path, overrides={"synthetic": {"scale": "tiny"}})
    config["inference"] = {"bootstrap_draws": 99}
    reps = [run_replication(seed, config, tmp_path / str(seed)) for seed in (101, 102)]
    for rep in reps:
        (tmp_path / f"rep{rep['seed']}.json").write_text(json.dumps(rep), encoding="utf-8")
    frame = replication_frame(sorted(tmp_path.glob("rep*.json")))
    assert list(frame.columns) == REPLICATION_COLUMNS and set(frame["seed"]) == {101, 102}
    # Each seed has its own planted truth, and the interval either holds it or not.
    assert frame.groupby("seed")["truth"].first().nunique() == 2
    np.testing.assert_array_equal(
        frame["covered"], (frame["ci_low"] <= frame["truth"]) & (frame["truth"] <= frame["ci_high"])
    )
    # The headline carries the policy's interval and the BJS t interval; the comparisons their own.
    assert {"policy", "bjs_t", "cluster_robust"} <= set(frame["inference"])
    heads = frame.loc[frame["inference"] == "policy"]
    assert set(heads["analysis"]) == {"main"} and set(heads["estimator"]) == {"did_imputation"}
    assert {"sdq", "placement_rate", "network_foster_share", "breakdown_rate", "caseload"} <= set(heads["outcome"])
    summary = summarise(frame)
    assert (summary["n"] == 2).all()
    sdq = frame.loc[(frame["outcome"] == "sdq") & (frame["analysis"] == "main")]
    assert (sdq["estimate"] - sdq["truth"]).abs().max() < 1.0  # the matched DiD recovers the SDQ effect
