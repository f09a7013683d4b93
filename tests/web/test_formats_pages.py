"""The pages and the API on real report files (issue 12), entities and near-duplicates
(issue 15) and the curated/automatic topic counts (issue 13), through Flask's test
client on the formats corpus of conftest.py."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from conftest import HOSTILE_NAME

from searchapp import SearchIndex

PDF_ID = "pdf/pipeline-review"
MD_ID = "md/briefing"
HTML_ID = "html/advisory"
MAIL_ID = "mail/notes"
ATTACHMENT_ID = "mail/notes/inspection.md"
ODD_ID = "odd/" + HOSTILE_NAME.replace("\\r\\n", "\r\n").removesuffix(".txt")


def hits_of(page):
    return page.find_all("li", cls="hit")


def meta_of(page) -> dict:
    return {d.find("dt").text: d.find("dd") for d in page.find("dl", cls="report-meta").find_all("div")}


def facet_of(page, name) -> list[tuple[str, str, int, int]]:
    """(value, label shown, count, auto) of a facet's entries."""
    out = []
    for item in page.find("section", data_facet=name).find_all("li", cls="facet-value"):
        out.append((item.find("input").attrs["value"], item.find("span", cls="facet-label").text,
                    int(item.attrs["data-count"]), int(item.attrs["data-auto"])))
    return out


def report_path(report_id: str) -> str:
    return "/reports/" + quote(report_id, safe="/:")


# -- PDF: pages --------------------------------------------------------------

def test_a_pdf_hit_names_its_page_and_links_to_it(formats_client, html):
    page = html(formats_client.get("/search?q=turbine"))
    (hit,) = hits_of(page)
    snippet = hit.find("p", cls="snippet")
    assert snippet.find("span", cls="snippet-page").text == "p. 3"
    assert [m.text for m in snippet.find_all("mark")] == ["turbine"]
    assert hit.find("h2").find("a").attrs["href"] == f"/reports/{PDF_ID}?q=turbine#page-3"
    assert hit.find("a", cls="hit-pdf").attrs["href"] == f"/files/{PDF_ID}?view=1#page=3"
    meta = hit.find("p", cls="hit-meta")
    assert meta.find("span", cls="hit-authors").text == "Authors: Jane Analyst"
    assert meta.find("a", cls="hit-language").text == "Language: English"


def test_the_pdf_report_shows_its_text_page_by_page(formats_client, html, formats_index):
    page = html(formats_client.get(f"{report_path(PDF_ID)}?q=turbine"))
    sections = page.find_all("section", cls="pdf-page")
    assert [s.attrs["id"] for s in sections] == ["page-1", "page-2", "page-3"]
    assert [s.find("p", cls="page-label").find("a").text for s in sections] == ["Page 1", "Page 2", "Page 3"]
    assert [s.find("a", cls="page-pdf").attrs["href"] for s in sections] == [
        f"/files/{PDF_ID}?view=1#page={n}" for n in (1, 2, 3)]
    assert [[m.text for m in s.find_all("mark")] for s in sections] == [[], [], ["turbine"]]
    assert "cracked welds at station four" in sections[2].find("div", cls="page-text").text
    meta = meta_of(page)
    assert meta["Author"].text == "Jane Analyst" and meta["Language"].text == "English"
    download = meta["Download"]
    assert download.find("a", cls="download").attrs["href"] == f"/files/{PDF_ID}"
    assert download.find("a", cls="view-pdf").attrs["href"] == f"/files/{PDF_ID}?view=1"


def test_a_markdown_report_marks_the_query_words_in_its_html(formats_client, html):
    page = html(formats_client.get(f"{report_path(MD_ID)}?q=harbour+inspect"))
    body = page.find("div", cls="report-html")
    assert [m.text for m in body.find_all("mark")] == ["harbour", "inspected"]
    assert body.find("strong").find("mark").text == "harbour"  # inside its own markup
    assert body.find("a").attrs["href"] == "https://port.example/report"  # attributes untouched
    plain = html(formats_client.get(report_path(MD_ID)))
    assert plain.find("div", cls="report-html").find_all("mark") == []


