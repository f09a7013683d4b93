"""Relevance ranking: BM25F over the text fields, one score per query word.

Whoosh's own ``BM25F`` scores every field apart and adds the field scores up,
so a word found in the title and in the body is counted (and saturated)
twice, with a per-field idf that makes title words look rare. Here a query
word is one :class:`FieldsTerm`, scored as BM25F is defined (Robertson &
Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009):
the field-weighted, length-normalised frequencies are added up first and
saturated once, with one idf per word::

    tf = sum over fields f of  weight_f * tf_f / (1 - B + B * length_f / avg_length_f)
    score = boost * idf * tf * (K1 + 1) / (tf + K1)
    idf = ln(1 + (N - df + 0.5) / (df + 0.5)),  df = the largest field document frequency

The field weights are ``schema.FIELD_BOOSTS``; ``K1``, ``B`` and the weights
were chosen on half of the queries of seven IR test collections and checked
on the other half (``benchmarks/relevance.py``).
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Iterator, Sequence

from whoosh import matching, scoring
from whoosh import query as wq

from .schema import FIELD_BOOSTS, TEXT_FIELDS

K1 = 1.5
B = 0.4

__all__ = ["B", "K1", "FieldsTerm", "idf", "weighting"]


def weighting() -> scoring.WeightingModel:
    """The searcher's weighting, for what is scored field by field (phrases, ``title:word``)."""
    return scoring.BM25F(B=B, K1=K1)


def idf(doc_count: int, doc_frequency: int) -> float:
    """BM25's idf, never negative (Lucene's form).

    >>> round(idf(1000, 10), 3), idf(1000, 0) > idf(1000, 1), idf(10, 10) > 0
    (4.557, True, True)
    """
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


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
        weight = self.boost * idf(parent.doc_count_all(), df)
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
        return self._weight * (K1 + 1)

    def score(self) -> float:
        docnum = self.child.id()
        tf = 0.0
        for leaf in self.child.term_matchers():
            if leaf.is_active() and leaf.id() == docnum:
                field = leaf.term()[0]
                norm = 1 - B + B * self._length(docnum, field, 1) / self._avg[field]
                tf += FIELD_BOOSTS.get(field, 1.0) * leaf.weight() / norm
        return self._weight * tf * (K1 + 1) / (tf + K1)
