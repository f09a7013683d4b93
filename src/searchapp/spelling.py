"""Did-you-mean: misspelled words replaced by corpus words, shown as written.

Candidates come from two places: every string one edit away from the typed
word (deletion, transposition, replacement, insertion) whose stem the index
holds, so ``accusatons`` reaches *accusations* although the stems
("accusaton", "accus") are far apart; and the stems within two edits of the
typed word or its stem (Whoosh's edit-distance automata). Each candidate is
scored by its corpus frequency against its edit distance (a noisy channel:
one more edit must be paid for by :data:`EDIT_COST` times the frequency), and
shown as a real word: the spelling of the stem in reports closest to what was
typed, so a suggestion never reads like a stem ("compani").

A word the index holds is questioned too when the results are few and a
spelling one edit away is :data:`KNOWN_RATIO` times as frequent
(``vulnerabilty`` -> *vulnerability*), and words of ``title:`` and ``body:``
are corrected against their own field.
"""

from __future__ import annotations

import math
import re
import string
import time
from dataclasses import dataclass

from whoosh.support.levenshtein import distance

from .engine.whoosh_internals import field_words
from .analysis import STOPWORDS, TOKEN_PATTERN, stem
from .highlight import find_matches
from .schema import QUERY_FIELDS

_WORD = re.compile(TOKEN_PATTERN)
_OPERATORS = {"AND", "OR", "NOT", "TO"}
_LETTERS = string.ascii_lowercase
_TEXT_FIELDS = ("title", "body")
# issue 6: the edit-distance automaton grows with the word (a 100,000-letter
# "word" took 80 s and 600 MB); no real word is this long.
MAX_WORD_CHARS = 40
# ... and each unknown word costs a walk of the vocabulary (half a second on a
# 20,000-word index): a query of 150 unknown words took over a minute.
MAX_LOOKUPS = 5
# One more edit is worth it only for a word this many times as frequent.
EDIT_COST = 300.0
# A word the index holds is questioned only when the results are this few ...
FEW_RESULTS = 100
# ... and a spelling one edit away is this many times as frequent.
KNOWN_RATIO = 20
SURFACE_DOCS = 40  # reports read for a stem's spellings, unless one is a single edit from the typed word


@dataclass(frozen=True)
class _Candidate:
    term: str  # the stem in the index
    edits: int
    freq: int

    @property
    def score(self) -> float:
        return math.log(self.freq) - self.edits * math.log(EDIT_COST)


def suggest(searcher, text: str, total: int = 0, seconds: float = float("inf"), frequency=None) -> str | None:
    """``text`` with each misspelled word replaced by the likeliest corpus word, or None.

    :param total: how many reports the query found; words the index holds are
        questioned only when it is at most :data:`FEW_RESULTS`.
    :param seconds: no word is looked up after this long (issue 11: a walk of
        the vocabulary can take most of a second for a long made-up word).
    :param frequency: ``(field, word) -> document frequency`` (default: the
        reader's; the engine passes the one it remembers per reader).
    """
    reader = _Counted(searcher.reader(), frequency)
    deadline = time.thread_time() + seconds  # this thread's CPU, as the query budget counts
    out, pos, changed, lookups = [], 0, False, 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        field = _field_of(text, m, word)
        if field is None:
            continue
        term = stem(word)
        known = sum(reader.doc_frequency(f, term) for f in field if f in reader.schema)
        if known and (total > FEW_RESULTS or known * KNOWN_RATIO > len(field) * reader.doc_count()):
            continue  # enough results, or no spelling could be KNOWN_RATIO times as frequent
        lookups += 1
        if lookups > MAX_LOOKUPS or time.thread_time() > deadline:
            break
        better = _best(reader, term, word.lower(), field, known)
        if better is None:
            continue
        surface = _surface(searcher, better.term, field, word.lower()) or better.term
        if word[:1].isupper():
            surface = surface[:1].upper() + surface[1:]
        out.append(text[pos:m.start()])
        out.append(surface)
        pos, changed = m.end(), True
    if not changed:
        return None
    out.append(text[pos:])
    return "".join(out)


def _field_of(text: str, m: re.Match, word: str) -> tuple[str, ...] | None:
    """The text fields a word searches (``title:word``: the title), or None: not a word to correct."""
    after = text[m.end():m.end() + 1]
    if (word in _OPERATORS or word.lower() in STOPWORDS or any(c.isdigit() for c in word)
            or len(word) < 3 or len(word) > MAX_WORD_CHARS
            or (after == ":" and word.lower() in QUERY_FIELDS)):
        return None
    if text[max(0, m.start() - 1):m.start()] != ":":
        return _TEXT_FIELDS
    name = re.search(r"(\w+):$", text[:m.start()])
    if name and name.group(1) in _TEXT_FIELDS:
        return (name.group(1),)
    return None  # a source, topic or date value, or an unknown field (the query's error)


