import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.errors import EvaluationError, LowOverlapWarning, NoOverlapError
from evaluation.methods.matching import balance_table, match
from evaluation.methods.matching.nearest import greedy_without_replacement, heap_select, nearest_with_replacement
from evaluation.methods.matching.score import fit_propensity


def _scores(treated, controls, **extra):
    df = pd.DataFrame(
        {"treat": [1] * len(treated) + [0] * len(controls), "ps": list(treated) + list(controls), "x": 0.0}
    )
    for key, values in extra.items():
        df[key] = values
    return df


def _weights(m):
    return m.matched["weight"].to_dict()


def test_one_to_one_without_replacement_by_hand():
    df = _scores([0.9, 0.5], [0.85, 0.52, 0.1])
    m = match(df, "treat", ["x"], distance="ps")
    assert _weights(m) == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    assert m.matched["subclass"].to_dict() == {0: 1, 1: 2, 2: 1, 3: 2}
    assert 4 not in m.matched.index
    assert m.n_dropped == {}


def test_greedy_order_largest_first_and_smallest_first():
    # largest first: 0.6 takes 0.55, then 0.5 is left with 0.2
    df = _scores([0.6, 0.5], [0.55, 0.2])
    m = match(df, "treat", ["x"], distance="ps")
    assert m.matched.loc[[0, 2], "subclass"].nunique() == 1
    assert m.matched.loc[[1, 3], "subclass"].nunique() == 1
    # smallest first: 0.5 takes 0.55, 0.6 is left with 0.2
    m = match(df, "treat", ["x"], distance="ps", m_order="smallest")
    assert m.matched.loc[1, "subclass"] == m.matched.loc[2, "subclass"]
    assert m.matched.loc[0, "subclass"] == m.matched.loc[3, "subclass"]


def test_caliper_drops_exactly_the_far_pair():
    df = _scores([0.6, 0.5], [0.55, 0.2])
    sd = np.std([0.6, 0.5, 0.55, 0.2], ddof=1)
    # caliper 0.1 in score units: pair (0.6, 0.55) at 0.05 stays, (0.5, 0.2) at 0.3 goes
    with pytest.warns(LowOverlapWarning, match="1 of 2"):
        m = match(df, "treat", ["x"], distance="ps", caliper=0.1 / sd)
    assert m.caliper == pytest.approx(0.1)
    assert m.n_dropped == {"no_match_within_caliper": 1}
    assert sorted(m.matched.index) == [0, 2]


def test_with_replacement_ties_follow_matchit():
    # treated 0.5 is tied between controls 0.25 (one step left in the sort) and 0.75 (one step right):
    # MatchIt visits the left one first and keeps it; treated 1.0 matches control 1.0 exactly.
    df = _scores([0.5, 1.0], [0.25, 0.75, 1.0, 0.0])
    m = match(df, "treat", ["x"], distance="ps", replace=True)
    assert _weights(m) == pytest.approx({0: 1.0, 1: 1.0, 2: 1.0, 4: 1.0})
    assert "subclass" not in m.matched.columns


def test_with_replacement_identical_scores_nearest_in_sort_order():
    # controls 2 and 3 share score 0.7 (right of treated 0.6): the first in data order is one step away;
    # controls 4 and 5 share score 0.1 (left of treated 0.15): the last in data order is one step away
    df = _scores([0.6, 0.15], [0.7, 0.7, 0.1, 0.1])
    m = match(df, "treat", ["x"], distance="ps", replace=True)
    assert sorted(m.matched.index) == [0, 1, 2, 5]


def test_heap_select_equals_libstdcxx_partial_sort():
    # positions std::partial_sort keeps, recorded from g++ 12 (tests/reference/matching/partial_sort_cases.cpp)
    path = Path(__file__).parent / "reference" / "matching" / "partial_sort_cases.jsonl"
    cases = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(cases) == 300
    for case in cases:
        assert sorted(heap_select(case["keys"], case["k"])) == sorted(case["first"])


