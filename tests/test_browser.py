"""The rendered findings as a reader's browser shows them (issue: accessible web pages, WCAG 2.1 AA).

Every HTML page of ``reports/_output/`` from the session's one tiny pipeline run (``tiny_run`` in
conftest.py, shared with ``test_pipeline.py``) is opened in headless Chromium at 320 and 1280 CSS
pixels. The tests require zero axe-core violations of impact serious or critical against the WCAG
2.1 A and AA rules, no sideways scrolling of the page, links and images that resolve offline, a
``lang`` on every document, headings in order, tables with captions, header cells and a labelled
scroll box, and a landing page from which the keyboard alone reaches every factsheet with a visible
focus. Screenshots of the landing page, a factsheet and a report chapter at both widths are saved
under ``test-output/browser/`` (or ``$EVALUATION_TEST_OUTPUT/browser``), with every axe finding of
any impact in ``axe-violations.json``.

Without Chromium, ChromeDriver or Selenium the tests are skipped with the reason;
``EVALUATION_BROWSER_TEST=require`` (set by ``.ci/run`` after installing them) makes that a failure.
"""

from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path

import pytest

from browser import (
    ROOT,
    audit_page,
    full_page_png,
    set_width,
    start_chromium,
    unavailable,
    viewport_png,
)
from workspace import tiny_config

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WIDTHS = (320, 1280)
OUTPUT = Path(os.environ.get("EVALUATION_TEST_OUTPUT", ROOT / "test-output")) / "browser"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium, or a skip (a failure with EVALUATION_BROWSER_TEST=require) saying what is missing."""
    reason = unavailable()
    if reason:
        if os.environ.get("EVALUATION_BROWSER_TEST") == "require":
            pytest.fail(f"EVALUATION_BROWSER_TEST=require, but {reason}")
        pytest.skip(reason)
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def run(browser, request) -> Path:
    """The session's tiny pipeline run, asked for only once the browser is there (a session fixture named
    as an argument would be set up first, running the pipeline before the skip)."""
    return request.getfixturevalue("tiny_run")


@pytest.fixture(scope="module")
def site(run: Path) -> Path:
    return run / "reports" / "_output"


@pytest.fixture(scope="module")
def audits(browser, site: Path) -> dict[int, list]:
    pages = sorted(site.glob("*.html"))
    found = {width: [audit_page(browser, page, width) for page in pages] for width in WIDTHS}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    record = [
        {"page": a.page, "width": a.width, "violations": a.violations, "overflow": a.overflow}
        for width in WIDTHS
        for a in found[width]
    ]
    (OUTPUT / "axe-violations.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return found


def test_every_planned_page_is_there_with_the_landing_pages(site: Path, run: Path) -> None:
    from evaluation.report.documents import planned_outputs
    from evaluation.report.landing import site_outputs

    config = tiny_config(run)
    planned = {Path(p).name for p in planned_outputs(config) + site_outputs(config) if p.endswith(".html")}
    assert {"index.html", "index-en.html", "accessibility.html"} <= planned
    assert {p.name for p in site.glob("*.html")} == planned


@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_or_critical_wcag_violation(audits, width: int) -> None:
    blocking = [line for audit in audits[width] for line in audit.blocking()]
    assert blocking == [], "axe-core (WCAG 2.1 A/AA) found:\n" + "\n".join(blocking)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(audits, width: int) -> None:
    wide = [f"{a.page}: {a.overflow}px too wide ({', '.join(a.overflowing)})" for a in audits[width] if a.overflow > 0]
    assert wide == [], f"pages scroll sideways at {width} CSS px:\n" + "\n".join(wide)


def test_every_link_resolves_offline(audits) -> None:
    broken = sorted({f"{a.page}: {why}" for a in audits[1280] for why in a.broken})
    assert broken == [], "\n".join(broken)


def test_every_image_loads_and_states_its_message(audits) -> None:
    bad = [
        f"{a.page}: {image['src']}... loaded={image['complete'] and image['width'] > 0}, alt={image['alt']!r}"
        for a in audits[1280]
        for image in a.images
        if not (image["complete"] and image["width"] > 0 and len((image["alt"] or "").strip()) >= 20)
    ]
    assert bad == [], "\n".join(bad)


def test_every_document_declares_its_language(audits) -> None:
    expected = {a.page: "en" if a.page.endswith("-en.html") or a.page == "accessibility.html" else "da"
                for a in audits[1280]}  # fmt: skip
    assert {a.page: a.lang for a in audits[1280]} == expected


def test_headings_go_down_one_level_at_a_time(audits) -> None:
    skips = []
    for a in audits[1280]:
        levels = a.headings
        assert levels and levels[0] == 1, f"{a.page} does not start with a level-1 heading: {levels[:5]}"
        skips += [f"{a.page}: h{before} then h{after}" for before, after in pairwise(levels) if after > before + 1]
    assert skips == [], "\n".join(skips)


def test_tables_have_captions_header_cells_and_a_labelled_scroll_box(audits) -> None:
    bad = []
    for a in audits[1280]:
        for i, table in enumerate(a.tables, 1):
            box = table["box"] or {}
            if not (table["caption"] and table["headers"] and box.get("role") == "region"):
                bad.append(f"{a.page}, table {i}: {table}")
            elif box.get("tabindex") != "0" or not box.get("label"):
                bad.append(f"{a.page}, table {i}: scroll box without tabindex or label: {box}")
    assert bad == [], "\n".join(bad)


def _focused(driver) -> dict:
    return driver.execute_script(
        """
        const el = document.activeElement, style = getComputedStyle(el), r = el.getBoundingClientRect();
        return {tag: el.tagName.toLowerCase(), href: el.getAttribute('href'), id: el.id, cls: el.className,
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight};
        """
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_landing_page_reaches_every_factsheet_by_keyboard(browser, site: Path, width: int) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    set_width(browser, width)
    browser.get((site / "index.html").as_uri())
    factsheets = {p.name for p in site.glob("factsheet-*.html")}
    assert factsheets, "no factsheet was rendered"
    n_focusable = browser.execute_script("return document.querySelectorAll('a[href], [tabindex=\"0\"]').length")
    keys = ActionChains(browser)
    keys.send_keys(Keys.TAB).perform()
    first = _focused(browser)
    assert "skip-link" in first["cls"] and first["visible"] and first["outline"], f"first Tab: {first}"
    reached, unseen_focus = set(), []
    for _ in range(n_focusable + 2):
        keys.send_keys(Keys.TAB).perform()
        now = _focused(browser)
        if now["tag"] == "body":  # past the last stop: the focus left the page
            break
        if not (now["outline"] and now["visible"]):
            unseen_focus.append(now)
        if now["href"] in factsheets:
            reached.add(now["href"])
    assert reached == factsheets, f"not reached by Tab: {sorted(factsheets - reached)}"
    assert unseen_focus == [], f"focus not visible on: {unseen_focus[:5]}"
    # the skip link moves the focus to the main content
    browser.get((site / "index.html").as_uri())
    keys.send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    assert _focused(browser)["id"] == "main"


def test_factsheets_and_reports_link_to_the_landing_page(site: Path) -> None:
    for page in sorted(site.glob("*.html")):
        if page.name.startswith("index"):
            continue
        text = page.read_text(encoding="utf-8")
        assert 'href="index.html"' in text or 'href="index-en.html"' in text, page.name


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_landing_page_a_factsheet_and_a_chapter(browser, site: Path, width: int) -> None:
    factsheet = site / "factsheet-657.html"
    if not factsheet.is_file():
        factsheet = sorted(site.glob("factsheet-*.html"))[0]
    saved = []
    for name, page in (("landing", site / "index.html"), ("factsheet", factsheet)):
        set_width(browser, width)
        browser.get(page.as_uri())
        saved.append(full_page_png(browser, width, OUTPUT / f"{name}-{width}.png"))
    set_width(browser, width)
    browser.get((site / "final.html").as_uri())
    browser.execute_script(
        "const t = document.getElementById('tbl-main');"
        "const s = (t && t.closest('section.level1')) || document.querySelector('main section');"
        "s.scrollIntoView();"
    )
    saved.append(viewport_png(browser, OUTPUT / f"chapter-{width}.png"))
    for path in saved:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000, path
