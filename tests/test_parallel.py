"""A full rebuild in parts (searchapp.parallel): the same index as one writer's."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from searchapp import SearchIndex, documents, extraction, indexer, parallel, reindex
from searchapp.errors import IndexWriteError
from searchapp.corpus import discover

from ._procs import still_running_after

DATA = Path(__file__).parent / "data" / "corpus"


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The test corpus, more JSON Lines files, a bad line and an id held by two files."""
    root = tmp_path / "corpus"
    shutil.copytree(DATA, root)
    for n in range(6):
        lines = [json.dumps({"id": i, "date": f"2021-0{n + 1}-1{i % 9}", "source": f"Wire {n % 3}",
                             "topics": [f"topic {i % 4}"], "title": f"Report {n}-{i} on grain",
                             "body": f"Wheat and grain prices, report {i} of batch {n}. " * (i % 5 + 1)})
                 for i in range(40)]
        if n == 2:
            lines.insert(5, "{not json")
        (root / f"batch-{n}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Twins each longer than all the rest: with two parts, one ends the first and the other is the second.
    (root / "zz-dup.md").write_text("# Same id\n\nA Markdown report about wheat.\n" + "Filler text. " * 20000,
                                    encoding="utf-8")
    (root / "zz-dup.txt").write_text("Same id again\n\nA native report about wheat.\n" + "Filler text. " * 20000,
                                     encoding="utf-8")
    return root


@pytest.fixture
def parallel_always(monkeypatch):
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)


def _ranked(index_dir: Path) -> dict:
    with SearchIndex.open(index_dir) as idx:
        out = {}
        for sort in ("relevance", "newest", "oldest"):
            res = idx.search("wheat grain", sort=sort, per_page=100)
            out[sort] = [h.id for h in res.hits]
        res = idx.search("", per_page=100)
        out["facets"] = {k: [(v.value, v.count) for v in vs] for k, vs in res.facets.items()}
        out["count"] = idx.doc_count()
        return out


def test_parts_are_contiguous_and_balanced_by_size():
    from searchapp.corpus import CorpusFile

    sizes = [5, 1, 1, 1, 4, 2, 2, 1, 3, 4]
    files = [CorpusFile(Path(f"/c/f{n}"), f"f{n}", size, 0) for n, size in enumerate(sizes)]
    parts = parallel.split(files, 3)
    assert [piece for part in parts for piece in part] == [parallel.FileSlice(cf) for cf in files]
    assert [sum(piece.file.size for piece in part) for part in parts] == [8, 8, 8]
    assert parallel.split(files[:2], 3) == [[parallel.FileSlice(files[0])], [parallel.FileSlice(files[1])]]


def test_a_file_larger_than_a_part_is_cut_into_runs_of_its_items():
    from searchapp.corpus import CorpusFile

    big, small = CorpusFile(Path("/c/big"), "big", 90, 0), CorpusFile(Path("/c/small"), "small", 10, 0)
    assert parallel.split([big, small], 3, {"big": 10, "small": 4}) == [
        [parallel.FileSlice(big, 0, 3)], [parallel.FileSlice(big, 3, 6)],
        [parallel.FileSlice(big, 6, None), parallel.FileSlice(small)]]
    one = CorpusFile(Path("/c/one"), "one", 100, 0)
    assert parallel.split([one], 2, {"one": 1}) == [[parallel.FileSlice(one)]]  # one item: not cut


