import importlib
import json
import os
import shutil
import time

import pytest

from searchapp import IndexLockedError, SchemaVersionError, SearchIndex, reindex, search
from searchapp import documents, indexer, store
from searchapp.engine import whoosh_writer

from .conftest import DATA_CORPUS

REPORT = "date {date} {title}\nSource: {source}\n\n{body}\n"


def _write(folder, name, title, body="Body text.", date="2024-01-02", source="Desk"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REPORT.format(date=date, title=title, source=source, body=body))
    return path


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    _write(folder, "a.txt", "Alpha report", "apples and oranges")
    _write(folder, "b.txt", "Beta report", "bananas")
    _write(folder, "c.txt", "Gamma report", "cherries")
    return folder


def test_incremental_adds_updates_removes_and_skips(corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = reindex(corpus, index_dir)
    assert (first.full, first.added, first.total) == (True, 3, 3)
    again = reindex(corpus, index_dir)
    assert (again.full, again.added, again.updated, again.removed, again.unchanged) == (False, 0, 0, 0, 3)

    _write(corpus, "a.txt", "Alpha report revised", "apples and pears")
    os.utime(corpus / "a.txt", ns=(time.time_ns(), time.time_ns() + 10_000_000))
    (corpus / "b.txt").unlink()
    _write(corpus, "d.txt", "Delta report", "dates")
    s = reindex(corpus, index_dir)
    assert (s.full, s.added, s.updated, s.removed, s.unchanged, s.total) == (False, 1, 1, 1, 1, 3)
    assert search("pears", index_dir=index_dir).total == 1
    assert search("bananas", index_dir=index_dir).total == 0
    assert search("", index_dir=index_dir).total == 3


def test_full_rebuild_swaps_generations_and_prunes(corpus, tmp_path):
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    gen1 = store.current_generation(index_dir)
    reindex(corpus, index_dir, full=True)
    gen2 = store.current_generation(index_dir)
    reindex(corpus, index_dir, full=True)
    gen3 = store.current_generation(index_dir)
    assert len({gen1, gen2, gen3}) == 3
    assert not gen1.exists() and not gen2.exists()  # open readers hold what they need (engine.views)
    assert sorted(p.name for p in index_dir.glob(store.GEN_PREFIX + "*")) == [gen3.name]
    assert search("", index_dir=index_dir).total == 3


def test_interrupted_rebuild_leaves_previous_index(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    before = store.current_generation(index_dir)
    _write(corpus, "e.txt", "Epsilon", "elderberries")
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = documents.document_fields
    monkeypatch.setattr(documents, "document_fields", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reindex(corpus, index_dir, full=True)
    monkeypatch.undo()
    assert store.current_generation(index_dir) == before
    assert not list(index_dir.glob(".building-*"))
    assert search("", index_dir=index_dir).total == 3
    assert reindex(corpus, index_dir).added == 1


def test_second_reindex_at_once_stops_with_a_clear_message(corpus, tmp_path):
    index_dir = tmp_path / "index"
    with store.reindex_lock(index_dir):
        with pytest.raises(IndexLockedError) as e:
            reindex(corpus, index_dir)
    assert "another reindex is already running" in str(e.value)
    assert reindex(corpus, index_dir).added == 3  # the lock was released


def test_incompatible_index_is_rebuilt_by_reindex_and_refused_by_search(corpus, tmp_path):
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    gen = store.current_generation(index_dir)
    meta = json.loads((gen / store.META).read_text())
    (gen / store.META).write_text(json.dumps({**meta, "schema_version": -1}))
    with pytest.raises(SchemaVersionError, match="rebuild it with a full reindex"):
        SearchIndex.open(index_dir)
    s = reindex(corpus, index_dir)
    assert s.full and s.added == 3 and "schema version" in s.reason


def test_searcher_sees_reindexes_without_reopening(corpus, tmp_path, monkeypatch):
    search_module = importlib.import_module("searchapp.search")  # the package's `search` is the function
    monkeypatch.setattr(search_module, "REFRESH_EVERY_S", 0)
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    with SearchIndex.open(index_dir) as idx:
        assert idx.search("").total == 3
        _write(corpus, "f.txt", "Zeta", "figs")
        reindex(corpus, index_dir)  # incremental commit
        assert idx.search("figs").total == 1
        (corpus / "f.txt").unlink()
        reindex(corpus, index_dir, full=True)  # generation swap
        assert idx.search("figs").total == 0 and idx.search("").total == 3


def test_bad_files_are_reported_and_the_rest_indexed(corpus, tmp_path):
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02" * 10)
    (corpus / "latin1.txt").write_bytes("date 2024-01-01 Caf\xe9\n\nbody".encode("latin-1"))
    (corpus / "broken.jsonl").write_text('{"id": "1", "title": "ok", "body": "fine"}\n{broken\n')
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    s = reindex(corpus, tmp_path / "index")
    assert s.total == 4
    reasons = sorted(str(e) for e in s.rejected)
    assert reasons == sorted([
        "binary.txt: binary file, not text",
        "latin1.txt: not UTF-8 text: invalid byte 0xe9 at offset 19",
        "broken.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "notes.pdf: not a readable PDF (corrupt or truncated): Failed to load document (PDFium: Data format error).",
    ])


def test_duplicate_ids_across_files_are_rejected_not_overwritten(tmp_path):
    corpus = tmp_path / "corpus"
    _write(corpus, "same.txt", "From text", "one")
    (corpus / "same.md").write_text("---\ntitle: From markdown\n---\ntwo\n")
    s = reindex(corpus, tmp_path / "index")
    assert s.total == 1
    assert [str(e) for e in s.rejected] == ["same.txt: duplicate report id 'same' (already in same.md)"]


def test_data_corpus_indexes_every_report(tmp_path):
    s = reindex(DATA_CORPUS, tmp_path / "index")
    assert (s.total, s.rejected, s.files) == (13, [], 9)


def test_missing_corpus_folder_is_an_error(tmp_path):
    from searchapp import CorpusError

    with pytest.raises(CorpusError, match="corpus folder does not exist"):
        reindex(tmp_path / "nope", tmp_path / "index")


KILLED_MID_WRITE = """
import sys
from whoosh.writing import SegmentWriter
from searchapp import reindex
real, count = SegmentWriter.add_document, [0]
def add_document(self, **fields):
    real(self, **fields)
    count[0] += 1
    if count[0] == 1000:
        print("writing", flush=True)
        sys.stdin.readline()
SegmentWriter.add_document = add_document
reindex({corpus!r}, {index!r}, full=True, procs=1)
"""


def test_kill_9_during_a_full_rebuild_leaves_the_previous_index(tmp_path):
    import signal
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    _write(corpus, "seed.txt", "Seed report", "the first one")
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    body = " ".join(f"word{i}" for i in range(400))
    lines = "\n".join(json.dumps({"id": str(i), "title": f"t{i}", "body": body}) for i in range(1500))
    (corpus / "big.jsonl").write_text(lines)
    # The child says when it has written 1,000 documents and waits there: the
    # kill lands mid-write whatever the machine's speed (no race with a file).
    code = KILLED_MID_WRITE.format(corpus=str(corpus), index=str(index_dir))
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": ":".join(sys.path)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert search("", index_dir=index_dir).total == 1  # the old generation still answers
    s = reindex(corpus, index_dir)  # recovers: lock free, abandoned build cleaned up
    assert s.total == 1501
    assert not list(index_dir.glob(".building-*"))


def _postings(index_dir):
    """Every posting with its block's length bounds, and every stored document."""
    ix, _ = store.open_generation(index_dir)
    out = {}
    with ix.reader() as reader:
        for field, term in reader.all_terms():
            m = reader.postings(field, term)
            rows = []
            while m.is_active():
                rows.append((m.id(), m.weight(), m.value(), m.block_min_length(), m.block_max_length()))
                m.next()
            out[(field, term)] = rows
        out["stored"] = [reader.stored_fields(n) for n in range(reader.doc_count_all())]
        out["lengths"] = {f: [reader.doc_field_length(n, f) for n in range(reader.doc_count_all())]
                          for f in ("title", "body")}
    ix.close()
    return out


def test_the_index_codec_writes_what_whooshs_own_writes(tmp_path, monkeypatch):
    # issue 5: IndexCodec reads field lengths once instead of per posting; the
    # postings, their block length bounds and the lengths must not change.
    from whoosh.codec.whoosh3 import W3Codec

    reindex(DATA_CORPUS, tmp_path / "ours", procs=1)
    monkeypatch.setitem(whoosh_writer.WRITER_ARGS, "codec", W3Codec(compression=0))
    reindex(DATA_CORPUS, tmp_path / "whoosh", procs=1)
    ours, theirs = _postings(tmp_path / "ours"), _postings(tmp_path / "whoosh")
    assert len(ours) > 500 and ours == theirs


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    later = time.time_ns() + 10_000_000 * (1 + len(records))
    os.utime(path, ns=(later, later))  # a new signature even within one clock tick


def test_a_changed_jsonl_file_is_unchanged_on_the_next_run(tmp_path):
    """The lexicon keeps the deleted reports' signature beside the live one:
    the live one must win, or the file is re-indexed on every later run."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    records = [{"id": f"r{i}", "title": f"Report {i}", "body": f"grain wheat {i}"} for i in range(30)]
    for name in ("a.jsonl", "z.jsonl"):  # either side of the signature's sort order
        _jsonl(corpus / name, records)
        reindex(corpus, index_dir, full=True)
        edited = [r for r in records if r["id"] != "r5"]
        edited[9] = dict(edited[9], body="barley")
        _jsonl(corpus / name, edited)
        changed = reindex(corpus, index_dir)
        assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (0, 29, 1, 0)
        gen = store.current_generation(index_dir)
        listing = sorted(os.listdir(gen))
        again = reindex(corpus, index_dir)
        assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 29)
        assert sorted(os.listdir(gen)) == listing  # nothing written
        assert search("barley", index_dir=index_dir).total == 1
        (corpus / name).unlink()


def test_a_removed_file_is_not_removed_again_on_every_run(corpus, tmp_path):
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir)
    (corpus / "b.txt").unlink()
    assert reindex(corpus, index_dir).removed == 1
    gen = store.current_generation(index_dir)
    listing = sorted(os.listdir(gen))
    again = reindex(corpus, index_dir)
    assert (again.removed, again.unchanged) == (0, 2)
    assert sorted(os.listdir(gen)) == listing


def _segments(index_dir):
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(store.current_generation(index_dir)))
    try:
        return [(s.doc_count_all(), s.deleted_count()) for s in ix._segments()]
    finally:
        ix.close()


def test_rewrites_of_a_file_do_not_pile_up_deleted_reports(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    records = [{"id": f"r{i}", "title": f"Report {i}", "body": f"grain wheat {i}"} for i in range(40)]
    _jsonl(corpus / "feed.jsonl", records)
    reindex(corpus, index_dir, full=True)
    for run in range(6):
        records[run] = dict(records[run], body=f"barley {run}")
        _jsonl(corpus / "feed.jsonl", records)
        assert reindex(corpus, index_dir).updated == 40
        assert sum(total for total, _ in _segments(index_dir)) == 40  # the old copies dropped
    assert search("barley", index_dir=index_dir).total == 6


def test_a_segment_mostly_deleted_is_rewritten_and_a_small_change_copies_nothing(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    for i in range(20):
        _write(corpus, f"r{i:02d}.txt", f"Report {i}", f"grain {i}")
    reindex(corpus, index_dir, full=True)
    _write(corpus, "r00.txt", "Report 0", "barley")
    os.utime(corpus / "r00.txt", ns=(time.time_ns(), time.time_ns() + 10_000_000))
    reindex(corpus, index_dir)
    assert sorted(_segments(index_dir)) == [(1, 0), (20, 1)]  # 1 of 20 deleted: kept
    for i in range(1, 7):
        (corpus / f"r{i:02d}.txt").unlink()
    assert reindex(corpus, index_dir).removed == 6
    assert sorted(_segments(index_dir)) == [(1, 0), (13, 0)]  # 7 of 20 deleted: rewritten
    assert search("", index_dir=index_dir).total == 14


def test_a_run_with_rejected_files_gives_plain_json(corpus, tmp_path):
    from click.testing import CliRunner

    from searchapp.cli import main as cli_main

    (corpus / "feed.jsonl").write_text('{"id": "ok", "body": "fine"}\n{not json\n', encoding="utf-8")
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    summary = reindex(corpus, tmp_path / "index")
    data = json.loads(json.dumps(summary.to_dict()))
    rejected = [(r["path"], r["line"]) for r in data["rejected"]]
    assert rejected == [("empty.txt", None), ("feed.jsonl", 2)]
    assert (data["added"], data["total"], data["full"]) == (4, 4, True)
    result = CliRunner().invoke(cli_main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "cli"),
                                           "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [(r["path"], r["line"]) for r in printed["rejected"]] == rejected
