"""Caseload dose-response within municipality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.dose import dose_response


def panel(slope: float, noise: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(30):
        level = rng.normal() * 3
        for t in range(2012, 2022):
            caseload = 40 - 1.0 * (t - 2012) + rng.normal() * 4 + m * 0.2
            y = level + 0.5 * (t - 2012) + slope * caseload + noise * rng.normal()
            rows.append({"municipality": m, "year": t, "caseload_per_worker": caseload, "sdq": y, "n": 10 + m})
    return pd.DataFrame(rows)


def test_exact_slope_without_noise_scaled_by_per() -> None:
    res = dose_response(panel(0.05, 0.0), "sdq", per=10)
    assert res.estimate.estimate == pytest.approx(0.5, abs=1e-9)
    assert res.model.table.loc["caseload_per_worker", "coef"] == pytest.approx(0.05, abs=1e-10)
    assert res.estimate.n_treated == 30


def test_slope_ci_covers_truth_and_is_clustered_by_municipality() -> None:
    res = dose_response(panel(0.05, 0.5, seed=3), "sdq", weights="n")
    assert res.estimate.covers(0.05)
    assert res.model.n_clusters == 30 and res.model.cov_type == "clustered"
    assert res.estimate.se == pytest.approx(res.model.table.loc["caseload_per_worker", "se"])


def test_errors() -> None:
    with pytest.raises(EvaluationError):
        dose_response(panel(0.0, 1.0), "sdq", per=0)
    with pytest.raises(EvaluationError):
        dose_response(panel(0.0, 1.0), "sdq", controls=["caseload_per_worker"])