def test_one_large_jsonl_file_in_parts_equals_one_writer(tmp_path, parallel_always):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [json.dumps({"id": i, "date": f"2021-01-1{i % 9}", "title": f"Grain report {i}",
                         "body": f"Wheat and grain, report {i}. " * (i % 4 + 1)}) for i in range(101)]
    lines.insert(50, "{not json")
    lines.insert(70, json.dumps({"id": 3, "body": "a duplicate of report 3"}))
    (corpus / "all.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = reindex(corpus, tmp_path / "one", full=True, procs=1)
    many = reindex(corpus, tmp_path / "many", full=True, procs=3)
    assert many.added == one.added == 101
    assert [(e.line, e.reason) for e in many.rejected] == [(e.line, e.reason) for e in one.rejected]
    assert [e.line for e in many.rejected] == [51, 71]
    assert _ranked(tmp_path / "many") == _ranked(tmp_path / "one")


@pytest.mark.parametrize("procs", [2, 3])
def test_parallel_rebuild_equals_one_writer(corpus, tmp_path, parallel_always, procs):
    one = reindex(corpus, tmp_path / "one", full=True, procs=1)
    seen = []
    many = reindex(corpus, tmp_path / "many", full=True, procs=procs,
                   progress=seen.append)
    assert (many.added, many.files) == (one.added, one.files) == (13 + 240 + 1, 17)
    assert [(e.path, e.line, e.reason) for e in many.rejected] == [(e.path, e.line, e.reason) for e in one.rejected]
    assert {e.path for e in many.rejected} == {"batch-2.jsonl", "zz-dup.txt"}
    files = discover(corpus)[0]
    reading = [p for p in seen if p.phase == "reading"]
    assert sorted(p.relpath for p in reading) == sorted(cf.relpath for cf in files if cf.suffix in extraction.CACHED_SUFFIXES)
    seen = [p for p in seen if p.phase == "indexing"]
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen) and seen[-1].files_done == 17
    assert {p.files for p in seen} == {17} and {p.bytes_total for p in seen} == {sum(cf.size for cf in files)}
    assert seen[-1].bytes_done == seen[-1].bytes_total and seen[-1].reports == 13 + 240 + 1 + 2
    assert {p.relpath for p in seen} == {cf.relpath for cf in files}
    assert _ranked(tmp_path / "many") == _ranked(tmp_path / "one")
    gen = (tmp_path / "many" / (tmp_path / "many" / "CURRENT").read_text().strip())
    assert not list(gen.glob(".part-*"))


def test_duplicate_id_in_a_later_part_is_rejected(corpus, tmp_path, parallel_always):
    files, _ = discover(corpus)
    parts = parallel.split(files, 2)
    owner = {piece.file.relpath: n for n, part in enumerate(parts) for piece in part}
    assert owner["zz-dup.md"] != owner["zz-dup.txt"], "the two files must fall in different parts"
    summary = reindex(corpus, tmp_path / "index", full=True, procs=2)
    dup = [e for e in summary.rejected if e.path == "zz-dup.txt"]
    assert [e.reason for e in dup] == ["duplicate report id 'zz-dup' (already in zz-dup.md)"]
    with SearchIndex.open(tmp_path / "index") as idx:
        assert idx.get("zz-dup").file == "zz-dup.md"
        assert idx.doc_count() == summary.added == 254


def test_a_failing_worker_fails_the_rebuild_and_keeps_the_old_index(corpus, tmp_path, parallel_always, monkeypatch):
    reindex(corpus, tmp_path / "index", full=True, procs=1)
    before = _ranked(tmp_path / "index")
    real = documents.add_files

    def failing(writer, files, *args, **kwargs):
        if any(piece.file.relpath == "batch-4.jsonl" for piece in files):
            raise OSError(28, "No space left on device")
        return real(writer, files, *args, **kwargs)

    monkeypatch.setattr(documents, "add_files", failing)
    with pytest.raises(IndexWriteError, match="No space left on device"):
        reindex(corpus, tmp_path / "index", full=True, procs=2)
    monkeypatch.setattr(documents, "add_files", real)
    assert _ranked(tmp_path / "index") == before
    assert not list((tmp_path / "index").glob(".building-*"))
    # No worker kept the reindex lock: the next run goes ahead at once.
    assert reindex(corpus, tmp_path / "index", full=True, procs=2).added == 254


