"""Comparison municipalities: distances by hand, selection rules, pre-reform levels and trends."""

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError
from evaluation.methods.municipalities import comparison_municipalities, pre_reform_features


@pytest.fixture
def table():
    return pd.DataFrame(
        {"children": [10.0, 11.0, 20.0, 9.0, 30.0], "spend": [1.0, 1.2, 3.0, 0.8, 2.0]},
        index=pd.Index([657, 101, 751, 461, 851], name="municipality"),
    )


def test_euclidean_distances_by_hand(table):
    out = comparison_municipalities(table, [657], k=2, metric="euclidean")
    z = (table - table.mean()) / table.std(ddof=1)
    expected = np.sqrt(((z.loc[[101, 751, 461, 851]] - z.loc[657]) ** 2).sum(axis=1))
    got = out.set_index("comparison")["distance"]
    np.testing.assert_allclose(got[expected.index], expected, rtol=1e-12)
    assert out["rank"].tolist() == [1, 2, 3, 4]
    assert out["selected"].tolist() == [True, True, False, False]
    assert list(out["comparison"][:2]) == list(expected.sort_values().index[:2])


def test_mahalanobis_equals_inverse_covariance_form(table):
    out = comparison_municipalities(table, [657], k=1)
    x = table.to_numpy()
    s_inv = np.linalg.inv(np.cov(x, rowvar=False))
    d = x[1:] - x[0]
    expected = np.sqrt(np.einsum("ij,jk,ik->i", d, s_inv, d))
    got = out.set_index("comparison")["distance"][[101, 751, 461, 851]]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_without_replacement_each_candidate_once(table):
    out = comparison_municipalities(table, [657, 461], k=1, metric="euclidean", replace=False)
    chosen = out[out["selected"]]
    assert chosen["comparison"].is_unique and len(chosen) == 2
    with_repl = comparison_municipalities(table, [657, 461], k=1, metric="euclidean")
    # both prefer 101 with replacement; without, 461 (second) must take its next best
    assert with_repl[with_repl["selected"]]["comparison"].tolist() == [101, 101]
    assert chosen["comparison"].tolist()[0] == 101 and chosen["comparison"].tolist()[1] != 101


def test_errors(table):
    with pytest.raises(EvaluationError, match="not in the table"):
        comparison_municipalities(table, [999])
    with pytest.raises(EvaluationError, match="too few"):
        comparison_municipalities(table, [657], k=5)
    with pytest.raises(EvaluationError, match="do not vary"):
        comparison_municipalities(table.assign(c=1.0), [657], features=["children", "c"], k=2)


def test_pre_reform_levels_and_trends_by_hand():
    panel = pd.DataFrame(
        {
            "municipality": [1, 1, 1, 1, 2, 2, 2],
            "year": [2010, 2011, 2012, 2013, 2010, 2011, 2012],
            "placements": [1.0, 2.0, 3.0, 100.0, 5.0, 5.0, 8.0],
        }
    )
    f = pre_reform_features(panel, ["placements"], before=2013)
    assert f.loc[1, "placements_level"] == pytest.approx(2.0)
    assert f.loc[1, "placements_trend"] == pytest.approx(1.0)
    assert f.loc[2, "placements_level"] == pytest.approx(6.0)
    assert f.loc[2, "placements_trend"] == pytest.approx(1.5)  # slope of (5, 5, 8) on (0, 1, 2)
    with pytest.raises(EvaluationError, match="two years"):
        pre_reform_features(panel, ["placements"], before=2011)
