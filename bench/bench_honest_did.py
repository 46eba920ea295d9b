"""Benchmark: evaluation.methods.sensitivity.honest_did against diff-diff's HonestDiD, both checked against R HonestDiD.

Robust confidence intervals for the first post-period effect under bounded violations of parallel trends
(Rambachan and Roth 2023) on the Benzarti-Carloni event study of the HonestDiD package (4 pre and 4 post
coefficients, ``tests/reference/honestdid/bc_betahat.csv`` and ``bc_sigma.csv``), for a grid of values
of the bound, one call per grid:

``relative_magnitudes``
    Delta^RM(Mbar) for Mbar = 0, 0.5, 1, 1.5, 2 (R: the conditional-least-favourable hybrid test, inverted).
``smoothness``
    Delta^SD(M) for M = 0, 0.02, 0.05, 0.1, 0.2, 0.3 (R: the optimal fixed-length interval, FLCI).

The grids are those of the stored R HonestDiD 0.2.6 intervals (``r_honestdid_0.2.6.csv``, dataset ``bc``).
Ours: ``honest_did(beta, sigma, 4, 4, method=..., m=grid)``. Peer: ``diff-diff`` (``HonestDiD(method=
"relative_magnitude" | "smoothness", M=m, l_vec=e_1).fit(results)`` for each value of the grid, on a
``MultiPeriodDiDResults`` that holds the same coefficients and covariance), pinned in
``bench/requirements.txt``. diff-diff's HonestDiD has no compiled code, so it has one row (its backend
is not set).

Equal results are judged against R HonestDiD 0.2.6, the implementation both follow, not against ours:
the table gives each one's largest endpoint difference from R's intervals, ours' in its own row
(:func:`check_reference`), and a peer counts as equal only where both ours and it match R, by the rules
of ``tests/test_honest_did.py``:

* relative magnitudes: R reports the smallest and largest accepted point of its test-inversion grid
  (1000 points on +-20 standard errors of the first post coefficient), so each endpoint must lie
  within one grid step (here 7.6e-4) of R's;
* smoothness (the FLCI): the half-length within 1e-6 of R's, relative (1e-5 at M = 0), and the centre
  within 5e-4 of R's half-length (2e-3 at M = 0), the precision of R's cone solver.

diff-diff 3.13.0 does not compute R's intervals in either case (the reasons, from its source, are in
``WHY_DIFFERENT`` and are added to the table where its results differ): for relative magnitudes it
widens the identified set by a normal critical value times the standard error instead of inverting R's
conditional-least-favourable hybrid test (on ``bc``: up to 0.042 from R); for smoothness it takes the
folded-normal critical value exactly and finds the optimal standard error by a grid search, where R
uses the quantile of 10^6 simulated draws (seed 0, reproduced by ours) and a bisection (up to 8.3e-4
from R, 1.2 % of the half-length, at M = 0.02; about 5e-5 elsewhere).

Measurement: :mod:`measure` (fresh process per run, warm-up with one value of the bound off the grid,
medians). Ours draws and sorts R's 10^6 standard normals once per process (about 0.15 s), in the
warm-up.

Usage (in ``.venv-bench``)::

    .venv-bench/bin/python bench/bench_honest_did.py --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from measure import Implementation, print_rows, run_bench

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "honestdid"
DATASET = "bc"
NUM_PRE = 4
CASES = {
    "relative_magnitudes": "relative magnitudes, Mbar = 0, 0.5, 1, 1.5, 2 (C-LF hybrid in R)",
    "smoothness": "smoothness, M = 0, 0.02, 0.05, 0.1, 0.2, 0.3 (FLCI)",
}
WARMUP_M = {"relative_magnitudes": 0.25, "smoothness": 0.01}
DIFF_DIFF_METHOD = {"relative_magnitudes": "relative_magnitude", "smoothness": "smoothness"}
WHY_DIFFERENT = {
    "relative_magnitudes": (
        "diff-diff 3.13.0 widens the identified set by a normal critical value times the SE (its 'naive FLCI'; "
        "its ARP hybrid is disabled) instead of inverting R's conditional-least-favourable hybrid test"
    ),
    "smoothness": (
        "diff-diff 3.13.0 takes the FLCI's folded-normal critical value exactly and finds the optimal SE by a "
        "grid search, where R HonestDiD uses the quantile of 10^6 simulated draws (seed 0) and a bisection"
    ),
}


def r_reference(method: str) -> pd.DataFrame:
    """R HonestDiD 0.2.6's intervals on the Benzarti-Carloni event study: ``m, ci_low, ci_high``."""
    ref = pd.read_csv(REFERENCE / "r_honestdid_0.2.6.csv")
    ref = ref[(ref["dataset"] == DATASET) & (ref["method"] == method) & (ref["l_index"] == 1)]
    return ref[["m", "ci_low", "ci_high"]].reset_index(drop=True)


def make_data() -> pd.DataFrame:
    """The event study as a table: ``beta``, ``pre`` and the covariance matrix's columns ``sigma_0, ...``."""
    beta = np.loadtxt(REFERENCE / f"{DATASET}_betahat.csv", delimiter=",")
    sigma = np.loadtxt(REFERENCE / f"{DATASET}_sigma.csv", delimiter=",")
    data = pd.DataFrame({"beta": beta, "pre": np.arange(len(beta)) < NUM_PRE})
    return pd.concat([data, pd.DataFrame(sigma, columns=[f"sigma_{i}" for i in range(len(beta))])], axis=1)


def load_data(path: Path) -> dict:
    df = pd.read_parquet(path)
    return {
        "beta": df["beta"].to_numpy(),
        "sigma": df.filter(like="sigma_").to_numpy(),
        "num_pre": int(df["pre"].sum()),
        "m": None,
    }


