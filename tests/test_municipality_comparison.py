"""The pre-reform features and the balance table of the comparison-municipality step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.steps.municipality_comparison import feature_balance
from evaluation.steps.municipality_panel import parents_structure


def test_parents_structure_by_hand():
    # municipality 1: child a (parents basic + upper secondary -> best is 20), child b (mother basic only)
    # municipality 2: child c (father's education unknown, mother basic) -> basic
    population = pd.DataFrame(
        {
            "person_id": ["a", "b", "c"],
            "year": [2011, 2011, 2011],
            "mother_id": ["ma", "mb", "mc"],
            "father_id": ["fa", None, "fc"],
        }
    )
    parents = pd.DataFrame(
        {
            "person_id": ["ma", "fa", "mb", "mc", "fc"],
            "year": [2011] * 5,
            "education_level": [10, 20, 10, 10, 99],
            "income": [200_000.0, 400_000.0, 150_000.0, 100_000.0, 300_000.0],
        }
    )
    children = pd.DataFrame({"person_id": ["a", "b", "c"], "year": [2011] * 3, "municipality": [1, 1, 2]})
    out = parents_structure(population, parents, children)
    assert out.loc[(1, 2011), "parent_basic_education_share"] == pytest.approx(0.5)  # a: best 20; b: basic
    assert out.loc[(2, 2011), "parent_basic_education_share"] == pytest.approx(1.0)  # unknown ignored
    # mean over children of the parents' mean income, in DKK 1,000: a 300, b 150 -> 225; c 200
    assert out.loc[(1, 2011), "parent_income"] == pytest.approx(225.0)
    assert out.loc[(2, 2011), "parent_income"] == pytest.approx(200.0)


def test_feature_balance_by_hand():
    features = pd.DataFrame({"x": [1.0, 3.0, 2.0, 6.0, 10.0]}, index=[10, 20, 30, 40, 50])
    out = feature_balance(features, treated=[10, 20], selected=[30, 30], candidates=[30, 40, 50]).set_index("feature")
    sd = np.std([1.0, 3.0, 2.0, 6.0, 10.0], ddof=1)
    assert out.loc["x", "treated"] == 2.0 and out.loc["x", "selected"] == 2.0 and out.loc["x", "candidates"] == 6.0
    assert out.loc["x", "smd_selected"] == 0.0
    assert out.loc["x", "smd_candidates"] == pytest.approx((2.0 - 6.0) / sd)


def test_report_tables_of_the_comparison_municipalities():
    from evaluation.report.municipality_parts import (
        WORDS,
        municipality_balance_table,
        municipality_table,
        municipality_variables,
    )
    from evaluation.report.sentences import read_sentences
    from test_report_build import REPORTS_SOURCE

    words = {language: read_sentences(REPORTS_SOURCE, language, WORDS) for language in ("da", "en")}

    distances = pd.DataFrame(
        {
            "treated": [657, 657, 657, 167, 167, 167],
            "treated_name": ["Herning"] * 3 + ["Hvidovre"] * 3,
            "comparison": [461, 740, 101, 101, 461, 740],
            "comparison_name": ["Odense", "Silkeborg", "København", "København", "Odense", "Silkeborg"],
            "distance": [1.0, 2.0, 9.0, 0.5, 1.5, 7.0],
            "rank": [1, 2, 3, 1, 2, 3],
            "selected": [True, True, False, True, True, False],
        }
    )
    table = municipality_table(distances, sentences=words["da"], language="da")
    assert table.iloc[:, 0].tolist() == ["Hvidovre", "Herning"]  # by code
    assert table.iloc[1, 1] == "Odense, Silkeborg" and table.iloc[1, 2] == "1,50"  # nearest first; Danish decimals
    balance = pd.DataFrame(
        {"feature": ["parent_income"], "treated": [350.4], "selected": [340.0], "candidates": [330.0],
         "smd_selected": [0.25], "smd_candidates": [-1.5]}
    )  # fmt: skip
    row = municipality_balance_table(balance, sentences=words["en"], language="en").iloc[0].tolist()
    assert row == ["Parents' mean income (DKK 1,000)", "350", "340", "330", "+0.25", "\u22121.50"]  # typographic minus
    values = municipality_variables(distances, balance, language="en")
    assert values == {"mun_k": "2", "mun_n_adopters": "2", "mun_n_candidates": "3", "mun_max_smd": "0.25"}