def test_with_replacement_ratio_two_and_reuse():
    # both treated units want controls 0.25 and 0.5; control 2.0 is never used
    df = _scores([0.3, 0.45], [0.25, 0.5, 2.0])
    m = match(df, "treat", ["x"], distance="ps", replace=True, ratio=2)
    # each control serves both treated units with 1/2 each: raw 1 and 1, already summing to 2
    assert _weights(m) == pytest.approx({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0})


def test_ratio_two_without_replacement_goes_in_rounds():
    # round 1: 0.9 -> 0.8, 0.5 -> 0.45; round 2: 0.9 -> 0.6 (closest left), 0.5 -> 0.3
    df = _scores([0.9, 0.5], [0.8, 0.45, 0.6, 0.3, 0.0])
    m = match(df, "treat", ["x"], distance="ps", ratio=2)
    sub = m.matched["subclass"]
    assert sub[2] == sub[4] == sub[0]
    assert sub[3] == sub[5] == sub[1]
    assert 6 not in m.matched.index


def test_exact_cells_and_no_exact_match_count():
    df = _scores([0.5, 0.5, 0.5], [0.5, 0.1], sex=[0, 1, 1, 0, 1])
    # sex 0: treated 0 with control 3; sex 1: two treated, one control 4 -> one treated gets none
    with pytest.warns(LowOverlapWarning):
        m = match(df, "treat", ["x"], distance="ps", exact=["sex"])
    assert m.n_dropped == {"no_control_left": 1}
    assert set(m.matched.index) >= {0, 3, 4}
    by_sub = m.matched.groupby("subclass")["sex"].nunique()
    assert (by_sub == 1).all()
    df2 = _scores([0.5, 0.5], [0.5], sex=[0, 1, 0])
    with pytest.warns(LowOverlapWarning):
        m2 = match(df2, "treat", ["x"], distance="ps", exact=["sex"])
    assert m2.n_dropped == {"no_exact_match": 1}


def _brute_nearest(d_t, d_c, caliper):
    out = []
    for i, d in enumerate(d_t):
        dist = np.abs(d_c - d)
        j = int(np.argmin(dist))
        if caliper is None or dist[j] <= caliper:
            out.append((i, j))
    return out


@pytest.mark.parametrize("caliper", [None, 0.01])
def test_vectorised_with_replacement_equals_brute_force(caliper):
    rng = np.random.default_rng(7)
    d_t, d_c = rng.uniform(size=300), rng.uniform(size=500)
    tp, cp = nearest_with_replacement(d_t, d_c, 1, caliper)
    assert sorted(zip(tp.tolist(), cp.tolist(), strict=True)) == _brute_nearest(d_t, d_c, caliper)


def _brute_greedy(d_t, d_c, ratio, caliper, visit):
    # MatchIt's rule on an unsorted list: nearest available, ties to the smaller score
    available = set(range(len(d_c)))
    pairs = []
    for _ in range(ratio):
        for i in visit:
            if not available:
                break
            j = min(available, key=lambda c: (abs(d_c[c] - d_t[i]), d_c[c]))
            if caliper is not None and abs(d_c[j] - d_t[i]) > caliper:
                continue
            pairs.append((i, j))
            available.remove(j)
    return sorted(pairs)


@pytest.mark.parametrize("ratio, caliper", [(1, None), (2, None), (1, 0.02), (3, 0.05)])
def test_greedy_equals_brute_force(ratio, caliper):
    rng = np.random.default_rng(11)
    d_t, d_c = rng.uniform(0.3, 1, size=60), rng.uniform(0, 0.8, size=150)
    visit = np.argsort(-d_t, kind="stable")
    tp, cp, _ = greedy_without_replacement(d_t, d_c, ratio, caliper, visit)
    assert sorted(zip(tp.tolist(), cp.tolist(), strict=True)) == _brute_greedy(d_t, d_c, ratio, caliper, visit)


