"""Parsed reports into index documents: the fields of one report, the loop
that adds a run of files' reports to a writer (rejecting what Whoosh cannot
take and ids already taken), and the pass that learns from them first.

Both kinds of reindex (``indexer``) and every indexing process (``parallel``)
add reports through :func:`add_files`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from . import entity_fields, extraction, processes
from .corpus import CorpusFile
from .corpus.meta import detect_language
from .entities.cache import MentionCache
from .errors import CorpusError
from .meter import TICK_ITEMS, Tick
from .parallel import FileSlice, split
from .report import Report
from .schema import AUTHOR_SEPARATOR, join_topics

__all__ = ["LEARNED_FIELDS", "TextKeeper", "add_files", "document_fields", "learn_files", "learn_files_in_parts"]


def document_fields(report: Report, cf: CorpusFile, *, language: bool = True) -> dict:
    """The Whoosh document for one report (its curated entities with it; the
    automatic ones are added in batches by ``entity_fields.EntityWriter``).

    :param language: detect the language of a record whose parser gives none
        (False for the learning pass, which reads no language: detecting it
        was a third of a 10,000-report reindex's CPU, done twice).
    """
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
        "language": report.language or (_language(report) if language else None),
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


def add_files(writer, files, rejected, tick: Tick | None, taken, extractor: extraction.Extractor,
              added_ids=None, entities: bool = False, places: bool = False) -> int:
    """Add the reports of ``files`` (files or slices of them) to ``writer``.

    A report whose id ``taken`` already holds, or with text that is not
    Unicode, is appended to ``rejected`` instead. Returns how many were added.
    """
    # Issue 15: automatic entities, batched; the NER's mentions kept beside the text cache.
    mentions = MentionCache(extractor.cache.folder.parent) if entities and extractor.cache is not None else None
    writer = entity_fields.EntityWriter(writer, extract=entities, gazetteer=places, cache=mentions)
    count = 0
    for piece in files:
        cf, parsed = _items(piece, extractor)
        read = 0
        for item in parsed:
            read += 1
            if tick is not None and read == TICK_ITEMS:
                tick(cf.relpath, read, False)
                read = 0
            fields = _accepted(item, cf, taken, rejected)
            if fields is None:
                continue
            taken[item.id] = cf.relpath
            writer.add_document(**fields)
            if added_ids is not None:
                added_ids.append(item.id)
            count += 1
        if tick is not None:
            tick(cf.relpath, read, True)
    writer.flush()
    if mentions is not None:
        mentions.close()
    return count


def _accepted(item, cf: CorpusFile, taken, rejected: list) -> dict | None:
    """The document of ``item``, or None with the reason appended to ``rejected``."""
    if isinstance(item, CorpusError):
        rejected.append(item)
        return None
    fields = document_fields(item, cf)
    bad = _not_unicode(fields)
    if bad is not None:  # issue 6: Whoosh would fail the whole run, a page would be a 500
        rejected.append(CorpusError(cf.relpath, f"text that is not valid Unicode (a lone surrogate) in field {bad!r}", item.line))
        return None
    first = taken.get(item.id)
    if first is not None:
        rejected.append(CorpusError(cf.relpath, f"duplicate report id {item.id!r} (already in {first})", item.line))
        return None
    return fields


def learn_files(learn: Callable[[dict], None], files: list[CorpusFile], taken,
                extractor: extraction.Extractor) -> dict[str, int]:
    """The documents the add loop will index (same rules, nothing written),
    each handed to ``learn`` (issue 4: topics; issue 15: boilerplate).

    Returns how many items (reports and rejections) each file's parser yields.
    """
    items: dict[str, int] = {}
    for cf in files:
        items[cf.relpath] = 0
        for item in extractor.items(cf):
            items[cf.relpath] += 1
            if isinstance(item, CorpusError):
                continue
            fields = document_fields(item, cf, language=False)
            if _not_unicode(fields) is None and taken.get(item.id) is None:
                taken[item.id] = cf.relpath
                learn(fields)
    return items


# What a learner reads of a document (``topics.ReindexTopics.learn_fields``, ``grouping.Sample``).
LEARNED_FIELDS = ("id", "title", "body", "topic", "source")


class TextKeeper(Protocol):
    """Chooses, in a learning process, the documents whose title and body the
    learners may use (the others go back to the parent without them)."""

    def add(self, fields: dict) -> None: ...

    def texts(self) -> dict[str, tuple[str, str]]:
        """Report id -> (title, body) of the documents chosen."""
        ...


def learn_files_in_parts(learn: Callable[[dict], None], files: list[CorpusFile], procs: int,
                         extractor: extraction.Extractor,
                         keeper: Callable[[], TextKeeper]) -> dict[str, int] | None:
    """:func:`learn_files` (``taken`` empty) with the files parsed by ``procs``
    processes, a contiguous part each (issue 11: the pass was a tenth of a full
    reindex, all of it on one core); ``learn`` is still called in the parent,
    with every document in file order, as :data:`LEARNED_FIELDS`, the title and
    body only where its part's ``keeper()`` chose them.

    Returns None, having called ``learn`` for some documents, when a report id
    of one part is also in an earlier one (the parts could not tell which
    documents the learners see then): the caller learns again with :func:`learn_files`.
    """
    parts = split(files, procs)
    results = processes.run([_learning_work(part, extractor, keeper) for part in parts],
                            name="learning process")
    items: dict[str, int] = {}
    taken: set[str] = set()
    for part_items, docs in results:
        items.update(part_items)
        for fields in docs:
            if fields["id"] in taken:
                return None
            taken.add(fields["id"])
            learn(fields)
    return items


def _learning_work(part: list[FileSlice], extractor: extraction.Extractor,
                   keeper: Callable[[], TextKeeper]) -> processes.Work:
    def work(send: processes.Send) -> tuple[dict[str, int], list[dict]]:
        keep = keeper()
        docs: list[dict] = []

        def learn(fields: dict) -> None:
            keep.add(fields)
            docs.append({k: fields[k] for k in LEARNED_FIELDS if k in fields and k not in ("title", "body")})

        items = learn_files(learn, [piece.file for piece in part], {}, extractor)
        texts = keep.texts()
        for fields in docs:
            text = texts.get(fields["id"])
            if text is not None:
                fields["title"], fields["body"] = text
        return items, docs

    return work


def _items(piece: CorpusFile | FileSlice, extractor: extraction.Extractor):
    """The file and what its parser yields (for a slice, only its run of items)."""
    if isinstance(piece, FileSlice):
        return piece.file, itertools.islice(extractor.items(piece.file), piece.start, piece.stop)
    return piece, extractor.items(piece)


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