def test_workers_do_not_keep_the_parents_files_open(corpus, tmp_path, parallel_always, monkeypatch):
    marker = tmp_path / "marker"
    held = open(marker, "w")  # stands for the reindex lock the parent holds
    real = documents.add_files
    reports = tmp_path / "fds"
    reports.mkdir()

    def recording(writer, files, *args, **kwargs):
        links = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                 if os.path.exists(f"/proc/self/fd/{fd}")}
        (reports / f"{os.getpid()}").write_text("\n".join(sorted(links)))
        return real(writer, files, *args, **kwargs)

    monkeypatch.setattr(documents, "add_files", recording)
    try:
        reindex(corpus, tmp_path / "index", full=True, procs=2)
    finally:
        held.close()
    seen = [p.read_text().splitlines() for p in reports.iterdir() if int(p.name) != os.getpid()]
    assert len(seen) == 2
    assert all(str(marker) not in links for links in seen)


KILLED_RUN = """
import sys, time, os
from pathlib import Path
from searchapp import documents, indexer, reindex
indexer.PARALLEL_MIN_BYTES = 0
real = documents.add_files
def slow(writer, files, *args, **kwargs):
    Path(sys.argv[3], str(os.getpid())).touch()
    time.sleep(0.5)
    return real(writer, files, *args, **kwargs)
documents.add_files = slow
reindex(Path(sys.argv[1]), Path(sys.argv[2]), full=True, procs=2,
        progress=lambda p: print(p.files_done, flush=True))
"""


def test_killing_the_parent_frees_the_lock_and_stops_the_workers(tmp_path):
    import signal
    import subprocess
    import sys

    from searchapp import store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(8):  # 4 files of 0.5 s each per worker
        (corpus / f"f{n}.jsonl").write_text(json.dumps({"id": 1, "body": "grain " * 50}) + "\n")
    pids = tmp_path / "pids"
    pids.mkdir()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(corpus), str(tmp_path / "index"), str(pids)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "1"  # the workers are under way
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with store.reindex_lock(tmp_path / "index"):  # no worker holds the dead parent's lock
        pass
    workers = {int(p.name) for p in pids.iterdir()}
    assert len(workers) == 2
    # Each would run 1.5 s more on its own: they die with their parent.
    assert still_running_after(workers, within=1.0) == set(), "workers outlived their parent"
    assert reindex(corpus, tmp_path / "index", full=True, procs=1).added == 8


def _learned(run) -> tuple:
    auto, sample, items = indexer._learn(run)
    learner = auto.learner
    return (items, sorted(learner._sample), learner.seen, learner.vocabulary.counts, sample._texts)


def test_learning_in_parts_learns_what_one_pass_does(corpus, tmp_path, parallel_always, monkeypatch):
    from searchapp import topics
    from searchapp.topics import learned

    for name in ("zz-dup.md", "zz-dup.txt"):
        (corpus / name).unlink()
    monkeypatch.setattr(learned, "MAX_TRAINING_REPORTS", 7)  # each part sends the texts of its 7 only
    files, _ = discover(corpus)
    with extraction.Extractor(None) as extractor:
        run = indexer._Run(files, 2, None, topics.Taxonomy.load(None), extractor)
        in_parts = _learned(run)
        run.procs = 1
        assert in_parts == _learned(run)
    assert len(in_parts[1]) == 7 and in_parts[2] >= 240  # the sample left most curated reports out


def test_learning_in_parts_gives_up_on_an_id_in_two_parts(corpus):
    from searchapp import topics

    files, _ = discover(corpus)
    calls = []
    with extraction.Extractor(None) as extractor:
        found = documents.learn_files_in_parts(calls.append, files, 2, extractor,
                                               lambda: indexer._LearningTexts(topics.Taxonomy.load(None)))
    assert found is None and calls  # zz-dup.txt holds zz-dup.md's id: learned again by one process