def test_marking_touches_text_only_and_escapes_it_again():
    from markupsafe import Markup

    from searchapp.results import Highlighted
    from searchapp.web.reportview import mark_words

    text = "AT&T fixes <b> at the amp"
    body = Highlighted(text, ((0, 4), (22, 25)))  # "AT&T" and "amp"
    html = Markup('<p title="amp">AT&amp;T fixes &lt;b&gt; at the amp</p>')
    assert mark_words(html, body) == Markup(
        '<p title="amp"><mark>AT&amp;T</mark> fixes &lt;b&gt; at the <mark>amp</mark></p>')
    assert mark_words(html, Highlighted(text)) is html and mark_words(None, body) is None


# -- the original file ------------------------------------------------------------

def test_the_original_file_is_a_download_with_safe_headers(formats_client, formats_index):
    corpus, _ = formats_index
    r = formats_client.get(f"/files/{PDF_ID}")
    assert r.status_code == 200
    assert r.data == (corpus / "pdf" / "pipeline-review.pdf").read_bytes()
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=\"pipeline-review.pdf\"; filename*=UTF-8''pipeline-review.pdf")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    viewed = formats_client.get(f"/files/{PDF_ID}?view=1")
    assert viewed.headers["Content-Disposition"].startswith("inline; ")
    assert viewed.headers["Content-Security-Policy"] == r.headers["Content-Security-Policy"]


def test_markup_files_are_sent_as_text_or_bytes_never_as_html(formats_client, formats_index):
    corpus, _ = formats_index
    markdown = formats_client.get(f"/files/{MD_ID}")
    assert markdown.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert markdown.data == (corpus / "md" / "briefing.md").read_bytes()
    page = formats_client.get(f"/files/{HTML_ID}?view=1")  # only a PDF may be viewed
    assert page.headers["Content-Type"] == "application/octet-stream"
    assert page.headers["Content-Disposition"].startswith("attachment; filename=\"advisory.html\"")
    assert page.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_hostile_file_name_cannot_end_the_header_or_add_a_parameter(formats_client):
    r = formats_client.get("/files/" + quote(ODD_ID, safe="/"))
    assert r.status_code == 200, r.get_data(as_text=True)
    value = r.headers["Content-Disposition"]
    assert "\r" not in value and "\n" not in value
    # Quotes, colons and line breaks gone; the ASCII name without ";" or "="; the full one percent-encoded.
    assert value == ("attachment; filename=\"memo x_ filename_evil.htmlSet-Cookie a_1.txt\"; "
                     "filename*=UTF-8''memo%20x%3B%20filename%3Devil.htmlSet-Cookie%20a%3D1.txt")
    assert "Set-Cookie" not in r.headers and r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unknown_ids_records_and_paths_are_refused(formats_client):
    for path, message in [
        ("/files/nope", "no report with id &#39;nope&#39;"),
        ("/files/..%2f..%2fetc%2fpasswd", "no report with id &#39;../../etc/passwd&#39;"),
        ("/files/pdf/../../../etc/passwd", "no report with id"),
        ("/files/wire:d1", "one record of a collection file"),
    ]:
        r = formats_client.get(path)
        assert r.status_code == 404, path
        assert message in r.get_data(as_text=True), path
        assert "Content-Disposition" not in r.headers


def test_a_file_moved_out_of_the_corpus_is_refused(formats_index, tmp_path):
    """The file comes from the index's path under the corpus setting: another corpus folder has none of it."""
    from searchapp.config import Settings
    from searchapp.web import create_app

    _, index = formats_index
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "pipeline-review.pdf").symlink_to("/etc/hostname")
    client = create_app(Settings(corpus=tmp_path, index=index)).test_client()
    r = client.get(f"/files/{PDF_ID}")
    assert r.status_code == 404 and "is not in the corpus folder" in r.get_data(as_text=True)
    page = client.get(report_path(PDF_ID)).get_data(as_text=True)
    assert "/files/" not in page  # nothing offered


def test_json_lines_records_offer_no_file(formats_client, html):
    page = html(formats_client.get(report_path("wire:d1")))
    assert "Download" not in meta_of(page)


# -- Markdown and HTML ----------------------------------------------------------------

