import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.methods.panel import fixed_effects
from evaluation.results import Estimate

REFERENCE = Path(__file__).parent / "reference"


def _load_fe_data():
    spec = importlib.util.spec_from_file_location("fe_data", REFERENCE / "fe_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FE_DATA = _load_fe_data()
REF = pd.read_csv(REFERENCE / "fixed_effects_reference.csv")


@pytest.fixture(scope="module")
def panels():
    return {kind: FE_DATA.load_panel(kind) for kind in ("balanced", "unbalanced")}


@pytest.mark.parametrize("vcov", list(FE_DATA.VCOVS))
@pytest.mark.parametrize("case", list(FE_DATA.CASES))
def test_matches_fixest_reference(panels, case, vcov):
    entity, time, weights, kind = FE_DATA.CASES[case]
    cov_type, cluster = FE_DATA.VCOVS[vcov]
    fe = fixed_effects(
        panels[kind],
        "lwage",
        FE_DATA.REGRESSORS,
        "nr",
        "year",
        entity_effects=entity,
        time_effects=time,
        cluster=cluster,
        weights=weights,
        cov_type=cov_type,
    )
    ref = REF[(REF.case == case) & (REF.vcov == vcov)].set_index("regressor")
    assert sorted(fe.table.index) == sorted(ref.index)
    got = fe.table.loc[ref.index]
    for col in ("coef", "se", "ci_low", "ci_high", "t"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-7, err_msg=col)
    # the reference library computes p-values as 1 - cdf, which loses digits below ~1e-12
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-5, atol=1e-11)
    assert fe.nobs == ref["nobs"].iloc[0]


def _two_by_two():
    # four units, two periods; units B1 and B2 are treated in period 2
    return pd.DataFrame(
        {
            "id": ["A1", "A1", "A2", "A2", "B1", "B1", "B2", "B2"],
            "t": [1, 2, 1, 2, 1, 2, 1, 2],
            "d": [0, 0, 0, 0, 0, 1, 0, 1],
            "y": [1.0, 3.0, 2.0, 4.0, 2.0, 7.0, 4.0, 8.0],
        }
    )


def test_two_by_two_did_by_hand():
    df = _two_by_two()
    # DiD of mean changes: treated (5 + 4) / 2 = 4.5, controls (2 + 2) / 2 = 2 -> 2.5
    fe = fixed_effects(df, "y", ["d"], "id", "t")
    assert fe.table.loc["d", "coef"] == pytest.approx(2.5)
    assert fe.n_fixed_effects == 5  # 4 units + 2 periods - 1
    assert fe.df_resid == 8 - 6
    # first differences of the treated deviate by +-0.5 from their mean, so each treated row has a
    # residual of +-0.25 and the controls 0: RSS = 4 * 0.0625 = 0.25, sigma^2 = 0.25 / 2.
    # Two-way demeaned d is +-0.25 in all 8 rows: sum of squares 0.5. var = 0.125 / 0.5 -> se 0.5
    assert fe.table.loc["d", "se"] == pytest.approx(0.5)
    assert fe.table.loc["d", "ci_low"] < 2.5 < fe.table.loc["d", "ci_high"]
    with pytest.raises(ModelNotIdentifiedError, match="observations cannot identify"):
        fixed_effects(df.iloc[[0, 1, 4, 5]], "y", ["d"], "id", "t")


def test_twfe_equals_dummy_regression_with_hand_factor():
    rng = np.random.default_rng(3)
    ids, years = np.meshgrid(np.arange(12), np.arange(5), indexing="ij")
    df = pd.DataFrame({"id": ids.ravel(), "year": years.ravel()})
    df["x"] = rng.normal(size=len(df)) + 0.1 * df["id"]
    df["y"] = 0.5 * df["x"] + 0.2 * df["id"] - 0.3 * df["year"] + rng.normal(size=len(df))
    df["grp"] = df["id"] // 4
    # least squares with explicit dummies, by hand
    d_id = pd.get_dummies(df["id"], dtype=float).to_numpy()
    d_yr = pd.get_dummies(df["year"], dtype=float).to_numpy()[:, 1:]
    x = np.column_stack([df["x"], d_id, d_yr])
    beta, *_ = np.linalg.lstsq(x, df["y"].to_numpy(), rcond=None)
    resid = df["y"].to_numpy() - x @ beta
    bread = np.linalg.inv(x.T @ x)
    n, k_all = x.shape
    # clustered by grp: unit effects nested in grp -> K_c = 1 + 4 (years) + 1 (nested factor's own parameter)
    g = df["grp"].nunique()
    scores = np.zeros((g, k_all))
    np.add.at(scores, df["grp"].to_numpy(), x * resid[:, None])
    k_c = 1 + 12 + 4 - 12 + 1
    factor = g / (g - 1) * (n - 1) / (n - k_c)
    v = factor * bread @ scores.T @ scores @ bread
    fe = fixed_effects(df, "y", ["x"], "id", "year", cluster="grp")
    assert fe.table.loc["x", "coef"] == pytest.approx(beta[0], rel=1e-10)
    assert fe.table.loc["x", "se"] == pytest.approx(np.sqrt(v[0, 0]), rel=1e-10)
    assert fe.small_sample_factor == pytest.approx(factor)
    assert fe.df_inference == g - 1
    # unadjusted: sigma^2 = RSS / (N - K) with all fixed effects counted
    fe_iid = fixed_effects(df, "y", ["x"], "id", "year")
    sigma2 = resid @ resid / (n - k_all)
    assert fe_iid.table.loc["x", "se"] == pytest.approx(np.sqrt(sigma2 * bread[0, 0]), rel=1e-10)
    assert fe_iid.cov_type == "unadjusted" and fe.cov_type == "clustered"


