"""Issue 12/13/15 fields in the search core: entities, facets from one table,
filters with one meaning, near-duplicate groups, and the reindex warnings."""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter

import pytest

from searchapp import SearchIndex, reindex
from searchapp import entities as ent
from searchapp.entities import extractor_status
from searchapp.errors import ConfigError
from tests.conftest import SEED_CORPUS
from tests.test_neardup import ADDED, OTHER

needs_extractor = pytest.mark.skipif(not extractor_status().available, reason=extractor_status().reason)


@pytest.fixture
def no_extractor(monkeypatch):
    """Automatic extraction off (curated entities only), as without the extra."""
    monkeypatch.setattr(ent, "extractor_status", lambda: ent.ExtractorStatus(False, "off for the test"))


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@needs_extractor
def test_seed_report_people_places_and_orgs_are_found(seed_index):
    with SearchIndex.open(seed_index) as index:
        (hit,) = index.search("").hits
        res = index.search("", person="andrii belkov")
    named = {(e.kind, e.name) for e in hit.entities}
    assert {("person", n) for n in ("Andrii Belkov", "Yevhen Smirnov", "Serhiy Shoigu", "Serhiy Ivanov")} <= named
    assert {("place", n) for n in ("Rostov-on-Don", "Russia", "Ukraine")} <= named
    assert {("org", n) for n in ("First Department", "Military Construction Company")} <= named
    assert all(not e.curated for e in hit.entities)
    assert res.total == 1
    people = {v.value: (v.count, v.auto) for v in res.facets["person"]}
    assert people["Andrii Belkov"] == (1, 1)


@needs_extractor
def test_entity_query_fields_find_the_seed(seed_index):
    with SearchIndex.open(seed_index) as index:
        for q in ('person:"Andrii Belkov"', 'org:"first department"', "place:Rostov-on-Don"):
            assert index.search(q).total == 1, q
        assert index.search('person:"Nobody Here"').total == 0


