"""Issue 14 in a real headless Chromium: the sources-over-time chart is visible,
and a click on one of its cells narrows the search (with and without JavaScript)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("SEARCHAPP_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists() and os.environ.get("SEARCHAPP_REQUIRE_BROWSER") != "1":
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_chart_is_visible_and_a_cell_narrows_the_search(chromium, live_server, js):
    from playwright.sync_api import expect

    context = chromium.new_context(java_script_enabled=js, viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(live_server.url + "/search?q=pipeline OR phishing OR grid")
        chart = page.locator("#timeline-source svg.timeline-svg")
        expect(chart).to_be_visible()
        cell = chart.locator("a.timeline-cell-link").first
        title = cell.locator("title").first.text_content()
        source, count = re.fullmatch(r"(.+), [^,]+: ([\d,]+) reports?", title).groups()
        cell.click()
        page.wait_for_url(re.compile(r"from="))
        params = parse_qs(urlsplit(page.url).query)
        assert params["source"] == [source] and params["q"] == ["pipeline OR phishing OR grid"]
        expect(page.locator("p.result-count strong")).to_have_text(count)
        assert not errors, errors  # a Content-Security-Policy violation would show here
    finally:
        context.close()
