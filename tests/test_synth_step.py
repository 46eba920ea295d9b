"""Synthetic control step: municipality-year outcomes by hand, planted effects recovered by SC and synthetic DiD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.errors import EvaluationError
from evaluation.methods.synth import synthetic_did
from evaluation.methods.synth.sdid_solver import fit_weights, sum_normalize
from evaluation.steps.fewclusters.synth_step import (
    SDID_COLUMNS,
    SYNTH_DEFAULTS,
    TABLE_COLUMNS,
    _placebo_average,
    first_adopter,
    municipality_outcomes,
    sdid_table,
    synth_tables,
    write_synth,
)
from report_fixtures import write_result

PRICES = {
    "price_year": 2020,
    "items": {
        "network": {"dkk_per_year": 183000},
        "foster": {"dkk_per_year": 366000},
        "institution": {"dkk_per_year": 732000},
        "residential": {"dkk_per_year": 900000},
        "other": {"dkk_per_year": 500000},
        "preventive": {"dkk_per_year": 36600},
    },
}
D = pd.Timestamp


def _extracts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    population = pd.DataFrame(
        {
            "year": [2020] * 5,
            "person_id": ["A", "B", "C", "D", "E"],
            # ages on 1 January 2020: 9, 14, 20 (not a child), 0, 8
            "birth_date": [D("2010-06-01"), D("2005-03-03"), D("2000-01-01"), D("2019-12-31"), D("2012-01-01")],
            "municipality": [1, 1, 1, 1, 2],
        }
    )
    placements = pd.DataFrame(
        {
            "person_id": ["A", "B", "B", "C"],
            "municipality": [1, 1, 1, 1],
            "placement_type": [21, 9, 1, 21],  # foster, institution, network, foster
            "start_date": [D("2020-01-01"), D("2020-01-01"), D("2020-07-01"), D("2020-01-01")],
            "end_date": [D("2020-12-31"), D("2020-06-30"), D("2020-12-31"), D("2020-12-31")],
        }
    )
    preventive = pd.DataFrame(
        {
            "person_id": ["D"],
            "municipality": [1],
            "measure": [2],
            "start_date": [D("2020-01-01")],
            "end_date": [D("2020-12-31")],
        }
    )
    return population, placements, preventive


def test_municipality_outcomes_by_hand():
    notes: list[str] = []
    out = municipality_outcomes(*_extracts(), PRICES, min_cell=5, progress=notes.append).set_index("municipality")
    # 2020 has 366 days. A: 366000; B: 182/366*732000 + 184/366*183000 = 364000 + 92000; C (adult): 366000;
    # D preventive: 36600. Total 1,224,600 over the 3 children A, B, D.
    assert out.loc[1, "children"] == 3
    assert out.loc[1, "spending_per_child"] == pytest.approx(1224600 / 3, rel=1e-12)
    # placed children of child age: A and B (C is 20)
    assert out.loc[1, "placed"] == 2
    assert out.loc[1, "placement_rate"] == pytest.approx(1000 * 2 / 3, rel=1e-12)
    # A all days in foster care (1), B 184 of 366 placement days in network care
    assert out.loc[1, "family_care_share"] == pytest.approx((1 + 184 / 366) / 2, rel=1e-12)
    assert out.loc[2, "children"] == 1
    assert out.loc[2, "spending_per_child"] == 0
    assert out.loc[2, "placement_rate"] == 0
    assert np.isnan(out.loc[2, "family_care_share"])
    assert len(notes) == 1 and "1/2020" in notes[0] and "2/2020" in notes[0]


def _panel() -> tuple[pd.DataFrame, dict[int, float]]:
    """Six donors with random paths; 657 = 0.3 d1 + 0.7 d2 + 5 from 2013; 167 = 0.5 d3 + 0.5 d4 + 2 from 2015."""
    rng = np.random.default_rng(20240505)
    years = np.arange(2005, 2019)
    donors = {m: 10 + rng.normal(0, 1, len(years)).cumsum() for m in (101, 102, 103, 104, 105, 106)}
    herning = 0.3 * donors[101] + 0.7 * donors[102] + np.where(years >= 2013, 5.0, 0.0)
    hvidovre = 0.5 * donors[103] + 0.5 * donors[104] + np.where(years >= 2015, 2.0, 0.0)
    units = {**donors, 657: herning, 167: hvidovre}
    rows = [
        {"municipality": m, "year": int(y), "spending_per_child": v, "placement_rate": 2 * v}
        for m, path in units.items()
        for y, v in zip(years, path, strict=True)
    ]
    return pd.DataFrame(rows), {657: 5.0, 167: 2.0}


def test_planted_jump_recovered():
    panel, jumps = _panel()
    table, average, gaps = synth_tables(
        panel, {657: 2013, 167: 2015, 999: 2015}, outcomes=["spending_per_child", "placement_rate"]
    )
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == 4  # 999 is not in the panel
    for _, row in table.iterrows():
        scale = 2 if row["outcome"] == "placement_rate" else 1
        assert row["att"] == pytest.approx(scale * jumps[row["adopter"]], abs=1e-3)
        assert row["pre_rmspe"] < 1e-3
    herning = table[table["adopter"] == 657]
    # exact pre-period fit: Herning's RMSPE ratio is the largest of the 7 units
    assert herning["p_value"].tolist() == pytest.approx([1 / 7, 1 / 7])
    assert table.loc[table["adopter"] == 167, "p_value"].isna().all()
    avg = average.set_index("outcome")["att_average"]
    assert avg["spending_per_child"] == pytest.approx(3.5, abs=1e-3)
    assert avg["placement_rate"] == pytest.approx(7.0, abs=2e-3)
    assert list(gaps.columns) == ["outcome", "unit", "role", "year", "gap"]
    one = gaps[gaps["outcome"] == "spending_per_child"]
    assert (one["role"] == "treated").sum() == 14 and (one["role"] == "placebo").sum() == 6 * 14
    assert set(one.loc[one["role"] == "placebo", "unit"]) == {101, 102, 103, 104, 105, 106}


def test_placebo_inference_is_for_the_first_adopter_of_the_study_not_herning_by_code():
    panel, _ = _panel()
    table, _, gaps = synth_tables(panel, {167: 2015}, outcomes=["spending_per_child"])  # Hvidovre alone
    assert table.loc[table["adopter"] == 167, "p_value"].notna().all()
    assert set(gaps.loc[gaps["role"] == "treated", "unit"]) == {167}
    assert first_adopter({657: 2013, 167: 2015}) == 657 and first_adopter({167: 2015, 101: 2015}) == 101


def test_unknown_outcome_rejected():
    panel, _ = _panel()
    with pytest.raises(EvaluationError, match="unknown outcome"):
        synth_tables(panel, {657: 2013}, outcomes=["spending"])


@pytest.mark.parametrize("synth", [{"activate": False}, {"activate": False, "sdid": {"activate": True}}])
def test_inactive_writes_empty_files(tmp_path, synth):
    paths = [tmp_path / "synth" / f"{n}.csv" for n in ("table", "average", "gaps")]
    write_synth(tmp_path, {"synth": synth}, *paths, sdid_path=tmp_path / "synth" / "sdid.csv")
    table = pd.read_csv(paths[0])
    assert table.empty and list(table.columns) == list(TABLE_COLUMNS)
    assert pd.read_csv(paths[2]).columns.tolist() == ["outcome", "unit", "role", "year", "gap"]
    sdid = pd.read_csv(tmp_path / "synth" / "sdid.csv")
    assert sdid.empty and list(sdid.columns) == list(SDID_COLUMNS)


def test_defaults_are_the_schemas(root):
    from evaluation.config import load_config

    # config/config.yaml sets no synth key: every value is the schema's default
    assert load_config(root / "config" / "config.yaml")["synth"] == SYNTH_DEFAULTS


# --- synthetic difference-in-differences ----------------------------------------------------------------------

YEARS = np.arange(2010, 2024)
EFFECTS = {657: (2013, -4.0), 167: (2015, 1.5), 510: (2015, 2.5)}


def _parallel_panel(noise: float = 0.05, seed: int = 7) -> pd.DataFrame:
    """Twenty never-adopters and three adopters: unit level + common year path + noise, plus the effect."""
    rng = np.random.default_rng(seed)
    year_path = rng.normal(0, 1, len(YEARS)).cumsum()
    rows = []
    for m in [*range(101, 121), *EFFECTS]:
        year, effect = EFFECTS.get(m, (9999, 0.0))
        y = 20 + rng.normal(0, 3) + year_path + rng.normal(0, noise, len(YEARS)) + np.where(YEARS >= year, effect, 0.0)
        rows += [{"municipality": m, "year": int(t), "placement_rate": v, "spending_per_child": 100 * v}
                 for t, v in zip(YEARS, y, strict=True)]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def sdid_rows() -> pd.DataFrame:
    adoptions = {m: year for m, (year, _) in EFFECTS.items()} | {999: 2015, 860: 2030}
    return sdid_table(_parallel_panel(), adoptions, outcomes=["placement_rate", "spending_per_child"],
                      replications=50, seed=3, level=0.9)  # fmt: skip


def test_sdid_recovers_additive_effects(sdid_rows):
    assert list(sdid_rows.columns) == list(SDID_COLUMNS)
    rows = sdid_rows[sdid_rows["municipality"] != "average"]
    # 999 is not in the panel, 860 neither (and adopts after the last year)
    assert sorted(rows["municipality"].unique()) == [167, 510, 657]
    for _, row in rows.iterrows():
        year, effect = EFFECTS[row["municipality"]]
        scale = 100 if row["outcome"] == "spending_per_child" else 1
        # parallel trends and noise of SD 0.05: the estimate is within a few noise SDs of the effect
        assert row["att"] == pytest.approx(scale * effect, abs=scale * 0.1)
        assert row["ci_low"] < row["att"] < row["ci_high"] and row["p_value"] < 1e-6
        assert row["adoption_year"] == year
        assert (row["pre_years"], row["post_years"]) == (year - 2010, 2024 - year)
        assert (row["n_controls"], row["adopters"], row["level"]) == (20, 1, 0.9)
        assert 0 < row["se"] < scale * 0.2


def test_sdid_average_is_the_mean_of_the_adopters(sdid_rows):
    for outcome, part in sdid_rows.groupby("outcome"):
        adopters = part[part["municipality"] != "average"]
        average = part[part["municipality"] == "average"]
        assert len(average) == 1 and part["municipality"].iloc[-1] == "average"
        row = average.iloc[0]
        assert row["att"] == pytest.approx(adopters["att"].mean(), rel=1e-12)
        assert (row["adopters"], row["n_controls"]) == (3, 20)
        assert np.isnan(row["adoption_year"]) and np.isnan(row["pre_years"]) and np.isnan(row["post_years"])
        z = 1.6448536269514722  # 90 % interval
        assert row["ci_high"] - row["att"] == pytest.approx(z * row["se"], rel=1e-9)
        # the three adopters' errors share the never-adopters: the placebo SE of the mean lies between the
        # independent-errors SE and the mean of the adopters' SEs
        assert np.sqrt((adopters["se"] ** 2).sum()) / 3 * 0.5 < row["se"] < adopters["se"].mean() * 1.5, outcome


def test_sdid_is_seeded_and_ordered():
    panel = _parallel_panel()
    one = sdid_table(panel, {657: 2013, 167: 2015}, outcomes=["placement_rate"], replications=20, seed=11)
    again = sdid_table(panel, {167: 2015, 657: 2013}, outcomes=["placement_rate"], replications=20, seed=11)
    pd.testing.assert_frame_equal(one, again)
    assert one["municipality"].tolist() == [657, 167, "average"]
    other = sdid_table(panel, {657: 2013, 167: 2015}, outcomes=["placement_rate"], replications=20, seed=12)
    assert other["att"].tolist() == one["att"].tolist() and other["se"].tolist() != one["se"].tolist()


def test_placebo_of_one_adopter_is_synthdid_placebo():
    """With one adopter the placebo of the mean is AAHIW 2021 Algorithm 4, as synthetic_did draws it."""
    panel = _parallel_panel(noise=0.5)
    wide = panel.pivot(index="municipality", columns="year", values="placement_rate")
    long = wide.loc[[*range(101, 121), 657]].stack().rename("y").reset_index()
    long["treated"] = (long["municipality"] == 657).astype(int)
    fit = synthetic_did(long, "municipality", "year", "y", "treated", 2013, replications=30,
                        seed=np.random.default_rng(5))  # fmt: skip
    draws = _placebo_average(wide.loc[list(range(101, 121))], [(fit, 2013)], 30, np.random.default_rng(5))
    np.testing.assert_allclose(draws, fit.replicate_estimates, rtol=0, atol=1e-12)


def test_placebo_of_adopters_of_one_year_solved_together():
    """Two adopters of 2015 share a batch; each column is its own stand-in's refit."""
    panel = _parallel_panel(noise=0.5)
    wide = panel.pivot(index="municipality", columns="year", values="placement_rate")
    controls = wide.loc[list(range(101, 121))]
    fits = []
    for m in (167, 510):
        long = wide.loc[[*range(101, 121), m]].stack().rename("y").reset_index()
        long["treated"] = (long["municipality"] == m).astype(int)
        fits.append((synthetic_did(long, "municipality", "year", "y", "treated", 2015, replications=2, seed=0), 2015))
    draws = _placebo_average(controls, fits, 10, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    perms = np.stack([rng.permutation(20) for _ in range(10)])
    y = controls.to_numpy()
    expected = np.zeros(10)
    for j, (fit, _) in enumerate(fits):
        for r, perm in enumerate(perms):
            donors, stand_in = perm[:18], perm[18 + j]
            expected[r] += fit_weights(
                y[donors][None], y[stand_in][None], 5, zeta_omega=fit.zeta_omega, zeta_lambda=fit.zeta_lambda,
                min_decrease=1e-5 * fit.noise_level, omega0=sum_normalize(fit.unit_weights.to_numpy()[donors])[None],
                lambda0=fit.time_weights.to_numpy()[None],
            )[0][0] / 2  # fmt: skip
    np.testing.assert_allclose(draws, expected, rtol=0, atol=1e-10)


def test_sdid_balances_the_panel_and_skips_short_pre_periods():
    panel = _parallel_panel()
    panel.loc[(panel["municipality"] == 101) & (panel["year"] == 2016), "placement_rate"] = np.nan
    notes: list[str] = []
    out = sdid_table(panel, {657: 2013, 167: 2011, 510: 2015}, outcomes=["placement_rate"], replications=10, seed=1,
                     progress=notes.append)  # fmt: skip
    assert "1 left out with a year without a value" in " ".join(notes)
    # 167 adopts in the data's second year: one pre-period is too few for the noise level
    assert any("167" in n and "not fitted" in n for n in notes)
    # 101 has a year without a value: 19 never-adopters; 167 is not fitted and not a control either
    assert out["municipality"].tolist() == [657, 510, "average"]
    assert out["n_controls"].tolist() == [19, 19, 19]
    assert out["adopters"].tolist() == [1, 1, 2]


SDID_FIXTURE = {  # outcome -> (Herning's ATT, SE), (the average's ATT, SE)
    "spending_per_child": ((-11000.0, 2000.0), (-8000.0, 3000.0)),
    "placement_rate": ((-2.0, 2.5), (-1.5, 1.0)),
    "family_care_share": ((0.1, 0.05), (0.04, 0.03)),
}


def _synth_fixture(results, *, sdid: bool = True) -> None:
    """Hand-made results/synth files: Herning and one other adopter, two placebo donors; SDID at 95 %."""
    folder = results / "synth"
    folder.mkdir()
    rows = []
    for outcome, att in (("spending_per_child", -12345.0), ("placement_rate", -2.5), ("family_care_share", 0.125)):
        rows.append((657, outcome, 2013, att, 0.5, 3.0, 6.0, 0.25))
        rows.append((167, outcome, 2015, att / 2, 1.0, 2.0, 2.0, None))
    pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).pipe(write_result, folder / "table.csv")
    average = pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).groupby("outcome", sort=False)["att"].mean()
    pd.DataFrame({"outcome": average.index, "att_average": average.to_numpy(), "n_adopters": 2}).pipe(
        write_result, folder / "average.csv"
    )
    gaps = [
        (outcome, unit, role, year, (1.0 if role == "treated" else 0.2) * (year - 2012))
        for outcome in ("spending_per_child", "placement_rate", "family_care_share")
        for unit, role in ((657, "treated"), (101, "placebo"), (102, "placebo"))
        for year in range(2010, 2016)
    ]
    pd.DataFrame(gaps, columns=["outcome", "unit", "role", "year", "gap"]).pipe(write_result, folder / "gaps.csv")
    if not sdid:
        return
    z = 1.959963984540054
    sdid_rows = []
    for outcome, ((att, se), (mean, mean_se)) in SDID_FIXTURE.items():
        for unit, year, a, e, pre, post, k in ((657, 2013, att, se, 3, 11, 1), (167, 2015, att, se, 5, 9, 1),
                                               ("average", None, mean, mean_se, None, None, 2)):  # fmt: skip
            p = 2 * stats.norm.sf(abs(a / e))
            sdid_rows.append((outcome, unit, year, a, e, a - z * e, a + z * e, p, 0.95, pre, post, 81, k))
    pd.DataFrame(sdid_rows, columns=list(SDID_COLUMNS)).pipe(write_result, folder / "sdid.csv")


