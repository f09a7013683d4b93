"""Did-you-mean on a small corpus built here: candidates ranked by edit distance
and corpus frequency, known but rare spellings questioned when results are few,
fielded words corrected in their field, and the bounds that keep it cheap."""

from __future__ import annotations

import json

import pytest
from whoosh.filedb.filestore import RamStorage

from searchapp import SearchIndex, reindex, spelling
from searchapp.schema import build_schema

# (title, body, copies)
DOCS = [
    ("Minister denies accusations", "The accusations of fraud were denied.", 6),
    ("Old habits", "He was accustomed to the cold.", 1),
    ("Patch the vulnerability", "A vulnerability in the server lets attackers in.", 25),
    ("Typo advisory", "A vulnerabilty was found.", 1),
    ("Spy convicted of treason", "The court heard how the spies met.", 3),
    ("Harvest report", "Grain exports and the tresaon of the season.", 1),
    ("Form filed", "The form was filed from the office.", 2),
]


@pytest.fixture(scope="module")
def searcher():
    ix = RamStorage().create_index(build_schema())
    with ix.writer() as w:
        n = 0
        for title, body, copies in DOCS:
            for _ in range(copies):
                n += 1
                w.add_document(id=str(n), title=title, body=body)
    with ix.searcher() as s:
        yield s


@pytest.mark.parametrize("text, expected", [
    ("accusatons", "accusations"),  # one edit from accusations (6), not accustomed (1)
    ("Accusatons of fraud", "Accusations of fraud"),  # the capital is kept, the known word too
    ("vulnerabilityy", "vulnerability"),
    ("treasno", "treason"),
    ("grain", None),  # known, results not few enough to matter: nothing to suggest
    ("zzqxv", None),
])
def test_unknown_words_get_the_likeliest_corpus_word(searcher, text, expected):
    assert spelling.suggest(searcher, text) == expected


def test_a_known_word_is_questioned_when_results_are_few_and_a_neighbour_is_far_more_frequent(searcher):
    assert spelling.suggest(searcher, "vulnerabilty", total=1) == "vulnerability"  # 25 against 1
    assert spelling.suggest(searcher, "vulnerabilty", total=spelling.FEW_RESULTS + 1) is None
    # "form" and "from" are one edit apart, but "from" is a stopword (never suggested).
    assert spelling.suggest(searcher, "form", total=2) is None
    # Not far more frequent: accustomed (1) is not questioned for accusations (6).
    assert spelling.suggest(searcher, "accustomed", total=1) is None


def test_fielded_words_are_corrected_against_their_field(searcher):
    # In the title only "treason" is known; the body's own "tresaon" does not count there.
    assert spelling.suggest(searcher, "title:tresaon") == "title:treason"
    assert spelling.suggest(searcher, "body:accusatons fraud") == "body:accusations fraud"
    # Filter values are not words to correct.
    assert spelling.suggest(searcher, "source:reutres") is None
    assert spelling.suggest(searcher, "topic:accusatons") is None


def test_bounds_keep_pathological_queries_cheap(searcher, monkeypatch):
    walked = []
    real = spelling._best
    monkeypatch.setattr(spelling, "_best", lambda *a: walked.append(a[2]) or real(*a))
    long_word = "a" * (spelling.MAX_WORD_CHARS + 1)
    assert spelling.suggest(searcher, long_word) is None and walked == []
    spelling.suggest(searcher, " ".join(f"qqzz{c}" for c in "abcdefghij"))
    assert walked == ["qqzza", "qqzzb", "qqzzc", "qqzzd", "qqzze"]  # MAX_LOOKUPS, then stop


def test_the_search_suggests_for_an_unknown_word_and_a_fielded_one(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [{"id": str(i), "date": "2024-01-02", "source": "S", "title": title, "body": body}
               for i, (title, body, copies) in enumerate(DOCS) for _ in range(copies)]
    records = [{**r, "id": str(i)} for i, r in enumerate(records)]
    (corpus / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    reindex(corpus, tmp_path / "index", procs=1)
    index = SearchIndex.open(tmp_path / "index")
    try:
        assert index.search("accusatons").suggestion == "accusations"
        res = index.search("title:tresaon")
        assert (res.total, res.suggestion) == (0, "title:treason")
    finally:
        index.close()
