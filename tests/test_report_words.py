"""The words of the report's tables, figures and numbers come from ``reports/_text/<language>/*.yml`` (issue 15).

For each module whose words moved out of the code: both languages' files hold the same codes (with the same
``{placeholders}``), and a word changed in the mapping the module is given shows up in what it renders, so a
return to a hard-coded dict fails here.
"""

from __future__ import annotations

import dataclasses
import shutil
import string
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaluation.config import load_config
from evaluation.report import (
    chapters,
    disclosure_parts,
    economics_parts,
    effects_parts,
    figures_headline,
    generate,
    landing,
    municipality_parts,
    power_parts,
    provenance_parts,
    synth_parts,
    values,
)
from evaluation.report.documents import planned_outputs
from evaluation.report.inputs import load_results
from evaluation.report.sentences import read_sentences
from report_fixtures import write_disclosure_summary, write_inference_results, write_later_results
from test_report_build import write_results
from test_synth_step import _synth_fixture

REPORTS = Path(__file__).resolve().parents[1] / "reports"
#: module -> its file of words
FILES = {
    "chapters": chapters.WORDS,
    "disclosure_parts": disclosure_parts.WORDS,
    "economics_parts": economics_parts.WORDS,
    "effects_parts": effects_parts.WORDS,
    "figures_headline": figures_headline.WORDS,
    "landing": landing.WORDS,
    "municipality_parts": municipality_parts.WORDS,
    "power_parts": power_parts.WORDS,
    "provenance_parts": provenance_parts.WORDS,
    "synth_parts": synth_parts.WORDS,
    "values": values.WORDS,
}


def _words(language: str, name: str) -> dict[str, str]:
    return read_sentences(REPORTS, language, name)


def _fields(sentence: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(sentence) if field is not None}


@pytest.mark.parametrize("module", sorted(FILES))
def test_both_languages_have_the_same_codes_and_placeholders(module: str) -> None:
    da, en = _words("da", FILES[module]), _words("en", FILES[module])
    assert sorted(da) == sorted(en)
    assert {code: _fields(text) for code, text in da.items()} == {code: _fields(text) for code, text in en.items()}


def test_the_file_names_are_distinct() -> None:
    assert len(set(FILES.values())) == len(FILES)


@pytest.fixture(scope="module")
def inference_inputs(tmp_path_factory: pytest.TempPathFactory):
    return load_results(write_inference_results(write_results(tmp_path_factory.mktemp("words") / "results")))


def test_power_words_come_from_the_file(inference_inputs) -> None:
    words = _words("en", power_parts.WORDS) | {"of": "out of", "design": "THE DESIGN", "alt": "Alt: {outcome}."}
    table = power_parts.power_table(inference_inputs.power, sentences=words, language="en")
    assert table.iloc[0, 1] == "4 out of 20"
    assert power_parts.power_variables(inference_inputs.power, sentences=words, language="en")["power_fig_alt"] == (
        "Alt: SDQ score (0-40)."
    )
    figure = power_parts.power_figure(inference_inputs.power, sentences=words, language="en")
    assert "THE DESIGN" in [text.get_text() for text in figure.legends[0].get_texts()]


@pytest.fixture(scope="module")
def synth_inputs(tmp_path_factory: pytest.TempPathFactory):
    results = write_results(tmp_path_factory.mktemp("synth-words") / "results")
    _synth_fixture(results)
    return load_results(results)


