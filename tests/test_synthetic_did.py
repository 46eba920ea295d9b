"""Synthetic difference-in-differences: R synthdid references, exact cases, the solver and input errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from evaluation.errors import ConfigError, EvaluationError, ModelNotIdentifiedError
from evaluation.methods.synth import SyntheticDiD, synthetic_did
from evaluation.methods.synth.sdid import _bootstrap_estimates, _placebo_estimates
from evaluation.methods.synth.sdid_solver import frank_wolfe_simplex, sparsify

REF = Path(__file__).parent / "reference" / "synth"
# R synthdid 0.0.9's estimate on its own california_prop99 data (README; AAHIW 2021 Table 1: -15.6)
PUBLISHED_ATT = -15.60383


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    df = pd.read_csv(REF / "prop99_smoking.csv")[["state", "year", "cigsale"]]
    return df.assign(california=(df["state"] == "California").astype(int))


@pytest.fixture(scope="module")
def prop99_ref() -> dict:
    return json.loads((REF / "prop99_sdid_reference.json").read_text())


@pytest.fixture(scope="module")
def prop99_fit(prop99: pd.DataFrame) -> SyntheticDiD:
    return synthetic_did(prop99, "state", "year", "cigsale", "california", 1989, seed=2021)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(REF / "sdid_simulated_panel.csv")  # `treated` is D_it, as synthdid's panel.matrices


@pytest.fixture(scope="module")
def sim_ref() -> dict:
    return json.loads((REF / "sdid_simulated_reference.json").read_text())


@pytest.fixture(scope="module")
def sim_fit(sim: pd.DataFrame) -> SyntheticDiD:
    return synthetic_did(sim, "unit", "year", "y", "treated", 2011, method="jackknife")


def _tuning(fit: SyntheticDiD) -> dict[str, float]:
    return {"zeta_omega": fit.zeta_omega, "zeta_lambda": fit.zeta_lambda, "min_decrease": 1e-5 * fit.noise_level}


def _matrix(df: pd.DataFrame, unit: str, time: str, outcome: str, order: list) -> np.ndarray:
    return df.pivot(index=unit, columns=time, values=outcome).loc[order].to_numpy()


# --- R synthdid references -------------------------------------------------------------------------------


def test_prop99_estimate_matches_r_synthdid(prop99_fit: SyntheticDiD, prop99_ref: dict) -> None:
    assert prop99_fit.att == pytest.approx(prop99_ref["att"], rel=1e-10)
    # the package's copy of the data carries float32 noise (89.80000305): 1.3e-6 apart
    assert prop99_fit.att == pytest.approx(PUBLISHED_ATT, abs=5e-6)
    assert prop99_fit.noise_level == pytest.approx(prop99_ref["noise_level"], rel=1e-12)
    assert prop99_fit.zeta_omega == pytest.approx(prop99_ref["zeta_omega"], rel=1e-12)
    assert prop99_fit.zeta_lambda == pytest.approx(prop99_ref["zeta_lambda"], rel=1e-12)


def test_prop99_weights_match_r_synthdid(prop99_fit: SyntheticDiD, prop99_ref: dict) -> None:
    omega = pd.Series(prop99_ref["omega"])
    assert list(prop99_fit.unit_weights.index) == list(omega.index)
    np.testing.assert_allclose(prop99_fit.unit_weights.to_numpy(), omega.to_numpy(), rtol=0, atol=1e-10)
    lam = pd.Series(prop99_ref["lambda"])
    assert [str(t) for t in prop99_fit.time_weights.index] == list(lam.index)
    np.testing.assert_allclose(prop99_fit.time_weights.to_numpy(), lam.to_numpy(), rtol=0, atol=1e-10)
    # as synthdid's: lambda on 1986-1988 only, omega zero for the same 10 of 38 states
    assert prop99_fit.time_weights[prop99_fit.time_weights > 0].index.tolist() == [1986, 1987, 1988]
    zero = prop99_fit.unit_weights[prop99_fit.unit_weights == 0].index.tolist()
    assert zero == omega[omega == 0].index.tolist() and len(zero) == 10
    curve = pd.Series(prop99_ref["effect_curve"])
    np.testing.assert_allclose(prop99_fit.effect_curve.to_numpy(), curve.to_numpy(), atol=1e-9)
    assert prop99_fit.effect_curve.mean() == pytest.approx(prop99_fit.att, rel=1e-12)


def test_prop99_placebo_replications_match_r_synthdid(
    prop99: pd.DataFrame, prop99_fit: SyntheticDiD, prop99_ref: dict
) -> None:
    """Each control in turn as the pseudo-treated unit, as one draw of synthdid's placebo_se."""
    controls = list(prop99_fit.unit_weights.index)
    y = _matrix(prop99, "state", "year", "cigsale", [*controls, "California"])
    n0 = len(controls)
    perms = [np.r_[np.delete(np.arange(n0), j), j] for j in range(n0)]
    got = _placebo_estimates(
        y, n0, 19, prop99_fit.unit_weights.to_numpy(), prop99_fit.time_weights.to_numpy(), _tuning(prop99_fit), perms
    )
    want = pd.Series(prop99_ref["placebo_estimates_by_pseudo_treated"])
    assert list(want.index) == controls
    np.testing.assert_allclose(got, want.to_numpy(), rtol=0, atol=1e-9)


