"""Issue 14, inside the Whoosh engine: every hit of a search in order (deep
paging and exports), the reports indexed between two markers (alerts), and the
matched mask handed to ``timeline`` (sources over time).

Markers: each report carries the ``indexed`` term the indexer wrote (the
commit counter of the generation's meta, zero-padded); the marker of a reader
is the largest of them, so a reader and its marker never disagree.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from . import whoosh_internals as wi
from .state import ReaderState

MARKS_KEY = ("issue14", "indexed-marks")
NO_MARK = 0


def indexed_marks(reader, state: ReaderState) -> np.ndarray:
    """Each document's ``indexed`` marker as a number (0: none, an index built before markers)."""
    found = state.postings.remembered(MARKS_KEY)
    if found is None:
        found = np.zeros(state.n, dtype=np.int64)
        if "indexed" in reader.schema:
            for term, ids in wi.field_terms(reader, "indexed").items():
                text = term.decode("ascii", "replace")
                if text.isdigit():
                    found[ids] = int(text)
        state.postings.remember(MARKS_KEY, found)
    return found


def marker_of(reader, state: ReaderState) -> int:
    """The reader's marker: the largest marker of a live report (0 when there is none)."""
    marks = indexed_marks(reader, state)[state.live]
    return int(marks.max()) if marks.size else NO_MARK


def indexed_mask(reader, state: ReaderState, after: int | None, until: int | None) -> np.ndarray:
    """Documents whose marker is above ``after`` and at most ``until`` (None: no bound)."""
    marks = indexed_marks(reader, state)
    mask = np.ones(state.n, dtype=bool)
    if after is not None:
        mask &= marks > after
    if until is not None:
        mask &= marks <= until
    return mask


def order_all(state: ReaderState, docs: np.ndarray, scores: np.ndarray | None, newest: bool) -> np.ndarray:
    """Every document of ``docs`` in result order: by score (to 6 decimals, then
    newest, then document order) when ``scores`` are given, else by date
    (undated last, ties in document order)."""
    days = state.day[docs].astype(np.int64)
    if scores is not None:
        return docs[np.lexsort((docs, -days, -np.round(scores[docs], 6)))]
    key = np.where(days == 0, np.iinfo(np.int64).max, -days if newest else days)
    return docs[np.argsort(key, kind="stable")]


def batches(searcher, docs: np.ndarray, scores: np.ndarray | None, start: int, size: int
            ) -> Iterator[tuple[tuple[dict, float | None], ...]]:
    """The stored fields of ``docs[start:]``, ``size`` at a time, closing ``searcher`` at the end."""
    try:
        for at in range(start, len(docs), size):
            chunk = docs[at:at + size]
            yield tuple((searcher.stored_fields(int(d)), None if scores is None else float(scores[d]))
                        for d in chunk)
    finally:
        searcher.close()