def test_a_markdown_report_shows_safe_html(formats_client, html):
    r = formats_client.get(report_path(MD_ID))
    page = html(r)
    body = page.find("div", cls="report-html")
    assert [h.text for h in body.find_all("h2")] == ["Findings"]
    link = body.find("a")
    assert (link.text, link.attrs["href"], link.attrs["rel"]) == (
        "the port authority", "https://port.example/report", "noopener nofollow")
    assert [c.text for c in body.find_all("td")] == ["C1", "sound"]
    assert body.find("strong").text == "harbour" and body.find("em").text == "inspected"
    text = r.get_data(as_text=True)
    inside = text[text.index('class="report-body report-html"'):text.index("</article>")]
    for bad in ("<script", "onerror", "javascript:", "pwned-md\"", "**", "## ", "]("):
        assert bad not in inside.replace("[a bad link](javascript:alert(1))", ""), bad
    assert all("href" not in a.attrs for a in body.find_all("a")[1:])  # the script link lost its address
    assert [img.attrs for img in body.find_all("img")] == [{}]  # no address to fetch


def test_the_page_cleans_stored_html_again():
    from searchapp.web.reportview import safe_html

    assert safe_html('<h2 id="page-1" onclick="x()">T</h2><script>alert(1)</script><a href="javascript:x">j</a>'
                     '<img src="fig.png" alt="Figure"><iframe src="https://x.example"></iframe>') == (
        '<h2>T</h2><a rel="noopener nofollow">j</a><img alt="Figure">')
    assert safe_html(None) is None and safe_html("") is None


def test_an_html_report_is_shown_as_text(formats_client, html):
    r = formats_client.get(report_path(HTML_ID))
    body = html(r).find("div", cls="report-body")
    assert "valve controller firmware accepts unsigned updates" in body.text
    assert body.find_all("script") == [] and body.find_all("img") == []
    assert "pwned" not in body.text


# -- e-mail ----------------------------------------------------------------------------

def test_a_message_lists_its_attachments_and_an_attachment_links_its_message(formats_client, html):
    page = html(formats_client.get(report_path(MAIL_ID)))
    links = page.find("section", cls="attachments").find_all("a")
    assert [(a.text, a.attrs["href"]) for a in links] == [("Inspection", f"/reports/{ATTACHMENT_ID}")]
    assert meta_of(page)["Author"].text == "Sam Reporter"
    attachment = html(formats_client.get(report_path(ATTACHMENT_ID)))
    parent = meta_of(attachment)["Attached to"].find("a")
    assert (parent.text, parent.attrs["href"]) == ("Port inspection notes", f"/reports/{MAIL_ID}")
    assert meta_of(attachment)["File"].text == "mail/notes.eml , attachment inspection.md"
    # The message's file is offered, and an attachment's own bytes (read from its message by the core).
    assert meta_of(page)["Download"].find("a").attrs["href"] == f"/files/{MAIL_ID}"
    assert meta_of(attachment)["Download"].find("a").attrs["href"] == f"/files/{ATTACHMENT_ID}"
    sent = formats_client.get(f"/files/{ATTACHMENT_ID}")
    assert sent.status_code == 200 and sent.data == b"# Inspection\n\nCrane C2 needs *paint* before the winter.\n"
    assert sent.headers["Content-Disposition"].startswith('attachment; filename="inspection.md"')
    assert sent.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_message_file_is_sent_as_a_message(formats_client, formats_index):
    corpus, _ = formats_index
    r = formats_client.get(f"/files/{MAIL_ID}")
    assert (r.status_code, r.headers["Content-Type"]) == (200, "message/rfc822")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="notes.eml"')
    assert r.data == (corpus / "mail" / "notes.eml").read_bytes()


# -- entities ----------------------------------------------------------------------

def test_entity_chips_filter_and_mark_automatic_ones(formats_client, html, params_of):
    page = html(formats_client.get(report_path("wire:d1") + "?q=fire"))
    groups = {g.attrs["data-kind"]: g for g in page.find_all("p", cls="entity-group")}
    assert list(groups) == ["person", "org", "place"]
    assert [g.find("span", cls="entity-kind").text for g in groups.values()] == ["People", "Organisations", "Places"]
    chips = {a.text: a for g in groups.values() for a in g.find_all("a", cls="entity")}
    belkov = chips["Andrii Belkov"]
    assert "tag-auto" not in belkov.classes
    assert params_of(belkov.attrs["href"]) == {"q": ["fire"], "person": ["Andrii Belkov"]}
    automatic = [a for a in chips.values() if "tag-auto" in a.classes]
    assert all(a.find("span", cls="auto").text == "auto" for a in automatic)
    filtered = html(formats_client.get(belkov.attrs["href"] + "&collapse=0"))
    assert sorted(h.find("h2").text for h in hits_of(filtered)) == [
        "Fire at Rostov fuel depot", "Fire at Rostov fuel depot", "Fire at Rostov fuel depot (update)"]


