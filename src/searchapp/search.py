"""Searching: ``SearchIndex`` (the long-lived object) and ``search()``, the facade.

Parameters are checked here, once; matching, scoring and facet counting are
the engine's (``engine.protocol.SearchEngine``, today
``engine.whoosh_engine.WhooshEngine``); the result types and snippets are
built here from the engine's plain answers.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from . import details
from . import query as qp
from .engine.protocol import EngineQuery, SearchEngine, Stored
from .engine.whoosh_engine import WhooshEngine
from .errors import QueryError, ReportNotFoundError
from .facets import DateRange
from .highlight import highlight_spans, snippet_spans
from .paging import HitStream
from .results import Hit, ReportDetail, ReportRef, SearchResults
from .schema import FACETS_BY_NAME
from .timeline import TOP, Timeline
from .topics import TopicCount

SORTS = ("relevance", "newest", "oldest")
MODES = ("all", "any", "every")
MAX_RESULT_WINDOW = 10_000  # like Elasticsearch's index.max_result_window
MAX_PER_PAGE = 100
REFRESH_EVERY_S = 0.5  # how often searches look for a new commit or generation


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if v]


def parse_day(value: str | dt.date | None, end: bool, name: str) -> int | None:
    """A filter bound as a day ordinal: ``1987``, ``1987-04``, ``1987-04-30``, inclusive.

    :raises QueryError: not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.toordinal()
    try:
        first, last = qp.date_bounds(value)
    except QueryError as e:
        raise QueryError(f"{name}: {e}") from e
    return (last if end else first).toordinal()


@dataclass
class _Request:
    text: str
    filters: dict[str, list[str]]  # facet name -> values (schema.FACET_FIELDS)
    dates: DateRange
    sort: str
    page: int
    per_page: int
    any_word: bool
    options: dict  # curated_only, undated, collapse, group
    strict: bool = False  # mode "every"

    def engine_query(self, facets: bool = True) -> EngineQuery:
        return EngineQuery(
            text=self.text, any_word=self.any_word, strict=self.strict, first_day=self.dates.first, last_day=self.dates.last,
            sort=self.sort, offset=(self.page - 1) * self.per_page, limit=self.per_page, facets=facets,
            filters={name: tuple(values) for name, values in self.filters.items()}, **self.options,
        )

    def filters_shown(self) -> dict:
        return {**self.filters, "date_from": _iso(self.dates.first), "date_to": _iso(self.dates.last),
                **self.options}