@pytest.fixture(scope="module")
def observational():
    rng = np.random.default_rng(2024)
    n = 3000
    age = rng.normal(10, 4, n)
    poor = rng.binomial(1, 0.3, n)
    region = rng.choice(["north", "south", "east"], n)
    lin = -2.5 + 0.25 * (age - 10) + 0.8 * poor + 0.4 * (region == "south")
    treat = rng.binomial(1, 1 / (1 + np.exp(-lin)))
    y = 2.0 * treat + 0.5 * age + 1.5 * poor + rng.normal(0, 1, n)
    return pd.DataFrame({"treat": treat, "age": age, "poor": poor, "region": region, "y": y})


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("ratio", [1, 2])
def test_properties_on_observational_data(observational, replace, ratio):
    df = observational
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        m = match(df, "treat", ["age", "poor", "region"], ratio=ratio, replace=replace, caliper=0.2)
    treated = m.matched[m.matched["treat"] == 1]
    controls = m.matched[m.matched["treat"] == 0]
    assert (treated["weight"] == 1).all()
    assert controls["weight"].sum() == pytest.approx(len(controls))
    assert m.propensity.index.equals(df.index)
    assert len(treated) + sum(m.n_dropped.values()) == int(df["treat"].sum())
    # balance improves on every covariate that was imbalanced, and the naive estimate is biased upwards
    imbalanced = m.balance["smd_before"].abs() > 0.05
    assert imbalanced.sum() >= 2
    assert (m.balance["smd_after"].abs() < m.balance["smd_before"].abs())[imbalanced].all()
    assert (m.balance["smd_after"].abs() < 0.1).all()
    est = m.att("y")
    naive = df.loc[df.treat == 1, "y"].mean() - df.loc[df.treat == 0, "y"].mean()
    assert abs(est.estimate - 2.0) < abs(naive - 2.0)
    assert est.ci_low < 2.0 < est.ci_high
    assert est.n_treated == len(treated) and est.n_control == len(controls)


def test_logit_score_equals_statsmodels_logit(observational):
    df = observational
    m = match(df, "treat", ["age", "poor"])
    x = sm.add_constant(df[["age", "poor"]].astype(float))
    p = sm.Logit(df["treat"], x).fit(disp=0).predict(x)
    np.testing.assert_allclose(m.propensity.to_numpy(), p.to_numpy(), rtol=1e-7)
    probit = match(df, "treat", ["age", "poor"], distance="probit")
    p2 = sm.Probit(df["treat"], x).fit(disp=0).predict(x)
    np.testing.assert_allclose(probit.propensity.to_numpy(), p2.to_numpy(), rtol=1e-6)


def test_att_standard_errors_match_statsmodels(observational):
    df = observational
    m = match(df, "treat", ["age", "poor"])
    md = m.matched
    x = sm.add_constant(md["treat"].astype(float))
    cl = sm.WLS(md["y"], x, weights=md["weight"]).fit(cov_type="cluster", cov_kwds={"groups": md["subclass"]})
    est = m.att("y")
    assert est.estimate == pytest.approx(cl.params["treat"], rel=1e-10)
    assert est.se == pytest.approx(cl.bse["treat"], rel=1e-8)
    mr = match(df, "treat", ["age", "poor"], replace=True, ratio=2)
    mdr = mr.matched
    xr = sm.add_constant(mdr["treat"].astype(float))
    hc3 = sm.WLS(mdr["y"], xr, weights=mdr["weight"]).fit(cov_type="HC3")
    est_r = mr.att("y")
    assert est_r.estimate == pytest.approx(hc3.params["treat"], rel=1e-10)
    assert est_r.se == pytest.approx(hc3.bse["treat"], rel=1e-8)


def test_att_is_weighted_mean_difference_by_hand():
    df = _scores([0.5, 1.0], [0.25, 0.75, 1.0, 0.0], y=[10.0, 20.0, 4.0, 8.0, 12.0, 100.0])
    m = match(df, "treat", ["x"], distance="ps", replace=True)
    # treated mean 15; controls 0.25 and 1.0 with weight 1: (4 + 12) / 2 = 8
    assert m.att("y").estimate == pytest.approx(7.0)


