"""Writing a Whoosh index: the engine's ``protocol.EngineWriter``, and every use of
Whoosh's private writing API (segment writers of the parallel full reindex,
their commit as one, the fsync before the TOC, the merge policy's segment
copies, the live-term test of an incremental reindex), as Whoosh's own
``multiproc.py`` uses them. The reading side's internals are in
:mod:`.whoosh_internals` and :mod:`.whoosh_postings`; an upgrade of Whoosh
changes these three modules (``whoosh_internals``, ``whoosh_postings``,
``whoosh_writer``) only.

The ``EngineWriter``: changes to the live generation, one commit.

Holds the index's reindex lock from opening to ``commit`` or ``cancel``; the
commit is Whoosh's (readers see all of it or none), and the new reader's
state is kept beside the index so that the first search after it does not
build it (``state.ReaderState.open``).
"""

from __future__ import annotations

import contextlib
import itertools
import marshal
import os
from pathlib import Path
from typing import Iterable

from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL, PostingPool, SegmentWriter

from .. import store
from ..schema import SCHEMA_VERSION, IndexCodec
from .protocol import Stored
from .state import ReaderState
from .whoosh_internals import open_index

# What one writer holds in memory before it spills a sorted run of postings
# (each parallel writer of a full reindex has its own).
POOL_MB = 128
# Blocks written uncompressed: about 12% faster to write and faster to read
# back, for an index about 30% larger.
WRITER_ARGS = {"limitmb": POOL_MB, "codec": IndexCodec(compression=0)}


class WhooshWriter:
    """Add, replace and delete reports of the index in ``index_dir``, then commit once.

    :raises IndexLockedError: another reindex or writer holds the index.
    :raises IndexNotFoundError: no index built yet.
    """

    def __init__(self, index_dir: str | os.PathLike, wait: bool = False) -> None:
        self._locked = contextlib.ExitStack()
        index_dir = Path(index_dir)
        self._locked.enter_context(store.reindex_lock(index_dir, wait=wait))
        try:
            def checked() -> Path:
                ix, path = store.open_generation(index_dir)
                ix.close()
                return path

            self._ix, self.path = open_index(None, str(index_dir), SCHEMA_VERSION, open_first=checked)
            self._writer = new_writer(self._ix)
        except BaseException:
            self._locked.close()
            raise

    def add(self, fields: Stored) -> None:
        self._writer.update_document(**fields)

    def delete(self, report_ids: Iterable[str]) -> int:
        return sum(self._writer.delete_by_term("id", report_id) for report_id in report_ids)

    def commit(self) -> None:
        try:
            self._writer.commit(merge=True)
            with self._ix.reader() as reader:
                ReaderState.open(reader, self.path)
        finally:
            self._locked.close()

    def cancel(self) -> None:
        try:
            self._writer.cancel()
        finally:
            self._locked.close()


# -- Whoosh's private writing API ---------------------------------------------------

class RunPool(PostingPool):
    """Whoosh's pool of postings, its sorted runs written and read back as
    marshalled lists of :data:`RUN_CHUNK` postings. Whoosh pickles each posting
    on its own, and spilling and reading back those runs was about a fifth of a
    full reindex's CPU at 100,000 reports."""

    RUN_CHUNK = 4096

    def _write_run(self, f, items):
        try:
            items = iter(items)
            while chunk := list(itertools.islice(items, self.RUN_CHUNK)):
                marshal.dump(chunk, f)
        finally:
            f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


def new_writer(ix, lock: bool = True) -> SegmentWriter:
    """A writer of one new segment of ``ix`` with :data:`WRITER_ARGS` and a :class:`RunPool`."""
    writer = SegmentWriter(ix, _lk=lock, **WRITER_ARGS)
    writer.pool = RunPool(writer._tempstorage, writer.newsegment, limitmb=WRITER_ARGS["limitmb"])
    return writer


def part_writer(ix) -> SegmentWriter:
    """A writer of one segment of a parallel full reindex: no lock (the
    reindex holds its own), its segment committed by :func:`commit_segments`."""
    return new_writer(ix, lock=False)


def finish_part(writer: SegmentWriter, empty: bool):
    """The segment a :func:`part_writer` wrote (None when ``empty``). Not
    ``writer._finish()``: it would remove the temporary folder the other
    workers share; the parent's commit does."""
    if empty:
        writer._close_segment()
        return None
    return writer._finalize_segment()


def commit_segments(ix, segments: list) -> None:
    """Publish segments written by separate writers as one commit of ``ix``
    (as Whoosh's ``MpWriter`` does with its sub-writers' segments)."""
    writer = ix.writer()
    try:
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        writer.cancel()
        raise


def sync_before_toc(writer, folder: Path, before: set[str]) -> None:
    """The writer's new segment files reach the disk before the TOC that names
    them (a power cut must not leave a TOC naming half-written segments)."""
    commit_toc = writer._commit_toc

    def synced(segments):
        store.fsync_tree(folder, only=lambda name: name not in before)
        return commit_toc(segments)

    writer._commit_toc = synced


def segment_counts(segment) -> tuple[int, int]:
    """(documents, deleted documents) of a segment a merge policy is given."""
    return segment.doc_count_all(), segment.deleted_count()


def copy_live(writer, segment) -> None:
    """Copy the live documents of ``segment`` into ``writer`` (a merge policy's rewrite)."""
    reader = SegmentReader(writer.storage, writer.schema, segment)
    try:
        writer.add_reader(reader)
    finally:
        reader.close()


def merge_small(writer, segments: list) -> list:
    """Whoosh's default merge policy over ``segments``."""
    return MERGE_SMALL(writer, segments)


def is_live(reader, field: str, text: str) -> bool:
    """Whether a live (not deleted) document holds ``text`` in ``field``."""
    return reader.postings(field, text).is_active()
