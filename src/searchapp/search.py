"""Searching: ``SearchIndex`` (the long-lived object) and ``search()``.

Filters and facets run on NumPy arrays from ``facets.FacetTable``; Whoosh
scores only the top hits (BM25F, title above body) among the filtered
documents.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh import scoring
from whoosh.index import EmptyIndexError

from . import query as qp
from . import ranking, store
from .errors import QueryError, ReportNotFoundError
from .facets import DateRange, FacetTable
from .highlight import highlight_all, snippet
from .postings import Evaluator
from .results import Hit, ReportDetail, SearchResults
from .schema import TEXT_FIELDS
from .spelling import suggest
from .topics import TopicCount, count_topics

SORTS = ("relevance", "newest", "oldest")
MAX_RESULT_WINDOW = 10_000  # like Elasticsearch's index.max_result_window
MAX_PER_PAGE = 100
REFRESH_EVERY_S = 0.5


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
    source: list[str]
    topic: list[str]
    dates: DateRange
    sort: str
    page: int
    per_page: int
    any_word: bool


class _Generation:
    """One opened index generation and the facet tables of its readers."""

    def __init__(self, index_dir: Path) -> None:
        ix, self.path = store.open_generation(index_dir)
        # Without memory maps: Whoosh copies a memory-mapped compound segment's
        # postings into memory once per searcher (one per server thread); read
        # from the file, they are shared through the page cache.
        self.ix = FileStorage(str(self.path), supports_mmap=False).open_index(schema=ix.schema)
        ix.close()
        self.tables: dict[int, FacetTable] = {}
        self.lock = threading.Lock()

    def table(self, searcher) -> FacetTable:
        gen = searcher.reader().generation()
        table = self.tables.get(gen)
        if table is None:
            with self.lock:
                table = self.tables.get(gen)
                if table is None:
                    table = FacetTable.open(searcher.reader(), self.path)
                    self.tables = {gen: table}  # older readers' tables are no longer needed
        return table


class SearchIndex:
    """A searchable index; safe to share between threads (one Whoosh searcher per thread).

    >>> idx = SearchIndex.open("index")            # doctest: +SKIP
    >>> idx.search("corruption", source=["Reuters"]).total   # doctest: +SKIP
    """

    def __init__(self, index_dir: str | os.PathLike) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._gen = _Generation(self.index_dir)
        self._checked = time.monotonic()
        self._current_mtime = self._pointer_mtime()

    @classmethod
    def open(cls, index_dir: str | os.PathLike) -> "SearchIndex":
        """Open the index built by ``searchapp reindex``.

        :raises IndexNotFoundError: no index there yet.
        :raises SchemaVersionError: the index needs a full rebuild.
        """
        return cls(index_dir)

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    def __enter__(self) -> "SearchIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- keeping up with reindexes --------------------------------------------

    def _pointer_mtime(self) -> int:
        try:
            return os.stat(self.index_dir / store.CURRENT).st_mtime_ns
        except OSError:
            return 0

    def _generation(self) -> _Generation:
        now = time.monotonic()
        if now - self._checked >= REFRESH_EVERY_S:
            self._checked = now
            mtime = self._pointer_mtime()
            if mtime != self._current_mtime:
                with self._lock:
                    if mtime != self._current_mtime:
                        self._gen = _Generation(self.index_dir)
                        self._current_mtime = mtime
        return self._gen

    def _reload(self) -> _Generation:
        with self._lock:
            mtime = self._pointer_mtime()
            self._gen, self._current_mtime, self._checked = _Generation(self.index_dir), mtime, time.monotonic()
            return self._gen

    def _searcher(self):
        gen = self._generation()
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None or local.gen is not gen:
            if searcher is not None:
                searcher.close()
            try:
                searcher = gen.ix.searcher(weighting=scoring.BM25F(B=ranking.B, K1=ranking.K1))  # ranking.py (issue 7)
            except (EmptyIndexError, OSError):
                # issue 6: the generation last seen (CURRENT is looked at every
                # REFRESH_EVERY_S) was swapped out and deleted since: look now.
                gen = self._reload()
                searcher = gen.ix.searcher(weighting=scoring.BM25F(B=ranking.B, K1=ranking.K1))
            local.gen, local.searcher, local.checked = gen, searcher, time.monotonic()
        elif time.monotonic() - local.checked >= REFRESH_EVERY_S:
            local.checked = time.monotonic()
            if not searcher.up_to_date():  # an incremental reindex committed
                searcher = searcher.refresh()
                local.searcher = searcher
        return gen, searcher

    # -- searching ------------------------------------------------------------

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
    ) -> SearchResults:
        """Search the reports.

        :param query: the query language (empty: every report).
        :param source: sources to keep (OR'ed); likewise ``topic``.
        :param date_from: first day, inclusive (``1987``, ``1987-04`` or ``1987-04-01``).
        :param date_to: last day, inclusive (a year or month means its last day).
        :param sort: ``relevance``, ``newest`` or ``oldest``.
        :param mode: ``all`` (every word required, falling back to any word when
            nothing matches), or ``any`` (the query as a bag of words, no syntax).
        :raises QueryError: a bad query or parameter.
        """
        started = time.perf_counter()
        req = _request(query, source, topic, date_from, date_to, sort, page, per_page, mode)
        gen, searcher = self._searcher()
        table = gen.table(searcher)
        q, fallback, matched = self._match(searcher, table, req)
        masks = _filter_masks(table, req)
        final = matched & masks["source"] & masks["topic"] & masks["date"]
        facets, granularity = _facets(table, matched, masks, req)
        hits = self._page(searcher, table, q, final, req)
        total = int(final.sum())
        suggestion = None
        if req.text and not req.any_word and (total == 0 or fallback):
            suggestion = suggest(searcher, req.text)
        return SearchResults(
            query=req.text, total=total, page=req.page, per_page=req.per_page,
            hits=tuple(hits), facets=facets, sort=req.sort, suggestion=suggestion,
            fallback=fallback, date_granularity=granularity,
            filters={"source": req.source, "topic": req.topic,
                     "date_from": _iso(req.dates.first), "date_to": _iso(req.dates.last)},
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _match(self, searcher, table: FacetTable, req: _Request):
        """The parsed query and the mask of live documents it matches."""
        if not req.text.strip():
            return None, False, table.live.copy()
        resolve = _resolver(table)
        if req.any_word:
            q = qp.bag_of_words(req.text)
        else:
            q = _parsed(table, req.text, False, resolve)
        matched = _docs_mask(searcher, table, q)
        fallback = False
        if not req.any_word and not matched.any() and qp.relaxable(q):
            loose = _parsed(table, req.text, True, resolve)
            if loose != q:
                loose_mask = _docs_mask(searcher, table, loose)
                if loose_mask.any():
                    q, matched, fallback = loose, loose_mask, True
        return q, fallback, matched

    def _page(self, searcher, table: FacetTable, q, final: np.ndarray, req: _Request) -> list[Hit]:
        offset = (req.page - 1) * req.per_page
        if q is None or req.sort != "relevance":
            docnums = _by_date(table, final, newest=req.sort != "oldest", limit=offset + req.per_page)[offset:]
            scored = [(int(d), None) for d in docnums]
        else:
            scored = _by_score(searcher, table, q, final, offset + req.per_page)[offset:]
        stems = _stems(searcher, q)
        hits = []
        for docnum, score in scored:
            stored = searcher.stored_fields(docnum)
            hits.append(_hit(stored, score, stems))
        return hits

    def get(self, report_id: str, query: str = "") -> ReportDetail:
        """One report in full, the words of ``query`` highlighted.

        :raises ReportNotFoundError: no report has that id.
        """
        _check_text("the query", query)
        _, searcher = self._searcher()
        docnum = searcher.document_number(id=report_id) if _is_text(report_id) else None
        if docnum is None:
            raise ReportNotFoundError(report_id)
        stored = searcher.stored_fields(docnum)
        stems: dict[str, frozenset[str]] = {f: frozenset() for f in TEXT_FIELDS}
        if query.strip():
            try:
                stems = _stems(searcher, qp.parse(query))
            except QueryError:
                stems = _stems(searcher, qp.bag_of_words(query))
        return ReportDetail(
            id=stored["id"], title=stored.get("title", ""), date=stored.get("date"),
            source=stored.get("source", ""), topics=_topics(stored.get("topic")),
            auto_topics=_topics(stored.get("topic_auto")),
            body=stored.get("body", ""), body_html=highlight_all(stored.get("body", ""), stems["body"]),
            title_html=highlight_all(stored.get("title", ""), stems["title"]),
            file=stored.get("file", ""), meta=stored.get("meta") or {},
        )

    def more_like_this(self, report_id: str, limit: int = 5) -> list[Hit]:
        """Reports most like the given one, by its most telling words.

        :raises ReportNotFoundError: no report has that id.
        """
        _, searcher = self._searcher()
        docnum = searcher.document_number(id=report_id) if _is_text(report_id) else None
        if docnum is None:
            raise ReportNotFoundError(report_id)
        results = searcher.more_like(docnum, "body", top=limit)
        empty = frozenset()
        return [_hit(r.fields(), r.score, {"title": empty, "body": empty}) for r in results]

    # -- ranking only (relevance evaluation, issue 7) --------------------------

    def rank(self, query: str, *, limit: int = 1000, mode: str = "any") -> list[tuple[str, float]]:
        """The ids and scores of the ``limit`` best reports for ``query``, best first.

        The same matching and scoring as ``search(sort="relevance")``, without
        filters, facets, snippets or the paging window (for evaluations).

        :raises QueryError: a bad query, mode or limit.
        """
        if not isinstance(limit, int) or limit < 1:
            raise QueryError(f"limit must be a whole number of 1 or more, got {limit!r}")
        req = _request(query, None, None, None, None, "relevance", 1, 1, mode)
        gen, searcher = self._searcher()
        table = gen.table(searcher)
        q, _, matched = self._match(searcher, table, req)
        if q is None:
            return []
        scored = _by_score(searcher, table, q, matched, limit)
        return [(searcher.stored_fields(d)["id"], float(s)) for d, s in scored]

    # -- end of ranking only ----------------------------------------------------

    def doc_count(self) -> int:
        _, searcher = self._searcher()
        return searcher.doc_count()

    def topic_counts(self) -> tuple[TopicCount, ...]:
        """Issue 4: every topic of the index, with its curated and automatic report counts."""
        gen, searcher = self._searcher()
        return count_topics(gen.table(searcher))


def search(query: str = "", *, index_dir: str | os.PathLike = "index", **kwargs) -> SearchResults:
    """Search the index in ``index_dir`` once (see ``SearchIndex.search`` for the parameters)."""
    index = SearchIndex.open(index_dir)
    try:
        return index.search(query, **kwargs)
    finally:
        index.close()


# -- helpers ------------------------------------------------------------------

def _request(query, source, topic, date_from, date_to, sort, page, per_page, mode) -> _Request:
    if not isinstance(query, str):
        raise QueryError("the query must be text")
    _check_text("the query", query)
    for name, values in (("source", source), ("topic", topic), ("date_from", date_from), ("date_to", date_to)):
        for value in [values] if isinstance(values, str) else values if isinstance(values, (list, tuple)) else ():
            _check_text(f"a {name} filter" if name in ("source", "topic") else name, value)
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
    if mode not in ("all", "any"):
        raise QueryError(f"unknown mode {mode!r}; use 'all' or 'any'")
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
    return _Request(query.strip(), _as_list(source), _as_list(topic), DateRange(first, last),
                    sort, page, per_page, mode == "any")


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


def _resolver(table: FacetTable):
    def resolve(field: str, text: str) -> list[str]:
        if field == "source":
            values = table.source.values
        else:
            values = sorted(set(table.topic.values) | set(table.topic_auto.values))
        wanted = text.strip().lower()
        exact = [v for v in values if v.lower() == wanted]
        if exact:
            return exact
        return [v for v in values if f" {wanted} " in f" {v.lower()} "]
    return resolve


# Parsed queries per index reader (issue 5): a facet click or the next page
# parses the same words again, and Whoosh's parser takes about a millisecond.
_PARSED: "weakref.WeakKeyDictionary[FacetTable, OrderedDict]" = weakref.WeakKeyDictionary()
_PARSED_LOCK = threading.Lock()
PARSED_PER_READER = 256


def _parsed(table: FacetTable, text: str, any_word: bool, resolve) -> wq.Query:
    key = (text, any_word)
    with _PARSED_LOCK:
        memo = _PARSED.setdefault(table, OrderedDict())
        q = memo.get(key)
        if q is not None:
            memo.move_to_end(key)
            return q
    q = qp.parse(text, any_word=any_word, resolve=resolve)
    with _PARSED_LOCK:
        memo[key] = q
        if len(memo) > PARSED_PER_READER:
            memo.popitem(last=False)
    return q


def _docs_mask(searcher, table: FacetTable, q: wq.Query) -> np.ndarray:
    return Evaluator(searcher, table.postings).mask(q) & table.live


def _filter_masks(table: FacetTable, req: _Request) -> dict[str, np.ndarray]:
    everything = np.ones(table.n, dtype=bool)
    return {
        "source": table.source.mask(req.source, table.n) if req.source else everything,
        "topic": table.topic_mask(req.topic) if req.topic else everything,
        "date": table.date_mask(req.dates) if req.dates.active else everything,
    }


def _facets(table: FacetTable, matched: np.ndarray, masks: dict, req: _Request):
    """Each facet counted with every filter but its own (tag/exclude)."""
    src, top, date = masks["source"], masks["topic"], masks["date"]
    dates, granularity = table.date_values(matched & src & top, req.dates)
    return {
        "source": table.source_values(matched & top & date, req.source),
        "topic": table.topic_values(matched & src & date, req.topic),
        "date": dates,
    }, granularity


def _by_date(table: FacetTable, final: np.ndarray, newest: bool, limit: int | None = None) -> np.ndarray:
    """The ``final`` documents newest (or oldest) first, the first ``limit`` of them."""
    docnums = np.nonzero(final)[0]
    days = table.day[docnums].astype(np.int64)
    # Undated reports last either way; ties by document order.
    key = np.where(days == 0, np.iinfo(np.int64).max, -days if newest else days)
    if limit is not None and len(key) > 4 * limit:
        kth = np.partition(key, limit - 1)[limit - 1]
        keep = key <= kth  # every document tied with the last one shown
        docnums, key = docnums[keep], key[keep]
    return docnums[np.argsort(key, kind="stable")][:limit]


def _by_score(searcher, table: FacetTable, q, final: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best of the ``final`` documents; equal scores newest first."""
    if not final.any():
        return []
    scores = Evaluator(searcher, table.postings).scores(q)
    if scores is not None:
        return _top(table, np.nonzero(final)[0], scores, limit)
    # A query part only Whoosh scores (prefixes, ranges): Whoosh ranks, a few
    # more than shown so that equal scores can be ordered newest first.
    allowed = None if final.sum() == table.live.sum() else set(np.nonzero(final)[0].tolist())
    results = searcher.search(q, limit=limit + 20, filter=allowed, terms=False)
    scored = [(hit.docnum, hit.score) for hit in results]
    scored.sort(key=lambda p: (-round(p[1], 6), -int(table.day[p[0]])))
    return scored[:limit]


def _top(table: FacetTable, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """Best first by score (to 6 decimals), then newest, then document order."""
    exact = scores[docs]
    rounded = np.round(exact, 6)
    if len(docs) > limit:
        kth = np.partition(rounded, len(rounded) - limit)[len(rounded) - limit]
        keep = rounded >= kth  # every document tied with the last one shown
        docs, exact, rounded = docs[keep], exact[keep], rounded[keep]
    order = np.lexsort((docs, -table.day[docs].astype(np.int64), -rounded))[:limit]
    return [(int(docs[i]), float(exact[i])) for i in order]


def _stems(searcher, q) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {f: set() for f in TEXT_FIELDS}
    if q is not None:
        for field, text in qp.positive_terms(q):
            out[field].add(text)
        reader = searcher.reader()
        for leaf in qp.expandable(q):
            if leaf.fieldname in out:
                for i, term in enumerate(leaf._btexts(reader)):
                    if i >= 200:
                        break
                    out[leaf.fieldname].add(term.decode("utf-8") if isinstance(term, bytes) else term)
    # A word matched in the title is worth marking in the body too, and back.
    both = out["title"] | out["body"]
    return {f: frozenset(both) for f in out}


def _topics(value: str | None) -> tuple[str, ...]:
    return tuple(t for t in (value or "").split(",") if t)


def _hit(stored: dict, score: float | None, stems: dict[str, frozenset[str]]) -> Hit:
    meta = stored.get("meta") or {}
    return Hit(
        id=stored["id"], title=stored.get("title", ""), date=stored.get("date"),
        source=stored.get("source", ""), topics=_topics(stored.get("topic")),
        auto_topics=_topics(stored.get("topic_auto")),
        score=round(float(score), 4) if score is not None else None,
        snippet=snippet(stored.get("body", ""), stems["body"]),
        title_html=highlight_all(stored.get("title", ""), stems["title"]),
        url=meta.get("url"),
    )
