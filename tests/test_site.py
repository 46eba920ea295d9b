"""The rendered findings as one site: landing pages, the page frame and accessible tables (no browser needed).

The browser checks of the same pages (axe-core, widths, keyboard) are in test_browser.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from evaluation.config import load_config
from evaluation.errors import ReportError
from evaluation.report import build_report
from evaluation.report.documents import planned_outputs
from evaluation.report.landing import danish_sort_key, site_outputs, write_site
from test_report_build import REPORTS_SOURCE, write_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def config() -> dict:
    return load_config(ROOT / "config" / "config.yaml", {"synthetic": {"scale": "tiny"}})


@pytest.fixture()
def rendered(tmp_path: Path, config: dict) -> tuple[Path, Path]:
    """Hand-made results, the interim report rendered to HTML, and stand-ins for every other planned file."""
    results = write_results(tmp_path / "results")
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_SOURCE, reports, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
    build_report(results, reports, engine="offline", formats=("html",), progress=lambda _m: None)
    for path in map(Path, planned_outputs(config, str(reports / "_output"))):
        if not path.exists():
            path.write_bytes(b"%PDF-1.7 stand-in\n" * 100 if path.suffix == ".pdf" else b"<html></html>")
    return results, reports


def test_danish_alphabetical_order_puts_ae_oe_aa_after_z() -> None:
    names = ["Aarhus", "Ærø", "Albertslund", "Vejle", "Østerbro", "Aabenraa", "Herning"]
    assert sorted(names, key=danish_sort_key) == ["Albertslund", "Herning", "Vejle", "Ærø", "Østerbro", "Aabenraa",
                                                   "Aarhus"]  # fmt: skip


def test_site_outputs_are_declared_only_when_html_is_rendered(config: dict) -> None:
    assert site_outputs(config) == [
        "reports/_output/index.html",
        "reports/_output/index-en.html",
        "reports/_output/accessibility.html",
    ]
    assert site_outputs(config | {"report": config["report"] | {"formats": ["pdf"]}}) == []


def test_landing_pages_link_every_document_and_factsheet(rendered: tuple[Path, Path], config: dict) -> None:
    results, reports = rendered
    written = write_site(config, results, reports, ROOT / "docs" / "accessibility.md", progress=lambda _m: None)
    assert [p.name for p in written] == ["index.html", "index-en.html", "accessibility.html"]
    output = reports / "_output"
    planned = {Path(p).name for p in planned_outputs(config)}
    for page, lang in (("index.html", "da"), ("index-en.html", "en")):
        html = (output / page).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in html
        links = set(re.findall(r'href="([^"#]+)"', html))
        assert planned <= links, sorted(planned - links)
        assert "accessibility.html" in links and ("index-en.html" if lang == "da" else "index.html") in links
        assert "<script" not in html and "http://" not in html and "https://" not in html  # offline, no CDN
    danish = (output / "index.html").read_text(encoding="utf-8")
    # numbers come from the results: the main SDQ estimate -1.47 and its interval (-2.06, -0.88)
    assert "−1,5 point (95 %-KI: −2,1 til −0,9)" in danish
    assert 'href="final-en.html" hreflang="en"' in danish
    # Danish alphabetical order, with the year a municipality adopted the model
    order = re.findall(r'<a href="factsheet-(\d+)\.html"', danish)
    assert order.index("657") < order.index("751")  # Herning before Aarhus (Aa = Å)
    assert re.search(r'factsheet-657\.html">Herning</a> \(indførte\s+modellen i\s+2013\)', danish)
    english = (output / "index-en.html").read_text(encoding="utf-8")
    assert "−1.5 points (95% CI: −2.1 to −0.9)" in english
    assert "The factsheets are in Danish." in english.replace("\n", " ")


def test_a_missing_rendered_document_stops_the_landing_page(rendered: tuple[Path, Path], config: dict) -> None:
    results, reports = rendered
    (reports / "_output" / "factsheet-657.pdf").unlink()
    with pytest.raises(ReportError, match=r"factsheet-657\.pdf is missing: render the documents"):
        write_site(config, results, reports, ROOT / "docs" / "accessibility.md", progress=lambda _m: None)


def test_statement_needs_its_title_heading(rendered: tuple[Path, Path], config: dict, tmp_path: Path) -> None:
    results, reports = rendered
    statement = tmp_path / "accessibility.md"
    statement.write_text("No heading here.\n", encoding="utf-8")
    with pytest.raises(ReportError, match="must start with a level-1 heading"):
        write_site(config, results, reports, statement, progress=lambda _m: None)


def test_report_pages_have_a_skip_link_a_home_link_and_tables_in_labelled_boxes(rendered: tuple[Path, Path]) -> None:
    _, reports = rendered
    html = (reports / "_output" / "interim.html").read_text(encoding="utf-8")
    body = html[html.index("<body>") :]
    assert body.index('class="skip-link" href="#main"') < body.index('<a href="index.html">') < body.index("<header")
    assert '<main id="main" tabindex="-1">' in html
    tables = re.findall(r"<div class=\"table-scroll\"([^>]*)>\s*<table[^>]*>\s*<caption>([^<]+)</caption>", html)
    assert len(tables) == html.count("<table"), "every table sits in a scroll box and has a caption"
    for attributes, caption in tables:
        assert 'role="region"' in attributes and 'tabindex="0"' in attributes
        label = re.search(r'aria-label="([^"]+)"', attributes.replace("\n", " "))
        assert label and label.group(1) == caption.replace("\n", " ")
    assert re.search(r'<th [^>]*scope="col"', html) and re.search(r'<th [^>]*scope="row"', html)
    css = html[html.index("<style") : html.index("</style>")]
    assert ":focus-visible" in css and "@media print" in css and ".table-scroll" in css


def _labelled_series(figure) -> list[list[tuple]]:  # noqa: ANN001
    """Per panel: (line style, marker, colour) of every line with a legend label."""
    return [
        [(line.get_linestyle(), line.get_marker(), line.get_color()) for line in ax.get_lines()
         if not str(line.get_label()).startswith("_")]
        for ax in figure.axes
    ]  # fmt: skip


def test_line_charts_tell_series_apart_without_colour(tmp_path: Path) -> None:
    """WCAG 1.4.1: the series of a line chart differ in line style or marker, not only in colour."""
    import pandas as pd

    from evaluation.report.figures import trends_figure
    from evaluation.report.figures_results import costs_figure
    from report_fixtures import write_later_results

    results = write_later_results(write_results(tmp_path / "results"))
    trends, _ = trends_figure(pd.read_csv(results / "estimate" / "trends.csv"), [2013, 2015], 5, language="da")
    costs = costs_figure(pd.read_csv(results / "economics" / "costs_by_year.csv"), language="da")
    for figure in (trends, costs):
        panels = [series for series in _labelled_series(figure) if len(series) > 1]
        assert panels, "no panel with several series"
        for series in panels:
            assert len({(style, marker) for style, marker, _ in series}) == len(series), series


def test_honest_did_figure_tells_the_intervals_apart_without_colour(tmp_path: Path) -> None:
    """WCAG 1.4.1: the original and the robust intervals differ in line style, not only in colour."""
    import pandas as pd

    from evaluation.report.figures_headline import WORDS, honest_did_figure
    from evaluation.report.sentences import read_sentences
    from report_fixtures import write_headline_event_study

    write_headline_event_study(tmp_path / "estimate")
    words = read_sentences(REPORTS_SOURCE, "en", WORDS)
    figure = honest_did_figure(pd.read_csv(tmp_path / "estimate" / "honest_did.csv"), sentences=words, language="en")
    for ax in figure.axes:
        styles = {c.get_label(): str(c.get_linestyle()) for c in ax.collections if not c.get_label().startswith("_")}
        if len(styles) > 1:
            assert len(set(styles.values())) == len(styles), styles
            break
    else:
        pytest.fail("no panel with both intervals")
