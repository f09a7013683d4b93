"""Deep paging: every hit of a search, in the order of its pages, and the API's cursor."""

from __future__ import annotations

import pytest

from searchapp.errors import QueryError
from searchapp.paging import decode_cursor, encode_cursor


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("query", ["", "pipeline OR phishing OR oil", "grid*"])
def test_all_hits_follow_the_pages(data_search, query, sort):
    pages = data_search.search(query, sort=sort, per_page=100)
    stream = data_search.all_hits(query, sort=sort, batch=3)
    every = list(stream)
    assert stream.total == pages.total == len(every)
    assert [h.id for h in every] == [h.id for h in pages.hits]
    assert [h.score for h in every] == [h.score for h in pages.hits]


def test_start_skips_and_filters_apply(data_search):
    full = [h.id for h in data_search.all_hits("", sort="newest", source="CISA")]
    assert full and all(h.source == "CISA" for h in data_search.all_hits("", source="CISA"))
    assert [h.id for h in data_search.all_hits("", sort="newest", source="CISA", start=2)] == full[2:]


def test_all_hits_is_lazy(data_search):
    stream = data_search.all_hits("", batch=2)
    first = next(iter(stream))
    assert first.id == data_search.search("", per_page=1).hits[0].id


def test_bad_parameters(data_search):
    with pytest.raises(QueryError, match="start must be"):
        data_search.all_hits("", start=-1)
    with pytest.raises(QueryError, match="unknown search parameter"):
        data_search.all_hits("", page=2)


def test_cursor_round_trip_and_refusal():
    assert decode_cursor(encode_cursor(10_001)) == 10_001
    assert decode_cursor("") == 0
    for bad in ("x", encode_cursor(1)[:-2] + "!!", "eyJ2IjoyLCJhdCI6MX0", "A" * 300):
        with pytest.raises(QueryError, match="cursor is not one this server made"):
            decode_cursor(bad)
