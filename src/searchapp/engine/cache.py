"""Decoded postings, positions and field lengths: per segment, and per reader, shared by threads.

A segment never changes once written, so what is decoded from it is kept by
the segment's id for the whole process (:data:`SEGMENTS`): the reader of a
new commit decodes only its new segments and joins the arrays of the others
(issue 11: a commit used to make every term decoded again). The joined arrays
of one reader are kept by its :class:`PostingCache`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import whoosh_internals as wi
from . import whoosh_postings as wp

CACHE_BYTES = 128 * 1024 * 1024  # decoded postings kept per index reader
SEGMENT_BYTES = 128 * 1024 * 1024  # decoded segment arrays kept for the process
ENTRY_BYTES = 200  # what an entry costs beside its arrays (an absent term's is all it costs)


@dataclass(frozen=True)
class Postings:
    """One term's postings over the whole reader: sorted document numbers and term frequencies."""

    docs: np.ndarray  # int64
    weights: np.ndarray  # float64

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.weights.nbytes


@dataclass(frozen=True)
class Positions:
    """One term's positions as sorted keys ``document * SPAN + position``."""

    keys: np.ndarray  # int64, ascending

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes


class SegmentCache:
    """Arrays decoded from segments, by segment id and what was decoded (an
    LRU bounded in bytes, shared by every reader and thread of the process)."""

    def __init__(self, max_bytes: int = SEGMENT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lru: OrderedDict[tuple, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, decode: Callable[[], tuple]) -> tuple:
        """The arrays under ``key`` (its first part the segment id: None is never
        kept), decoded with ``decode()`` when not kept."""
        if key[0] is None:
            return decode()
        with self._lock:
            found = self._lru.get(key)
            if found is not None:
                self._lru.move_to_end(key)
                return found
        found = decode()
        size = ENTRY_BYTES + sum(a.nbytes for a in found)
        if size <= self.max_bytes:
            with self._lock:
                if key not in self._lru:
                    self._lru[key] = found
                    self._bytes += size
                    while self._bytes > self.max_bytes:
                        _, old = self._lru.popitem(last=False)
                        self._bytes -= ENTRY_BYTES + sum(a.nbytes for a in old)
        return found

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()
            self._bytes = 0


SEGMENTS = SegmentCache()


def _joined(reader, what: tuple, decode: Callable, shift: Callable) -> list[tuple]:
    """Each segment's arrays of ``what`` (kept in :data:`SEGMENTS`), moved to the
    reader's document numbers by ``shift(arrays, offset)``."""
    parts = []
    for sid, seg, offset in wp.leaves(reader):
        arrays = SEGMENTS.get((sid, *what), lambda seg=seg: decode(seg))
        parts.append(shift(arrays, offset) if offset else arrays)
    return parts


def _postings(reader, field: str, btext: bytes) -> Postings:
    parts = [p for p in _joined(reader, ("postings", field, btext),
                                lambda seg: wp.segment_postings(seg, field, btext),
                                lambda a, offset: (a[0] + offset, a[1])) if len(p[0])]
    if not parts:
        return Postings(wp.EMPTY_IDS, wp.EMPTY_WEIGHTS)
    if len(parts) == 1:
        return Postings(*parts[0])
    return Postings(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _positions(reader, field: str, btext: bytes) -> Positions:
    parts = [p[0] for p in _joined(reader, ("positions", field, btext),
                                   lambda seg: (wp.segment_positions(seg, field, btext),),
                                   lambda a, offset: (a[0] + offset * wp.SPAN,)) if len(p[0])]
    return Positions(parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else wp.EMPTY_IDS)


def _lengths(reader, field: str) -> np.ndarray:
    parts = [p[0] for p in _joined(reader, ("lengths", field), lambda seg: (wp.segment_lengths(seg, field),),
                                   lambda a, offset: a)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)


class PostingCache:
    """Decoded postings and field lengths of one index reader (shared by threads),
    joined from its segments' (:data:`SEGMENTS`).

    Decoding reads through the calling thread's own reader (Whoosh's file
    handles are not thread-safe); the arrays are shared.
    """

    def __init__(self, reader, max_bytes: int = CACHE_BYTES) -> None:
        self.n = reader.doc_count_all()
        self.max_bytes = max_bytes
        self._lru: OrderedDict[tuple, object] = OrderedDict()
        self._bytes = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._frequencies: dict[tuple[str, object], int] = {}
        self._vocabularies: dict[str, list[str]] = {}
        self.words: dict[tuple, list[bytes]] = {}  # what patterns stand for (ArrayQueryEngine.words)
        self._lock = threading.Lock()

    def doc_frequency(self, parent, field: str, text) -> int:
        """The parent searcher's document frequency, remembered (Whoosh adds it up per segment)."""
        key = (field, text)
        found = self._frequencies.get(key)
        if found is None:
            found = self._frequencies[key] = parent.doc_frequency(field, text)
            if len(self._frequencies) > 100_000:
                self._frequencies.clear()
        return found

    def get(self, reader, field: str, btext: bytes) -> Postings:
        key = (field, btext)
        found = self.remembered(key)
        if found is None:
            found = _postings(reader, field, btext)
            self._store(key, found)
        return found

    def positions(self, reader, field: str, btext: bytes) -> Positions:
        """The term's positions in every document holding it (for phrases), cached like postings."""
        key = (field, btext, "positions")
        found = self.remembered(key)
        if found is None:
            found = _positions(reader, field, btext)
            self._store(key, found)
        return found

    def remembered(self, key):
        """What the cache holds under ``key`` (postings, positions, or an array
        stored with ``remember``: phrase matches), or None."""
        with self._lock:
            found = self._lru.get(key)
            if found is not None:
                self._lru.move_to_end(key)
            return found

    def remember(self, key, value: np.ndarray) -> None:
        self._store(key, value)

    def _store(self, key, value) -> None:
        if value.nbytes > self.max_bytes:
            return
        with self._lock:
            if key not in self._lru:
                self._lru[key] = value
                self._bytes += value.nbytes
                while self._bytes > self.max_bytes:
                    _, old = self._lru.popitem(last=False)
                    self._bytes -= old.nbytes

    def vocabulary(self, reader, field: str) -> list[str]:
        """Every word of ``field``, read once (for leading wildcards)."""
        found = self._vocabularies.get(field)
        if found is None:
            with self._lock:
                found = self._vocabularies.get(field)
                if found is None:
                    found = self._vocabularies[field] = sorted(wi.field_words(reader, field))
        return found

    def lengths(self, reader, field: str) -> np.ndarray:
        """Every document's length in ``field`` as Whoosh scores it (quantised to a byte)."""
        found = self._lengths.get(field)
        if found is None:
            found = self._lengths[field] = _lengths(reader, field)
        return found
