"""The NER's mentions kept by text: a second extraction of the same texts runs no model."""

from __future__ import annotations

import sqlite3

import pytest

from searchapp import entities, entity_fields
from searchapp.entities import MentionCache, extractor_status
from searchapp.entities import ner

needs_model = pytest.mark.skipif(not extractor_status().available, reason=extractor_status().reason)

TEXTS = [
    ("", "Andrii Belkov, a lawyer, met Serhiy Shoigu in Rostov-on-Don.", {}),
    ("", "Prosecutors said Belkov later left Russia for Ukraine.", {}),
    ("", "Andrii Belkov, a lawyer, met Serhiy Shoigu in Rostov-on-Don.", {}),  # the same text again
]


def _counting(monkeypatch) -> list[int]:
    """How many texts each call of the model read."""
    calls: list[int] = []
    real = entities.find_entities

    def counted(texts, batch_size=32):
        texts = list(texts)
        calls.append(len(texts))
        return real(texts, batch_size=batch_size)

    monkeypatch.setattr(entities, "find_entities", counted)
    return calls


@needs_model
def test_cached_mentions_give_the_same_entities_without_the_model(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    plain = entities.extract_batch(TEXTS)
    first = entities.extract_batch(TEXTS, cache=MentionCache(tmp_path))
    assert calls == [3, 2]  # the repeated text is read once
    again = MentionCache(tmp_path)
    assert entities.extract_batch(TEXTS, cache=again) == first == plain
    assert calls == [3, 2] and (again.hits, again.misses) == (2, 0)
    # One new text: only it goes to the model.
    more = [*TEXTS, ("", "Yevhen Smirnov said nothing.", {})]
    assert entities.extract_batch(more, cache=MentionCache(tmp_path))[:3] == plain
    assert calls == [3, 2, 1]


@needs_model
def test_the_key_holds_the_pipeline_version(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    entities.extract_batch(TEXTS[:1], cache=MentionCache(tmp_path))
    key = MentionCache.key(entities._bounded_text("", TEXTS[0][1], entities.MAX_CHARS))
    monkeypatch.setattr("searchapp.entities.cache._SALT", repr((ner.MODEL, ner.MODEL_VERSION, ner.MENTIONS_VERSION + 1)).encode())
    assert MentionCache.key(entities._bounded_text("", TEXTS[0][1], entities.MAX_CHARS)) != key
    entities.extract_batch(TEXTS[:1], cache=MentionCache(tmp_path))
    assert calls == [1, 1]


@needs_model
def test_a_corrupt_cache_is_left_alone_and_the_model_runs(tmp_path, monkeypatch):
    (tmp_path / "entity-cache.sqlite").write_bytes(b"not a database at all" * 100)
    calls = _counting(monkeypatch)
    cache = MentionCache(tmp_path)
    assert entities.extract_batch(TEXTS, cache=cache) == entities.extract_batch(TEXTS)
    assert "cannot be used" in cache.broken and "entity-cache.sqlite" in cache.broken
    assert calls == [2, 3]


def test_prune_drops_entries_this_run_did_not_use(tmp_path):
    old = MentionCache(tmp_path)
    old.put_many({"a": [ner.RawEntity("person", "Andrii Belkov")], "b": []})
    old.close()
    with sqlite3.connect(tmp_path / "entity-cache.sqlite") as db:
        db.execute("UPDATE mentions SET used = 0")
    run = MentionCache(tmp_path)
    assert run.get_many(["a", "c"]) == {"a": [ner.RawEntity("person", "Andrii Belkov")]}
    assert (run.hits, run.misses) == (1, 1)
    assert run.prune() == 1  # "b": not used by this run
    assert MentionCache(tmp_path).get_many(["a", "b"]).keys() == {"a"}


@needs_model
def test_the_entity_writer_fills_and_reads_the_cache(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)

    class Sink:
        def __init__(self):
            self.docs = []

        def add_document(self, **fields):
            self.docs.append(fields)

    def write() -> list[dict]:
        sink = Sink()
        writer = entity_fields.EntityWriter(sink, batch=2, extract=True, cache=MentionCache(tmp_path))
        for n, (title, body, _) in enumerate(TEXTS):
            writer.add_document(id=str(n), title=title, body=body)
        writer.flush()
        return sink.docs

    first = write()
    assert write() == first and first[0]["person_auto"] == "Andrii Belkov,Serhiy Shoigu"
    assert calls == [2]  # batches of 2: the second batch's one text was the first's, and the second run reads them all


@needs_model
def test_another_bound_reads_a_long_text_again(tmp_path, monkeypatch):
    """The key is the text the model reads, so a changed bound misses the cache."""
    calls = _counting(monkeypatch)
    long = [("", "Talks went on. " * 250 + "Andrii Belkov met Serhiy Shoigu in Rostov-on-Don.", {})]
    first = entities.extract_batch(long, cache=MentionCache(tmp_path))
    assert entities.extract_batch(long, cache=MentionCache(tmp_path)) == first and calls == [1]
    entities.extract_batch(long, cache=MentionCache(tmp_path), max_chars=600)
    assert calls == [1, 1]
