"""The landing pages of the rendered findings and the accessibility statement.

``reports/_output/index.html`` (Danish) and ``index-en.html`` (English) tie the rendered
documents together: the study in three sentences (``reports/_text/<language>/landing.md``,
whose numbers are ``{{< var >}}`` values built from the final results, as in the reports),
links to the interim and final reports as web pages and PDF, and "Find your municipality":
a plain list, in Danish alphabetical order, of every factsheet rendered. Every report and
factsheet links back (the site navigation of :mod:`evaluation.report.site`). The statement
``accessibility.html`` is rendered from ``docs/accessibility.md``.

The pages are written by the rule ``render_report`` after the documents, and only when HTML
is one of ``report.formats``; :func:`site_outputs` lists them for Snakemake and the output guard.
The pages' words (headings, links, the languages' names) are in ``reports/_text/<language>/landing.yml``
(:data:`WORDS`), read by :func:`write_site` with :func:`evaluation.report.sentences.read_sentences`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from evaluation.contract.codes import MUNICIPALITY
from evaluation.errors import ReportError
from evaluation.report.documents import document_words, output_stem, planned_documents
from evaluation.report.inputs import load_results
from evaluation.report.labels import labels
from evaluation.report.numbers import check_language, format_number
from evaluation.report.quarto_offline import resolve_variables
from evaluation.report.sentences import read_sentences
from evaluation.report.site import LANDING_STEMS, STATEMENT_STEM, landing_name, page_metadata, write_html_page
from evaluation.report.values import WORDS as VALUE_WORDS
from evaluation.report.values import collect_variables

#: Languages of the landing pages (each links to the other).
LANGUAGES: tuple[str, ...] = ("da", "en")
#: the file of the landing pages' words (headings, links, languages), in ``reports/_text/<language>/``
WORDS = "landing.yml"
#: The language of ``docs/accessibility.md``.
STATEMENT_LANGUAGE = "en"


def site_outputs(config: Mapping[str, Any], output_dir: str = "reports/_output") -> list[str]:
    """Return the landing pages and the accessibility statement, or nothing when HTML is not rendered."""
    if "html" not in config["report"]["formats"]:
        return []
    return [f"{output_dir}/{LANDING_STEMS[language]}.html" for language in LANGUAGES] + [
        f"{output_dir}/{STATEMENT_STEM}.html"
    ]


def danish_sort_key(name: str) -> tuple[str, str]:
    """Sort key of a name in Danish alphabetical order: Æ, Ø, Å (and a leading Aa) after Z."""
    folded = name.casefold()
    if folded.startswith("aa"):
        folded = "å" + folded[2:]
    return folded.translate(str.maketrans({"æ": "{", "ø": "|", "å": "}", "ä": "{", "ö": "|"})), name


def _size(path: Path, language: str) -> str:
    size = path.stat().st_size
    if size < 1_000_000:
        return f"{format_number(max(size / 1000, 1), language=language)} kB"
    return f"{format_number(size / 1_000_000, 1, language=language)} MB"


def _hreflang(document_language: str, page_language: str) -> str:
    return "" if document_language == page_language else f"{{hreflang={document_language}}}"


def _rendered(output_dir: Path, stem: str, fmt: str) -> Path:
    path = output_dir / f"{stem}.{fmt}"
    if not path.is_file():
        raise ReportError(f"{path} is missing: render the documents before the landing pages (rule render_report)")
    return path


def _document_links(
    output_dir: Path, stem: str, formats: tuple[str, ...], language: str, page: str, words: Mapping[str, str]
) -> str:
    links = []
    if "html" in formats:
        links.append(f"[{words['web']}]({_rendered(output_dir, stem, 'html').name}){_hreflang(language, page)}")
    if "pdf" in formats:
        pdf = _rendered(output_dir, stem, "pdf")
        links.append(f"[{words['pdf'].format(size=_size(pdf, page))}]({pdf.name}){_hreflang(language, page)}")
    return f" {words['or']} ".join(links)


def landing_markdown(
    config: Mapping[str, Any],
    variables: Mapping[str, str],
    summary: str,
    output_dir: Path,
    language: str,
    adoption_years: Mapping[int, int] | None = None,
    *,
    sentences: Mapping[str, str],
) -> str:
    """Build the landing page of ``language`` as pandoc Markdown with its front matter.

    Parameters
    ----------
    config : mapping
        The study's config (``report`` section: languages, formats, factsheets).
    variables : mapping of str to str
        The final results' report values in ``language`` (publisher, adopters and their years).
    summary : str
        The study in three sentences, variables resolved.
    output_dir : Path
        ``reports/_output``: the rendered documents (their files are linked and their PDF sizes given).
    language : {"da", "en"}
        The page's language.
    adoption_years : mapping of int to int, optional
        Municipality code -> the year it adopted the model (``treated`` in ``study.json``), shown in the list.
    sentences : mapping of str to str
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).

    Returns
    -------
    str
        The page.

    Raises
    ------
    ReportError
        If a planned document was not rendered.
    """
    page = check_language(language)
    words = sentences
    formats = tuple(config["report"]["formats"])
    documents = planned_documents(config)
    other = next(other for other in LANGUAGES if other != page)
    front = {
        "title": document_words(page)["title"],
        "subtitle": words["subtitle"],
        "pagetitle": f"{document_words(page)['title']}: {words['subtitle']}",
        "publisher": variables["publisher"],
        "year": variables["year_published"],
        "lang": page,
        **page_metadata(page, [{"href": landing_name(other), "label": words["other_language"], "lang": other}]),
    }
    lines = [f"## {words['study']} {{#study}}", "", summary.strip(), "", f"## {words['reports']} {{#reports}}", ""]
    for document, doc_language, params in documents:
        if document == "factsheet":
            continue
        name = document_words(page)[document]
        if doc_language != page:
            name += f" ({words['in'].format(language=words[doc_language])})"
        stem = output_stem(document, doc_language, params)
        lines.append(f"- {name}: {_document_links(output_dir, stem, formats, doc_language, page, words)}")
    factsheets = [(doc_language, params["municipality"]) for document, doc_language, params in documents
                  if document == "factsheet"]  # fmt: skip
    if factsheets:
        lines += ["", f"## {words['find']} {{#municipalities}}", "", words["find_intro"].format(n=len(factsheets))]
        languages = sorted({doc_language for doc_language, _ in factsheets} - {page})
        if languages:
            lines[-1] += " " + words["documents_in"].format(language=", ".join(words[lang] for lang in languages))
        lines += ["", "::: {.factsheet-list}"]
        entries = sorted(factsheets, key=lambda item: danish_sort_key(_name(item[1])))
        for doc_language, code in entries:
            year = (adoption_years or {}).get(int(code))
            lines.append(_factsheet_entry(output_dir, formats, code, doc_language, page, year, words))
        lines += ["", ":::"]
    statement = f"[{words['statement']}]({STATEMENT_STEM}.html){_hreflang(STATEMENT_LANGUAGE, page)}"
    if STATEMENT_LANGUAGE != page:
        statement += f" ({words['in'].format(language=words[STATEMENT_LANGUAGE])})"
    lines += ["", f"## {words['about']} {{#about}}", "", words["statement_text"].format(link=statement), ""]
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=True, width=10_000)
    return f"---\n{header}---\n\n" + "\n".join(lines)


def _name(code: int) -> str:
    return str(MUNICIPALITY.get(int(code), str(code)))


def _factsheet_entry(
    output_dir: Path,
    formats: tuple[str, ...],
    code: int,
    language: str,
    page: str,
    year: int | None,
    words: Mapping[str, str],
) -> str:
    name = _name(code)
    stem = output_stem("factsheet", language, {"municipality": code})
    hreflang = _hreflang(language, page)
    parts = []
    if "html" in formats:
        parts.append(f"[{name}]({_rendered(output_dir, stem, 'html').name}){hreflang}")
    else:
        parts.append(name)
    if year:
        parts[0] += f" ({words['adopted'].format(year=year)})"
    if "pdf" in formats:
        pdf = _rendered(output_dir, stem, "pdf")
        parts.append(f"[{words['factsheet_pdf'].format(name=name, size=_size(pdf, page))}]({pdf.name}){hreflang}")
    return "- " + ", ".join(parts)


def statement_markdown(source: Path) -> str:
    """Turn ``docs/accessibility.md`` into a page of the site: its first heading is the page title."""
    text = Path(source).read_text(encoding="utf-8")
    match = re.match(r"\A#[ \t]+(.+?)[ \t]*\n", text)
    if not match:
        raise ReportError(f"{source} must start with a level-1 heading ('# Accessibility statement'): it is the title")
    words = labels(STATEMENT_LANGUAGE)["page_frame"]
    links = [
        {"href": landing_name(language), "label": labels(language)["page_frame"]["home"], "lang": language}
        if language != STATEMENT_LANGUAGE
        else {"href": landing_name(language), "label": words["home"]}
        for language in (STATEMENT_LANGUAGE, *(lang for lang in LANGUAGES if lang != STATEMENT_LANGUAGE))
    ]
    front = {
        "title": match.group(1),
        "pagetitle": match.group(1),
        "publisher": document_words(STATEMENT_LANGUAGE)["title"],
        "lang": STATEMENT_LANGUAGE,
        **page_metadata(STATEMENT_LANGUAGE, links),
    }
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=True, width=10_000)
    return f"---\n{header}---\n\n{text[match.end() :]}"


def write_site(
    config: Mapping[str, Any],
    results_dir: Path,
    reports_dir: Path,
    statement: Path,
    *,
    progress: Callable[[str], object] = print,
) -> list[Path]:
    """Write the landing pages and the accessibility statement into ``reports/_output/``.

    Parameters
    ----------
    config : mapping
        The study's config.
    results_dir : Path
        The final release's results (``results/final``): the numbers of the three sentences.
    reports_dir : Path
        The Quarto project folder; its ``_output/`` holds the rendered documents.
    statement : Path
        ``docs/accessibility.md``.
    progress : callable, default print
        Receives one line per page.

    Returns
    -------
    list of Path
        The pages written (:func:`site_outputs`); nothing when HTML is not among ``report.formats``.

    Raises
    ------
    ReportError
        If a results file, a text part or a rendered document is missing.
    """
    if "html" not in config["report"]["formats"]:
        return []
    reports_dir = Path(reports_dir)
    output_dir = reports_dir / "_output"
    inputs = load_results(Path(results_dir))
    written = []
    for language in LANGUAGES:
        source = reports_dir / "_text" / language / "landing.md"
        if not source.is_file():
            raise ReportError(f"{source} is missing: the landing page's three sentences in {language!r}")
        study = {**inputs.study, "config_language": inputs.language, "language": language}
        value_words = read_sentences(reports_dir, language, VALUE_WORDS)
        variables = collect_variables(dataclasses.replace(inputs, study=study), sentences=value_words)
        summary = resolve_variables(source.read_text(encoding="utf-8"), variables, source=source)
        adopted = {int(t["municipality"]): int(t["adoption_year"]) for t in inputs.study["treated"]}
        words = read_sentences(reports_dir, language, WORDS)
        markdown = landing_markdown(config, variables, summary, output_dir, language, adopted, sentences=words)
        written.append(write_html_page(markdown, output_dir / landing_name(language), reports_dir))
        progress(f"report: wrote {written[-1]} (landing page)")
    page = write_html_page(statement_markdown(statement), output_dir / f"{STATEMENT_STEM}.html", reports_dir)
    progress(f"report: wrote {page} (accessibility statement)")
    return [*written, page]
