"""The rendered reports as one small web site: shared page parts and the pandoc call for HTML pages.

Every HTML page in ``reports/_output/`` (the reports, the factsheets, the landing pages
``index.html`` / ``index-en.html`` and the accessibility statement) is made by pandoc with the
package's template ``report.html``, stylesheet ``report.css`` and Lua filter ``accessible.lua``,
so that they share one accessible layout (docs/accessibility.md): a skip link to the main
content, a link to the landing page, tables in labelled boxes that scroll on their own at phone
widths, and a print stylesheet. Pages are self-contained (``--embed-resources``) and work from
the file system without a network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypandoc

from evaluation.errors import ReportError
from evaluation.report.labels import labels
from evaluation.report.numbers import check_language
from evaluation.report.templates_path import template_path

#: The landing page of each language, in ``reports/_output/``.
LANDING_STEMS: dict[str, str] = {"da": "index", "en": "index-en"}
#: The accessibility statement rendered from ``docs/accessibility.md``.
STATEMENT_STEM = "accessibility"


def landing_name(language: str) -> str:
    """Return the file name of the landing page in ``language`` (``index.html``, ``index-en.html``)."""
    return f"{LANDING_STEMS[check_language(language)]}.html"


def page_metadata(language: str, links: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Front-matter values of the page frame (skip link, site navigation) in ``language``.

    Parameters
    ----------
    language : {"da", "en"}
        The page's language.
    links : list of dict, optional
        The site navigation's links (``href``, ``label`` and, for a page in another language, ``lang``);
        default one link to the landing page of ``language``.

    Returns
    -------
    dict
        ``skip-label`` and ``site-nav`` for the template ``report.html``.
    """
    words = labels(language)["page_frame"]
    if links is None:
        links = [{"href": landing_name(language), "label": words["home"]}]
    return {"skip-label": words["skip"], "site-nav": {"label": words["nav"], "links": links}}


def html_options(resource_dir: Path) -> list[str]:
    """Pandoc options of a standalone, self-contained HTML page in the site's layout.

    Parameters
    ----------
    resource_dir : Path
        The folder that relative image paths are resolved from.

    Returns
    -------
    list of str
        Options for pandoc's ``html5`` writer.
    """
    return [
        "--standalone",
        "--embed-resources",
        f"--template={template_path('report.html')}",
        f"--css={template_path('report.css')}",
        f"--lua-filter={template_path('accessible.lua')}",
        f"--resource-path={Path(resource_dir).resolve()}",
        "--section-divs",
    ]


def write_html_page(markdown: str, output: Path, resource_dir: Path, options: list[str] | None = None) -> Path:
    """Render pandoc Markdown (with a YAML front matter) to a page of the site.

    Parameters
    ----------
    markdown : str
        The page, front matter included.
    output : Path
        The HTML file to write.
    resource_dir : Path
        The folder that relative image paths are resolved from.
    options : list of str, optional
        Further pandoc options (table of contents, numbered sections).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    ReportError
        If pandoc fails.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        pypandoc.convert_text(
            markdown,
            to="html5",
            format="markdown-citations",
            extra_args=[*html_options(resource_dir), *(options or [])],
            outputfile=str(output),
        )
    except RuntimeError as err:
        raise ReportError(f"pandoc could not write the page {output}: {err}") from err
    return output