def test_synth_words_come_from_the_file(synth_inputs) -> None:
    words = _words("da", synth_parts.WORDS) | {
        "outcome_placement_rate": "Anbragte (ord fra filen)",
        "column_att": "Effekt i {name}",
        "sdid_column_ci": "{level} interval",
        "average": "Middel af {n}",
        "year": "Kalenderår",
    }
    table = synth_parts.synth_table(synth_inputs.synth, sentences=words, language="da")
    assert table.columns[1] == "Effekt i Herning" and "Anbragte (ord fra filen)" in table.iloc[:, 0].tolist()
    sdid = synth_parts.sdid_table(synth_inputs.synth, synth_inputs.synth_average, synth_inputs.synth_sdid,
                                  sentences=words, language="da")  # fmt: skip
    assert sdid.columns[4] == "95\u00a0% interval" and sdid.iloc[1, 1] == "Middel af 2"
    values = synth_parts.synth_variables(synth_inputs.synth, synth_inputs.synth_gaps, sentences=words, language="da")
    assert "anbragte (ord fra filen)" in values["synth_fig_alt"]
    figure = synth_parts.synth_figure(synth_inputs.synth_gaps, 2013, sentences=words, language="da")
    assert figure.get_supxlabel() == "Kalenderår"


def test_disclosure_words_come_from_the_file(tmp_path: Path) -> None:
    summary = load_results(write_disclosure_summary(write_results(tmp_path / "results"))).disclosure
    words = _words("en", disclosure_parts.WORDS) | {"total": "All tables", "rule_few_persons": "Under the limit"}
    table = disclosure_parts.disclosure_table(summary, sentences=words, language="en")
    assert table.iloc[-1, 0] == "All tables" and table.columns[-1] == "Under the limit"
    first = str(summary.loc[summary["cells_total"] > 0, "table"].iloc[0])
    renamed = disclosure_parts.disclosure_table(
        summary, sentences=words | {disclosure_parts.file_code(first): "A renamed table"}, language="en"
    )
    assert renamed.iloc[0, 0] == "A renamed table"
    assert disclosure_parts.table_name("no/such.csv", words) == "no/such.csv"  # unnamed files show their path


@pytest.mark.parametrize("language", ["da", "en"])
def test_provenance_words_come_from_the_file(language: str) -> None:
    words = _words(language, provenance_parts.WORDS)
    values = provenance_parts.provenance_variables({}, None, sentences=words)
    assert values["prov_seeds"] == words["none"] and values["prov_run_date"] == words["not_recorded"]
    changed = provenance_parts.provenance_variables({}, None, sentences=words | {"none": "no seeds at all"})
    assert changed["prov_seeds"] == "no seeds at all"


def test_municipality_words_come_from_the_file() -> None:
    distances = pd.DataFrame({"treated": [657], "treated_name": ["Herning"], "comparison": [461], "rank": [1],
                              "comparison_name": ["Odense"], "distance": [1.0], "selected": [True]})  # fmt: skip
    balance = pd.DataFrame({"feature": ["parent_income"], "treated": [350.4], "selected": [340.0],
                            "candidates": [330.0], "smd_selected": [0.25], "smd_candidates": [-1.5]})  # fmt: skip
    words = _words("en", municipality_parts.WORDS) | {"table_distance": "Distance", "feature_parent_income": "Income"}
    assert municipality_parts.municipality_table(distances, sentences=words, language="en").columns[-1] == "Distance"
    shown = municipality_parts.municipality_balance_table(balance, sentences=words, language="en")
    assert shown.iloc[0, 0] == "Income"


@pytest.fixture(scope="module")
def later_inputs(tmp_path_factory: pytest.TempPathFactory):
    return load_results(write_later_results(write_results(tmp_path_factory.mktemp("later-words") / "results")))


def test_economics_words_come_from_the_file(later_inputs) -> None:
    i = later_inputs
    words = _words("da", economics_parts.WORDS) | {"to": "--", "total": "Samlet", "fell": "gik ned",
                                                    "payback_in": "i år {year} af opfølgningen"}  # fmt: skip
    table = economics_parts.economics_table(i.economics, horizon_years=3, sentences=words, language="da")
    assert "10.100 -- 19.300" in table.iloc[:, 3].tolist()
    recon = economics_parts.reconciliation_table(i.reconciliation, 5, sentences=words, language="da")
    assert recon.iloc[-1, 0] == "Samlet"
    values = economics_parts.economics_variables(i.economics, i.costs_by_year, i.ceac, i.reconciliation, i.budget,
                                                 sentences=words, language="da")  # fmt: skip
    assert (values["econ_measure_direction"], values["econ_payback_text"]) == ("gik ned", "i år 5 af opfølgningen")
    share = next(iter(economics_parts.PROBABILITY_ITEMS))
    extra = i.economics.iloc[[0]].assign(item=share, estimate=0.8, ci_low=float("nan"), ci_high=float("nan"))
    renamed = words | {f"probability_{share}": "En sandsynlighed", "probability_unit": "andel"}
    economics = pd.concat([i.economics, extra], ignore_index=True)
    table = economics_parts.economics_table(economics, horizon_years=3, sentences=renamed, language="da")
    row = table.loc[table.iloc[:, 0] == "En sandsynlighed"]
    assert len(row) == 1 and row.iloc[0, 1] == "andel"


