"""CSV and JSON Lines export of a result set."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from searchapp.export import (
    COLUMNS,
    columns_for,
    csv_chunks,
    inert,
    jsonl_chunks,
    plain_snippet,
)
from searchapp.results import Hit


def make_hit(n: int = 1, **over) -> Hit:
    values = dict(
        id=f"r{n}", title=f"Title {n}", date="2024-07-0%d" % (n % 9 + 1), source="Reuters",
        topics=("crude", "ship"), score=2.5, snippet="oil <mark>prices</mark> &amp; more",
        title_html=f"Title {n}", auto_topics=("energy",), url=f"https://example.org/{n}",
    )
    values.update(over)
    return Hit(**values)


HOSTILE = make_hit(
    7, title='=HYPERLINK("http://evil","x")', source="+cmd|' /C calc'!A0",
    topics=("-2+3", "@SUM(A1)"), auto_topics=("\tTab", "\rcr"), url=None, score=None,
    snippet='said &quot;hi&quot;,\nthen <mark>=1+1</mark>', date=None,
)


def test_csv_exact_output():
    text = "".join(csv_chunks([make_hit(1), make_hit(2, score=0.125, auto_topics=())]))
    assert text == (
        "id,title,date,source,topics,auto_topics,url,score,snippet,authors,language\r\n"
        "r1,Title 1,2024-07-02,Reuters,crude; ship,energy,https://example.org/1,2.5,oil prices & more,,\r\n"
        "r2,Title 2,2024-07-03,Reuters,crude; ship,,https://example.org/2,0.125,oil prices & more,,\r\n"
    )


def test_csv_hostile_cells_are_inert_and_quoted():
    text = "".join(csv_chunks([HOSTILE]))
    assert text == (
        "id,title,date,source,topics,auto_topics,url,score,snippet,authors,language\r\n"
        "r7,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",,'+cmd|' /C calc'!A0,'-2+3; @SUM(A1),"
        "\"'\tTab; \rcr\",,,\"said \"\"hi\"\",\nthen =1+1\",,\r\n"
    )
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row == [
        "r7", "'=HYPERLINK(\"http://evil\",\"x\")", "", "'+cmd|' /C calc'!A0", "'-2+3; @SUM(A1)",
        "'\tTab; \rcr", "", "", 'said "hi",\nthen =1+1', "", "",
    ]


@pytest.mark.parametrize("value, expected", [
    ("=1", "'=1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=1", "a=1"), ("", ""), ("'=1", "'=1"),
])
def test_inert(value, expected):
    assert inert(value) == expected


def test_jsonl_keeps_values_exactly():
    lines = "".join(jsonl_chunks([HOSTILE, make_hit(3, title="line\u2028break")])).split("\n")
    assert lines[-1] == ""
    assert len(lines) == 3
    assert "\u2028" not in lines[1]
    assert json.loads(lines[0]) == {
        "id": "r7", "title": '=HYPERLINK("http://evil","x")', "date": None,
        "source": "+cmd|' /C calc'!A0", "topics": ["-2+3", "@SUM(A1)"],
        "auto_topics": ["\tTab", "\rcr"], "url": None, "score": None,
        "snippet": 'said "hi",\nthen =1+1', "authors": [], "language": None,
    }
    assert json.loads(lines[1])["title"] == "line\u2028break"


def test_optional_fields_exported_when_hits_carry_them():
    hit = dataclasses.replace(make_hit(1), authors=("A. One", "B. Two"), language="en")
    assert columns_for(hit) == COLUMNS + ("authors", "language")
    text = "".join(csv_chunks([hit]))
    assert text.splitlines()[0].endswith(",snippet,authors,language")
    assert text.splitlines()[1].endswith(",oil prices & more,A. One; B. Two,en")
    assert json.loads("".join(jsonl_chunks([hit])))["authors"] == ["A. One", "B. Two"]


def test_empty_result_set():
    assert "".join(csv_chunks([])) == ",".join(COLUMNS) + "\r\n"
    assert list(jsonl_chunks([])) == []


def test_plain_snippet():
    assert plain_snippet("a &lt;mark&gt; <mark>b</mark> &amp;amp;") == "a <mark> b &amp;"


@pytest.mark.parametrize("writer", [csv_chunks, jsonl_chunks])
def test_large_iterator_is_consumed_lazily(writer):
    pulled = 0

    def hits():
        nonlocal pulled
        for n in range(1_000_000):
            pulled += 1
            yield make_hit(n)

    chunks = writer(hits(), chunk_rows=100)
    first = next(chunks)
    assert pulled == 100
    assert first.count("\n") == (101 if writer is csv_chunks else 100)
    second = next(chunks)
    assert pulled == 200
    assert second.count("\n") == 100
    assert second.startswith("r100,") or json.loads(second.splitlines()[0])["id"] == "r100"


def test_export_of_a_real_search_has_a_row_per_hit(built_index):
    from searchapp import SearchIndex

    with SearchIndex.open(built_index) as index:
        results = index.search("", per_page=100, sort="newest")
    rows = list(csv.DictReader(io.StringIO("".join(csv_chunks(results.hits, chunk_rows=4)))))
    assert len(rows) == results.total == 13
    assert [r["id"] for r in rows] == [h.id for h in results.hits]
    assert [r["date"] for r in rows] == [h.date or "" for h in results.hits]
    assert all("<mark>" not in r["snippet"] and "&amp;" not in r["snippet"] for r in rows)
    lines = "".join(jsonl_chunks(results.hits, chunk_rows=4)).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [h.id for h in results.hits]
