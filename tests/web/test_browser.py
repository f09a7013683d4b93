"""What a person sees and does, in a real headless Chromium (Debian's
/usr/bin/chromium driven by Playwright; no tool downloads a browser), against
the app served by ``searchapp serve`` (waitress) on a free loopback port.

Screenshots of the main states go to each test's tmp_path and are copied to
``$SEARCHAPP_SHOTS`` (default /tmp/shots; empty: not copied). Without a
Chromium (``$SEARCHAPP_CHROMIUM``, default /usr/bin/chromium) the tests skip,
or fail when ``SEARCHAPP_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("SEARCHAPP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str):
    if os.environ.get("SEARCHAPP_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and SEARCHAPP_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright; never `playwright install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """One browser context on the live server, collecting console errors, saving screenshots."""

    def __init__(self, browser, server, shots: Path, js: bool, width: int = 1280) -> None:
        self.context = browser.new_context(java_script_enabled=js, viewport={"width": width, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.server = server
        self.shots = shots
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def goto(self, path: str):
        response = self.page.goto(self.server.url + path)
        return response

    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        copy_to = os.environ.get("SEARCHAPP_SHOTS", "/tmp/shots")
        if copy_to:
            Path(copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(copy_to) / path.name)

    def facet_counts(self, name: str) -> dict[str, int]:
        out = {}
        for item in self.page.locator(f'section[data-facet="{name}"] li.facet-value').all():
            label = item.locator(".facet-label").inner_text()
            out[label] = int(item.get_attribute("data-count"))  # curated and automatic
        return out

    def hit_titles(self) -> list[str]:
        return self.page.locator("li.hit h2").all_inner_texts()

    def close(self) -> None:
        self.context.close()


def checked_session(browser, server, tmp_path, js: bool):
    """A session for one test, which fails on any console error it saw."""
    s = Session(browser, server, tmp_path, js=js)
    s.js = js
    yield s
    s.close()
    assert not s.errors, s.errors  # includes any Content-Security-Policy violation


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def session(request, browser, live_server, tmp_path):
    yield from checked_session(browser, live_server, tmp_path, request.param)


def name(session, what: str) -> str:
    return f"{what}-{'js' if session.js else 'nojs'}"


def submit_filters(session) -> None:
    """Without JavaScript a ticked box waits for the Apply button; with it, it applies at once."""
    if not session.js:
        session.page.get_by_role("button", name="Apply filters").click()
    session.page.wait_for_load_state()


# -- the flows, with and without JavaScript -------------------------------------------

def test_type_a_query_and_see_highlighted_results(session):
    from playwright.sync_api import expect

    session.goto("/")
    page = session.page
    page.get_by_label("Search reports").fill("grain")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?.*q=grain"))
    expect(page.locator("p.result-count")).to_contain_text(re.compile(r"\d+ reports for grain"))
    marks = page.locator("li.hit h2 mark")
    expect(marks.first).to_have_text(re.compile("grain", re.I))
    expect(page.locator("li.hit .snippet mark").first).to_be_visible()
    # The highlight is visibly different from the text around it.
    background = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    if session.js:
        assert session.params() == {"q": ["grain"]}  # empty fields left out of the URL
    session.shot(name(session, "01-results"))


def test_tick_a_source_and_watch_the_other_counts_change(session):
    from playwright.sync_api import expect

    session.goto("/search?q=attacks")
    before_sources = session.facet_counts("source")
    before_topics = session.facet_counts("topic")
    session.page.get_by_label(re.compile(r"^CISA")).check()
    submit_filters(session)
    session.page.wait_for_url(re.compile(r"source=CISA"))
    expect(session.page.get_by_label(re.compile(r"^CISA"))).to_be_checked()
    after_sources = session.facet_counts("source")
    after_topics = session.facet_counts("topic")
    # The source facet keeps every source (tag/exclude) with the CISA one first;
    # the topic counts now count CISA's reports only.
    assert after_sources == before_sources
    assert list(after_sources)[0] == "CISA"
    assert after_topics != before_topics
    assert sum(after_topics.values()) < sum(before_topics.values())
    expect(session.page.locator("p.result-count")).to_contain_text(f"{before_sources['CISA']} reports")
    expect(session.page.locator("a.chip")).to_have_count(1)
    expect(session.page.locator("a.chip")).to_contain_text("Source: CISA")
    session.shot(name(session, "02-source-ticked"))


def test_click_a_year_in_the_histogram(session):
    from playwright.sync_api import expect

    session.goto("/search")
    session.page.get_by_role("link", name=re.compile(r"^2024: \d+ reports")).click()
    session.page.wait_for_url(re.compile(r"from=2024&to=2024"))
    expect(session.page.locator("ol.histogram")).to_have_attribute("aria-label", "Reports per month")
    expect(session.page.locator("a.chip")).to_contain_text(["Date: 2024"])
    dates = session.page.locator("li.hit time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
    assert dates and all(d.startswith("2024-") for d in dates)
    session.shot(name(session, "03-year-2024"))
    session.page.get_by_role("link", name=re.compile(r"^March 2024: 1 report$")).click()
    session.page.wait_for_url(re.compile(r"from=2024-03&to=2024-03"))
    assert session.hit_titles() == ["Russia shifts long-range drone attacks towards Black Sea ports"]


def test_remove_a_chip(session):
    from playwright.sync_api import expect

    session.goto("/search?q=attacks&source=CISA&topic=energy")
    chips = session.page.locator("a.chip")
    expect(chips).to_have_count(2)
    session.shot(name(session, "04-chips"))
    chips.filter(has_text="Topic: energy").click()
    session.page.wait_for_load_state()
    assert session.params() == {"q": ["attacks"], "source": ["CISA"]}
    expect(chips).to_have_count(1)
    session.page.get_by_role("link", name="Clear all filters").click()
    session.page.wait_for_load_state()
    assert session.params() == {"q": ["attacks"]}
    expect(chips).to_have_count(0)


def test_page_forward(session):
    from playwright.sync_api import expect

    session.goto("/search?per_page=2")
    first = session.hit_titles()
    session.page.get_by_role("link", name="Next ›").click()
    session.page.wait_for_url(re.compile(r"page=2"))
    expect(session.page.locator("ol.hits")).to_have_attribute("start", "3")
    second = session.hit_titles()
    assert len(second) == 2 and not set(first) & set(second)
    expect(session.page.locator('a[aria-current="page"]')).to_have_text("Page 2")
    session.shot(name(session, "05-page-2"))


def test_open_a_report_and_come_back(session):
    from playwright.sync_api import expect

    session.goto("/search?q=grain&source=Reuters&sort=newest")
    start = session.page.url
    titles = session.hit_titles()
    session.page.locator("li.hit h2 a").first.click()
    session.page.wait_for_url(re.compile(r"/reports/"))
    expect(session.page.locator("h1")).to_have_text(titles[0])
    expect(session.page.locator(".report-body mark").first).to_have_text(re.compile("grain", re.I))
    expect(session.page.get_by_role("heading", name="More like this")).to_be_visible()
    session.shot(name(session, "06-report"))
    session.page.get_by_role("link", name=re.compile("Back to results")).click()
    session.page.wait_for_load_state()
    assert parse_qs(urlsplit(session.page.url).query) == parse_qs(urlsplit(start).query)
    assert session.hit_titles() == titles


def test_no_results_offers_a_way_out(session):
    session.goto("/search?q=grain&source=CISA")
    page = session.page
    link = page.get_by_role("link", name="Without source: CISA")
    session.shot(name(session, "07-no-results"))
    link.click()
    page.wait_for_load_state()
    assert session.params() == {"q": ["grain"]}
    assert session.hit_titles()


def test_bad_input_is_a_readable_error_page(session):
    response = session.goto("/search?q=colour:red")
    assert response.status == 400
    from playwright.sync_api import expect

    expect(session.page.locator(".error-message")).to_contain_text("unknown field 'colour'")
    expect(session.page.get_by_label("Search reports")).to_have_value("colour:red")
    session.errors.clear()  # the browser logs the 400 itself
    session.shot(name(session, "08-error"))


# -- JavaScript niceties, keyboard, phone ---------------------------------------------------

@pytest.fixture
def js_session(browser, live_server, tmp_path):
    yield from checked_session(browser, live_server, tmp_path, True)


def test_slash_focuses_the_search_box_and_sort_applies_at_once(js_session):
    page = js_session.page
    js_session.goto("/search?q=attacks")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    # The query is selected, so typing replaces it; "/" itself is not typed.
    page.keyboard.type("pipeline")
    assert page.get_by_label("Search reports").input_value() == "pipeline"
    js_session.goto("/search?q=attacks")
    page.get_by_label("Sort by").select_option("oldest")
    page.wait_for_url(re.compile(r"sort=oldest"))
    dates = page.locator("li.hit time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
    assert dates == sorted(dates)


def test_filter_box_narrows_a_long_facet_list(js_session, index_dir):
    from playwright.sync_api import expect

    from searchapp import search

    topics = [v.value for v in search("", index_dir=index_dir).facets["topic"]]  # curated and automatic
    assert len(topics) > 10
    page = js_session.page
    js_session.goto("/search")
    box = page.get_by_label("Filter the topic list")
    expect(box).to_be_visible()
    summary = page.locator('section[data-facet="topic"] details.facet-more > summary')
    expect(summary).to_have_text(f"Show all {len(topics)}", use_inner_text=True)
    box.fill("sea")
    visible = page.locator('section[data-facet="topic"] li.facet-value:visible .facet-label').all_inner_texts()
    assert sorted(visible) == sorted(t for t in topics if "sea" in t.lower()) and "Black Sea" in visible
    expect(summary).to_be_hidden()
    js_session.shot("09-facet-filter-js")
    box.press("Escape")
    expect(page.locator('section[data-facet="topic"] li.facet-value:visible')).to_have_count(10)
    expect(summary).to_have_text(f"Show all {len(topics)}", use_inner_text=True)
    summary.click()
    expect(summary).to_have_text("Show fewer", use_inner_text=True)
    expect(page.locator('section[data-facet="topic"] li.facet-value:visible')).to_have_count(len(topics))


def test_keyboard_only_search_and_visible_focus(js_session):
    page = js_session.page
    js_session.goto("/search?q=grain")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    # Tab to the first result link and open it with Enter.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('li.hit h2') !== null"):
            break
    else:
        pytest.fail("no result link reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    js_session.shot("10-keyboard-focus-js")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/reports/"))


def test_readable_on_a_phone(browser, live_server, tmp_path):
    for js in (True, False):
        s = Session(browser, live_server, tmp_path, js=js, width=390)
        try:
            for path, what in [("/search?q=attacks&source=CISA", "phone-results"),
                               ("/reports/native/reuters-grain-2023?q=grain", "phone-report")]:
                s.goto(path)
                overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
                font = s.page.evaluate("parseFloat(getComputedStyle(document.querySelector('main')).fontSize)")
                assert font >= 16
                s.shot(f"11-{what}-{'js' if js else 'nojs'}")
            assert not s.errors, s.errors
        finally:
            s.close()


# -- issue 13: page details --------------------------------------------------------

def test_focus_stays_on_the_facet_box_that_applied(js_session):
    page = js_session.page
    js_session.goto("/search?q=attacks")
    box = page.get_by_label(re.compile(r"^CISA"))
    box.focus()
    page.keyboard.press("Space")  # ticks it: the page reloads with the filter
    page.wait_for_url(re.compile(r"source=CISA"))
    page.wait_for_load_state()
    focused = page.evaluate("[document.activeElement.name, document.activeElement.value, document.activeElement.checked]")
    assert focused == ["source", "CISA", True]
    page.keyboard.press("Space")  # and unticks it again, from the keyboard alone
    page.wait_for_url(lambda url: "source=" not in url)
    page.wait_for_load_state()
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["source", "CISA"]
    page.get_by_label("Sort by").focus()
    page.keyboard.press("ArrowDown")  # "Newest first" applies at once
    page.wait_for_url(re.compile(r"sort=newest"))
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "sort"


def test_the_sort_box_shows_the_results_sort_after_back(session):
    page = session.page
    session.goto("/search?q=attacks")
    page.get_by_label("Sort by").select_option("oldest")
    if not session.js:
        page.get_by_role("button", name="Sort").click()
    page.wait_for_url(re.compile(r"sort=oldest"))
    page.go_back()
    page.wait_for_url(lambda url: "sort=" not in url)
    assert page.get_by_label("Sort by").input_value() == "relevance"
    page.go_forward()
    page.wait_for_url(re.compile(r"sort=oldest"))
    assert page.get_by_label("Sort by").input_value() == "oldest"


def _hex(css_colour: str) -> str:
    """``rgb(100, 108, 124)`` as ``#646c7c``."""
    return "#" + "".join(f"{int(x):02x}" for x in re.findall(r"\d+", css_colour)[:3])