def warmup_slice(data: dict) -> dict:
    """The same event study with one value of the bound that is not on the grids."""
    return data | {"m": WARMUP_M}


def _grid(data: dict, case: str) -> list[float]:
    return [data["m"][case]] if data["m"] is not None else r_reference(case)["m"].tolist()


def _result(case: str, m, low, high) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": case,
            "m": np.asarray(m, float),
            "ci_low": np.asarray(low, float),
            "ci_high": np.asarray(high, float),
        }
    )


def run_ours(data: dict, case: str) -> pd.DataFrame:
    from evaluation.methods.sensitivity import honest_did

    num_post = len(data["beta"]) - data["num_pre"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = honest_did(data["beta"], data["sigma"], data["num_pre"], num_post, method=case, m=_grid(data, case))
    return _result(case, out["m"], out["ci_low"], out["ci_high"])


def _diff_diff_results(beta: np.ndarray, sigma: np.ndarray, num_pre: int):
    """diff-diff's event-study container for given coefficients (pre, then post; reference period -1 left out)."""
    from diff_diff.results import MultiPeriodDiDResults, PeriodEffect

    pre = list(range(-num_pre - 1, -1))
    post = list(range(len(beta) - num_pre))
    periods = pre + post
    se = np.sqrt(np.diag(sigma))
    effects = {
        p: PeriodEffect(period=p, effect=b, se=s, t_stat=b / s, p_value=np.nan, conf_int=(np.nan, np.nan))
        for p, b, s in zip(periods, beta, se, strict=True)
    }
    return MultiPeriodDiDResults(
        period_effects=effects,
        avg_att=np.nan,
        avg_se=np.nan,
        avg_t_stat=np.nan,
        avg_p_value=np.nan,
        avg_conf_int=(np.nan, np.nan),
        n_obs=0,
        n_treated=0,
        n_control=0,
        pre_periods=[*pre, -1],
        post_periods=post,
        vcov=sigma,
        interaction_indices={p: i for i, p in enumerate(periods)},
        reference_period=-1,
    )


def run_diff_diff(data: dict, case: str) -> pd.DataFrame:
    import diff_diff

    beta, num_pre = data["beta"], data["num_pre"]
    results = _diff_diff_results(beta, data["sigma"], num_pre)
    first_post = np.eye(len(beta) - num_pre)[0]
    grid = _grid(data, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [diff_diff.HonestDiD(method=DIFF_DIFF_METHOD[case], M=m, l_vec=first_post).fit(results) for m in grid]
    return _result(case, grid, [f.ci_lb for f in fits], [f.ci_ub for f in fits])


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.sensitivity.honest_did", run_ours),
    "diff_diff": Implementation("diff-diff HonestDiD", run_diff_diff, "diff_diff", why_different=WHY_DIFFERENT),
}


def _against_r(result: pd.DataFrame) -> tuple[bool, float, float]:
    """Whether ``result`` matches R HonestDiD (module docstring); its largest endpoint difference, absolute and relative
    to R's half-length."""
    method = result["method"].iloc[0]
    ref = r_reference(method)
    if len(result) != len(ref) or not np.allclose(result["m"], ref["m"], rtol=0, atol=1e-12):
        return False, np.nan, np.nan
    got, want = result[["ci_low", "ci_high"]].to_numpy(), ref[["ci_low", "ci_high"]].to_numpy()
    diff = np.abs(got - want)
    half = (want[:, 1] - want[:, 0]) / 2
    if method == "relative_magnitudes":
        sigma = np.loadtxt(REFERENCE / f"{DATASET}_sigma.csv", delimiter=",")
        step = 40 * np.sqrt(sigma[NUM_PRE, NUM_PRE]) / 999  # HonestDiD's grid: 1000 points on +-20 s.e.
        equal = bool((diff <= 1.0001 * step).all())
    else:
        zero = ref["m"].to_numpy() == 0
        d_half = np.abs((got[:, 1] - got[:, 0]) / 2 - half)
        d_centre = np.abs((got[:, 1] + got[:, 0]) / 2 - (want[:, 1] + want[:, 0]) / 2)
        equal = bool(
            (d_half <= np.where(zero, 1e-5, 1e-6) * half).all()
            and (d_centre <= np.where(zero, 2e-3, 5e-4) * half).all()
        )
    return equal, float(diff.max()), float((diff.max(axis=1) / half).max())


def _describe(equal: bool, d_abs: float, d_rel: float) -> str:
    verdict = "matches" if equal else "differs from"
    return f"{verdict} R HonestDiD 0.2.6: max endpoint diff {d_abs:.1e} ({d_rel:.1e} of R's half-length)"


def check_reference(ours: pd.DataFrame) -> tuple[bool, str]:
    """Ours against R HonestDiD 0.2.6 (module docstring's rules)."""
    return _against_r(ours)[0], _describe(*_against_r(ours))


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """Equal when both match R HonestDiD 0.2.6 (module docstring's rules); the detail gives both differences."""
    ours_equal, ours_abs, ours_rel = _against_r(ours)
    equal, d_abs, d_rel = _against_r(theirs)
    detail = _describe(equal, d_abs, d_rel) + f"; ours {'matches' if ours_equal else 'differs from'} R: {ours_abs:.1e}"
    return bool(equal and ours_equal), detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "event_study.parquet"
        make_data().to_parquet(path)
        rows = run_bench("bench_honest_did", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print(f"\nBenzarti-Carloni event study (HonestDiD's BCdata_EventStudy): {NUM_PRE} pre, 4 post coefficients\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
