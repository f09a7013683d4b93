"""BM25F over title and body (searchapp.ranking), and the queries that use it."""

from __future__ import annotations

import math

import pytest
from whoosh import query as wq
from whoosh.filedb.filestore import RamStorage
from whoosh.query.compound import DefaultOr

from searchapp import query as qp
from searchapp import ranking
from searchapp.engine.whoosh_scoring import FieldsTerm, weighting
from searchapp.ranking import B, K1
from searchapp.schema import FIELD_BOOSTS, build_schema

DOCS = [  # (id, title, body); every word is its own stem and no stopword
    ("d0", "wing", "lift drag"),
    ("d1", "drag", "wing wing lift"),
    ("d2", "flap", "slat spoiler"),
]


@pytest.fixture(scope="module")
def searcher():
    ix = RamStorage().create_index(build_schema())
    with ix.writer() as writer:
        for id_, title, body in DOCS:
            writer.add_document(id=id_, title=title, body=body)
    with ix.searcher(weighting=weighting()) as s:
        yield s


def _scores(searcher, q) -> dict[str, float]:
    return {hit["id"]: hit.score for hit in searcher.search(q, limit=None)}


def _bm25f(tf_by_field: dict[str, tuple[int, int]], avg: dict[str, float], df: int, n: int) -> float:
    """BM25F by hand: tf_by_field maps field -> (frequency, field length)."""
    tf = sum(FIELD_BOOSTS[f] * freq / (1 - B + B * length / avg[f]) for f, (freq, length) in tf_by_field.items())
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf * (K1 + 1) / (tf + K1)


AVG = {"title": 1.0, "body": 7 / 3}


def test_fields_term_scores_bm25f_by_hand(searcher):
    scores = _scores(searcher, FieldsTerm("wing"))
    assert set(scores) == {"d0", "d1"}
    # df is the largest field document frequency: 1 (title of d0, body of d1).
    assert scores["d0"] == pytest.approx(_bm25f({"title": (1, 1)}, AVG, df=1, n=3), rel=1e-6)
    assert scores["d1"] == pytest.approx(_bm25f({"body": (2, 3)}, AVG, df=1, n=3), rel=1e-6)


def test_a_word_in_title_and_body_is_saturated_once(searcher):
    scores = _scores(searcher, FieldsTerm("drag"))  # d1's title, d0's body
    assert scores["d1"] > scores["d0"]  # a title word weighs more
    both = _bm25f({"title": (1, 1), "body": (1, 2)}, AVG, df=1, n=3)
    apart = _bm25f({"title": (1, 1)}, AVG, 1, 3) + _bm25f({"body": (1, 2)}, AVG, 1, 3)
    assert both < apart  # what Whoosh's per-field BM25F would have added up


def test_boost_multiplies_and_missing_words_match_nothing(searcher):
    once, twice = _scores(searcher, FieldsTerm("lift")), _scores(searcher, FieldsTerm("lift", boost=2.0))
    assert twice == pytest.approx({k: 2 * v for k, v in once.items()})
    assert _scores(searcher, FieldsTerm("rudder")) == {}
    assert set(_scores(searcher, wq.Or([FieldsTerm("flap"), FieldsTerm("lift")]))) == {"d0", "d1", "d2"}
    assert set(FieldsTerm("lift").docs(searcher)) == {0, 1}


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_top_hits_once_the_collector_raises_its_minimum_score(limit):
    # Once the top hits are known, Whoosh asks the union of words (a binary
    # tree, as Or builds for more than 5,000 documents) for the best score
    # each side could still add, to skip documents that cannot compete.
    vocabulary = ["rare", "flap", "wing", "lift", "drag", "aircraft"]
    ix = RamStorage().create_index(build_schema())
    with ix.writer() as writer:
        for number in range(60):
            words = [w for i, w in enumerate(vocabulary) if (number * (i + 3)) % (7 - i) == 0]
            writer.add_document(id=f"d{number}", title=" ".join(words[:1]), body=" ".join(words * (number % 3 + 1)))
    with ix.searcher(weighting=weighting()) as s:
        q = DefaultOr([FieldsTerm(w) for w in vocabulary])
        every = _scores(s, q)
        best = sorted(every, key=lambda d: (-round(every[d], 9), int(d[1:])))[:limit]
        top = s.search(q, limit=limit)
        assert [hit["id"] for hit in top] == best


def test_bag_of_words_weighs_repeated_words_and_ignores_syntax():
    q = qp.bag_of_words('optimization of loops: "optimization" AND loops?')
    assert isinstance(q, wq.Or)
    assert {(c.text, c.boost) for c in q.subqueries} == {("optim", 2.0), ("loop", 2.0)}
    assert all(isinstance(c, FieldsTerm) for c in q.subqueries)


@pytest.mark.parametrize("any_word", [False, True])
def test_parsed_words_become_bm25f_words(any_word):
    q = qp.parse('wing^2 "lift drag" title:flap', any_word=any_word)
    leaves = list(q.leaves())
    words = [leaf for leaf in leaves if isinstance(leaf, FieldsTerm)]
    assert [(w.text, w.boost) for w in words] == [("wing", 2.0)]
    # Phrases and fielded words keep Whoosh's per-field scoring.
    assert {type(leaf) for leaf in leaves} == {FieldsTerm, wq.Phrase, wq.Term}
    assert [(t.fieldname, t.text) for t in leaves if type(t) is wq.Term] == [("title", "flap")]


def test_highlighting_sees_the_words_of_a_fields_term():
    assert set(qp.positive_terms(qp.parse("wing lift"))) == {
        ("title", "wing"), ("body", "wing"), ("title", "lift"), ("body", "lift")}


@pytest.mark.parametrize("share, expected", [(0.1, ["docs:a", "docs:b", "docs:c"]), (0.4, ["docs:a", "docs:b"])])
def test_at_least_matches_documents_holding_the_minimum_of_its_words(tmp_path, monkeypatch, share, expected):
    import json

    from searchapp import SearchIndex, query, reindex

    monkeypatch.setattr(query, "SHARE_BEYOND", share)
    monkeypatch.setattr(query, "FEW_MATCHES", 0)  # the minimum alone, never widened
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {"a": "alpha beta gamma delta", "b": "alpha beta", "c": "alpha", "d": "epsilon"}
    with open(corpus / "docs.jsonl", "w") as out:
        for rid, body in texts.items():
            out.write(json.dumps({"id": rid, "title": rid, "body": body}) + "\n")
    reindex(corpus, tmp_path / "index", full=True, procs=1)
    with SearchIndex.open(tmp_path / "index") as index:
        found = [rid for rid, _ in index.rank("alpha beta gamma delta zeta", mode="all")]
    # five words: at least floor(5 * share) of them (query.minimum_words), best coverage first
    assert found == expected
