"""Offline renders of every document from hand-made results: interim (da), final (da, en), a factsheet.

Checks what a reader would: page counts in a plausible range (``/Type /Page``
objects in the PDF, as pypdf is not a dependency), every chapter heading, numbers
in the language's format, no shortcode left, no external resource, the colophon
before the table of contents, and a plain sentence for chapters whose analysis
has not run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluation.errors import ReportError
from evaluation.report import build_report
from report_fixtures import write_later_results, write_result
from test_report_build import REPORTS_SOURCE, write_results

NOT_YET = {
    "da": "Analysen er endnu ikke gennemført i denne version af rapporten.",
    "en": "The analysis has not yet been carried out in this version of the report.",
}
CHAPTERS = {
    "da": ["Forord", "Sammenfatning", "Indledning", "Data og metode", "Implementering",
           "Effekter på trivsel og anbringelser", "Økonomi", "Følsomhedsanalyser", "Litteratur", "Bilag",
           "Balancetabeller", "Teknisk bilag", "Resumé af datakontrakten", "Proveniens"],
    "en": ["Foreword", "Summary", "Introduction", "Data and method", "Implementation",
           "Effects on wellbeing and placements", "Economics", "Sensitivity analyses", "References", "Appendix",
           "Balance tables", "Technical appendix", "Summary of the data contract", "Provenance"],
}  # fmt: skip
INDICATORS = ["caseload_per_worker", "screened_24h", "assessment_4_months", "conversation_before_decision"]
INDICATORS += ["followups_per_child", "audit_share", "caseworker_turnover"]
FIGURES = ["open_case_per_1000", "placed_per_1000", "family_care_share", "caseload_per_worker", "sdq_mean"]
FIGURES += ["cost_per_child"]


def _extra_results(results: Path) -> None:
    """Implementation, factsheet and provenance results, hand-made."""
    rows = []
    for i, indicator in enumerate(INDICATORS):
        for group, shift in (("treated", 0.1), ("comparison", 0.0), ("national", 0.02)):
            for year in range(2010, 2024):
                value = 24.5 + 10 * shift if indicator == "caseload_per_worker" else 0.5 + shift + 0.01 * i
                rows.append((indicator, group, year, value, 250, 0))
    frame = pd.DataFrame(rows, columns=["indicator", "group", "year", "value", "n_persons", "suppressed"])
    frame.loc[(frame["group"] == "treated") & (frame["year"] == 2010), ["value", "n_persons", "suppressed"]] = (
        None,
        None,
        1,
    )
    (results / "implementation").mkdir()
    frame.pipe(write_result, results / "implementation" / "group_year.csv")
    rows = []
    for figure in FIGURES:
        for level, value in (("municipality", 1234.56), ("comparison", 1000.0), ("national", 0.625)):
            for year in (2022, 2023):
                rows.append((657, "Herning", "non_adopters", level, figure, year, value, 0))
    columns = ["municipality", "name", "comparison", "level", "figure", "year", "value", "suppressed"]
    (results / "factsheets").mkdir()
    pd.DataFrame(rows, columns=columns).pipe(write_result, results / "factsheets" / "municipality_figures.csv")
    provenance = {
        "code_version": "v1.0.0-3-gabc1234",
        "config_sha256": "ab" * 32,
        "inputs": {"data/raw/befolkning.parquet": "cd" * 32},
        "inputs_sha256": "ef" * 32,
        "packages": {"numpy": "2.4.0", "python": "3.11.7"},
        "seeds": {"synthetic.seed": 20130101},
    }
    (results / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")
    (results / "run_info.json").write_text(json.dumps({"run_date": "2024-05-01"}), encoding="utf-8")
    write_later_results(results)  # economics, staggered DiD, balance with eCDF and flags


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("documents")
    results = write_results(root / "results")
    _extra_results(results)
    reports = root / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    out = {}
    for key, document, language, params in (
        ("interim", "interim", None, None),
        ("final", "final", "da", None),
        ("final-en", "final", "en", None),
        ("factsheet-657", "factsheet", "da", {"municipality": 657}),
    ):
        out[key] = build_report(
            results,
            reports,
            document=document,
            language=language,
            params=params,
            engine="offline",
            progress=lambda _m: None,
        )
    return out


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.parametrize(
    ("key", "low", "high"), [("interim", 10, 30), ("final", 10, 30), ("final-en", 10, 30), ("factsheet-657", 1, 2)]
)
def test_outputs_are_named_per_document_and_language_with_plausible_page_counts(
    rendered: dict, key: str, low: int, high: int
) -> None:
    html, pdf = rendered[key]["html"], rendered[key]["pdf"]
    assert html.name == f"{key}.html" and pdf.name == f"{key}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert low <= _pages(pdf) <= high


@pytest.mark.parametrize("key", ["interim", "final", "final-en", "factsheet-657"])
def test_html_is_self_contained_and_fully_resolved(rendered: dict, key: str) -> None:
    text = rendered[key]["html"].read_text(encoding="utf-8")
    assert "{{<" not in text and "@tbl-" not in text and "@fig-" not in text
    assert not re.search(r"https?://", text)  # no external requests (nor links)
    # every resource embedded; the one link out of the page goes to the landing page (evaluation.report.site)
    assert not re.search(r"""(?:src|href)=["'](?!data:|#|index(?:-en)?\.html["'])""", text)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', text)
    for img in re.findall(r"<img[^>]*>", text):
        assert re.search(r'alt="[^"]{40,}"', img), "a figure without alt text"
    assert not re.search(r"(?<![\w-])-\d", re.sub(r"<[^>]+>", " ", text).replace("0-40", "")), "ASCII minus"


