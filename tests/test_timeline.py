"""Sources over time: one pass over the reader state, checked against searches."""

from __future__ import annotations

import datetime as dt

import pytest

from searchapp.errors import QueryError
from searchapp.timeline import OTHER, granularity_for


def _count(index, query, **filters) -> int:
    return index.search(query, per_page=1, **filters).total


def test_every_cell_equals_the_narrowed_search(data_search):
    found = data_search.timeline("")
    assert found.granularity == "month"
    assert found.sources and not found.sources_truncated
    for series in found.sources:
        for period, count in zip(found.periods, series.counts):
            assert count == _count(data_search, "", source=series.value, date_from=period.first,
                                   date_to=period.last), (series.label, period.label)
    dated = _count(data_search, "", date_from="1900", date_to="2100")
    assert sum(s.total for s in found.sources) == dated
    assert found.undated == _count(data_search, "") - dated


def test_topics_count_curated_and_automatic(data_search):
    found = data_search.timeline("", top=100)
    assert not found.topics_truncated
    for series in found.topics:
        expected = _count(data_search, "", topic=series.value, date_from="1900", date_to="2100")
        assert series.total == expected, series.label


def test_top_values_and_the_rest_grouped(data_search):
    found = data_search.timeline("", top=2)
    assert [s.value for s in found.sources][:2] == ["CISA", "Reuters"]
    other = found.sources[-1]
    assert other.value is None and other.label.startswith(OTHER)
    assert found.sources_truncated
    assert sum(s.total for s in found.sources) == sum(s.total for s in data_search.timeline("").sources)


def test_a_narrow_date_range_is_shown_per_day(data_search):
    found = data_search.timeline("", date_from="2024-07-01", date_to="2024-07-31")
    assert found.granularity == "day"
    assert [p.first for p in found.periods] == [f"2024-07-{d:02d}" for d in range(1, 32)]
    in_july = _count(data_search, "", date_from="2024-07-01", date_to="2024-07-31")
    assert in_july > 0
    assert sum(s.total for s in found.sources) == in_july


def test_the_query_and_filters_apply(data_search):
    found = data_search.timeline("phishing")
    assert sum(s.total for s in found.sources) == _count(data_search, "phishing", date_from="1900",
                                                         date_to="2100")
    assert data_search.timeline("nosuchwordanywhere").sources == ()


def test_granularity_narrows():
    d = dt.date(2024, 1, 1).toordinal()
    assert [granularity_for(d, d + n) for n in (3 * 366, 3 * 366 - 1, 120, 31, 30)] == [
        "year", "month", "month", "week", "day"]


def test_bad_top_is_refused(data_search):
    with pytest.raises(QueryError, match="top must be"):
        data_search.timeline("", top=0)
