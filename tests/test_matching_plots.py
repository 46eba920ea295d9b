"""Love plot, overlap plot (deterministic PNG, alt text) and sample flow accounting."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import LowOverlapWarning
from evaluation.methods.matching import love_plot, match, overlap_plot, sample_flow


@pytest.fixture(scope="module")
def matched():
    rng = np.random.default_rng(2)
    n = 400
    x = rng.normal(size=n)
    g = rng.choice(["a", "b"], n)
    treat = rng.binomial(1, 1 / (1 + np.exp(-(x - 0.5))))
    df = pd.DataFrame({"treat": treat, "x": x, "g": g})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowOverlapWarning)
        return match(df, "treat", ["x", "g"], caliper=0.1, exact=["g"])


def test_love_plot_is_deterministic_png_with_alt_text(tmp_path, matched):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    alt = love_plot(matched.balance, a)
    love_plot(matched.balance, b)
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.read_bytes() == b.read_bytes()
    assert f"{len(matched.balance)} covariates" in alt
    assert "Love plot" in love_plot(matched.balance, tmp_path / "c.png", language="da")


def test_overlap_plot_is_deterministic_png_with_alt_text(tmp_path, matched):
    df_w = np.zeros(len(matched.propensity))
    df_w[matched.propensity.index.get_indexer(matched.matched.index)] = matched.matched["weight"]
    treat = np.zeros(len(df_w))
    treat[matched.propensity.index.get_indexer(matched.matched.index[matched.matched["treat"] == 1])] = 1
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    alt = overlap_plot(matched.propensity, treat, a, weights=df_w)
    overlap_plot(matched.propensity, treat, b, weights=df_w)
    assert a.read_bytes() == b.read_bytes()
    assert f"{int(treat.sum())} treated" in alt


def test_sample_flow_accounts_for_every_unit(matched):
    flow = sample_flow(matched).set_index("step")
    n_in = flow.loc["input", ["n_treated", "n_control"]]
    rest = flow.drop(index="input")[["n_treated", "n_control"]].sum()
    assert (n_in == rest).all()
    assert flow.loc["matched", "n_treated"] == (matched.matched["treat"] == 1).sum()
    assert flow.loc["no_match_within_caliper", "n_treated"] == matched.n_dropped.get("no_match_within_caliper", 0)
    assert "Matchet" in sample_flow(matched, language="da")["description"].iloc[-1]


def test_overlap_plot_with_min_cell_leaves_out_small_bars_and_hides_the_extremes(tmp_path):
    rng = np.random.default_rng(3)
    # 200 units in the middle, and 2 treated units with extreme scores that must not be drawn or named
    score = np.r_[rng.uniform(0.3, 0.6, 200), 0.01234, 0.98765]
    treat = np.r_[np.tile([1, 0], 100), 1, 1]
    drawn = {}

    def spy(fig, path, dpi):  # record the bar heights instead of reading pixels
        drawn[Path(path).name] = [(p.get_x(), p.get_height()) for ax in fig.axes for p in ax.patches]

    import evaluation.methods.matching.plots as plots

    original = plots._save
    plots._save = spy
    try:
        alt = overlap_plot(score, treat, tmp_path / "o.png", bins=20, min_cell=5, language="en")
        alt_all = overlap_plot(score, treat, tmp_path / "p.png", bins=20, language="en")
    finally:
        plots._save = original
    assert "2 bars resting on fewer than 5 units are not shown" in alt
    assert "0.012" not in alt and "0.988" not in alt  # no individual score in the text
    lowest_control = f"{score[treat == 0].min():.3f}"
    assert lowest_control in alt_all and lowest_control not in alt  # without min_cell: exact individual scores
    heights = [h for x, h in drawn["o.png"] if x < 0.05 or x > 0.95]
    assert heights and all(h == 0 for h in heights)  # the bins of the two extreme units are empty
    assert any(h > 0 for x, h in drawn["p.png"] if x < 0.05)  # drawn when min_cell is not given
