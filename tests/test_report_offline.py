"""The Quarto preprocessor of the offline render path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluation.errors import ReportError
from evaluation.report.quarto_offline import number_crossrefs, preprocess_qmd


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


DOC = """---
title: "{{< var title >}}"
lang: da
format:
  html: default
execute:
  echo: false
---

Se @fig-b og @tbl-a, og igen @tbl-a.

{{< include parts/table.md >}}

![Første figur](_generated/fig-b.png){#fig-b width="80%"}

Estimatet er {{< var estimate >}}.

::: {.callout-note}
## Hovedresultater
Indhold med @fig-b.
:::
"""


@pytest.fixture()
def doc(tmp_path: Path) -> Path:
    write(tmp_path / "parts" / "table.md", "{{< include inner.md >}}\n\n: En tabel {#tbl-a}\n")
    write(tmp_path / "parts" / "inner.md", "| a |\n|---|\n| {{< var cell >}} |")
    return write(tmp_path / "doc.qmd", DOC)


VARIABLES = {"title": "Min titel", "estimate": "-1,47", "cell": "<5"}


def test_includes_vars_and_crossrefs_are_resolved(doc: Path) -> None:
    result = preprocess_qmd(doc, VARIABLES, target="html")
    body = result.body
    assert "{{<" not in body
    assert "| <5 |" in body  # nested include, relative to the including file, with a variable inside
    # the table comes first in the text, so it is Tabel 1; the figure is Figur 1
    assert ": Tabel 1: En tabel {#tbl-a}" in body
    assert '![Figur 1: Første figur](_generated/fig-b.png){#fig-b width="80%"}' in body
    assert "Se Figur 1 og Tabel 1, og igen Tabel 1." in body
    assert "Estimatet er -1,47." in body
    assert result.numbers == {"tbl-a": "Tabel 1", "fig-b": "Figur 1"}
    assert result.metadata["title"] == "Min titel"
    assert set(result.dropped_keys) == {"format", "execute"}
    assert "format" not in result.metadata


def test_callout_becomes_box_for_each_target(doc: Path) -> None:
    html = preprocess_qmd(doc, VARIABLES, target="html").body
    assert "::: {.callout .callout-note}\n::: {.callout-title}\nHovedresultater\n:::" in html
    assert "Indhold med Figur 1." in html
    typst = preprocess_qmd(doc, VARIABLES, target="typst").body
    assert '#callout(kind: "note", title: [Hovedresultater])[' in typst
    assert "## Hovedresultater" not in typst
    # image paths become root-relative for Typst
    assert "](/_generated/fig-b.png)" in typst


def test_english_crossref_names(doc: Path) -> None:
    body = preprocess_qmd(doc, VARIABLES, language="en").body
    assert "Se Figure 1 og Table 1" in body


def test_numbering_counts_each_kind_in_order() -> None:
    text = "![a](a.png){#fig-a}\n\n: t {#tbl-x}\n\n![b](b.png){#fig-b}\n\n@fig-b, @fig-a, @tbl-x."
    out, numbers = number_crossrefs(text)
    assert numbers == {"fig-a": "Figur 1", "tbl-x": "Tabel 1", "fig-b": "Figur 2"}
    assert out.endswith("Figur 2, Figur 1, Tabel 1.")
    assert "mail@fig-a" in number_crossrefs("mail@fig-a ![a](a.png){#fig-a}")[0]  # not a reference


def test_unknown_variable_is_an_error(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.qmd", "Tal: {{< var estimat >}}\n")
    with pytest.raises(ReportError, match=r"line 1: variable .estimat. is not in _variables.yml.*mean estimate"):
        preprocess_qmd(bad, VARIABLES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Se @tbl-missing.\n", "has no table or figure with that label"),
        ("Se @sec-intro.\n", "not supported by the offline renderer"),
        ("{{< include nowhere.md >}}\n", "is missing"),
        ("{{< video x.mp4 >}}\n", "shortcode .* is not supported"),
        (": a {#tbl-a}\n\n: b {#tbl-a}\n", "defined twice"),
        ("::: {.callout-note}\nopen\n", "never closed"),
    ],
)
def test_unresolvable_documents_are_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        preprocess_qmd(write(tmp_path / "x.qmd", text), VARIABLES)


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "{{< include b.md >}}\n")
    write(tmp_path / "b.md", "{{< include a.md >}}\n")
    with pytest.raises(ReportError, match="cycle"):
        preprocess_qmd(write(tmp_path / "x.qmd", "{{< include a.md >}}\n"), VARIABLES)


REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _document_text(document: str, language: str) -> str:
    """The document's skeleton followed by every text part of the language."""
    parts = sorted((REPORTS / "_text" / language).glob("*.md"))
    return (REPORTS / f"{document}.qmd").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in parts
    )


@pytest.mark.parametrize("language", ["da", "en"])
def test_report_text_refers_to_generated_parts_and_types_no_result(language: str) -> None:
    text = _document_text("final", language)
    assert "{{< var main_sdq_estimate_text >}}" in text
    for label_id in ("tbl-row-accounting", "tbl-sample-flow", "tbl-balance", "tbl-main", "tbl-implementation",
                     "tbl-economics", "tbl-net-cost", "tbl-budget", "tbl-reconciliation", "tbl-naive-robust",
                     "tbl-heterogeneity", "tbl-multiplicity"):  # fmt: skip
        assert f"@{label_id}" in text and f"/_generated/{label_id}.md" in text
    for label_id in ("fig-sample-flow", "fig-trends", "fig-estimates", "fig-implementation", "fig-costs", "fig-ceac",
                     "fig-event-study", "fig-honest-did", "fig-love-plot"):  # fmt: skip
        assert f"@{label_id}" in text and f"{{#{label_id}" in text and "fig-alt=" in text
    assert not re.search(r"\d+[.,]\d{2}", re.sub(r"0-40|1[.,]000 (børn|children)|5\.28", "", text)), (
        "a typed result in the report text"
    )


def test_languages_have_the_same_parts_and_variables() -> None:
    da, en = (sorted(p.name for p in (REPORTS / "_text" / lang).glob("*.md")) for lang in ("da", "en"))
    assert da == en
    for name in da:
        keys = [
            set(re.findall(r"\{\{< var (\S+) >\}\}", (REPORTS / "_text" / lang / name).read_text(encoding="utf-8")))
            for lang in ("da", "en")
        ]
        assert keys[0] == keys[1], name


def test_root_anchored_include_resolves_from_the_project_folder(tmp_path: Path) -> None:
    write(tmp_path / "_generated" / "tbl.md", "TABLE\n")
    write(tmp_path / "_generated" / "text" / "part.md", "{{< include /_generated/tbl.md >}}\n")
    doc = preprocess_qmd(write(tmp_path / "x.qmd", "{{< include _generated/text/part.md >}}\n"), VARIABLES)
    assert doc.body.strip() == "TABLE"


def test_colophon_moves_to_metadata_and_fig_alt_becomes_alt(tmp_path: Path) -> None:
    text = '::: {.colophon}\n**Kolofon**\n\nISBN\n:::\n\n# Kapitel\n\n![Figur](a.png){#fig-a fig-alt="Beskrivelse"}\n'
    doc = preprocess_qmd(write(tmp_path / "x.qmd", text), VARIABLES)
    assert doc.metadata["colophon"] == "**Kolofon**\n\nISBN\n"
    assert "colophon" not in doc.body and 'alt="Beskrivelse"' in doc.body
