"""Open rendered pages in headless Chromium (Selenium + Debian's chromium-driver) and audit them.

Used by ``test_browser.py``. The browser is Debian's ``chromium`` with its matching
``chromium-driver`` (``.ci/run`` installs both when it runs as root); their paths can be
set with ``EVALUATION_CHROMIUM`` and ``EVALUATION_CHROMEDRIVER``. Nothing is downloaded:
Selenium is given both paths, and axe-core is the vendored copy in ``tests/vendor/axe-core``.

Widths are set with the DevTools protocol (``Emulation.setDeviceMetricsOverride``), so a
page is laid out at exactly 320 or 1280 CSS pixels whatever the window's decorations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
#: The WCAG 2.1 A and AA rules of axe-core.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS = ("serious", "critical")
#: Chromium's switches for a closed network, as root, with no first-run or background traffic.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--force-device-scale-factor=1",
    "--window-size=1280,900",
)
HEIGHT = 900


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: make setup installs the pinned requirements.lock"
    if chromium_path() is None:
        return "Chromium is not installed (Debian: apt-get install chromium chromium-driver; .ci/run does so as root)"
    if chromedriver_path() is None:
        return "ChromeDriver is not installed (Debian: apt-get install chromium-driver; .ci/run does so as root)"
    return None


def chromium_path() -> str | None:
    """The Chromium binary: ``EVALUATION_CHROMIUM`` or the first of chromium / chromium-browser on PATH."""
    named = os.environ.get("EVALUATION_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return next((path for name in ("chromium", "chromium-browser") if (path := shutil.which(name))), None)


def chromedriver_path() -> str | None:
    """The ChromeDriver binary: ``EVALUATION_CHROMEDRIVER`` or chromedriver on PATH (Debian: /usr/bin)."""
    named = os.environ.get("EVALUATION_CHROMEDRIVER")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromedriver")


def axe_source() -> str:
    """The vendored axe-core, checked against its recorded checksum."""
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise RuntimeError(f"{AXE} is not axe-core {AXE_VERSION} (sha256 {digest}): see its README.md")
    return data.decode("utf-8")


def start_chromium(profile: Path | None = None):  # noqa: ANN201 (selenium's WebDriver)
    """Start headless Chromium under ChromeDriver with a fresh, empty profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path()
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={profile or tempfile.mkdtemp(prefix='chromium-')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver_path()))
    driver.set_script_timeout(180)
    driver.set_page_load_timeout(120)
    return driver


def set_width(driver, width: int, height: int = HEIGHT) -> None:  # noqa: ANN001
    """Lay pages out at ``width`` x ``height`` CSS pixels (device scale 1)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def run_axe(driver) -> list[dict[str, Any]]:  # noqa: ANN001
    """Run axe-core's WCAG 2.1 A/AA rules on the loaded page; return its violations."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(axe_source())
    script = """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));
    """
    found = json.loads(driver.execute_async_script(script, list(WCAG_TAGS)))
    if isinstance(found, dict):
        raise RuntimeError(f"axe-core failed on {driver.current_url}: {found['error']}")
    return found


def horizontal_overflow(driver) -> int:  # noqa: ANN001
    """How many CSS pixels the page scrolls sideways (0: none)."""
    return int(
        driver.execute_script(
            "const e = document.documentElement;"
            "return Math.max(e.scrollWidth, document.body.scrollWidth) - e.clientWidth;"
        )
    )


def overflowing_elements(driver, limit: int = 5) -> list[str]:  # noqa: ANN001
    """Describe elements that stick out of the viewport on the right, outside a table's scroll box."""
    return driver.execute_script(
        """
        const width = document.documentElement.clientWidth, out = [];
        for (const el of document.body.querySelectorAll('*')) {
          if (el.closest('.table-scroll') && !el.classList.contains('table-scroll')) continue;
          const r = el.getBoundingClientRect();
          if (r.right > width + 1 && r.width > 0) {
            out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
                     + ' right=' + Math.round(r.right));
            if (out.length >= arguments[0]) break;
          }
        }
        return out;
        """,
        limit,
    )


