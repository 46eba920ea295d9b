"""The economics text: every net cost, payback year and budget effect with its interval, in words the interval allows.

When an interval includes zero, no sentence may conclude that the model saves money, costs money, or
changes the costs: it says the result cannot be distinguished from zero. Hand-made results, Danish and
English.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from evaluation.report.economics_parts import WORDS, economics_table, economics_variables
from evaluation.report.economics_sentences import budget_sentences, interval_sentence, payback_sentence, verdict
from evaluation.report.sentences import read_sentences

M = "\u2212"
ROOT = Path(__file__).resolve().parents[1]
#: words that conclude a saving, a cost or a change, per language
CONCLUSIONS = {
    "da": ("sparer", "sparet", "besparelse", "koster", "kostet", "en nettoudgift på", "faldt", "steg", "kræver"),
    "en": ("saves", "saved", "saving", "costs DKK", "has cost", "a net cost of", "fell", "rose", "takes"),
}
UNDISTINGUISHED = {"da": "kan ikke skelnes fra nul", "en": "cannot be distinguished from zero"}
TOPICS = ("staff", "net_cost", "measure", "cumulative", "budget_staff", "budget_net", "budget_cumulative")
FIELDS = {"h": "5", "year": "1", "cost": "1", "cost_lo": "0", "cost_hi": "2", "per_fte": "700.000"}


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(-3.0, -1.0, "below"), (1.0, 3.0, "above"), (-1.0, 1.0, "zero"), (-1.0, 0.0, "zero"), (math.nan, -1.0, "below"),
     (math.nan, math.nan, "zero"), (1.0, math.nan, "above")],
)  # fmt: skip
def test_verdict_follows_the_interval(low, high, expected):
    assert verdict(low, high) == expected


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("topic", TOPICS)
def test_an_interval_spanning_zero_concludes_neither_a_saving_nor_a_cost(topic, language):
    text = interval_sentence(topic, -1234.0, -5000.0, 2500.0, language=language, **FIELDS)
    assert UNDISTINGUISHED[language] in text
    for word in CONCLUSIONS[language]:
        assert word not in text, word
    assert f"{M}5.000" in text if language == "da" else f"{M}5,000" in text  # the interval is stated
    assert "2.500" in text if language == "da" else "2,500" in text


@pytest.mark.parametrize(
    ("language", "below", "above"),
    [
        ("da", "Modellen sparer netto 1.234 kr. pr. barneår med åben sag (95 %-KI for nettoudgiften: "
               f"{M}5.000 til {M}200 kr.).",
         "Modellen koster netto 1.234 kr. pr. barneår med åben sag (95 %-KI: 200 til 5.000 kr.)."),
        ("en", f"The model saves DKK 1,234 net per child-year with an open case (95% CI of the net cost: DKK {M}5,000 "
               f"to {M}200).",
         "The model costs DKK 1,234 net per child-year with an open case (95% CI: DKK 200 to 5,000)."),
    ],
)  # fmt: skip
def test_a_saving_or_a_cost_only_when_the_whole_interval_says_so(language, below, above):
    assert interval_sentence("net_cost", -1234.0, -5000.0, -200.0, language=language) == below
    assert interval_sentence("net_cost", 1234.0, 200.0, 5000.0, language=language) == above


@pytest.mark.parametrize(
    ("estimate", "low", "high", "probability", "language", "expected"),
    [
        (3.0, 1.0, math.nan, 0.62, "en", "The model pays back in follow-up year 3 (95% CI: year 1 to later than "
                                         "year 5; paid back within 5 years in 62.0% of the bootstrap replications)."),
        (3.0, 1.0, math.nan, 0.62, "da", "Modellen er tilbagebetalt i opfølgningsår 3 (95 %-KI: år 1 til senere end "
                                         "år 5; tilbagebetalt inden for 5 år i 62,0\u00a0% af "
                                         "bootstrap-replikationerne)."),
        (2.0, 2.0, 2.0, math.nan, "en", "The model pays back in follow-up year 2 (95% CI: year 2)."),
        (math.nan, 4.0, math.nan, 0.1, "en", "The model does not pay back within the follow-up of 5 years (95% CI of "
                                             "the payback year: year 4 to later than year 5; paid back within 5 years "
                                             "in 10.0% of the bootstrap replications)."),
        (math.nan, math.nan, math.nan, 0.0, "da", "Modellen er ikke tilbagebetalt inden for opfølgningsperioden på 5 "
                                                  "år (95 %-KI for tilbagebetalingsåret: senere end år 5; "
                                                  "tilbagebetalt inden for 5 år i 0,0\u00a0% af "
                                                  "bootstrap-replikationerne)."),
    ],
)  # fmt: skip
def test_payback_sentence_carries_its_interval_and_later_than_the_horizon(
    estimate, low, high, probability, language, expected
):
    text = payback_sentence(estimate, low, high, horizon_years=5, probability=probability, language=language)
    assert text == expected


def _results(net: tuple[float, float, float], cumulative: tuple[float, float, float]) -> pd.DataFrame:
    rows = [
        ("net_cost_per_year", *net),
        ("measure_cost_change_per_year", -10000.0, -30000.0, 9000.0),
        ("cumulative_net_cost", *cumulative),
        ("payback_year", 3.0, 1.0, math.nan),
        ("net_saving_probability", 0.55, math.nan, math.nan),
        ("cumulative_saving_probability", 0.6, math.nan, math.nan),
        ("payback_probability", 0.6, math.nan, math.nan),
        ("discount_rate", 0.035, math.nan, math.nan),
        ("extra_fte_per_case_year", 0.021, -0.004, 0.03),
        ("staff_cost_per_year", 14700.0, -2800.0, 21000.0),
        ("cost_per_fte_year", 700000.0, math.nan, math.nan),
    ]
    return pd.DataFrame(rows, columns=["item", "estimate", "ci_low", "ci_high"]).assign(unit="", price_year=2019)


def _budget(net_first: tuple[float, float, float]) -> pd.DataFrame:
    rows = []
    for year in (1, 2):
        for item, values in (
            ("extra_fte", (14.0, 10.0, 18.0)),
            ("staff_cost", (9.6e6, 6.9e6, 12.9e6)),
            ("net_cost", net_first if year == 1 else (-1.6e6, -12.6e6, 10.5e6)),
            ("cumulative_net_cost", (3.2e6, -18.3e6, 24.2e6)),
        ):
            rows.append((year, item, *values, "DKK", 2019))
    return pd.DataFrame(rows, columns=["budget_year", "item", "estimate", "ci_low", "ci_high", "unit", "price_year"])


def _variables(economics: pd.DataFrame, budget: pd.DataFrame, language: str) -> dict[str, str]:
    costs = pd.DataFrame({"followup_year": [1, 2, 3, 4, 5], "item": "net_cost"})
    ceac = pd.DataFrame({"wtp_dkk_per_unit": [0.0, 1000.0], "probability_cost_effective": [0.55, 0.7], "n_draws": 499})
    reconciliation = pd.DataFrame(
        {"year": [0], "function": ["total"], "share_explained": [0.85], "accounts_dkk": [1.0], "micro_dkk": [0.85]}
    )
    words = read_sentences(ROOT / "reports", language, WORDS)
    return economics_variables(economics, costs, ceac, reconciliation, budget, sentences=words, language=language)


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_chapter_and_summary_sentences_follow_their_intervals(language):
    spanning = _variables(_results((-3000.0, -21000.0, 25000.0), (-23000.0, -124000.0, 99000.0)),
                          _budget((4.8e6, -8.5e6, 15.4e6)), language)  # fmt: skip
    keys = ("econ_staff_sentence", "econ_net_cost_sentence", "econ_measure_sentence", "econ_cumulative_sentence",
            "budget_net_cost_sentence", "budget_cumulative_sentence")  # fmt: skip
    for key in keys:
        assert UNDISTINGUISHED[language] in spanning[key], key
        for word in CONCLUSIONS[language]:
            assert word not in spanning[key], (key, word)
    share = {"da": "under nul i 55,0\u00a0% af bootstrap-replikationerne", "en": "below zero in 55.0% of the bootstrap"}
    assert share[language] in spanning["econ_net_cost_sentence"]
    assert spanning["econ_net_saving_probability"] == ("55,0\u00a0%" if language == "da" else "55.0%")
    later = {"da": "år 1 til senere end år 5", "en": "year 1 to later than year 5"}
    assert later[language] in spanning["econ_payback_sentence"]
    # the same results with intervals below zero: now the words say saving
    saving = _variables(_results((-3000.0, -6000.0, -500.0), (-23000.0, -40000.0, -1000.0)),
                        _budget((-4.8e6, -8.5e6, -1.4e6)), language)  # fmt: skip
    word = {"da": "sparer", "en": "saves"}[language]
    assert word in saving["econ_net_cost_sentence"] and word in saving["econ_cumulative_sentence"]
    assert ("nettobesparelse" if language == "da" else "net saving") in saving["budget_net_cost_sentence"]


def test_budget_sentences_state_each_budget_year_with_its_interval():
    text = budget_sentences(_budget((4.8e6, 1.2e6, 15.4e6)), 0.6, language="en")
    assert text["budget_staff_sentence"] == (
        "In the first budget year the model takes 14.0 extra FTE (95% CI: 10.0 to 18.0) at a staff cost of DKK 9.6 "
        "million (95% CI: DKK 6.9 to 12.9 million)."
    )
    assert text["budget_net_cost_sentence"] == (
        "Budget year 1 gives a net cost of DKK 4.8 million (95% CI: DKK 1.2 to 15.4 million); the net cost of budget "
        f"year 2 cannot be distinguished from zero: DKK {M}1.6 million (95% CI: DKK {M}12.6 to 10.5 million)."
    )
    assert text["budget_cumulative_sentence"] == (
        "The cumulative discounted net cost after 2 budget years cannot be distinguished from zero: DKK 3.2 million "
        f"(95% CI: DKK {M}18.3 to 24.2 million; below zero in 60.0% of the bootstrap replications)."
    )


def test_the_table_shows_the_shares_after_their_items():
    words = read_sentences(ROOT / "reports", "en", WORDS)
    results = _results((-3000.0, -21000.0, 25000.0), (1.0, 0.0, 2.0))
    table = economics_table(results, horizon_years=5, sentences=words, language="en")
    names = table.iloc[:, 0].tolist()
    assert names.index("Probability of a net cost below zero") == names.index("Net cost") + 1
    assert names.index("Probability of payback within the follow-up") == names.index("Payback year") + 1
    row = table.loc[table.iloc[:, 0] == "Probability of a net cost below zero"].iloc[0].tolist()
    assert row[1:] == ["share of bootstrap replications", "55.0%", "–"]


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_texts_use_the_sentences_not_the_sign_of_the_estimate(language):
    folder = ROOT / "reports" / "_text" / language
    for name in ("summary-economics.md", "economics.md"):
        text = (folder / name).read_text(encoding="utf-8")
        for key in ("econ_net_cost_kind", "econ_payback_text", "econ_measure_direction", "budget_net_cost_first"):
            assert key not in text, (name, key)
    summary = (folder / "summary-economics.md").read_text(encoding="utf-8")
    assert "{{< var econ_net_cost_sentence >}}" in summary and "{{< var econ_payback_sentence >}}" in summary
