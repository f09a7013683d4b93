"""The engine package: its boundary, the per-reader states, closing, the cost bound."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from whoosh.filedb.filestore import FileStorage

from searchapp import QueryError, SchemaVersionError, SearchIndex, reindex
from searchapp.engine import EngineQuery, SearchEngine
from searchapp.engine import state as engine_state
from searchapp.engine.budget import QueryBudget
from searchapp.engine.whoosh_engine import WhooshEngine
from searchapp.schema import build_schema

DATA = Path(__file__).parent / "data" / "corpus"


def _committed_twice(folder: Path):
    ix = FileStorage(str(folder)).create_index(build_schema())
    for n in range(2):
        with ix.writer() as writer:
            writer.add_document(id=f"d{n}", title="oil", body="crude oil", source="Wire", date="1987-0%d-01" % (n + 1))
    return ix


def test_the_whoosh_engine_fills_the_protocol(built_index):
    engine = WhooshEngine(built_index)
    try:
        assert isinstance(engine, SearchEngine)
        answer = engine.search(EngineQuery(text="pipeline", limit=3))
        assert answer.total == 1 and len(answer.hits) == 1
        stored, score = answer.hits[0]
        assert isinstance(stored, dict) and isinstance(score, float) and "pipelin" in answer.highlight
        assert set(answer.facets) == {"source", "topic", "language", "person", "org", "place", "date"}
    finally:
        engine.close()


def test_close_closes_every_threads_searcher(built_index):
    index = SearchIndex.open(built_index)
    started = threading.Barrier(3)

    def work():
        index.search("pipeline")
        started.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    index.search("pipeline")
    started.wait()
    for t in threads:
        t.join()
    searchers = set(index._engine._views.searchers)
    assert len(searchers) == 3
    index.close()
    assert all(s.is_closed for s in searchers) and not index._engine._views.searchers
    assert index.search("pipeline").total == 1  # opens again


def test_readers_of_two_commits_keep_their_own_states(tmp_path):
    ix = _committed_twice(tmp_path)
    states = engine_state.ReaderStates(tmp_path)
    old = ix.reader()  # the second commit
    with ix.writer() as writer:
        writer.add_document(id="d9", title="gas", body="gas", source="Wire")
    new = ix.reader()
    first_old, first_new = states.get(old), states.get(new)
    assert first_old is not first_new and first_new.n == first_old.n + 1
    for _ in range(3):  # threads on either reader: no rebuilds
        assert states.get(old) is first_old and states.get(new) is first_new


def test_an_older_readers_state_never_deletes_a_newer_commits_file(tmp_path):
    ix = _committed_twice(tmp_path)
    old = ix.reader()
    with ix.writer() as writer:
        writer.add_document(id="d9", title="gas", body="gas", source="Wire")
    new = ix.reader()
    engine_state.ReaderState.open(new, tmp_path)  # the indexer keeps the new commit's state
    newer = {p.name for p in tmp_path.glob("facets-*.npz")}
    engine_state.ReaderState.open(old, tmp_path)  # then a thread still on the old reader
    assert newer <= {p.name for p in tmp_path.glob("facets-*.npz")}
    engine_state.ReaderState.open(ix.reader(), tmp_path)
    assert newer <= {p.name for p in tmp_path.glob("facets-*.npz")}


def test_a_renamed_pickled_class_asks_for_a_rebuild(tmp_path, monkeypatch):
    from searchapp import analysis

    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    reindex(corpus, tmp_path / "index", procs=1)
    monkeypatch.delattr(analysis, "NltkStemFilter")  # as if renamed since the index was built
    with pytest.raises(SchemaVersionError, match=r"NltkStemFilter.*rebuild it with a full reindex"):
        SearchIndex.open(tmp_path / "index")


def test_the_time_budget_counts_this_threads_cpu_not_other_threads_work():
    import threading
    import time

    budget = QueryBudget(seconds=0.2)
    spun = threading.Event()

    def spin() -> None:  # another request's work: 0.4 s of CPU while this one waits
        start = time.thread_time()
        while time.thread_time() - start < 0.4:
            pass
        spun.set()

    other = threading.Thread(target=spin)
    other.start()
    assert spun.wait(timeout=60)
    other.join()
    budget.check()  # within budget: the waiting thread spent next to nothing
    start = time.thread_time()
    while time.thread_time() - start < 0.25:
        pass
    with pytest.raises(QueryError, match=r"more than 0.2 s to match"):
        budget.check()


def test_a_spent_time_budget_refuses_the_query_and_says_what_to_simplify():
    budget = QueryBudget(seconds=0.0)
    with pytest.raises(QueryError, match=r"more than 0 s to match: simplify it \(fewer words with \* or \?"):
        budget.check()
    words = QueryBudget(max_words=10)
    words.spend_words(10, "'a*'")
    with pytest.raises(QueryError, match=r"more than 10 words together \(the last: 'b\*'\)"):
        words.spend_words(1, "'b*'")


@pytest.mark.parametrize("query, message", [
    ("NOT NOT oil", "cannot read the query: check its operators (AND, OR, NOT each between two words)"),
    ("[a TO z]", "the range [a TO z] in title matches more than 5 words: narrow the range"),
    ("*a* OR *e*", "'*a*' matches more than 5 words: make it longer"),
])
def test_costly_or_unreadable_queries_are_refused_in_plain_words(data_search, query, message, monkeypatch):
    import searchapp.query as qp

    monkeypatch.setattr(qp, "MAX_EXPANSIONS", 5)  # the test corpus is small
    with pytest.raises(QueryError) as e:
        data_search.search(query)
    assert message in str(e.value)


def test_too_many_clauses_are_refused(data_search):
    with pytest.raises(QueryError, match=r"too many parts: 1100 words and phrases, the limit is 1024"):
        data_search.search(" OR ".join(f"w{n}" for n in range(1100)), mode="all")


def test_a_date_range_matches_on_the_day_array(data_search):
    ranged = data_search.search("date:[2024-01 TO 2024-12]")
    filtered = data_search.search("", date_from="2024-01", date_to="2024-12")
    assert ranged.total == filtered.total > 0
    assert {h.id for h in ranged.hits} == {h.id for h in filtered.hits}


def test_the_whoosh_writer_adds_replaces_deletes_and_commits_once(tmp_path):
    from searchapp import IndexLockedError
    from searchapp.engine import EngineWriter
    from searchapp.engine.whoosh_writer import WhooshWriter

    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir, procs=1)
    with SearchIndex.open(index_dir) as index:
        before = index.search("").total
        writer = WhooshWriter(index_dir)
        assert isinstance(writer, EngineWriter)
        with pytest.raises(IndexLockedError):
            WhooshWriter(index_dir)
        writer.add({"id": "new-1", "title": "Zanzibar cloves", "body": "Cloves from Zanzibar.", "source": "Wire"})
        gone = index.search("pipeline ransomware").hits[0].id
        assert writer.delete([gone]) == 1
        writer.commit()
    with SearchIndex.open(index_dir) as index:
        assert index.search("").total == before
        assert [h.id for h in index.search("zanzibar cloves").hits] == ["new-1"]
        assert index.search("pipeline ransomware").total == 0
    cancelled = WhooshWriter(index_dir)  # the lock was freed
    cancelled.add({"id": "new-2", "title": "Never", "body": "never seen"})
    cancelled.cancel()
    with SearchIndex.open(index_dir) as index:
        assert index.search("never seen").total == 0
