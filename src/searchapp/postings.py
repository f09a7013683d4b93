"""Posting lists as NumPy arrays: matching and BM25F scoring without a Python
call per document.

Whoosh matches and scores one document at a time in Python, which costs
microseconds per matching document: a common word in a large collection
takes longer to rank than the rest of a search together. Here a term's
postings (document numbers and frequencies) are decoded block by block into
arrays, kept in a size-bounded LRU cache per index reader, and the common
query shapes are evaluated on whole arrays:

- matching: ``Term``, ``ranking.FieldsTerm``, ``Phrase`` (positions decoded
  and cached like postings), ``And``, ``Or``, ``Not``, ``AndNot``,
  ``AndMaybe``, ``Require``, ``Every``; any other query (prefixes, ranges) is
  matched by Whoosh and combined as an array;
- scoring: the same shapes without ``Not`` (and ``Or`` without a coordination
  ``scale``), with the searcher's ``BM25F`` weighting (Whoosh's formula) and
  ``FieldsTerm``'s BM25F (``ranking``'s formula), and boosts; any other query
  is left to Whoosh (``scores`` returns None).

Scores equal Whoosh's for the same query (tests/test_postings.py checks it),
so ranking is defined in one place: ``ranking`` and Whoosh's weighting.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pickle import loads

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from .schema import length_bytes

try:  # BM25F over several fields as one word (issue 7); absent in older trees
    from . import ranking
    from .ranking import FieldsTerm
except ImportError:  # pragma: no cover
    ranking = None
    FieldsTerm = None

CACHE_BYTES = 128 * 1024 * 1024  # decoded postings kept per index reader
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


@dataclass(frozen=True)
class Postings:
    """One term's postings over the whole reader: sorted document numbers and term frequencies."""

    docs: np.ndarray  # int64
    weights: np.ndarray  # float64

    @property
    def nbytes(self) -> int:
        return self.docs.nbytes + self.weights.nbytes


SPAN = np.int64(1 << 32)  # a position key: document * SPAN + position


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
        self._lru: OrderedDict[tuple[str, bytes], Postings] = OrderedDict()
        self._bytes = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._frequencies: dict[tuple[str, object], int] = {}
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
            found = _decode(reader, field, btext)
            self._store(key, found)
        return found

    def positions(self, reader, field: str, btext: bytes) -> "Positions":
        """The term's positions in every document holding it (for phrases), cached like postings."""
        key = (field, btext, "positions")
        found = self.remembered(key)
        if found is None:
            found = _decode_positions(reader, field, btext)
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

    def lengths(self, reader, field: str) -> np.ndarray:
        """Every document's length in ``field`` as Whoosh scores it (quantised to a byte)."""
        found = self._lengths.get(field)
        if found is None:
            found = np.concatenate([_segment_lengths(seg, field) for seg, _ in reader.leaf_readers()]
                                   or [np.zeros(0)])
            self._lengths[field] = found
        return found


def _decode(reader, field: str, btext: bytes) -> Postings:
    docs, weights = [], []
    for seg, offset in reader.leaf_readers():
        if (field, btext) not in seg:
            continue
        matcher = seg.postings(field, btext)
        if isinstance(matcher, FilterMatcher):  # deletions: the caller masks with the live documents
            matcher = matcher.child
        d, w = _blocks(matcher) if hasattr(matcher, "_read_data") else _one_by_one(matcher)
        docs.append(d + offset)
        weights.append(w)
    if not docs:
        return Postings(np.zeros(0, np.int64), np.zeros(0, np.float64))
    return Postings(np.concatenate(docs), np.concatenate(weights))


