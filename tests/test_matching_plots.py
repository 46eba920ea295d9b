"""Love plot, overlap plot (deterministic PNG, alt text) and sample flow accounting."""

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import LowOverlapWarning
from evaluation.matching import love_plot, match, overlap_plot, sample_flow


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
