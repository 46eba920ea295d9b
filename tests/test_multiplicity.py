"""Holm and Benjamini-Hochberg adjustments: hand-checked examples and statsmodels' multipletests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from evaluation.errors import EvaluationError
from evaluation.methods.multiplicity import adjust_within_families, benjamini_hochberg, holm


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.02, 0.03, 0.04 -> 4*0.01, max(.04, 3*.02), max(.06, 2*.03), max(.06, .04)
    np.testing.assert_allclose(holm([0.03, 0.01, 0.04, 0.02]), [0.06, 0.04, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])


def test_bh_by_hand() -> None:
    # sorted 0.01, 0.02, 0.03, 0.04 (m = 4): 4*.01/1=.04, 4*.02/2=.04, 4*.03/3=.04, 4*.04/4=.04
    np.testing.assert_allclose(benjamini_hochberg([0.03, 0.01, 0.04, 0.02]), [0.04] * 4)
    # 0.001, 0.2, 0.03 -> sorted .001, .03, .2: .003, .045, .2
    np.testing.assert_allclose(benjamini_hochberg([0.001, 0.2, 0.03]), [0.003, 0.2, 0.045])


@pytest.mark.parametrize("seed", range(5))
def test_agree_with_statsmodels(seed: int) -> None:
    p = np.random.default_rng(seed).uniform(0, 0.2, size=17)
    p[3] = p[5]  # ties
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_missing_values_are_kept_and_not_counted() -> None:
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.04])


def test_families_are_adjusted_separately() -> None:
    table = pd.DataFrame(
        {
            "outcome": list("abcde"),
            "family": ["primary"] * 2 + ["secondary"] * 3,
            "p_value": [0.01, 0.04, 0.01, 0.02, 0.03],
        }
    )
    out = adjust_within_families(table)
    np.testing.assert_allclose(out["p_holm"], [0.02, 0.04, 0.03, 0.04, 0.04])
    np.testing.assert_allclose(out["p_bh"], [0.02, 0.04, 0.03, 0.03, 0.03])
    with pytest.raises(EvaluationError):
        holm([1.2])
    with pytest.raises(EvaluationError):
        adjust_within_families(table, methods=("bonferroni",))  # type: ignore[arg-type]
