"""The Whoosh engine: ``protocol.SearchEngine`` over a store of index generations.

Each thread searches its own view of the index (``views.View``: a Whoosh
searcher, its reader's state and near-duplicate groups, read when it opens),
moved to a new commit or generation as reindexes land (``views.Views``).
Queries are matched and scored by ``arrays.ArrayQueryEngine`` within a
``budget.QueryBudget``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from whoosh import collectors
from whoosh.index import EmptyIndexError
from whoosh.searching import TimeLimit

from .. import query as qp
from .. import ranking
from ..facets import UNDATED, DateRange, Selection, date_values, facet_values
from ..languages import language_code
from ..schema import FACET_FIELDS, TEXT_FIELDS
from ..spelling import suggest
from ..topics import TopicCount, count_topics
from .. import timeline
from . import deep
from .arrays import ArrayQueryEngine
from .budget import MATCH_SECONDS, SUGGEST_SECONDS, QueryBudget, too_slow
from .groups import collapsed_page
from .protocol import EngineAnswer, EngineHits, EngineQuery
from .state import ReaderState
from .views import View, Views
from .whoosh_scoring import weighting

REFRESH_EVERY_S = 0.5
HIGHLIGHT_EXPANSIONS = 200  # words of one pattern marked in snippets


class WhooshEngine:
    """The Whoosh index of ``index_dir``; safe to share between threads.

    :param refresh_every: seconds between looks at CURRENT and at the commit
        a thread's searcher shows (a callable: read at each look).
    """

    def __init__(self, index_dir: str | os.PathLike, refresh_every=lambda: REFRESH_EVERY_S) -> None:
        self.index_dir = Path(index_dir)
        self._views = Views(self.index_dir, refresh_every)

    def close(self) -> None:
        """Close every thread's searcher."""
        self._views.close()

    def _view(self) -> tuple:
        """This thread's searcher, up to date, and its reader's state."""
        view = self._views.current()
        return view.searcher, view.state

    # -- reading ----------------------------------------------------------------

    def search(self, query: EngineQuery) -> EngineAnswer:
        view = self._views.current()
        searcher, state, groups = view.searcher, view.state, view.groups
        q, fallback, matched = _match(searcher, state, query.text, query.any_word, query.strict)
        matched = _since(searcher, state, query, matched)
        if query.group is not None:
            matched = matched & groups.mask(query.group)
        dates = DateRange(query.first_day, query.last_day)
        masks = _filter_masks(state, query, dates)
        final = matched.copy()
        for mask in masks.values():
            final &= mask
        chosen = Selection(final)
        facets, left_out, granularity = (_facets(state, matched, masks, query, dates, chosen) if query.facets
                                         else ({}, {}, "year"))

        def ordered(limit: int) -> list[tuple[int, float | None]]:
            if q is None or query.sort != "relevance":
                return [(int(d), None) for d in _by_date(state, final, query.sort != "oldest", limit)]
            return _by_score(searcher, state, q, final, limit)

        similar, hidden = (), 0
        if query.collapse and query.group is None and len(groups.ids):
            page, similar, hidden = collapsed_page(ordered, groups, chosen, query.offset, query.limit)
        else:
            page = ordered(query.offset + query.limit)[query.offset:]
        hits = tuple((searcher.stored_fields(d), s) for d, s in page)
        return EngineAnswer(total=chosen.count, hits=hits, facets=facets, facets_left_out=left_out,
                            date_granularity=granularity,
                            fallback=fallback, highlight=_stems(searcher, state, q),
                            strict_total=_strict_total(searcher, state, q, final),
                            groups=tuple(groups.group_id(d) for d, _ in page),
                            similar=tuple(similar) or (0,) * len(page), collapsed=hidden)

    def near_duplicates(self, report_id: str) -> tuple[str, ...]:
        view = self._views.current()
        searcher, groups = view.searcher, view.groups
        docnum = searcher.document_number(id=report_id)
        group = groups.group_id(docnum) if docnum is not None else None
        if group is None:
            return ()
        others = np.nonzero(groups.mask(group))[0].tolist()
        return tuple(sorted(i for i in (searcher.stored_fields(d)["id"] for d in others) if i != report_id))

    def rank(self, text: str, limit: int, any_word: bool) -> list[tuple[str, float]]:
        searcher, state = self._view()
        q, _, matched = _match(searcher, state, text, any_word)
        if q is None:
            return []
        return [(searcher.stored_fields(d)["id"], float(s)) for d, s in _by_score(searcher, state, q, matched, limit)]

    def stored(self, report_id: str):
        searcher, _ = self._view()
        docnum = searcher.document_number(id=report_id)
        return None if docnum is None else searcher.stored_fields(docnum)

    def highlight_words(self, text: str) -> frozenset[str]:
        searcher, state = self._view()
        if not text.strip():
            return frozenset()
        try:
            return _stems(searcher, state, qp.parse(text))
        except qp.QueryError:
            return _stems(searcher, state, qp.bag_of_words(text))

    def more_like(self, report_id: str, limit: int):
        searcher, state = self._view()
        docnum = searcher.document_number(id=report_id)
        if docnum is None:
            return None
        from .budget import unbounded  # here, not at the top: this method is the related reports' one entry
        from .related import related
        # The query is WORDS words, no patterns: its cost is bounded without a clock.
        return related(searcher, _engine(searcher, state, unbounded()), docnum, state.live, limit)

    def suggest(self, text: str, total: int = 0) -> str | None:
        searcher, state = self._view()
        parent = searcher.get_parent()
        return suggest(searcher, text, total, seconds=SUGGEST_SECONDS,
                       frequency=lambda field, word: state.postings.doc_frequency(parent, field, word))

    def topic_counts(self) -> tuple[TopicCount, ...]:
        return count_topics(self._view()[1])

    def doc_count(self) -> int:
        return self._view()[0].doc_count()

    # -- issue 14: every hit, the timeline, the marker ----------------------------

    def hits(self, query: EngineQuery, batch: int) -> EngineHits:
        """Every hit from ``query.offset`` on, read through a searcher of its own
        (the thread's may move to a newer commit between two batches)."""
        view = self._views.current()
        try:
            searcher = view.gen.ix.searcher(weighting=weighting())
        except (EmptyIndexError, OSError):  # the generation was swapped out since: this thread's view
            view = self._views.reopen()
            searcher = view.gen.ix.searcher(weighting=weighting())
        try:
            own = View(view.gen, searcher)
            state = own.state
            q, _, final = self._final(own, query)
            docs = np.nonzero(final)[0]
            scores = None
            if q is not None and query.sort == "relevance":
                scores = _scores(searcher, state, q)
                if scores is None:  # a query part only Whoosh scores
                    scores = np.zeros(state.n)
                    for d, s in _by_score(searcher, state, q, final, len(docs)):
                        scores[d] = s
            ordered = deep.order_all(state, docs, scores, query.sort != "oldest")
            stems = _stems(searcher, state, q)
        except BaseException:
            searcher.close()
            raise
        return EngineHits(len(docs), deep.batches(searcher, ordered, scores, query.offset, batch), stems)

    def timeline(self, query: EngineQuery, top: int) -> timeline.Timeline:
        view = self._views.current()
        _, _, final = self._final(view, query)
        return timeline.count_timeline(view.state, final, DateRange(query.first_day, query.last_day), top)

    def marker(self) -> int:
        searcher, state = self._view()
        return deep.marker_of(searcher.reader(), state)

    @staticmethod
    def _final(view: View, query: EngineQuery):
        """The query, and the mask of the reports that match it after every filter."""
        searcher, state = view.searcher, view.state
        q, _, matched = _match(searcher, state, query.text, query.any_word, query.strict)
        final = _since(searcher, state, query, matched)
        if query.group is not None:
            final = final & view.groups.mask(query.group)
        for mask in _filter_masks(state, query, DateRange(query.first_day, query.last_day)).values():
            final = final & mask
        return q, None, final


