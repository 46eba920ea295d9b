"""Exact, coarsened exact and Mahalanobis matching, common support, ATC, eCDF statistics: by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import LowOverlapWarning, NoOverlapError
from evaluation.methods.matching import balance_table, common_support, ecdf_statistics, match, sample_flow
from evaluation.methods.matching.mahalanobis import (
    mahalanobis_greedy,
    mahalanobis_matrix,
    mahalanobis_transform,
    mahalanobis_with_replacement,
)
from evaluation.methods.matching.subclass import coarsen


def _exact_data():
    # cells by sex: sex 0 has 1 treated, 2 controls; sex 1 has 2 treated, 1 control; sex 2 only treated
    return pd.DataFrame(
        {
            "treat": [1, 0, 0, 1, 1, 0, 1, 0],
            "sex": [0, 0, 0, 1, 1, 1, 2, 3],
            "y": [5.0, 1.0, 3.0, 6.0, 8.0, 2.0, 9.0, 0.0],
        }
    )


def test_exact_att_weights_by_hand():
    with pytest.warns(LowOverlapWarning):
        m = match(_exact_data(), "treat", ["sex"], method="exact")
    w = m.matched["weight"]
    # controls: cell 0 gets n1/n0 = 1/2 each, cell 1 gets 2/1; raw sum 3 over 3 controls -> unchanged
    assert w.to_dict() == pytest.approx({0: 1, 1: 0.5, 2: 0.5, 3: 1, 4: 1, 5: 2.0})
    assert m.n_dropped == {"no_exact_match": 1}
    assert m.matched.loc[[0, 1, 2], "subclass"].nunique() == 1
    # weighted difference: treated mean (5 + 6 + 8) / 3; controls (0.5 + 1.5 + 4) / 3
    assert m.att("y").estimate == pytest.approx(19 / 3 - 2.0)


def test_exact_atc_and_ate_weights_by_hand():
    df = _exact_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        atc = match(df, "treat", ["sex"], method="exact", estimand="ATC")
        ate = match(df, "treat", ["sex"], method="exact", estimand="ATE")
    # ATC: controls 1; treated n0/n1: cell 0 -> 2, cell 1 -> 1/2 each; raw sum 3 over 3 treated
    assert atc.matched["weight"].to_dict() == pytest.approx({0: 2.0, 1: 1, 2: 1, 3: 0.5, 4: 0.5, 5: 1})
    # ATE: treated (n/n1): cell 0 -> 3, cell 1 -> 1.5 each (sum 6 over 3 -> x 1/2);
    # controls (n/n0): cell 0 -> 1.5 each, cell 1 -> 3 (sum 6 over 3 -> x 1/2)
    assert ate.matched["weight"].to_dict() == pytest.approx({0: 1.5, 1: 0.75, 2: 0.75, 3: 0.75, 4: 0.75, 5: 1.5})
    assert ate.n_dropped == {"no_exact_match": 2}
    assert ate.balance.loc["sex", "smd_after"] == pytest.approx(0.0, abs=1e-12)


def test_cem_sturges_bins_and_weights_by_hand():
    # n = 8 -> Sturges ceil(log2(8) + 1) = 4 equal bins on [0, 8]: edges 2, 4, 6
    df = pd.DataFrame({"treat": [1, 1, 1, 0, 0, 0, 0, 0], "age": [0.0, 2.5, 7.0, 1.0, 1.5, 3.9, 4.0, 8.0]})
    cells, breaks = coarsen(df, ["age"])
    assert breaks["age"] == pytest.approx([2.0, 4.0, 6.0])
    assert cells["age"].tolist() == [0, 1, 3, 0, 0, 1, 2, 3]  # 4.0 falls in [4, 6), as R's findInterval
    m = match(df, "treat", ["age"], method="cem")
    # strata: bin 0 (1 t, 2 c), bin 1 (1 t, 1 c), bin 3 (1 t, 1 c); raw control weights 1/2, 1/2, 1, 1 (sum 3)
    # rescaled to 4 matched controls: x 4/3
    assert m.matched["weight"].to_dict() == pytest.approx({0: 1, 1: 1, 2: 1, 3: 2 / 3, 4: 2 / 3, 5: 4 / 3, 7: 4 / 3})
    assert 6 not in m.matched.index
    assert m.info["cutpoints"]["age"] == pytest.approx([2.0, 4.0, 6.0])


def test_cem_user_cutpoints_and_number_of_bins():
    df = pd.DataFrame({"treat": [1, 1, 0, 0, 0], "x": [1.0, 5.0, 2.0, 6.0, 9.0], "g": ["a", "b", "a", "b", "b"]})
    cells, breaks = coarsen(df, ["x", "g"], {"x": [3.0]})
    assert cells["x"].tolist() == [0, 1, 0, 1, 1] and breaks["g"] is None
    m = match(df, "treat", ["x", "g"], method="cem", cutpoints={"x": [3.0]})
    # strata (x<3, a): 1 t 1 c; (x>=3, b): 1 t 2 c -> controls 1, 1/2, 1/2 (sum 2 over 3 -> x 3/2)
    assert m.matched["weight"].to_dict() == pytest.approx({0: 1, 1: 1, 2: 1.5, 3: 0.75, 4: 0.75})
    two = coarsen(df, ["x"], 2)[1]["x"]
    assert two == pytest.approx([5.0])  # 2 bins on [1, 9]
    assert coarsen(df, ["x"], 0)[1]["x"] is None


def test_cem_no_common_stratum_raises():
    df = pd.DataFrame({"treat": [1, 0], "g": ["a", "b"]})
    with pytest.raises(NoOverlapError):
        match(df, "treat", ["g"], method="cem")


def test_pooled_covariance_mahalanobis_by_hand():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 2.0]])
    treat = (np.arange(40) < 15).astype(int)
    z = mahalanobis_transform(x, treat, np.ones(40, dtype=bool))
    xc = x.copy()
    for g in (0, 1):
        xc[treat == g] -= xc[treat == g].mean(axis=0)
    s_inv = np.linalg.inv(xc.T @ xc / (40 - 2))
    diff = x[3] - x[30]
    assert np.linalg.norm(z[3] - z[30]) == pytest.approx(np.sqrt(diff @ s_inv @ diff), rel=1e-10)


def test_mahalanobis_categorical_indicators_over_sqrt2():
    df = pd.DataFrame({"g": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    mat = mahalanobis_matrix(df, ["x", "g"])
    assert mat.shape == (3, 4)
    assert mat[1, 1:].tolist() == pytest.approx([0, 1 / np.sqrt(2), 0])


def _brute(z_t, z_c, ratio, s_t=None, s_c=None, cal=None):
    pairs = []
    for i in range(len(z_t)):
        d = np.linalg.norm(z_c - z_t[i], axis=1)
        if cal is not None:
            d[np.abs(s_c - s_t[i]) > cal] = np.inf
        kth = np.sort(d)[ratio - 1]
        if np.isfinite(kth):
            pairs += [(i, j) for j in np.flatnonzero(d <= kth * (1 + 1e-9) + 1e-9)]
    return sorted(pairs)


@pytest.mark.parametrize("ratio, cal", [(1, None), (2, None), (1, 0.1)])
def test_mahalanobis_with_replacement_equals_brute_force(ratio, cal):
    rng = np.random.default_rng(3)
    z_t, z_c = rng.normal(size=(50, 2)), rng.normal(size=(120, 2))
    s_t, s_c = rng.uniform(size=50), rng.uniform(size=120)
    tp, cp = mahalanobis_with_replacement(z_t, z_c, ratio, s_t, s_c, cal)
    assert sorted(zip(tp.tolist(), cp.tolist(), strict=True)) == _brute(z_t, z_c, ratio, s_t, s_c, cal)


def test_mahalanobis_greedy_by_hand_and_caliper():
    z_t = np.array([[0.0, 0.0], [0.1, 0.0]])
    z_c = np.array([[0.05, 0.0], [1.0, 0.0], [0.0, 3.0]])
    tp, cp, _ = mahalanobis_greedy(z_t, z_c, 1, np.array([0, 1]))
    assert list(zip(tp, cp, strict=True)) == [(0, 0), (1, 1)]  # unit 0 takes the shared nearest first
    # a score caliper forbids control 0 for treated 0: it takes control 2 (the only one within the caliper)
    s_t, s_c = np.array([0.5, 0.2]), np.array([0.2, 0.9, 0.52])
    tp, cp, _ = mahalanobis_greedy(z_t, z_c, 1, np.array([0, 1]), s_t, s_c, 0.05)
    assert list(zip(tp, cp, strict=True)) == [(0, 2), (1, 0)]


def test_mahalanobis_within_caliper_through_match():
    rng = np.random.default_rng(8)
    n = 600
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    treat = rng.binomial(1, 1 / (1 + np.exp(-(x1 - 1))))
    df = pd.DataFrame({"treat": treat, "x1": x1, "x2": x2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        m = match(df, "treat", ["x1", "x2"], method="mahalanobis", caliper=0.1)
    ps = m.distance
    pairs = m.matched.groupby("subclass")
    for _, grp in pairs:
        t_idx = grp.index[grp["treat"] == 1][0]
        c_idx = grp.index[grp["treat"] == 0][0]
        assert abs(ps[t_idx] - ps[c_idx]) <= m.caliper + 1e-12
    assert m.info["mahvars"] == ["x1", "x2"] and m.info["m_order"] == "largest"
    pure = match(df, "treat", ["x1", "x2"], distance="mahalanobis")
    assert pure.info["m_order"] == "data" and pure.propensity.isna().all()
    assert (pure.balance["smd_after"].abs() < pure.balance["smd_before"].abs()).all()


def test_common_support_by_hand():
    score = np.array([0.2, 0.5, 0.9, 0.1, 0.4, 0.95])
    treat = np.array([1, 1, 1, 0, 0, 0])
    # treated range [0.2, 0.9]; control range [0.1, 0.95]
    assert common_support(score, treat, "both").tolist() == [False, False, False, True, False, True]
    assert common_support(score, treat, "control").tolist() == [False, False, False, True, False, True]
    assert common_support(score, treat, "treated").tolist() == [False] * 6
    assert common_support(score, treat, "none").tolist() == [False] * 6


def test_discard_and_caliper_sd_on_kept_units():
    df = pd.DataFrame({"treat": [1, 1, 0, 0, 0], "ps": [0.9, 0.5, 0.45, 0.85, 0.1], "x": 0.0})
    with pytest.warns(LowOverlapWarning):
        m = match(df, "treat", ["x"], distance="ps", discard="treated", caliper=1.0)
    # treated 0.9 is above the control max 0.85 -> discarded; caliper SD over the kept 4 units
    assert m.n_dropped == {"discarded": 1}
    assert m.caliper == pytest.approx(np.std([0.5, 0.45, 0.85, 0.1], ddof=1))
    assert sorted(m.matched.index) == [1, 2]
    flow = sample_flow(m).set_index("step")
    assert flow.loc["discarded", "n_treated"] == 1
    assert flow.loc["matched"].tolist()[1:] == [1, 1]
    assert flow.loc["not_selected", "n_control"] == 2
    assert flow.loc["input", "n_treated"] == 2 and flow.loc["input", "n_control"] == 3


def test_atc_equals_att_with_labels_swapped():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"treat": rng.binomial(1, 0.6, 80), "ps": rng.uniform(size=80), "x": 0.0})
    atc = match(df, "treat", ["x"], distance="ps", estimand="ATC", replace=True)
    swapped = match(df.assign(treat=1 - df["treat"]), "treat", ["x"], distance="ps", replace=True)
    pd.testing.assert_series_equal(atc.matched["weight"], swapped.matched["weight"])
    assert (atc.matched.loc[atc.matched["treat"] == 0, "weight"] == 1).all()
    assert atc.info["m_order"] is None
    greedy = match(df, "treat", ["x"], distance="ps", estimand="ATC")
    assert greedy.info["m_order"] == "smallest"


def test_ecdf_statistics_by_hand():
    v = np.array([1.0, 2.0, 3.0, 2.0, 3.0, 4.0])
    t = np.array([True, True, True, False, False, False])
    # eCDFs at 1,2,3,4: treated 1/3, 2/3, 1, 1; control 0, 1/3, 2/3, 1 -> |diff| 1/3, 1/3, 1/3, 0
    mean, mx = ecdf_statistics(v, t, np.ones(6))
    assert mean == pytest.approx(0.25) and mx == pytest.approx(1 / 3)
    # weights: control on value 2 only -> control eCDF 0, 1, 1, 1 -> diffs 1/3, 1/3, 0, 0
    mean_w, mx_w = ecdf_statistics(v, t, np.array([1, 1, 1, 1, 0, 0.0]))
    assert mean_w == pytest.approx(1 / 6) and mx_w == pytest.approx(1 / 3)
    b = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    assert ecdf_statistics(b, t, np.ones(6), binary=True) == pytest.approx((1 / 3, 1 / 3))


def test_balance_flags():
    df = pd.DataFrame({"treat": [1, 1, 1, 0, 0, 0], "age": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]})
    tab = balance_table(df, "treat", ["age"])
    assert bool(tab.loc["age", "smd_flag"]) and bool(tab.loc["age", "var_ratio_flag"])  # -2 and 0.25
    assert tab.loc["age", "ecdf_max_before"] == pytest.approx(2 / 3)
    ok = balance_table(df, "treat", ["age"], np.array([1, 1, 1, 1, 0, 0.0]), smd_threshold=0.1)
    assert not bool(ok.loc["age", "smd_flag"])


def test_mahalanobis_identical_controls_last_visited_wins():
    # MatchIt (find_control_mahcovs) walks outwards from the treated unit through its sort of the units,
    # left then right, and a control replaces an equally distant one: of identical controls the last
    # visited wins. Sorted positions: controls 0 and 1 (identical) left of the treated, 2 and 3 right.
    z_t = np.array([[0.0, 0.0]])
    z_c = np.array([[1.0, 1.0], [1.0, 1.0], [3.0, 0.0], [3.0, 0.0]])
    rank_t = np.array([2])
    left = np.array([0, 1, 3, 4])
    tp, cp = mahalanobis_with_replacement(z_t, z_c, 1, rank_t=rank_t, rank_c=left)
    assert cp.tolist() == [0]  # visited: 1 (step 1), then 0 (step 2)
    right = np.array([3, 4, 0, 1])
    tp, cp = mahalanobis_with_replacement(z_t, z_c, 1, rank_t=rank_t, rank_c=right)
    assert cp.tolist() == [1]  # visited: 0 (step 1), then 1 (step 2)
    tp, cp, _ = mahalanobis_greedy(z_t, z_c, 1, np.array([0]), rank_t=rank_t, rank_c=right)
    assert cp.tolist() == [1]
    # ratio 2 keeps both identical nearest ones; without ranks the controls are visited in their order
    tp, cp = mahalanobis_with_replacement(z_t, z_c, 2, rank_t=rank_t, rank_c=right)
    assert sorted(cp.tolist()) == [0, 1]
    assert mahalanobis_with_replacement(z_t, z_c, 1)[1].tolist() == [1]


def test_single_mahalanobis_covariate_is_matched_as_a_score():
    # MatchIt matches one Mahalanobis coordinate with its score engine (nn_matchC_vec)
    rng = np.random.default_rng(12)
    df = pd.DataFrame({"treat": rng.binomial(1, 0.3, 200), "x": rng.normal(size=200)})
    mah = match(df, "treat", ["x"], distance="mahalanobis", replace=True, ratio=2)
    score = match(df, "treat", ["x"], distance="x", replace=True, ratio=2)
    pd.testing.assert_series_equal(mah.matched["weight"], score.matched["weight"])
    greedy = match(df, "treat", ["x"], distance="mahalanobis")
    greedy_score = match(df, "treat", ["x"], distance="x", m_order="data")
    pd.testing.assert_frame_equal(greedy.matched, greedy_score.matched)
