"""Issue 14 on the web: exports, the Atom feed, the timeline, cursors, saved searches."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from searchapp import reindex
from searchapp.config import Settings
from searchapp.paging import encode_cursor
from searchapp.web import create_app


@pytest.fixture
def follow_client(settings, tmp_path):
    app = create_app(replace(settings, alerts_db=tmp_path / "alerts.sqlite"))
    app.config["TESTING"] = True
    return app.test_client()


def _total(client, query: str) -> int:
    return client.get(f"/api/search?{query}").json["total"]


def _token(client, path: str = "/search?q=pipeline") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_csv_export_has_every_hit_and_a_safe_name(follow_client):
    response = follow_client.get('/api/search.csv?q=../"x";')
    response.get_data()  # the stream ends, and with it its request context
    assert response.headers["Content-Disposition"] == 'attachment; filename="searchapp-x.csv"'
    response = follow_client.get("/api/search.csv?sort=newest")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    api = follow_client.get("/api/search?sort=newest&per_page=50").json
    assert [r["id"] for r in rows] == [h["id"] for h in api["hits"]]
    assert len(rows) == api["total"] == int(response.headers["X-Total-Count"])


def test_jsonl_export_keeps_the_filters(follow_client):
    body = follow_client.get("/api/search.jsonl?source=CISA").get_data(as_text=True)
    records = [json.loads(line) for line in body.splitlines()]
    assert len(records) == _total(follow_client, "source=CISA") > 0
    assert {r["source"] for r in records} == {"CISA"}


def test_export_errors_are_json(follow_client):
    response = follow_client.get("/api/search.csv?from=notadate")
    assert response.status_code == 400 and "date" in response.json["error"]["message"]


def test_feed_parses_and_lists_the_newest_hits(follow_client):
    response = follow_client.get("/search.atom?q=pipeline OR phishing OR grid")
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    newest = follow_client.get("/api/search?q=pipeline OR phishing OR grid&sort=newest&per_page=50").json["hits"]
    assert [e.link for e in feed.entries] == ["http://localhost/reports/" + h["id"] for h in newest]
    assert [e.updated[:10] for e in feed.entries] == [h["date"] for h in newest]
    assert len({e.id for e in feed.entries}) == len(newest)


def test_results_page_links_the_feed_exports_and_timeline(follow_client, html):
    text = follow_client.get("/search?q=pipeline").get_data(as_text=True)
    page = html(text)
    assert '<link rel="alternate" type="application/atom+xml" title="Atom feed of this search" ' \
           'href="/search.atom?q=pipeline">' in text
    assert 'href="/api/search.csv?q=pipeline"' in text and 'href="/api/search.jsonl?q=pipeline"' in text
    section = page.find("section", cls="timeline")
    assert section.find("svg", cls="timeline-svg") and section.find("table", cls="timeline-table")
    assert page.find("a", cls="feed-link").attrs["href"] == "/search.atom?q=pipeline"


def test_timeline_cells_link_to_the_narrowed_search(follow_client):
    html = follow_client.get("/search").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" class="timeline-cell-link"><rect[^>]*><title>([^<]+)</title>', html)
    assert links
    for url, title in links[:6]:
        count = int(re.search(r": ([\d,]+) reports?$", title).group(1).replace(",", ""))
        query = urlsplit(url.replace("&amp;", "&")).query
        assert set(parse_qs(query)) >= {"from", "to"}
        assert _total(follow_client, query) == count, (url, title)


def test_timeline_json(follow_client):
    data = follow_client.get("/api/timeline?q=pipeline").json
    assert data["query"] == "pipeline"
    assert sum(s["total"] for s in data["sources"]) + data["undated"] == _total(follow_client, "q=pipeline")
    assert follow_client.get("/api/timeline?top=0").status_code == 400


def test_cursor_pages_reach_every_hit(follow_client):
    seen, cursor = [], ""
    while cursor is not None:
        data = follow_client.get(f"/api/search?sort=newest&per_page=4&cursor={cursor}").json
        seen += [h["id"] for h in data["hits"]]
        cursor = data["next_cursor"]
    assert seen == [h["id"] for h in follow_client.get("/api/search?sort=newest&per_page=50").json["hits"]]
    assert follow_client.get("/api/search?cursor=zzz").status_code == 400


def test_save_list_open_and_remove(follow_client):
    token = _token(follow_client)
    hostile = "<script>alert('n')</script>"
    response = follow_client.post("/saved", data={"csrf": token, "name": hostile, "q": "pipeline <b>x",
                                                  "source": "Reuters"})
    assert response.status_code == 303 and response.headers["Location"] == "/saved"
    html = follow_client.get("/saved").get_data(as_text=True)
    assert hostile not in html and "&lt;script&gt;alert(&#39;n&#39;)&lt;/script&gt;" in html
    assert "pipeline &lt;b&gt;x" in html and "0 new</strong> since you last looked" in html
    opened = follow_client.get("/saved/open", query_string={"name": hostile})
    assert opened.status_code == 303
    assert parse_qs(urlsplit(opened.headers["Location"]).query) == {"q": ["pipeline <b>x"], "source": ["Reuters"]}
    again = follow_client.post("/saved", data={"csrf": token, "name": hostile, "q": "x"})
    assert again.status_code == 409
    follow_client.post("/saved/remove", data={"csrf": token, "name": hostile})
    assert "No saved searches yet" in follow_client.get("/saved").get_data(as_text=True)


def test_posts_without_the_token_are_refused(follow_client):
    _token(follow_client)
    assert follow_client.post("/saved", data={"name": "a", "q": "x"}).status_code == 400
    assert follow_client.post("/saved", data={"csrf": "x" * 43, "name": "a", "q": "x"}).status_code == 400
    assert "No saved searches yet" in follow_client.get("/saved").get_data(as_text=True)


def test_a_broken_alerts_database_leaves_search_working(settings, tmp_path):
    bad = tmp_path / "alerts.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    client = create_app(replace(settings, alerts_db=bad)).test_client()
    assert client.get("/search?q=pipeline").status_code == 200
    response = client.get("/saved")
    assert response.status_code == 503
    assert "corrupt" in response.get_data(as_text=True) or "not a database" in response.get_data(as_text=True)


def test_hostile_query_is_escaped_in_the_feed(hostile_client):
    response = hostile_client.get("/search.atom", query_string={"q": "<script>alert(1)</script> pipeline"})
    text = response.get_data(as_text=True)
    assert "<script>" not in text
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    assert feed.feed.title == "searchapp: <script>alert(1)</script> pipeline"
    assert any("Pipeline sabotage" in e.title for e in feed.entries)


@pytest.mark.corpora
@pytest.mark.slow
def test_reuters_crude_export_has_the_search_total(shared_corpora, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(shared_corpora / "reuters21578" / "reuters21578.jsonl.gz", corpus)  # a temporary copy
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir, procs=2)
    client = create_app(Settings(index=index_dir, alerts_db=tmp_path / "a.sqlite")).test_client()
    total = client.get("/api/search?topic=crude").json["total"]
    assert total > 500
    rows = list(csv.DictReader(io.StringIO(client.get("/api/search.csv?topic=crude").get_data(as_text=True))))
    assert len(rows) == total
    assert all("crude" in r["topics"].split("; ") or "crude" in r["auto_topics"].split("; ") for r in rows)
    lines = client.get("/api/search.jsonl?topic=crude").get_data(as_text=True).splitlines()
    assert len(lines) == total
    # Past the 10,000 of plain pages: a cursor reaches them, in the order of the export.
    assert client.get("/api/search?page=201&per_page=50").status_code == 400
    every = [r["id"] for r in csv.DictReader(io.StringIO(client.get("/api/search.csv?sort=oldest").get_data(
        as_text=True)))]
    assert len(every) == client.get("/api/search").json["total"] > 20_000
    deep = client.get(f"/api/search?sort=oldest&per_page=50&cursor={encode_cursor(20_000)}").json
    assert [h["id"] for h in deep["hits"]] == every[20_000:20_050]
    assert deep["next_cursor"] == encode_cursor(20_050)