def test_facet_counts_as_drawn_pass_wcag_aa(js_session):
    js_session.goto("/search")
    colours = js_session.page.locator("aside .count").evaluate_all(
        "cs => cs.map(c => [getComputedStyle(c).color, getComputedStyle(c.closest('.sidebar')).backgroundColor])")
    assert colours
    from test_routes import contrast  # the one WCAG formula, tested there

    for fg, bg in colours:
        assert contrast(_hex(fg), _hex(bg)) >= 4.5, (fg, bg)


# A facet value of the mixed corpus, with its count as the page writes it (issue 13's "634 · +161 auto").
LONG_VALUE = ("Critical Manufacturing", '1,040<span class="count-auto"> · +395 auto</span>')
BROKEN_WORDS = """([label, count]) => {
  const list = document.querySelector('section[data-facet="source"] ul.facet-values');
  const item = list.querySelector('li.facet-value').cloneNode(true);
  item.querySelector('.facet-label').textContent = label;
  item.querySelector('.count').innerHTML = count;
  list.prepend(item);
  const text = item.querySelector('.facet-label').firstChild;
  let at = 0;
  const broken = label.split(' ').filter(word => {  // a word drawn on two lines has two boxes
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + word.length);
    at += word.length + 1;
    return range.getClientRects().length > 1;
  });
  const box = item.getBoundingClientRect(), sidebar = list.closest('.sidebar').getBoundingClientRect();
  return {broken, inside: box.right <= sidebar.right && item.querySelector('.count').getBoundingClientRect().right <= box.right + 0.5};
}"""