def _blocks(m) -> tuple[np.ndarray, np.ndarray]:
    """A ``W3LeafMatcher``'s postings, a block (up to 128 postings) per step."""
    ids, weights = [], []
    while m.is_active():
        m._read_data()
        raw_ids, raw_weights = m._data[0], m._data[1]
        block = np.asarray(raw_ids, dtype=np.int64)
        if not m._byteids:
            block = np.cumsum(block)  # delta-coded
        ids.append(block)
        if raw_weights is None or isinstance(raw_weights, float):
            weights.append(np.full(len(block), 1.0 if raw_weights is None else raw_weights))
        else:
            weights.append(np.asarray(raw_weights, dtype=np.float64))
        m._next_block()
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def _decode_positions(reader, field: str, btext: bytes) -> Positions:
    """Whoosh keeps each posting's positions as a pickled list of gaps."""
    docs: list[np.ndarray] = []
    gaps: list[int] = []
    counts: list[int] = []
    for seg, offset in reader.leaf_readers():
        if (field, btext) not in seg:
            continue
        matcher = seg.postings(field, btext)
        if isinstance(matcher, FilterMatcher):
            matcher = matcher.child
        if not hasattr(matcher, "_read_data"):
            raise _Unsupported
        while matcher.is_active():
            matcher._read_data()
            raw_ids, values = matcher._data[0], matcher._data[2]
            block = np.asarray(raw_ids, dtype=np.int64)
            docs.append((block if matcher._byteids else np.cumsum(block)) + offset)
            for value in values:
                deltas = loads(value[4:] if value.endswith(b".") else value[4:] + b".")
                gaps.extend(deltas)
                counts.append(len(deltas))
            matcher._next_block()
    if not docs:
        return Positions(np.zeros(0, np.int64))
    counts_a = np.asarray(counts, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts_a)])
    running = np.cumsum(np.asarray(gaps, dtype=np.int64))
    # Gaps restart at every document: subtract the running sum before each one's first.
    before = np.concatenate([[0], running])[offsets[:-1]]
    positions = running - np.repeat(before, counts_a)
    return Positions(np.repeat(np.concatenate(docs), counts_a) * SPAN + positions)


def field_terms(reader, field: str):
    """Every term of ``field`` with the (global) numbers of the documents holding
    it, deleted ones included: ``{term bytes: int64 array}``, in term order.

    Reads each segment's term table in order instead of asking for every
    term's postings through the whole reader (Whoosh's way costs about 0.2 ms
    a term: 1.5 s for the dates and sources of 100,000 reports).
    """
    found: dict[bytes, list[np.ndarray]] = {}
    for seg, offset in reader.leaf_readers():
        if field not in seg.schema:
            continue
        terms = getattr(seg, "_terms", None)
        if terms is None or not hasattr(terms, "items_from") or not hasattr(terms, "_postfile"):
            for btext in seg.lexicon(field):  # another codec: the plain way
                ids = np.fromiter(seg.postings(field, btext).all_ids(), dtype=np.int64)
                found.setdefault(btext, []).append(ids + offset)
            continue
        from whoosh.codec.whoosh3 import W3LeafMatcher

        fmt = seg.schema[field].format
        for (name, btext), info in terms.items_from(field, b""):
            if name != field:
                break
            if info.is_inlined():
                ids = np.asarray(info.inlined_postings()[0], dtype=np.int64)
            else:
                ids = _blocks(W3LeafMatcher(terms._postfile, *info.extent(), fmt))[0]
            found.setdefault(btext, []).append(ids + offset)
    return {t: (v[0] if len(v) == 1 else np.concatenate(v)) for t, v in sorted(found.items())}


def _one_by_one(m) -> tuple[np.ndarray, np.ndarray]:
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def _segment_lengths(seg, field: str) -> np.ndarray:
    perdoc = getattr(seg, "_perdoc", None)
    raw = length_bytes(perdoc, field) if hasattr(perdoc, "_cached_reader") else None
    if raw is not None:
        return _LENGTHS[np.frombuffer(raw, dtype=np.uint8)]
    return np.array([seg.doc_field_length(d, field, 0) or 0 for d in range(seg.doc_count_all())],
                    dtype=np.float64)


