"""What a reindex did, and the warnings it gives about the reports it indexed
(issue 12: reports without a date or a source, date values no parser could read).

A report's :class:`Note` is taken from its document where it is written (in
the worker process that analysed it) and counted in the parent, for the
reports the index keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .errors import CorpusError
from .report import UNKNOWN_SOURCE

__all__ = ["EXAMPLES", "Note", "ReindexSummary", "note_of"]

EXAMPLES = 5  # paths the summary names for each warning


@dataclass(frozen=True)
class Note:
    """What one indexed report lacks: where it is, and its unread date values."""

    where: str
    undated: bool
    no_source: bool
    warnings: tuple[str, ...] = ()


def note_of(document: dict) -> Note:
    """The note of one report from its document (or its stored fields)."""
    where = document.get("file") or document["id"]
    if ":" in document["id"] and not document["id"].startswith("<"):
        where = f"{where} ({document['id'].rpartition(':')[2]})"
    return Note(where, not document.get("date"), document.get("source", UNKNOWN_SOURCE) == UNKNOWN_SOURCE,
                tuple((document.get("meta") or {}).get("warnings", ())))


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
        self.count(note_of(stored))

    def count(self, note: Note) -> None:
        """Count one indexed report's :class:`Note`."""
        if note.undated:
            self.undated += 1
            _example(self.undated_examples, note.where)
        if note.no_source:
            self.no_source += 1
            _example(self.no_source_examples, note.where)
        for warning in note.warnings:
            self.unread_dates += 1
            _example(self.unread_date_examples, f"{note.where}: {warning}")

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: it re-creates each CorpusError from its
        # arguments, which are not its message (a crash with any rejection).
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["rejected"] = [
            {"path": e.path, "line": e.line, "reason": e.reason} for e in self.rejected
        ]
        data["total"] = self.total
        return data


def _example(examples: list[str], text: str) -> None:
    if len(examples) < EXAMPLES:
        examples.append(text)
