"""Issue 14: the index marker alerts and "new since you last looked" count from.

Every commit that writes reports takes the next number of a counter kept in
the generation's meta (``commits``); a full rebuild continues from the live
generation's, so the counter never goes back. Each report is written with the
``indexed`` term of the commit that first indexed it (zero-padded, so terms
sort as numbers): a full rebuild keeps the marker of every report id the live
index already held, so rebuilding announces nothing old as new.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import store
from .engine import whoosh_internals as wi

WIDTH = 12
META_KEY = "commits"


def marker_text(number: int) -> str:
    """A commit number as text that sorts as the number does (an ``ID`` field).

    >>> marker_text(7)
    '000000000007'
    """
    return f"{number:0{WIDTH}d}"


def next_commit(gen_dir: Path | None) -> int:
    """The counter of the next commit after the generation ``gen_dir`` (None: no index yet)."""
    if gen_dir is None:
        return 1
    value = store.read_meta(gen_dir).get(META_KEY, 0)
    return (value if isinstance(value, int) and value >= 0 else 0) + 1


def previous_marks(index_dir: Path) -> dict[str, str]:
    """Report id -> ``indexed`` term of the live generation (empty when there is none
    or it predates markers); read from the term tables, not the stored fields."""
    try:
        ix, _ = store.open_generation(index_dir)
    except Exception:  # no usable index: every report is new
        return {}
    try:
        with ix.reader() as reader:
            if "indexed" not in reader.schema:
                return {}
            live = wi.live_mask(reader)
            mark = np.zeros(reader.doc_count_all(), dtype=np.int64)
            for term, ids in wi.field_terms(reader, "indexed").items():
                if term.isdigit():
                    mark[ids] = int(term)
            out = {}
            for term, ids in wi.field_terms(reader, "id").items():
                ids = ids[live[ids] & (mark[ids] > 0)]
                if len(ids):
                    out[term.decode("utf-8")] = marker_text(int(mark[ids[-1]]))
            return out
    finally:
        ix.close()


class MarkingWriter:
    """Wraps an index writer: each added report gets its ``indexed`` marker
    (the one in ``kept`` for its id, else ``marker``)."""

    def __init__(self, writer, marker: int, kept: dict[str, str] | None = None) -> None:
        self._writer = writer
        self._marker = marker_text(marker)
        self._kept = kept or {}

    def add_document(self, **fields) -> None:
        fields["indexed"] = self._kept.get(fields.get("id"), self._marker)
        self._writer.add_document(**fields)

    def __getattr__(self, name):
        return getattr(self._writer, name)
