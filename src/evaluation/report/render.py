"""Render a report: with Quarto where it is installed, else offline with pandoc and Typst.

:func:`build_report` is the report step of the pipeline. It reads the results
files, writes the generated tables, figures and variables, and renders
``reports/<document>.qmd`` to ``reports/_output/<document>.html`` and ``.pdf``.

The offline path uses the engines Quarto itself uses: pandoc (shipped by the
``pypandoc_binary`` wheel) for HTML and for Typst markup, and the ``typst``
wheel to compile the PDF. It sets no dates and uses only the fonts embedded in
Typst, so identical results give identical HTML and PDF bytes.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pypandoc
import typst

from evaluation.errors import ReportError
from evaluation.report.documents import check_document, document_words, output_stem
from evaluation.report.generate import write_generated
from evaluation.report.inputs import load_results
from evaluation.report.numbers import check_language
from evaluation.report.quarto_offline import OfflineDocument, preprocess_qmd
from evaluation.report.site import html_options, page_metadata
from evaluation.report.templates_path import template_path
from evaluation.report.values import read_variables

ENGINES = ("auto", "quarto", "offline")
FORMATS = ("html", "pdf")
PANDOC_FORMAT = "markdown-citations"


def _pandoc_options(document: OfflineDocument) -> list[str]:
    options: list[str] = []
    if document.metadata.get("number-sections"):
        options.append("--number-sections")
    if document.metadata.get("toc"):
        options += ["--toc", f"--toc-depth={int(document.metadata.get('toc-depth', 2))}"]
    return options


def _pandoc(text: str, to: str, options: list[str], output: Path | None = None) -> str:
    try:
        result = pypandoc.convert_text(
            text, to=to, format=PANDOC_FORMAT, extra_args=options, outputfile=str(output) if output else None
        )
    except RuntimeError as err:
        raise ReportError(f"pandoc could not convert the report to {to}: {err}") from err
    return result


def render_offline_html(
    qmd: Path, variables: dict[str, str], output: Path, *, metadata: dict[str, Any] | None = None
) -> Path:
    """Render a Quarto document to standalone HTML with pandoc, images embedded.

    Parameters
    ----------
    qmd : Path
        The document.
    variables : dict of str to str
        Values for ``{{< var >}}``.
    output : Path
        The HTML file to write.
    metadata : dict, optional
        Front-matter overrides (``lang``, ``toc-title``).

    Returns
    -------
    Path
        ``output``.
    """
    document = preprocess_qmd(qmd, variables, target="html", metadata=metadata)
    options = [*html_options(Path(qmd).parent), *_pandoc_options(document)]
    output.parent.mkdir(parents=True, exist_ok=True)
    _pandoc(document.markdown(), "html5", options, output)
    return output


def render_offline_pdf(
    qmd: Path,
    variables: dict[str, str],
    output: Path,
    *,
    typ_file: Path | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Render a Quarto document to PDF: pandoc to Typst markup, then the Typst compiler.

    Parameters
    ----------
    qmd : Path
        The document; its folder is the Typst project root (image paths are relative to it).
    variables : dict of str to str
        Values for ``{{< var >}}``.
    output : Path
        The PDF file to write.
    typ_file : Path, optional
        Where to keep the intermediate Typst file; default ``_generated/<name>.typ`` beside the document.
    metadata : dict, optional
        Front-matter overrides (``lang``, ``toc-title``).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    ReportError
        If Typst cannot compile the document.
    """
    qmd = Path(qmd)
    root = qmd.parent.resolve()
    document = preprocess_qmd(qmd, variables, target="typst", metadata=metadata)
    options = ["--standalone", f"--template={template_path('report.typ')}", *_pandoc_options(document)]
    markup = _pandoc(document.markdown(), "typst", options)
    typ_file = Path(typ_file) if typ_file else root / "_generated" / f"{qmd.stem}.typ"
    typ_file.parent.mkdir(parents=True, exist_ok=True)
    typ_file.write_text(markup, encoding="utf-8")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        typst.compile(str(typ_file), output=str(output), root=str(root), ignore_system_fonts=True)
    except RuntimeError as err:
        raise ReportError(f"Typst could not compile {typ_file} to PDF: {err}") from err
    return output


