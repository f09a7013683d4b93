"""Places found by looking names up, no model: a near-free alternative to NER
for places.

The text's capitalised runs of up to :data:`LONGEST` words are looked up in
the names :func:`searchapp.entities.places.resolve_place` knows (countries,
former states, cities over 15,000 people, US states), the longest first.
GeoNames holds many towns named like common words ("Police", "Split", "Most",
"Union") or first names ("David", "George"), so a one-word name that is a
city, not a country, is skipped at the start of a sentence, beside another
capitalised word ("Nigel Lawson"), when the same word is also written in lower
case in the text, and when it is a stopword or a month. Codes of two or three
capitals count only when they are known aliases ("US", "UK", "UAE").

>>> find_places("Talks in Rostov-on-Don and the Russian Federation. Police said the U.S. agreed.")
['Rostov-on-Don', 'Russian Federation', 'U.S.']
"""

from __future__ import annotations

import functools
import re

from searchapp.entities.names import _MONTHS
from searchapp.entities.places import (
    _COUNTRY_ALIASES,
    _HISTORIC,
    _city_index,
    _country_index,
    place_key,
    resolve_place,
)

__all__ = ["LONGEST", "find_places"]

LONGEST = 4  # words in the longest name looked up ("Bosnia and Herzegovina")
_WORD = re.compile(r"[^\W\d_]+(?:[-.'’][^\W\d_]+)*\.?")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_JOINERS = frozenset({"of", "on", "and", "de", "la", "le", "du", "del", "upon", "am", "the", "sur"})
_SENTENCE_END = ".!?\n:;\"“”"


@functools.cache
def _stopwords() -> frozenset[str]:
    from searchapp.analysis import STOPWORDS

    return frozenset(STOPWORDS)


@functools.cache
def _known() -> tuple[frozenset[str], frozenset[str]]:
    """Every name :func:`resolve_place` looks up (as :func:`place_key`), and their first words."""
    keys = frozenset(_city_index()) | frozenset(_country_index()) | frozenset(_HISTORIC)
    return keys, frozenset(k.split()[0] for k in keys if k)


def find_places(text: str) -> list[str]:
    """The place names written in ``text``, in order, as written (one per mention)."""
    words = [(m.start(), _POSSESSIVE.sub("", m.group())) for m in _WORD.finditer(text)]
    lower = {w for _, w in words if w.islower()}
    found: list[str] = []
    i = 0
    while i < len(words):
        span = _match(text, words, i, lower)
        if span:
            found.append(" ".join(span) if len(span) > 1 else span[0])
        i += len(span) or 1
    return found


def _match(text: str, words: list[tuple[int, str]], i: int, lower: set[str]) -> list[str]:
    """The words of the longest place name starting at word ``i`` (none: [])."""
    keys, first_words = _known()
    first = words[i][1]
    heads = {(place_key(w).split() or [""])[0] for w in (first, first.rstrip("."))}
    if not first[:1].isupper() or not heads & first_words:
        return []
    for size in range(min(LONGEST, len(words) - i), 0, -1):
        span = [w for _, w in words[i:i + size]]
        if any(_ends_sentence(w) for w in span[:-1]):
            continue
        if _ends_sentence(span[-1]):
            span[-1] = span[-1][:-1]
        if not span[-1][:1].isupper() or any(
                not w[:1].isupper() and w not in _JOINERS for w in span):
            continue
        name = " ".join(span)
        if place_key(name) not in keys and not name.isupper():
            continue
        if resolve_place(name) is not None and _plausible(text, words, i, span, lower):
            return span
    return []


def _ends_sentence(word: str) -> bool:
    """A full stop after a word, not an abbreviation's ("Federation.", not "U.S.")."""
    return word.endswith(".") and "." not in word[:-1] and len(word) > 2


def _plausible(text: str, words, i: int, span: list[str], lower: set[str]) -> bool:
    word = span[0]
    if word.isupper() and len(word.rstrip(".")) <= 3:
        return len(span) > 1 or word.lower() in _COUNTRY_ALIASES  # "US", "UK"; not "IT" or "AT"
    if len(span) > 1 or _is_state(place_key(word)):
        return True
    key = word.lower()
    if key in lower or key in _stopwords() or key in _MONTHS or word.isupper():
        return False
    if _capital_beside(text, words, i - 1, i) or _capital_beside(text, words, i, i + 1):
        return False  # part of a longer name: "Nigel Lawson", "George Bush", "Federal Reserve"
    before = text[:words[i][0]].rstrip(" \t")
    return bool(before) and before[-1] not in _SENTENCE_END


def _capital_beside(text: str, words, left: int, right: int) -> bool:
    """Words ``left`` and ``right`` are both capitalised, with only spaces between."""
    if left < 0 or right >= len(words):
        return False
    (a, first), (b, second) = words[left], words[right]
    between = text[a + len(first):b]
    return first[:1].isupper() and second[:1].isupper() and not between.strip()


def _is_state(key: str) -> bool:
    """A country or a former state (not a city or a US state)."""
    return key in _HISTORIC or key in _country_index()
