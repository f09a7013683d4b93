"""The search state of a request: read and checked from the query string, and
turned back into URLs (facet toggles, chips, paging).

Every state is a relative ``/search?...`` URL built from checked values, so a
link can never point off the site.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import url_for

from ..errors import QueryError
from ..schema import FACET_FIELDS

MAX_FILTER_VALUES = 50  # values of one facet per request
# The facets a request filters by, as query parameters: the core's facets, by their names.
FACETS = tuple(f.name for f in FACET_FIELDS)
# On/off switches, as ``name=1`` in the URL: (parameter, the core's keyword, default).
SWITCHES = (("curated", "curated_only", False), ("undated", "undated", False), ("collapse", "collapse", True))


@dataclass(frozen=True)
class SearchParams:
    """The checked parameters of a search: ``q``, the :data:`FACETS` (``source``,
    ``topic``, ``language``, ``person``, ``org``, ``place``), ``from``, ``to``, the
    :data:`SWITCHES` (``curated=1``: curated values only; ``undated=1``: undated
    reports only; ``collapse=0``: every near-duplicate shown), ``group`` (one
    near-duplicate group), ``sort``, ``page``, ``per_page``.

    ``per_page`` is None when the request did not ask for a page size (the
    setting applies and URLs leave it out).
    """

    q: str = ""
    source: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    person: tuple[str, ...] = ()
    org: tuple[str, ...] = ()
    place: tuple[str, ...] = ()
    curated: bool = False
    undated: bool = False
    collapse: bool = True
    group: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: str = "relevance"
    page: int = 1
    per_page: int | None = None

    # -- reading ---------------------------------------------------------------

    @classmethod
    def from_args(cls, args, *, max_query_length: int, max_per_page: int) -> "SearchParams":
        """Read the query string (a werkzeug ``MultiDict``), checking the server's own limits.

        :raises QueryError: a parameter is not a number, or over a limit of the settings.
        """
        q = _single(args, "q")
        if len(q) > max_query_length:
            raise QueryError(f"the query is too long: {len(q)} characters, the limit is {max_query_length}")
        facets = {name: _multi(args, name, max_query_length) for name in FACETS}
        switches = {name: _switch(args, name, default) for name, _, default in SWITCHES}
        group = _single(args, "group").strip()
        if len(group) > max_query_length:
            raise QueryError(f"the group is too long: {len(group)} characters, the limit is {max_query_length}")
        # The sort, the page and the dates are checked by the core, once; here
        # only what the core cannot know: this server's own limits (settings).
        per_page = _number(args, "per_page", default=None)
        if per_page is not None and not 1 <= per_page <= max_per_page:
            raise QueryError(f"per_page must be between 1 and {max_per_page}, got {per_page}")
        return cls(
            q=q.strip(), **facets, **switches, group=group,
            date_from=_single(args, "from"), date_to=_single(args, "to"),
            sort=_single(args, "sort") or "relevance", page=_number(args, "page", default=1), per_page=per_page,
        )

    def search_kwargs(self, default_per_page: int) -> dict[str, Any]:
        """Keyword arguments for ``SearchIndex.search``."""
        return {
            **{name: list(getattr(self, name)) for name in FACETS},
            **{keyword: getattr(self, name) for name, keyword, _ in SWITCHES},
            "group": self.group or None,
            "date_from": self.date_from or None, "date_to": self.date_to or None,
            "sort": self.sort, "page": self.page,
            "per_page": self.per_page or default_per_page,
        }

    @property
    def has_filters(self) -> bool:
        """Whether anything narrows the reports (``curated`` and ``collapse`` only change how they count and show)."""
        return bool(any(getattr(self, name) for name in FACETS) or self.date_from or self.date_to
                    or self.undated or self.group)

    def without_filters(self) -> "SearchParams":
        """This state with every filter removed (the query, sort and switches kept)."""
        return self.changed(**{name: () for name in FACETS}, date_from="", date_to="", undated=False, group="")

    @property
    def is_search(self) -> bool:
        """Whether this is a search at all (not a bare visit to the home page)."""
        return bool(self.q or self.has_filters)

    # -- writing ---------------------------------------------------------------

    def pairs(self, *, with_page: bool = True) -> list[tuple[str, str]]:
        """The query-string pairs of this state, defaults left out."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for name in FACETS:
            out += [(name, v) for v in getattr(self, name)]
        for name, _, default in SWITCHES:
            if getattr(self, name) != default:
                out.append((name, "1" if getattr(self, name) else "0"))
        if self.group:
            out.append(("group", self.group))
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if with_page and self.page != 1:
            out.append(("page", str(self.page)))
        if self.per_page is not None:
            out.append(("per_page", str(self.per_page)))
        return out

    def url(self, **changes: Any) -> str:
        """The relative URL of this state with ``changes``; a filter change goes back to page 1."""
        state = self.changed(**changes)
        query = urlencode(state.pairs())
        return url_for("ui.search") + (f"?{query}" if query else "")

    def changed(self, **changes: Any) -> "SearchParams":
        if changes and "page" not in changes:
            changes["page"] = 1  # a new query, filter or order starts at the first page
        return replace(self, **changes)

    def toggle(self, facet: str, value: str) -> str:
        """URL with ``value`` of ``facet`` (one of :data:`FACETS`) added or removed."""
        current: tuple[str, ...] = getattr(self, facet)
        values = tuple(v for v in current if v != value) if value in current else current + (value,)
        return self.url(**{facet: values})

    def only(self, facet: str, value: str) -> str:
        """URL that adds ``value`` to ``facet`` (a topic or source link in a result)."""
        current: tuple[str, ...] = getattr(self, facet)
        return self.url(**{facet: current if value in current else current + (value,)})

    def report_url(self, report_id: str) -> str:
        """The report page, carrying this search state so it can link back."""
        query = urlencode(self.pairs())
        return url_for("ui.report", report_id=report_id) + (f"?{query}" if query else "")

    def api_url(self) -> str:
        """This search in the JSON API."""
        query = urlencode(self.pairs())
        return url_for("api.search") + (f"?{query}" if query else "")

    def page_url(self, page: int) -> str:
        return self.url(page=page)


