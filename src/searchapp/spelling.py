"""Did-you-mean: misspelled words replaced by corpus words, shown as written.

Candidates come from the stemmed body vocabulary (Whoosh's edit-distance
automata); the chosen stem is turned back into a real word by finding it in a
report that holds it, so a suggestion never reads like a stem ("compani").
"""

from __future__ import annotations

import re
import time

from whoosh.support.levenshtein import distance

from .analysis import STOPWORDS, TOKEN_PATTERN, stem
from .highlight import find_matches
from .schema import QUERY_FIELDS

_WORD = re.compile(TOKEN_PATTERN)
_OPERATORS = {"AND", "OR", "NOT", "TO"}
# issue 6: the edit-distance automaton grows with the word (a 100,000-letter
# "word" took 80 s and 600 MB); no real word is this long.
MAX_WORD_CHARS = 40
# ... and each unknown word costs a walk of the vocabulary (half a second on a
# 20,000-word index): a query of 150 unknown words took over a minute.
MAX_LOOKUPS = 5


def suggest(searcher, text: str, seconds: float = float("inf")) -> str | None:
    """``text`` with each unknown word replaced by the likeliest corpus word, or None.

    :param seconds: no word is looked up after this long (issue 11: a walk of
        the vocabulary can take most of a second for a long made-up word).
    """
    reader = searcher.reader()
    deadline = time.monotonic() + seconds
    out, pos, changed, lookups = [], 0, False, 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        if _skip(text, m, word):
            continue
        term = stem(word)
        if _freq(reader, term):
            continue
        lookups += 1
        if lookups > MAX_LOOKUPS or time.monotonic() > deadline:
            break
        better = _best_stem(reader, term, word.lower())
        if better is None:
            continue
        surface = _surface(searcher, better) or better
        if word[:1].isupper():
            surface = surface[:1].upper() + surface[1:]
        out.append(text[pos:m.start()])
        out.append(surface)
        pos, changed = m.end(), True
    if not changed:
        return None
    out.append(text[pos:])
    return "".join(out)


def _skip(text: str, m: re.Match, word: str) -> bool:
    after = text[m.end():m.end() + 1]
    return (
        word in _OPERATORS
        or word.lower() in STOPWORDS
        or (after == ":" and word.lower() in QUERY_FIELDS)
        or any(c.isdigit() for c in word)
        or len(word) < 3
        or len(word) > MAX_WORD_CHARS
        or text[max(0, m.start() - 1):m.start()] == ":"  # a field's value
    )


def _freq(reader, term: str) -> int:
    return reader.doc_frequency("body", term) + reader.doc_frequency("title", term)


def _best_stem(reader, term: str, word: str) -> str | None:
    maxdist = 1 if len(term) < 3 else 2
    candidates = set()
    for probe in {term, word}:
        candidates.update(reader.terms_within("body", probe, maxdist, prefix=1))
    if not candidates:
        return None

    return min(candidates, key=lambda c: (min(distance(c, term), distance(c, word)), -_freq(reader, c), c))


def _surface(searcher, term: str) -> str | None:
    """A word as written in a report whose stem is ``term``."""
    for docnum in searcher.reader().postings("body", term).all_ids():
        body = searcher.stored_fields(docnum).get("body", "")
        spans = find_matches(body, frozenset([term]))
        if spans:
            start, end = spans[0]
            word = _WORD.match(body, start)
            return (word.group(0) if word else body[start:end]).lower()
        break
    return None
