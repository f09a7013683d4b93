"""Cleaning entity names: noise dropped, people's short forms merged.

>>> clean_name("the Ministry of Defense's"), clean_name("they"), clean_name("2019")
('Ministry of Defense', None, None)
>>> merge_short_forms(["Andrii Belkov", "Belkov", "Smirnov"])
{'Belkov': 'Andrii Belkov'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["clean_name", "clean_person", "curated_name", "merge_short_forms"]

_PRONOUNS = frozenset(
    "i me my mine we us our ours you your yours he him his she her hers it its they them "
    "their theirs who whom whose this that these those".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday today yesterday tomorrow".split()
)
# Honorifics and offices in front of a name ("President Reagan", "Mr Smirnov").
_TITLES = frozenset(
    "mr mr. mrs mrs. ms ms. dr dr. sir president minister secretary senator governor "
    "chairman chancellor premier prime general gen. lawyer judge king queen prince "
    "lt. col. colonel captain".split()
)
# an article or a possessive in front ("Its Alex. Brown", "his Ministry")
_LEADING = re.compile(r"^(?:the|a|an|its|his|her|their|our|my|your)\s+", re.IGNORECASE)
_TRAILING = re.compile(r"(?:'s|’s|'|’)$")
_EDGE_PUNCT = "\"'“”‘’«»()[]{},.;:!?-–— \n\t"
_HAS_DIGIT = re.compile(r"\d")
# Reuters writes its curated tags as lower-case, hyphenated words.
_PARTICLES = frozenset({"de", "du", "da", "van", "von", "der", "la", "le", "del", "di"})


def clean_name(text: str) -> str | None:
    """``text`` with whitespace collapsed, a leading article or possessive
    pronoun and a trailing possessive removed; None when what is left is noise: empty, a pronoun, a
    lower-case single word, a number or a date."""
    name = " ".join(text.split()).strip(_EDGE_PUNCT)
    name = _TRAILING.sub("", _LEADING.sub("", name)).strip(_EDGE_PUNCT)
    if not name or _HAS_DIGIT.search(name):
        return None
    words = name.split()
    if len(words) == 1 and not name[0].isupper():
        return None
    if all(w.lower().strip(".") in _PRONOUNS | _MONTHS for w in words):
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    return name


def clean_person(text: str) -> str | None:
    """:func:`clean_name`, then honorifics dropped and every word capitalised."""
    name = clean_name(text)
    if name is None:
        return None
    words = name.split()
    while len(words) > 1 and words[0].lower() in _TITLES:
        words = words[1:]
    if not all(w[0].isupper() or w.lower() in _PARTICLES for w in words):
        return None  # "Smirnov emphasized" is not a name
    if name.isupper():
        words = [w.capitalize() for w in words]
    return clean_name(" ".join(words))


def curated_name(text: str, acronym_max: int = 0) -> str | None:
    """A curated tag as a display name: Reuters' ``james-baker`` becomes
    ``James Baker``; names already in mixed case are kept. Lower-case tags of at
    most ``acronym_max`` letters are acronyms (``opec`` -> ``OPEC``)."""
    raw = " ".join(str(text).split())
    if not raw:
        return None
    if raw != raw.lower():
        return clean_name(raw)
    if len(raw) <= acronym_max and raw.isalpha():
        return raw.upper()
    words = raw.replace("-", " ").split()
    shown = [w if (w in _PARTICLES and i) else w.capitalize() for i, w in enumerate(words)]
    return clean_name(" ".join(shown))


def merge_short_forms(names: Iterable[str], known: Iterable[str] = ()) -> dict[str, str]:
    """Short forms -> the one longer name that ends with them.

    A name is a short form of a longer one when its words are the longer one's
    last words ("Belkov", "Andrii Belkov"). A short form that fits two longer
    names ("Ivanov": "Serhiy Ivanov", "Sergei Ivanov") is left alone.
    ``known`` adds longer names from elsewhere (other reports).
    """
    pool = set(names)
    longer = pool | set(known)
    merged: dict[str, str] = {}
    for short in pool:
        tail = short.split()
        fits = {
            full for full in longer
            if len(full.split()) > len(tail) and full.split()[-len(tail):] == tail
        }
        if len(fits) == 1:
            merged[short] = fits.pop()
    return merged