class Evaluator:
    """Matches and scores queries on arrays for one searcher (one request)."""

    def __init__(self, searcher, cache: PostingCache) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.parent = searcher.get_parent()
        self.cache = cache
        self.n = cache.n

    # -- matching ---------------------------------------------------------------

    def mask(self, q: wq.Query) -> np.ndarray:
        """Documents matching ``q`` (deleted ones included: the caller masks them)."""
        if isinstance(q, wq.Term):
            return self._term_mask(q.fieldname, q.text)
        if FieldsTerm is not None and isinstance(q, FieldsTerm):
            out = np.zeros(self.n, dtype=bool)
            for field in q.fields:
                out |= self._term_mask(field, q.text)
            return out
        if isinstance(q, wq.And):
            return _reduce(np.logical_and, [self.mask(s) for s in q.subqueries], self.n, True)
        if isinstance(q, wq.Or):
            return _reduce(np.logical_or, [self.mask(s) for s in q.subqueries], self.n, False)
        if isinstance(q, wq.Not):
            return ~self.mask(q.query)
        if isinstance(q, wq.AndNot):
            return self.mask(q.a) & ~self.mask(q.b)
        if isinstance(q, wq.AndMaybe):
            return self.mask(q.a)
        if isinstance(q, wq.Require):
            return self.mask(q.a) & self.mask(q.b)
        if isinstance(q, wq.Phrase):
            docs = self._phrase_docs(q)
            if docs is not None:
                out = np.zeros(self.n, dtype=bool)
                out[docs] = True
                return out
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            return np.ones(self.n, dtype=bool)
        if isinstance(q, wq.NullQuery.__class__):
            return np.zeros(self.n, dtype=bool)
        out = np.zeros(self.n, dtype=bool)  # phrases, prefixes, ranges: Whoosh matches them
        out[np.fromiter(q.docs(self.searcher), dtype=np.int64)] = True
        return out

    def _postings(self, field: str, text) -> Postings | None:
        schema = self.searcher.schema
        if field not in schema:
            return None
        try:
            btext = schema[field].to_bytes(text)
        except ValueError:
            return None
        return self.cache.get(self.reader, field, btext)

    def _phrase_docs(self, q: wq.Phrase) -> np.ndarray | None:
        """Documents holding the words at consecutive positions (up to ``slop`` apart,
        in order, as Whoosh's ``SpanNear2``); None when Whoosh must do it."""
        field = q.fieldname
        schema = self.searcher.schema
        if field not in schema or not schema[field].format.supports("positions") or not 1 <= q.slop <= 8:
            return None
        try:
            btexts = [schema[field].to_bytes(w) for w in q.words]
        except ValueError:
            return np.zeros(0, np.int64)
        if not btexts:
            return None
        key = ("phrase", field, tuple(btexts), q.slop)
        found = self.cache.remembered(key)
        if found is None:
            found = self._match_phrase(field, btexts, q.slop)
            if found is None:
                return None
            self.cache.remember(key, found)
        return found

    def _match_phrase(self, field: str, btexts: list[bytes], slop: int) -> np.ndarray | None:
        postings = [self.cache.get(self.reader, field, b) for b in btexts]
        candidates = postings[0].docs
        for p in postings[1:]:
            candidates = np.intersect1d(candidates, p.docs, assume_unique=True)
        if not len(candidates):
            return candidates
        try:
            keys = [self.cache.positions(self.reader, field, b).keys for b in btexts]
        except _Unsupported:
            return None
        # The span so far is known by its last position: the next word must
        # follow it within ``slop`` (Whoosh's ordered SpanNear2 with mindist 1).
        ends = keys[0][np.isin(keys[0] // SPAN, candidates)]
        for following in keys[1:]:
            grown = [_members(ends + gap, following) for gap in range(1, slop + 1)]
            ends = grown[0] if slop == 1 else np.unique(np.concatenate(grown))
            if not len(ends):
                break
        return np.unique(ends // SPAN)

    def _term_mask(self, field: str, text) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        postings = self._postings(field, text)
        if postings is not None:
            out[postings.docs] = True
        return out

    # -- scoring ------------------------------------------------------------------

    def scores(self, q: wq.Query) -> np.ndarray | None:
        """Every document's score for ``q`` as Whoosh computes it, or None when
        ``q`` has a part scored only by Whoosh."""
        weighting = self.searcher.weighting
        if type(weighting) is not scoring.BM25F:
            return None
        try:
            return self._score(q, weighting)
        except _Unsupported:
            return None

    def _score(self, q: wq.Query, w) -> np.ndarray:
        if isinstance(q, wq.Term):
            return self._term_scores(q, w)
        if FieldsTerm is not None and isinstance(q, FieldsTerm):
            return self._fields_term_scores(q)
        if isinstance(q, wq.Or) and q.scale:
            raise _Unsupported  # Whoosh's CoordMatcher (not used by searchapp's queries)
        if isinstance(q, (wq.And, wq.Or)) and type(q).matcher is _COMPOUND_MATCHER:
            subs = q.subqueries
            if not subs:
                return np.zeros(self.n)
            if len(subs) == 1:
                return self._score(subs[0], w)  # Whoosh uses the one matcher as it is
            total = _sum([self._score(s, w) for s in subs], self.n)
            if q.boost != 1.0:
                total *= q.boost
            if isinstance(q, wq.And):
                total = np.where(_reduce(np.logical_and, [self.mask(s) for s in subs], self.n, True), total, 0.0)
            return total
        if isinstance(q, wq.AndNot):
            return np.where(self.mask(q.b), 0.0, self._score(q.a, w))
        if isinstance(q, wq.Phrase):
            # Whoosh scores a phrase as its words' terms together (SpanNear2 over an intersection).
            docs = self._phrase_docs(q)
            if docs is None:
                raise _Unsupported
            total = _sum([self._term_scores(wq.Term(q.fieldname, word), w) for word in q.words], self.n)
            out = np.zeros(self.n)
            out[docs] = total[docs] * q.boost
            return out
        raise _Unsupported

    def _term_scores(self, q: wq.Term, w) -> np.ndarray:
        field, out = q.fieldname, np.zeros(self.n)
        postings = self._postings(field, q.text)
        if postings is None or not len(postings.docs):
            return out
        tf = postings.weights
        if not self.searcher.schema[field].scorable:
            part = tf  # Whoosh's WeightScorer: the weight is the score
        else:
            btext = self.searcher.schema[field].to_bytes(q.text)
            idf = self.parent.idf(field, btext)
            avgfl = self.parent.avg_field_length(field) or 1
            B = w._field_B.get(field, w.B)
            fl = self.cache.lengths(self.reader, field)[postings.docs]
            part = idf * ((tf * (w.K1 + 1)) / (tf + w.K1 * ((1 - B) + B * fl / avgfl)))
        out[postings.docs] = part * q.boost if q.boost != 1.0 else part
        return out

    def _fields_term_scores(self, q) -> np.ndarray:
        from .schema import FIELD_BOOSTS

        tf = np.zeros(self.n)
        dfs = []
        for field in q.fields:
            postings = self._postings(field, q.text)
            dfs.append(self.cache.doc_frequency(self.parent, field, q.text))
            if postings is None or not len(postings.docs):
                continue
            avg = self.parent.avg_field_length(field) or 1.0
            length = self.cache.lengths(self.reader, field)[postings.docs]
            length = np.where(length > 0, length, 1.0)
            norm = 1 - ranking.B + ranking.B * length / avg
            tf[postings.docs] += FIELD_BOOSTS.get(field, 1.0) * postings.weights / norm
        held = np.flatnonzero(tf)  # saturate only where the word is, not over every document
        if not len(held):
            return tf
        weight = q.boost * ranking.idf(self.parent.doc_count_all(), max(dfs))
        t = tf[held]
        tf[held] = weight * t * (ranking.K1 + 1) / (t + ranking.K1)
        return tf


class _Unsupported(Exception):
    pass


_COMPOUND_MATCHER = wq.compound.CompoundQuery.matcher


def _members(wanted: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """The values of ``wanted`` found in ``sorted_keys``."""
    if not len(sorted_keys) or not len(wanted):
        return wanted[:0]
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return wanted[sorted_keys[at] == wanted]


def _reduce(op, arrays: list[np.ndarray], n: int, empty: bool) -> np.ndarray:
    if not arrays:
        return np.full(n, empty, dtype=bool)
    out = arrays[0].copy()
    for a in arrays[1:]:
        op(out, a, out=out)
    return out


def _sum(arrays: list[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n)
    for a in arrays:
        out += a
    return out