def page_facts(driver) -> dict[str, Any]:  # noqa: ANN001
    """Links (resolved), images (loaded, natural width, alt), ids, the document's lang, heading levels, tables."""
    return driver.execute_script(
        """
        return {
          links: [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, text: a.textContent.trim()})),
          images: [...document.images].map(i => ({src: i.src.slice(0, 80), complete: i.complete,
                                                  width: i.naturalWidth, alt: i.getAttribute('alt')})),
          ids: [...document.querySelectorAll('[id]')].map(e => e.id),
          lang: document.documentElement.lang,
          headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1])),
          tables: [...document.querySelectorAll('table')].map(t => {
            const box = t.closest('.table-scroll');
            return {caption: t.caption ? t.caption.textContent.trim() : '', headers: t.querySelectorAll('th').length,
                    box: box ? {role: box.getAttribute('role'), tabindex: box.getAttribute('tabindex'),
                                label: box.getAttribute('aria-label') || ''} : null};
          }),
        };
        """
    )


def broken_link(href: str, page_ids: set[str], page: Path) -> str | None:
    """Why a link of ``page`` does not resolve offline, or None when it does (external links are not followed)."""
    url = urlparse(href)
    if url.scheme in ("http", "https", "mailto"):
        return None
    if url.scheme != "file":
        return f"{href}: a link the file system cannot open"
    target = Path(unquote(url.path))
    if not target.is_file():
        return f"{href}: no such file"
    fragment = unquote(url.fragment)
    if fragment:
        ids = page_ids if target == page else _ids_of(target)
        if fragment not in ids:
            return f"{href}: no element with id {fragment!r} in {target.name}"
    return None


def _ids_of(path: Path) -> set[str]:
    import re

    return set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8", errors="replace")))


def full_page_png(driver, width: int, path: Path) -> Path:  # noqa: ANN001
    """Save a PNG of the whole page laid out at ``width`` CSS pixels."""
    set_width(driver, width)
    height = int(driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)"))
    set_width(driver, width, min(max(height, HEIGHT), 16_000))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(driver.get_screenshot_as_png())
    set_width(driver, width)
    return path


def viewport_png(driver, path: Path) -> Path:  # noqa: ANN001
    """Save a PNG of what the window shows now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(driver.get_screenshot_as_png())
    return path


@dataclass
class PageAudit:
    """What one page showed in the browser at one width."""

    page: str
    width: int
    violations: list[dict[str, Any]] = field(default_factory=list)
    overflow: int = 0
    overflowing: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    lang: str = ""
    headings: list[int] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)

    def blocking(self) -> list[str]:
        """The serious and critical violations, one line each with the first offending nodes."""
        lines = []
        for v in self.violations:
            if v.get("impact") in BLOCKING_IMPACTS:
                nodes = "; ".join(n.get("target", [""])[0] if n.get("target") else "" for n in v["nodes"][:3])
                lines.append(
                    f"{self.page} @ {self.width}px: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes: {nodes})"
                )
        return lines


def audit_page(driver, path: Path, width: int) -> PageAudit:  # noqa: ANN001
    """Load ``path`` at ``width`` CSS pixels and record axe's violations, sideways scrolling, links and images."""
    set_width(driver, width)
    driver.get(path.resolve().as_uri())
    result = PageAudit(path.name, width)
    result.violations = run_axe(driver)
    result.overflow = horizontal_overflow(driver)
    if result.overflow > 0:
        result.overflowing = overflowing_elements(driver)
    found = page_facts(driver)
    ids = set(found["ids"])
    result.broken = [why for link in found["links"] if (why := broken_link(link["href"], ids, path.resolve()))]
    result.images = found["images"]
    result.lang, result.headings, result.tables = found["lang"], found["headings"], found["tables"]
    return result