def render_quarto(
    qmd: Path,
    formats: Iterable[str],
    *,
    progress: Callable[[str], object] = print,
    metadata: Mapping[str, str] | None = None,
    stem: str | None = None,
) -> dict[str, Path]:
    """Render a document with the Quarto command-line tool.

    Parameters
    ----------
    qmd : Path
        The document inside a Quarto project whose ``output-dir`` is ``_output``.
    formats : iterable of {"html", "pdf"}
        ``"pdf"`` renders Quarto's ``typst`` format.
    progress : callable, default print
        Receives one line per format.
    metadata : mapping of str to str, optional
        Passed as ``-M key:value`` (for example the language).
    stem : str, optional
        Rename the output to ``_output/<stem>.<format>`` (default: the document's name).

    Returns
    -------
    dict of str to Path
        Format -> file written.

    Raises
    ------
    ReportError
        If Quarto is not installed, fails, or writes no file.
    """
    quarto = shutil.which("quarto")
    if quarto is None:
        raise ReportError("the Quarto CLI is not on PATH: install it (conda-forge: quarto) or use engine='offline'")
    qmd = Path(qmd)
    written: dict[str, Path] = {}
    for fmt in formats:
        to = "html" if fmt == "html" else "typst"
        progress(f"report: quarto render {qmd.name} --to {to}")
        extra = [arg for key, value in (metadata or {}).items() for arg in ("-M", f"{key}:{value}")]
        done = subprocess.run(
            [quarto, "render", qmd.name, "--to", to, *extra],
            cwd=qmd.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise ReportError(f"quarto render {qmd.name} --to {to} failed (exit {done.returncode}):\n{tail}")
        path = qmd.parent / "_output" / f"{qmd.stem}.{fmt}"
        if not path.is_file():
            raise ReportError(f"quarto render {qmd.name} --to {to} wrote no {path}: check output-dir in _quarto.yml")
        if stem and stem != qmd.stem:
            path = path.replace(path.with_name(f"{stem}.{fmt}"))
        written[fmt] = path
    return written


def build_report(
    results_dir: Path,
    reports_dir: Path,
    *,
    document: str = "interim",
    formats: Iterable[str] = ("html", "pdf"),
    engine: str = "auto",
    language: str | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str], object] = print,
) -> dict[str, Path]:
    """Build a report from the results files and render it to HTML and PDF.

    Writes ``reports/_generated/`` (tables ``tbl-*.md``, figures ``fig-*.png``, the
    language's text parts ``text/*.md``) and ``reports/_variables.yml``, then renders
    ``reports/<document>.qmd`` to ``reports/_output/<stem>.html`` and ``.pdf``, where
    the stem is the document's name, then ``-<municipality>`` for a factsheet, then
    ``-<language>`` for a language other than Danish (``final-en``, ``factsheet-657``).
    Rendering uses ``quarto render`` when the Quarto CLI is on PATH and ``engine``
    is ``"auto"`` or ``"quarto"``, otherwise pandoc and Typst
    (:mod:`evaluation.report.quarto_offline`). Reports sharing one ``reports_dir``
    must be built one after another (they share ``_generated/``).

    Parameters
    ----------
    results_dir : Path
        The pipeline's results folder (``study.json``, ``estimates.csv``, ...).
    reports_dir : Path
        The Quarto project folder.
    document : {"interim", "final", "factsheet"} or str, default "interim"
        The document's name, without ``.qmd``.
    formats : iterable of {"html", "pdf"}, default ("html", "pdf")
        Formats to render.
    engine : {"auto", "quarto", "offline"}, default "auto"
        ``"auto"`` uses Quarto when installed, else the offline path.
    language : {"da", "en"}, optional
        The report's language; default ``report.language`` from ``study.json``.
    params : mapping, optional
        Document parameters: ``{"municipality": 657}`` for the factsheet.
    progress : callable, default print
        Receives one line per step.

    Returns
    -------
    dict of str to Path
        Generated parts (``"tbl-main"``, ``"fig-trends"``, ``"variables"``, ...)
        and rendered formats (``"html"``, ``"pdf"``) -> their paths.

    Raises
    ------
    ReportError
        If a results file is missing or malformed, an option is unknown, the
        document cannot be resolved, or rendering fails.
    """
    if engine not in ENGINES:
        raise ReportError(f"report engine {engine!r} is unknown: use one of {', '.join(ENGINES)}")
    formats = tuple(dict.fromkeys(formats))
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"report format(s) {unknown or '(none)'} unknown: use html and/or pdf")
    params = check_document(document, params)
    results_dir, reports_dir = Path(results_dir), Path(reports_dir)
    qmd = reports_dir / f"{document}.qmd"
    if not qmd.is_file():
        raise ReportError(f"{qmd} is missing: the document {document!r} must be a .qmd file in {reports_dir}")
    inputs = load_results(results_dir)
    language = check_language(language or inputs.language)
    study = {**inputs.study, "config_language": inputs.language, "language": language}
    inputs = dataclasses.replace(inputs, study=study)
    written = write_generated(inputs, reports_dir, document=document, params=params, progress=progress)
    metadata = {"lang": language, "toc-title": document_words(language)["toc_title"]}
    stem = output_stem(document, language, params)
    use_quarto = engine == "quarto" or (engine == "auto" and shutil.which("quarto") is not None)
    if use_quarto:
        written.update(render_quarto(qmd, formats, progress=progress, metadata=metadata, stem=stem))
        return written
    variables = read_variables(written["variables"])
    output_dir = reports_dir / "_output"
    if "html" in formats:
        page = metadata | page_metadata(language)  # skip link and the link to the landing page (site.py)
        written["html"] = render_offline_html(qmd, variables, output_dir / f"{stem}.html", metadata=page)
        progress(f"report: wrote {written['html']} (offline: pandoc)")
    if "pdf" in formats:
        written["pdf"] = render_offline_pdf(
            qmd,
            variables,
            output_dir / f"{stem}.pdf",
            metadata=metadata,
            typ_file=reports_dir / "_generated" / f"{stem}.typ",
        )
        progress(f"report: wrote {written['pdf']} (offline: pandoc + Typst)")
    return written
