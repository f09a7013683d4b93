import re

import pytest

from searchapp import FacetValue, QueryError, ReportNotFoundError, SearchIndex, search


def _values(res, facet):
    return {v.value: v.count for v in res.facets[facet]}


@pytest.mark.parametrize(
    "query, mark",
    [("corruption", "corruption"), ("treason", "treason"), ("Belkov", "Belkov"),
     ("Rostov-on-Don", "Rostov-on-Don"), ('"Military Construction Company"', "Military Construction Company"),
     ("corrupt", "corruption"), ("2007", "2007"), ("70%", "70"), ("Zvezda", "Zvezda")],
)
def test_seed_report_is_found_and_highlighted_as_written(seed_index, query, mark):
    res = search(query, index_dir=seed_index)
    assert res.total == 1
    hit = res.hits[0]
    assert hit.id == "000_f5f54ec963f47618"
    assert hit.source == "UK Ministry of Defence" and hit.date == "2024-07-28"
    assert f"<mark>{mark}</mark>" in hit.snippet


def test_empty_query_lists_every_report_newest_first(data_search):
    res = data_search.search("", per_page=20)
    assert res.total == 13
    dates = [h.date for h in res.hits]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None  # undated last


def test_all_words_required_then_fallback_to_any_word(data_search):
    strict = data_search.search("pipeline ransomware")
    assert strict.total == 1 and not strict.fallback
    loose = data_search.search("pipeline zanzibar")
    assert loose.fallback and loose.total == 1
    assert loose.hits[0].id == "native/cisa-pipeline-ransomware-2022"


def test_title_weighs_more_than_body(data_search):
    res = data_search.search("grain")
    assert res.hits[0].title.startswith("Black Sea grain deal")


def test_phrase_or_not_and_fields(data_search):
    assert data_search.search('"Black Sea"').total == 2
    assert data_search.search('"Sea Black"').total == 0
    both = data_search.search("coffee OR phishing")
    assert {h.id for h in both.hits} == {"feeds/wire-2024:1042", "feeds/advisories-2024:AA24-290A"}
    no_grain = data_search.search('"Black Sea" -ammonia')
    assert [h.id for h in no_grain.hits] == ["markdown/2024-03-drone-attacks"]
    assert data_search.search('"Black Sea" NOT ammonia').total == 1
    assert data_search.search("source:cisa").total == 5
    assert data_search.search("topic:energy").total == 3
    assert data_search.search("title:phishing").total == 1
    assert data_search.search("date:2022").total == 2
    assert data_search.search("date:[2024-03 TO 2024-06]").total == 3
    assert data_search.search("pipe*").total >= 1


def test_filters_are_inclusive_whole_days(data_search):
    assert data_search.search(date_from="2024-07-21", date_to="2024-07-21").total == 1
    assert data_search.search(date_to="2022").total == 2
    assert data_search.search(date_from="2024-02", date_to="2024-03").total == 2


def test_facets_use_tag_exclude_semantics(data_search):
    res = data_search.search("", source=["CISA"])
    assert res.total == 5
    sources = {v.value: (v.count, v.selected) for v in res.facets["source"]}
    # The source facet ignores its own filter: ticking Reuters would add 4.
    assert sources["CISA"] == (5, True) and sources["Reuters"] == (4, False)
    # The other facets are counted within CISA.
    assert _values(res, "topic")["energy"] == 3
    assert sum(_values(res, "date").values()) == 5
    two = data_search.search("", source=["CISA", "Reuters"])
    assert two.total == 9
    narrowed = data_search.search("", source=["CISA", "Reuters"], topic=["energy"])
    assert narrowed.total == 3
    assert _values(narrowed, "source") == {"CISA": 3, "Reuters": 0}


def test_facet_counts_add_up(data_search):
    res = data_search.search("")
    assert sum(_values(res, "source").values()) == res.total
    assert sum(_values(res, "date").values()) == res.total
    assert _values(res, "date") == {"2022": 2, "2023": 2, "2024": 8, "undated": 1}
    assert _values(res, "source")["unknown source"] == 1