class SearchIndex:
    """A searchable index; safe to share between threads.

    >>> idx = SearchIndex.open("index")            # doctest: +SKIP
    >>> idx.search("corruption", source=["Reuters"]).total   # doctest: +SKIP
    """

    def __init__(self, index_dir: str | os.PathLike, engine: SearchEngine | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._engine: SearchEngine = engine if engine is not None else WhooshEngine(
            self.index_dir, refresh_every=lambda: REFRESH_EVERY_S)

    @classmethod
    def open(cls, index_dir: str | os.PathLike) -> "SearchIndex":
        """Open the index built by ``searchapp reindex``.

        :raises IndexNotFoundError: no index there yet.
        :raises SchemaVersionError: the index needs a full rebuild.
        """
        return cls(index_dir)

    def close(self) -> None:
        """Close every thread's reader (a later search opens them again)."""
        self._engine.close()

    def __enter__(self) -> "SearchIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(
        self,
        query: str = "",
        *,
        source: str | Iterable[str] | None = None,
        topic: str | Iterable[str] | None = None,
        date_from: str | dt.date | None = None,
        date_to: str | dt.date | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
        mode: str = "all",
        language: str | Iterable[str] | None = None,
        person: str | Iterable[str] | None = None,
        org: str | Iterable[str] | None = None,
        place: str | Iterable[str] | None = None,
        curated_only: bool = False,
        undated: bool = False,
        collapse: bool = True,
        group: str | None = None,
    ) -> SearchResults:
        """Search the reports.

        :param query: the query language (empty: every report).
        :param source: sources to keep (OR'ed); likewise ``topic``, ``language``,
            ``person``, ``org`` and ``place`` (case and spacing do not count).
        :param date_from: first day, inclusive (``1987``, ``1987-04`` or ``1987-04-01``).
        :param date_to: last day, inclusive (a year or month means its last day).
        :param sort: ``relevance``, ``newest`` or ``oldest``.
        :param mode: ``all`` (the search box's: up to three words all required, a
            longer question one word in twenty; under ten matches, the reports
            with any of the words follow them), ``every`` (the same query
            strictly: never widened), or ``any`` (a bag of words, no syntax).
        :param curated_only: topic and entity filters and counts use the reports' own values only.
        :param undated: only reports without a date.
        :param collapse: show a near-duplicate group as its best hit (``Hit.similar`` the others).
        :param group: only the reports of this near-duplicate group (``Hit.group``), never collapsed.
        :raises QueryError: a bad query or parameter, or one too costly to answer.
        """
        started = time.perf_counter()
        filters = {"source": source, "topic": topic, "language": language, "person": person, "org": org,
                   "place": place}
        options = {"curated_only": bool(curated_only), "undated": bool(undated), "collapse": bool(collapse),
                   "group": group}
        req = _request(query, filters, date_from, date_to, sort, page, per_page, mode, options)
        answer = self._engine.search(req.engine_query())
        suggestion = None
        if req.text and not req.any_word:  # spelling.FEW_RESULTS decides for words the index holds
            held = answer.strict_total if answer.strict_total is not None else answer.total
            suggestion = self._engine.suggest(req.text, 0 if answer.fallback else held)
        hits = tuple(_hit(stored, score, answer.highlight, group, similar) for (stored, score), group, similar
                     in zip(answer.hits, answer.groups or (None,) * len(answer.hits),
                            answer.similar or (0,) * len(answer.hits)))
        return SearchResults(
            query=req.text, total=answer.total, page=req.page, per_page=req.per_page, hits=hits,
            facets=answer.facets, sort=req.sort, suggestion=suggestion,
            fallback=answer.fallback, strict_total=answer.strict_total, date_granularity=answer.date_granularity,
            filters=req.filters_shown(), collapsed=answer.collapsed, facets_left_out=answer.facets_left_out,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def get(self, report_id: str, query: str = "") -> ReportDetail:
        """One report in full, the words of ``query`` highlighted.

        :raises ReportNotFoundError: no report has that id.
        """
        _check_text("the query", query)
        stored = self._engine.stored(report_id) if _is_text(report_id) else None
        if stored is None:
            raise ReportNotFoundError(report_id)
        stems = self._engine.highlight_words(query)
        body = highlight_spans(stored.get("body", ""), stems)
        title = highlight_spans(stored.get("title", ""), stems)
        return ReportDetail(
            id=stored["id"], title=stored.get("title", ""), date=stored.get("date"),
            source=stored.get("source", ""), topics=_topics(stored.get("topic")),
            auto_topics=_topics(stored.get("topic_auto")),
            body=body.text, body_html=body.to_html(), title_html=title.to_html(),
            file=stored.get("file", ""), meta=stored.get("meta") or {},
            body_spans=body.spans, title_spans=title.spans, **details.detail_fields(stored),
            attachments=self._refs(stored.get("attachments") or ()),
            parent=next(iter(self._refs([stored["parent"]] if stored.get("parent") else ())), None),
            near_duplicates=self._refs(self._engine.near_duplicates(stored["id"])),
        )

    def _refs(self, report_ids: Iterable[str]) -> tuple[ReportRef, ...]:
        """Other reports by id and title (ids the index no longer holds are left out)."""
        found = ((i, self._engine.stored(i)) for i in report_ids)
        return tuple(ReportRef(i, s.get("title", "")) for i, s in found if s is not None)

    def more_like_this(self, report_id: str, limit: int = 5) -> list[Hit]:
        """Reports most like the given one, by its most telling words.

        :raises ReportNotFoundError: no report has that id.
        """
        found = self._engine.more_like(report_id, limit) if _is_text(report_id) else None
        if found is None:
            raise ReportNotFoundError(report_id)
        return [_hit(stored, score, frozenset()) for stored, score in found]

    def rank(self, query: str, *, limit: int = 1000, mode: str = "any") -> list[tuple[str, float]]:
        """The ids and scores of the ``limit`` best reports for ``query``, best first.

        The same matching and scoring as ``search(sort="relevance")``, without
        filters, facets, snippets or the paging window (for evaluations).

        :raises QueryError: a bad query, mode or limit.
        """
        if not isinstance(limit, int) or limit < 1:
            raise QueryError(f"limit must be a whole number of 1 or more, got {limit!r}")
        req = _request(query, {}, None, None, "relevance", 1, 1, mode)
        return self._engine.rank(req.text, limit, req.any_word)

    def doc_count(self) -> int:
        return self._engine.doc_count()

    # -- issue 14: every hit, sources over time, what is new ------------------------

    def all_hits(self, query: str = "", *, start: int = 0, batch: int = 1000, indexed_after: int | None = None,
                 indexed_until: int | None = None, **filters) -> HitStream:
        """Every hit of a search from ``start`` on, without the paging window:
        read ``batch`` at a time from one view of the index, so memory is bounded
        by the batch (and one number per matching report).

        :param filters: ``source``, ``topic``, ``date_from``, ``date_to``, ``sort``, ``mode``
            as for :meth:`search`.
        :param indexed_after: only reports indexed after this marker (see :meth:`marker`).
        :raises QueryError: a bad query or parameter.
        """
        if not isinstance(start, int) or start < 0 or not isinstance(batch, int) or batch < 1:
            raise QueryError("start must be 0 or more and batch 1 or more (whole numbers)")
        req = _filtered(query, filters)
        answer = self._engine.hits(replace(req.engine_query(facets=False), offset=start, limit=batch,
                                           indexed_after=indexed_after, indexed_until=indexed_until), batch)
        hits = (_hit(stored, score, answer.highlight) for chunk in answer.batches for stored, score in chunk)
        return HitStream(total=answer.total, start=start, hits=hits)

    def timeline(self, query: str = "", *, top: int = TOP, **filters) -> Timeline:
        """How many matching reports each source and each topic has per period
        (year, month, week or day as the range narrows); the ``top`` largest kept,
        the rest grouped. :raises QueryError: a bad query or parameter."""
        if not isinstance(top, int) or not 1 <= top <= 100:
            raise QueryError(f"top must be a whole number from 1 to 100, got {top!r}")
        return self._engine.timeline(_filtered(query, filters).engine_query(facets=False), top)

    def marker(self) -> int:
        """The index's marker: it grows with each commit that adds reports (full
        reindexes included); reports carry the marker they were indexed at."""
        return self._engine.marker()

    def topic_counts(self) -> tuple[TopicCount, ...]:
        """Issue 4: every topic of the index, with its curated and automatic report counts."""
        return self._engine.topic_counts()


def search(query: str = "", *, index_dir: str | os.PathLike = "index", **kwargs) -> SearchResults:
    """Search the index in ``index_dir`` once (see ``SearchIndex.search`` for the parameters)."""
    index = SearchIndex.open(index_dir)
    try:
        return index.search(query, **kwargs)
    finally:
        index.close()


# -- helpers ------------------------------------------------------------------

def _filtered(query: str, filters: dict) -> _Request:
    """A checked request of the search's filters, without page or window; groups are
    never collapsed (an export or an alert wants every report)."""
    options = ("curated_only", "undated", "group")
    unknown = set(filters) - set(FACETS_BY_NAME) - {"date_from", "date_to", "sort", "mode", *options}
    if unknown:
        raise QueryError(f"unknown search parameter(s): {', '.join(sorted(unknown))}")
    return _request(query, {name: filters.get(name) for name in FACETS_BY_NAME}, filters.get("date_from"),
                    filters.get("date_to"), filters.get("sort", "relevance"), 1, 1, filters.get("mode", "all"),
                    {"curated_only": bool(filters.get("curated_only")), "undated": bool(filters.get("undated")),
                     "collapse": False, "group": filters.get("group")})


def _request(query, filters, date_from, date_to, sort, page, per_page, mode, options=None) -> _Request:
    if not isinstance(query, str):
        raise QueryError("the query must be text")
    _check_text("the query", query)
    checked = [(f"a {name} filter", values) for name, values in filters.items()]
    for name, values in checked + [("date_from", date_from), ("date_to", date_to)]:
        for value in [values] if isinstance(values, str) else values if isinstance(values, (list, tuple)) else ():
            _check_text(name, value)
    options = options or {}
    if options.get("group") is not None and not isinstance(options["group"], str):
        raise QueryError("group must be the text of a group id (a hit's group)")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError, OverflowError) as e:  # OverflowError: inf (issue 6)
        raise QueryError("page and per_page must be whole numbers") from e
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    if page < 1:
        raise QueryError(f"page must be 1 or more, got {page}")
    if page * per_page > MAX_RESULT_WINDOW:
        raise QueryError(f"page {page} is too deep: only the first {MAX_RESULT_WINDOW} results can be paged through; narrow the search")
    first = parse_day(date_from, end=False, name="date_from")
    last = parse_day(date_to, end=True, name="date_to")
    if first is not None and last is not None and first > last:
        raise QueryError(f"date_from ({_iso(first)}) is after date_to ({_iso(last)})")
    return _Request(query.strip(), {name: _as_list(v) for name, v in filters.items()}, DateRange(first, last),
                    sort, page, per_page, mode == "any", options, strict=mode == "every")


