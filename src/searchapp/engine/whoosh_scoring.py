"""BM25F in Whoosh's query and scoring objects, with ``ranking``'s formula.

Whoosh's own ``BM25F`` scores every field apart and adds the field scores
up, so a word found in the title and in the body is counted (and saturated)
twice, with a per-field idf that makes title words look rare. Here a query
word is one :class:`FieldsTerm`, scored as ``ranking`` defines BM25F, and the
searcher's :class:`Weighting` scores what stays per field (phrases,
``title:word``) with the same functions.
"""

from __future__ import annotations

from functools import reduce
from typing import Iterator, Sequence

from whoosh import matching, scoring
from whoosh import query as wq

from .. import ranking
from ..schema import FIELD_BOOSTS, TEXT_FIELDS

__all__ = ["FieldsTerm", "Weighting", "weighting"]


class Weighting(scoring.BM25F):
    """Whoosh's BM25F weighting with ``ranking``'s formula (one field at a time)."""

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        return _FieldScorer(searcher, fieldname, text, self._field_B.get(fieldname, self.B), self.K1, qf=qf)


class _FieldScorer(scoring.BM25FScorer):
    def _score(self, weight, length):
        return ranking.term_score(self.idf, weight, length, self.avgfl, self.B, self.K1)


def weighting() -> Weighting:
    """The searcher's weighting, for what is scored field by field (phrases, ``title:word``)."""
    return Weighting(B=ranking.B, K1=ranking.K1)


class FieldsTerm(wq.Query):
    """One analysed word, matched in any of ``fields`` and scored as BM25F.

    :param text: the word as indexed (already analysed).
    :param boost: multiplies the score (a word repeated in the query weighs more).
    """

    def __init__(self, text: str, fields: Sequence[str] = TEXT_FIELDS, boost: float = 1.0) -> None:
        self.text = text
        self.fields = tuple(fields)
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FieldsTerm) and self.text == other.text
                and self.fields == other.fields and self.boost == other.boost)

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, self.text, self.fields, self.boost))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.text!r}, {self.fields!r}, boost={self.boost!r})"

    def __unicode__(self) -> str:
        return f"({'|'.join(self.fields)}):{self.text}" + (f"^{self.boost:g}" if self.boost != 1 else "")

    __str__ = __unicode__

    def is_leaf(self) -> bool:
        return True

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for field in self.fields:
            yield field, self.text

    def tokens(self, boost: float = 1.0):
        for field in self.fields:
            yield from wq.Term(field, self.text).tokens(boost * self.boost)

    def replace(self, fieldname, oldtext, newtext):
        if self.text == oldtext and fieldname in self.fields:
            return FieldsTerm(newtext, self.fields, self.boost)
        return self

    def estimate_size(self, ixreader) -> int:
        return sum(ixreader.doc_frequency(f, self.text) for f in self.fields)

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        parent = searcher.get_parent()  # collection statistics come from the whole index
        leaves, avg = [], {}
        for field in self.fields:
            btext = searcher.schema[field].to_bytes(self.text)
            avg[field] = parent.avg_field_length(field) or 1.0
            if (field, btext) in reader:
                leaves.append(reader.postings(field, btext))
        if not leaves:
            return matching.NullMatcher()
        df = max(parent.doc_frequency(f, self.text) for f in self.fields)
        weight = self.boost * ranking.idf(parent.doc_count_all(), df)
        child = reduce(matching.UnionMatcher, leaves)
        return _BM25FMatcher(child, weight, avg, searcher.doc_field_length)


class _BM25FMatcher(matching.WrappingMatcher):
    """Scores the documents of a union of one word's field postings as BM25F."""

    def __init__(self, child, weight: float, avg: dict[str, float], field_length) -> None:
        super().__init__(child)
        self._weight, self._avg, self._length = weight, avg, field_length

    def _replacement(self, newchild):
        return _BM25FMatcher(newchild, self._weight, self._avg, self._length)

    def copy(self):
        return self._replacement(self.child.copy())

    def replace(self, minquality=0):
        # The field postings carry no scorer: they must not be asked for quality.
        if not self.child.is_active():
            return matching.NullMatcher()
        replaced = self.child.replace(0)
        return self if replaced is self.child else self._replacement(replaced)

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self._weight * (ranking.K1 + 1)

    def score(self) -> float:
        docnum = self.child.id()
        tf = 0.0
        for leaf in self.child.term_matchers():
            if leaf.is_active() and leaf.id() == docnum:
                field = leaf.term()[0]
                norm = ranking.length_norm(self._length(docnum, field, 1), self._avg[field])
                tf += FIELD_BOOSTS.get(field, 1.0) * leaf.weight() / norm
        return self._weight * ranking.saturate(tf)
