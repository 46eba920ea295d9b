"""The economics, staggered-effects and balance parts of the reports, from hand-made results.

Every expected string below is formatted by hand from the fixture numbers in
``report_fixtures.py`` (Danish: thousands ".", decimals ",", U+2212 minus).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluation.errors import ReportError
from evaluation.report import build_report
from evaluation.report.disclosure_parts import WORDS as DISCLOSURE_WORDS
from evaluation.report.disclosure_parts import disclosure_table, disclosure_variables
from evaluation.report.economics_parts import WORDS as ECONOMICS_WORDS
from evaluation.report.economics_parts import (
    budget_table,
    economics_table,
    economics_variables,
    net_cost_table,
    reconciliation_table,
)
from evaluation.report.effects_parts import WORDS as EFFECTS_WORDS
from evaluation.report.effects_parts import (
    blank_repeats,
    heterogeneity_table,
    multiplicity_table,
    naive_robust_table,
    staggered_variables,
)
from evaluation.report.inputs import load_results
from evaluation.report.sentences import read_sentences
from evaluation.report.values import WORDS as VALUE_WORDS
from evaluation.report.values import balance_variables
from report_fixtures import write_later_results
from test_report_build import REPORTS_SOURCE, write_results

M = "\u2212"
NOT_YET = {"da": "endnu ikke gennemført", "en": "not yet been carried out"}


def _economics_words(language: str) -> dict[str, str]:
    return read_sentences(REPORTS_SOURCE, language, ECONOMICS_WORDS)


def _effects_words(language: str) -> dict[str, str]:
    return read_sentences(REPORTS_SOURCE, language, EFFECTS_WORDS)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory):
    results = write_later_results(write_results(tmp_path_factory.mktemp("chapters") / "results"))
    return load_results(results)


def test_economics_table_formats_each_kind_and_shows_a_dash_for_no_interval(inputs) -> None:
    table = economics_table(inputs.economics, horizon_years=3, sentences=_economics_words("da"), language="da")
    rows = {r[0]: r[1:] for r in table.itertuples(index=False)}
    assert list(table.columns) == ["Post", "Enhed", "Estimat", "95 %-KI"]
    assert rows["Ændring i foranstaltningsudgifter"] == ("kr. pr. barneår", f"{M}10.823", f"{M}35.421 til 10.220")
    assert rows["Akkumuleret nettoudgift (diskonteret)"][0] == "kr. pr. barneår, 3 år"
    assert rows["Tilbagebetalingsår"][1:] == ("5", "1 til –")  # beyond the follow-up: no upper bound
    assert rows["Nettoudgift pr. undgået anbringelse"][1:] == ("587.364", "–")
    assert rows["Diskonteringsrente"][1:] == ("3,5\u00a0%", "–")
    assert rows["Ekstra sagsbehandlerårsværk"][1:] == ("0,021", "0,014 til 0,028")
    assert table.iloc[0, 0] == "Personaleudgift (flere sagsbehandlere)"  # the chapter's order, not the file's
    english = economics_table(inputs.economics, horizon_years=3, sentences=_economics_words("en"), language="en")
    assert english.iloc[0].tolist() == ["Staff cost (more caseworkers)", "DKK per child-year", "14,700",
                                        "10,100 to 19,300"]  # fmt: skip


def test_net_cost_table_by_followup_year_with_last_year_open_and_small_counts_hidden(inputs) -> None:
    table = net_cost_table(inputs.costs_by_year, 5, language="da")
    assert table.iloc[:, 0].tolist() == ["1", "2", "3+"]
    assert table["Nettoudgift"].tolist()[1] == f"{M}1.043 ({M}11.043; 8.957)"
    assert table["Foranstaltninger"].tolist()[2] == f"{M}40.002"
    assert table["Barneår"].tolist() == ["657", "<5", "1.859"]


def test_budget_and_reconciliation_tables_in_millions(inputs) -> None:
    budget = budget_table(inputs.budget, language="da")
    assert budget.columns.tolist() == ["Budgetår", "Årsværk", "Personale", "Foranstaltninger", "Nettoudgift",
                                       "Akkumuleret"]  # fmt: skip
    assert budget.iloc[1].tolist() == ["2", "38,9", "27,4", f"{M}29,3", f"{M}1,9 ({M}6,9; 3,1)", "21,6 (16,6; 26,6)"]
    recon = reconciliation_table(inputs.reconciliation, 5, sentences=_economics_words("en"), language="en")
    assert recon.iloc[:, 0].tolist() == ["2010", "2011", "Total"]  # totals only, all years last
    assert recon.iloc[2].tolist() == ["Total", "650.0", "552.5", "85.0%", "1,334"]


def test_economics_variables(inputs) -> None:
    v = economics_variables(
        inputs.economics,
        inputs.costs_by_year,
        inputs.ceac,
        inputs.reconciliation,
        inputs.budget,
        sentences=_economics_words("da"),
        language="da",
    )
    assert (v["econ_price_year"], v["econ_horizon"], v["econ_n_draws"]) == ("2019", "3", "499")
    assert v["econ_discount_rate"] == "3,5\u00a0%"
    assert (v["econ_net_cost_kind"], v["econ_net_cost_abs"]) == ("en nettoudgift", "3.877")
    assert (v["econ_measure_direction"], v["econ_measure_abs"]) == ("faldt", "10.823")
    assert v["econ_payback_text"] == "i opfølgningsår 5"
    assert v["econ_payback_ci_text"] == "år 1 til senere end år 3"
    assert v["econ_per_placement_ci_text"] == "95 %-KI ubegrænset"
    assert v["econ_per_sdq_ci_text"] == f"95 %-KI: {M}17.502 til 21.601 kr."
    assert v["econ_ceac_at_zero"] == "42,7\u00a0%"
    assert v["econ_ceac_wtp_95"] == "ved en betalingsvillighed på 20.000 kr. pr. SDQ-point"
    assert v["econ_share_explained"] == "85,0\u00a0%"
    assert (v["econ_accounts_first_year"], v["econ_accounts_last_year"]) == ("2010", "2011")
    assert (v["budget_extra_fte"], v["budget_net_cost_last"], v["budget_last_year"]) == ("38,9", f"{M}1,9", "2")
    # a saving, no payback and a curve that never reaches 95 %
    economics = inputs.economics.copy()
    economics.loc[economics["item"] == "net_cost_per_year", "estimate"] = -500.0
    economics.loc[economics["item"] == "payback_year", ["estimate", "ci_low"]] = None
    ceac = inputs.ceac.assign(probability_cost_effective=0.5)
    v = economics_variables(economics, inputs.costs_by_year, ceac, inputs.reconciliation, inputs.budget,
                            sentences=_economics_words("en"), language="en")  # fmt: skip
    assert (v["econ_net_cost_kind"], v["econ_net_cost_abs"]) == ("a net saving", "500")
    assert v["econ_payback_text"] == "not within the follow-up of 3 years"
    assert v["econ_payback_ci_text"] == "later than year 3 to later than year 3"
    assert v["econ_ceac_wtp_95"] == "not within the willingness to pay computed, up to DKK 30,000 per SDQ point"


def test_naive_robust_heterogeneity_and_multiplicity_tables(inputs) -> None:
    table = naive_robust_table(inputs.naive_vs_robust, sentences=_effects_words("da"), language="da")
    assert table["Udfald"].tolist()[:5] == ["SDQ-score (0-40)", "", "", "", "Udgift pr. barn (kr.)"]
    assert table["Estimator"].tolist()[:4] == [
        "Naiv 2x2-DiD (første kommune)", "TWFE, kommune-år", "Callaway-Sant'Anna, samlet",
        "Callaway-Sant'Anna, dynamisk",
    ]  # fmt: skip
    assert table.iloc[4, 2:].tolist() == [f"{M}22.400", "3.000", f"{M}28.400 til {M}16.400", "<0,001"]
    het = heterogeneity_table(inputs.heterogeneity, 5, sentences=_effects_words("da"), language="da")
    assert het["Opdeling"].tolist() == ["Alder ved første sag", "", "Køn", "Tidligere anbragt", "Køn"]
    assert het["Undergruppe"].tolist()[:4] == ["0\u20136 år", "7\u201313 år", "Pige", "Ja"]
    assert het["Barneår"].tolist()[3:] == ["–", "5.921"]  # left empty by the step: a dash
    mult = multiplicity_table(inputs.multiplicity, language="en")
    assert mult["Family"].tolist() == ["Primary outcomes", "", "", "", "Secondary outcomes", ""]
    main = "Imputation estimator, matched children (main analysis)"
    assert mult.iloc[0, 1:].tolist() == ["SDQ score (0-40)", main, "<0.001", "<0.001",
                                         "<0.001"]  # fmt: skip


def test_staggered_variables(inputs) -> None:
    v = staggered_variables(
        inputs.naive_vs_robust, inputs.pretrend, inputs.heterogeneity, inputs.dose_response, inputs.multiplicity,
        sentences=_effects_words("da"), language="da",
    )  # fmt: skip
    assert v["robust_sdq_cs_simple_estimate"] == f"{M}1,4"  # one decimal in running text
    assert v["robust_cost_per_child_did_2x2_ci_low"] == f"{M}28.400"
    assert (v["pretrend_sdq_statistic"], v["pretrend_sdq_df"], v["pretrend_sdq_p_text"]) == ("77,1", "10", "p < 0,001")
    assert v["pretrend_sdq_verdict"].startswith("testen afviser parallelle")
    assert v["pretrend_cost_per_child_verdict"].startswith("testen afviser ikke")
    assert v["pretrend_school_absence_verdict"] == "der er ingen år før indførelsen at teste"
    assert (v["dose_per"], v["dose_n_municipalities"], v["dose_cost_per_child_estimate"]) == ("10", "98", "2.383")
    assert v["dose_sdq_p_text"] == "p = 0,566"
    # primary: p 0.4076, 0.0665, 1e-7, 0.030; Holm 0.4076, 0.133, 4e-7, 0.060; BH 0.4076, 0.0886, 2e-7, 0.040
    assert [v[f"mult_primary_{k}"] for k in ("n", "n_raw", "n_holm", "n_bh")] == ["4", "2", "1", "2"]
    assert [v[f"mult_secondary_{k}"] for k in ("n", "n_raw", "n_holm", "n_bh")] == ["2", "1", "1", "1"]
    assert v["het_variables"] == "alder ved første sag, køn og tidligere anbragt"
    empty = staggered_variables(None, None, None, None, None, sentences=_effects_words("en"), language="en")
    assert empty["robust_sdq_twfe_estimate"] == "–" and empty["mult_primary_n"] == "0"


def test_balance_verdict_is_computed_and_names_unbalanced_covariates(inputs) -> None:
    words = {language: read_sentences(REPORTS_SOURCE, language, VALUE_WORDS) for language in ("da", "en")}
    assert balance_variables(inputs.balance, sentences=words["da"], language="da")["balance_smd_verdict"] == (
        "alle 4 kovariater har en absolut SMD under 0,1 efter matching"
    )
    worse = inputs.balance.assign(smd_after=[0.0, 0.12, -0.1, 0.05])
    values = balance_variables(worse, sentences=words["en"], language="en")
    assert values["balance_n_unbalanced"] == "2"
    assert values["balance_smd_verdict"] == (
        "2 of 4 covariates have an absolute SMD of 0.1 or more after matching: Age at first case and "
        "Parent with basic schooling only"
    )


def test_disclosure_table_and_numbers_come_from_the_summary(inputs) -> None:
    words = {language: read_sentences(REPORTS_SOURCE, language, DISCLOSURE_WORDS) for language in ("da", "en")}
    # report_fixtures.DISCLOSURE, by hand
    table = disclosure_table(inputs.disclosure, sentences=words["da"], language="da")
    assert table.columns.tolist() == ["Tabel", "Celler kontrolleret", "Skjult i alt", "Primær", "Sekundær",
                                      "Få personer"]  # fmt: skip
    assert table.values.tolist() == [
        ["Udvælgelse af børn", "14", "2", "1", "1", "0"],
        ["Udfald år for år (gennemsnit)", "180", "4", "2", "0", "2"],
        ["Implementering efter kommune og år", "6.783", "2.912", "0", "0", "2.912"],
        ["I alt", "6.977", "2.918", "3", "1", "2.914"],
    ]  # tables without person-level cells (power, att_gt) are left out; no dominance column when unused
    english = disclosure_table(inputs.disclosure, sentences=words["en"], language="en")
    assert english.iloc[-1].tolist() == ["Total", "6,977", "2,918", "3", "1", "2,914"]
    assert english.columns.tolist()[3:] == ["Primary", "Secondary", "Few persons"]
    values = disclosure_variables(inputs.disclosure, 5, language="en")
    assert values == {
        "disclosure_suppressed": "2,918", "disclosure_cells": "6,977", "disclosure_tables": "3",
        "disclosure_tables_other": "2", "disclosure_primary": "3", "disclosure_secondary": "1",
        "disclosure_few_persons": "2,914", "disclosure_below": "4",
    }  # fmt: skip
    with pytest.raises(ReportError, match="min_cell"):
        disclosure_variables(inputs.disclosure, 10, language="da")  # a summary made with another threshold


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", ["Diskretionering", "Et antal på 1 til 4 personer vises ikke",
                "I alt er 2.918 af 6.977 celler i 3 tabeller skjult. De øvrige 2 resultattabeller",
                r"Tabel (\d+) viser for hver tabel", r"Tabel (\d+): Diskretionering: celler med personoplysninger",
                "Implementering efter kommune og år"]),
        ("en", ["Statistical disclosure control", "A count of 1 to 4 persons is not shown",
                "In all, 2,918 of 6,977 cells in 3 tables are suppressed. The other 2 results tables",
                r"Table (\d+) shows, for each table", r"Table (\d+): Disclosure control: cells with person-level data",
                "Implementation by municipality and year"]),
    ],
)  # fmt: skip
def test_appendix_states_the_disclosure_rules_and_the_suppressed_cells(project, language, expected) -> None:
    text = _render(*project, language)
    heading, rule, total, reference, caption, row = expected
    for snippet in (heading, rule, total, row):
        assert snippet in text, snippet
    numbers = [re.search(pattern, text) for pattern in (reference, caption)]
    assert all(numbers) and numbers[0].group(1) == numbers[1].group(1)  # the cross-reference resolves to the table
    part = text.split(heading)[-1][:600]  # the section, not the table of contents
    assert "endnu ikke gennemført" not in part and "not yet" not in part
    assert text.count('id="tbl-disclosure"') == 1


def test_blank_repeats_needs_every_key_to_repeat() -> None:
    assert blank_repeats(["a", "a", "b", "b"], ["x", "x", "x", "y"]) == ["x", "", "x", "y"]


def _render(results: Path, reports: Path, language: str) -> str:  # whitespace (also no-break) collapsed
    build_report(results, reports, document="final", language=language, engine="offline", formats=("html",),
                 progress=lambda _m: None)  # fmt: skip
    name = "final.html" if language == "da" else f"final-{language}.html"
    return re.sub(r"\s+", " ", (reports / "_output" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("chapters-render")
    results = write_later_results(write_results(root / "results"))
    reports = root / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    return results, reports


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", ["Naive og robuste estimatorer", "Effekter år for år og test for parallelle forløb",
                "Forskelle mellem grupper af børn", "Sagstal og udfald (dosis-respons)", "Mange test",
                "Udgifter og nettoudgift", "Budgetkonsekvenser", "Afstemning med regnskaberne",
                "Tabel 7: Effekter efter estimator", "Tabel 11: Økonomiske resultater",
                "Figur 6: Hovedanalysens effekter år for år", "Figur 7: Robuste 95 %-konfidensintervaller",
                "Modellen er tilbagebetalt i opfølgningsår 5 (95 %-KI: år 1 til senere end år 3)",
                "Nettoudgiften pr. barneår med åben sag kan ikke skelnes fra nul: 3.877 kr. "
                "(95 %-KI: −21.454 til 25.204 kr.)",
                "forklarer 85,0 % af kommunernes udgifter", "alle 4 kovariater har en absolut SMD under 0,1",
                "F = 0,82 med 4 og 97 frihedsgrader, p = 0,515", "ved en betalingsvillighed på 20.000 kr.",
                "For SDQ-scoren kan effekten ikke længere skelnes fra nul ved M̄ = 1,50",
                "Inferens og styrke", "Tabel 3: Hovedanalysen med den valgte inferens", "Figur 2: Mindste påviselige",
                "G* er 3,5 for SDQ-score (0-40) og ligger mellem 2,0 og 12,3 på tværs af udfaldene",
                "giver restringeret wild cluster bootstrap (Roodman m.fl. 2019) et 95 %-KI fra −2,5 til −0,1 "
                "(p = 0,031) mod −1,9 til −0,6 (p &lt; 0,001) med klyngerobuste standardfejl",
                "er 95 %-KI for effekten på SDQ-score (0-40) fra −2,5 til −0,1.",
                "MDE for SDQ-score (0-40) 1,36 eller 0,30 standardafvigelser"]),
        ("en", ["Naive and robust estimators", "Effects year by year and the test of parallel trends",
                "Differences between groups of children", "Caseload and outcomes (dose-response)",
                "Multiple testing", "Costs and net cost", "Budget consequences", "Reconciliation with the accounts",
                "Table 7: Effects by estimator", "Figure 6: The main analysis’s effects by year",
                "F = 3.10 with 4 and 97 degrees of freedom, p = 0.019",
                "The model pays back in follow-up year 5 (95% CI: year 1 to later than year 3)",
                "The net cost per child-year with an open case cannot be distinguished from zero: DKK 3,877 "
                "(95% CI: DKK −21,454 to 25,204)", "explains 85.0% of the municipalities",
                "every one of the 4 covariates has an absolute SMD below 0.1",
                "at a willingness to pay of DKK 20,000", "Inference and power",
                "Table 3: The main analysis with the chosen inference", "Figure 2: Minimum detectable effect",
                "the 95% CI of the effect on the SDQ score (0-40) is −2.5 to −0.1.",
                "the MDE for the SDQ score (0-40) is 1.36, or 0.30 standard deviations"]),
    ],
)  # fmt: skip
def test_final_report_shows_every_new_part_with_its_numbers(project, language: str, expected: list[str]) -> None:
    text = _render(*project, language)
    for snippet in expected:
        assert snippet in text, snippet
    labels = ("tbl-economics", "tbl-net-cost", "tbl-budget", "tbl-reconciliation", "tbl-naive-robust",
              "tbl-heterogeneity", "tbl-multiplicity", "fig-costs", "fig-ceac", "fig-event-study", "fig-honest-did",
              "fig-love-plot", "tbl-inference", "tbl-power", "tbl-power-grid", "fig-power")  # fmt: skip
    for label_id in labels:
        assert f'id="{label_id}"' in text, label_id
    for heading in expected[:8]:  # no part fell back to its .missing text (the last occurrence is the heading)
        assert NOT_YET[language] not in text.split(heading)[-1][:300], heading
    assert "{{<" not in text and "@tbl-" not in text and "@fig-" not in text


def test_missing_results_give_the_missing_text_and_no_table(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results")  # no economics, no staggered step, no love plot
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    text = _render(results, reports, "da")
    chapter = text.split('id="sec-okonomi"')[1].split("</section>")[0]
    assert "Analysen er endnu ikke gennemført i denne version af rapporten." in chapter
    for heading in ("Naive og robuste estimatorer", "Mange test", "Sagstal og udfald (dosis-respons)"):
        part = text.split(heading)[-1][:400]  # the heading, not the table of contents
        assert "Analysen er endnu ikke gennemført" in part, heading
    assert "Estimatorer for forskudt indførelse (Callaway &amp; Sant’Anna 2021)" in text  # the inference text
    for heading in ("Valg af inferens", "Styrkeberegning"):
        assert "endnu ikke gennemført" in text.split(heading)[-1][:300], heading
    assert 'id="tbl-inference"' not in text and 'id="fig-power"' not in text
    assert "som derfor er valgt som inferens" not in text
    assert 'id="tbl-economics"' not in text and 'id="tbl-naive-robust"' not in text
    disclosure = text.split("Diskretionering")[-1][:300]  # no audit yet: the rule, and that the count is missing
    assert "Celler med færre end 5 personer vises ikke. Kontrollen af resultattabellerne" in disclosure
    assert 'id="tbl-disclosure"' not in text
    assert 'id="fig-love-plot"' in text  # drawn from balance.csv when the compare step drew none
    assert not (reports / "_generated" / "tbl-economics.md").exists()
    assert not pd.isna(load_results(results).balance["smd_after"]).any()
