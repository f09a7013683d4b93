"""changes: what an incremental reindex compares (here: files only touched, by content hash)."""

import os
import time

from searchapp import changes, reindex, search, store

from .test_indexer import _write


def _touch(path, ahead_s: int = 1):
    later = time.time_ns() + ahead_s * 1_000_000_000
    os.utime(path, ns=(later, later))


def _corpus(tmp_path):
    folder = tmp_path / "corpus"
    _write(folder, "a.txt", "Alpha report", "apples and oranges")
    _write(folder, "b.txt", "Beta report", "bananas")
    return folder


def test_a_file_only_touched_is_not_indexed_again(tmp_path, monkeypatch):
    corpus, index_dir = _corpus(tmp_path), tmp_path / "index"
    reindex(corpus, index_dir, procs=1)
    gen = store.current_generation(index_dir)
    listing = sorted(os.listdir(gen))
    _touch(corpus / "a.txt")
    s = reindex(corpus, index_dir, procs=1)
    assert (s.added, s.updated, s.removed, s.unchanged) == (0, 0, 0, 2)
    assert sorted(os.listdir(gen)) == listing  # no commit: only the file table rewritten
    hashed = []
    digest = changes.content_digest
    monkeypatch.setattr(changes, "content_digest", lambda cf: hashed.append(cf.relpath) or digest(cf))
    assert reindex(corpus, index_dir, procs=1).unchanged == 2
    assert hashed == []  # the touched file's new signature is remembered: not even hashed again
    # The same size, other bytes: indexed again, and then a touch is nothing again.
    _write(corpus, "a.txt", "Alpha report", "apples and ORANGES")
    _touch(corpus / "a.txt", 2)
    s = reindex(corpus, index_dir, procs=1)
    assert (s.updated, s.unchanged) == (1, 1) and hashed == ["a.txt", "a.txt"]  # compared, then kept
    assert search("ORANGES", index_dir=index_dir).total == 1
    _touch(corpus / "a.txt", 3)
    assert reindex(corpus, index_dir, procs=1).updated == 0


def test_without_the_file_table_a_touched_file_is_indexed_again(tmp_path):
    corpus, index_dir = _corpus(tmp_path), tmp_path / "index"
    reindex(corpus, index_dir, procs=1)
    (store.current_generation(index_dir) / changes.FILES_TABLE).unlink()  # e.g. an index of an older searchapp
    _touch(corpus / "b.txt")
    assert reindex(corpus, index_dir, procs=1).updated == 1
    _touch(corpus / "b.txt", 2)  # the table is written again by that run
    assert reindex(corpus, index_dir, procs=1).updated == 0


def test_an_entry_the_index_has_moved_past_is_not_used(tmp_path):
    corpus, index_dir = _corpus(tmp_path), tmp_path / "index"
    reindex(corpus, index_dir, procs=1)
    gen = store.current_generation(index_dir)
    kept = (gen / changes.FILES_TABLE).read_text()  # as a crash after the next commit would leave it
    _write(corpus, "a.txt", "Alpha report", "apples and pears!")
    _touch(corpus / "a.txt")
    assert reindex(corpus, index_dir, procs=1).updated == 1
    (gen / changes.FILES_TABLE).write_text(kept)
    _write(corpus, "a.txt", "Alpha report", "apples and oranges")  # the old bytes, hashed in the old entry
    _touch(corpus / "a.txt", 2)
    assert reindex(corpus, index_dir, procs=1).updated == 1  # the index holds "pears": read again
    assert search("oranges", index_dir=index_dir).total == 1