def test_the_sidebar_has_every_facet_with_labels_and_counts(formats_client, html, formats_index):
    _, index = formats_index
    with SearchIndex.open(index) as core:
        expected = core.search("", per_page=1).facets
    page = html(formats_client.get("/search"))
    titles = [h.text for h in page.find("aside", cls="sidebar").find_all("h3", cls="facet-title")]
    assert titles[:6] == ["Source", "Topic", "Language", "People", "Organisations", "Places"]
    for name in ("source", "topic", "language", "person", "org", "place"):
        shown = facet_of(page, name)
        assert [(v, c, a) for v, _, c, a in shown] == [(v.value, v.count, v.auto) for v in expected[name]], name
    assert ("en", "English") in [(v, label) for v, label, *_ in facet_of(page, "language")]
    assert ("Andrii Belkov", "Andrii Belkov", 3, 0) in facet_of(page, "person")


def test_topic_counts_show_curated_and_automatic_apart(formats_client, html):
    page = html(formats_client.get("/search"))
    items = page.find("section", data_facet="topic").find_all("li", cls="facet-value")
    assert items
    for item in items:
        count, auto = int(item.attrs["data-count"]), int(item.attrs["data-auto"])
        text = item.find("span", cls="count").text
        if not auto:
            assert text == f"{count:,}"
        elif auto == count:
            assert text == f"{auto:,} auto"
        else:
            assert text == f"{count - auto:,} · +{auto:,} auto"
        assert item.find("label").attrs["title"].startswith(f"{count} report")


def test_curated_topics_only_is_a_switch_in_the_url_and_the_core(formats_client, formats_app, html, params_of):
    page = html(formats_client.get("/search?q=fire"))
    box = page.find("input", id="curated-only")
    assert (box.attrs["name"], box.attrs["value"], box.attrs["form"]) == ("curated", "1", "search")
    assert "checked" not in box.attrs
    on = html(formats_client.get("/search?q=fire&curated=1"))
    assert "checked" in on.find("input", id="curated-only").attrs
    assert all(int(i.attrs["data-auto"]) == 0 for i in on.find("section", data_facet="topic").find_all("li"))
    assert params_of(on.find("a", cls="page-number").attrs["href"] if on.find_all("a", cls="page-number")
                     else on.find("a", cls="grouping-toggle").attrs["href"])["curated"] == ["1"]
    api = formats_client.get("/api/search?q=fire&curated=1").json
    assert api["filters"]["curated_only"] is True
    assert formats_client.get("/search?curated=maybe").status_code == 400


# -- near-duplicates ------------------------------------------------------------------

def test_near_duplicates_collapse_under_their_best_hit(formats_client, html, params_of):
    page = html(formats_client.get("/search?q=depot+fire"))
    hits = hits_of(page)
    depot = [h for h in hits if h.find("h2").text.startswith("Fire at Rostov")]
    assert len(depot) == 1
    similar = depot[0].find("a", cls="hit-similar")
    assert similar.text == "+2 similar"
    group = params_of(similar.attrs["href"])
    assert group["q"] == ["depot fire"] and group["group"][0]
    # every report counted: the three copies hold both words, the depot's fence memo one (widened)
    assert "4 reports" in page.find("p", cls="result-count").text
    assert " ".join(page.find("p", cls="notice-widened").text.split()) == (
        "3 reports contain all of depot fire and come first; then reports with some of the words.")
    assert hits[0] is depot[0]
    note = page.find("p", cls="grouping-note")
    assert " ".join(note.text.split()).replace(" .", ".") == (  # each sentence ends, the link's too
        "2 near-duplicate reports folded under their best match. Show every report. Facet counts count every report.")
    listed = html(formats_client.get(similar.attrs["href"]))
    assert sorted(h.find("h2").text for h in hits_of(listed)) == [
        "Fire at Rostov fuel depot", "Fire at Rostov fuel depot", "Fire at Rostov fuel depot (update)"]
    assert [c.text for c in listed.find_all("a", cls="chip")] == [
        "One group of near-duplicates × (remove this filter)"]
    every = html(formats_client.get(note.find("a", cls="grouping-toggle").attrs["href"]))
    assert params_of(note.find("a", cls="grouping-toggle").attrs["href"]) == {"q": ["depot fire"], "collapse": ["0"]}
    assert len([h for h in hits_of(every) if h.find("h2").text.startswith("Fire at Rostov")]) == 3
    assert " ".join(every.find("p", cls="grouping-note").text.split()).replace(" .", ".") == (
        "Every report shown, near-duplicates included. Group near-duplicates. Facet counts count every report.")
    assert facet_of(every, "source") == facet_of(page, "source")