# -- matching ---------------------------------------------------------------------

def _match(searcher, state: ReaderState, text: str, any_word: bool, strict: bool = False):
    """The parsed query and the mask of live documents it matches (all of them without words)."""
    if not text.strip():
        return None, False, state.live.copy()
    budget = QueryBudget()
    resolve = _resolver(state)
    if any_word:
        q = qp.bag_of_words(text)
    else:
        q = state.parsed((text, False), lambda: qp.parse(text, any_word=False, resolve=resolve))
    matched = _docs_mask(searcher, state, q, budget)
    fallback = False
    # Issue 13 item 8: fewer than a page of reports hold the words: those
    # holding any of them follow (qp.Widened, ranked by _scores).
    if not any_word and not strict and matched.sum() < qp.FEW_MATCHES and qp.relaxable(q):
        loose = state.parsed((text, True), lambda: qp.parse(text, any_word=True, resolve=resolve))
        if loose != q:
            loose_mask = _docs_mask(searcher, state, loose, budget)
            if loose_mask.sum() > matched.sum():
                q, fallback, matched = qp.Widened(loose, q), not matched.any(), loose_mask
    return q, fallback, matched


def _scores(searcher, state: ReaderState, q) -> np.ndarray | None:
    """Every document's score for ``q`` (None: a part only Whoosh scores); a
    widened query's strict matches first."""
    engine = _engine(searcher, state)
    scores = engine.scores(q)
    if scores is not None and isinstance(q, qp.Widened):
        scores = ranking.tiered(scores, engine.mask(q.strict))
    return scores