def test_prop99_placebo_se_is_sensible_and_reproducible(prop99: pd.DataFrame, prop99_fit: SyntheticDiD) -> None:
    # 200 draws of 38 placebo estimates whose SD is 9.37 (R with set.seed(12345): 8.37; README: about 8.4)
    assert prop99_fit.method == "placebo" and prop99_fit.replications == 200
    assert len(prop99_fit.replicate_estimates) == 200
    assert 7.0 < prop99_fit.se < 12.0
    assert prop99_fit.se == pytest.approx(np.std(prop99_fit.replicate_estimates), rel=1e-12)
    again = synthetic_did(prop99, "state", "year", "cigsale", "california", 1989, seed=np.random.default_rng(2021))
    assert again.se == prop99_fit.se
    other = synthetic_did(prop99, "state", "year", "cigsale", "california", 1989, seed=7, replications=50)
    assert other.se != prop99_fit.se and other.att == prop99_fit.att


def test_simulated_panel_matches_r_synthdid(sim_fit: SyntheticDiD, sim_ref: dict) -> None:
    assert sim_fit.treated_units == ("u35", "u36", "u37", "u38", "u39", "u40")
    assert sim_fit.att == pytest.approx(sim_ref["att"], rel=1e-10)
    np.testing.assert_allclose(sim_fit.unit_weights.to_numpy(), list(sim_ref["omega"].values()), atol=1e-10)
    np.testing.assert_allclose(sim_fit.time_weights.to_numpy(), list(sim_ref["lambda"].values()), atol=1e-10)
    np.testing.assert_allclose(sim_fit.effect_curve.to_numpy(), list(sim_ref["effect_curve"].values()), atol=1e-9)
    assert sim_fit.se == pytest.approx(sim_ref["se_jackknife"], rel=1e-9)
    assert sim_fit.replications == 0 and len(sim_fit.replicate_estimates) == 40


