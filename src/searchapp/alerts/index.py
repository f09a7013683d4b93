"""The index side of saved searches: what ``run`` and ``list`` call to count
and list the reports indexed between two markers (``SearchIndex.marker``)."""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

from ..errors import SavedSearchError
from ..results import Hit
from ..search import SearchIndex
from .run import MAX_LISTED, NewSince
from .store import SavedSearch


class NewHits(Sequence[Hit]):
    """The reports new for a saved search: their number, and the first ``listed`` of them, newest first."""

    def __init__(self, total: int, first: list[Hit]) -> None:
        self.total = total
        self._first = first

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, item):
        if isinstance(item, slice):  # only the listed ones
            return self._first[item]
        if not -len(self._first) <= item < len(self._first):
            raise IndexError(item)
        return self._first[item]


def marker_number(marker: str | None) -> int | None:
    """A stored marker as the index's number (None: none yet).

    :raises SavedSearchError: not a marker of this index.
    """
    if marker is None:
        return None
    if not marker.isdigit():
        raise SavedSearchError(f"the marker {marker!r} is not one of this index")
    return int(marker)


def current_marker(index: SearchIndex) -> str:
    return str(index.marker())


def index_new_since(index: SearchIndex, listed: int = MAX_LISTED) -> NewSince:
    """``new_since`` for ``run_alerts`` and ``alerts_list``, over ``index``."""
    def new_since(saved: SavedSearch, since: str | None, until: str) -> NewHits:
        stream = index.all_hits(saved.query, sort="newest", batch=listed, indexed_after=marker_number(since),
                                indexed_until=marker_number(until), **saved.search_kwargs())
        return NewHits(stream.total, list(itertools.islice(stream, listed)))
    return new_since


def check_search(index: SearchIndex):
    """The ``check`` of ``alerts_add``: the search runs once (a bad query is refused)."""
    def check(query: str, filters: Mapping[str, Any]) -> None:
        index.search(query, per_page=1, **filters)
    return check