def test_the_report_page_lists_its_near_duplicates(formats_client, html):
    page = html(formats_client.get(report_path("wire:d1")))
    listed = page.find("ol", cls="near-duplicates").find_all("a")
    assert [(a.text, a.attrs["href"]) for a in listed] == [
        ("Fire at Rostov fuel depot", "/reports/wire:d2"), ("Fire at Rostov fuel depot (update)", "/reports/wire:d3")]
    more = [a.attrs["href"] for ol in page.find_all("ol", cls="more-like-this") for a in ol.find_all("a")]
    assert not {"/reports/wire:d2", "/reports/wire:d3"} & set(more)  # not again under "More like this"
    assert not {"Orgs", "People", "Places"} & set(meta_of(page))  # the JSON Lines keys are the chips
    alone = html(formats_client.get(report_path(PDF_ID)))
    assert alone.find_all("ol", cls="near-duplicates") == []


def test_near_duplicates_of_one_title_are_told_apart_by_their_ids(formats_client, html):
    page = html(formats_client.get(report_path("wire:d3")))
    items = page.find("ol", cls="near-duplicates").find_all("li")
    assert [(li.find("a").text, li.find("code", cls="similar-id").text) for li in items] == [
        ("Fire at Rostov fuel depot", "wire:d1"), ("Fire at Rostov fuel depot", "wire:d2")]


def test_an_attachment_is_listed_with_its_file_name(formats_client, html):
    page = html(formats_client.get(report_path(MAIL_ID)))
    (item,) = page.find("section", cls="attachments").find_all("li")
    assert (item.find("a").text, item.find("span", cls="attachment-name").text) == ("Inspection", "(inspection.md)")


# -- a mixed corpus's details: links between its files, a PDF sent as an attachment -----

BRIEF_PAGES = [[(20, "Harbour Dredging Brief")], [(11, "The channel must be dredged before the autumn storms.")]]


@pytest.fixture(scope="module")
def linked_client(tmp_path_factory):
    """A corpus whose Markdown links its other files (one missing, one outside the corpus)
    and an e-mail carrying a PDF: what the raw WA SOC advisories and a forwarded brief do."""
    import email.message

    from conftest import build_index

    from searchapp.config import Settings
    from searchapp.web import create_app
    from tests.make_files import make_pdf

    corpus = tmp_path_factory.mktemp("linked") / "corpus"
    (corpus / "advisories").mkdir(parents=True)
    (corpus / "guidelines").mkdir()
    (corpus / "advisories" / "pump-flaw.md").write_text(
        "# Pump controller flaw\n\nApply the vendor's fix within the timeframe of the "
        "[Patch Management](../guidelines/patch-management.md#timeframes) guideline, see the "
        "[network guideline](../guidelines/network.md), the [site](/about) and the "
        "[password file](../../../etc/passwd). Vendor notes are [online](https://vendor.example/notes).\n",
        encoding="utf-8")
    (corpus / "guidelines" / "patch-management.md").write_text(
        "# Patch management\n\nCritical patches are applied within two weeks.\n", encoding="utf-8")
    message = email.message.EmailMessage()
    message["Subject"] = "Dredging brief"
    message["From"] = "Port Desk <desk@example.org>"
    message["Date"] = "Mon, 09 Mar 2026 10:15:00 +0000"
    message.set_content("The brief is attached; read its second page.")
    message.add_attachment(make_pdf(BRIEF_PAGES), maintype="application", subtype="pdf", filename="brief.pdf")
    (corpus / "mail.eml").write_bytes(bytes(message))
    index = build_index(corpus, corpus.parent / "index")
    app = create_app(Settings(corpus=corpus, index=index))
    app.config["TESTING"] = True
    return app.test_client()