def test_a_facet_label_breaks_between_words_never_inside_one(js_session):
    js_session.goto("/search")
    result = js_session.page.evaluate(BROKEN_WORDS, list(LONG_VALUE))
    assert result == {"broken": [], "inside": True}
    js_session.shot("13-facet-long-label")


def test_histogram_labels_are_inside_the_histogram_and_undated_is_a_link(session):
    from playwright.sync_api import expect

    session.goto("/search")
    histogram = session.page.locator("ol.histogram")
    box = histogram.bounding_box()
    labels = session.page.locator("ol.histogram .bar-label:not(.is-hidden)")
    assert labels.count() >= 2
    for i in range(labels.count()):
        label = labels.nth(i).bounding_box()
        assert box["x"] <= label["x"] and label["x"] + label["width"] <= box["x"] + box["width"], (i, label, box)
    session.page.get_by_role("link", name="1 undated").click()
    session.page.wait_for_load_state()
    expect(session.page.locator("p.result-count")).to_contain_text("1 report")
    assert session.hit_titles() and not session.page.locator("li.hit time[datetime]").count()
    session.shot(name(session, "12-undated"))


# -- issue 12 and 15: report files, entities, near-duplicates (the formats corpus of conftest.py) -----

@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def formats_session(request, browser, formats_server, tmp_path):
    yield from checked_session(browser, formats_server, tmp_path, request.param)


