"""The words of the report's tables, figures and numbers come from ``reports/_text/<language>/*.yml`` (issue 15).

For each module whose words moved out of the code: both languages' files hold the same codes (with the same
``{placeholders}``), and a word changed in the mapping the module is given shows up in what it renders, so a
return to a hard-coded dict fails here.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from evaluation.report import power_parts
from evaluation.report.inputs import load_results
from evaluation.report.sentences import read_sentences
from report_fixtures import write_inference_results
from test_report_build import write_results

REPORTS = Path(__file__).resolve().parents[1] / "reports"
#: module -> its file of words
FILES = {
    "power_parts": power_parts.WORDS,
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
