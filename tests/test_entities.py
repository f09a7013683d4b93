"""Entities: curated ones kept and normalised, extracted ones marked automatic."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from searchapp.corpus.native import parse_native
from searchapp.entities import (
    MAX_CHARS,
    Entity,
    ReportEntities,
    extract_batch,
    extract_entities,
    extractor_status,
    resolve_place,
)
from searchapp.entities import ner
from searchapp.entities.gazetteer import find_places
from searchapp.entities.names import clean_name, clean_person, curated_name, merge_short_forms
from searchapp.entities.places import Place, resolve_dateline
from tests.conftest import SEED_CORPUS

needs_model = pytest.mark.skipif(not extractor_status().available,
                                 reason=extractor_status().reason)


def names(entities: tuple[Entity, ...]) -> set[str]:
    return {e.name for e in entities}


@pytest.fixture(scope="module")
def seed() -> ReportEntities:
    (path,) = sorted(SEED_CORPUS.glob("*.txt"))
    report = parse_native(path.read_text(encoding="utf-8"), path.name, path.stem)
    return extract_entities(report.title, report.body, report.extra)


@needs_model
def test_seed_people_with_short_forms_merged(seed):
    assert names(seed.people) == {
        "Andrii Belkov", "Yevhen Smirnov", "Serhiy Shoigu", "Serhiy Ivanov", "Putin"}
    smirnov = next(p for p in seed.people if p.name == "Yevhen Smirnov")
    assert smirnov.mentions == 2  # "Smirnov emphasized ..." merged into the full name
    assert not any(p.curated for p in seed.people)


@needs_model
def test_seed_places_normalised_with_countries(seed):
    assert {(p.name, p.country) for p in seed.places} == {
        ("Rostov-on-Don", "Russia"), ("Russia", "Russia"), ("Ukraine", "Ukraine")}
    russia = next(p for p in seed.places if p.name == "Russia")
    # six "Russia" and two "the Russian Federation" (title and body): one place
    assert russia.mentions == 8


@needs_model
def test_seed_orgs(seed):
    assert {"First Department", "Military Construction Company"} <= names(seed.orgs)
    assert not any("Belkov" in org for org in names(seed.orgs))


@pytest.mark.parametrize("text, expected", [
    ("Russia", Place("Russia", "Russia")),
    ("Russian Federation", Place("Russia", "Russia")),
    ("RF", Place("Russia", "Russia")),
    ("the Soviet Union", Place("Soviet Union", "Russia")),
    ("usa", Place("United States", "United States")),
    ("U.S.", Place("United States", "United States")),
    ("uk", Place("United Kingdom", "United Kingdom")),
    ("west-germany", Place("West Germany", "Germany")),
    ("Rostov-on-Don", Place("Rostov-on-Don", "Russia")),
    ("Peking", Place("Beijing", "China")),
    ("Odessa", Place("Odesa", "Ukraine")),
    ("Paris", Place("Paris", "France")),
    ("Victoria", None),  # Hong Kong's, Canada's or an Australian state: ambiguous
    ("Qzxville", None),
])
def test_resolve_place(text, expected):
    assert resolve_place(text) == expected


@pytest.mark.parametrize("dateline, expected", [
    ("HONG KONG, April 8 -", Place("Hong Kong", "Hong Kong")),
    ("AUBURN, N.Y., April 8 -", Place("New York", "United States")),
    ("KITCHENER, Ont., March 3 -", Place("Ontario", "Canada")),
    ("QZXVILLE, April 8 -", None),
])
def test_resolve_dateline(dateline, expected):
    assert resolve_dateline(dateline) == expected


@pytest.mark.parametrize("text, expected", [
    ("the Ministry of Defense's", "Ministry of Defense"),
    ("  First\nDepartment ", "First Department"),
    ("they", None), ("It", None), ("company", None), ("2019", None),
    ("July 23", None), ("more than 100", None), ("Monday", None),
    ("Its Alex. Brown", "Alex. Brown"), ("their Ministry", "Ministry"),
])
def test_clean_name_drops_noise(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("President Reagan", "Reagan"), ("Mr Smirnov", "Smirnov"),
    ("JAMES BAKER", "James Baker"), ("Smirnov emphasized", None),
])
def test_clean_person(text, expected):
    assert clean_person(text) == expected


@pytest.mark.parametrize("tag, acronym_max, expected", [
    ("james-baker", 0, "James Baker"), ("perez-de-cuellar", 0, "Perez de Cuellar"),
    ("opec", 8, "OPEC"), ("Andrii Belkov", 0, "Andrii Belkov"),
])
def test_curated_name(tag, acronym_max, expected):
    assert curated_name(tag, acronym_max) == expected


def test_short_forms_merge_only_when_unambiguous():
    assert merge_short_forms(["Belkov", "Andrii Belkov"]) == {"Belkov": "Andrii Belkov"}
    assert merge_short_forms(["Ivanov", "Serhiy Ivanov", "Sergei Ivanov"]) == {}


def test_curated_entities_without_extraction():
    found = extract_entities("t", "Nothing here.", {
        "places": ["usa", "ussr"], "people": ["james-baker"], "orgs": ["opec", "worldbank"],
        "topics": ["grain"]}, extract=False)
    assert found.to_dict() == {
        "people": [{"name": "James Baker", "curated": True, "mentions": 1}],
        "orgs": [{"name": "OPEC", "curated": True, "mentions": 1},
                 {"name": "World Bank", "curated": True, "mentions": 1}],
        "places": [
            {"name": "Soviet Union", "curated": True, "mentions": 1, "country": "Russia"},
            {"name": "United States", "curated": True, "mentions": 1,
             "country": "United States"}],
    }


def test_front_matter_strings_are_split():
    found = extract_entities("", "", {"places": "Russia; Kyiv", "people": "Andrii Belkov"},
                             extract=False)
    assert [(p.name, p.country) for p in found.places] == [("Kyiv", "Ukraine"), ("Russia", "Russia")]
    assert names(found.people) == {"Andrii Belkov"}


@needs_model
def test_curated_wins_over_automatic_and_counts_mentions():
    found = extract_entities("", "Troops left Russia. Russia denied it.", {"places": ["RF"]})
    assert found.places == (Entity("Russia", True, "Russia", 3),)


@needs_model
def test_extraction_reads_only_the_first_max_chars():
    filler = "Nothing happened today. " * (MAX_CHARS // 20)
    found = extract_entities("", filler + "Delegates met in Ukraine.", {})
    assert names(found.places) == set()
    assert names(extract_entities("", "Delegates met in Ukraine.", {}).places) == {"Ukraine"}


@needs_model
def test_batch_equals_one_by_one():
    items = [("", "Serhiy Shoigu visited Kyiv.", {}), ("", "", {"places": ["uk"]}),
             ("", "The Military Construction Company paid Andrii Belkov.", {})]
    assert extract_batch(items, batch_size=2) == [extract_entities(*item) for item in items]


@needs_model
def test_the_model_reads_each_text_once_and_none_without_capitals(monkeypatch):
    nlp = ner._pipeline()
    read: list[str] = []

    class Counted:
        def pipe(self, texts, batch_size):
            texts = list(texts)
            read.extend(texts)
            return nlp.pipe(texts, batch_size=batch_size)

    texts = ["Serhiy Shoigu visited Kyiv.", "no names here, only words.", "",
             "Serhiy Shoigu visited Kyiv.", "Troops left Russia."]
    monkeypatch.setattr(ner, "_pipeline", Counted)
    found = list(ner.find_entities(texts))
    assert read == ["Serhiy Shoigu visited Kyiv.", "Troops left Russia."]
    shoigu = ner._mentions(nlp(texts[0]))
    assert ner.RawEntity("person", "Serhiy Shoigu") in shoigu
    assert found[0] == found[3] == shoigu
    assert found[1] == found[2] == [] and found[4] == [ner.RawEntity("place", "Russia")]
    found[0].append(ner.RawEntity("org", "X"))  # each text's list is its own
    assert found[3] == shoigu


def test_without_spacy_extraction_is_off_and_says_why(monkeypatch):
    real = ner.importlib.util.find_spec
    monkeypatch.setattr(ner.importlib.util, "find_spec",
                        lambda name: None if name == "spacy" else real(name))
    ner.extractor_status.cache_clear()
    try:
        status = extractor_status()
        assert status.available is False
        assert status.reason == "spaCy is not installed: install searchapp[entities]"
        found = extract_entities("", "Serhiy Shoigu visited Kyiv.", {"places": ["uk"]})
        assert found == ReportEntities(places=(Entity("United Kingdom", True, "United Kingdom"),))
        with pytest.raises(ner.ExtractorUnavailableError) as caught:
            list(ner.find_entities(["x"]))
        assert str(caught.value) == (
            "entity extraction is off: spaCy is not installed: install searchapp[entities]")
    finally:
        ner.extractor_status.cache_clear()


def test_reuters_curated_entities_normalised(shared_corpora):
    path = shared_corpora / "reuters21578" / "reuters21578.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    # reports per code (a few records list a code twice: 9323 has usa, usa)
    tagged = Counter(code for r in records for code in set(r["places"]))
    found = extract_batch(((r["title"] or "", "", r) for r in records), extract=False)
    countries = Counter(p.name for e in found for p in e.places if p.curated)
    assert countries["United States"] == tagged["usa"] == 12541
    assert countries["West Germany"] == tagged["west-germany"]
    assert countries["Soviet Union"] == tagged["ussr"]
    # every curated place resolves to a country, curated people and orgs all kept
    assert all(p.country for e in found for p in e.places if p.curated)
    assert sum(len([p for p in e.people if p.curated]) for e in found) == sum(
        len(set(r["people"])) for r in records)
    first = found[0]
    assert [(p.name, p.curated) for p in first.places if p.curated] == [
        ("El Salvador", True), ("United States", True), ("Uruguay", True)]
    assert Counter(o.name for e in found for o in e.orgs)["OPEC"] == sum(
        "opec" in r["orgs"] for r in records)


@pytest.mark.parametrize("text, expected", [
    ("Talks in Rostov-on-Don and the Russian Federation.", ["Rostov-on-Don", "Russian Federation"]),
    ("The USSR, the UK and the U.S. agreed; IT firms did not.", ["USSR", "UK", "U.S."]),
    ("Bosnia and Herzegovina's envoy flew to Sao Paulo.", ["Bosnia and Herzegovina", "Sao Paulo"]),
    ("Police said they met in Split.", ["Split"]),  # sentence-initial town names are words
    ("Nigel Lawson and George Bush met in March.", []),  # a town's name inside a person's
    ("The union met the Union delegates.", []),  # also written in lower case
    ("They met in Paris, France.", ["Paris", "France"]),
])
def test_gazetteer_finds_places_by_name(text, expected):
    assert find_places(text) == expected


def test_gazetteer_places_without_spacy():
    found = extract_batch([("", "Ministers from West Germany met in Bonn and Peking.", {})],
                          extract=False, gazetteer=True)[0]
    assert {(p.name, p.country, p.curated) for p in found.places} == {
        ("West Germany", "Germany", False), ("Bonn", "Germany", False), ("Beijing", "China", False)}
    assert found.people == found.orgs == ()
