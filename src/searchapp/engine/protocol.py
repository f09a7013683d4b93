"""The boundary of a search engine: what ``SearchIndex`` asks of one.

``SearchIndex`` (``search.py``) checks the parameters, builds the result
types and formats nothing engine-specific; everything that knows how reports
are stored, matched and scored sits behind :class:`SearchEngine` (reading)
and :class:`EngineWriter` (writing). ``engine.whoosh_engine.WhooshEngine`` is
the one engine today; a distributed one (Solr) implements the same two
protocols. Nothing that crosses this boundary is an engine's object: requests
and answers are the plain dataclasses below, stored fields are dicts of plain
values, and errors are the ``searchapp.errors`` family (``QueryError`` for a
query the engine refuses, with what to simplify).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Protocol, runtime_checkable

from ..results import FacetValue

Stored = Mapping[str, Any]  # id, title, body, date, source, topic, topic_auto, file, meta


@dataclass(frozen=True)
class EngineQuery:
    """One search as the engine sees it: parameters already checked.

    ``first_day``/``last_day`` are inclusive day ordinals (``date.toordinal()``).
    ``filters`` holds, under the name of a facet of ``schema.FACET_FIELDS``,
    the values to keep (OR'ed; case and spacing do not count); a facet not
    named there does not filter.
    """

    text: str = ""
    any_word: bool = False  # the text as a bag of words, no syntax
    strict: bool = False  # the parsed query alone: never widened to any word, never a fallback
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    curated_only: bool = False  # topic and entity filters and counts: curated values only
    first_day: int | None = None
    last_day: int | None = None
    undated: bool = False  # only reports without a date
    sort: str = "relevance"  # or "newest", "oldest"
    offset: int = 0
    limit: int = 10
    facets: bool = True
    # Issue 14: only reports indexed after marker ``indexed_after`` and up to ``indexed_until``.
    indexed_after: int | None = None
    indexed_until: int | None = None
    collapse: bool = True  # a near-duplicate group shows as its best hit
    group: str | None = None  # only the reports of this near-duplicate group


@dataclass(frozen=True)
class EngineAnswer:
    """What matched: the total after filters, one page of stored fields with
    scores, facet counts (each with every other filter applied, not its own),
    and the words to highlight."""

    total: int
    hits: tuple[tuple[Stored, float | None], ...]
    facets: Mapping[str, tuple[FacetValue, ...]] = field(default_factory=dict)
    facets_left_out: Mapping[str, int] = field(default_factory=dict)  # values past facets.MAX_VALUES
    date_granularity: str = "year"
    fallback: bool = False  # nothing held every word: matched by any word instead
    strict_total: int | None = None  # widened (few held every word): how many did, ranked first
    highlight: frozenset[str] = frozenset()  # indexed words (stems) the hits matched
    # Per hit: its near-duplicate group id (None alone) and how many other
    # reports of the group matched and were collapsed under it.
    groups: tuple[str | None, ...] = ()
    similar: tuple[int, ...] = ()
    collapsed: int = 0  # reports hidden under a best hit, in the whole result


@dataclass(frozen=True)
class EngineHits:
    """Issue 14: every hit of a search from ``query.offset`` on, in order, as
    batches of stored fields with scores, read from one view of the index."""

    total: int
    batches: Iterator[tuple[tuple[Stored, float | None], ...]]
    highlight: frozenset[str] = frozenset()


@runtime_checkable
class SearchEngine(Protocol):
    """Reading an index: match and score with facet counts, stored fields, term statistics."""

    def search(self, query: EngineQuery) -> EngineAnswer:
        """Match, filter, count facets and score; :raises QueryError: a bad or too costly query."""

    def rank(self, text: str, limit: int, any_word: bool) -> list[tuple[str, float]]:
        """The ids and scores of the ``limit`` best reports, no filters (evaluations)."""

    def stored(self, report_id: str) -> Stored | None:
        """One report's stored fields, or None when no report has that id."""

    def highlight_words(self, text: str) -> frozenset[str]:
        """The indexed words (stems) a query's text stands for, to highlight in a report."""

    def more_like(self, report_id: str, limit: int) -> list[tuple[Stored, float]] | None:
        """Reports most like one, by its most telling words; None when the id is unknown."""

    def suggest(self, text: str, total: int = 0) -> str | None:
        """The text with misspelled words replaced by likely corpus words (term
        statistics); words the index holds are questioned only when ``total``,
        the number of reports the text found, is small."""

    def topic_counts(self) -> Mapping[str, tuple[int, int]]:
        """Every topic with its curated and automatic report counts."""

    def doc_count(self) -> int:
        """Live reports in the index."""

    def hits(self, query: EngineQuery, batch: int) -> EngineHits:
        """Every hit from ``query.offset`` on (no window), ``batch`` stored fields at a time."""

    def timeline(self, query: EngineQuery, top: int) -> Any:
        """Matching reports per source and per topic per period (``timeline.Timeline``)."""

    def marker(self) -> int:
        """The index's marker: it grows with every commit that adds reports, across full reindexes."""
    def near_duplicates(self, report_id: str) -> tuple[str, ...]:
        """The ids of the other reports of a report's near-duplicate group."""

    def close(self) -> None:
        """Release every reader of every thread."""


@runtime_checkable
class EngineWriter(Protocol):
    """Writing an index: documents in and out, then one commit that readers swap to."""

    def add(self, fields: Stored) -> None:
        """Add (or replace, by ``id``) one report's fields."""

    def delete(self, report_ids: Iterable[str]) -> int:
        """Delete reports by id; the number deleted."""

    def commit(self) -> None:
        """Make every change visible at once; searches move to it on their next request."""

    def cancel(self) -> None:
        """Drop every change since the writer opened."""