def test_effects_words_come_from_the_file(later_inputs) -> None:
    i = later_inputs
    words = _words("en", effects_parts.WORDS) | {"to": "...", "years": "yrs", "and": "plus", "untestable": "n/a"}
    table = effects_parts.naive_robust_table(i.naive_vs_robust, sentences=words, language="en")
    assert " ... " in table.iloc[0, 4]
    het = effects_parts.heterogeneity_table(i.heterogeneity, 5, sentences=words, language="en")
    assert "0\u20136 yrs" in het.iloc[:, 2].tolist()
    values = effects_parts.staggered_variables(i.naive_vs_robust, i.pretrend, i.heterogeneity, i.dose_response,
                                               i.multiplicity, sentences=words, language="en")  # fmt: skip
    assert values["pretrend_school_absence_verdict"] == "n/a" and " plus " in values["het_variables"]
    assert " plus " in effects_parts.bacon_variables(i.bacon, sentences=words, language="en")["bacon_fig_alt"]
    bacon_words = words | {"bacon_twfe": "Plain TWFE", "bacon_column_weight": "Share", "bacon_alt": "Dots: {outcomes}",
                           "robust_did_imputation": "The headline"}  # fmt: skip
    bacon = effects_parts.bacon_table(i.bacon, sentences=bacon_words, language="en")
    assert "Share" in bacon.columns and "Plain TWFE" in bacon.iloc[:, 1].tolist()
    assert effects_parts.bacon_variables(i.bacon, sentences=bacon_words, language="en")["bacon_fig_alt"].startswith(
        "Dots: "
    )
    assert effects_parts.bacon_labels(bacon_words)["twfe"] == "Plain TWFE"
    # the shared labels come first; robust_<estimator> labels the estimators they lack
    assert effects_parts.estimator_label("other", sentences=bacon_words | {"robust_other": "Other"}) == "Other"


def test_headline_figure_words_come_from_the_file(later_inputs) -> None:
    i = later_inputs
    words = _words("da", figures_headline.WORDS) | {"few": "Færre end {n}", "rm": "RM", "none": "Intet at vise"}
    figure = figures_headline.headline_event_study_figure(i.event_study_main, min_treated=3, sentences=words,
                                                          language="da")  # fmt: skip
    assert "Færre end 3" in [text.get_text() for text in figure.legends[0].get_texts()]
    honest = figures_headline.honest_did_figure(i.honest_did, sentences=words, language="da")
    assert any(ax.get_title(loc="left").endswith(": RM") for ax in honest.axes)
    empty = figures_headline.honest_did_figure(i.honest_did.iloc[:0], sentences=words, language="da")
    assert [text.get_text() for text in empty.axes[0].texts] == ["Intet at vise"]


def test_value_words_come_from_the_file(later_inputs) -> None:
    words = _words("en", values.WORDS) | {"fell": "went down", "and": "&", "balance_all": "all {n} fine"}
    english = dataclasses.replace(later_inputs, study={**later_inputs.study, "language": "en"})
    collected = values.collect_variables(english, sentences=words)
    assert collected["main_sdq_direction"] == "went down" and " & " in collected["treated_list"]
    assert collected["balance_smd_verdict"] == "all 4 fine"
    balance = later_inputs.balance.assign(smd_after=[0.0, 0.12, -0.1, 0.05])
    clause = values.balance_variables(balance, sentences=words | {"balance_some": "{k}: {names}"}, language="en")
    assert clause["balance_smd_verdict"] == "2: Age at first case & Parent with basic schooling only"