# -- issue 6: a command line's undecodable bytes arrive as lone surrogates, which
# no index term, page or terminal can hold: refused here, with a clear message.
def _is_text(value) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    except AttributeError:
        return True  # not a string: checked elsewhere
    return True


def _check_text(name: str, value) -> None:
    if not _is_text(value):
        raise QueryError(f"{name} is not valid text: it holds bytes that are not UTF-8")
# -- end issue 6


def _iso(day: int | None) -> str | None:
    return dt.date.fromordinal(day).isoformat() if day is not None else None


def _topics(value: str | None) -> tuple[str, ...]:
    return tuple(t for t in (value or "").split(",") if t)


def _hit(stored: Stored, score: float | None, stems: frozenset[str], group: str | None = None,
         similar: int = 0) -> Hit:
    meta = stored.get("meta") or {}
    body = stored.get("body", "")
    shown = snippet_spans(body, stems)
    title = highlight_spans(stored.get("title", ""), stems)
    fields = details.hit_fields(stored)
    return Hit(
        id=stored["id"], title=stored.get("title", ""), date=stored.get("date"),
        source=stored.get("source", ""), topics=_topics(stored.get("topic")),
        auto_topics=_topics(stored.get("topic_auto")),
        score=round(float(score), 4) if score is not None else None,
        snippet=shown.to_html(), title_html=title.to_html(), url=meta.get("url"),
        snippet_text=shown.text, snippet_spans=shown.spans, title_spans=title.spans,
        page=details.snippet_page(body, shown, stored.get("pages") or ()), group=group, similar=similar,
        **fields,
    )
