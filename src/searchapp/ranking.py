"""Relevance ranking: the one BM25F formula, as small functions over arrays.

A query word is scored as BM25F is defined (Robertson & Zaragoza, "The
Probabilistic Relevance Framework: BM25 and Beyond", 2009): the
field-weighted, length-normalised frequencies are added up first and
saturated once, with one idf per word::

    tf = sum over fields f of  weight_f * tf_f / (1 - B + B * length_f / avg_length_f)
    score = boost * idf * tf * (K1 + 1) / (tf + K1)
    idf = ln(1 + (N - df + 0.5) / (df + 0.5)),  df = the largest field document frequency

A word searched in one field (``title:word``, a phrase's words) is the same
formula over that one field with weight 1 and Whoosh's idf. Every path uses
these functions: the array engine (``engine.arrays``), the Whoosh matcher of
``engine.whoosh_scoring.FieldsTerm`` and the searcher's weighting. The field
weights are ``schema.FIELD_BOOSTS``; ``K1``, ``B`` and the weights were
chosen on half of the queries of seven IR test collections and checked on
the other half (``benchmarks/relevance.py``).
"""

from __future__ import annotations

import math

import numpy as np

K1 = 1.5
B = 0.4

__all__ = ["B", "K1", "idf", "length_norm", "saturate", "term_score", "tiered"]


def idf(doc_count: int, doc_frequency: int) -> float:
    """BM25's idf, never negative (Lucene's form).

    >>> round(idf(1000, 10), 3), idf(1000, 0) > idf(1000, 1), idf(10, 10) > 0
    (4.557, True, True)
    """
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


def length_norm(length, avg_length: float, b: float = B):
    """BM25's length normalisation: 1 for a document of average length.

    >>> length_norm(10.0, 10.0), length_norm(20.0, 10.0, b=0.5)
    (1.0, 1.5)
    """
    return 1 - b + b * length / avg_length


def saturate(tf, k1: float = K1):
    """BM25's term-frequency saturation of a (normalised) frequency.

    >>> saturate(0.0), round(saturate(1.0), 3), saturate(1e12) < K1 + 1
    (0.0, 1.0, True)
    """
    return tf * (k1 + 1) / (tf + k1)


def term_score(weight: float, tf, length, avg_length: float, b: float = B, k1: float = K1):
    """One field's BM25: ``weight`` (idf times boost) times the saturated,
    length-normalised frequency. Works on floats and NumPy arrays alike.

    >>> float(term_score(2.0, np.array([1.0]), np.array([10.0]), 10.0)[0])
    2.0
    """
    return weight * saturate(tf / length_norm(length, avg_length, b), k1)


def tiered(scores: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``scores`` raised where ``first`` holds, by the highest score plus one, so
    that every ``first`` document ranks above every other and each tier keeps
    its own order (issue 13 item 8: the reports holding all the query's words,
    then those holding some of them).

    >>> tiered(np.array([3.0, 1.0, 0.5]), np.array([False, True, False])).tolist()
    [3.0, 5.0, 0.5]
    """
    if not first.any():
        return scores
    return np.where(first, scores + (float(scores.max()) + 1.0), scores)