@pytest.mark.parametrize(("key", "language"), [("interim", "da"), ("final", "da"), ("final-en", "en")])
def test_every_chapter_heading_and_the_colophon_before_the_contents(rendered: dict, key: str, language: str) -> None:
    text = rendered[key]["html"].read_text(encoding="utf-8")
    headings = [re.sub(r"<[^>]+>|\s+", " ", h).strip() for h in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", text, re.S)]
    for chapter in CHAPTERS[language]:
        assert any(h.endswith(chapter) for h in headings), chapter
    assert 0 < text.index('class="colophon"') < text.index('id="TOC"') < text.index("<main")
    assert NOT_YET[language] in re.sub(r"\s+", " ", text)  # sensitivity has not landed
    typ = rendered[key]["pdf"].with_suffix(".typ").name
    markup = (rendered[key]["pdf"].parents[1] / "_generated" / typ).read_text(encoding="utf-8")
    assert markup.index("Colophon on the back") < markup.index("#outline(")


def test_numbers_follow_the_language(rendered: dict) -> None:
    da = rendered["final"]["html"].read_text(encoding="utf-8")
    en = rendered["final-en"]["html"].read_text(encoding="utf-8")
    # hand-made cost estimate -41234.5 (half to even), implementation share 0.6 + 0.0 for audits
    assert "\u221241.234" in da and "\u221241,234" in en
    assert "estimatet er \u22121,5 point (95 %-KI: \u22122,1 til \u22120,9)" in da.replace("\n", " ")
    assert "the estimate is \u22121.5 points (95% CI: \u22122.1 to \u22120.9)" in en.replace("\n", " ")
    assert "Tabel 6: Implementeringsindikatorer i 2023" in da and "Table 6: Implementation indicators in 2023" in en
    assert "24,5" in da and "24.5" in en  # comparison caseload, one decimal
    assert "v1.0.0-3-gabc1234" in da and "2024-05-01" in en  # provenance and the run date
    assert "Slutrapport" in da and "Final report" in en and "Evaluation of the Herning model" in en


def test_factsheet_shows_the_municipality_against_its_comparison_and_denmark(rendered: dict) -> None:
    text = rendered["factsheet-657"]["html"].read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", text)
    assert "Herning Kommune (kommunekode 657) indførte Herning-modellen i 2013" in flat
    assert "Kommuner uden herning-modellen" not in flat  # capitalised without lowering the model's name
    assert "1.234,6" in flat and "62\u00a0%" in text and "1.000,0" in flat


def test_factsheet_needs_a_known_municipality(rendered: dict, tmp_path: Path) -> None:
    reports = rendered["factsheet-657"]["html"].parents[1]
    results = reports.parent / "results"
    with pytest.raises(ReportError, match="needs a municipality"):
        build_report(results, reports, document="factsheet", engine="offline", progress=lambda _m: None)
    with pytest.raises(ReportError, match="no figures for municipality 101"):
        build_report(
            results, reports, document="factsheet", params={"municipality": 101}, engine="offline",
            formats=("html",), progress=lambda _m: None,
        )  # fmt: skip


def test_a_factsheet_draws_only_its_own_figures(rendered: dict) -> None:
    """The report's figures (trends, estimates, ...) are not drawn again for each municipality's factsheet."""
    factsheet = rendered["factsheet-657"]
    figures = {key for key in factsheet if key.startswith("fig-")}
    assert figures == {"fig-keyfigures"}
    assert {"fig-trends", "fig-estimates"} <= {key for key in rendered["final-en"] if key.startswith("fig-")}


def test_two_processes_render_the_same_files(rendered: dict, tmp_path: Path) -> None:
    """render_documents on two cores (half the documents in a second process, in a copy of the project folder)."""
    from evaluation.report.batch import Document, render_documents

    results = next(iter(rendered.values()))["variables"].parent.parent / "results"
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    documents = [
        Document(results, "interim"),
        Document(results, "final", "da"),
        Document(results, "final", "en"),
        Document(results, "factsheet", "da", {"municipality": 657}),
    ]
    lines: list[str] = []
    render_documents(documents, reports, ("html", "pdf"), workers=2, engine="offline", progress=lines.append)
    for key, written in rendered.items():
        for fmt in ("html", "pdf"):
            assert (reports / "_output" / written[fmt].name).read_bytes() == written[fmt].read_bytes(), (key, fmt)
    assert sorted(p.name for p in (reports / "_output").iterdir()) == sorted(
        w[f].name for w in rendered.values() for f in ("html", "pdf")
    )
    starts = [line for line in lines if line.startswith("document ")]
    first = ["document 1 of 4: interim (None)", "document 3 of 4: final (en)"]
    second = ["document 2 of 4: final (da)", "document 4 of 4: factsheet (da) {'municipality': 657}"]
    assert starts == first + second  # the second process's documents are logged after the first's
    assert not any("render-" in line for line in lines)  # the copy's paths are not in the log