def test_scaling_weights_changes_nothing():
    df = FE_DATA.load_panel("unbalanced")
    a = fixed_effects(df, "lwage", ["union", "married"], "nr", "year", cluster="nr", weights="hours_w")
    b = fixed_effects(
        df.assign(hw=df["hours_w"] * 37.0), "lwage", ["union", "married"], "nr", "year", cluster="nr", weights="hw"
    )
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-10)


def test_regressor_constant_within_units_is_not_identified():
    df = FE_DATA.load_panel("balanced")
    with pytest.raises(ModelNotIdentifiedError, match="educ"):
        fixed_effects(df, "lwage", ["union", "educ"], "nr", "year")


def test_regressor_collinear_with_other_regressors():
    df = FE_DATA.load_panel("balanced").assign(union2=lambda d: 2 * d["union"])
    with pytest.raises(ModelNotIdentifiedError, match="union2"):
        fixed_effects(df, "lwage", ["union", "union2"], "nr", "year")


def test_nearly_collinear_regressor_is_estimated_as_by_least_squares_dummies():
    # union + 1e-4 noise is 1e-4 of its own size away from union after the fixed effects: far too close for
    # the cross products to decide, so the exact check decides, and it is identified. The estimate must be
    # that of least squares on explicit unit and year dummies.
    df = FE_DATA.load_panel("balanced")
    rng = np.random.default_rng(7)
    df = df.assign(union_b=df["union"] + 1e-4 * rng.standard_normal(len(df)))
    fe = fixed_effects(df, "lwage", ["union", "union_b"], "nr", "year")
    dummies = pd.get_dummies(df[["nr", "year"]].astype(str), drop_first=True, dtype=float)
    design = np.column_stack([np.ones(len(df)), dummies.to_numpy(), df[["union", "union_b"]].to_numpy()])
    coef, *_ = np.linalg.lstsq(design, df["lwage"].to_numpy(), rcond=None)
    np.testing.assert_allclose(fe.table["coef"].to_numpy(), coef[-2:], rtol=1e-6)


def test_time_dummies_absorbed_by_the_units_are_dropped():
    # each unit is seen twice, both times in one period: the period effects are absorbed by the unit
    # effects, so their dummies are dropped and x is estimated within units alone
    df = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5], "t": [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]})
    df = df.assign(x=[0.0, 1.0, 0.5, 2.0, 1.0, 0.0, 3.0, 1.0, 2.0, 2.5])
    df = df.assign(y=2.0 * df["x"] + df["id"] + np.array([0.1, -0.1, 0.2, -0.3, 0.0, 0.1, -0.2, 0.1, 0.3, -0.1]))
    two_way = fixed_effects(df, "y", ["x"], "id", "t")
    one_way = fixed_effects(df, "y", ["x"], "id", "t", time_effects=False)
    assert two_way.table.loc["x", "coef"] == pytest.approx(one_way.table.loc["x", "coef"], rel=1e-12)
    assert two_way.n_fixed_effects == one_way.n_fixed_effects == 5
    assert two_way.table.loc["x", "se"] == pytest.approx(one_way.table.loc["x", "se"], rel=1e-12)


def test_missing_rows_are_counted_and_warned():
    df = FE_DATA.load_panel("balanced")
    df.loc[df.index[:7], "union"] = np.nan
    with pytest.warns(UserWarning, match="7 of 4360 rows"):
        fe = fixed_effects(df, "lwage", ["union"], "nr", "year")
    assert fe.n_dropped == {"missing_union": 7}
    assert fe.nobs == 4360 - 7


def test_unbalanced_singletons_are_kept_and_counted():
    df = FE_DATA.load_panel("unbalanced")
    fe = fixed_effects(df, "lwage", FE_DATA.REGRESSORS, "nr", "year")
    assert fe.nobs == len(df)
    singles = (df.groupby("nr")["nr"].transform("size") == 1).sum()
    assert fe.n_singletons == singles > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"outcome": "nope"}, "nope"),
        ({"cov_type": "HC7"}, "cov_type"),
        ({"cov_type": "clustered"}, "cluster column"),
        ({"regressors": []}, "non-empty"),
    ],
)
def test_bad_arguments(kwargs, message):
    df = _two_by_two()
    args = {"df": df, "outcome": "y", "regressors": ["d"], "unit": "id", "time": "t"} | kwargs
    with pytest.raises(EvaluationError, match=message):
        fixed_effects(**args)


def test_negative_weights_rejected():
    df = _two_by_two().assign(w=[1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(EvaluationError, match="negative"):
        fixed_effects(df, "y", ["d"], "id", "t", weights="w")


def test_estimate_conversion():
    df = FE_DATA.load_panel("balanced")
    fe = fixed_effects(df, "lwage", ["union"], "nr", "year", cluster="nr")
    est = fe.estimate("union", n_treated=5, n_control=6)
    assert isinstance(est, Estimate)
    assert est.estimate == fe.table.loc["union", "coef"]
    assert est.ci_low < est.estimate < est.ci_high
    assert est.to_dict()["n_treated"] == 5
    with pytest.raises(EvaluationError, match="married"):
        fe.estimate("married")


def test_no_warning_on_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed_effects(_two_by_two(), "y", ["d"], "id", "t", cov_type="robust")
