"""Whoosh's private API for opening, writing positions, term tables and query expansion.

Whoosh 2.7.4 is read and written below its public API for speed (issue 5):
segment term tables walked in order, a codec that looks lengths up once,
positions encoded as Whoosh stores them, deletions read whole, and the
query parser's term expansion hooks. Three sibling modules know the rest:
:mod:`.whoosh_postings` decodes a segment's postings, positions and field
lengths (and holds the version check, which stops an untested Whoosh), and
:mod:`.whoosh_writer` the private writing API (segment writers and their
commit, as Whoosh's own ``multiproc.py`` uses it). An upgrade of Whoosh is a
change to these ``whoosh_*`` modules only; tests/test_postings.py compares
what is decoded with Whoosh's own reader.
"""

from __future__ import annotations

import re
import struct
import threading
from functools import lru_cache
from pickle import UnpicklingError, dumps

import numpy as np

from .whoosh_postings import blocks, length_bytes, segment_id  # first: its version check
from whoosh import query as wq  # noqa: E402 (after the version check), and below
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3TermsReader
from whoosh.filedb.filestore import FileStorage
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length

from ..errors import QueryError, SchemaVersionError

_LENGTH_LIST = [None] + [byte_to_length(b) for b in range(1, 256)]  # a zero byte: no length, as Whoosh's


# -- opening ------------------------------------------------------------------

UNPICKLING_ERRORS = (AttributeError, ImportError, UnpicklingError)


def open_index(path, index_dir: str, expected_version: int, open_first=None):
    """Whoosh's index in ``path`` read without memory maps (Whoosh copies a
    memory-mapped compound segment's postings into memory once per searcher).

    :param open_first: called first (the store's checked open), inside the same guard.
    :raises SchemaVersionError: the index pickles a class this searchapp no
        longer has (renamed or moved): it needs a full rebuild.
    """
    try:
        if open_first is not None:
            path = open_first()
        return FileStorage(str(path), supports_mmap=False).open_index(), path
    except UNPICKLING_ERRORS as e:
        missing = str(e).split("\n")[0][:100] or type(e).__name__
        raise SchemaVersionError(index_dir, f"unknown (it names what this searchapp no longer has: {missing})",
                                 expected_version) from e


# -- the codec ------------------------------------------------------------------

class IndexCodec(W3Codec):
    """Whoosh's W3 codec, writing the same files faster (issue 5).

    At commit Whoosh looks up the field length of every posting it writes
    with a seek and a one-byte read (a quarter of the commit); here each
    field's lengths are read once. Whoosh pickles the codec into the index
    as ``searchapp.schema.IndexCodec``: that name stays importable.
    """

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)


IndexCodec.__module__ = "searchapp.schema"  # the name pickled into existing indexes


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        super().add_postings(schema, _LoadedLengths(lengths) if lengths else None, items)


class _LoadedLengths:
    """``doc_field_length`` of Whoosh's per-document reader, from the columns read whole."""

    def __init__(self, reader) -> None:
        self._reader = reader
        self._fields: dict[str, list] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        values = self._fields.get(fieldname)
        if values is None:
            raw = length_bytes(self._reader, fieldname)
            values = self._fields[fieldname] = [_LENGTH_LIST[b] for b in raw] if raw is not None else []
        return values[docnum] if values else default


# -- writing positions, term tables, deletions ------------------------------------------

def encode_positions(positions: list[int]) -> bytes:
    """One posting's positions as Whoosh's ``Positions`` format stores them
    (a count, then the pickled gaps); what ``whoosh_postings.segment_positions`` reads."""
    if len(positions) == 1:  # most terms: one position, its bytes made once
        return _one_position(positions[0])
    deltas = [b - a for a, b in zip([0, *positions], positions)]
    return pack_uint(len(deltas)) + dumps(deltas, 2)


@lru_cache(maxsize=100_000)
def _one_position(pos: int) -> bytes:
    return pack_uint(1) + dumps([pos], 2)


def field_terms(reader, field: str) -> dict[bytes, np.ndarray]:
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
        for btext, ids in _segment_terms(seg, field):
            found.setdefault(btext, []).append(ids + offset)
    return {t: (v[0] if len(v) == 1 else np.concatenate(v)) for t, v in sorted(found.items())}