def test_date_facet_shows_months_for_a_short_range(data_search):
    res = data_search.search("", date_from="2024", date_to="2024")
    assert res.date_granularity == "month"
    months = _values(res, "date")
    assert len(months) == 12 and months["2024-07"] == 1 and months["2024-10"] == 1
    assert all(v.selected for v in res.facets["date"])
    years = data_search.search("", date_from="2022", date_to="2024")
    assert years.date_granularity == "year"


def test_selected_value_without_matches_is_still_listed(data_search):
    res = data_search.search("coffee", source=["CISA"])
    assert res.total == 0
    assert FacetValue("CISA", 0, True) in res.facets["source"]


def test_sorting_and_paging(data_search):
    newest = data_search.search("", sort="newest", per_page=3)
    oldest = data_search.search("", sort="oldest", per_page=3)
    assert newest.hits[0].date == "2024-10-16" and oldest.hits[0].date == "2022-05-09"
    page2 = data_search.search("", sort="newest", per_page=3, page=2)
    assert page2.hits[0].date == "2024-06-03" and newest.pages == 5
    assert data_search.search("", page=5, per_page=3).hits[0].date is None


def test_did_you_mean_is_a_real_word(data_search):
    res = data_search.search("ransomwear")
    assert res.suggestion == "ransomware"
    res = data_search.search("pipelnie operators")
    assert res.suggestion == "pipeline operators"


def test_snippet_is_escaped_and_title_highlighted(data_search):
    res = data_search.search("phishing")
    hit = res.hits[0]
    assert "<mark>Phishing</mark>" in hit.title_html
    assert re.sub(r"</?mark>", "", hit.snippet).count("<") == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(sort="best"), "unknown sort 'best'; use one of: relevance, newest, oldest"),
     (dict(page=0), "page must be 1 or more, got 0"),
     (dict(per_page=1000), "per_page must be between 1 and 100, got 1000"),
     (dict(page=200, per_page=100), "page 200 is too deep: only the first 10000 results can be paged through; narrow the search"),
     (dict(date_from="2024-13"), "date_from: not a date: '2024-13' (month must be in 1..12)"),
     (dict(date_from="2024", date_to="2023"), "date_from (2024-01-01) is after date_to (2023-12-31)"),
     (dict(query="bogus:x"), "unknown field 'bogus' in the query; the fields are title:, body:, source:, topic:, date:, author:, language:, person:, org:, place:")],
)
def test_bad_parameters_raise_query_error(data_search, kwargs, message):
    with pytest.raises(QueryError) as e:
        data_search.search(**kwargs)
    assert str(e.value) == message and e.value.status == 400


def test_get_report_and_more_like_this(data_search):
    detail = data_search.get("native/mod-corruption-2024-07", query="corruption")
    assert detail.source == "UK Ministry of Defence"
    assert "<mark>corruption</mark>" in detail.body_html
    assert detail.to_dict()["topics"] == ["Russia", "defence", "corruption"]
    with pytest.raises(ReportNotFoundError):
        data_search.get("../../etc/passwd")
    similar = data_search.more_like_this("markdown/grid-substations-2024-06")
    assert similar and "markdown/grid-substations-2024-06" not in {h.id for h in similar}


def test_to_dict_is_plain_json(data_search):
    import json

    res = data_search.search("energy", source="CISA")
    data = json.loads(json.dumps(res.to_dict()))
    assert data["total"] == res.total and data["filters"]["source"] == ["CISA"]
    assert set(data["facets"]) == {"source", "topic", "language", "person", "org", "place", "date"}


def test_missing_index_says_to_reindex(tmp_path):
    from searchapp import IndexNotFoundError

    with pytest.raises(IndexNotFoundError, match="run `searchapp reindex`"):
        SearchIndex.open(tmp_path / "nothing")