@pytest.mark.parametrize("kind", ["placebo", "bootstrap"])
def test_simulated_replications_match_r_synthdid(sim: pd.DataFrame, sim_fit: SyntheticDiD, sim_ref: dict, kind: str):
    """synthdid's placebo and bootstrap replications, evaluated at the draws R made (0-based)."""
    order = [*sim_fit.unit_weights.index, *sim_fit.treated_units]
    y = _matrix(sim, "unit", "year", "y", order)
    args = (y, 34, 11, sim_fit.unit_weights.to_numpy(), sim_fit.time_weights.to_numpy(), _tuning(sim_fit))
    if kind == "placebo":
        got = _placebo_estimates(*args, [np.array(p) for p in sim_ref["placebo_permutations"]])
    else:
        got = _bootstrap_estimates(*args, [np.array(d) for d in sim_ref["bootstrap_draws"]])
    np.testing.assert_allclose(got, sim_ref[f"{kind}_estimates"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("method", ["placebo", "bootstrap"])
def test_simulated_random_se_is_near_r(sim: pd.DataFrame, sim_ref: dict, method: str) -> None:
    fit = synthetic_did(sim, "unit", "year", "y", "treated", 2011, method=method, seed=1, replications=100)
    r_se = sim_ref[f"se_{method}_seed_12345"]  # another draw: agreement within Monte Carlo error only
    assert 0.6 * r_se < fit.se < 1.5 * r_se


# --- exact cases --------------------------------------------------------------------------------------------


def additive_panel(effect: float, n_units: int = 12, n_treated: int = 3, seed: int = 5) -> pd.DataFrame:
    """Y_it = a_i + b_t + effect * D_it: parallel trends, so any weights summing to one recover the effect."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2013)
    a = rng.normal(0, 5, n_units)
    b = np.cumsum(rng.normal(0, 1, len(years)))
    units = [f"m{i:02d}" for i in range(n_units)]
    treated = np.arange(n_units) >= n_units - n_treated
    d = treated[:, None] & (years >= 2009)[None, :]
    y = a[:, None] + b[None, :] + effect * d
    return pd.DataFrame(
        {
            "unit": np.repeat(units, len(years)),
            "year": np.tile(years, n_units),
            "y": y.ravel(),
            "d": d.ravel().astype(int),
            "group": np.repeat(treated.astype(int), len(years)),
        }
    )


@pytest.mark.parametrize("method", ["placebo", "bootstrap", "jackknife"])
def test_additive_effect_with_parallel_trends_is_recovered_exactly(method: str) -> None:
    df = additive_panel(effect=3.25)
    fit = synthetic_did(df, "unit", "year", "y", "d", 2009, method=method, seed=0, replications=20)
    assert fit.att == pytest.approx(3.25, abs=1e-10)
    np.testing.assert_allclose(fit.effect_curve.to_numpy(), 3.25, atol=1e-10)
    assert fit.se < 1e-8  # every placebo, bootstrap or leave-one-out estimate is exact too
    assert fit.unit_weights.sum() == pytest.approx(1) and fit.time_weights.sum() == pytest.approx(1)
    assert (fit.unit_weights >= 0).all() and (fit.time_weights >= 0).all()


def test_unit_flag_and_d_it_and_row_order_give_the_same_fit() -> None:
    df = additive_panel(effect=1.0, seed=9)
    rng = np.random.default_rng(1)
    df["y"] += rng.normal(0, 0.3, len(df))  # no longer exact: the weights matter
    by_d = synthetic_did(df, "unit", "year", "y", "d", 2009, seed=4, replications=30)
    by_group = synthetic_did(df, "unit", "year", "y", "group", 2009, seed=4, replications=30)
    shuffled = synthetic_did(df.sample(frac=1, random_state=3), "unit", "year", "y", "d", 2009, seed=4, replications=30)
    for other in (by_group, shuffled):
        assert other.att == by_d.att and other.se == by_d.se
        pd.testing.assert_series_equal(other.unit_weights, by_d.unit_weights)
        pd.testing.assert_series_equal(other.time_weights, by_d.time_weights)


def test_tidy_and_summary(prop99_fit: SyntheticDiD) -> None:
    row = prop99_fit.tidy()
    columns = ["term", "estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"]
    assert list(row.columns) == columns and len(row) == 1
    r = row.iloc[0]
    assert r["term"] == "ATT" and (r["n_treated"], r["n_control"]) == (1, 38)
    assert r["estimate"] == prop99_fit.att and r["se"] == prop99_fit.se
    assert r["ci_low"] == pytest.approx(prop99_fit.att - 1.959964 * prop99_fit.se, rel=1e-6)
    assert r["ci_high"] == pytest.approx(prop99_fit.att + 1.959964 * prop99_fit.se, rel=1e-6)
    z = abs(prop99_fit.att / prop99_fit.se)
    assert r["p_value"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / 2**0.5))), rel=1e-9)
    text = prop99_fit.summary()
    assert "ATT -15.6038" in text and "placebo" in text and "Nevada" in text
    assert prop99_fit.estimate().n_control == 38 and prop99_fit.estimate().n_treated == 1


# --- the solver ---------------------------------------------------------------------------------------------


def _textbook_frank_wolfe(a: np.ndarray, b: np.ndarray, zeta: float, iterations: int) -> np.ndarray:
    """Frank-Wolfe with exact line search, recomputing everything each iteration (synthdid's fw.step)."""
    n, k = a.shape
    x, eta = np.full(k, 1 / k), n * zeta**2
    for _ in range(iterations):
        half_grad = (a @ x - b) @ a + eta * x
        i = int(np.argmin(half_grad))
        d_x = -x.copy()
        d_x[i] += 1
        d_err = a[:, i] - a @ x
        x = x + min(1.0, max(0.0, -(half_grad @ d_x) / (d_err @ d_err + eta * d_x @ d_x))) * d_x
    return x


def test_frank_wolfe_follows_the_textbook_iterates_towards_the_optimum() -> None:
    rng = np.random.default_rng(11)
    a, b, zeta = rng.normal(size=(9, 5)), rng.normal(size=9), 0.3

    def objective(x: np.ndarray) -> float:
        return float(np.sum((a @ x - b) ** 2) / 9 + zeta**2 * np.sum(x**2))

    x = frank_wolfe_simplex(a, b, zeta, min_decrease=0.0, max_iter=5000)
    np.testing.assert_allclose(x, _textbook_frank_wolfe(a, b, zeta, 5000), atol=1e-12)
    best = optimize.minimize(
        objective,
        np.full(5, 0.2),
        method="SLSQP",
        bounds=[(0, 1)] * 5,
        constraints={"type": "eq", "fun": lambda v: v.sum() - 1},
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert x.min() >= 0 and x.sum() == pytest.approx(1, abs=1e-12)
    # Frank-Wolfe approaches a boundary optimum at rate 1/t (two weights here are zero at the optimum)
    assert 0 <= objective(x) - best.fun < 1e-4
    np.testing.assert_allclose(x, best.x, atol=1e-3)
    # with a min_decrease it stops early, higher up
    early = frank_wolfe_simplex(a, b, zeta, min_decrease=1e-3, max_iter=5000)
    assert objective(early) > objective(x)


def test_frank_wolfe_batch_with_padding_equals_one_problem_at_a_time() -> None:
    rng = np.random.default_rng(12)
    sizes = [(7, 4), (5, 6), (7, 6)]
    a = np.zeros((3, 7, 6))
    b = np.zeros((3, 7))
    singles = []
    for p, (n, k) in enumerate(sizes):
        ap, bp = rng.normal(size=(n, k)), rng.normal(size=n)
        a[p, :n, :k], b[p, :n] = ap, bp
        singles.append(frank_wolfe_simplex(ap, bp, 0.2, min_decrease=1e-6, max_iter=500))
    batch = frank_wolfe_simplex(
        a, b, 0.2, min_decrease=1e-6, max_iter=500, n_cols=np.array([4, 6, 6]), n_rows=np.array([7, 5, 7])
    )
    for p, (_, k) in enumerate(sizes):
        np.testing.assert_allclose(batch[p, :k], singles[p], atol=1e-12)
        assert np.all(batch[p, k:] == 0)


def test_sparsify_drops_weights_at_or_below_a_quarter_of_the_largest() -> None:
    np.testing.assert_allclose(sparsify(np.array([0.5, 0.125, 0.25, 0.125])), [2 / 3, 0, 1 / 3, 0])


# --- input errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "kwargs", "error"),
    [
        ("drop_row", {}, ModelNotIdentifiedError),
        ("nan_outcome", {}, ModelNotIdentifiedError),
        ("duplicate_row", {}, ModelNotIdentifiedError),
        ("no_treated", {}, ModelNotIdentifiedError),
        ("all_treated", {}, ModelNotIdentifiedError),
        ("staggered", {}, ModelNotIdentifiedError),
        ("not_binary", {}, EvaluationError),
        (None, {"treatment_time": 1999}, ModelNotIdentifiedError),
        (None, {"treatment_time": 2001}, ModelNotIdentifiedError),
        (None, {"treatment_time": 2002}, ModelNotIdentifiedError),
        (None, {"treatment_time": 2013}, ModelNotIdentifiedError),
        (None, {"treatment_time": 2009.5}, ModelNotIdentifiedError),
        (None, {"outcome": "spending"}, EvaluationError),
        (None, {"method": "bootstrap"}, ModelNotIdentifiedError),
        (None, {"method": "jackknife"}, ModelNotIdentifiedError),
        (None, {"method": "wild"}, ConfigError),
        (None, {"replications": 1}, ConfigError),
        (None, {"level": 95}, ConfigError),
    ],
)
def test_bad_input_raises_a_named_error(change: str | None, kwargs: dict, error: type[Exception]) -> None:
    df = additive_panel(effect=1.0, n_treated=1)
    if change == "drop_row":
        df = df.drop(index=17)
    elif change == "nan_outcome":
        df.loc[17, "y"] = np.nan
    elif change == "duplicate_row":
        df = pd.concat([df, df.iloc[[17]]])
    elif change == "no_treated":
        df["d"] = 0
    elif change == "all_treated":
        df["d"] = 1
    elif change == "staggered":
        df.loc[(df["unit"] == "m11") & (df["year"] == 2008), "d"] = 1
    elif change == "not_binary":
        df.loc[0, "d"] = 2
    args = {"unit": "unit", "time": "year", "outcome": "y", "treated": "d", "treatment_time": 2009}
    with pytest.raises(error) as info:
        synthetic_did(df, **{**args, **kwargs})
    assert issubclass(info.type, EvaluationError)
    assert str(info.value).startswith("synthetic DiD:")


# --- the compiled solver ------------------------------------------------------------------------------------


def _sc_weight_fw(
    y: np.ndarray, zeta: float, lam: np.ndarray | None, min_decrease: float, max_iter: int
) -> tuple[np.ndarray, int]:
    """R synthdid's sc.weight.fw (intercept = TRUE) and fw.step, line by line, in plain Python.

    ``y`` is N0 x (T0 + 1): the columns of A, then b. Returns the weights and the number of iterations.
    """
    n0, t0 = y.shape[0], y.shape[1] - 1
    lam = [1 / t0] * t0 if lam is None else [float(v) for v in lam]
    y = [[float(y[r, c] - y[:, c].mean()) for c in range(t0 + 1)] for r in range(n0)]  # centre each column
    eta = n0 * zeta**2
    vals: list[float] = []
    t = 0
    while t < max_iter and (t < 2 or vals[t - 2] - vals[t - 1] > min_decrease**2):
        t += 1
        # fw.step(A, lambda, b, eta)
        ax = [sum(y[r][c] * lam[c] for c in range(t0)) for r in range(n0)]
        half_grad = [sum((ax[r] - y[r][t0]) * y[r][c] for r in range(n0)) + eta * lam[c] for c in range(t0)]
        i = min(range(t0), key=lambda c: half_grad[c])  # which.min: the first smallest
        d_x = [-v for v in lam]
        d_x[i] = 1 - lam[i]
        if any(v != 0 for v in d_x):
            d_err = [y[r][i] - ax[r] for r in range(n0)]
            step = -sum(h * d for h, d in zip(half_grad, d_x, strict=True)) / (
                sum(e * e for e in d_err) + eta * sum(d * d for d in d_x)
            )
            lam = [v + min(1.0, max(0.0, step)) * d for v, d in zip(lam, d_x, strict=True)]
        err = [sum(y[r][c] * lam[c] for c in range(t0)) - y[r][t0] for r in range(n0)]
        vals.append(zeta**2 * sum(v * v for v in lam) + sum(e * e for e in err) / n0)
    return np.array(lam), t


@pytest.mark.parametrize("zeta", [0.0, 0.4])
@pytest.mark.parametrize("min_decrease", [10.0, 1e-2, 3e-3, 1e-3])
def test_compiled_frank_wolfe_reproduces_synthdid_sc_weight_fw(zeta: float, min_decrease: float) -> None:
    rng = np.random.default_rng(31)
    y = rng.normal(size=(12, 8)) + rng.normal(size=(1, 8))
    y[:, 3] = y[:, 1]  # an exact duplicate column: the gradient ties, and the first index must win
    ref, iterations = _sc_weight_fw(y, zeta, None, min_decrease, 1000)
    assert iterations == 2 if min_decrease == 10 else 2 < iterations < 1000  # the stopping rule ended the run
    yc = y - y.mean(axis=0)
    x = frank_wolfe_simplex(yc[:, :-1], yc[:, -1], zeta, min_decrease=min_decrease, max_iter=1000)
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-12)
    # from given (sparse) starting weights, and stopped by max_iter
    start = sparsify(ref)
    ref, _ = _sc_weight_fw(y, zeta, start, 0.0, 40)
    x = frank_wolfe_simplex(yc[:, :-1], yc[:, -1], zeta, start, min_decrease=0.0, max_iter=40)
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-12)


def test_compiled_frank_wolfe_batch_of_padded_problems_equals_each_problem_alone() -> None:
    rng = np.random.default_rng(32)
    # (rows, columns, starting weights given): padding in rows only, columns only, both, neither
    sizes = [(40, 25, False), (17, 30, True), (40, 9, False), (23, 12, True), (5, 30, False), (40, 30, True)]
    n_max, k_max = 40, 30
    a, b, x0 = np.zeros((len(sizes), n_max, k_max)), np.zeros((len(sizes), n_max)), np.zeros((len(sizes), k_max))
    problems = []
    for p, (n, k, given) in enumerate(sizes):
        ap = rng.normal(size=(n, k)) + rng.normal(size=(1, k))
        ap[:, 2] = ap[:, 0] + 1e-9 * rng.normal(size=n)  # near-duplicate columns
        bp = rng.normal(size=n)
        ap, bp = ap - ap.mean(axis=0), bp - bp.mean()
        xp = rng.dirichlet(np.ones(k)) if given else np.full(k, 1 / k)
        a[p, :n, :k], b[p, :n], x0[p, :k] = ap, bp, xp
        problems.append((ap, bp, xp))
    n_rows, n_cols = np.array([s[0] for s in sizes]), np.array([s[1] for s in sizes])
    for zeta in (0.0, 0.3):
        for min_decrease in (1e-3, 1e-5):
            kw = {"min_decrease": min_decrease, "max_iter": 10_000}
            batch = frank_wolfe_simplex(a, b, zeta, x0, n_cols=n_cols, n_rows=n_rows, **kw)
            for p, (ap, bp, xp) in enumerate(problems):
                alone = frank_wolfe_simplex(ap, bp, zeta, xp, **kw)
                np.testing.assert_allclose(batch[p, : n_cols[p]], alone, rtol=0, atol=1e-12)
                assert np.all(batch[p, n_cols[p] :] == 0)
                assert alone.min() >= 0 and alone.sum() == pytest.approx(1, abs=1e-12)
            # the default start is uniform on each problem's real columns
            uniform = frank_wolfe_simplex(a, b, zeta, n_cols=n_cols, n_rows=n_rows, **kw)
            for p, (ap, bp, _) in enumerate(problems):
                alone = frank_wolfe_simplex(ap, bp, zeta, **kw)
                np.testing.assert_allclose(uniform[p, : n_cols[p]], alone, rtol=0, atol=1e-12)