def test_captions_and_sources_come_from_the_file(later_inputs, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS / "_text", reports / "_text")
    (reports / "_generated").mkdir()
    words = _words("en", chapters.WORDS) | {
        "tbl_economics": "Money at {price_year} prices",
        "source_registry": "From {data_source} ({first_year}-{last_year})",
        "source_economics": "Sums on {data_source}, {n_draws} draws",
        "love_plot_alt": "Dots before and after",
    }
    (reports / "_text" / "en" / chapters.WORDS).write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    shown: dict[str, tuple[str, str]] = {}

    def write_table(path: Path, table, caption: str, label_id: str, text_columns: int, source: str) -> Path:  # noqa: ANN001
        shown[label_id] = (caption, source)
        return path

    english = dataclasses.replace(later_inputs, study={**later_inputs.study, "language": "en"})
    facts = {"data_source": "the registers", "first_year": 2010, "last_year": 2023}
    parts = chapters.write_result_parts(english, reports / "_generated", write_table, facts)
    assert shown["tbl-economics"][0].startswith("Money at ") and shown["tbl-economics"][0].endswith(" prices")
    assert shown["tbl-economics"][1].startswith("Sums on the registers, ")
    assert shown["tbl-naive-robust"][1] == "From the registers (2010-2023)"
    assert parts.variables["love_plot_alt"] == "Dots before and after"


def test_the_report_tables_captions_come_from_the_file(later_inputs, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    words = _words("en", chapters.WORDS) | {"tbl_main": "All the effects", "source_contract": "From the contract"}
    (reports / "_text" / "en" / chapters.WORDS).write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    english = dataclasses.replace(later_inputs, study={**later_inputs.study, "language": "en"})
    written = generate.write_generated(english, reports, progress=lambda _m: None)
    assert "All the effects" in written["tbl-main"].read_text(encoding="utf-8")
    assert "From the contract" in written["tbl-contract"].read_text(encoding="utf-8")


def test_landing_words_come_from_the_file(tmp_path: Path) -> None:
    config = load_config(REPORTS.parent / "config" / "config.yaml", {"synthetic": {"scale": "tiny"}})
    config = {**config, "report": {**config["report"], "formats": ["html"]}}
    for path in map(Path, planned_outputs(config, str(tmp_path))):
        path.write_text("<html></html>", encoding="utf-8")
    words = _words("en", landing.WORDS) | {"find": "Your municipality", "web": "open it", "or": "/"}
    variables = {"publisher": "VIVE", "year_published": "2024"}
    page = landing.landing_markdown(config, variables, "Three sentences.", tmp_path, "en", sentences=words)
    assert "## Your municipality {#municipalities}" in page and "[open it](" in page


def test_labels_name_the_same_machine_names_in_both_languages():
    from evaluation.report.labels import label, labels

    danish, english = labels("da"), labels("en")
    assert {kind: set(names) for kind, names in danish.items()} == {kind: set(names) for kind, names in english.items()}
    assert label("outcome", "sdq", "en") == english["outcome"]["sdq"] != label("outcome", "sdq", "da")
    assert label("outcome", "not_a_name", "en") == "not_a_name"  # a name without a label is shown as it is


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module's code, docstrings left out: (line, text)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_the_report_code_holds_no_danish_words() -> None:
    """A Danish word in the report's code (a dict of captions, a phrase chosen by language) fails here: the words
    live in ``reports/_text/da/``. Letters on their own, as in the Danish collation of the landing page, are no words.
    """
    package = Path(generate.__file__).parent
    found = [
        f"{path.name}:{line}: {text!r}"
        for path in sorted(package.glob("*.py"))
        for line, text in _code_strings(path)
        if any(letter in text for letter in "æøåÆØÅ") and len(text.strip()) > 1
    ]
    assert found == []
