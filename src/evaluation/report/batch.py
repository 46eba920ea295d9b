"""Render many documents: one after another, or on two cores with half of them in a second process.

The rule ``render_report`` renders every release's documents (reports, translations, factsheets). Each
build writes the project's ``_generated/`` parts and ``_variables.yml`` before it renders, so two builds
cannot share one project folder. With two cores, :func:`render_documents` gives every second document to a
:class:`~evaluation.second_process.SecondProcess`, which renders them in a copy of the project folder
(:func:`render_in_copy`) and moves the rendered files into the project's ``_output/``. The rendered files
are the same bytes either way: nothing in them depends on the folder they were rendered in.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.errors import ReportError
from evaluation.second_process import Inbox, SecondProcess


@dataclass(frozen=True)
class Document:
    """One document to render.

    Attributes
    ----------
    results_dir
        The release's results folder.
    document
        The ``.qmd`` file's name (``interim``, ``final``, ``factsheet``).
    language
        ``da`` or ``en``; None: the study's language.
    params
        Document parameters (``{"municipality": 657}`` for a factsheet), or None.
    """

    results_dir: Path
    document: str
    language: str | None = None
    params: Mapping[str, Any] | None = None


def render_documents(
    documents: Sequence[Document],
    reports_dir: Path,
    formats: Sequence[str],
    *,
    workers: int = 1,
    engine: str = "auto",
    progress: Callable[[str], object] = print,
) -> None:
    """Render documents with :func:`~evaluation.report.render.build_report`, on ``workers`` cores (one or two).

    Parameters
    ----------
    documents
        The documents, in the order of the log.
    reports_dir
        The project folder (``reports/``); the rendered files go to its ``_output/``.
    formats
        ``html`` and/or ``pdf``.
    workers
        Two or more: every second document is rendered in a second process, whose messages follow this
        process's in the log.
    engine
        ``auto``, ``quarto`` or ``offline`` (:func:`~evaluation.report.render.build_report`).
    progress
        Receives one line per step.

    Raises
    ------
    ReportError
        A document cannot be built (the first process's documents are rendered first; the second's error
        is raised after them).
    """
    numbered = list(enumerate(documents, 1))
    total = len(numbered)
    if workers < 2 or total < 2:
        _render(numbered, Path(reports_dir), formats, engine, total, progress)
        return
    second = SecondProcess(
        "evaluation.report.batch:render_in_copy", numbered[1::2], Path(reports_dir), formats, engine, total
    )
    try:
        _render(numbered[0::2], Path(reports_dir), formats, engine, total, progress)
        lines, error = second.result()
    finally:
        second.close()
    for line in lines:
        progress(line)
    if error is not None:
        raise error


def _render(
    numbered: Sequence[tuple[int, Document]],
    reports_dir: Path,
    formats: Sequence[str],
    engine: str,
    total: int,
    progress: Callable[[str], object],
) -> None:
    from evaluation.report.render import build_report

    for i, doc in numbered:
        progress(f"document {i} of {total}: {doc.document} ({doc.language}) {dict(doc.params or {}) or ''}".rstrip())
        build_report(
            doc.results_dir,
            reports_dir,
            document=doc.document,
            formats=tuple(formats),
            engine=engine,
            language=doc.language,
            params=doc.params or None,
            progress=progress,
        )


def render_in_copy(
    inbox: Inbox,
    numbered: Sequence[tuple[int, Document]],
    reports_dir: Path,
    formats: Sequence[str],
    engine: str,
    total: int,
) -> tuple[list[str], ReportError | None]:
    """Render documents in a copy of the project folder and move the rendered files into ``reports_dir/_output``.

    Parameters
    ----------
    inbox
        Unused (nothing arrives after the call).
    numbered
        ``(number in the log, document)`` pairs.
    reports_dir
        The project folder.
    formats
        ``html`` and/or ``pdf``.
    engine
        ``auto``, ``quarto`` or ``offline``.
    total
        Number of documents of the whole batch, for the log.

    Returns
    -------
    tuple
        The log lines (with the project folder's paths) and the :class:`~evaluation.errors.ReportError` the
        rendering stopped with, or None.
    """
    lines: list[str] = []
    error = None
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        copy = Path(tmp) / reports_dir.name
        shutil.copytree(reports_dir, copy, ignore=shutil.ignore_patterns("_output", "_generated", "_variables.yml"))
        try:
            _render(numbered, copy, formats, engine, total, lines.append)
        except ReportError as err:
            error = err
        output = reports_dir / "_output"
        output.mkdir(parents=True, exist_ok=True)
        for path in sorted((copy / "_output").glob("*")) if (copy / "_output").is_dir() else []:
            shutil.move(path, output / path.name)
    return [line.replace(str(copy), str(reports_dir)) for line in lines], error