class _Counted:
    """A reader that knows, per text field, which words its segments hold (read
    the first time a word of that field is looked up): a candidate no segment
    holds costs a set look-up, not a read of Whoosh's term table."""

    def __init__(self, reader, frequency=None) -> None:
        self._reader = reader
        self._words: dict[str, frozenset[str]] = {}
        self._frequency = frequency or reader.doc_frequency

    def doc_frequency(self, field: str, term: str) -> int:
        return self._frequency(field, term)

    def words(self, field: str) -> frozenset[str]:
        """Every word of ``field`` that some segment holds (none: not a field of the index)."""
        words = self._words.get(field)
        if words is None:
            words = self._words[field] = (field_words(self._reader, field) if field in self._reader.schema
                                          else frozenset())
        return words

    def held(self, field: str, term: str) -> int:
        return self._frequency(field, term) if term in self.words(field) else 0

    def __getattr__(self, name: str):
        return getattr(self._reader, name)


def _freq(reader: _Counted, term: str, fields: tuple[str, ...]) -> int:
    return sum(reader.held(f, term) for f in fields)


def _best(reader, term: str, word: str, fields: tuple[str, ...], known: int) -> _Candidate | None:
    """The best-scoring candidate; for a known word, only a far more frequent one-edit spelling."""
    found = _one_edit(reader, term, word, fields)
    if known:
        found = [c for c in found if c.freq >= KNOWN_RATIO * known]
    elif max((c.freq for c in found), default=0) * EDIT_COST <= reader.doc_count():
        # Only then can a word two edits away outscore the best one-edit word
        # (it would need EDIT_COST times its frequency): the costly walk is skipped.
        found += _two_edits(reader, term, word, fields, {c.term for c in found})
    if not found:
        return None
    return max(found, key=lambda c: (c.score, c.term))


def _one_edit(reader, term: str, word: str, fields: tuple[str, ...]) -> list[_Candidate]:
    """The stems of the strings one edit from ``word`` that the index holds."""
    stems = {stem(edited) for edited in _edits(word)} - {term} - STOPWORDS
    vocabularies = [reader.words(f) for f in fields]
    held = set().union(*(stems & words for words in vocabularies))  # ~550 strings: the sets first
    found = [_Candidate(c, 1, _freq(reader, c, fields)) for c in held]
    return [c for c in found if c.freq]


def _edits(word: str) -> set[str]:
    """Norvig's one-edit neighbourhood: about 54n + 25 strings for n letters."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS if c != b[0]]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts) - {word}


def _two_edits(reader, term: str, word: str, fields: tuple[str, ...], have: set[str]) -> list[_Candidate]:
    """Index stems within two edits of the word or its stem (one automaton walk per probe)."""
    maxdist = 1 if len(term) < 3 else 2
    stems = set()
    # The body's vocabulary holds nearly all of the title's: one walk per probe, not two.
    walked = ("body",) if "body" in fields else fields
    for probe in {term, word}:
        for field in walked:
            stems.update(reader.terms_within(field, probe, maxdist, prefix=1))
    out = []
    for candidate in stems - have - {term}:
        edits = min(distance(candidate, term), distance(candidate, word))
        freq = _freq(reader, candidate, fields)
        if edits and freq:
            out.append(_Candidate(candidate, edits, freq))
    return out


def _surface(searcher, term: str, fields: tuple[str, ...], typed: str) -> str | None:
    """The word as written in reports whose stem is ``term``, the one closest to ``typed``.

    ``ransomwear`` is one edit from "ransomwar", a stem, not a word: the
    reports say *ransomware*. At most :data:`SURFACE_DOCS` reports are read.
    """
    reader = searcher.reader()
    words: set[str] = set()
    for field in fields:
        if not reader.doc_frequency(field, term):
            continue
        for read, docnum in enumerate(reader.postings(field, term).all_ids()):
            text = searcher.stored_fields(docnum).get(field, "")
            for start, end in find_matches(text, frozenset([term])):
                word = _WORD.match(text, start)
                words.add((word.group(0) if word else text[start:end]).lower())
            if read + 1 >= SURFACE_DOCS or any(distance(w, typed) <= 1 for w in words):
                break
    return min(words, key=lambda w: (distance(w, typed), w)) if words else None
