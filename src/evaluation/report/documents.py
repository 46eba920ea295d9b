"""The report documents, their languages, and the text fragments they are built from.

Each document (``interim``, ``final``, ``factsheet``) is one ``reports/<document>.qmd``:
front matter and a list of includes of ``_generated/text/<part>.md``. The prose
of every part exists once per language, in ``reports/_text/<language>/<part>.md``;
:func:`install_text` copies the chosen language's parts to ``_generated/text/``
before rendering. A part whose analysis has not run yet has a sibling
``<part>.missing.md`` (the chapter heading and the sentence that says so), which
is installed instead. Only prose is per language: tables, figures and numbers
are generated, and structure lives once, in the ``.qmd``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation.errors import ReportError
from evaluation.report.labels import labels
from evaluation.report.numbers import check_language
from evaluation.scope import factsheet_municipalities, read_scope

DOCUMENTS: tuple[str, ...] = ("interim", "final", "factsheet")
#: The result set each document is rendered from (``results/<release>/``, see :func:`evaluation.config.release_config`).
RELEASE_OF: dict[str, str] = {"interim": "interim", "final": "final", "factsheet": "final"}


def document_words(language: str) -> dict[str, str]:
    """Return the documents' words in ``language``, from ``labels.yml`` (``document``).

    ``title`` (the study's title where the config gives none in that language), ``toc_title`` (the table of
    contents) and one subtitle per document (``interim``, ``final``, ``factsheet``).
    """
    return labels(language)["document"]


def check_document(document: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a document's parameters and return them normalised.

    Parameters
    ----------
    document : str
        The document's name.
    params : mapping, optional
        ``{"municipality": code}`` for the factsheet; nothing for the others.

    Returns
    -------
    dict
        The parameters.

    Raises
    ------
    ReportError
        If the factsheet lacks its municipality, or parameters are given that the document does not take.
    """
    params = dict(params or {})
    if document == "factsheet":
        if "municipality" not in params:
            raise ReportError('the factsheet needs a municipality: build_report(..., params={"municipality": 657})')
        try:
            params["municipality"] = int(params["municipality"])
        except (TypeError, ValueError) as err:
            raise ReportError(f"factsheet municipality {params['municipality']!r} is not a municipality code") from err
        unknown = sorted(set(params) - {"municipality"})
    else:
        unknown = sorted(params)
    if unknown:
        raise ReportError(f"the document {document!r} takes no parameter(s) {', '.join(unknown)}")
    return params


def output_stem(document: str, language: str, params: Mapping[str, Any] | None = None) -> str:
    """Name of the rendered files, without extension.

    ``final`` (Danish), ``final-en`` (English), ``factsheet-657``, ``factsheet-657-en``.
    """
    stem = document
    if params and "municipality" in params:
        stem += f"-{int(params['municipality'])}"
    return stem if check_language(language) == "da" else f"{stem}-{language}"


def planned_documents(config: Mapping[str, Any], release: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """List the documents the pipeline renders, as ``(document, language, params)``.

    The interim report in ``report.language``, the final report in each of
    ``report.languages_final``, and a factsheet (in ``report.language``) for every
    adopting municipality and every code in ``report.factsheets`` that is in the data (the config's
    ``scope``, :mod:`evaluation.scope`), in code order.
    With ``release`` ("interim" or "final"), only the documents rendered from that
    result set (:data:`RELEASE_OF`).
    """
    rep = config["report"]
    docs: list[tuple[str, str, dict[str, Any]]] = [("interim", rep["language"], {})]
    docs += [("final", language, {}) for language in rep["languages_final"]]
    docs += [
        ("factsheet", rep["language"], {"municipality": code})
        for code in factsheet_municipalities(config, read_scope(config))
    ]
    return [doc for doc in docs if release is None or RELEASE_OF[doc[0]] == release]


def planned_outputs(
    config: Mapping[str, Any], output_dir: str = "reports/_output", release: str | None = None
) -> list[str]:
    """Return the path of every rendered file of :func:`planned_documents`, for each format in ``report.formats``."""
    return [
        f"{output_dir}/{output_stem(document, language, params)}.{fmt}"
        for document, language, params in planned_documents(config, release)
        for fmt in config["report"]["formats"]
    ]


def install_text(reports_dir: Path, language: str, available: Mapping[str, bool]) -> list[Path]:
    """Copy the language's text parts to ``_generated/text/``, the ``.missing`` variant where a result is absent.

    Parameters
    ----------
    reports_dir : Path
        The Quarto project folder.
    language : {"da", "en"}
        Which ``_text/<language>/`` to install.
    available : mapping of str to bool
        Part name -> whether its results exist; a part not named counts as available.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ReportError
        If the language's folder is missing, or a part lacks its ``.missing`` variant when needed.
    """
    source = Path(reports_dir) / "_text" / check_language(language)
    if not source.is_dir():
        raise ReportError(f"{source} is missing: the report's text in language {language!r} must be in reports/_text/")
    target = Path(reports_dir) / "_generated" / "text"
    if target.is_dir():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for path in sorted(source.glob("*.md")):
        if path.name.endswith(".missing.md"):
            continue
        part = path.stem
        chosen = path
        if not available.get(part, True):
            chosen = path.with_name(f"{part}.missing.md")
            if not chosen.is_file():
                raise ReportError(f"{chosen} is missing: the part {part!r} has no text for when its results are absent")
        out = target / path.name
        out.write_bytes(chosen.read_bytes())
        written.append(out)
    return written
