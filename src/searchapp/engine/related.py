"""Related reports ("more like this"): a report's telling words as a query.

Whoosh's ``more_like`` picks words by a divergence model over the body and
ranks with them unweighted; on a mixed collection a CRS sidebar on parental
rights got five 1993 Usenet posts. Here:

- the report's words (title and body, as indexed) are weighted by tf-idf,
  with the frequency dampened (``1 + ln tf``) so a long report's repeated
  words do not crowd out the rest; words in one report only or in more than
  a fifth of the collection say nothing about likeness and are left out;
- the best ``WORDS`` of them form one BM25F query (``ranking``: length-
  normalised, title words weigh more), each word boosted by its weight;
- among the best scores, a report of the same source, or sharing a topic,
  goes first when its score is close to the other's (``SAME_SOURCE``, ``SAME_TOPIC``).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from whoosh import query as wq

from .. import ranking
from ..analysis import analyze
from ..schema import TEXT_FIELDS
from .arrays import ArrayQueryEngine
from .whoosh_scoring import FieldsTerm

WORDS = 25
COMMON_SHARE = 0.2  # a word in more than this share of the reports is left out
# The preference, as a share of the score: a report of the seed's source or
# topic passes another only when their scores are within 6 or 8 % (14 % both).
SAME_SOURCE, SAME_TOPIC = 0.06, 0.08


def telling_words(searcher, fields: dict, limit: int = WORDS) -> list[tuple[str, float]]:
    """The report's ``limit`` most telling index terms and their weights, best first."""
    counts = Counter(analyze(f"{fields.get('title', '')}\n{fields.get('body', '')}"))
    n = searcher.doc_count_all()
    weighted = []
    for term, tf in counts.items():
        df = max(searcher.doc_frequency(f, term) for f in TEXT_FIELDS)
        if df <= 1 or df > COMMON_SHARE * n:
            continue
        weighted.append((term, (1 + math.log(tf)) * ranking.idf(n, df)))
    weighted.sort(key=lambda p: (-p[1], p[0]))
    return weighted[:limit]


def related(searcher, engine: ArrayQueryEngine, docnum: int, live: np.ndarray, limit: int):
    """The ``limit`` reports most like report ``docnum``: (stored fields, score), best first."""
    seed = searcher.stored_fields(docnum)
    words = telling_words(searcher, seed)
    if not words:
        return []
    top = words[0][1]
    q = wq.Or([FieldsTerm(t, TEXT_FIELDS, boost=w / top) for t, w in words])
    scores = engine.scores(q)
    if scores is None:
        return []
    scores = np.where(live, scores, 0.0)
    scores[docnum] = 0.0
    pool = [int(d) for d in np.argsort(-scores, kind="stable")[: limit * 4] if scores[d] > 0]
    candidates = [(searcher.stored_fields(d), float(scores[d])) for d in pool]
    return prefer_close(seed, candidates)[:limit]


def _topics(fields: dict) -> set[str]:
    out = set()
    for name in ("topic", "topic_auto"):
        out.update(t.strip().lower() for t in str(fields.get(name) or "").split(",") if t.strip())
    return out


def prefer_close(seed: dict, candidates: list[tuple[dict, float]]) -> list[tuple[dict, float]]:
    """Candidates (best first) reordered so that, among close scores, the seed's
    source and topics go first; the scores returned are the true ones.

    >>> seed = {"source": "CRS", "topic": "law"}
    >>> c = [({"id": "a", "source": "news"}, 1.0), ({"id": "b", "source": "CRS"}, 0.95),
    ...      ({"id": "c", "source": "CRS"}, 0.5)]
    >>> [f["id"] for f, _ in prefer_close(seed, c)]
    ['b', 'a', 'c']
    """
    topics, source = _topics(seed), seed.get("source")
    return sorted(candidates, key=lambda item: -_preferred(item, source, topics))


def _preferred(item, source, topics) -> float:
    fields, score = item
    bonus = SAME_SOURCE * (fields.get("source") == source) + SAME_TOPIC * bool(topics & _topics(fields))
    return score * (1 + bonus)
