"""Issue 13 on a mixed collection built from ../shared/corpora: snippets, stopwords, queries.

About 7,000 reports: every CRS report and WA SOC advisory, the first CISA
advisories and Reuters stories and newsgroup posts, plus those holding the
examples of the issue.
"""

import gzip
import json
import re
from pathlib import Path

import pytest

from searchapp import SearchIndex, reindex
from searchapp.errors import QueryError

# folder, file, how many records from the start, records also taken wherever they are
PARTS = (
    ("crs-reports", "crs-reports.jsonl.gz", None, ()),
    ("wa-soc-advisories", "wa-soc-advisories.jsonl.gz", None, ()),
    ("cisa-csaf-advisories", "cisa-csaf-advisories.jsonl.gz", 1500, ("CVE-2022-3602",)),
    ("reuters21578", "reuters21578.jsonl.gz", 3000, ("The Hague", " WHO ")),
    ("20newsgroups-bydate", "20news-bydate.jsonl.gz", 1000, (" WHO ", "Ministry of Defense")),
)


@pytest.fixture(scope="module")
def mixed(shared_corpora, tmp_path_factory):
    corpus = tmp_path_factory.mktemp("mixed") / "corpus"
    corpus.mkdir()
    for folder, name, first, wanted in PARTS:
        with gzip.open(shared_corpora / folder / name, "rt", encoding="utf-8") as lines, \
                open(corpus / f"{folder}.jsonl", "w", encoding="utf-8") as out:
            for i, line in enumerate(lines):
                if first is None or i < first or any(w in line for w in wanted):
                    out.write(line)
    index_dir = corpus.parent / "index"
    reindex(corpus, index_dir, full=True, procs=1)
    with SearchIndex.open(index_dir) as index:
        yield index


def _marked(hit) -> list[str]:
    return [hit.snippet_text[s:e] for s, e in hit.snippet_spans]


def test_the_rare_word_shows_in_the_snippet(mixed):
    res = mixed.search("Mangkhut grants")
    assert res.total >= 1
    marked = [m.lower() for m in _marked(res.hits[0])]
    assert "mangkhut" in marked and any(m.startswith("grant") for m in marked)


def test_a_phrase_marks_the_phrase_only(mixed):
    res = mixed.search('"Military Construction"')
    assert res.total >= 1
    for hit in res.hits:
        assert {m.lower() for m in _marked(hit)} <= {"military construction"}, hit.id


def test_a_cve_id_is_marked_whole_and_only_itself(mixed):
    res = mixed.search("CVE-2022-3602")
    assert res.total >= 1
    for hit in res.hits:
        assert set(_marked(hit)) <= {"CVE-2022-3602"}, (hit.id, _marked(hit))
        for s, e in hit.snippet_spans:
            assert not re.match(r"[-.]\w", hit.snippet_text[e:e + 2]), hit.id


def test_us_sanctions_marks_no_letter_inside_a_word(mixed):
    res = mixed.search("U.S. sanctions")
    assert res.total >= 1
    for hit in res.hits:
        for s, e in hit.snippet_spans:
            assert not (s and hit.snippet_text[s - 1] in "'\u2019"), (hit.id, hit.snippet_text[s - 5:e + 5])


@pytest.mark.parametrize("word", ["WHO", "IT", "US"])
def test_acronyms_that_are_stopwords_are_findable(mixed, word):
    # "who" and "it" are stopwords, "us" is not (the Snowball list)
    res = mixed.search(word)
    assert res.total >= 1
    assert word.lower() in {m.lower() for m in _marked(res.hits[0])} or word in res.hits[0].title
    if word != "US":  # an acronym, as written: the stopword "who" and "it" are never marked
        assert all(m == word for m in _marked(res.hits[0]))


@pytest.mark.parametrize("phrase", ['"The Hague"', '"Ministry of Defence"'])
def test_phrases_with_stopwords_are_findable(mixed, phrase):
    res = mixed.search(phrase)
    assert res.total >= 1
    words = phrase.strip('"').split()
    assert any(words[-1].lower()[:5] in m.lower() for m in _marked(res.hits[0]))


@pytest.mark.parametrize("text", ["title:(", "source:", "AND", "((((", "date:[2025 TO 2023]", "date:[2024 TO",
                                  "y (x +)"])
def test_unreadable_queries_are_refused_on_the_mixed_collection(mixed, text):
    with pytest.raises(QueryError, match="character|starts after it ends"):
        mixed.search(text)
