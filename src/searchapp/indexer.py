"""Build and update the index: full rebuilds beside the old index, incremental
updates in one commit.

The choreography only: what a document holds and how reports are added is in
``documents``, the work on every core in ``parallel``, what a run did in
``reindex_summary``, near-duplicate groups in ``grouping``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from . import changes, collector, documents, entity_fields, extraction, grouping, markers, parallel, processes, segments, store, topics
from .corpus import CorpusFile, discover
from .documents import document_fields  # noqa: F401  (the indexer's, as before)
from .meter import Meter, Progress, ReindexProgress  # noqa: F401  (ReindexProgress: for the CLI)
from .engine.state import ReaderState
from .engine.whoosh_writer import new_writer, sync_before_toc
from .entities.cache import MentionCache
from .errors import CommittedWriteError, IndexNotFoundError, IndexWriteError, SchemaVersionError
from .reindex_summary import ReindexSummary, note_of
from .schema import build_schema

# Below this many bytes of files, one writer beats the cost of starting processes.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024


def reindex(
    corpus_dir: Path,
    index_dir: Path,
    *,
    full: bool = False,
    procs: int = 0,
    wait: bool = False,
    progress: Progress | None = None,
    topics_file: Path | None = None,
    parse_timeout_s: float = extraction.TIMEOUT_S,
    parse_memory_mb: int = extraction.MEMORY_MB,
    entities: bool = False,
    places: bool = False,
) -> ReindexSummary:
    """Bring the index in ``index_dir`` up to date with the reports in ``corpus_dir``.

    Incremental by default: new and changed files are (re)indexed, deleted
    ones removed, unchanged ones skipped. Files that cannot be read are
    listed in ``summary.rejected`` and never stop the rest.

    :param full: rebuild from scratch (beside the old index, swapped in at the end).
    :param procs: indexing processes; 0 means one per core.
    :param wait: wait for another running reindex instead of failing.
    :param progress: called with a :class:`ReindexProgress` as reports are read.
    :param topics_file: the topic taxonomy (TOML) for automatic topics; None: the shipped one.
    :param parse_timeout_s: a file whose parser takes longer is stopped and rejected.
    :param parse_memory_mb: a file whose parser needs more memory is stopped and rejected.
    :param entities: extract people, organisations and places (spaCy; the
        ``entities`` extra). Curated ones are indexed either way.
    :param places: places by name look-up (``entities.gazetteer``: no model;
        with ``entities``, instead of spaCy's places).
    :raises ConfigError: the topic taxonomy is unreadable or wrong, or ``entities``
        is asked for without spaCy and its model.
    :raises IndexLockedError: another reindex is running and ``wait`` is false.
    :raises CorpusError: the corpus folder itself is missing.
    :raises IndexWriteError: the index cannot be written (e.g. the disk is full).
    """
    start = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    entity_fields.check_available(entities)
    taxonomy = topics.Taxonomy.load(topics_file)
    cache = extraction.TextCache(index_dir / extraction.CACHE_FOLDER)
    extractor = extraction.Extractor(cache, parse_timeout_s, parse_memory_mb)
    try:  # issue 6: an OSError here is about the index (corpus read errors are CorpusErrors)
        with processes.sigterm_stops(), collector.batch(), store.reindex_lock(index_dir, wait=wait), extractor:
            store.remove_abandoned(index_dir)
            files, rejected = discover(corpus_dir)
            run = _Run(files, procs, progress, taxonomy, extractor, entities, places)
            summary = None
            if not full:
                try:
                    summary = _incremental(index_dir, run)
                except (IndexNotFoundError, SchemaVersionError) as e:
                    reason = str(e).split(":")[0]
                    summary = _full(index_dir, run)
                    summary.reason = reason
            if summary is None:
                summary = _full(index_dir, run)
    except OSError as e:
        raise IndexWriteError(str(index_dir), e.strerror or str(e)) from e
    summary.rejected[:0] = rejected
    summary.files = len(files)
    summary.elapsed_s = round(time.perf_counter() - start, 3)
    return summary


@dataclass
class _Run:
    """What both kinds of reindex work with."""

    files: list[CorpusFile]
    procs: int
    progress: Progress | None
    taxonomy: topics.Taxonomy
    extractor: extraction.Extractor
    entities: bool = False  # automatic people, organisations and places
    places: bool = False  # automatic places by name look-up


def _full(index_dir: Path, run: _Run) -> ReindexSummary:
    files, procs, extractor = run.files, run.procs, run.extractor
    summary = ReindexSummary(full=True)
    commit = markers.next_commit(store.current_generation(index_dir))  # issue 14
    kept = markers.previous_marks(index_dir)
    building = store.new_generation(index_dir)
    try:
        ix = whoosh_index.create_in(str(building), build_schema())
        # issue 4: learn from the curated reports first (nothing written), so
        # that every report is then written once, in order, with its topics;
        # issue 15: the boilerplate of near-duplicates from the first reports.
        _read_ahead(run, files)
        auto, sample, items = _learn(run)
        meter = Meter(run.progress, files, items)
        tagger = auto.prepare()
        signer = grouping.Signer(sample.common())
        _give_back_memory()
        added = _write_all(ix, building, run, (tagger, commit, kept), meter, items, _keeper(signer), summary)
        summary.added = len(added)
        # Read back without memory maps: through one, Whoosh copies every
        # compound segment into memory (4.3 GB at 1,000,000 reports).
        ix = _unmapped(ix, building)
        with ix.reader() as reader:
            _check_count(index_dir, reader.doc_count(), summary.added)
            summary.auto_tagged = topics.count_tagged(reader)
            ReaderState.open(reader, building)  # issue 5: kept for the first search
        grouping.build(_signed(added, summary), building, signer.common)  # issue 15: near-duplicates
        auto.save(building, ix.latest_generation())
        table = changes.FileTable()
        table.indexed(files)
        table.save(building)
        ix.close()
        store.write_meta(building, reports=summary.added, built=time.time(), commits=commit)
        store.publish(index_dir, building)
        if extractor.cache is not None:
            extractor.cache.prune()  # every file was read: the entries not used are no file's
            if run.entities:  # the same for the NER's mentions (kept by a run without entities)
                MentionCache(index_dir).prune(since=extractor.cache.started)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return summary


def _learn(run: _Run) -> tuple[topics.ReindexTopics, grouping.Sample, dict[str, int]]:
    """The learning pass of a full rebuild: its topics, its boilerplate sample,
    and how many items each file's parser yields."""
    parts = _parts(run.files, run.procs)
    while True:
        auto, sample = topics.ReindexTopics(run.taxonomy, procs=run.procs), grouping.Sample()

        def learn(fields: dict) -> None:
            auto.learn_fields(fields)
            sample.add(fields)

        if parts < 2:
            return auto, sample, documents.learn_files(learn, run.files, {}, run.extractor)
        items = documents.learn_files_in_parts(learn, run.files, parts, run.extractor,
                                               lambda: _LearningTexts(run.taxonomy))
        if items is not None:
            return auto, sample, items
        parts = 1  # a report id in two parts: learned again by one process


class _LearningTexts:
    """The texts a learning process sends back (``documents.TextKeeper``): those
    of its part's first documents, from which ``grouping.Sample`` may take
    its share, and those of its part's share of ``topics.TopicLearner``'s sample."""

    def __init__(self, taxonomy: topics.Taxonomy) -> None:
        self._head: dict[str, tuple[str, str]] = {}
        self._topics = topics.ReindexTopics(taxonomy)

    def add(self, fields: dict) -> None:
        if len(self._head) < grouping.SAMPLE_POOL:
            self._head[fields["id"]] = (fields.get("title") or "", fields.get("body") or "")
        self._topics.learn_fields(fields)

    def texts(self) -> dict[str, tuple[str, str]]:
        return {**self._topics.learner.sample_texts(), **self._head}


def _write_all(ix, building: Path, run: _Run, marks, meter: Meter, items, keep, summary) -> list:
    """Every report of ``run.files`` written into the new index (one writer, or
    one process per part); ``(id, kept)`` of each one added, in index order."""
    tagger, commit, kept = marks
    parts = _parts(run.files, run.procs)
    if parts > 1:  # issue 5: a process per part of the files, each writing a segment
        taken: dict[str, str] = {}  # each worker has its own copy

        def add(writer, part, rejected, tick):
            documents.add_files(topics.TaggingWriter(markers.MarkingWriter(writer, commit, kept), tagger),
                                part, rejected, tick, taken, run.extractor, entities=run.entities, places=run.places)

        return parallel.add_files_in_parts(ix, building, run.files, parts, add, summary.rejected,
                                           meter.tick, items, keep)
    writer = new_writer(ix)
    docs: list = []
    try:
        recording = parallel.RecordingWriter(writer, docs, keep)
        documents.add_files(topics.TaggingWriter(markers.MarkingWriter(recording, commit, kept), tagger),
                            run.files, summary.rejected, meter.tick, {}, run.extractor, entities=run.entities, places=run.places)
        writer.commit()
    except BaseException:
        _abandon(writer)
        raise
    return [(doc[0], doc[3]) for doc in docs]


def _keeper(signer: grouping.Signer):
    """What the writing processes send back of each report: its signature and its note."""
    def keep(fields: dict) -> tuple:
        return signer(fields), note_of(fields)
    return keep


def _signed(added: list[tuple[str, tuple]], summary: ReindexSummary) -> grouping.Signed:
    """The signatures of the reports added, their notes counted in ``summary`` on the way."""
    signed = []
    for report_id, (signature, note) in added:
        summary.count(note)
        signed.append((report_id, signature))
    return signed


def _incremental(index_dir: Path, run: _Run) -> ReindexSummary:
    files = run.files
    ix, gen = store.open_generation(index_dir)
    ix = _unmapped(ix, gen)  # issue 5
    summary = ReindexSummary(full=False)
    auto = topics.ReindexTopics(run.taxonomy, topics.load_saved(gen), procs=run.procs)
    table = changes.FileTable.load(gen)
    with ix.searcher() as searcher:
        seen = {cf.relpath for cf in files}
        indexed = changes.indexed_signatures(searcher, seen)
        todo, touched = table.changed(files, indexed)  # a file only touched is not indexed again
        gone = sorted(set(indexed) - seen)
        replaced = {cf.relpath for cf in todo if cf.relpath in indexed} | set(gone)
        old_ids: dict[str, str] = {}  # id -> file, for the files being replaced
        for relpath in replaced:
            for stored in searcher.documents(file=relpath):
                old_ids[stored["id"]] = relpath
                auto.forget(stored)
        summary.unchanged = searcher.doc_count() - len(old_ids)
    _read_ahead(run, todo)
    generation = ix.latest_generation()
    if not todo and not gone and auto.up_to_date(generation):
        if touched:
            table.save(gen)
        ix.close()
        return summary
    before = set(os.listdir(gen))
    writer = new_writer(ix)
    sync_before_toc(writer, gen, before)
    signer = grouping.Signer(grouping.saved_common(gen))  # issue 15: the last build's boilerplate
    docs: list = []
    try:
        changes.delete_files(writer, replaced)  # issue 5
        with ix.searcher() as searcher:
            # issue 4: learn from the new curated reports, retrain if they changed, re-tag the rest
            items = documents.learn_files(auto.learn_fields, todo, changes.IndexIdLookup(searcher, old_ids),
                                          run.extractor)
            tagger = auto.prepare(searcher.reader(), replaced, generation)
            taken = changes.IndexIdLookup(searcher, old_ids)
            recording = parallel.RecordingWriter(writer, docs, _keeper(signer))
            marking = markers.MarkingWriter(recording, markers.next_commit(gen))  # issue 14
            documents.add_files(topics.TaggingWriter(marking, tagger), todo, summary.rejected,
                                Meter(run.progress, todo, items).tick, taken, run.extractor,
                                entities=run.entities, places=run.places)
            for stored, auto_topics in auto.retag(searcher.reader(), replaced):
                writer.update_document(**changes.retagged_fields(stored, indexed, auto_topics))
        writer.commit(mergetype=segments.purge_and_merge)  # issue 11: deleted reports reclaimed
    except BaseException:
        _abandon(writer, gen, before)
        raise
    added = [(doc[0], doc[3]) for doc in docs]
    summary.updated = sum(1 for i, _ in added if i in old_ids)
    summary.added = len(added) - summary.updated
    summary.removed = len(set(old_ids) - {i for i, _ in added})
    summary.auto_tagged = tagger.tagged
    try:  # the commit is live: a failure now must not say the last index stays in use
        table.indexed(todo, gone)
        _after_commit(ix, gen, (auto, table), summary, (set(old_ids), _signed(added, summary), signer.common))
    except OSError as e:
        raise CommittedWriteError(str(index_dir), e.strerror or str(e)) from e
    return summary


def _after_commit(ix, gen: Path, kept, summary: ReindexSummary, changed) -> None:
    auto, table = kept
    store.fsync_dir(gen)  # Whoosh renamed its new TOC into place
    auto.save(gen, ix.latest_generation())
    table.save(gen)
    with ix.reader() as reader:
        ReaderState.open(reader, gen)  # issue 5: kept for the first search
        grouping.update(reader, gen, *changed)  # issue 15
    store.write_meta(gen, reports=summary.total, built=time.time(), commits=markers.next_commit(gen))
    ix.close()


def _give_back_memory() -> None:
    """Return the heap's free pages (the learning pass's texts, the fitting's
    arrays) to the system before the writing processes fork: each child's RSS
    counts every page the parent holds then (issue 11: the peak RSS of a reindex)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _read_ahead(run: _Run, files: list[CorpusFile]) -> None:
    """Issue 12: the slow formats extracted into the text cache on every core first."""
    slow = [cf for cf in files if cf.suffix in extraction.CACHED_SUFFIXES]
    meter = Meter(run.progress, slow, phase="reading")
    extraction.read_ahead(run.extractor, slow, run.procs or os.cpu_count() or 1, meter.tick)


def _check_count(index_dir: Path, found: int, added: int) -> None:
    """A new index must hold exactly the reports the run added before it is published."""
    if found != added:
        raise IndexWriteError(str(index_dir), f"the new index holds {found} reports where {added} were "
                              "added (a lost indexing process?): it was not published")


def _abandon(writer, folder: Path | None = None, before: set[str] | None = None) -> None:
    """Cancel a failed writer and remove the files it wrote into ``folder``.

    On a full disk Whoosh's own cancel fails too (closing its files flushes
    them), which would leave its write lock held and a partial segment behind
    in the live generation, taking the space the next run needs.
    """
    try:
        writer.cancel()
    except Exception:
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            with contextlib.suppress(Exception):
                lock.release()
    new = set(os.listdir(folder)) - before if folder is not None and before is not None else set()
    if any(name.endswith(".toc") for name in new):
        return  # the commit went through (a new TOC): its files are the index now
    for name in new:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# -- writers and parallelism (issue 5) ------------------------------------------


def _parts(files: list[CorpusFile], procs: int) -> int:
    """How many processes a full rebuild of ``files`` uses (one part of the files each)."""
    procs = procs or os.cpu_count() or 1
    if procs < 2 or sum(cf.size for cf in files) < PARALLEL_MIN_BYTES:
        return 1
    return procs  # a file larger than a part is cut into runs of reports (issue 11: no MpWriter)


def _unmapped(ix, gen: Path):
    """The index opened without memory maps: through a memory map, Whoosh copies
    every compound segment's postings into memory each time a searcher opens
    (0.27 s a searcher at 100,000 reports, 0.01 s without)."""
    unmapped = FileStorage(str(gen), supports_mmap=False).open_index(schema=ix.schema)
    ix.close()
    return unmapped


# -- end of writers and parallelism ------------------------------------------------
