"""Block-level Quarto constructs for the offline renderer: callouts and page breaks.

Quarto draws callouts (``::: {.callout-note}``) as boxes and understands
``{{< pagebreak >}}``; plain pandoc does neither. These functions rewrite them
into what pandoc passes on: fenced divs that the HTML stylesheet styles, or raw
Typst calls of the ``#callout`` function defined in the package's Typst template.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from evaluation.errors import ReportError

Target = Literal["html", "typst"]
CALLOUT_KINDS: tuple[str, ...] = ("note", "tip", "warning", "important", "caution")

_DIV_OPEN = re.compile(r"^(:{3,})[ \t]*\{([^}]*)\}[ \t]*$")
_DIV_CLOSE = re.compile(r"^:{3,}[ \t]*$")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t]*$")


def _typst_escape(text: str) -> str:
    return re.sub(r"([\\#\[\]*_$@<>`~=\-+/])", r"\\\1", text)


def _attributes(spec: str) -> tuple[list[str], dict[str, str]]:
    classes = re.findall(r"(?:^|\s)\.([A-Za-z0-9_-]+)", spec)
    pairs = dict(re.findall(r"([A-Za-z0-9_-]+)=\"([^\"]*)\"", spec))
    return classes, pairs


def convert_callouts(text: str, *, target: Target, source: Path | str = "<document>") -> str:
    """Turn Quarto callouts into a styled box for the target format.

    Parameters
    ----------
    text : str
        The document body.
    target : {"html", "typst"}
        HTML: a ``.callout`` div with a ``.callout-title`` div; Typst: raw calls of
        the template's ``#callout(kind:, title:)[...]``.
    source : Path or str
        The file, for messages.

    Returns
    -------
    str
        The converted text.

    Raises
    ------
    ReportError
        If a fenced div is not closed.
    """
    lines = text.split("\n")
    out: list[str] = []
    stack: list[bool] = []  # True for an open callout
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _DIV_OPEN.match(line)
        if opening:
            classes, pairs = _attributes(opening.group(2))
            kinds = [c.removeprefix("callout-") for c in classes if c.removeprefix("callout-") in CALLOUT_KINDS]
            if not any(c.startswith("callout-") for c in classes) or not kinds:
                stack.append(False)
                out.append(line)
                i += 1
                continue
            kind = kinds[0]
            title = pairs.get("title")
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if title is None and j < len(lines) and _HEADING.match(lines[j]):
                title = _HEADING.match(lines[j]).group(1)  # type: ignore[union-attr]
                i = j
            stack.append(True)
            if target == "html":
                out.append(f"::: {{.callout .callout-{kind}}}")
                if title:
                    out += ["::: {.callout-title}", title, ":::", ""]
            else:
                call = f'#callout(kind: "{kind}", title: [{_typst_escape(title)}])[' if title else "#callout["
                out += ["```{=typst}", call, "```", ""]
            i += 1
            continue
        if _DIV_CLOSE.match(line) and stack:
            was_callout = stack.pop()
            if was_callout and target == "typst":
                out += ["", "```{=typst}", "]", "```"]
            else:
                out.append(line)
            i += 1
            continue
        out.append(line)
        i += 1
    if stack:
        raise ReportError(f"{source}: a fenced div (:::) is opened but never closed")
    return "\n".join(out)


def pagebreak(target: Target) -> str:
    """Return a page break as a raw block of the target format.

    Parameters
    ----------
    target : {"html", "typst"}
        The output format.

    Returns
    -------
    str
        A fenced raw block (an HTML div with a page-break style, or ``#pagebreak()``).
    """
    if target == "html":
        return '```{=html}\n<div class="page-break"></div>\n```'
    return "```{=typst}\n#pagebreak()\n```"