def test_report_files_read_on_a_phone(browser, formats_server, tmp_path):
    s = Session(browser, formats_server, tmp_path, js=False, width=390)
    try:
        for path, what in [("/reports/pdf/pipeline-review?q=turbine", "pdf"), ("/reports/md/briefing", "markdown"),
                           ("/reports/wire:d1", "entities")]:
            s.goto(path)
            overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
            s.shot(f"26-phone-{what}")
        assert not s.errors, s.errors
    finally:
        s.close()


def test_a_pdf_hit_shows_its_page_and_opens_the_report_there(formats_session):
    from playwright.sync_api import expect

    s = formats_session
    s.goto("/search?q=turbine")
    hit = s.page.locator("li.hit")
    expect(hit).to_have_count(1)
    expect(hit.locator(".snippet-page")).to_have_text("p. 3")
    expect(hit.locator(".snippet mark")).to_have_text("turbine")
    expect(hit.locator(".hit-meta")).to_contain_text("Jane Analyst")
    expect(hit.locator(".hit-meta")).to_contain_text("English")
    s.shot(name(s, "20-pdf-hit"))
    hit.locator("h2 a").click()
    s.page.wait_for_url(re.compile(r"/reports/pdf/pipeline-review\?q=turbine#page-3$"))
    third = s.page.locator("section#page-3")
    expect(third.locator(".page-label")).to_contain_text("Page 3")
    expect(third.locator("mark")).to_have_text("turbine")
    expect(third).to_be_in_viewport()  # the anchor scrolled to it
    assert s.page.evaluate("document.querySelector(':target').id") == "page-3"
    expect(s.page.locator("section.pdf-page .page-label")).to_have_count(3)
    s.shot(name(s, "21-pdf-report"))


