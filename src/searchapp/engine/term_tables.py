"""The facet fields' terms of each segment, kept beside the index by segment.

A reader's state (``state.ReaderState``) starts from every term of its facet
fields with the documents holding it (``whoosh_internals.field_terms``).
Reading them from the postings costs about 1.5 s at 100,000 reports, and an
incremental commit adds one small segment to large ones that did not change:
a segment's terms and postings never change (a deletion is kept apart, in the
table of contents), so what was read of a segment once is kept in
``terms-<segment id>.npz`` and read back from there. :func:`field_terms`
gives exactly what ``whoosh_internals.field_terms`` gives (it combines the
segments' tables the same way), from the kept tables where it can.

Only the indexer writes them (``writable``), at each commit; the tables of
segments no longer in the index are removed then. A table that does not fit
its segment (another document count) is read again.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import store
from . import whoosh_internals as wi
from .whoosh_postings import segment_id

PREFIX = "terms-"
_NAME_RE = re.compile(rf"^{PREFIX}(\w+)\.npz$")
_VERSION = 1

SegmentTable = dict[str, list[tuple[bytes, np.ndarray]]]  # field -> (term, segment's document numbers)


class TermTables:
    """The per-segment term tables of one reader's segments, for ``fields``.

    :param folder: where the tables are kept (None: read from the postings each time).
    :param writable: write the tables of segments read from the postings, and
        remove those of segments the reader no longer has (the indexer's call).
    """

    def __init__(self, reader, fields: tuple[str, ...], folder: Path | None, writable: bool = False) -> None:
        self._reader = reader
        self._leaves = list(reader.leaf_readers())
        self._tables: list[SegmentTable] = []
        for seg, _ in self._leaves:
            ident = segment_id(seg)
            table = _load(folder, ident, seg.doc_count_all(), fields) if folder is not None and ident else None
            if table is None:
                table = {field: list(wi.field_terms(seg, field).items()) for field in fields}
                if writable and folder is not None and ident:
                    _save(folder, ident, seg.doc_count_all(), table)
            self._tables.append(table)
        if writable and folder is not None:
            _remove_others(folder, {segment_id(seg) for seg, _ in self._leaves})

    def field_terms(self, field: str) -> dict[bytes, np.ndarray]:
        """``whoosh_internals.field_terms(reader, field)``: each term with the
        global numbers of the documents holding it (deleted ones included), in term order."""
        found: dict[bytes, list[np.ndarray]] = {}
        for (_, offset), table in zip(self._leaves, self._tables):
            for btext, ids in table[field]:
                found.setdefault(btext, []).append(ids + offset)
        return {t: (v[0] if len(v) == 1 else np.concatenate(v)) for t, v in sorted(found.items())}


def _path(folder: Path, ident: str) -> Path:
    return folder / f"{PREFIX}{ident}.npz"


def _save(folder: Path, ident: str, docs: int, table: SegmentTable) -> None:
    arrays = {"meta": np.array([_VERSION, docs], dtype=np.int64)}
    for field, items in table.items():
        terms = [t for t, _ in items]
        arrays[f"{field}.ends"] = np.cumsum([len(t) for t in terms], dtype=np.int64).reshape(len(terms))
        arrays[f"{field}.blob"] = np.frombuffer(b"".join(terms), dtype=np.uint8)
        arrays[f"{field}.counts"] = np.array([len(ids) for _, ids in items], dtype=np.int64).reshape(len(items))
        arrays[f"{field}.ids"] = (np.concatenate([ids for _, ids in items]) if items
                                  else np.zeros(0, np.int64)).astype(np.int32)
    try:
        store.atomic_write(_path(folder, ident), lambda fh: np.savez(fh, **arrays))
    except OSError:  # a read-only index: read from the postings next time
        pass


def _load(folder: Path, ident: str, docs: int, fields: tuple[str, ...]) -> SegmentTable | None:
    """The kept table of segment ``ident`` (``docs`` documents), or None."""
    try:
        with np.load(_path(folder, ident), allow_pickle=False) as data:
            if data["meta"].tolist() != [_VERSION, docs]:
                return None
            table: SegmentTable = {}
            for field in fields:
                blob, ends = data[f"{field}.blob"].tobytes(), data[f"{field}.ends"].tolist()
                counts = data[f"{field}.counts"]
                ids = np.split(data[f"{field}.ids"].astype(np.int64), np.cumsum(counts)[:-1].tolist())
                starts = [0, *ends[:-1]]
                table[field] = [(blob[a:b], part) for a, b, part in zip(starts, ends, ids)] if ends else []
            return table
    except (OSError, KeyError, ValueError):
        return None


def _remove_others(folder: Path, kept: set[str | None]) -> None:
    """Delete the tables of segments not in ``kept`` (merged away or dropped)."""
    for path in folder.glob(f"{PREFIX}*.npz"):
        m = _NAME_RE.match(path.name)
        if m and m.group(1) not in kept:
            path.unlink(missing_ok=True)
