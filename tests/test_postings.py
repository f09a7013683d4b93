"""Matching and scoring on arrays (searchapp.postings) agree with Whoosh's own."""

from __future__ import annotations

import random

import numpy as np
import pytest
from whoosh import query as wq
from whoosh import scoring
from whoosh.filedb.filestore import RamStorage

from searchapp import query as qp
from searchapp import ranking
from searchapp.engine.arrays import ArrayQueryEngine as Evaluator, PostingCache
from searchapp.engine.whoosh_scoring import FieldsTerm, weighting
from searchapp.schema import build_schema

WORDS = ("oil price crude market bank rate interest said year company share trade export "
         "security vulnerability remote code execution library system information").split()


def _doc(rng: random.Random, n: int) -> dict:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 120)))
    return {
        "id": f"d{n}", "filesig": f"f{n % 7}\tsig", "file": f"f{n % 7}",
        "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))),
        "body": body, "source": rng.choice(["Reuters", "CISA", "NPL"]),
        "topic": ",".join(rng.sample(["crude", "earn", "acq", "Energy"], rng.randint(0, 2))),
        "date": f"19{rng.randint(80, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
    }


def _index(segments: int, deletions: bool):
    rng = random.Random(7)
    ix = RamStorage().create_index(build_schema())
    number = 0
    for _ in range(segments):
        writer = ix.writer()
        for _ in range(150):
            writer.add_document(**_doc(rng, number))
            number += 1
        writer.commit(merge=False)
    if deletions:
        writer = ix.writer()
        writer.delete_by_term("file", "f3")
        writer.commit(merge=False)
    return ix


QUERIES = {
    "one word": lambda: qp.parse("oil"),
    "and": lambda: qp.parse("crude oil price"),
    "or": lambda: qp.parse("crude OR bank"),
    "any word": lambda: qp.parse("crude oil price interest", any_word=True),
    "bag of words": lambda: qp.bag_of_words("oil oil price bank security"),
    "and not": lambda: qp.parse("oil -crude"),
    "field term": lambda: qp.parse("title:oil price"),
    "source term": lambda: wq.And([FieldsTerm("oil"), wq.Term("source", "CISA")]),
    "boosted or": lambda: wq.Or([FieldsTerm("oil"), wq.Term("body", "bank", boost=2.0),
                                 wq.Term("title", "rate")], boost=1.5),
    "boosted and": lambda: wq.And([FieldsTerm("oil", boost=2.0), wq.Term("body", "bank")], boost=0.5),
    "plain terms": lambda: wq.Or([wq.Term("body", "oil"), wq.Term("title", "oil", boost=4.0)]),
    "phrase": lambda: qp.parse('"remote code"'),
    "phrase and a word": lambda: qp.parse('"oil price" bank'),
    "three word phrase": lambda: wq.Phrase("body", ["oil", "price", "bank"]),
    "not a prefix": lambda: qp.parse("oil -bank*"),
    "phrase with slop": lambda: qp.parse('"oil crude"~3'),
    "one word phrase": lambda: wq.Phrase("body", ["oil"], boost=2.0),
}


