"""A file's reports in two stages: what its content gives, then what its place adds.

1. **Extraction** (:class:`Extracted`) depends on the file's bytes alone: the
   text, pages, the document's own metadata, an e-mail's attachments. It is
   the slow part (PDF, OCR, trafilatura), so it is what the text cache keeps,
   by content hash: a moved or renamed file is not extracted again.
2. **Completion** (:func:`complete`) depends on the file's place: the report
   ids, header lines read with the folder's date order, the file-name date,
   folder defaults and the sidecar (:func:`~searchapp.corpus.meta.finish`).
   It runs on every read, from the cache or not, so a moved file gets the
   metadata of its new folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from searchapp.corpus.files import CorpusFile, corpus_root, strip_suffix
from searchapp.corpus.meta import Parsed, finish
from searchapp.errors import CorpusError
from searchapp.report import Report

__all__ = ["Extracted", "complete"]


@dataclass
class Extracted:
    """What one file's content gives, before its place completes it.

    ``attachments``: (sanitised unique name, what its content gives, or why it
    cannot be read) for each attachment of a format searchapp reads.
    ``terms``: the analysed terms of each body (``analysis.analyzed``; the
    file's, then each attachment's, None for a rejection) when worked out
    with it: they too depend on the content alone, and cost the indexer more
    than reading them from the cache (a quarter of a cached ``--full``).
    """

    parsed: Parsed
    attachments: list[tuple[str, Parsed | CorpusError]] = field(default_factory=list)
    terms: list = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """Whether any part of it could not be read (such an extraction is not cached)."""
        return any(isinstance(item, CorpusError) for _, item in self.attachments)

    @property
    def bodies(self) -> list[Parsed | CorpusError]:
        """The file's extraction, then each attachment's (or its rejection)."""
        return [self.parsed, *(item for _, item in self.attachments)]

    @property
    def count(self) -> int:
        """How many items :func:`complete` makes of it (reports and rejections)."""
        return 1 + len(self.attachments)


def complete(cf: CorpusFile, extracted: Extracted) -> list[Report | CorpusError]:
    """The reports of ``cf`` from its extraction: the file's report, then its
    attachments' (``<file's id>/<name>``, ``parent`` set), or their rejections.

    ``extracted`` is used up (its parsed values are completed in place).
    """
    root = corpus_root(cf)
    report = finish(extracted.parsed, root, cf.relpath, strip_suffix(cf.relpath))
    if not extracted.attachments:
        return [report]
    children: list[Report | CorpusError] = []
    for name, item in extracted.attachments:
        if isinstance(item, CorpusError):
            children.append(item)
        else:
            children.append(finish(item, root, cf.relpath, f"{report.id}/{name}", parent=report.id, attachment=name))
    ids = tuple(r.id for r in children if isinstance(r, Report))
    return [replace(report, attachments=ids), *children]
