"""The output guard: scan what is meant to leave the machine for person identifiers and small cells.

The last step of the pipeline calls :func:`check_outputs` on ``results/`` and
``reports/_output/``. It fails the run, naming the file and the cell, when it
finds

``cpr_number``
    A CPR-like number: ten digits ``DDMMYY`` + four, with a plausible day
    (01-31) and month (01-12), optionally written ``DDMMYY-XXXX``, not part of
    a longer number or a decimal fraction. A number in a column that the results
    registry declares as an ``amount`` of kroner is a sum of money and is not
    checked (a national total of 2,705,142,000 DKK would otherwise look like one).
``pseudonym``
    A 16-character lower-case hexadecimal string: the form of the keyed
    pseudonyms written by :mod:`evaluation.steps.ingest` (HMAC-SHA256, first 16 hex
    characters), not part of a longer run of letters and digits (so SHA-256
    digests of config files pass).
``id_column``
    A column (CSV, Parquet, JSON records) named like a person identifier:
    ``person_id``, ``pnr``, ``cpr``, ``mor_id``, ``far_id``, ``familie_id``,
    ``mother_id``, ``father_id``, ``family_id``, ``caseworker_id``,
    ``sagsbehandler_id`` (any case).
``small_cell``
    A count of persons or person-years holding a whole number from 1 to
    ``min_cell - 1``. The unit of a count column (or JSON key) of a results file
    is declared in :data:`evaluation.contract.results.RESULTS_FILES`: counts of
    municipalities, years, draws or records are not checked, since they
    identify no one (a study of one adopting municipality publishes
    ``n_treated_clusters = 1``). A count column of a file not declared there
    (named ``n``, ``n_*``, ``*_n``, ``count``, ``antal*``, any case), or an
    undeclared count column of a declared file, is taken to count persons.

What it reads: ``.csv``, ``.tsv``, ``.json``, ``.md``, ``.qmd``, ``.html``,
``.txt``, ``.svg``, ``.typ``, ``.yml``/``.yaml`` as text; ``.parquet``
column names and values; ``.pdf`` by inflating its FlateDecode streams with
:mod:`zlib` and scanning the bytes (except image streams, which hold pixels). Limits: text in a PDF made by Typst is
stored as glyph ids of subset fonts, so a number printed in the PDF body is
usually *not* readable this way; the guard relies on the HTML rendering and the
``results/`` files the PDF is made from (both scanned). Small cells in rendered
HTML tables are not parsed out of the HTML; they are caught in the ``results/``
files the report reads. Images (PNG) are not read.

Folders under ``results/`` listed in :data:`INTERNAL_FOLDERS` hold files that
stay on the machine (none by default are produced); they are skipped.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract.results import PERSON_UNITS, ResultsFile, find_results_file
from evaluation.disclosure.record import DisclosureError, check_min_cell

#: Sub-folders of a scanned folder that hold internal files (never published) and are skipped.
INTERNAL_FOLDERS: tuple[str, ...] = ("internal",)
#: File types read as text.
TEXT_SUFFIXES = frozenset(
    {".csv", ".tsv", ".json", ".md", ".qmd", ".html", ".htm", ".txt", ".svg", ".typ", ".yml", ".yaml"}
)
#: Column names of person identifiers (lower case).
ID_COLUMNS: tuple[str, ...] = (
    "person_id",
    "pnr",
    "cpr",
    "cpr_nr",
    "mor_id",
    "far_id",
    "familie_id",
    "mother_id",
    "father_id",
    "family_id",
    "caseworker_id",
    "sagsbehandler_id",
)
#: Column names of counts (of persons, unless the results file declares another unit).
COUNT_COLUMN = re.compile(r"^(n|n_\w+|\w+_n|count|counts|antal\w*)$", re.IGNORECASE)
CPR = re.compile(rb"(?<![0-9.,])(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}(?![0-9]|[.,][0-9])")
PSEUDONYM = re.compile(rb"(?<![0-9A-Za-z.])[0-9a-f]{16}(?![0-9A-Za-z])")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
#: The header of a PDF object (``12 0 obj``), and an image XObject's entry in its stream dictionary.
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_DICTIONARY_WINDOW = 4096  # bytes before a stream searched for its object's header
_DATA_URI = re.compile(rb"data:image/[A-Za-z0-9.+-]+;base64,([A-Za-z0-9+/=\s]+)")
_MAX_PER_FILE = 50


@dataclass(frozen=True)
class Finding:
    """One thing in an output that could identify a person.

    Attributes
    ----------
    path
        The file.
    where
        The place in it: ``line 12``, ``row 3, column n_treated``, ``key trends[2].n``, ``column person_id``.
    rule
        ``cpr_number``, ``pseudonym``, ``id_column`` or ``small_cell``.
    detail
        What was found, with identifiers redacted (first two characters kept).
    """

    path: Path
    where: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}, {self.where}: {self.detail} [{self.rule}]"


def _redact(text: str) -> str:
    return text[:2] + "*" * max(len(text) - 2, 0)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def without_embedded_images(data: bytes) -> bytes:
    """Blank the base64 payload of embedded images (``data:image/...;base64,``), keeping lengths and lines.

    A self-contained HTML report carries its figures as base64 text, in which ten digits that look like a
    CPR number occur by chance; the payload is an image, not text, so it is not scanned. (What a figure
    shows is the drawing code's responsibility: figures are drawn from the published tables only.)
    """

    def blank(match: re.Match[bytes]) -> bytes:
        start, end = match.span(1)
        payload = match.group(1)
        return match.group()[: start - match.start()] + re.sub(rb"[^\n]", b"x", payload)

    return _DATA_URI.sub(blank, data)


def scan_bytes(data: bytes, path: Path, *, where: str | None = None) -> list[Finding]:
    """Scan raw bytes for CPR-like numbers and pseudonyms.

    Parameters
    ----------
    data
        File content (or an inflated PDF stream).
    path
        File named in the findings.
    where
        Location label; default ``line N`` of the match.

    Returns
    -------
    list of Finding
        One per match, in order.
    """
    found = []
    for rule, pattern, label in (("cpr_number", CPR, "CPR-like number"), ("pseudonym", PSEUDONYM, "pseudonym")):
        for match in pattern.finditer(data):
            text = match.group().decode("ascii")
            at = where or f"line {_line_of(data, match.start())}"
            found.append(Finding(path, at, rule, f"{label} '{_redact(text)}'"))
    return found


def person_rows(frame: pd.DataFrame, column: str, declared: ResultsFile | None) -> np.ndarray | None:
    """Rows of ``frame`` where ``column`` counts persons or person-years; None when it is no count column.

    A column declared in the results registry counts in its declared unit (per row where the unit
    depends on the row); an undeclared column named like a count (:data:`COUNT_COLUMN`) counts persons.
    """
    rows = declared.person_rows(column, frame) if declared is not None else None
    if rows is not None:
        return np.array(rows, dtype=bool)
    return np.ones(len(frame), dtype=bool) if COUNT_COLUMN.match(column.strip()) else None


def _frame_findings(frame: pd.DataFrame, path: Path, min_cell: int, declared: ResultsFile | None) -> list[Finding]:
    found = []
    for col in frame.columns:
        name = str(col)
        if name.strip().lower() in ID_COLUMNS:
            found.append(Finding(path, f"column {name}", "id_column", f"column '{name}' names a person identifier"))
        persons = person_rows(frame, name, declared)
        if persons is not None:
            values = pd.to_numeric(frame[col], errors="coerce")
            small = values.notna() & (values >= 1) & (values < min_cell) & (values == values.round()) & persons
            for row in frame.index[small.to_numpy()]:
                found.append(
                    Finding(
                        path,
                        f"row {int(row) + 1}, column {name}",
                        "small_cell",
                        f"count {values[row]:g} is below min_cell = {min_cell}",
                    )
                )
    return found


def _cell_findings(frame: pd.DataFrame, path: Path, declared: ResultsFile | None) -> list[Finding]:
    """CPR-like numbers and pseudonyms in the header and cells of a text table, by row and column.

    A number in a column the results registry declares as an ``amount`` (kroner) is a sum of money, not a
    CPR number, though whole kroner from one to ten billion have ten digits: it is not checked for one.
    """
    found = []
    header = ",".join(str(c) for c in frame.columns).encode("utf-8")
    found += scan_bytes(header, path, where="header")
    amounts = set(declared.of_kind("amount")) if declared is not None else set()
    for col in frame.columns:
        text = frame[col].astype("str")
        for rule, pattern, label in (("cpr_number", CPR, "CPR-like number"), ("pseudonym", PSEUDONYM, "pseudonym")):
            hits = text.str.extract(f"({pattern.pattern.decode('ascii')})", expand=False)
            if rule == "cpr_number" and str(col) in amounts:
                written_as_number = pd.to_numeric(text, errors="coerce").notna() & ~text.str.match(r"-?0\d")
                hits = hits.where(~written_as_number)  # a leading zero is how an identifier is written
            for row in frame.index[hits.notna().to_numpy()]:
                where = f"row {int(row) + 1}, column {col}"
                found.append(Finding(path, where, rule, f"{label} '{_redact(str(hits[row]))}'"))
    return found


def _scan_table(path: Path, min_cell: int) -> list[Finding]:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding_errors="replace")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        found = scan_bytes(path.read_bytes(), path)
        found.append(Finding(path, "whole file", "unreadable", f"cannot be read as a table ({type(exc).__name__})"))
        return found
    declared = find_results_file(path)
    return _cell_findings(frame, path, declared) + _frame_findings(frame, path, min_cell, declared)


def _counts_persons(name: str, declared: ResultsFile | None) -> bool:
    """Whether a JSON key holds a count of persons (declared so, or undeclared and named like a count)."""
    count = declared.count(name) if declared is not None else None
    if count is None:
        return bool(COUNT_COLUMN.match(name))
    return bool(count.units & PERSON_UNITS)


def _walk_json(value: object, key: str, path: Path, min_cell: int, declared: ResultsFile | None) -> Iterator[Finding]:
    if isinstance(value, dict):
        for k, v in value.items():
            name = str(k)
            if name.lower() in ID_COLUMNS:
                yield Finding(path, f"key {key}{name}", "id_column", f"key '{name}' names a person identifier")
            yield from _walk_json(v, f"{key}{name}.", path, min_cell, declared)
            if _counts_persons(name, declared) and isinstance(v, int | float) and not isinstance(v, bool):
                if 1 <= v < min_cell and float(v).is_integer():
                    yield Finding(path, f"key {key}{name}", "small_cell", f"count {v:g} is below min_cell = {min_cell}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_json(v, f"{key.rstrip('.')}[{i}].", path, min_cell, declared)


def _scan_json(path: Path, min_cell: int) -> list[Finding]:
    data = path.read_bytes()
    found = scan_bytes(data, path)
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        found.append(Finding(path, "whole file", "unreadable", f"cannot be read as JSON ({type(exc).__name__})"))
        return found
    return found + list(_walk_json(content, "", path, min_cell, find_results_file(path)))


def _scan_parquet(path: Path, min_cell: int) -> list[Finding]:
    frame = pd.read_parquet(path).reset_index(drop=True)
    declared = find_results_file(path)
    return _cell_findings(frame.astype("str"), path, declared) + _frame_findings(frame, path, min_cell, declared)


def _is_image_stream(data: bytes, start: int) -> bool:
    """Whether the stream starting at ``start`` is an image XObject (its dictionary says ``/Subtype /Image``).

    The dictionary is what lies between the object's header (``N G obj``) and the stream; when no header
    is found near the stream, the stream counts as no image, and is scanned.
    """
    window = data[max(0, start - _DICTIONARY_WINDOW) : start]
    headers = list(_OBJECT.finditer(window))
    return bool(headers) and _IMAGE.search(window, headers[-1].end()) is not None


def _scan_pdf(path: Path) -> list[Finding]:
    data = path.read_bytes()
    found = scan_bytes(data, path, where="raw bytes")
    for i, match in enumerate(_STREAM.finditer(data)):
        if _is_image_stream(data, match.start()):
            continue  # pixels, not text (as the base64 images of HTML reports): the figures' tables are scanned
        try:
            inflated = zlib.decompress(match.group(1))
        except zlib.error:
            continue  # not a FlateDecode stream (images, fonts in other encodings)
        found += scan_bytes(inflated, path, where=f"stream {i + 1}")
    return found


def scan_file(path: Path, *, min_cell: int = 5) -> list[Finding]:
    """Scan one file (see the module documentation for what is read and found).

    Parameters
    ----------
    path
        The file.
    min_cell
        Threshold for small cells.

    Returns
    -------
    list of Finding
        At most 50 findings per file (enough to name the problem).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        found = _scan_table(path, min_cell)
    elif suffix == ".json":
        found = _scan_json(path, min_cell)
    elif suffix == ".parquet":
        found = _scan_parquet(path, min_cell)
    elif suffix == ".pdf":
        found = _scan_pdf(path)
    elif suffix in TEXT_SUFFIXES:
        found = scan_bytes(without_embedded_images(path.read_bytes()), path)
    else:
        found = []
    return found[:_MAX_PER_FILE]


def _files(paths: Iterable[Path], internal: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            for p in sorted(root.rglob("*")):
                parts = p.relative_to(root).parts
                if p.is_file() and not any(part in internal for part in parts[:-1]):
                    files.append(p)
    return files


def scan_outputs(
    paths: Iterable[Path],
    *,
    min_cell: int = 5,
    internal: Sequence[str] = INTERNAL_FOLDERS,
) -> list[Finding]:
    """Scan files and folders (recursively) that are meant to leave the machine.

    Parameters
    ----------
    paths
        Files or folders, typically ``results/`` and ``reports/_output/``. A path
        that does not exist is skipped.
    min_cell
        Threshold for small cells (at least 3).
    internal
        Names of sub-folders to skip (files that stay on the machine).

    Returns
    -------
    list of Finding
        Every finding, by file in sorted order.
    """
    min_cell = check_min_cell(min_cell)
    found: list[Finding] = []
    for path in _files(paths, internal):
        found += scan_file(path, min_cell=min_cell)
    return found


def check_outputs(
    paths: Iterable[Path],
    *,
    min_cell: int = 5,
    internal: Sequence[str] = INTERNAL_FOLDERS,
    limit: int = 20,
) -> None:
    """Fail when an output holds an identifier or an unsuppressed small cell.

    Parameters
    ----------
    paths, min_cell, internal
        As in :func:`scan_outputs`.
    limit
        Findings listed in the message.

    Raises
    ------
    DisclosureError
        Naming the file and cell of each finding (identifiers redacted).
    """
    found = scan_outputs(paths, min_cell=min_cell, internal=internal)
    if found:
        lines = [f"  {f}" for f in found[:limit]]
        more = [f"  ... and {len(found) - limit} more"] if len(found) > limit else []
        raise DisclosureError(
            f"The output guard found {len(found)} thing(s) that may identify persons; nothing may leave the machine "
            "until they are removed or suppressed (docs/security.md):\n" + "\n".join(lines + more)
        )