def _strict_total(searcher, state: ReaderState, q, final: np.ndarray) -> int | None:
    """How many of the ``final`` reports hold every word of a widened query (None: not widened)."""
    if not isinstance(q, qp.Widened):
        return None
    return int((_engine(searcher, state).mask(q.strict) & final).sum())


def _since(searcher, state: ReaderState, query: EngineQuery, matched: np.ndarray) -> np.ndarray:
    """Issue 14: ``matched`` narrowed to the reports indexed between the query's markers."""
    if query.indexed_after is None and query.indexed_until is None:
        return matched
    return matched & deep.indexed_mask(searcher.reader(), state, query.indexed_after, query.indexed_until)


def _resolver(state: ReaderState):
    """A facet field of a query (``topic:energy``) means what the same filter
    value means (issue 13: case and spacing do not count, nothing else)."""
    def resolve(field: str, text: str) -> list[str]:
        values = state.facet(field)
        found = [values.values[i] for i in values.matching([text])]
        if not found and field == "language":  # language:english means language:en
            code = language_code(text)
            found = [values.values[i] for i in values.matching([code])] if code else []
        return found
    return resolve


def _engine(searcher, state: ReaderState, budget: QueryBudget | None = None) -> ArrayQueryEngine:
    return ArrayQueryEngine(searcher, state.postings, budget or QueryBudget(), day=state.day)


def _docs_mask(searcher, state: ReaderState, q, budget: QueryBudget) -> np.ndarray:
    return _engine(searcher, state, budget).mask(q) & state.live


def _filter_masks(state: ReaderState, query: EngineQuery, dates: DateRange) -> dict[str, np.ndarray]:
    """The mask of each active filter, by facet name (``date`` for the dates)."""
    masks = {f.name: state.facet_mask(f.name, list(query.filters[f.name]), query.curated_only)
             for f in FACET_FIELDS if query.filters.get(f.name)}
    if query.undated:
        masks["date"] = ~state.dated
    elif dates.active:
        masks["date"] = state.date_mask(dates)
    return masks