def test_balance_table_by_hand():
    df = pd.DataFrame({"treat": [1, 1, 1, 0, 0, 0], "age": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0], "b": [1, 0, 1, 0, 0, 1]})
    w = np.array([1, 1, 1, 1, 0, 0], dtype=float)
    tab = balance_table(df, "treat", ["age", "b"], w)
    # treated SD of age = 1; before: (2 - 4) / 1; after: (2 - 2) / 1
    assert tab.loc["age", "smd_before"] == pytest.approx(-2.0)
    assert tab.loc["age", "smd_after"] == pytest.approx(0.0)
    # variance ratio treated / control before: 1 / 4
    assert tab.loc["age", "var_ratio_before"] == pytest.approx(0.25)
    # binary: raw difference in proportions 2/3 - 1/3, after: 2/3 - 0
    assert tab.loc["b", "smd_before"] == pytest.approx(1 / 3)
    assert tab.loc["b", "smd_after"] == pytest.approx(2 / 3)
    assert tab.loc["b", "type"] == "binary" and np.isnan(tab.loc["b", "var_ratio_before"])
    std = balance_table(df, "treat", ["b"], w, binary="std")
    assert std.loc["b", "smd_before"] == pytest.approx((1 / 3) / np.sqrt(2 / 3 * 1 / 3))


def test_no_overlap_raises():
    df = _scores([0.9, 0.95], [0.1, 0.12, 0.11])
    with pytest.raises(NoOverlapError):
        match(df, "treat", ["x"], distance="ps", caliper=0.01)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "knn"}, "unknown method"),
        ({"method": "cem", "caliper": 0.2}, "no caliper"),
        ({"estimand": "ATE"}, "not available with method='nearest'"),
        ({"discard": "all"}, "discard"),
        ({"distance": "mahalanobis", "caliper": 0.2}, "needs a score"),
        ({"ratio": 0}, "ratio"),
        ({"caliper": -1.0}, "caliper"),
        ({"covariates": ["x", "nope"]}, "nope"),
        ({"distance": "gbm"}, "gbm"),
    ],
)
def test_bad_options(kwargs, message):
    df = _scores([0.5, 0.6], [0.4, 0.7, 0.2])
    args = {"df": df, "treatment": "treat", "covariates": ["x"], "distance": "ps"} | kwargs
    with pytest.raises(EvaluationError, match=message):
        match(**args)


def test_data_errors_name_column_and_count():
    df = _scores([0.5, 0.6], [0.4, 0.7, 0.2])
    bad = df.assign(x=[0.0, np.nan, np.nan, 1.0, 2.0])
    with pytest.raises(EvaluationError, match=r"'x' is missing in 2 of 5 rows"):
        match(bad, "treat", ["x"], distance="ps")
    with pytest.raises(EvaluationError, match="0/1"):
        match(df.assign(treat=[1, 2, 0, 0, 0]), "treat", ["x"], distance="ps")
    with pytest.raises(EvaluationError, match="both groups"):
        match(df.assign(treat=1), "treat", ["x"], distance="ps")


def test_greedy_matches_every_treated_unit_at_size():
    # timing lives in bench/bench_matching.py; here only the result at a realistic size
    rng = np.random.default_rng(5)
    d_t, d_c = rng.uniform(size=10_000), rng.uniform(size=40_000)
    tp, cp, _ = greedy_without_replacement(d_t, d_c, 1, None, np.argsort(-d_t))
    assert len(tp) == 10_000
    assert len(np.unique(cp)) == 10_000


def test_identical_covariates_get_identical_scores():
    # ties in the score decide eCDF balance statistics and nearest neighbours, as in R's glm; a BLAS
    # product can round identical rows differently by their position in memory (seen with this seed and
    # OpenBLAS's Haswell kernel: two distinct scores among the twins)
    rng = np.random.default_rng(4)
    n, names = 1003, [f"x{j}" for j in range(8)]
    df = pd.DataFrame(rng.normal(size=(n, 8)), columns=names).assign(treat=(rng.random(n) < 0.3).astype(int))
    twins = np.arange(0, n, 2)
    df.loc[twins, names] = df.loc[0, names].to_numpy()
    prob, linear = fit_propensity(df, "treat", names)
    assert prob[twins].nunique() == 1 and linear[twins].nunique() == 1
