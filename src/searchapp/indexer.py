"""Build and update the index: full rebuilds beside the old index, incremental
updates in one commit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import itertools
from dataclasses import dataclass, field, fields
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from . import changes, entity_fields, extraction, grouping, markers, parallel, processes, segments, store, topics
from .corpus import CorpusFile, discover
from .corpus.meta import detect_language
from .meter import TICK_ITEMS, Meter, Progress, ReindexProgress, Tick
from .engine.state import ReaderState
from .engine.whoosh_writer import sync_before_toc
from .errors import CommittedWriteError, CorpusError, IndexNotFoundError, IndexWriteError, SchemaVersionError
from .report import UNKNOWN_SOURCE, Report
from .schema import AUTHOR_SEPARATOR, IndexCodec, build_schema, join_topics

# Below this many bytes of files, one writer beats the cost of starting processes.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
WRITER_LIMIT_MB = 256


@dataclass
class ReindexSummary:
    """What a reindex did."""

    full: bool
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    auto_tagged: int = 0  # issue 4: reports this run gave automatic topics (a full run: all of them)
    files: int = 0
    rejected: list[CorpusError] = field(default_factory=list)
    elapsed_s: float = 0.0
    reason: str = ""  # why an incremental run rebuilt in full
    # Issue 12: reports this run indexed without a date or a source, and date
    # values their parsers could not read, with the first few of each.
    undated: int = 0
    no_source: int = 0
    unread_dates: int = 0
    undated_examples: list[str] = field(default_factory=list)
    no_source_examples: list[str] = field(default_factory=list)
    unread_date_examples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def note(self, stored: dict) -> None:
        """Count what one indexed report lacks (its stored fields)."""
        where = stored.get("file") or stored["id"]
        if ":" in stored["id"] and not stored["id"].startswith("<"):
            where = f"{where} ({stored['id'].rpartition(':')[2]})"
        if not stored.get("date"):
            self.undated += 1
            _example(self.undated_examples, where)
        if stored.get("source", UNKNOWN_SOURCE) == UNKNOWN_SOURCE:
            self.no_source += 1
            _example(self.no_source_examples, where)
        for warning in (stored.get("meta") or {}).get("warnings", ()):
            self.unread_dates += 1
            _example(self.unread_date_examples, f"{where}: {warning}")

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: it re-creates each CorpusError from its
        # arguments, which are not its message (a crash with any rejection).
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["rejected"] = [
            {"path": e.path, "line": e.line, "reason": e.reason} for e in self.rejected
        ]
        data["total"] = self.total
        return data


EXAMPLES = 5  # paths the summary names for each warning


def _example(examples: list[str], text: str) -> None:
    if len(examples) < EXAMPLES:
        examples.append(text)


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
        with processes.sigterm_stops(), store.reindex_lock(index_dir, wait=wait), extractor:
            store.remove_abandoned(index_dir)
            files, rejected = discover(corpus_dir)
            run = _Run(files, procs, progress, taxonomy, extractor, entities)
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


def _full(index_dir: Path, run: _Run) -> ReindexSummary:
    files, procs, extractor = run.files, run.procs, run.extractor
    summary = ReindexSummary(full=True)
    commit = markers.next_commit(store.current_generation(index_dir))  # issue 14
    kept = markers.previous_marks(index_dir)
    building = store.new_generation(index_dir)
    try:
        ix = whoosh_index.create_in(str(building), build_schema())
        # issue 4: learn from the curated reports first (nothing written), so
        # that every report is then written once, in order, with its topics.
        auto = topics.ReindexTopics(run.taxonomy, procs=procs)
        _read_ahead(run, files)
        items = _learn_files(auto, files, {}, extractor)
        meter = Meter(run.progress, files, items)
        tagger = auto.prepare()
        parts = _parts(files, procs)
        if parts > 1:  # issue 5: a process per part of the files, each writing a segment
            taken: dict[str, str] = {}  # each worker has its own copy

            def add(writer, part, rejected, tick):
                _add_files(topics.TaggingWriter(markers.MarkingWriter(writer, commit, kept), tagger),
                           part, rejected, tick, taken, extractor, entities=run.entities)

            summary.added = parallel.add_files_in_parts(
                ix, building, files, parts, add, summary.rejected, meter.tick, _WRITER_ARGS, items)
        else:
            writer = ix.writer(**_WRITER_ARGS)
            try:
                summary.added = _add_files(topics.TaggingWriter(markers.MarkingWriter(writer, commit, kept),
                                                                tagger), files, summary.rejected,
                                           meter.tick, {}, extractor, entities=run.entities)
                writer.commit()
            except BaseException:
                _abandon(writer)
                raise
        # Read back without memory maps: through one, Whoosh copies every
        # compound segment into memory (4.3 GB at 1,000,000 reports).
        ix = _unmapped(ix, building)
        with ix.reader() as reader:
            _check_count(index_dir, reader.doc_count(), summary.added)
            summary.auto_tagged = topics.count_tagged(reader)
            ReaderState.open(reader, building)  # issue 5: kept for the first search
            grouping.build(reader, building, seen=summary.note)  # issue 15: near-duplicates
        auto.save(building, ix.latest_generation())
        ix.close()
        store.write_meta(building, reports=summary.added, built=time.time(), commits=commit)
        store.publish(index_dir, building)
        if extractor.cache is not None:
            extractor.cache.prune()  # every file was read: the entries not used are no file's
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return summary


def _incremental(index_dir: Path, run: _Run) -> ReindexSummary:
    files = run.files
    ix, gen = store.open_generation(index_dir)
    ix = _unmapped(ix, gen)  # issue 5
    summary = ReindexSummary(full=False)
    curated_removed = 0
    with ix.searcher() as searcher:
        seen = {cf.relpath for cf in files}
        indexed = changes.indexed_signatures(searcher, seen)
        todo = [cf for cf in files if indexed.get(cf.relpath) != cf.signature]
        gone = sorted(set(indexed) - seen)
        replaced = {cf.relpath for cf in todo if cf.relpath in indexed} | set(gone)
        old_ids: dict[str, str] = {}  # id -> file, for the files being replaced
        for relpath in replaced:
            for stored in searcher.documents(file=relpath):
                old_ids[stored["id"]] = relpath
                curated_removed += bool(stored.get("topic"))
        summary.unchanged = searcher.doc_count() - len(old_ids)
    auto = topics.ReindexTopics(run.taxonomy, topics.load_saved(gen), procs=run.procs)
    _read_ahead(run, todo)
    generation = ix.latest_generation()
    if not todo and not gone and auto.up_to_date(generation):
        ix.close()
        return summary
    before = set(os.listdir(gen))
    writer = ix.writer(**_WRITER_ARGS)
    sync_before_toc(writer, gen, before)
    try:
        changes.delete_files(writer, replaced)  # issue 5
        added_ids: list[str] = []
        with ix.searcher() as searcher:
            # issue 4: learn from the new curated reports, retrain if they changed, re-tag the rest
            items = _learn_files(auto, todo, changes.IndexIdLookup(searcher, old_ids), run.extractor)
            tagger = auto.prepare(searcher.reader(), replaced, generation, curated_removed)
            taken = changes.IndexIdLookup(searcher, old_ids)
            marking = markers.MarkingWriter(writer, markers.next_commit(gen))  # issue 14
            _add_files(topics.TaggingWriter(marking, tagger), todo, summary.rejected,
                       Meter(run.progress, todo, items).tick, taken, run.extractor, added_ids, run.entities)
            for stored, auto_topics in auto.retag(searcher.reader(), replaced):
                writer.update_document(**changes.retagged_fields(stored, indexed, auto_topics))
        writer.commit(mergetype=segments.purge_and_merge)  # issue 11: deleted reports reclaimed
    except BaseException:
        _abandon(writer, gen, before)
        raise
    summary.updated = sum(1 for i in added_ids if i in old_ids)
    summary.added = len(added_ids) - summary.updated
    summary.removed = len(set(old_ids) - set(added_ids))
    summary.auto_tagged = tagger.tagged
    try:  # the commit is live: a failure now must not say the last index stays in use
        _after_commit(ix, gen, auto, summary, (set(old_ids), added_ids))
    except OSError as e:
        raise CommittedWriteError(str(index_dir), e.strerror or str(e)) from e
    return summary


def _after_commit(ix, gen: Path, auto: topics.ReindexTopics, summary: ReindexSummary, changed) -> None:
    store.fsync_dir(gen)  # Whoosh renamed its new TOC into place
    auto.save(gen, ix.latest_generation())
    with ix.reader() as reader:
        ReaderState.open(reader, gen)  # issue 5: kept for the first search
        grouping.update(reader, gen, *changed, seen=summary.note)  # issue 15
    store.write_meta(gen, reports=summary.total, built=time.time(), commits=markers.next_commit(gen))
    ix.close()


def _read_ahead(run: _Run, files: list[CorpusFile]) -> None:
    """Issue 12: the slow formats extracted into the text cache on every core first."""
    slow = [cf for cf in files if cf.suffix in extraction.CACHED_SUFFIXES]
    meter = Meter(run.progress, slow, phase="reading")
    extraction.read_ahead(run.extractor, slow, run.procs or os.cpu_count() or 1, meter.tick)


def _learn_files(auto: topics.ReindexTopics, files: list[CorpusFile], taken,
                 extractor: extraction.Extractor) -> dict[str, int]:
    """Issue 4: the curated reports the add loop will index (same rules, nothing written), learned from.

    Returns how many items (reports and rejections) each file's parser yields.
    """
    items: dict[str, int] = {}
    for cf in files:
        items[cf.relpath] = 0
        for item in extractor.items(cf):
            items[cf.relpath] += 1
            if isinstance(item, CorpusError):
                continue
            fields = document_fields(item, cf)
            if _not_unicode(fields) is None and taken.get(item.id) is None:
                taken[item.id] = cf.relpath
                auto.learn_fields(fields)
    return items


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

# Blocks written uncompressed: about 12% faster to write and faster to read
# back, for an index about 30% larger.
_WRITER_ARGS = {"limitmb": WRITER_LIMIT_MB, "codec": IndexCodec(compression=0)}


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


def _items(piece: CorpusFile | parallel.FileSlice, extractor: extraction.Extractor):
    """The file and what its parser yields (for a slice, only its run of items)."""
    if isinstance(piece, parallel.FileSlice):
        return piece.file, itertools.islice(extractor.items(piece.file), piece.start, piece.stop)
    return piece, extractor.items(piece)


def _add_files(writer, files, rejected, tick: Tick | None, taken, extractor: extraction.Extractor,
               added_ids=None, entities: bool = False) -> int:
    writer = entity_fields.EntityWriter(writer, extract=entities)  # issue 15: automatic entities, batched
    count = 0
    for piece in files:
        cf, parsed = _items(piece, extractor)
        read = 0
        for item in parsed:
            read += 1
            if tick is not None and read == TICK_ITEMS:
                tick(cf.relpath, read, False)
                read = 0
            if isinstance(item, CorpusError):
                rejected.append(item)
                continue
            fields = document_fields(item, cf)
            bad = _not_unicode(fields)
            if bad is not None:  # issue 6: Whoosh would fail the whole run, a page would be a 500
                rejected.append(CorpusError(cf.relpath, f"text that is not valid Unicode (a lone surrogate) in field {bad!r}", item.line))
                continue
            first = taken.get(item.id)
            if first is not None:
                rejected.append(CorpusError(cf.relpath, f"duplicate report id {item.id!r} (already in {first})", item.line))
                continue
            taken[item.id] = cf.relpath
            writer.add_document(**fields)
            if added_ids is not None:
                added_ids.append(item.id)
            count += 1
        if tick is not None:
            tick(cf.relpath, read, True)
    writer.flush()
    return count


def _not_unicode(fields: dict) -> str | None:
    """The first field holding a string that cannot be UTF-8 (JSON and YAML can
    escape half a surrogate pair, "\\ud800"), or None."""
    for name, value in fields.items():
        if not _encodes(value):
            return name
    return None


def _encodes(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_encodes(k) and _encodes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_encodes(v) for v in value)
    return True


def _language(report: Report) -> str | None:
    """Issue 12: records of parsers that detect no language (JSON Lines: no format) get one here."""
    return None if report.format else detect_language(f"{report.title}\n{report.body}")


def document_fields(report: Report, cf: CorpusFile) -> dict:
    """The Whoosh document for one report (its curated entities with it; the
    automatic ones are added in batches by ``entity_fields.EntityWriter``)."""
    meta = {"url": report.url, "author": report.author, "line": report.line, "extra": report.extra,
            "updated": report.updated.isoformat() if report.updated else None,
            "warnings": [str(w) for w in report.warnings if w.field == "date"]}
    authors = report.authors or ((report.author,) if report.author else ())
    fields = {
        "id": report.id,
        "filesig": f"{cf.relpath}\t{cf.signature}",
        "file": cf.relpath,
        "title": report.title,
        "body": report.body,
        "source": report.source,
        "topic": join_topics(report.topics),
        "date": report.date.isoformat() if report.date else None,
        "meta": {k: v for k, v in meta.items() if v},
        "author": AUTHOR_SEPARATOR.join(authors) or None,
        "language": report.language or _language(report),
        "format": report.format or None,
        "parent": report.parent,
        "pages": list(report.pages) or None,
        "html": report.html,
        "attachments": list(report.attachments) or None,
        "ocr": report.ocr or None,
        "attachment": report.attachment,
        **entity_fields.curated_fields(report.extra),
    }
    return {k: v for k, v in fields.items() if v is not None}
