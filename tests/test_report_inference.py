"""The report's section on inference and power, from hand-made results (``report_fixtures.write_inference_results``).

Every expected string is formatted by hand from the fixture numbers (Danish: thousands ".",
decimals ",", U+2212 minus, a no-break space before "%").
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ReportError
from evaluation.methods.inference import REASON_CODES
from evaluation.report.generate import write_generated
from evaluation.report.inference_parts import (
    REASONS,
    inference_note,
    inference_reason,
    inference_table,
    inference_variables,
)
from evaluation.report.inputs import load_results
from evaluation.report.power_parts import WORDS as POWER_WORDS
from evaluation.report.power_parts import power_figure, power_grid_table, power_table, power_variables
from evaluation.report.sentences import read_sentences
from report_fixtures import INFERENCE, write_inference_results
from test_report_build import REPORTS_SOURCE, write_results

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _words(language: str) -> dict[str, str]:
    return read_sentences(REPORTS, language, REASONS)


def _power_words(language: str) -> dict[str, str]:
    return read_sentences(REPORTS, language, POWER_WORDS)


M, NB = "\u2212", "\u00a0"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory):
    return load_results(write_inference_results(write_results(tmp_path_factory.mktemp("inference") / "results")))


def test_inference_table_orders_outcomes_and_puts_the_chosen_method_first(inputs) -> None:
    table = inference_table(inputs.inference, sentences=_words("da"), language="da")
    assert list(table.columns) == ["Udfald", "Inferens", "G*", "Estimat", "95 %-KI", "p"]
    assert table.values.tolist() == [
        ["SDQ-score (0-40)", "Wild cluster bootstrap (valgt)", "3,5", f"{M}1,23", f"{M}2,47 til {M}0,06", "0,031"],
        ["", "Klyngerobust", "", f"{M}1,23", f"{M}1,90 til {M}0,57", "<0,001"],
        ["Udgift pr. barn (kr.)", "Randomiseringsinferens (valgt)", "2,0", f"{M}10.823", f"{M}40.001 til 18.000",
         "0,510"],
        ["", "Klyngerobust", "", f"{M}10.823", f"{M}36.649 til 15.003", "0,408"],
        ["Skolefravær (pct.)", "Klyngerobust (valgt)", "12,3", f"{M}0,92", f"{M}1,27 til {M}0,58", "<0,001"],
    ]  # fmt: skip
    english = inference_table(inputs.inference, sentences=_words("en"), language="en")
    assert list(english.columns) == ["Outcome", "Inference", "G*", "Estimate", "95% CI", "p"]
    assert english.iloc[0].tolist() == ["SDQ score (0-40)", "Wild cluster bootstrap (chosen)", "3.5", f"{M}1.23",
                                        f"{M}2.47 to {M}0.06", "0.031"]  # fmt: skip
    assert english.iloc[2, 1] == "Randomization inference (chosen)"
    assert english.iloc[3, 4] == f"{M}36,649 to 15,003"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", f"Wild cluster bootstrap: Webb-vægte, 9.999 træk. Klyngerobust: t-fordeling med G{NB}{M}{NB}1 "
               "frihedsgrader. Randomiseringsinferens: 999 permutationer."),
        ("en", f"Wild cluster bootstrap: Webb weights, 9,999 draws. Cluster-robust: t distribution with G{NB}{M}{NB}1 "
               "degrees of freedom. Randomization inference: 999 permutations."),
    ],
)  # fmt: skip
def test_inference_note_names_each_method_once(inputs, language: str, expected: str) -> None:
    assert inference_note(inputs.inference, sentences=_words(language), language=language) == expected


def test_inference_variables_of_the_main_outcome_in_the_report_language(inputs) -> None:
    da = inference_variables(inputs.inference, sentences=_words("da"), language="da")
    assert da == {
        "inference_outcome": "SDQ-score (0-40)",
        "inference_method": "restringeret wild cluster bootstrap (Roodman m.fl. 2019)",
        "inference_reason": "4 behandlede af 20 kommuner (effektivt antal 3,5): for få behandlede kommuner til "
        "klyngerobuste t-test; restringeret wild cluster bootstrap med Webb-vægte.",
        "inference_g_star": "3,5",
        "inference_g_star_min": "2,0",
        "inference_g_star_max": "12,3",
        "inference_n_treated": "4",
        "inference_n_clusters": "20",
        "inference_chosen_is_robust": "false",
        "inference_ci_low_text": f"{M}2,5",
        "inference_ci_high_text": f"{M}0,1",
        "inference_p_text": "p = 0,031",
        "inference_robust_ci_low_text": f"{M}1,9",
        "inference_robust_ci_high_text": f"{M}0,6",
        "inference_robust_p_text": "p < 0,001",
    }
    en = inference_variables(inputs.inference, sentences=_words("en"), language="en")
    assert en["inference_reason"] == (
        "4 treated of 20 municipalities (effective number 3.5): too few treated municipalities for cluster-robust "
        "t-tests; restricted wild cluster bootstrap with Webb weights."
    )
    assert en["inference_method"] == "the restricted wild cluster bootstrap (Roodman et al. 2019)"
    assert (en["inference_ci_low_text"], en["inference_robust_p_text"]) == (f"{M}2.5", "p < 0.001")


def test_chosen_cluster_robust_is_flagged_and_a_second_chosen_row_is_refused() -> None:
    frame = pd.DataFrame(INFERENCE, columns=["outcome", "inference", "chosen", "weight_type", "effective_clusters",
                                             "estimate", "p_value", "ci_low", "ci_high", "draws"])  # fmt: skip
    frame = frame.assign(method="cluster_robust", reason="enough_treated", n_clusters=20, n_treated_clusters=4)
    robust_only = frame[frame["outcome"] == "school_absence"]
    values = inference_variables(robust_only, sentences=_words("en"), language="en")
    assert values["inference_chosen_is_robust"] == "true"
    assert values["inference_ci_low_text"] == values["inference_robust_ci_low_text"] == f"{M}1.3"
    doubled = frame.assign(chosen=frame["outcome"] == "sdq")
    with pytest.raises(ReportError, match="2 chosen rows for outcome 'sdq'"):
        inference_table(doubled, sentences=_words("da"), language="da")
    with pytest.raises(ReportError, match="row 4, column chosen"):
        inference_table(
            frame.assign(chosen=["False", "True", "maybe", "True", "False"]), sentences=_words("da"), language="da"
        )


def test_power_table_shows_the_actual_design_per_outcome(inputs) -> None:
    table = power_table(inputs.power, sentences=_power_words("da"), language="da")
    assert list(table.columns) == ["Udfald", "Indsats", "Barneår pr. celle", "ICC", "SD", "MDE", "MDE (SD)"]
    assert table.values.tolist() == [
        ["SDQ-score (0-40)", "4 af 20", "24,2", "0,016", "4,46", "1,36", "0,30"],
        ["Udgift pr. barn (kr.)", "4 af 20", "28,3", "0,008", "236.468", "66.660", "0,28"],
    ]
    assert power_table(inputs.power, sentences=_power_words("en"), language="en").iloc[1, 1:].tolist() == [
        "4 of 20", "28.3", "0.008", "236,468", "66,660", "0.28",
    ]  # fmt: skip


def test_power_grid_is_treated_by_icc_for_the_main_outcome_with_a_dash_for_a_missing_cell(inputs) -> None:
    table = power_grid_table(inputs.power, sentences=_power_words("da"), language="da")
    assert list(table.columns) == ["Indsatskommuner", "ICC = 0,00", "ICC = 0,05", "ICC = 0,10"]
    assert table.values.tolist() == [
        ["1", "0,61", "0,78", "0,95"],
        ["5", "0,27", "0,35", "0,43"],
        ["10", "0,19", "0,25", "–"],
    ]
    cost = power_grid_table(inputs.power, outcome="cost_per_child", sentences=_power_words("en"), language="en")
    assert cost.iloc[:, 1].tolist() == ["0.60", "0.30", "0.20"]
    with pytest.raises(ReportError, match="no grid rows for outcome 'school_absence'"):
        power_grid_table(inputs.power, outcome="school_absence", sentences=_power_words("en"), language="en")


def test_power_variables_and_the_alt_text_from_the_numbers(inputs) -> None:
    da = power_variables(inputs.power, sentences=_power_words("da"), language="da")
    assert {k: v for k, v in da.items() if k != "power_fig_alt"} == {
        "power_outcome": "SDQ-score (0-40)",
        "power_level": f"80{NB}%",
        "power_alpha": f"5{NB}%",
        "power_treated": "4",
        "power_n_clusters": "20",
        "power_icc": "0,016",
        "power_mde_text": "1,36",
        "power_mde_sd": "0,30",
        "power_mde_sd_min": "0,28",
        "power_mde_sd_max": "0,30",
    }
    # the grid's ICC nearest the estimated 0.016 is 0; its SDQ line runs from 0.61 (1 municipality) to 0.19 (10)
    assert "én linje pr. ICC (0,00, 0,05, 0,10)" in da["power_fig_alt"]
    assert "fra 0,61 SD med 1 til 0,19 SD med 10 indsatskommuner ved ICC 0,00" in da["power_fig_alt"]
    assert "det faktiske design med 4 indsatskommuner: 0,30 SD" in da["power_fig_alt"]
    en = power_variables(inputs.power, sentences=_power_words("en"), language="en")
    assert "from 0.61 SD with 1 to 0.19 SD with 10 adopting municipalities at an ICC of 0.00" in en["power_fig_alt"]
    assert '"' not in en["power_fig_alt"]


def test_power_figure_draws_one_panel_per_outcome_and_one_line_per_icc(inputs) -> None:
    figure = power_figure(inputs.power, sentences=_power_words("da"), language="da")
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == ["SDQ-score (0-40)", "Udgift pr. barn (kr.)"]
    sdq_lines = axes[0].get_lines()
    assert len(sdq_lines) == 4  # three ICCs and the actual design
    np.testing.assert_allclose(sdq_lines[0].get_ydata(), [0.61, 0.27, 0.19])
    np.testing.assert_allclose(sdq_lines[2].get_xdata(), [1, 5])  # ICC 0.1 has no value at 10
    np.testing.assert_allclose(sdq_lines[3].get_xydata(), [[4, 0.30419]])
    assert axes[0].get_xscale() == "log"
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["ICC = 0,00", "ICC = 0,05", "ICC = 0,10",
                                                         "Det faktiske design"]  # fmt: skip


def _generated(tmp_path: Path, results: Path, language: str) -> Path:
    reports = tmp_path / f"reports-{language}"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    inputs = load_results(results)
    inputs = replace(inputs, study={**inputs.study, "language": language})
    write_generated(inputs, reports, document="final", progress=lambda _m: None)
    return reports / "_generated"


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_parts_are_installed_and_the_tables_written(tmp_path: Path, language: str) -> None:
    results = write_inference_results(write_results(tmp_path / "results"))
    generated = _generated(tmp_path, results, language)
    text = generated / "text"
    heading = {"da": "## Inferens og styrke", "en": "## Inference and power"}[language]
    assert (text / "inference.md").read_text(encoding="utf-8").startswith(heading)
    assert "{{< include /_generated/tbl-inference.md >}}" in (text / "inference-choice.md").read_text(encoding="utf-8")
    compare = {"da": "@tbl-inference sammenligner", "en": "@tbl-inference compares"}[language]
    assert compare in (text / "inference-compare.md").read_text(encoding="utf-8")
    assert "inference_ci_low_text" in (text / "summary-inference.md").read_text(encoding="utf-8")
    assert "#fig-power" in (text / "power.md").read_text(encoding="utf-8")
    for label_id in ("tbl-inference", "tbl-power", "tbl-power-grid"):
        assert f"{{#{label_id}}}" in (generated / f"{label_id}.md").read_text(encoding="utf-8")
    assert (generated / "fig-power.png").stat().st_size > 0


def test_a_cluster_robust_choice_drops_the_comparison_and_the_summary_sentence(tmp_path: Path) -> None:
    rows = [r for r in INFERENCE if r[1] == "cluster_robust"]
    rows = [(*r[:2], True, *r[3:]) for r in rows]  # every outcome: cluster-robust chosen
    results = write_inference_results(write_results(tmp_path / "results"), rows)
    text = _generated(tmp_path, results, "da") / "text"
    assert (text / "summary-inference.md").read_text(encoding="utf-8") == ""
    assert (text / "inference-compare.md").read_text(encoding="utf-8").startswith("Reglen har valgt klyngerobuste")


def test_without_the_results_the_missing_texts_are_installed(tmp_path: Path) -> None:
    generated = _generated(tmp_path, write_results(tmp_path / "results"), "en")
    text = generated / "text"
    assert "not yet been carried out" in (text / "inference-choice.md").read_text(encoding="utf-8")
    assert "not yet been carried out" in (text / "power.md").read_text(encoding="utf-8")
    assert "have not yet been carried out" in (text / "inference-staggered.md").read_text(encoding="utf-8")
    assert (text / "summary-inference.md").read_text(encoding="utf-8") == ""
    assert not (generated / "tbl-inference.md").exists() and not (generated / "fig-power.png").exists()


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("code", REASON_CODES)
def test_every_reason_code_has_a_sentence_with_its_facts_filled_in(language: str, code: str) -> None:
    row = pd.Series({"reason": code, "method": "wild_cluster_bootstrap", "weight_type": "rademacher",
                     "n_treated_clusters": 1234, "n_clusters": 5678, "effective_clusters": 2.25})  # fmt: skip
    sentence = inference_reason(row, _words(language), language=language)
    assert "{" not in sentence and "}" not in sentence
    assert ("1.234" if language == "da" else "1,234") in sentence and ("2,2" if language == "da" else "2.2") in sentence
    if code == "too_few_for_t_tests":
        assert "Rademacher" in sentence
    if code == "configured":
        assert "wild_cluster_bootstrap" in sentence


def test_a_reason_code_without_a_sentence_is_refused() -> None:
    row = pd.Series({"reason": "new_rule", "method": "cluster_robust", "weight_type": None,
                     "n_treated_clusters": 4, "n_clusters": 20, "effective_clusters": 3.5})  # fmt: skip
    with pytest.raises(ReportError, match="no sentence for the reason 'new_rule'"):
        inference_reason(row, _words("en"), language="en")
