"""Benchmark: evaluation.methods.synth.sdid.synthetic_did against diff-diff's SyntheticDiD on the same panels.

Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021) for a block
design, with R ``synthdid``'s defaults (regularisation, Frank-Wolfe with sparsification, intercepts) and
the placebo standard error (AAHIW 2021 Algorithm 4) with 200 replications and seed 2021. Peer:
``diff-diff`` (``SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=2021)``), pinned in
``bench/requirements.txt``. diff-diff picks its backend when it is imported (``DIFF_DIFF_BACKEND``): it
is measured with its Rust backend (``rust``: its Frank-Wolfe solver compiled; a run fails, and says so,
where the backend is missing). Its Python backend runs the Frank-Wolfe iterations in Python and is not
timed: when this bench was written it took 80-100 s a call on these cases (on a busy 2-core machine),
140-250 times its Rust backend, with equal results; so the Rust backend is diff-diff's fastest here. Ours
solves the weights with a numba kernel, compiled (or loaded from numba's cache) in the warm-up call.

Cases, both in one Parquet file (column ``dataset``):

``prop99``
    Proposition 99 (Abadie, Diamond and Hainmueller 2010; AAHIW 2021's application): cigarette sales
    per capita of 39 states in 1970-2000, California treated from 1989
    (``tests/reference/synth/prop99_smoking.csv``).
``panel_98x14``
    a panel shaped like the pipeline's municipality-year panel: 98 units, 14 years, 10 units treated
    from the tenth year, outcomes with unit and year effects, two latent factors (on which the treated
    units load differently) and noise (:func:`make_panel`).

Before timing, diff-diff's ATT is checked against ours (1e-8 relative: both run synthdid's Frank-Wolfe
iterations to the same stopping rule; on both cases they agree to about 1e-15), and so is the placebo
standard error (1e-8 relative). The SEs can be equal because both draw the placebo assignments as
``numpy.random.default_rng(seed).permutation(n_controls)``, one per replication, and warm-start each
replication's weights from the fitted ones (as synthdid, with R's ``sample``); they are compared, not
assumed. Measurement: :mod:`measure` (fresh process per run, warm-up on a slice, medians).

Usage (in ``.venv-bench``)::

    .venv-bench/bin/python bench/bench_sdid.py --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from measure import Implementation, att_result, compare_att, print_rows, run_bench

ROOT = Path(__file__).resolve().parent.parent
PROP99 = ROOT / "tests" / "reference" / "synth" / "prop99_smoking.csv"
CASES = {
    "prop99": "Proposition 99: 39 states x 31 years, California treated from 1989, placebo SE (200)",
    "panel_98x14": "98 units x 14 years, 10 treated from the tenth year, placebo SE (200)",
}
REPLICATIONS = 200
SEED = 2021
RTOL = 1e-8


def make_panel(n_units: int = 98, n_periods: int = 14, n_treated: int = 10, seed: int = 0) -> pd.DataFrame:
    """Block design: unit and year effects, two factors (treated units load differently), effect 1 when treated."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + n_periods)
    adoption = years[9] if n_periods > 10 else years[n_periods // 2]
    treated = np.arange(n_units) >= n_units - n_treated
    loadings = rng.normal(size=(n_units, 2)) + np.where(treated, 0.5, 0.0)[:, None]
    factors = np.cumsum(rng.normal(size=(n_periods, 2)), axis=0)
    y = (
        rng.normal(size=n_units)[:, None]
        + 0.1 * (years - years[0])[None, :]
        + loadings @ factors.T
        + np.where(treated[:, None] & (years >= adoption)[None, :], 1.0, 0.0)
        + rng.normal(scale=0.5, size=(n_units, n_periods))
    )
    return pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:03d}" for i in range(n_units)], n_periods),
            "year": np.tile(years, n_units),
            "y": y.ravel(),
            "treated": np.repeat(treated.astype(np.int64), n_periods),
            "post": np.tile(years >= adoption, n_units),
        }
    )


def make_data() -> pd.DataFrame:
    """Both cases' panels, one row per unit and year: ``dataset, unit, year, y, treated`` (unit level), ``post``."""
    prop99 = pd.read_csv(PROP99, usecols=["state", "year", "cigsale"]).rename(columns={"state": "unit", "cigsale": "y"})
    prop99["treated"] = (prop99["unit"] == "California").astype(np.int64)
    prop99["post"] = prop99["year"] >= 1989
    return pd.concat([prop99.assign(dataset="prop99"), make_panel().assign(dataset="panel_98x14")], ignore_index=True)[
        ["dataset", "unit", "year", "y", "treated", "post"]
    ]


def load_data(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def warmup_slice(df: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, the treated units and the first 20 controls (the placebo SE needs more controls than treated)."""
    controls = df.loc[df["treated"] == 0, ["dataset", "unit"]].drop_duplicates().groupby("dataset").head(20)
    keep = (df["treated"] == 1) | df.set_index(["dataset", "unit"]).index.isin(pd.MultiIndex.from_frame(controls))
    return df.loc[keep].reset_index(drop=True)


def _panel(df: pd.DataFrame, case: str) -> tuple[pd.DataFrame, int]:
    data = df.loc[df["dataset"] == case].reset_index(drop=True)
    return data, int(data.loc[data["post"], "year"].min())


def run_ours(df: pd.DataFrame, case: str) -> pd.DataFrame:
    from evaluation.methods.synth.sdid import synthetic_did

    data, start = _panel(df, case)
    fit = synthetic_did(data, "unit", "year", "y", "treated", start, replications=REPLICATIONS, seed=SEED)
    return att_result(fit.att, fit.se)


def run_diff_diff(df: pd.DataFrame, case: str) -> pd.DataFrame:
    import diff_diff

    data, start = _panel(df, case)
    post = sorted(data.loc[data["year"] >= start, "year"].unique().tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = diff_diff.SyntheticDiD(variance_method="placebo", n_bootstrap=REPLICATIONS, seed=SEED).fit(
            data, outcome="y", treatment="treated", unit="unit", time="year", post_periods=post
        )
    return att_result(res.att, res.se)


IMPLEMENTATIONS = {
    "ours": Implementation("evaluation.methods.synth.sdid.synthetic_did", run_ours),
    "diff_diff": Implementation(
        "diff-diff SyntheticDiD (Rust backend)", run_diff_diff, "diff_diff", env={"DIFF_DIFF_BACKEND": "rust"}
    ),
}


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, str]:
    """ATT and placebo standard error within ``RTOL`` relative."""
    return compare_att(ours, theirs, RTOL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "sdid.parquet"
        make_data().to_parquet(path)
        rows = run_bench("bench_sdid", path, CASES, repeat=args.repeat, timeout=args.timeout, work=work)
    print()
    print_rows(rows)


if __name__ == "__main__":
    main()