# Each facet is a field of SearchParams, read by name by the pages and views:
# a facet added to the core must be added above, or nothing of the web starts.
_MISSING = set(FACETS) - {f.name for f in fields(SearchParams) if f.default == ()}
if _MISSING:
    raise TypeError(f"SearchParams has no field for the facet(s) {', '.join(sorted(_MISSING))}")


def _single(args: Mapping, name: str) -> str:
    value = args.get(name, "")
    return value if isinstance(value, str) else ""


def _multi(args, name: str, max_length: int) -> tuple[str, ...]:
    values = [v.strip() for v in args.getlist(name) if v.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise QueryError(f"too many {name} filters: {len(values)}, the limit is {MAX_FILTER_VALUES}")
    for v in values:
        if len(v) > max_length:
            raise QueryError(f"a {name} filter is too long: {len(v)} characters, the limit is {max_length}")
    return tuple(dict.fromkeys(values))  # in order, without repeats


def _switch(args, name: str, default: bool) -> bool:
    """``name=1`` (or ``true``, ``on``, ``yes``) or ``name=0`` (``false``, ``off``, ``no``); absent: ``default``.

    :raises QueryError: another value.
    """
    raw = _single(args, name).strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "on", "yes"):
        return True
    if raw in ("0", "false", "off", "no"):
        return False
    raise QueryError(f"{name} must be 1 or 0, got {raw[:40]!r}")


def _number(args, name: str, default: int | None) -> int | None:
    raw = _single(args, name).strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit() or raw.count("-") > 1:
        raise QueryError(f"{name} must be a whole number, got {raw[:40]!r}")
    if len(raw.lstrip("-")) > 9:
        raise QueryError(f"{name} is too large: {raw[:40]}")
    return int(raw)