def test_the_pdf_opens_at_the_hits_page(browser, formats_server, tmp_path):
    """Chromium's viewer shows the file served inline under the sandbox, at #page=3 (see the screenshot)."""
    s = Session(browser, formats_server, tmp_path, js=True)
    try:
        s.goto("/search?q=turbine")
        href = s.page.locator("a.hit-pdf").get_attribute("href")
        assert href == "/files/pdf/pipeline-review?view=1#page=3"
        response = s.goto(href)
        headers = response.all_headers()
        assert response.status == 200 and headers["content-type"] == "application/pdf"
        assert headers["content-disposition"].startswith("inline;")
        assert headers["content-security-policy"].startswith("sandbox")
        s.page.wait_for_load_state()
        s.shot("22-pdf-viewer-at-page-3")
        # The viewer asks for /favicon.ico, which the site does not have.
        assert all("404" in e for e in s.errors), s.errors
        s.errors.clear()
    finally:
        s.close()


def test_a_markdown_report_shows_headings_and_working_links_and_no_raw_markup(formats_session):
    from playwright.sync_api import expect

    s = formats_session
    s.context.route("https://port.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Port authority</title><p>report</p>"))
    s.goto("/reports/md/briefing")
    body = s.page.locator(".report-html")
    expect(s.page.get_by_role("heading", name="Harbour Briefing", level=1)).to_be_visible()
    expect(body.get_by_role("heading", name="Findings", level=2)).to_be_visible()
    expect(body.locator("strong")).to_have_text("harbour")
    expect(body.locator("table td").first).to_have_text("C1")
    text = body.inner_text()
    assert "**" not in text and not re.search(r"(?m)^\s*#", text) and "|---" not in text
    assert "document.title" not in text and s.page.title() == "Harbour Briefing · searchapp"
    s.shot(name(s, "23-markdown-report"))
    link = body.get_by_role("link", name="the port authority")
    assert link.get_attribute("rel") == "noopener nofollow"
    link.click()
    s.page.wait_for_url("https://port.example/report")
    expect(s.page).to_have_title("Port authority")


def test_an_html_report_with_script_runs_nothing(formats_session):
    from playwright.sync_api import expect

    s = formats_session
    s.goto("/reports/html/advisory")
    expect(s.page.locator(".report-body")).to_contain_text("valve controller firmware accepts unsigned updates")
    assert s.page.evaluate("[typeof window.pwned, document.title]") == ["undefined", "Valve Advisory · searchapp"]
    assert s.page.locator(".report-body script, .report-body img").count() == 0
    # Its original file is a download, never a page of this site.
    with s.page.expect_download() as download:
        s.page.evaluate("location.href = '/files/html/advisory?view=1'")
    assert download.value.suggested_filename == "advisory.html"
    assert s.page.evaluate("[typeof window.pwned, location.pathname]") == ["undefined", "/reports/html/advisory"]


def test_near_duplicates_fold_and_entity_chips_filter(formats_session):
    from playwright.sync_api import expect

    s = formats_session
    s.goto("/search?q=depot+fire")
    # the three copies folded into the first hit; the depot's fence memo (one word) after them
    expect(s.page.locator("li.hit")).to_have_count(2)
    expect(s.page.locator("li.hit").first).to_contain_text("Fire at Rostov fuel depot")
    expect(s.page.locator(".grouping-note")).to_contain_text("Facet counts count every report.")
    s.shot(name(s, "24-near-duplicates-folded"))
    s.page.get_by_role("link", name="+2 similar").click()
    s.page.wait_for_url(re.compile(r"group="))
    expect(s.page.locator("li.hit")).to_have_count(3)
    s.page.locator("li.hit h2 a", has_text="(update)").click()
    s.page.wait_for_url(re.compile(r"/reports/wire:d3"))
    expect(s.page.locator("ol.near-duplicates a")).to_have_count(2)
    s.shot(name(s, "25-entities-and-near-duplicates"))
    s.page.locator("a.entity", has_text="Andrii Belkov").click()
    s.page.wait_for_url(re.compile(r"person=Andrii\+Belkov"))
    expect(s.page.locator("a.chip")).to_contain_text(["People: Andrii Belkov"])
    expect(s.page.locator('section[data-facet="person"] input:checked')).to_have_count(1)
