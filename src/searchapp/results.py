"""Result types: frozen dataclasses of plain values, each with ``to_dict()``.

Templates, the JSON API and the CLI get these, never Whoosh objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any, Mapping

Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Highlighted:
    """Plain text and the (start, end) character spans of its matched words."""

    text: str
    spans: Spans = ()

    def to_html(self) -> str:
        """The text HTML-escaped, the spans in ``<mark>`` (the JSON API's ``snippet``)."""
        parts, pos = [], 0
        for start, end in self.spans:
            parts.append(escape(self.text[pos:start], quote=False))
            parts.append(f"<mark>{escape(self.text[start:end], quote=False)}</mark>")
            pos = end
        parts.append(escape(self.text[pos:], quote=False))
        return "".join(parts)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: ``count`` reports hold it, ``auto`` of them only
    automatically (topics and entities; 0 for the other facets)."""

    value: str
    count: int
    selected: bool = False
    auto: int = 0

    @property
    def curated(self) -> int:
        return self.count - self.auto

    def to_dict(self) -> dict[str, Any]:
        # Not asdict(): a facet can have thousands of values (issue 5)
        return {"value": self.value, "count": self.count, "selected": self.selected, "auto": self.auto}


@dataclass(frozen=True)
class EntityRef:
    """A person, organisation or place of a report; ``kind`` is its facet's name."""

    kind: str  # "person", "org" or "place"
    name: str
    curated: bool


@dataclass(frozen=True)
class ReportRef:
    """Another report named by a report (its attachment, parent or near-duplicate)."""

    id: str
    title: str


class _Titled:
    """The title and its matched words as one ``Highlighted``."""

    title: str
    title_spans: Spans

    @property
    def title_highlight(self) -> Highlighted:
        return Highlighted(self.title, self.title_spans)


@dataclass(frozen=True)
class Hit(_Titled):
    id: str
    title: str
    date: str | None  # YYYY-MM-DD
    source: str
    topics: tuple[str, ...]
    score: float | None
    snippet: str  # HTML-escaped, matched words in <mark> (for the JSON API's compatibility)
    title_html: str  # HTML-escaped title, matched words in <mark>
    auto_topics: tuple[str, ...] = ()
    url: str | None = None
    snippet_text: str = ""  # the snippet as plain text ...
    snippet_spans: Spans = ()  # ... and its matched words' (start, end)
    title_spans: Spans = ()  # the matched words of ``title``
    authors: tuple[str, ...] = ()
    language: str | None = None
    entities: tuple[EntityRef, ...] = ()
    page: int | None = None  # the page of the snippet's first match (paged formats)
    group: str | None = None  # near-duplicate group id; None when alone
    similar: int = 0  # other reports of the group that matched, collapsed under this hit
    format: str = ""
    ocr: bool = False

    @property
    def snippet_highlight(self) -> Highlighted:
        return Highlighted(self.snippet_text, self.snippet_spans)

    def to_dict(self) -> dict[str, Any]:
        return _listed(asdict(self), "topics", "auto_topics", "snippet_spans", "title_spans", "authors",
                       "entities")


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    facets: Mapping[str, tuple[FacetValue, ...]]
    filters: Mapping[str, Any]
    sort: str = "relevance"
    suggestion: str | None = None
    fallback: bool = False  # no report held every word: ranked by any word instead
    strict_total: int | None = None  # fewer than a page held every word: those, first; then any word
    date_granularity: str = "year"  # of the "date" facet: "year" or "month"
    elapsed_ms: float = 0.0
    collapsed: int = 0  # matching reports shown only as "+N similar" under a best hit
    facets_left_out: Mapping[str, int] = field(default_factory=dict)  # values past the bound, by facet

    @property
    def pages(self) -> int:
        """Pages of hits shown: reports folded under a best hit take no place."""
        return max(1, -(-(self.total - self.collapsed) // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "sort": self.sort,
            "filters": {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in self.filters.items()},
            "suggestion": self.suggestion,
            "fallback": self.fallback,
            "strict_total": self.strict_total,
            "date_granularity": self.date_granularity,
            "elapsed_ms": self.elapsed_ms,
            "collapsed": self.collapsed,
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [v.to_dict() for v in values] for name, values in self.facets.items()},
            "facets_left_out": dict(self.facets_left_out),
        }


@dataclass(frozen=True)
class ReportDetail(_Titled):
    """One report in full, as the report page and ``/api/reports/<id>`` show it."""

    id: str
    title: str
    date: str | None
    source: str
    topics: tuple[str, ...]
    body: str
    body_html: str  # HTML-escaped body, the query's words in <mark>
    title_html: str
    file: str
    auto_topics: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    body_spans: Spans = ()  # the matched words of ``body``
    title_spans: Spans = ()
    authors: tuple[str, ...] = ()
    language: str | None = None
    format: str = ""
    ocr: bool = False
    html: str | None = None  # the parser's safe HTML (Markdown); shown as it is
    pages: tuple[str, ...] = ()  # the body page by page (paged formats)
    attachments: tuple[ReportRef, ...] = ()
    parent: ReportRef | None = None
    attachment: str | None = None  # an attachment's file name inside ``file`` (the message)
    entities: tuple[EntityRef, ...] = ()
    near_duplicates: tuple[ReportRef, ...] = ()

    @property
    def body_highlight(self) -> Highlighted:
        return Highlighted(self.body, self.body_spans)

    def to_dict(self) -> dict[str, Any]:
        data = _listed(asdict(self), "topics", "auto_topics", "body_spans", "title_spans", "authors", "pages",
                       "attachments", "entities", "near_duplicates")
        data["meta"] = dict(self.meta)
        return data


def _listed(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Tuples as JSON lists (spans as lists of [start, end])."""
    for name in names:
        data[name] = [list(v) if isinstance(v, tuple) else v for v in data[name]]
    return data
