"""Each thread's view of the index (engine/views.py): whole once open, so that a
full reindex deletes every older generation at once, and never writing into
the index (the indexer keeps each commit's reader state)."""

from __future__ import annotations

import importlib
import queue
import threading
from pathlib import Path

from searchapp import SearchIndex, reindex, store
from searchapp.engine import views
from searchapp.engine.state import SAVED_PREFIX, ReaderState
from tests.conftest import SEED_CORPUS
from tests.test_neardup import ADDED, OTHER

search_module = importlib.import_module("searchapp.search")


def _corpus(folder: Path, version: str) -> None:
    """Three near copies (one group), a report of another desk, and one that says which version."""
    folder.mkdir(parents=True, exist_ok=True)
    seed = next(SEED_CORPUS.glob("*.txt")).read_text(encoding="utf-8")
    (folder / "a-original.txt").write_text(seed, encoding="utf-8")
    (folder / "b-one-word.txt").write_text(seed.replace("embezzlement", "fraud", 1), encoding="utf-8")
    (folder / "c-paragraph.txt").write_text(seed + ADDED, encoding="utf-8")
    (folder / "d-grain.txt").write_text("Source: Grain Desk\n\n" + OTHER, encoding="utf-8")
    (folder / "v-version.txt").write_text(f"Source: Version Desk\n\nThe {version} version of the corpus.\n",
                                          encoding="utf-8")
    if version == "new":
        (folder / "w-added.txt").write_text("Source: Added Desk\n\nA report only the new version has.\n",
                                            encoding="utf-8")


def _answer(index: SearchIndex, query: str = "") -> tuple:
    """What a search shows: total, hits with their groups, the source facet, the collapsed count."""
    res = index.search(query)
    return (res.total, res.collapsed, tuple((h.id, h.group, h.similar) for h in res.hits),
            tuple((v.value, v.count) for v in res.facets["source"]))


class ServerThread:
    """One long-lived thread searching ``index`` as a server's thread does: ``ask(f)`` runs ``f(index)`` in it."""

    def __init__(self, index: SearchIndex) -> None:
        self.index, self._asked, self._answered = index, queue.Queue(), queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._asked.put(None)
        self._thread.join(timeout=60)

    def ask(self, f):
        self._asked.put(f)
        ok, value = self._answered.get(timeout=120)
        if not ok:
            raise value
        return value

    def _serve(self) -> None:
        while (f := self._asked.get()) is not None:
            try:
                self._answered.put((True, f(self.index)))
            except Exception as e:  # noqa: BLE001 - handed to the asking thread
                self._answered.put((False, e))


def _files(index_dir: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(index_dir)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in index_dir.rglob("*") if p.is_file() and p.name != store.LOCK}


def test_a_full_reindex_leaves_one_generation_and_an_old_reader_still_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(search_module, "REFRESH_EVERY_S", 3600)  # the thread stays on the reader it opened
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    _corpus(corpus, "old")
    reindex(corpus, index_dir, procs=1)
    old_gen = store.current_generation(index_dir)

    def everything(index: SearchIndex) -> tuple:
        return (_answer(index), _answer(index, "version"), index.search("corruptoin").suggestion,
                [r.id for r in index.get("a-original").near_duplicates])

    with SearchIndex.open(index_dir) as index, ServerThread(index) as server:
        before = server.ask(everything)
        _corpus(corpus, "new")
        reindex(corpus, index_dir, full=True, procs=1)
        gens = sorted(p.name for p in index_dir.glob(store.GEN_PREFIX + "*"))
        after = server.ask(everything)  # still the old reader: its folder is gone
        fresh = _answer(index)  # this thread opens its first view now: the new generation

    assert gens == [store.current_generation(index_dir).name] and not old_gen.exists()
    total, collapsed, hits, sources = before[0]
    assert (total, collapsed) == (5, 2) and ("Version Desk", 1) in sources
    assert ("a-original", "a-original", 2) in hits
    assert before[1][2][0][0] == "v-version"
    assert before[2:] == ("corruption", ["b-one-word", "c-paragraph"])
    assert after == before  # the old reader: same hits, groups, facets, suggestion and details
    assert fresh[0] == 6 and ("Added Desk", 1) in fresh[3]


def test_a_reader_after_an_incremental_commit_writes_nothing_into_the_index(tmp_path, monkeypatch):
    """Searches between the indexer's commit and its keeping of the new state
    stay on the last commit and write nothing; after it they read the kept state."""
    monkeypatch.setattr(search_module, "REFRESH_EVERY_S", 0)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    _corpus(corpus, "old")
    reindex(corpus, index_dir, procs=1)
    during: list[tuple] = []
    keep_state = ReaderState.open.__func__

    def open_after_a_search(cls, reader, folder):  # the indexer's call, just after its commit
        before = _files(index_dir)
        during.append((server.ask(_answer)[0], before == _files(index_dir)))
        return keep_state(cls, reader, folder)

    with SearchIndex.open(index_dir) as index, ServerThread(index) as server:
        assert server.ask(_answer)[0] == 5
        (corpus / "w-added.txt").write_text("Source: Added Desk\n\nOne more report.\n", encoding="utf-8")
        monkeypatch.setattr(ReaderState, "open", classmethod(open_after_a_search))
        summary = reindex(corpus, index_dir, procs=1)
        monkeypatch.undo()
        monkeypatch.setattr(search_module, "REFRESH_EVERY_S", 0)
        assert summary.added == 1 and during == [(5, True)]
        kept = _files(index_dir)
        total, collapsed, _, sources = server.ask(_answer)
        assert (total, collapsed, ("Added Desk", 1) in sources) == (6, 2, True)
        assert server.ask(lambda index: index.search("", source="Added Desk").total) == 1
        assert _files(index_dir) == kept  # the server read the indexer's state, wrote nothing


def test_a_commit_whose_state_was_never_kept_is_read_into_memory_after_a_wait(tmp_path, monkeypatch):
    """As after a reindex killed between its commit and keeping the state: the
    threads stay on the last commit for STATE_WAIT_S, then read it themselves
    (into memory: nothing written)."""
    monkeypatch.setattr(search_module, "REFRESH_EVERY_S", 0)
    monkeypatch.setattr(views, "STATE_WAIT_S", 3600)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    _corpus(corpus, "old")
    reindex(corpus, index_dir, procs=1)
    with SearchIndex.open(index_dir) as index:
        assert _answer(index)[0] == 5
        (corpus / "w-added.txt").write_text("Source: Added Desk\n\nOne more report.\n", encoding="utf-8")
        reindex(corpus, index_dir, procs=1)
        gen = store.current_generation(index_dir)
        (saved,) = gen.glob(SAVED_PREFIX + "*.npz")
        saved.unlink()
        kept = _files(index_dir)
        assert _answer(index)[0] == 5  # still the commit whose state is kept
        monkeypatch.setattr(views, "STATE_WAIT_S", 0)
        total, _, _, sources = _answer(index)
        assert (total, ("Added Desk", 1) in sources) == (6, True)
        assert _files(index_dir) == kept


def test_publish_deletes_every_older_generation(tmp_path):
    index_dir = tmp_path / "index"
    for _ in range(3):
        building = store.new_generation(index_dir)
        (building / "marker").write_text(building.name)
        final = store.publish(index_dir, building)
        assert sorted(p.name for p in index_dir.glob(store.GEN_PREFIX + "*")) == [final.name]
    assert store.current_generation(index_dir) == final
