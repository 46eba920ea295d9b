"""Turn a Quarto document into plain pandoc Markdown, for rendering without Quarto.

Quarto cannot be installed on machines without access to its release downloads,
so the offline path does by hand the few things Quarto adds to pandoc for the
subset of Quarto the project's reports use:

- ``{{< include file >}}`` (alone on a line; nested includes are resolved
  relative to the including file, a path starting with ``/`` relative to the
  project folder as in Quarto, and a cycle is an error);
- ``{{< var key >}}`` from ``_variables.yml`` (an unknown key is an error);
- ``{{< pagebreak >}}``;
- cross-references ``@tbl-x`` / ``@fig-x``: tables (``: caption {#tbl-x}``) and
  figures (``![caption](path){#fig-x}``) are numbered in order of appearance,
  captions get "Tabel 1: " / "Figur 1: " ("Table" / "Figure" in English) and
  references become "Tabel 1" / "Figur 1", as Quarto writes them;
- callouts (``::: {.callout-note}`` with a heading or a ``title=`` attribute) become
  a styled box: a fenced div for HTML, a call of the template's ``#callout`` for Typst;
- the colophon (``::: {.colophon}``) is taken out of the body into the ``colophon``
  metadata field, which the templates set on the back of the title page (before
  the table of contents), as VIVE and KORA do;
- ``fig-alt="..."`` on a figure becomes the image's ``alt`` text;
- front-matter keys that only Quarto understands (``format``, ``execute``, ...) are dropped.

Anything else written as a shortcode stops with a :class:`ReportError`, so that
no ``{{<`` reaches a rendered report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import ReportError
from evaluation.report.labels import labels
from evaluation.report.numbers import check_language
from evaluation.report.quarto_blocks import Target, convert_callouts, pagebreak
from evaluation.yaml_text import load_yaml

#: front-matter keys passed on to pandoc; every other key is Quarto-only and dropped
PANDOC_KEYS: frozenset[str] = frozenset(
    {"title", "subtitle", "author", "date", "lang", "toc", "toc-title", "toc-depth", "number-sections", "abstract"}
    | {"publisher", "year", "project-number", "isbn", "report-type", "colophon", "factsheet"}
    | {"skip-label", "site-nav"}  # the page frame of the HTML site (evaluation.report.site)
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_INCLUDE = re.compile(r"^[ \t]*\{\{<\s*include\s+(\"[^\"]+\"|'[^']+'|\S+)\s*>\}\}[ \t]*$", re.MULTILINE)
_VAR = re.compile(r"\{\{<\s*var\s+([A-Za-z0-9_.-]+)\s*>\}\}")
_PAGEBREAK = re.compile(r"^[ \t]*\{\{<\s*pagebreak\s*>\}\}[ \t]*$", re.MULTILINE)
_SHORTCODE = re.compile(r"\{\{<.*?>\}\}")
_TABLE_CAPTION = re.compile(r"^:[ \t]+(.*?)[ \t]*\{#(tbl-[A-Za-z0-9_-]+)\}[ \t]*$", re.MULTILINE)
_FIGURE = re.compile(r"!\[(.*?)\]\(([^)\s]+)\)\{#(fig-[A-Za-z0-9_-]+)([^}]*)\}")
_COLOPHON = re.compile(r"^:::[ \t]*\{\.colophon\}[ \t]*\n(.*?)\n:::[ \t]*$", re.MULTILINE | re.DOTALL)
_FIG_ALT = re.compile(r"(\{#fig-[^}]*?)\bfig-alt=")
_REFERENCE = re.compile(r"(?<![\w@])@((?:tbl|fig|sec|eq|lst|thm)-[A-Za-z0-9_-]*[A-Za-z0-9_])")


@dataclass(frozen=True)
class OfflineDocument:
    """A Quarto document prepared for plain pandoc.

    Attributes
    ----------
    metadata : dict
        Front matter with variables resolved and Quarto-only keys dropped.
    body : str
        Pandoc Markdown with includes, variables, cross-references and callouts resolved.
    dropped_keys : tuple of str
        Front-matter keys removed because only Quarto understands them.
    numbers : dict of str to str
        Cross-reference label -> its rendered name, for example ``{"tbl-main": "Tabel 3"}``.
    """

    metadata: dict[str, Any]
    body: str
    dropped_keys: tuple[str, ...] = ()
    numbers: dict[str, str] = field(default_factory=dict)

    def markdown(self) -> str:
        """Return the document as pandoc Markdown with a YAML front matter."""
        header = yaml.safe_dump(self.metadata, allow_unicode=True, sort_keys=True, width=10_000)
        return f"---\n{header}---\n\n{self.body}"


def split_front_matter(text: str, source: Path | str = "<document>") -> tuple[dict[str, Any], str]:
    """Split a document into its YAML front matter and its body.

    Parameters
    ----------
    text : str
        The document.
    source : Path or str
        The file name, for messages.

    Returns
    -------
    tuple of (dict, str)
        The front matter (empty when there is none) and the body.

    Raises
    ------
    ReportError
        If the front matter is not valid YAML or not a mapping.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        metadata = load_yaml(match.group(1)) or {}
    except yaml.YAMLError as err:
        raise ReportError(f"{source}: the YAML front matter cannot be read: {err}") from err
    if not isinstance(metadata, dict):
        raise ReportError(f"{source}: the YAML front matter must be a mapping of keys to values")
    return metadata, text[match.end() :]


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def resolve_includes(
    text: str,
    base_dir: Path,
    *,
    source: Path | str = "<document>",
    root: Path | None = None,
    _stack: tuple = (),
) -> str:
    """Replace every ``{{< include file >}}`` line with the file's text, recursively.

    Parameters
    ----------
    text : str
        The document body.
    base_dir : Path
        The folder the include paths are relative to (the including file's folder).
    source : Path or str
        The including file, for messages.
    root : Path, optional
        The project folder that paths starting with ``/`` are relative to; default ``base_dir``.

    Returns
    -------
    str
        The text with includes resolved. A front matter in an included file is dropped.

    Raises
    ------
    ReportError
        If an included file is missing or the includes form a cycle.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip("\"'")
        project = Path(root) if root is not None else Path(base_dir)
        path = (project / name.lstrip("/")).resolve() if name.startswith("/") else (Path(base_dir) / name).resolve()
        line = _line_of(text, match.start())
        if path in _stack:
            chain = " -> ".join(str(p) for p in (*_stack, path))
            raise ReportError(f"{source}, line {line}: the includes form a cycle ({chain}); remove one include")
        if not path.is_file():
            raise ReportError(
                f"{source}, line {line}: included file {name!r} ({path}) is missing; "
                "generated files come from build_report, others must be in reports/"
            )
        _, included = split_front_matter(path.read_text(encoding="utf-8"), path)
        resolved = resolve_includes(included, path.parent, source=path, root=project, _stack=(*_stack, path))
        return resolved.rstrip("\n")

    return _INCLUDE.sub(replace, text)


def resolve_variables(text: str, variables: dict[str, str], *, source: Path | str = "<document>") -> str:
    """Replace every ``{{< var key >}}`` with its value.

    Parameters
    ----------
    text : str
        Text holding variable shortcodes.
    variables : dict of str to str
        Values from ``_variables.yml``.
    source : Path or str
        The file, for messages.

    Returns
    -------
    str
        The text with variables resolved.

    Raises
    ------
    ReportError
        If a key has no value (the message suggests close keys).
    """

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            close = get_close_matches(key, list(variables), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ReportError(
                f"{source}, line {_line_of(text, match.start())}: variable {key!r} is not in _variables.yml: "
                f"the results lack it, or the name is misspelt.{hint}"
            )
        return str(variables[key])

    return _VAR.sub(replace, text)


def _resolve_metadata(value: Any, variables: dict[str, str], source: Path | str) -> Any:
    if isinstance(value, str):
        return resolve_variables(value, variables, source=source)
    if isinstance(value, list):
        return [_resolve_metadata(item, variables, source) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_metadata(item, variables, source) for key, item in value.items()}
    return value


def number_crossrefs(
    text: str, *, language: str = "da", source: Path | str = "<document>"
) -> tuple[str, dict[str, str]]:
    """Assign numbers to tables and figures in order and resolve ``@tbl-`` / ``@fig-`` references.

    Parameters
    ----------
    text : str
        The document body with includes resolved.
    language : {"da", "en"}, default "da"
        Names of the kinds ("Tabel"/"Figur" or "Table"/"Figure").
    source : Path or str
        The file, for messages.

    Returns
    -------
    tuple of (str, dict)
        The text with numbered captions and resolved references, and label -> name.

    Raises
    ------
    ReportError
        If a label is defined twice, a reference has no target, or a reference
        kind other than tables and figures is used.
    """
    names = labels(language)["crossref"]
    found: list[tuple[int, str, str]] = [(m.start(), "tbl", m.group(2)) for m in _TABLE_CAPTION.finditer(text)]
    found += [(m.start(), "fig", m.group(3)) for m in _FIGURE.finditer(text)]
    numbers: dict[str, str] = {}
    counters = {"tbl": 0, "fig": 0}
    for position, kind, label_id in sorted(found):
        if label_id in numbers:
            raise ReportError(f"{source}, line {_line_of(text, position)}: the label {label_id!r} is defined twice")
        counters[kind] += 1
        numbers[label_id] = f"{names[kind]} {counters[kind]}"

    def caption(match: re.Match[str]) -> str:
        return f": {numbers[match.group(2)]}: {match.group(1)} {{#{match.group(2)}}}"

    def figure(match: re.Match[str]) -> str:
        text_, path, label_id, rest = match.groups()
        return f"![{numbers[label_id]}: {text_}]({path}){{#{label_id}{rest}}}"

    def reference(match: re.Match[str]) -> str:
        label_id = match.group(1)
        if label_id in numbers:
            return numbers[label_id]
        line = _line_of(text, match.start())
        if label_id.split("-", 1)[0] not in ("tbl", "fig"):
            raise ReportError(
                f"{source}, line {line}: the reference @{label_id} is not supported by the offline renderer "
                "(only @tbl- and @fig-): write the reference in words"
            )
        raise ReportError(f"{source}, line {line}: the reference @{label_id} has no table or figure with that label")

    text = _TABLE_CAPTION.sub(caption, text)
    text = _FIGURE.sub(figure, text)
    text = _REFERENCE.sub(reference, text)
    return text, numbers


def _root_relative_images(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        path = match.group(2)
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path) or path.startswith("/"):
            return match.group(0)
        return f"{match.group(1)}/{path.removeprefix('./')})"

    return re.sub(r"(!\[[^\]]*\]\()([^)\s]+)\)", replace, text)


def extract_colophon(body: str) -> tuple[str, str | None]:
    """Take the first ``::: {.colophon}`` block out of the body.

    Parameters
    ----------
    body : str
        The document body.

    Returns
    -------
    tuple of (str, str or None)
        The body without the block, and the block's Markdown (None when there is none).
    """
    match = _COLOPHON.search(body)
    if not match:
        return body, None
    return body[: match.start()] + body[match.end() :], match.group(1).strip("\n") + "\n"


def preprocess_qmd(
    source: Path,
    variables: dict[str, str],
    *,
    target: Target = "html",
    language: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> OfflineDocument:
    """Prepare a Quarto document for plain pandoc (see the module docstring).

    Parameters
    ----------
    source : Path
        The ``.qmd`` file; includes are resolved relative to its folder.
    variables : dict of str to str
        Values for ``{{< var >}}`` (from ``_variables.yml``).
    target : {"html", "typst"}, default "html"
        Output format the Markdown is prepared for. For Typst, relative image
        paths are made relative to the project root (``/path``), as Typst wants.
    language : {"da", "en"}, optional
        Language of the cross-reference names; default the front matter's ``lang``, else ``"da"``.
    metadata : dict, optional
        Front-matter values that override the document's (for example ``lang`` and ``toc-title``).

    Returns
    -------
    OfflineDocument
        Front matter and body ready for pandoc.

    Raises
    ------
    ReportError
        If the file is missing, a variable, include or reference cannot be
        resolved, or a shortcode the offline path does not support is used.
    """
    source = Path(source)
    if target not in ("html", "typst"):
        raise ReportError(f"offline target {target!r} is not supported: use 'html' or 'typst'")
    if not source.is_file():
        raise ReportError(f"{source} is missing: the report document must be in reports/")
    front, body = split_front_matter(source.read_text(encoding="utf-8"), source)
    front.update(metadata or {})
    language = check_language(str(language or front.get("lang") or "da").split("-")[0])
    body = resolve_includes(body, source.parent, source=source, root=source.parent)
    body = resolve_variables(body, variables, source=source)
    body = _PAGEBREAK.sub(lambda _m: pagebreak(target), body)
    leftover = _SHORTCODE.search(body)
    if leftover:
        raise ReportError(
            f"{source}, line {_line_of(body, leftover.start())}: the shortcode {leftover.group(0)} is not supported "
            "by the offline renderer (supported: include, var, pagebreak); install Quarto or remove it"
        )
    body, colophon = extract_colophon(body)
    body, numbers = number_crossrefs(body, language=language, source=source)
    body = _FIG_ALT.sub(r"\1alt=", body)
    body = convert_callouts(body, target=target, source=source)
    if target == "typst":
        body = _root_relative_images(body)
    metadata = _resolve_metadata(front, variables, source)
    if colophon:
        metadata["colophon"] = colophon
    dropped = tuple(sorted(key for key in metadata if key not in PANDOC_KEYS))
    kept = {key: value for key, value in metadata.items() if key in PANDOC_KEYS}
    kept.setdefault("lang", language)
    return OfflineDocument(metadata=kept, body=body, dropped_keys=dropped, numbers=numbers)