def test_curated_reuters_entities_facet_with_counts_of_the_jsonl(shared_corpora, tmp_path, no_extractor):
    with gzip.open(shared_corpora / "reuters21578" / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as f:
        lines = list(itertools.islice(f, 1500))
    _write(tmp_path / "corpus", "reuters.jsonl", "".join(lines))
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    records = [json.loads(line) for line in lines]
    usa = sum("usa" in r["places"] for r in records)
    expected = {kind: Counter() for kind in ("people", "orgs", "places")}
    for r in records:
        found = ent.extract_entities("", "", r, extract=False)
        for kind in expected:
            expected[kind].update({e.name for e in getattr(found, kind) if e.curated})
    with SearchIndex.open(tmp_path / "index") as index:
        res = index.search("", curated_only=True, per_page=1)
        by_usa = index.search("", place="United States", curated_only=True).total
    for facet, kind in (("person", "people"), ("org", "orgs"), ("place", "places")):
        got = {v.value: v.count for v in res.facets[facet]}
        assert got == dict(expected[kind]), facet
    assert res.facets["place"][0].value == "United States" and by_usa == usa > 500
    assert dict(expected["orgs"])["OPEC"] == sum("opec" in r["orgs"] for r in records)


def _copies_corpus(folder):
    seed = next(SEED_CORPUS.glob("*.txt")).read_text(encoding="utf-8")
    _write(folder, "a-original.txt", seed)
    _write(folder, "b-one-word.txt", seed.replace("embezzlement", "fraud", 1))
    _write(folder, "c-paragraph.txt", seed + ADDED)
    _write(folder, "d-grain.txt", "Source: Grain Desk\n\n" + OTHER)
    _write(folder, "e-empty.txt", "Source: Nobody\n\n ")


def test_three_near_copies_group_into_one_hit_and_a_fourth_does_not(tmp_path, no_extractor):
    _copies_corpus(tmp_path / "corpus")
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        res = index.search("")
        every = index.search("", collapse=False)
        (best,) = [h for h in res.hits if h.group is not None]
        group = index.search("", group=best.group)
        detail = index.get("a-original")
    assert res.total == every.total == 5 and res.collapsed == 2
    assert len(res.hits) == 3 and len(every.hits) == 5
    assert best.similar == 2 and best.group == "a-original"
    assert {h.id for h in group.hits} == {"a-original", "b-one-word", "c-paragraph"}
    assert sum(v.count for v in res.facets["source"]) == 5  # facet counts still count reports
    assert [r.id for r in detail.near_duplicates] == ["b-one-word", "c-paragraph"]
    assert index_alone(res, "d-grain") and index_alone(res, "e-empty")


def test_pages_count_the_hits_shown_not_the_reports_folded(tmp_path, no_extractor):
    _copies_corpus(tmp_path / "corpus")
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        first, second = (index.search("", per_page=2, page=n) for n in (1, 2))
        every = index.search("", per_page=2, collapse=False)
    # 5 reports, 2 folded under their best copy: 3 hits on 2 pages, the second not empty
    assert (first.total, first.collapsed, first.pages, every.pages) == (5, 2, 2, 3)
    assert len(second.hits) == 1


def index_alone(res, report_id) -> bool:
    (hit,) = [h for h in res.hits if h.id == report_id]
    return hit.group is None and hit.similar == 0


def test_incremental_edit_beyond_recognition_leaves_the_group(tmp_path, no_extractor):
    _copies_corpus(tmp_path / "corpus")
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    _write(tmp_path / "corpus", "b-one-word.txt", "Source: Grain Desk\n\n" + OTHER.replace("wheat", "barley"))
    summary = reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    assert summary.updated == 1
    with SearchIndex.open(tmp_path / "index") as index:
        assert index.get("a-original").near_duplicates[0].id == "c-paragraph"
        assert [r.id for r in index.get("b-one-word").near_duplicates] == ["d-grain"]
        res = index.search("", per_page=10)
    assert res.collapsed == 2 and len(res.hits) == 3


def test_topic_and_source_filters_mean_the_same_everywhere(tmp_path, no_extractor):
    corpus = tmp_path / "corpus"
    _write(corpus, "one.md", "---\ntitle: One\nsource: Reuters\ntopics: [Energy]\n---\nOil prices rose.\n")
    _write(corpus, "two.md", "---\ntitle: Two\nsource: reuters\ntopics: [energy]\n---\nGas prices fell.\n")
    _write(corpus, "three.md", "---\ntitle: Three\nsource: CISA\ntopics: [Energy & Utilities]\n---\nGrid.\n")
    reindex(corpus, tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        topic = [index.search(q, topic=t).total for q, t in (("topic:energy", None), ("", "energy"),
                                                              ("", "Energy"), ("topic:ENERGY", None))]
        source = [index.search("source:reuters").total, index.search("", source="reuters").total,
                  index.search("", source="REUTERS").total]
        shown = index.search("", topic="energy").facets["topic"]
    assert topic == [2, 2, 2, 2] and source == [2, 2, 2]
    assert [(v.value, v.count, v.selected) for v in shown] == [("Energy", 2, True), ("Energy & Utilities", 1, False)]


def test_curated_only_topic_filter_and_auto_counts(tmp_path, no_extractor):
    corpus = tmp_path / "corpus"
    for i in range(3):
        _write(corpus, f"c{i}.md", f"---\ntitle: Crude {i}\nsource: Wire\ntopics: [crude]\n---\n"
                                   f"Crude oil output rose {i} barrels as OPEC met.\n")
    _write(corpus, "u.md", "---\ntitle: Untagged\nsource: Wire\n---\nCrude oil output rose as OPEC met.\n")
    reindex(corpus, tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        every = index.search("", topic="crude")
        curated = index.search("", topic="crude", curated_only=True)
    (crude,) = [v for v in every.facets["topic"] if v.value == "crude"]
    assert curated.total == 3 and crude.curated == 3 and crude.count == every.total
    assert crude.auto == every.total - 3
    assert curated.filters["curated_only"] is True


def test_undated_filter_and_reindex_warnings(tmp_path, no_extractor):
    corpus = tmp_path / "corpus"
    _write(corpus, "dated.md", "---\ntitle: Dated\nsource: Desk\ndate: 2024-07-28\n---\nText.\n")
    _write(corpus, "nodate.md", "---\ntitle: No date\nsource: Desk\n---\nText.\n")
    _write(corpus, "baddate.md", "Date: 31/12/2024\n\nA report without a readable date.\n")
    summary = reindex(corpus, tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        undated = index.search("", undated=True)
    assert {h.id for h in undated.hits} == {"nodate", "baddate"} and undated.total == 2
    assert [v for v in undated.facets["date"] if v.value == "undated"][0].selected
    assert summary.undated == 2 and sorted(summary.undated_examples) == ["baddate.md", "nodate.md"]
    assert summary.no_source == 1 and summary.no_source_examples == ["baddate.md"]
    assert summary.unread_dates == 1 and summary.unread_date_examples[0].startswith("baddate.md: date '31/12/2024'")
    data = summary.to_dict()
    assert data["undated"] == 2 and data["unread_date_examples"] == summary.unread_date_examples


def test_authors_language_and_pages_reach_hits_and_details(tmp_path, no_extractor):
    corpus = tmp_path / "corpus"
    _write(corpus, "r.md", "---\ntitle: Ballots\nsource: Desk\nauthors: [Jane Roe, John Doe]\n---\n"
                           "The committee counted the ballots in every district before the deadline.\n")
    reindex(corpus, tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        (hit,) = index.search("author:roe").hits
        detail = index.get("r")
        by_language = index.search("", language="EN").total
        named = [index.search(f"ballots language:{name}").total for name in ("english", "en", "German")]
    assert named == [1, 1, 0]  # a language's name means its code
    assert hit.authors == ("Jane Roe", "John Doe") and hit.language == "en" and hit.page is None
    assert detail.authors == hit.authors and detail.pages == () and by_language == 1
    assert detail.html is not None and "<p>" in detail.html
    assert hit.to_dict()["authors"] == ["Jane Roe", "John Doe"]


def test_snippet_page_from_stored_page_offsets():
    from searchapp.details import snippet_page
    from searchapp.highlight import snippet_spans

    body = "first page words here\f" + "second page holds the needle word\f" + "third"
    pages = (0, 22, 57)
    shown = snippet_spans(body, frozenset({"needl"}))
    assert snippet_page(body, shown, pages) == 2
    assert snippet_page(body, snippet_spans(body, frozenset()), pages) == 1
    assert snippet_page(body, shown, ()) is None


def test_cli_search_filters_by_facets_and_shows_similar(tmp_path, no_extractor):
    from click.testing import CliRunner

    from searchapp.cli import main

    _copies_corpus(tmp_path / "corpus")
    runner = CliRunner()
    done = runner.invoke(main, ["reindex", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")])
    assert done.exit_code == 0, done.output
    assert "  warning: 2 reports without a date:\n    d-grain.txt\n    e-empty.txt\n" in done.output
    res = runner.invoke(main, ["search", "--index", str(tmp_path / "index"), "--language", "en"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("4 reports (page 1 of 1") and "+2 similar (--group 'a-original')" in res.output
    every = runner.invoke(main, ["search", "--index", str(tmp_path / "index"), "--group", "a-original", "--json"])
    assert sorted(h["id"] for h in json.loads(every.output)["hits"]) == ["a-original", "b-one-word", "c-paragraph"]


def test_results_and_details_are_plain_json(tmp_path, no_extractor):
    _copies_corpus(tmp_path / "corpus")
    _write(tmp_path / "corpus", "f-people.jsonl", json.dumps(
        {"id": "1", "title": "Talks", "body": "Ministers met in Paris.", "source": "Wire",
         "people": ["james-baker"], "places": ["france"], "orgs": ["opec"]}) + "\n")
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        res = json.loads(json.dumps(index.search("", person="James Baker").to_dict()))
        detail = json.loads(json.dumps(index.get("a-original").to_dict()))
    (hit,) = res["hits"]
    assert sorted((e["kind"], e["name"], e["curated"]) for e in hit["entities"]) == [
        ("org", "OPEC", True), ("person", "James Baker", True), ("place", "France", True)]
    assert res["facets"]["person"] == [{"value": "James Baker", "count": 1, "selected": True, "auto": 0}]
    assert res["filters"]["person"] == ["James Baker"] and res["collapsed"] == 0
    assert detail["near_duplicates"] == [{"id": "b-one-word", "title": detail["near_duplicates"][0]["title"]},
                                         {"id": "c-paragraph", "title": detail["near_duplicates"][1]["title"]}]
    assert detail["parent"] is None and detail["attachments"] == [] and detail["file"] == "a-original.txt"


def test_json_lines_records_get_a_language(tmp_path, no_extractor):
    records = [{"id": "en", "title": "Oil", "body": "Crude oil prices rose sharply on Monday after the producers met."},
               {"id": "fr", "title": "Pétrole", "body": "Les prix du pétrole ont fortement augmenté lundi après la réunion."}]
    _write(tmp_path / "corpus", "r.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        res = index.search("")
    assert {h.id.rpartition(":")[2]: h.language for h in res.hits} == {"en": "en", "fr": "fr"}
    assert {v.value: v.count for v in res.facets["language"]} == {"en": 1, "fr": 1}


def test_automatic_entities_are_asked_for(tmp_path):
    """Extraction is a setting (it costs about 20 ms a report): off by default,
    and asked for without spaCy it is a clear error naming what is missing."""
    _write(tmp_path / "corpus", "a.txt", "date 2024-07-01 Andrii Belkov in Rostov-on-Don\nSource: X\n\n"
           "Andrii Belkov, head of the First Department, was arrested in Rostov-on-Don.\n")
    reindex(tmp_path / "corpus", tmp_path / "index", procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        assert index.search("").hits[0].entities == ()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ent, "extractor_status", lambda: ent.ExtractorStatus(False, "spaCy is not installed"))
        with pytest.raises(ConfigError, match="^entity extraction cannot run: spaCy is not installed$"):
            reindex(tmp_path / "corpus", tmp_path / "other", procs=1, entities=True)


def test_a_facet_sends_its_most_frequent_values_and_counts_the_rest(tmp_path, no_extractor, monkeypatch):
    from searchapp import facets

    corpus = tmp_path / "corpus"
    for n, source in enumerate(["Alpha", "Alpha", "Alpha", "Beta", "Beta", "Gamma", "Delta", "Echo"]):
        _write(corpus, f"r{n}.txt", f"Source: {source}\n\nGrain harvest report number {n}.\n")
    reindex(corpus, tmp_path / "index", procs=1)
    monkeypatch.setattr(facets, "MAX_VALUES", 2)
    with SearchIndex.open(tmp_path / "index") as index:
        plain = index.search("")
        picked = index.search("", source=["Echo"])
    assert [(v.value, v.count) for v in plain.facets["source"]] == [("Alpha", 3), ("Beta", 2)]
    assert plain.facets_left_out == {"source": 3} and plain.to_dict()["facets_left_out"] == {"source": 3}
    # a selected value is always listed, beyond the bound
    assert [v.value for v in picked.facets["source"]] == ["Alpha", "Beta", "Echo"]
    assert picked.facets_left_out == {"source": 2}


def test_places_by_look_up_without_a_model(tmp_path, no_extractor):
    corpus = tmp_path / "corpus"
    _write(corpus, "r.txt", "Source: Desk\n\nTalks on grain exports were held in Rostov-on-Don, Russia, on Monday.\n")
    reindex(corpus, tmp_path / "index", procs=1, places=True)
    with SearchIndex.open(tmp_path / "index") as index:
        res = index.search("")
        hit = index.search('place:"Russia"').hits
    assert {v.value for v in res.facets["place"]} >= {"Russia", "Rostov-on-Don"}
    assert all(v.auto == v.count for v in res.facets["place"])  # automatic, none curated
    assert [h.id for h in hit] == ["r"]
    assert index_plain_has_no_places(tmp_path)


def index_plain_has_no_places(tmp_path) -> bool:
    reindex(tmp_path / "corpus", tmp_path / "plain", procs=1)
    with SearchIndex.open(tmp_path / "plain") as index:
        return index.search("").facets["place"] == ()
