"""What an incremental reindex compares and changes: which files the index
holds with which signature, the ids it already has, the reports of replaced
files deleted, and re-tagged documents written again.
"""

from __future__ import annotations

from .engine.whoosh_writer import is_live
from .schema import join_topics


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