def test_a_relative_link_leads_to_the_report_of_the_file_it_names_or_nowhere(linked_client, html):
    page = html(linked_client.get("/reports/advisories/pump-flaw?q=fix"))
    links = {a.text: a.attrs.get("href") for a in page.find("div", cls="report-html").find_all("a")}
    assert links == {
        "Patch Management": "/reports/guidelines/patch-management?q=fix",  # the corpus's own file, found
        "network guideline": None,  # no such file: the words stay, the link goes
        "site": None,  # this site's own /about is not the report's
        "password file": None,  # outside the corpus
        "online": "https://vendor.example/notes",
    }
    assert linked_client.get(links["Patch Management"]).status_code == 200


def test_a_pdf_sent_as_an_attachment_opens_at_its_page(linked_client, html):
    hit = html(linked_client.get("/search?q=autumn")).find("li", cls="hit")
    assert hit.find("span", cls="snippet-page").text == "p. 2"
    href = hit.find("a", cls="hit-pdf").attrs["href"]
    assert href == "/files/mail/brief.pdf?view=1#page=2"
    shown = linked_client.get(href.split("#")[0])
    assert shown.headers["Content-Type"] == "application/pdf" and shown.data.startswith(b"%PDF-")
    assert shown.headers["Content-Disposition"] == "inline; filename=\"brief.pdf\"; filename*=UTF-8''brief.pdf"
    assert shown.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    report = html(linked_client.get("/reports/mail/brief.pdf"))
    assert meta_of(report)["Download"].find("a", cls="view-pdf").attrs["href"] == "/files/mail/brief.pdf?view=1"
    assert linked_client.get("/files/mail/brief.pdf").headers["Content-Disposition"].startswith("attachment; ")


# -- the JSON API mirrors the page -------------------------------------------------------

def test_the_api_takes_the_pages_parameters(formats_client):
    turbine = formats_client.get("/api/search?q=turbine").json
    assert [(h["id"], h["page"], h["authors"], h["language"]) for h in turbine["hits"]] == [
        (PDF_ID, 3, ["Jane Analyst"], "en")]
    people = formats_client.get("/api/search?person=andrii+belkov&collapse=0").json
    assert people["total"] == 3 and len(people["hits"]) == 3 and people["filters"]["person"] == ["andrii belkov"]
    collapsed = formats_client.get("/api/search?person=Andrii+Belkov").json
    assert collapsed["total"] == 3 and len(collapsed["hits"]) == 1 and collapsed["collapsed"] == 2
    (hit,) = collapsed["hits"]
    group = formats_client.get(f"/api/search?group={quote(hit['group'])}").json
    assert sorted(h["id"] for h in group["hits"]) == ["wire:d1", "wire:d2", "wire:d3"]
    assert set(turbine["facets"]) >= {"source", "topic", "language", "person", "org", "place", "date"}
    report = formats_client.get(f"/api/reports/{PDF_ID}").json
    assert report["pages"][2].startswith("The turbine inspection") and report["format"] == "pdf"
    undated = formats_client.get("/api/search?undated=1").json
    assert undated["filters"]["undated"] is True and all(h["date"] is None for h in undated["hits"])


def test_matches_are_split_over_the_pages_they_fall_on():
    from searchapp.results import Highlighted
    from searchapp.web.reportview import page_sections

    body = Highlighted("alpha beta\n\ngamma alpha\n\n", ((0, 5), (6, 10), (18, 23)))
    pages = page_sections(body, ("alpha beta\n\n", "gamma alpha\n\n"), "/files/x?view=1")
    assert [(p.number, p.text, p.view_url, p.anchor) for p in pages] == [
        (1, Highlighted("alpha beta", ((0, 5), (6, 10))), "/files/x?view=1#page=1", "page-1"),
        (2, Highlighted("gamma alpha", ((6, 11),)), "/files/x?view=1#page=2", "page-2")]
    assert page_sections(Highlighted("other text", ((0, 5),)), ("missing",), None)[0].text == Highlighted("missing")
