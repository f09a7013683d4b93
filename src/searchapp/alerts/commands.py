"""The library side of ``searchapp alerts list|add|remove|run``: each returns
a value with ``to_dict()`` (for ``--json``) and ``to_text()`` (for the terminal).

The click commands and the web page are thin layers over these; every name,
query and report title is shown through ``shown()`` in text, escaped by
``json`` in JSON (and by the templates on the page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import SearchAppError
from .run import NewSince, RunReport, run_alerts
from .store import AlertStore, SavedSearch
from .text import shown

__all__ = ["Listing", "alerts_add", "alerts_list", "alerts_remove", "alerts_run", "describe"]


@dataclass(frozen=True)
class ListedSearch:
    saved: SavedSearch
    new: int | None = None  # "N new since you last looked"; None: not counted
    error: str | None = None  # counting failed (a query that no longer parses)

    def to_dict(self) -> dict[str, Any]:
        return {**self.saved.to_dict(), "new": self.new, "error": self.error}


@dataclass(frozen=True)
class Listing:
    items: tuple[ListedSearch, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"saved_searches": [item.to_dict() for item in self.items]}

    def to_text(self) -> str:
        if not self.items:
            return "no saved searches\n"
        lines = []
        for item in self.items:
            count = f"error: {shown(item.error)}" if item.error else (
                "" if item.new is None else f"{item.new} new since last looked")
            lines.append(f"{describe(item.saved)}" + (f"  ({count})" if count else ""))
        return "\n".join(lines) + "\n"


def describe(saved: SavedSearch) -> str:
    """One line for a saved search: name, query and filters, made printable."""
    filters = " ".join(f"{key}={shown(','.join(v) if isinstance(v, list) else v)}"
                       for key, v in saved.filters.items())
    return f"{shown(saved.name)}: {shown(saved.query) or '(every report)'}" + (f"  [{filters}]" if filters else "")


def alerts_list(store: AlertStore, new_since: NewSince | None = None, marker: str | None = None) -> Listing:
    """Every saved search, with the count of reports new since it was last looked
    at when ``new_since`` and the current ``marker`` are given."""
    items = []
    for saved in store.list():
        if new_since is None or marker is None:
            items.append(ListedSearch(saved))
            continue
        try:
            items.append(ListedSearch(saved, new=len(new_since(saved, saved.seen_marker, marker))))
        except SearchAppError as e:
            items.append(ListedSearch(saved, error=str(e)))
    return Listing(tuple(items))


def alerts_add(store: AlertStore, name: str, query: str, filters: Mapping[str, Any] | None = None,
               marker: str | None = None, check: Callable[[str, Mapping[str, Any]], object] | None = None
               ) -> SavedSearch:
    """Save a search from now on (``marker``: the index's current one).

    :param check: called with the query and filters before saving, e.g. a search
        of one hit, so a query that does not parse is refused with its error.
    :raises SavedSearchError: a bad name or filter, or the name is taken.
    """
    if check is not None:
        check(query, dict(filters or {}))
    return store.add(name, query, filters, marker=marker)


def alerts_remove(store: AlertStore, name: str) -> SavedSearch:
    """:raises SavedSearchError: no saved search of that name."""
    return store.remove(name)


def alerts_run(store: AlertStore, new_since: NewSince, marker: str, deliveries=(), **kwargs) -> RunReport:
    """See ``run.run_alerts``."""
    return run_alerts(store, new_since, marker, deliveries, **kwargs)