def _segment_terms(seg, field: str):
    terms = getattr(seg, "_terms", None)
    if terms is None or not hasattr(terms, "items_from") or not hasattr(terms, "_postfile"):
        for btext in seg.lexicon(field):  # another codec: the plain way
            yield btext, np.fromiter(seg.postings(field, btext).all_ids(), dtype=np.int64)
        return
    fmt = seg.schema[field].format
    for (name, btext), info in terms.items_from(field, b""):
        if name != field:
            break
        if info.is_inlined():
            yield btext, np.asarray(info.inlined_postings()[0], dtype=np.int64)
        else:
            yield btext, blocks(W3LeafMatcher(terms._postfile, *info.extent(), fmt))[0]


def unique_docs(reader, field: str) -> dict[str, int]:
    """Each term of ``field`` (an ID field) held by a live document, with the
    first live document holding it, as ``searcher.document_number`` finds it.

    A term of one document keeps that document's number in its term info's
    header (its first id), read there raw without unpickling the postings:
    about 2 microseconds a term instead of 30 (``field_terms``).
    """
    live = live_mask(reader).tolist()
    found: dict[str, int] = {}
    for seg, offset in reader.leaf_readers():  # in document order
        if field in seg.schema:
            for btext, docnum in _segment_docs(seg, field):
                docnum += offset
                if live[docnum]:
                    found.setdefault(btext.decode("utf-8"), docnum)
    return found


_TERM_HEAD = struct.Struct("!BfIBBfII")  # W3TermInfo's header: flags, weight, df, lengths, weight, first id, last id
_ITEM_LENGTHS = struct.Struct("!ii")  # a key and value's lengths in an ordered hash file
_CHUNK = 1 << 20


def _segment_docs(seg, field: str):
    """``(term, document)`` for each document of each term of ``field`` in ``seg``."""
    terms = getattr(seg, "_terms", None)
    table = getattr(terms, "_tindex", None)
    if not isinstance(terms, W3TermsReader) or not all(
            hasattr(table, a) for a in ("closest_key_pos", "endofdata", "dbfile")):  # another codec
        for btext, ids in _segment_terms(seg, field):
            yield from ((btext, int(d)) for d in ids)
        return
    prefix = terms._keycoder(field, b"")
    pos = table.closest_key_pos(prefix)
    end, buf, at = table.endofdata, b"", 0
    while pos is not None and pos + at < end:
        if at + _ITEM_LENGTHS.size > len(buf):  # read on a chunk at a time
            pos, buf, at = pos + at, table.dbfile.get(pos + at, min(_CHUNK, end - pos - at)), 0
        keylen, datalen = _ITEM_LENGTHS.unpack_from(buf, at)
        size = _ITEM_LENGTHS.size + keylen + datalen
        if at + size > len(buf):
            pos, buf, at = pos + at, table.dbfile.get(pos + at, min(max(_CHUNK, size), end - pos - at)), 0
        key = buf[at + _ITEM_LENGTHS.size:at + _ITEM_LENGTHS.size + keylen]
        if key[:len(prefix)] != prefix:
            return
        head = _TERM_HEAD.unpack_from(buf, at + _ITEM_LENGTHS.size + keylen)
        if head[2] == 1:
            yield key[len(prefix):], head[6]
        else:
            for d in seg.postings(field, key[len(prefix):]).all_ids():
                yield key[len(prefix):], d
        at += size


