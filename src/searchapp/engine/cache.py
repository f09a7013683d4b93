"""Decoded postings, positions and field lengths of one index reader, shared by threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import whoosh_internals as wi

CACHE_BYTES = 128 * 1024 * 1024  # decoded postings kept per index reader


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


class PostingCache:
    """Decoded postings and field lengths of one index reader (shared by threads).

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
            found = Postings(*wi.decode_postings(reader, field, btext))
            self._store(key, found)
        return found

    def positions(self, reader, field: str, btext: bytes) -> Positions:
        """The term's positions in every document holding it (for phrases), cached like postings."""
        key = (field, btext, "positions")
        found = self.remembered(key)
        if found is None:
            found = Positions(wi.decode_positions(reader, field, btext))
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
                    found = self._vocabularies[field] = wi.vocabulary(reader, field)
        return found

    def lengths(self, reader, field: str) -> np.ndarray:
        """Every document's length in ``field`` as Whoosh scores it (quantised to a byte)."""
        found = self._lengths.get(field)
        if found is None:
            found = self._lengths[field] = wi.field_lengths(reader, field)
        return found
