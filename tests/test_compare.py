"""Tests of the matched comparison: child table, covariate expansion, matching and outputs."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.errors import ConfigError, LowOverlapWarning
from evaluation.steps import compare

# person, municipality, treated_unit, sex, age_at_entry, parent_income, origin
CHILDREN = [
    ("t1", 657, 1, 1, 5, 300.0, 1),
    ("t2", 657, 1, 1, 8, 250.0, 2),
    ("t3", 167, 1, 1, 11, 400.0, 1),
    ("t4", 167, 1, 1, 14, 350.0, 1),
    ("t5", 167, 1, 2, 10, 320.0, 1),  # the only girl: no control in her exact-matching cell
    ("c1", 101, 0, 1, 5, 300.0, 1),  # twins of t1..t4: same covariates, same score
    ("c2", 101, 0, 1, 8, 250.0, 2),
    ("c3", 751, 0, 1, 11, 400.0, 1),
    ("c4", 751, 0, 1, 14, 350.0, 1),
    ("c5", 461, 0, 1, 3, 200.0, 2),
    ("c6", 461, 0, 1, 16, 500.0, 1),
    ("c7", 461, 0, 1, 9, 280.0, 1),
]


def make_panel() -> pd.DataFrame:
    """Two years per child; the entry year (2013) carries the baseline covariates."""
    rows = []
    for pid, kom, tu, sex, age, income, origin in CHILDREN:
        for year in (2013, 2014):
            rows.append(
                {
                    "person_id": pid,
                    "municipality": kom,
                    "year": year,
                    "treated_unit": tu,
                    "sex": sex,
                    "origin": origin,
                    "entry_year": 2013,
                    "age_at_entry": age,
                    "entry_municipality": kom,
                    "entry_origin": origin,
                    "parent_basic_education": int(income < 300),
                    "parent_missing": 0,
                    "parent_income": income,
                    "parent_income_missing": 0,
                    "prior_notifications": 1,
                }
            )
    return pd.DataFrame(rows)


def config(**matching) -> dict:
    base = {
        "method": "nearest",
        "ratio": 1,
        "replace": True,
        "caliper": 0.2,
        "link": "logit",
        "covariates": ["age_at_entry", "parent_income", "origin"],
        "exact": ["sex"],
        "seed": 7,
    }
    base.update(matching)
    return {"matching": base}


def quiet(_msg):
    return None


def test_child_table_has_one_row_per_child_with_entry_values():
    children = compare.child_table(make_panel())
    assert len(children) == len(CHILDREN)
    assert children["person_id"].is_unique
    assert children.set_index("person_id").loc["t5", ["treat", "sex", "age_at_entry", "municipality"]].tolist() == [
        1,
        2,
        10,
        167,
    ]


def test_expand_covariates_dummies_and_constant_indicators():
    children = compare.child_table(make_panel())
    messages = []
    frame, cols = compare.expand_covariates(children, ["age_at_entry", "parent_income", "origin"], messages.append)
    # origin 2 occurs, origin 3 does not; parent_income_missing is constant 0
    assert cols == ["age_at_entry", "parent_income", "origin_2"]
    assert frame.set_index("person_id").loc[["t1", "t2"], "origin_2"].tolist() == [0, 1]
    assert any("origin_3" in m for m in messages) and any("parent_income_missing" in m for m in messages)


def test_missing_indicator_enters_when_it_varies():
    panel = make_panel()
    panel.loc[panel["person_id"] == "c6", "parent_income_missing"] = 1
    _, cols = compare.expand_covariates(compare.child_table(panel), ["parent_income"], quiet)
    assert cols == ["parent_income", "parent_income_missing"]


def test_unknown_covariate_is_a_config_error():
    with pytest.raises(ConfigError, match="shoe_size"):
        compare.expand_covariates(compare.child_table(make_panel()), ["shoe_size"], quiet)


def test_matching_seed_from_matching_else_synthetic():
    assert compare.matching_seed({"matching": {"seed": 3}, "synthetic": {"seed": 9}}) == 3
    assert compare.matching_seed({"matching": {}, "synthetic": {"seed": 9}}) == 9
    with pytest.raises(ConfigError, match="seed"):
        compare.matching_seed({"matching": {}})


def test_match_cohort_pairs_twins_and_counts_drops():
    messages = []
    with pytest.warns(LowOverlapWarning):  # 1 of 5 treated children (20 %) has no match
        res = compare.match_cohort(make_panel(), config(), messages.append)
    assert any("LowOverlap" in m or "unmatched" in m for m in messages)  # the warning is also logged
    matched = res.matched.set_index("person_id")
    assert list(res.matched.columns) == ["person_id", "municipality", "treat", "weight", "subclass"]
    # t1..t4 each find their twin at distance 0; t5 has no girl to match
    assert set(matched.index) == {"t1", "t2", "t3", "t4", "c1", "c2", "c3", "c4"}
    assert (matched.loc[["t1", "t2", "t3", "t4"], "weight"] == 1.0).all()
    assert matched.loc[["c1", "c2", "c3", "c4"], "weight"].sum() == pytest.approx(4.0)
    flow = res.flow_rows.set_index("step")
    assert flow.loc["matched", ["n_treated", "n_control"]].tolist() == [4, 4]
    assert flow.loc["dropped_no_exact_match", "n_treated"] == 1
    assert list(res.balance.columns[:5]) == ["covariate", "type", "smd_before", "smd_after", "var_ratio_before"]
    assert {"ecdf_mean_after", "ecdf_max_after", "smd_flag", "var_ratio_flag"} <= set(res.balance.columns)
    assert set(res.balance["covariate"]) >= {"age_at_entry", "parent_income", "origin_2"}
    # perfect twins: the matched sample is balanced exactly on every score covariate
    assert res.balance["smd_after"].abs().max() == pytest.approx(0.0, abs=1e-12)


def test_match_children_writes_files_and_appends_flow(tmp_path):
    panel_path = tmp_path / "panel.parquet"
    make_panel().to_parquet(panel_path, index=False)
    flow_in = tmp_path / "flow_cohort.csv"
    pd.DataFrame([("population", 5, 7)], columns=["step", "n_treated", "n_control"]).to_csv(flow_in, index=False)
    out = {name: tmp_path / "out" / name for name in ("matched.parquet", "balance.csv", "flow.csv")}
    copies = []
    for _ in range(2):
        with pytest.warns(LowOverlapWarning):
            compare.match_children(
                panel_path,
                config(),
                out["matched.parquet"],
                out["balance.csv"],
                flow_in,
                out["flow.csv"],
                progress=quiet,
            )
        copies.append(out["matched.parquet"].read_bytes())
    assert copies[0] == copies[1]
    flow = pd.read_csv(out["flow.csv"])
    assert flow["step"].tolist()[:2] == ["population", "matched"]
    assert pd.read_csv(out["balance.csv"]).columns.tolist() == compare.BALANCE_COLUMNS


def test_listed_missing_indicator_is_not_duplicated():
    panel = make_panel()
    panel.loc[panel["person_id"] == "c6", "parent_income_missing"] = 1
    _, cols = compare.expand_covariates(compare.child_table(panel), ["parent_income_missing", "parent_income"], quiet)
    assert cols == ["parent_income_missing", "parent_income"]


def test_without_replacement_pairs_share_a_subclass():
    with pytest.warns(LowOverlapWarning):
        res = compare.match_cohort(make_panel(), config(replace=False), quiet)
    sub = res.matched.set_index("person_id")["subclass"]
    for t, c in (("t1", "c1"), ("t2", "c2"), ("t3", "c3"), ("t4", "c4")):
        assert sub[t] == sub[c]
    assert sub.nunique() == 4


def test_publishable_flow_hides_small_counts_and_what_would_give_them_away():
    flow = pd.DataFrame(
        {
            "step": ["population", "baseline", "parent_missing", "matched", "dropped_no_match_within_caliper"],
            "n_treated": [9803, 1805, 0, 1804, 1],
            "n_control": [42053, 6713, 3, 1463, 0],
        }
    )
    out = compare.publishable_flow(flow, 5).set_index("step")
    # the single dropped child is hidden, and so is the matched count (1805 - matched would reveal it)
    assert pd.isna(out.loc["dropped_no_match_within_caliper", "n_treated"])
    assert pd.isna(out.loc["matched", "n_treated"])
    # a small count outside the dropped rows is hidden alone; zeros and large counts stay
    assert pd.isna(out.loc["parent_missing", "n_control"])
    assert out.loc["matched", "n_control"] == 1463
    assert out.loc["parent_missing", "n_treated"] == 0
    assert out.loc["population", "n_treated"] == 9803
