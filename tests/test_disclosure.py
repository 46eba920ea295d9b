"""Disclosure control: hand-computed suppression patterns, and for many random tables an attacker's linear
programme (written here independently of the package) cannot recover or narrow down any suppressed cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from evaluation.disclosure import (
    DisclosureError,
    SuppressionRecord,
    dominance,
    mask_figure_data,
    protect_counts,
    protect_magnitudes,
    protect_statistics,
    summary_table,
    write_summary,
)
from evaluation.errors import ConfigError, EvaluationError


def attacker_intervals(published: pd.DataFrame, row_totals: bool, column_totals: bool) -> dict:
    """What an attacker derives from a published table with totals (last row / column), by LP.

    Unknowns are the missing cells; equations are every row and column relation that the layout
    publishes; values are non-negative. Returns {(row, col): (lo, hi)}.
    """
    t = published.to_numpy(dtype=float, na_value=np.nan)
    unknown = [(i, j) for i in range(t.shape[0]) for j in range(t.shape[1]) if np.isnan(t[i, j])]
    pos = {cell: k for k, cell in enumerate(unknown)}
    eqs, rhs = [], []

    def relation(cells_plus, cell_total):
        row, b = np.zeros(len(unknown)), 0.0
        for cell, sign in [*((c, 1.0) for c in cells_plus), (cell_total, -1.0)]:
            if cell in pos:
                row[pos[cell]] += sign
            else:
                b -= sign * t[cell]
        if row.any():
            eqs.append(row)
            rhs.append(b)

    n_r, n_c = t.shape
    if row_totals:
        for i in range(n_r):
            relation([(i, j) for j in range(n_c - 1)], (i, n_c - 1))
    if column_totals:
        for j in range(n_c):
            relation([(i, j) for i in range(n_r - 1)], (n_r - 1, j))
    out = {}
    for cell, k in pos.items():
        c = np.zeros(len(unknown))
        c[k] = 1
        a, b = (np.array(eqs), np.array(rhs)) if eqs else (None, None)
        lo = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert lo.status == 0
        out[cell] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def true_extended(values: np.ndarray, row_totals: bool, column_totals: bool) -> np.ndarray:
    t = values.astype(float)
    if row_totals:
        t = np.column_stack([t, t.sum(axis=1)])
    if column_totals:
        t = np.vstack([t, t.sum(axis=0)])
    return t


def test_min_cell_below_three_is_refused():
    counts = pd.DataFrame([[1, 2], [3, 4]])
    with pytest.raises(ConfigError, match="below 3"):
        protect_counts(counts, name="t", min_cell=2)
    with pytest.raises(ConfigError):
        protect_counts(counts, name="t", min_cell=True)
    assert protect_counts(counts, name="t", min_cell=3).record.min_cell == 3


def test_two_by_two_by_hand():
    # The 1 must be hidden; its row, column and the opposite corner are the only complements
    # that leave the row, column and grand totals published.
    counts = pd.DataFrame([[1, 10], [10, 10]], index=["a", "b"], columns=["x", "y"])
    res = protect_counts(counts, name="tbl-test", min_cell=5, language="en")
    assert res.status.loc["a", "x"] == "primary"
    assert [res.status.loc[r, c] for r, c in [("a", "y"), ("b", "x"), ("b", "y")]] == ["secondary"] * 3
    assert list(res.table.loc["Total"]) == [11, 20, 31]
    assert list(res.table["Total"]) == [11, 20, 31]
    assert res.table.loc["a", "x"] is pd.NA
    # moving t persons around the rectangle keeps the margins: a in [0, 1 + min(10, 10)]
    assert res.lower.loc["a", "x"] == pytest.approx(0) and res.upper.loc["a", "x"] == pytest.approx(11)
    assert res.record.suppressed == {"primary": 1, "secondary": 3}
    assert res.record.cells_total == 9


def test_zero_cells_are_published():
    counts = pd.DataFrame([[0, 0], [2, 40], [3, 40]])
    res = protect_counts(counts, name="t", min_cell=5)
    assert list(res.table.iloc[0]) == [0, 0, 0]  # zero persons: nothing to disclose
    assert list(res.status.iloc[1]) == ["primary", "secondary", ""]
    assert list(res.status.iloc[2]) == ["primary", "secondary", ""]
    assert list(res.table.iloc[3]) == [5, 80, 85]


def test_a_small_total_is_itself_hidden():
    counts = pd.DataFrame([[2, 1], [40, 40]])
    res = protect_counts(counts, name="t", min_cell=5)
    assert res.status.iloc[0, 2] == "primary"  # the row total 3 rests on 3 persons
    assert res.table.iloc[0].isna().all()


def test_a_series_is_protected_with_its_total():
    counts = pd.Series([40, 2, 30, 25], index=list("abcd"), name="n")
    res = protect_counts(counts, name="t", min_cell=5)
    assert list(res.table.columns) == ["n"]
    assert res.status.loc["b", "n"] == "primary"
    assert res.status.loc["d", "n"] == "secondary"  # the smallest other cell
    assert res.table.loc["I alt", "n"] == 97
    assert res.lower.loc["b", "n"] == 0 and res.upper.loc["b", "n"] == 27


@pytest.mark.parametrize("bad", [[[1, -1]], [[1.5, 2]], [[np.nan, 2]]])
def test_counts_must_be_whole_and_non_negative(bad):
    with pytest.raises(DisclosureError):
        protect_counts(pd.DataFrame(bad), name="t")


LAYOUTS = [(True, True), (True, False), (False, True)]


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_no_suppressed_cell_is_recoverable(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(25):
        min_cell = int(rng.choice([3, 5, 10]))
        n_rows, n_cols = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        pool = np.array([0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 20, 45, 100])
        values = rng.choice(pool, size=(n_rows, n_cols), p=None)
        row_totals, column_totals = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
        res = protect_counts(
            pd.DataFrame(values), name="t", min_cell=min_cell, row_totals=row_totals, column_totals=column_totals
        )
        truth = true_extended(values, row_totals, column_totals)
        shown = res.table.to_numpy(dtype=float, na_value=np.nan)
        published = ~np.isnan(shown)
        # no published cell rests on 1..min_cell-1 persons, and published cells are the true values
        assert not np.any(published & (truth > 0) & (truth < min_cell))
        np.testing.assert_array_equal(shown[published], truth[published])
        # every hidden cell: the attacker's interval contains the truth and is at least min_cell wide
        for (i, j), (lo, hi) in attacker_intervals(res.table.astype("Float64"), row_totals, column_totals).items():
            assert lo - 1e-6 <= truth[i, j] <= hi + 1e-6
            assert hi - lo >= min_cell - 1e-6, (values, (i, j), lo, hi)
            checked += 1
        status = res.status.to_numpy()
        assert res.record.suppressed.get("primary", 0) == int((status == "primary").sum())
        assert res.record.suppressed.get("secondary", 0) == int((status == "secondary").sum())
        assert res.record.total == int((~published).sum())
    assert checked > 50  # the sample exercised suppression, not only safe tables


def test_protect_statistics_few_persons_and_extremes():
    frame = pd.DataFrame({"group": ["a", "b", "c"], "mean_sdq": [10.0, 12.5, 14.0], "n": [3, 5, 40]})
    out, rec = protect_statistics(frame, ["mean_sdq"], n="n", statistic="mean", name="tbl", min_cell=5)
    assert np.isnan(out.loc[0, "mean_sdq"]) and out.loc[1, "mean_sdq"] == 12.5 and out.loc[2, "mean_sdq"] == 14.0
    assert rec.suppressed == {"few_persons": 1}
    assert frame.loc[0, "mean_sdq"] == 10.0  # input untouched
    out, rec = protect_statistics(frame, ["mean_sdq"], n="n", statistic="max", name="tbl", min_cell=5)
    assert out["mean_sdq"].isna().all() and rec.suppressed == {"extreme_value": 3}
    with pytest.raises(DisclosureError, match="statistic must be one of"):
        protect_statistics(frame, ["mean_sdq"], n="n", statistic="mode", name="tbl")
    with pytest.raises(DisclosureError, match="not found"):
        protect_statistics(frame, ["nope"], n="n", statistic="mean", name="tbl")


def test_dominance_rule_by_hand():
    groups = {
        "one_dominates": [60, 10, 10, 10, 10],  # top 1 = 60 % > 50 %
        "balanced": [40, 40, 10, 5, 5],  # top 1 = 40 %, top 2 = 80 %: safe
        "two_dominate": [50, 40, 5, 3, 2],  # top 2 = 90 % > 85 %
        "few": [10, 10, 10, 10],  # 4 contributors < 5
        "edge": [50, 35, 5, 5, 5],  # top 1 = 50 %, top 2 = 85 %: not above either limit
    }
    contributions = pd.DataFrame(
        [(g, v) for g, values in groups.items() for v in values], columns=["municipality", "cost"]
    )
    out = dominance(contributions, by=["municipality"], value="cost", min_cell=5).set_index("municipality")
    assert out.loc["one_dominates", "rule"] == "dominance" and out.loc["one_dominates", "top1_share"] == 0.6
    assert out.loc["balanced", "rule"] == "" and not out.loc["balanced", "sensitive"]
    assert out.loc["two_dominate", "rule"] == "dominance" and out.loc["two_dominate", "top2_share"] == pytest.approx(
        0.9
    )
    assert out.loc["few", "rule"] == "primary"
    assert out.loc["edge", "rule"] == ""
    assert out.loc["few", "total"] == 40 and out.loc["few", "n"] == 4
    with pytest.raises(DisclosureError, match="non-negative"):
        dominance(pd.DataFrame({"g": [1], "cost": [-5.0]}), by=["g"], value="cost")


def test_magnitude_table_hides_a_dominated_cell_and_its_complements():
    totals = pd.DataFrame([[1000.0, 200.0], [300.0, 400.0]])
    sensitive = pd.DataFrame([[True, False], [False, False]])
    res = protect_magnitudes(totals, sensitive, name="tbl-cost", min_cell=5, protection_share=0.5)
    assert res.status.iloc[0, 0] == "primary"
    assert res.record.suppressed["dominance"] == 1 and res.record.suppressed["secondary"] == 3
    intervals = attacker_intervals(res.table, True, True)
    assert len(intervals) == 4
    assert all(hi - lo >= 500 - 1e-6 for lo, hi in intervals.values())


def test_figure_points_below_threshold_are_removed_with_a_note():
    frame = pd.DataFrame({"year": [2010, 2011, 2012, 2013], "mean": [1.0, 2.0, 3.0, 4.0], "n": [0, 2, 5, 4]})
    kept, note, rec = mask_figure_data(frame, n="n", name="fig-trends", min_cell=5, language="en")
    assert list(kept["year"]) == [2010, 2012]
    assert note == "2 cells with fewer than 5 persons are not shown."
    assert rec.suppressed == {"figure": 2}
    _, note_da, _ = mask_figure_data(frame.iloc[:2], n="n", name="fig", min_cell=5, language="da")
    assert note_da == "1 celle med færre end 5 personer er ikke vist."
    _, none, _ = mask_figure_data(frame.iloc[[2]], n="n", name="fig", min_cell=5)
    assert none == ""


def test_summary_merges_tables_and_writes_csv(tmp_path):
    a = SuppressionRecord("tbl-a", 5, cells_total=9, suppressed={"primary": 1, "secondary": 3})
    b = SuppressionRecord("tbl-a", 5, cells_total=3, suppressed={"few_persons": 2})
    c = SuppressionRecord("fig-b", 5, cells_total=4, suppressed={"figure": 1})
    table = write_summary([a, b, c], tmp_path / "disclosure" / "summary.csv")
    read = pd.read_csv(tmp_path / "disclosure" / "summary.csv", keep_default_na=False)
    assert read.equals(table)
    assert list(read.columns) == ["table", "rule", "cells_suppressed", "cells_total", "min_cell"]
    assert list(read["table"].unique()) == ["fig-b", "tbl-a"]
    got = read.set_index(["table", "rule"])["cells_suppressed"]
    assert got[("tbl-a", "primary")] == 1 and got[("tbl-a", "few_persons")] == 2 and got[("fig-b", "figure")] == 1
    assert got[("tbl-a", "dominance")] == 0
    assert read.set_index(["table", "rule"]).loc[("tbl-a", "primary"), "cells_total"] == 12
    with pytest.raises(EvaluationError, match="unknown suppression rule"):
        a.add("guess", 1)
    assert summary_table([]).empty


def test_the_threshold_rule_marks_counts_of_one_to_min_cell_minus_one_only() -> None:
    from evaluation.disclosure import below_threshold

    counts = np.array([0, 1, 4, 5, 12, np.nan])
    assert below_threshold(counts, 5).tolist() == [False, True, True, False, False, False]
    series = pd.Series([0, 2, 3, None, 7], dtype="Int64", index=list("abcde"))
    out = below_threshold(series, 3)
    assert out.tolist() == [False, True, False, False, False] and list(out.index) == list("abcde")
    assert below_threshold(pd.Series(["0", "2", "", "9"]), 5).tolist() == [False, True, False, False]


def test_every_step_that_blanks_counts_publishes_zeros_and_blanks_small_counts() -> None:
    """The threshold rule is the same wherever a step suppresses counts of persons (zeros are published)."""
    from evaluation.steps.compare import publishable_flow
    from evaluation.steps.estimate import publishable_estimates
    from evaluation.steps.staggered.run import suppress_counts

    flow = pd.DataFrame(
        {"step": ["cohort", "matched"], "description": ["", ""], "n_treated": [0, 3], "n_control": [9, 0]}
    )
    out = publishable_flow(flow, 5)
    assert out["n_treated"].tolist()[0] == 0 and pd.isna(out["n_treated"].tolist()[1])
    assert out["n_control"].tolist() == [9, 0]
    assert suppress_counts(pd.DataFrame({"n": [0, 3, 9]}), 5)["n"].isna().tolist() == [False, True, False]
    estimates = pd.DataFrame(
        {
            "outcome": ["sdq", "sdq"],
            "n_treated": [0, 3],
            "n_control": [8, 8],
            "estimate": [1.0, 2.0],
            "se": [0.1, 0.1],
            "ci_low": [0.8, 1.8],
            "ci_high": [1.2, 2.2],
            "p_value": [0.01, 0.01],
        }
    )
    out = publishable_estimates(estimates, 5)
    assert out["n_treated"].iloc[0] == 0 and pd.isna(out["n_treated"].iloc[1])
    assert out["estimate"].isna().all()  # no estimate rests on fewer than min_cell children, zero included