@pytest.mark.parametrize(
    ("language", "cells"),
    [
        ("da", ["Udgift pr. barn 0-17 år (kr.)", "Herning", "\u221212.345", "\u221211.000",
                "\u221214.920 til \u22127.080", "<0,001", "81", "Gns. af 2 indsatskommuner", "\u22129.259",
                "\u22128.000", "\u221213.880 til \u22122.120", "0,008"]),
        ("en", ["Spending per child aged 0-17 (DKK)", "Herning", "\u221212,345", "\u221211,000",
                "\u221214,920 to \u22127,080", "<0.001", "81", "Mean of 2 adopters", "\u22129,259", "\u22128,000",
                "\u221213,880 to \u22122,120", "0.008"]),
    ],
)  # fmt: skip
def test_sdid_report_table(tmp_path, language, cells):
    from evaluation.report.inputs import load_results
    from evaluation.report.sentences import read_sentences
    from evaluation.report.synth_parts import WORDS, sdid_table, sdid_variables
    from test_report_build import REPORTS_SOURCE, write_results

    results = write_results(tmp_path / "results")
    _synth_fixture(results)
    inputs = load_results(results)
    words = read_sentences(REPORTS_SOURCE, language, WORDS)
    shown = sdid_table(inputs.synth, inputs.synth_average, inputs.synth_sdid, sentences=words, language=language)
    assert len(shown) == 6  # Herning and the mean for each of three outcomes
    assert shown.iloc[0].tolist() == cells[:7] and shown.iloc[1].tolist()[1:] == cells[7:] + ["81"]
    assert shown.iloc[1, 0] == ""  # the outcome is named once
    assert shown.columns[4] == ("SDID: 95\u00a0%-KI" if language == "da" else "SDID: 95% CI")
    assert sdid_variables(inputs.synth_sdid, language=language)["synth_sdid_level"] in shown.columns[4]


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("with_sdid", [True, False])
def test_synth_chapter_text_with_sdid(tmp_path, language, with_sdid):
    """The chapter's text parts with their tables and variables resolved (as the offline renderer does)."""
    import dataclasses
    import shutil

    import yaml

    from evaluation.report.generate import write_generated
    from evaluation.report.inputs import load_results
    from evaluation.report.quarto_offline import resolve_includes, resolve_variables
    from test_report_build import REPORTS_SOURCE, write_results

    results = write_results(tmp_path / "results")
    _synth_fixture(results, sdid=with_sdid)
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    inputs = load_results(results)
    inputs = dataclasses.replace(inputs, study={**inputs.study, "language": language})
    written = write_generated(inputs, reports, progress=lambda _line: None)
    variables = {k: str(v) for k, v in yaml.safe_load(written["variables"].read_text(encoding="utf-8")).items()}
    part = reports / "_generated" / "text" / "synth.md"
    text = resolve_variables(
        resolve_includes(part.read_text(encoding="utf-8"), part.parent, source=part, root=reports), variables
    )
    assert "{{<" not in text
    sdid_heading = "Syntetisk difference-in-differences" if language == "da" else "Synthetic difference-in-differences"
    assert sdid_heading in text
    if with_sdid:
        assert "tbl-synth-sdid" in written and "#tbl-synth-sdid" in text and "@tbl-synth-sdid" in text
        assert ("\u221214.920 til \u22127.080" if language == "da" else "\u221214,920 to \u22127,080") in text
        assert ("95\u00a0%-konfidensintervaller" if language == "da" else "95% confidence intervals") in text
    else:
        assert "tbl-synth-sdid" not in written and "#tbl-synth-sdid" not in text
        assert ("endnu ikke gennemført" if language == "da" else "not yet been carried out") in text


@pytest.mark.parametrize(
    ("language", "heading", "cell", "mean"),
    [("da", "Syntetisk kontrolgruppe", "\u221212.345", "\u22129.259"), ("en", "Synthetic control", "\u221212,345",
                                                                        "\u22129,259")],
)  # fmt: skip
def test_report_shows_synth_section(tmp_path, language, heading, cell, mean):
    import shutil

    from evaluation.report import build_report
    from test_report_build import REPORTS_SOURCE, write_results

    results = write_results(tmp_path / "results")
    _synth_fixture(results)
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    written = build_report(results, reports, engine="offline", formats=("html",), language=language)
    text = written["html"].read_text(encoding="utf-8")
    assert heading in text
    table = (reports / "_generated" / "tbl-synth.md").read_text(encoding="utf-8")
    # Herning's ATT, and the mean over the two adopters (-12345 - 6172.5) / 2 = -9258.75
    assert cell in table and mean in table
    assert "fig-synth" in written and "{{<" not in text
    # the synthetic DiD beside it: Herning's SDID ATT of spending per child in the rendered table
    assert "tbl-synth-sdid" in written and ("\u221211.000" if language == "da" else "\u221211,000") in text
