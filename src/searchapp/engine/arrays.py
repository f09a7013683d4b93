"""The array query engine: matching and BM25F scoring on NumPy arrays.

Whoosh matches and scores one document at a time in Python, which costs
microseconds per matching document. Here a term's postings (document numbers
and frequencies) are decoded into arrays (``whoosh_postings``), kept in a
size-bounded LRU cache per index reader (:class:`PostingCache`), and queries
are evaluated on whole arrays by :class:`ArrayQueryEngine`:

- matching: ``Term``, ``FieldsTerm``, ``Phrase``, ``And``, ``Or``, ``Not``,
  ``AndNot``, ``AndMaybe``, ``Require``, ``Every``, and the patterns
  (prefixes, wildcards, term ranges) as the union of the words they stand
  for, within the query's ``QueryBudget``;
- scoring: the same shapes (``Not`` adds nothing; ``Or`` without a coordination
  ``scale``) with ``ranking``'s formula; a pattern scores its boost in each
  document it matches (Lucene's constant-score rewrite). A query with
  another part, or a searcher with another weighting, is left to Whoosh
  (``scores`` returns None).

Scores of terms and phrases equal Whoosh's with ``whoosh_scoring.Weighting``
(tests/test_postings.py checks it).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from whoosh import query as wq

from .. import ranking
from ..schema import FIELD_BOOSTS
from . import whoosh_internals as wi
from . import whoosh_postings as wp
from .budget import MAX_EXPANSIONS, QueryBudget, unbounded
from .cache import Postings, PostingCache
from .whoosh_scoring import FieldsTerm, Weighting

__all__ = ["ArrayQueryEngine", "AtLeast", "PostingCache"]

SPAN = wp.SPAN


_PATTERNS = (wq.Prefix, wq.Wildcard, wq.TermRange)


class AtLeast(wq.Or):
    """An OR that matches a document holding at least ``minimum`` of its parts
    (Lucene's minimum-should-match), scored as the OR: the sum of its parts.

    Only this engine applies the minimum; Whoosh's own matcher sees a plain OR
    (looser, never stricter).
    """

    def __init__(self, subqueries, minimum: int, boost: float = 1.0) -> None:
        super().__init__(subqueries, boost=boost)
        self.minimum = minimum

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and getattr(other, "minimum", None) == self.minimum

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.minimum)

    def __repr__(self) -> str:
        return f"AtLeast({self.subqueries!r}, minimum={self.minimum})"

    def apply(self, fn):
        return AtLeast([fn(q) for q in self.subqueries], self.minimum, boost=self.boost)


class ArrayQueryEngine:
    """Matches and scores queries on arrays for one searcher (one request).

    :param day: each document's day ordinal (0: undated), for date ranges;
        without it a date range is expanded like any other range.
    :param budget: the cost bound of the query (none by default).
    """

    def __init__(self, searcher, cache: PostingCache, budget: QueryBudget | None = None,
                 day: np.ndarray | None = None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.parent = searcher.get_parent()
        self.cache = cache
        self.n = cache.n
        self.budget = budget or unbounded()
        self.day = day

    # -- matching ---------------------------------------------------------------

    def mask(self, q: wq.Query) -> np.ndarray:
        """Documents matching ``q`` (deleted ones included: the caller masks them)."""
        self.budget.check()
        if isinstance(q, wq.Term):
            return self._docs_mask(self._postings(q.fieldname, q.text))
        if isinstance(q, FieldsTerm):
            return _reduce(np.logical_or, [self._docs_mask(self._postings(f, q.text)) for f in q.fields],
                           self.n, False)
        if isinstance(q, AtLeast):
            counts = np.zeros(self.n, dtype=np.uint16)  # MAX_CLAUSES parts at most
            for sub in q.subqueries:
                counts += self.mask(sub)
            return counts >= q.minimum
        if isinstance(q, (wq.And, wq.Or)):
            op, empty = (np.logical_and, True) if isinstance(q, wq.And) else (np.logical_or, False)
            return _reduce(op, [self.mask(s) for s in q.subqueries], self.n, empty)
        if isinstance(q, wq.Not):
            return ~self.mask(q.query)
        if isinstance(q, wq.AndNot):
            return self.mask(q.a) & ~self.mask(q.b)
        if isinstance(q, wq.AndMaybe):
            return self.mask(q.a)
        if isinstance(q, wq.Require):
            return self.mask(q.a) & self.mask(q.b)
        if isinstance(q, _PATTERNS):
            return self._pattern_mask(q)
        if isinstance(q, wq.Phrase):
            docs = self._phrase_docs(q)
            if docs is not None:
                return self._docs_mask(docs)
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            return np.ones(self.n, dtype=bool)
        if q is wq.NullQuery:
            return np.zeros(self.n, dtype=bool)
        return self._docs_mask(np.fromiter(q.docs(self.searcher), dtype=np.int64))  # Whoosh matches the rest

    def _docs_mask(self, docs) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        if docs is not None:
            out[docs.docs if isinstance(docs, Postings) else docs] = True
        return out

    def _postings(self, field: str, text) -> Postings | None:
        schema = self.searcher.schema
        if field not in schema:
            return None
        try:
            btext = text if isinstance(text, bytes) else schema[field].to_bytes(text)
        except ValueError:
            return None
        self.budget.check()
        return self.cache.get(self.reader, field, btext)

    def _pattern_mask(self, q) -> np.ndarray:
        if q.fieldname == "date" and isinstance(q, wq.TermRange) and self.day is not None:
            return self._date_mask(q)
        key = ("pattern",) + _pattern_key(q)
        found = self.cache.remembered(key)  # a pattern's matches are found once per reader
        if found is None:
            found = np.zeros(self.n, dtype=bool)
            for btext in self.words(q):
                found |= self._docs_mask(self._postings(q.fieldname, btext))
            found.flags.writeable = False  # shared: every caller combines it into a new array
            self.cache.remember(key, found)
        return found

    def words(self, q) -> list[bytes]:
        """The words a prefix, wildcard or range stands for, looked up once per
        reader (the vocabulary of a leading wildcard read once, for every thread).

        :raises QueryError: too many words, for the pattern or the query.
        """
        key = ("words",) + _pattern_key(q)
        found = self.cache.words.get(key)
        if found is None:
            vocabulary = lambda field: self.cache.vocabulary(self.reader, field)  # noqa: E731
            found = wi.pattern_words(q, self.reader, key[3], vocabulary)
            self.cache.words[key] = found
        self.budget.spend_words(len(found), wi.describe(q))
        return found

    def _date_mask(self, q: wq.TermRange) -> np.ndarray:
        first = dt.date.fromisoformat(q.start).toordinal() + q.startexcl if q.start else 1
        last = dt.date.fromisoformat(q.end).toordinal() - q.endexcl if q.end else None
        mask = self.day >= first
        return mask & (self.day <= last) if last is not None else mask

    def _phrase_docs(self, q: wq.Phrase) -> np.ndarray | None:
        """Documents holding the words at consecutive positions (up to ``slop`` apart,
        in order, as Whoosh's ``SpanNear2``); None when Whoosh must do it."""
        field = q.fieldname
        schema = self.searcher.schema
        if field not in schema or not schema[field].format.supports("positions") or not 1 <= q.slop <= 8:
            return None
        try:
            btexts = [schema[field].to_bytes(w) for w in q.words]
        except ValueError:
            return np.zeros(0, np.int64)
        if not btexts:
            return None
        key = ("phrase", field, tuple(btexts), q.slop)
        found = self.cache.remembered(key)
        if found is None:
            found = self._match_phrase(field, btexts, q.slop)
            if found is None:
                return None
            self.cache.remember(key, found)
        return found

    def _match_phrase(self, field: str, btexts: list[bytes], slop: int) -> np.ndarray | None:
        postings = [self._postings(field, b) for b in btexts]
        candidates = postings[0].docs
        for p in postings[1:]:
            candidates = np.intersect1d(candidates, p.docs, assume_unique=True)
        if not len(candidates):
            return candidates
        try:
            keys = [self.cache.positions(self.reader, field, b).keys for b in btexts]
        except wp.Unsupported:
            return None
        # The span so far is known by its last position: the next word must
        # follow it within ``slop`` (Whoosh's ordered SpanNear2 with mindist 1).
        ends = keys[0][np.isin(keys[0] // SPAN, candidates)]
        for following in keys[1:]:
            self.budget.check()
            grown = [_members(ends + gap, following) for gap in range(1, slop + 1)]
            ends = grown[0] if slop == 1 else np.unique(np.concatenate(grown))
            if not len(ends):
                break
        return np.unique(ends // SPAN)

    # -- scoring ------------------------------------------------------------------

    def scores(self, q: wq.Query) -> np.ndarray | None:
        """Every document's score for ``q``, or None when ``q`` has a part scored only by Whoosh."""
        if not isinstance(self.searcher.weighting, Weighting):
            return None
        try:
            return self._score(q)
        except wp.Unsupported:
            return None

    def _score(self, q: wq.Query) -> np.ndarray:
        self.budget.check()
        if isinstance(q, wq.Term):
            return self._term_scores(q)
        if isinstance(q, FieldsTerm):
            return self._fields_term_scores(q)
        if isinstance(q, wq.Or) and q.scale:
            raise wp.Unsupported("coordination")  # Whoosh's CoordMatcher (not used by searchapp's queries)
        if isinstance(q, (wq.And, wq.Or)) and type(q).matcher is _COMPOUND_MATCHER:
            return self._compound_scores(q)
        if isinstance(q, wq.AndNot):
            return np.where(self.mask(q.b), 0.0, self._score(q.a))
        if isinstance(q, wq.Not):
            return np.zeros(self.n)  # an exclusion adds nothing (And masks with it)
        if isinstance(q, _PATTERNS):
            return np.where(self._pattern_mask(q), float(q.boost), 0.0)
        if isinstance(q, wq.Phrase):
            # Whoosh scores a phrase as its words' terms together (SpanNear2 over an intersection).
            docs = self._phrase_docs(q)
            if docs is None:
                raise wp.Unsupported("phrase")
            total = _sum([self._term_scores(wq.Term(q.fieldname, word)) for word in q.words], self.n)
            out = np.zeros(self.n)
            out[docs] = total[docs] * q.boost
            return out
        raise wp.Unsupported(type(q).__name__)

    def _compound_scores(self, q) -> np.ndarray:
        subs = q.subqueries
        if not subs:
            return np.zeros(self.n)
        if len(subs) == 1:
            return self._score(subs[0])  # Whoosh uses the one matcher as it is
        total = _sum([self._score(s) for s in subs], self.n)
        if q.boost != 1.0:
            total *= q.boost
        if isinstance(q, wq.And):
            total = np.where(_reduce(np.logical_and, [self.mask(s) for s in subs], self.n, True), total, 0.0)
        return total

    def _term_scores(self, q: wq.Term) -> np.ndarray:
        field, out = q.fieldname, np.zeros(self.n)
        postings = self._postings(field, q.text)
        if postings is None or not len(postings.docs):
            return out
        tf = postings.weights
        if not self.searcher.schema[field].scorable:
            part = tf  # Whoosh's WeightScorer: the weight is the score
        else:
            w = self.searcher.weighting
            btext = self.searcher.schema[field].to_bytes(q.text)
            avgfl = self.parent.avg_field_length(field) or 1
            fl = self.cache.lengths(self.reader, field)[postings.docs]
            part = ranking.term_score(self.parent.idf(field, btext), tf, fl, avgfl, w._field_B.get(field, w.B), w.K1)
        out[postings.docs] = part * q.boost if q.boost != 1.0 else part
        return out

    def _fields_term_scores(self, q: FieldsTerm) -> np.ndarray:
        tf = np.zeros(self.n)
        dfs, holding = [], []
        for field in q.fields:
            postings = self._postings(field, q.text)
            dfs.append(self.cache.doc_frequency(self.parent, field, q.text))
            if postings is None or not len(postings.docs):
                continue
            avg = self.parent.avg_field_length(field) or 1.0
            length = self.cache.lengths(self.reader, field)[postings.docs]
            norm = ranking.length_norm(np.where(length > 0, length, 1.0), avg)
            tf[postings.docs] += FIELD_BOOSTS.get(field, 1.0) * postings.weights / norm
            holding.append(postings.docs)
        # Saturated only where the word is, not over every document; a document
        # in two fields' postings is written twice with the same value.
        held = holding[0] if len(holding) == 1 else np.concatenate(holding) if holding else holding
        if len(held):
            tf[held] = q.boost * ranking.idf(self.parent.doc_count_all(), max(dfs)) * ranking.saturate(tf[held])
        return tf


_COMPOUND_MATCHER = wq.compound.CompoundQuery.matcher


def _pattern_key(q) -> tuple:
    return (type(q).__name__, q.fieldname, getattr(q, "max_words", MAX_EXPANSIONS),
            *(getattr(q, name, None) for name in ("text", "start", "end", "startexcl", "endexcl")))


def _members(wanted: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """The values of ``wanted`` found in ``sorted_keys``."""
    if not len(sorted_keys) or not len(wanted):
        return wanted[:0]
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return wanted[sorted_keys[at] == wanted]


def _reduce(op, arrays: list[np.ndarray], n: int, empty: bool) -> np.ndarray:
    if not arrays:
        return np.full(n, empty, dtype=bool)
    out = arrays[0].copy()
    for a in arrays[1:]:
        op(out, a, out=out)
    return out


def _sum(arrays: list[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n)
    for a in arrays:
        out += a
    return out
