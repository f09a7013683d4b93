"""What an incremental reindex compares and changes: which files the index
holds with which signature, which of those a new signature leaves as they
were (the same bytes), the ids it already has, the reports of replaced files
deleted, and re-tagged documents written again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import store
from .corpus import CorpusFile
from .corpus.files import MAX_FILE_BYTES, open_checked
from .engine.whoosh_writer import is_live
from .errors import CorpusError
from .schema import join_topics

FILES_TABLE = "files.json"  # in a generation: each file's content hash (FileTable)


def retagged_fields(stored: dict, indexed: dict[str, str], auto_topics: tuple[str, ...]) -> dict:
    """The document of an indexed report again, with new automatic topics (issue 4)."""
    fields = {k: v for k, v in stored.items() if k != "topic_auto"}
    fields["filesig"] = f"{stored['file']}\t{indexed[stored['file']]}"
    if auto_topics:
        fields["topic_auto"] = join_topics(auto_topics)
    return fields


def indexed_signatures(searcher, present: set[str]) -> dict[str, str]:
    """relpath -> the signature of the file its indexed reports came from.

    The lexicon still holds the terms of deleted reports (until their segment
    is merged), so a file rewritten in place has two signatures there, and a
    file removed from the corpus one: then only a term of a live report
    counts. (Taking the last one made a changed JSON Lines file look changed
    on every later run.)
    """
    found: dict[str, list[str]] = {}
    for term in searcher.lexicon("filesig"):
        relpath, _, signature = term.decode("utf-8").rpartition("\t")
        found.setdefault(relpath, []).append(signature)
    reader = searcher.reader()
    deletions = reader.has_deletions()
    out = {}
    for relpath, signatures in found.items():
        if deletions and (len(signatures) > 1 or relpath not in present):
            signatures = [s for s in signatures if is_live(reader, "filesig", f"{relpath}\t{s}")]
        if signatures:
            out[relpath] = signatures[-1]
    return out


class IndexIdLookup(dict):
    """``taken`` for an incremental run: ids already in the index from files kept as they are."""

    def __init__(self, searcher, replaced_ids: dict[str, str]) -> None:
        super().__init__()
        self._searcher = searcher
        self._replaced_ids = replaced_ids  # id -> file, of the files being replaced

    def get(self, key, default=None):
        if key in self:
            return self[key]
        # Ids are unique in the index: one of a replaced file is in no other
        # file, and most ids are new or replaced (issue 5: no search for them).
        if key in self._replaced_ids or ("id", key) not in self._searcher.reader():
            return default
        stored = self._searcher.document(id=key)
        return stored.get("file") if stored else default


def delete_files(writer, relpaths) -> None:
    """Delete the reports of these files with one searcher (Whoosh's
    ``delete_by_term`` opens one for every call)."""
    if not relpaths:
        return
    with writer.searcher() as searcher:
        for relpath in sorted(relpaths):
            for docnum in searcher.document_numbers(file=relpath):
                writer.delete_document(docnum)


class FileTable:
    """The content hash of each indexed file, kept in the generation, so that a
    file only touched (the same bytes, a new mtime) is not indexed again.

    An entry is ``relpath -> [signature in the index, signature now, sha256]``.
    The index's own signature (the ``filesig`` field) stays the truth: an entry
    whose first signature is not the index's (a commit without the table, after
    a crash) is not used.
    """

    def __init__(self, entries: dict[str, list[str]] | None = None) -> None:
        self.entries = entries or {}

    @classmethod
    def load(cls, gen_dir: Path) -> "FileTable":
        try:
            entries = json.loads((gen_dir / FILES_TABLE).read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(entries, dict):
            return cls()
        return cls({k: v for k, v in entries.items() if isinstance(v, list) and len(v) == 3})

    def save(self, gen_dir: Path) -> None:
        store.atomic_write(gen_dir / FILES_TABLE, json.dumps(self.entries, sort_keys=True))

    def changed(self, files: list[CorpusFile], indexed: dict[str, str]) -> tuple[list[CorpusFile], int]:
        """The files to index again (new, or other bytes), and how many were only
        touched (their entries now name their new signature)."""
        todo, touched = [], 0
        for cf in files:
            signature = indexed.get(cf.relpath)
            entry = self.entries.get(cf.relpath)
            if entry is not None and entry[0] != signature:
                entry = None
            if signature == cf.signature or (entry is not None and entry[1] == cf.signature):
                continue
            same_size = entry is not None and entry[1].split(":")[0] == cf.signature.split(":")[0]
            if same_size and content_digest(cf) == entry[2]:
                entry[1] = cf.signature
                touched += 1
                continue
            todo.append(cf)
        return todo, touched

    def indexed(self, files: list[CorpusFile], gone=()) -> None:
        """``files`` written into the index as they are now; ``gone`` removed from it."""
        for relpath in gone:
            self.entries.pop(relpath, None)
        for cf in files:
            digest = content_digest(cf)
            if digest is None:
                self.entries.pop(cf.relpath, None)
            else:
                self.entries[cf.relpath] = [cf.signature, cf.signature, digest]


def content_digest(cf: CorpusFile) -> str | None:
    """The SHA-256 of a file's bytes; None when it cannot be read, is larger
    than :data:`~searchapp.corpus.files.MAX_FILE_BYTES` (not read for this: a
    touched file that large is indexed again) or is no longer as discovery
    found it (its signature changed)."""
    if cf.size > MAX_FILE_BYTES:
        return None
    try:
        with open_checked(cf) as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            st = os.fstat(fh.fileno())
    except (OSError, CorpusError):
        return None
    return digest if f"{st.st_size}:{st.st_mtime_ns}" == cf.signature else None