def live_mask(reader) -> np.ndarray:
    """True for each document of the reader that is not deleted."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    for seg, offset in reader.leaf_readers():
        if seg.has_deletions():
            segment = seg.segment() if hasattr(seg, "segment") else None
            if segment is not None and hasattr(segment, "deleted_docs"):
                deleted = np.fromiter(segment.deleted_docs(), dtype=np.int64)
            else:  # another reader: ask document by document
                deleted = np.array([d for d in range(seg.doc_count_all()) if seg.is_deleted(d)], np.int64)
            live[deleted + offset] = False
    return live


def reader_key(reader) -> tuple[int, str]:
    """The index state a reader shows: its commit number, and its segments and size."""
    segments = [segment_id(seg) or "?" for seg, _ in reader.leaf_readers()]
    generation = reader.generation()
    return (generation if isinstance(generation, int) else -1,
            f"{generation}:{reader.doc_count_all()}:{','.join(segments)}")


# -- the parser's expansion hooks ---------------------------------------------------

def pattern_words(q: wq.Query, reader, limit: int, vocabulary=None) -> list[bytes]:
    """The words a prefix, wildcard or term range stands for in ``reader``.

    :param vocabulary: ``field -> every word``, for a leading wildcard (default: read from ``reader``).

    :raises QueryError: more than ``limit`` words: the message says what to narrow.
    """
    if isinstance(q, wq.Wildcard) and not q._find_prefix(q.text):
        pattern = re.compile(q._get_pattern())
        words = (vocabulary or (lambda field: _vocabulary(reader, field)))(q.fieldname)
        found = (w.encode("utf-8") for w in words if pattern.match(w))
    else:
        found = super(_Bounded, q)._btexts(reader) if isinstance(q, _Bounded) else q._btexts(reader)
    out: list[bytes] = []
    for btext in found:
        if len(out) >= limit:
            raise QueryError(f"{describe(q)} matches more than {limit} words: {_narrow(q)}")
        out.append(btext)
    return out


def describe(q: wq.Query) -> str:
    if isinstance(q, wq.TermRange):
        return f"the range [{q.start or '*'} TO {q.end or '*'}] in {q.fieldname}"
    return repr(q.text + ("*" if isinstance(q, wq.Prefix) else ""))


def _narrow(q: wq.Query) -> str:
    return "narrow the range" if isinstance(q, wq.TermRange) else "make it longer"


def vocabulary(reader, field: str) -> list[str]:
    """Every word of a text field."""
    return [btext.decode("utf-8") for btext in reader.lexicon(field)]


def field_words(reader, field: str) -> frozenset[str]:
    """Every word of ``field`` in the reader: a set per segment, each walked once
    (segments never change: after a commit only the new ones are read), joined
    once per set of segments.

    Did-you-mean tests its ~300 candidates a word against it before asking
    Whoosh's on-disk hash, which costs ~25 us a word and segment.
    """
    segments = [seg for seg, _ in reader.leaf_readers() if field in seg.schema]
    ids = tuple(segment_id(seg) for seg in segments)
    joined = _JOINED.get((field, ids))
    if joined is None:
        joined = frozenset().union(*(_segment_words(seg, field) for seg in segments))
        _kept(_JOINED, (field, ids), joined, 4)
    return joined


def _segment_words(seg, field: str) -> frozenset[str]:
    key = (segment_id(seg), field)
    words = _WORDS.get(key)
    if words is None:
        words = frozenset(vocabulary(seg, field))
        _kept(_WORDS, key, words, 64)
    return words


def _kept(cache: dict, key: tuple, value, most: int) -> None:
    if any(part is None or (isinstance(part, tuple) and None in part) for part in key):
        return  # a segment without an id (another codec): not kept
    with _KEPT_LOCK:  # server threads fill these at once
        while len(cache) >= most:
            cache.pop(next(iter(cache)))
        cache[key] = value


_KEPT_LOCK = threading.Lock()


_WORDS: dict[tuple, frozenset[str]] = {}  # (segment id, field)
_JOINED: dict[tuple, frozenset[str]] = {}  # (field, segment ids)


def _vocabulary(reader, field: str) -> list[str]:
    """Every word of a text field, kept with the reader (Whoosh's own matching of a pattern)."""
    cache = getattr(reader, "_searchapp_vocabulary", None)
    if cache is None:
        cache = reader._searchapp_vocabulary = {}
    words = cache.get(field)
    if words is None:
        words = cache[field] = vocabulary(reader, field)
    return words


class _Bounded:
    """A pattern that stands for at most ``max_words`` words, found once per
    reader (Whoosh looks them up again at each use, each time walking the
    whole vocabulary for a leading wildcard, at ~20 us a word)."""

    max_words = 1000

    def _btexts(self, ixreader):
        memo = self.__dict__.setdefault("_memo", {})
        words = memo.get(id(ixreader))
        if words is None:
            words = memo[id(ixreader)] = pattern_words(self, ixreader, self.max_words)
        return iter(words)


class BoundedPrefix(_Bounded, wq.Prefix):
    pass


class BoundedWildcard(_Bounded, wq.Wildcard):
    pass


class BoundedTermRange(_Bounded, wq.TermRange):
    pass


def bounded(q: wq.Query, max_words: int) -> wq.Query:
    """``q`` as its bounded kind when it is a plain prefix, wildcard or term range."""
    kinds = {wq.Prefix: BoundedPrefix, wq.Wildcard: BoundedWildcard}
    if type(q) in kinds:
        out = kinds[type(q)](q.fieldname, q.text, boost=q.boost, constantscore=q.constantscore)
    elif type(q) is wq.TermRange:
        out = BoundedTermRange(q.fieldname, q.start, q.end, q.startexcl, q.endexcl, boost=q.boost)
    else:
        return q
    out.max_words = max_words
    return out