@pytest.mark.parametrize("segments,deletions", [(1, False), (3, True)])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_array_scores_and_matches_equal_whooshs(name, segments, deletions):
    ix = _index(segments, deletions)
    q = QUERIES[name]()
    with ix.searcher(weighting=weighting()) as searcher:
        reader = searcher.reader()
        assert len(list(reader.leaf_readers())) == segments
        evaluator = Evaluator(searcher, PostingCache(reader))
        live = np.zeros(reader.doc_count_all(), dtype=bool)
        live[list(reader.all_doc_ids())] = True
        expected = {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}
        if isinstance(q, wq.AndNot):  # Whoosh 2.7.4 keeps a first posting it should exclude
            excluded = set(q.b.docs(searcher))
            expected = {d: s for d, s in expected.items() if d not in excluded}
        assert expected, "the query must match something"
        matched = evaluator.mask(q) & live
        assert set(np.nonzero(matched)[0].tolist()) == set(expected)
        scores = evaluator.scores(q)
        assert scores is not None
        docs = sorted(expected)
        assert scores[docs] == pytest.approx([expected[d] for d in docs], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("query", ["oil*", "date:[1985 TO 1990] oil", "oil bank*"])
def test_prefixes_and_ranges_are_matched_as_whoosh_and_scored_on_arrays(query):
    """Patterns score their boost in each document they match (a constant-score
    rewrite, as Lucene's), so the whole query stays on arrays (issue 11)."""
    ix = _index(2, False)
    q = qp.parse(query)
    with ix.searcher(weighting=weighting()) as searcher:
        evaluator = Evaluator(searcher, PostingCache(searcher.reader()))
        expected = {hit.docnum for hit in searcher.search(q, limit=None)}
        assert expected and set(np.nonzero(evaluator.mask(q))[0].tolist()) == expected
        scores = evaluator.scores(q)
        assert set(np.nonzero(scores)[0].tolist()) == expected


def test_a_prefix_scores_its_boost_in_each_field_it_matches():
    ix = _index(2, False)
    q = qp.parse("oil*")  # title:oil*^4 OR body:oil*
    with ix.searcher(weighting=weighting()) as searcher:
        evaluator = Evaluator(searcher, PostingCache(searcher.reader()))
        title = {d for d in wq.Prefix("title", "oil").docs(searcher)}
        body = {d for d in wq.Prefix("body", "oil").docs(searcher)}
        scores = evaluator.scores(q)
        assert title and body
        for d in title | body:
            assert scores[d] == 4.0 * (d in title) + 1.0 * (d in body)


def test_coordination_and_other_weightings_are_left_to_whoosh():
    ix = _index(1, False)
    scaled = wq.Or([FieldsTerm("oil"), FieldsTerm("bank")], scale=0.9)
    with ix.searcher(weighting=weighting()) as searcher:
        assert Evaluator(searcher, PostingCache(searcher.reader())).scores(scaled) is None
    with ix.searcher(weighting=scoring.TF_IDF()) as searcher:
        assert Evaluator(searcher, PostingCache(searcher.reader())).scores(FieldsTerm("oil")) is None


def test_cache_keeps_at_most_its_budget_and_serves_repeats():
    ix = _index(1, False)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        cache = PostingCache(reader, max_bytes=3000)
        first = cache.get(reader, "body", b"oil")
        assert cache.get(reader, "body", b"oil") is first
        for word in WORDS:
            cache.get(reader, "body", word.encode())
        assert cache._bytes <= 3000
        assert np.all(np.diff(first.docs) > 0) and len(first.docs) == reader.doc_frequency("body", "oil")


def test_a_new_commits_reader_decodes_only_its_new_segment(monkeypatch):
    """issue 11: segments never change, so the reader of the next commit joins
    the arrays decoded from the others (deletions included) with its new one's."""
    from searchapp.engine import whoosh_postings as wp

    ix = _index(2, True)
    with ix.searcher(weighting=weighting()) as searcher:
        reader = searcher.reader()
        before = PostingCache(reader).get(reader, "body", b"oil")
        old_ids = [wp.segment_id(seg) for seg, _ in reader.leaf_readers()]
    writer = ix.writer()
    writer.delete_by_term("file", "f4")
    for number in range(1000, 1100):
        writer.add_document(**_doc(random.Random(number), number))
    writer.commit(merge=False)
    decoded = []
    real = wp.segment_postings
    monkeypatch.setattr(wp, "segment_postings",
                        lambda seg, field, btext: decoded.append(wp.segment_id(seg)) or real(seg, field, btext))
    with ix.searcher(weighting=weighting()) as searcher:
        reader = searcher.reader()
        ids = [wp.segment_id(seg) for seg, _ in reader.leaf_readers()]
        cache = PostingCache(reader)
        after = cache.get(reader, "body", b"oil")
        assert ids[:2] == old_ids and decoded == ids[2:] and len(ids) == 3
        assert after.docs.tolist()[:len(before.docs)] == before.docs.tolist()
        assert np.all(np.diff(after.docs) > 0)
        live = _live(reader)
        assert after.docs[live[after.docs]].tolist() == sorted(reader.postings("body", b"oil").all_ids())
        q = qp.parse("oil price")
        expected = {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}
        evaluator = Evaluator(searcher, cache)
        assert np.nonzero(evaluator.mask(q) & live)[0].tolist() == sorted(expected)
        scores = evaluator.scores(q)
        assert scores[sorted(expected)] == pytest.approx([expected[d] for d in sorted(expected)], rel=1e-9)


def _live(reader) -> np.ndarray:
    live = np.zeros(reader.doc_count_all(), dtype=bool)
    live[list(reader.all_doc_ids())] = True
    return live


def test_not_excludes_the_first_matching_document_too():
    """Whoosh's AndNotMatcher only skips the negative postings forward when both
    lists start on the same document: "oil -crude" keeps a first "oil" report
    that holds "crude" when some earlier report holds "crude" alone."""
    ix = _index(1, False)
    q = qp.parse("oil -crude")
    assert isinstance(q, wq.AndNot)
    with ix.searcher() as searcher:
        crude = set(q.b.docs(searcher))
        assert crude & set(q.docs(searcher)), "Whoosh's own matching shows the flaw here"
        mask = Evaluator(searcher, PostingCache(searcher.reader())).mask(q)
        assert mask.any() and not crude & set(np.nonzero(mask)[0].tolist())


def test_facet_table_reads_the_same_as_whooshs_own_postings():
    from searchapp.engine.state import ReaderState as FacetTable

    ix = _index(3, True)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        table = FacetTable(reader)
        live = set(reader.all_doc_ids())
        assert set(np.nonzero(table.live)[0].tolist()) == live and len(live) < reader.doc_count_all()
        for field, values in (("source", table.source), ("topic", table.topic)):
            expected = {term.decode(): sorted(reader.postings(field, term).all_ids()) for term in reader.lexicon(field)}
            got = {v: sorted(values.docs[values.ords == i].tolist()) for i, v in enumerate(values.values)}
            assert got == expected, field
        days = {d: stored["date"] for d, stored in reader.iter_docs()}
        assert all(table.day[d] == np.datetime64(days[d]).astype("datetime64[D]").astype(int) + 719163 for d in live)


def test_facet_tables_are_kept_beside_the_index_and_follow_its_changes(tmp_path):
    import shutil
    from pathlib import Path

    from searchapp import reindex, store
    from searchapp.engine.state import ReaderState as FacetTable

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "data" / "corpus", corpus)
    (corpus / "odd.jsonl").write_text('{"id": 1, "source": "Wire\\u0000", "topics": ["x\\u0000"], "body": "Wheat."}\n')
    index = tmp_path / "index"
    reindex(corpus, index, procs=1)
    # issue 5: the reindex keeps the table, so the first search does not build it
    assert len(list(store.current_generation(index).glob("facets-*.npz"))) == 1

    def tables():
        ix, gen = store.open_generation(index)
        with ix.searcher() as searcher:
            return FacetTable(searcher.reader()), FacetTable.open(searcher.reader(), gen), gen

    fresh, kept, gen = tables()
    assert len(list(gen.glob("facets-*.npz"))) == 1
    again, loaded, _ = tables()  # now read from the kept file
    for a, b in ((fresh, kept), (fresh, loaded)):
        assert np.array_equal(a.live, b.live) and np.array_equal(a.day, b.day)
        for field in ("source", "topic", "topic_auto", "topics"):
            x, y = getattr(a, field), getattr(b, field)
            assert x.values == y.values and np.array_equal(x.docs, y.docs) and np.array_equal(x.ords, y.ords)
    assert any("\x00" in v for v in loaded.source.values)
    (corpus / "native" / "reuters-grain-2023.txt").unlink()
    reindex(corpus, index, procs=1)  # a new commit: the kept table no longer fits
    assert [p.name for p in store.current_generation(index).glob("facets-*.npz")] == ["facets-2.npz"]
    fresh, kept, gen = tables()
    assert kept.live.sum() == fresh.live.sum() == 13
    assert [p.name for p in gen.glob("facets-*.npz")] == ["facets-2.npz"]
    ix, _ = store.open_generation(index)
    with ix.searcher() as searcher:  # a folder it cannot write to: the table still comes
        unwritable = tmp_path / "gone"
        table = FacetTable.open(searcher.reader(), unwritable)
        assert table.live.sum() == 13 and not unwritable.exists()
