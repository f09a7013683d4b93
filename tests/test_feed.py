"""The Atom feed of a search."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser

from searchapp.feed import ATOM_NS, UNDATED, atom_feed, entry_id, report_link, xml_text
from searchapp.results import Hit

BASE = "https://search.example/reports/"


def make_hit(n: int, date: str | None, **over) -> Hit:
    values = dict(
        id=f"reuters21578:{n}", title=f"Report {n}", date=date, source="Reuters",
        topics=("crude",), score=1.0, snippet=f"oil <mark>n{n}</mark> &amp; gas",
        title_html=f"Report {n}", auto_topics=("energy",), url=f"https://news.example/{n}",
    )
    values.update(over)
    return Hit(**values)


HITS = [make_hit(1, "1987-03-02"), make_hit(2, "1987-04-10"), make_hit(3, None), make_hit(4, "1987-03-30")]


def feed_of(hits, title="searchapp: crude", **over) -> bytes:
    args = dict(title=title, self_url="https://search.example/search.atom?q=crude",
                alternate_url="https://search.example/search?q=crude", report_base_url=BASE)
    args.update(over)
    return atom_feed(hits, **args)


def test_feed_parses_newest_first_with_links_and_summaries():
    parsed = feedparser.parse(feed_of(HITS))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "searchapp: crude"
    assert parsed.feed.updated == "1987-04-10T00:00:00Z"
    assert {link.rel: link.href for link in parsed.feed.links} == {
        "self": "https://search.example/search.atom?q=crude",
        "alternate": "https://search.example/search?q=crude",
    }
    assert [e.title for e in parsed.entries] == ["Report 2", "Report 4", "Report 1", "Report 3"]
    first = parsed.entries[0]
    assert first.link == "https://search.example/reports/reuters21578:2"
    assert first.updated == "1987-04-10T00:00:00Z"
    assert first.published == "1987-04-10T00:00:00Z"
    assert first.summary == "oil n2 & gas"
    assert first.summary_detail.type == "text/plain"
    assert first.author == "Reuters"
    assert [t.term for t in first.tags] == ["crude", "energy"]
    assert parsed.entries[3].updated == UNDATED
    assert "published" not in parsed.entries[3]


def test_entry_ids_are_stable_and_distinct():
    once = [e.id for e in feedparser.parse(feed_of(HITS)).entries]
    again = [e.id for e in feedparser.parse(feed_of(list(reversed(HITS)), title="other")).entries]
    assert once == again
    assert len(set(once)) == 4
    assert once[0] == entry_id(report_link(BASE, "reuters21578:2"))
    assert once[0].startswith("urn:uuid:")
    assert feed_of(HITS) == feed_of(list(reversed(HITS)))


def test_hostile_title_query_and_snippet_are_escaped():
    evil = '<script>alert(1)</script> & "q" \x00\x1b]0;x\x07'
    hit = make_hit(9, "2024-01-01", title=evil, source="<b>src</b>",
                   snippet="&lt;img src=x onerror=alert(1)&gt; <mark>w</mark>", id="a b/<c>")
    data = feed_of([hit], title=f"searchapp: {evil}",
                   self_url='https://search.example/search.atom?q="><x>&a=1')
    root = ET.fromstring(data)  # well-formed: no raw control characters
    assert b"<script>" not in data and b"<img" not in data
    assert root.find(f"{{{ATOM_NS}}}title").text == 'searchapp: <script>alert(1)</script> & "q" ]0;x'
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0
    entry = parsed.entries[0]
    assert entry.title == '<script>alert(1)</script> & "q" ]0;x'
    assert entry.summary == "<img src=x onerror=alert(1)> w"
    assert entry.link == "https://search.example/reports/a%20b/%3Cc%3E"
    assert parsed.feed.links[0].href == 'https://search.example/search.atom?q="><x>&a=1'


def test_empty_feed_is_valid_and_limit_applies():
    parsed = feedparser.parse(feed_of([]))
    assert parsed.bozo == 0 and parsed.entries == [] and parsed.feed.updated == UNDATED
    assert len(feedparser.parse(feed_of(HITS, limit=2)).entries) == 2


def test_xml_text_keeps_what_xml_allows():
    assert xml_text("tab\tnl\ncr\r é \U0001F600") == "tab\tnl\ncr\r é \U0001F600"
    assert xml_text("\x01\x08\x0b\x0c\x1f\ufffe\udfff") == ""


def test_feed_of_a_real_search_lists_the_newest_hits(built_index):
    from searchapp import SearchIndex

    with SearchIndex.open(built_index) as index:
        results = index.search("", per_page=5, sort="newest")
    parsed = feedparser.parse(feed_of(results.hits))
    assert parsed.bozo == 0
    assert [e.link for e in parsed.entries] == [report_link(BASE, h.id) for h in results.hits]
    assert parsed.entries[0].link == BASE + "feeds/advisories-2024:AA24-290A"
    assert parsed.feed.updated == f"{results.hits[0].date}T00:00:00Z"
