"""Reading one segment's postings, positions and field lengths as arrays.

Whoosh 2.7.4's W3 format read below its public API (issue 5): posting
blocks decoded a block at a time, pickled positions decoded into sorted
keys, a field's length column read whole. Everything here works on one
segment, in the segment's own document numbers: a segment never changes
once written (a commit adds segments, a merge replaces them, deletions are
kept apart), so what is decoded from it holds for every reader that
includes it (``cache.SegmentCache``). :func:`leaves` names each segment of
a reader with the offset of its first document.

The version check below stops an untested Whoosh before any of its private
names is imported; tests/test_postings.py compares what is decoded here with
Whoosh's own reader.
"""

from __future__ import annotations

from pickle import loads

import numpy as np
import whoosh

SUPPORTED_WHOOSH = (2, 7, 4)
if tuple(whoosh.__version__[:3]) != SUPPORTED_WHOOSH:  # pragma: no cover - an upgrade must be checked here
    raise ImportError(
        f"searchapp reads Whoosh {'.'.join(map(str, SUPPORTED_WHOOSH))}'s internal formats, but Whoosh "
        f"{'.'.join(map(str, whoosh.__version__[:3]))} is installed: install that version"
    )

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield  # noqa: E402 (after the version check)
from whoosh.matching.wrappers import FilterMatcher  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402

SPAN = np.int64(1 << 32)  # a position key: document * SPAN + position
LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
EMPTY_IDS = np.zeros(0, np.int64)
EMPTY_WEIGHTS = np.zeros(0, np.float64)


class Unsupported(Exception):
    """A reader or query this module cannot decode: the caller asks Whoosh."""


def leaves(reader) -> list[tuple[str | None, object, int]]:
    """Each segment of ``reader``: its id (None: a segment without one, never
    kept), its reader, and the reader-wide number of its first document."""
    return [(segment_id(seg), seg, offset) for seg, offset in reader.leaf_readers()]


def segment_id(seg) -> str | None:
    segment = seg.segment() if hasattr(seg, "segment") else None
    return segment.segment_id() if hasattr(segment, "segment_id") else None


# -- postings -----------------------------------------------------------------

def _matcher(seg, field: str, btext: bytes):
    """The segment's matcher of a term, deleted documents included, or None."""
    if (field, btext) not in seg:
        return None
    matcher = seg.postings(field, btext)
    if isinstance(matcher, FilterMatcher):  # deletions: the caller masks with the live documents
        matcher = matcher.child
    return matcher


def segment_postings(seg, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A term's document numbers in the segment (deleted ones included) and weights."""
    matcher = _matcher(seg, field, btext)
    if matcher is None:
        return EMPTY_IDS, EMPTY_WEIGHTS
    return blocks(matcher) if hasattr(matcher, "_read_data") else _one_by_one(matcher)


def _block_ids(m) -> np.ndarray:
    block = np.asarray(m._data[0], dtype=np.int64)
    return block if m._byteids else np.cumsum(block)  # delta-coded


def blocks(m) -> tuple[np.ndarray, np.ndarray]:
    """A ``W3LeafMatcher``'s postings, a block (up to 128 postings) per step."""
    ids, weights = [], []
    while m.is_active():
        m._read_data()
        block = _block_ids(m)
        ids.append(block)
        raw_weights = m._data[1]
        if raw_weights is None or isinstance(raw_weights, float):
            weights.append(np.full(len(block), 1.0 if raw_weights is None else raw_weights))
        else:
            weights.append(np.asarray(raw_weights, dtype=np.float64))
        m._next_block()
    if not ids:
        return EMPTY_IDS, EMPTY_WEIGHTS
    return np.concatenate(ids), np.concatenate(weights)


def _one_by_one(m) -> tuple[np.ndarray, np.ndarray]:
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def segment_positions(seg, field: str, btext: bytes) -> np.ndarray:
    """A term's positions in the segment as sorted keys ``document * SPAN + position``
    (Whoosh keeps each posting's positions as a pickled list of gaps).

    :raises Unsupported: a segment not in Whoosh's W3 format.
    """
    matcher = _matcher(seg, field, btext)
    if matcher is None:
        return EMPTY_IDS
    if not hasattr(matcher, "_read_data"):
        raise Unsupported(field)
    docs: list[np.ndarray] = []
    gaps: list[int] = []
    counts: list[int] = []
    while matcher.is_active():
        matcher._read_data()
        docs.append(_block_ids(matcher))
        for value in matcher._data[2]:
            deltas = loads(value[4:] if value.endswith(b".") else value[4:] + b".")
            gaps.extend(deltas)
            counts.append(len(deltas))
        matcher._next_block()
    if not docs:
        return EMPTY_IDS
    counts_a = np.asarray(counts, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts_a)])
    running = np.cumsum(np.asarray(gaps, dtype=np.int64))
    # Gaps restart at every document: subtract the running sum before each one's first.
    before = np.concatenate([[0], running])[offsets[:-1]]
    positions = running - np.repeat(before, counts_a)
    return np.repeat(np.concatenate(docs), counts_a) * SPAN + positions


# -- field lengths --------------------------------------------------------------

def length_bytes(perdoc, fieldname: str) -> bytes | None:
    """Each document's field length as Whoosh quantises it to a byte (0: none),
    read in one go from a segment's per-document reader; None without lengths."""
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    raw = column._dbfile.get(column._basepos, column._count)
    return raw + bytes(column._doccount - column._count)


def segment_lengths(seg, field: str) -> np.ndarray:
    """Every document's length in ``field`` in the segment, as Whoosh scores it."""
    perdoc = getattr(seg, "_perdoc", None)
    raw = length_bytes(perdoc, field) if hasattr(perdoc, "_cached_reader") else None
    if raw is not None:
        return LENGTHS[np.frombuffer(raw, dtype=np.uint8)]
    return np.array([seg.doc_field_length(d, field, 0) or 0 for d in range(seg.doc_count_all())],
                    dtype=np.float64)