def _facets(state: ReaderState, matched: np.ndarray, masks: dict, query: EngineQuery, dates: DateRange,
            chosen: Selection):
    """Each facet counted with every filter but its own (tag/exclude); the
    facets without a filter of their own count over ``chosen`` (every filter)."""
    selections = {tuple(masks): chosen}

    def others(name: str) -> Selection:
        applied = tuple(other for other in masks if other != name)
        found = selections.get(applied)
        if found is None:
            mask = matched.copy()
            for other in applied:
                mask &= masks[other]
            found = selections[applied] = Selection(mask)
        return found

    counted, granularity = date_values(state, others("date"), dates)
    if query.undated:
        counted = tuple(replace(v, selected=True) if v.value == UNDATED else v for v in counted)
    counted_fields = {f.name: facet_values(state, f.name, others(f.name), list(query.filters.get(f.name, ())),
                                           query.curated_only and f.auto is not None)
                      for f in FACET_FIELDS}
    out = {name: values for name, (values, _) in counted_fields.items()}
    out["date"] = counted
    return out, {name: n for name, (_, n) in counted_fields.items() if n}, granularity


# -- ordering ---------------------------------------------------------------------

def _by_date(state: ReaderState, final: np.ndarray, newest: bool, limit: int | None = None) -> np.ndarray:
    """The ``final`` documents newest (or oldest) first, the first ``limit`` of them."""
    order = state.date_order(newest)
    if limit is None:
        return order[final[order]]
    out, found, start, step = [], 0, 0, max(1024, 4 * limit)
    while start < len(order) and found < limit:  # the order read a slice at a time
        part = order[start:start + step]
        out.append(part[final[part]])
        found, start, step = found + len(out[-1]), start + step, step * 4
    return np.concatenate(out)[:limit] if out else order[:0]


def _by_score(searcher, state: ReaderState, q, final: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best of the ``final`` documents; equal scores newest first."""
    if not final.any():
        return []
    scores = _scores(searcher, state, q)
    if scores is not None:
        return _top(state, np.nonzero(final)[0], scores, limit)
    # A query part only Whoosh scores (a coordination bonus): Whoosh ranks, a
    # few more than shown so that equal scores can be ordered newest first.
    allowed = None if final.sum() == state.live.sum() else set(np.nonzero(final)[0].tolist())
    collector = searcher.collector(limit=limit + 20, filter=allowed, terms=False)
    timed = collectors.TimeLimitCollector(collector, timelimit=MATCH_SECONDS, use_alarm=False)  # not a signal: threads
    try:
        searcher.search_with_collector(q, timed)
    except TimeLimit as e:
        raise too_slow(MATCH_SECONDS) from e
    scored = [(hit.docnum, hit.score) for hit in collector.results()]
    scored.sort(key=lambda p: (-round(p[1], 6), -int(state.day[p[0]])))
    return scored[:limit]


def _top(state: ReaderState, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """Best first by score (to 6 decimals), then newest, then document order."""
    exact = scores[docs]
    rounded = np.round(exact, 6)
    if len(docs) > limit:
        kth = np.partition(rounded, len(rounded) - limit)[len(rounded) - limit]
        keep = rounded >= kth  # every document tied with the last one shown
        docs, exact, rounded = docs[keep], exact[keep], rounded[keep]
    order = np.lexsort((docs, -state.day[docs].astype(np.int64), -rounded))[:limit]
    return [(int(docs[i]), float(exact[i])) for i in order]


def _stems(searcher, state: ReaderState, q) -> frozenset[str]:
    """The indexed words of the text fields a match holds or may hold (not under NOT).

    A word matched in the title is marked in the body too, and back.
    """
    out: set[str] = set()
    if q is not None:
        out.update(text for _, text in qp.positive_terms(q, TEXT_FIELDS))
        engine = _engine(searcher, state)
        for leaf in qp.expandable(q):
            if leaf.fieldname in TEXT_FIELDS:
                try:
                    words = engine.words(leaf)[:HIGHLIGHT_EXPANSIONS]
                except qp.QueryError:
                    continue
                out.update(w.decode("utf-8") if isinstance(w, bytes) else w for w in words)
    return frozenset(out)
