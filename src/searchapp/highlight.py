"""Snippets and highlighted text as plain text with the spans of the matched words.

Each surface formats a :class:`results.Highlighted` its own way: the web as
escaped HTML with ``<mark>``, the CLI with its own emphasis, the JSON API as
the spans (and, for compatibility, the HTML of :func:`mark`).

Matches are found with one regular-expression pass over the whole text (no
character limit), then checked against the query's stems, so a long report
is highlighted past Whoosh's 32K-character default as cheaply as a short one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from .analysis import STOPWORDS, spellings_of, stem
from .results import Highlighted

SNIPPET_FRAGMENTS = 3
FRAGMENT_CHARS = 200
LEAD_CHARS = 260
MAX_MATCHES = 5000
ELLIPSIS = "\u2026"

_WHITESPACE = re.compile(r"\s+")
# Between two marks, only spaces, dashes and short stopwords: one mark ("Rostov-on-Don").
_JOINABLE = re.compile(r"[\s\-\u2010-\u2015'\u2019]*(?:(\w{1,3})[\s\-\u2010-\u2015'\u2019]+)?")


_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['\u2019]\w+)*")
_WORD_TAIL = re.compile(r"(?:[\w.,'\u2019]*\w)?")
_WORD_BEFORE = re.compile(r"[\w.,]")


def _prefixes(stems: Iterable[str]) -> list[str]:
    return sorted({s[: max(1, len(s) - 1)] for s in spellings_of(stems) if s}, key=len, reverse=True)


@lru_cache(maxsize=256)
def _matcher(stems: frozenset[str]) -> re.Pattern | None:
    prefixes = _prefixes(stems)
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in prefixes)
    return re.compile(rf"(?<![\w.,])(?:{alternatives})(?:[\w.,'\u2019]*\w)?", re.IGNORECASE)


@lru_cache(maxsize=256)
def _lower_matcher(stems: frozenset[str]) -> re.Pattern | None:
    """The word starts, as plain literals for lower-cased text: a case-blind
    regex with a look-behind runs its machine at every character, this one
    lets the regex engine skip ahead (about 10 times faster on long reports)."""
    prefixes = [p.lower() for p in _prefixes(stems)]
    return re.compile("|".join(re.escape(p) for p in prefixes)) if prefixes else None


def _word_starts(text: str, stems: frozenset[str]):
    """(start, end) of each word of ``text`` that starts like one of the stems."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters grow when lower-cased: offsets would shift
        pattern = _matcher(stems)
        if pattern is not None:
            for m in pattern.finditer(text):
                yield m.start(), m.end()
        return
    pattern = _lower_matcher(stems)
    if pattern is None:
        return
    for m in pattern.finditer(lowered):
        start = m.start()
        if start and _WORD_BEFORE.match(text, start - 1):
            continue  # inside a word, or after "." or "," as in 5.93
        yield start, _WORD_TAIL.match(text, m.end()).end()


def find_matches(text: str, stems: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` whose stem is in ``stems``."""
    stems = frozenset(stems)
    spans = []
    for start, end in _word_starts(text, stems):
        # The word may run past a token's end ("5.93," or "word's"); trim to a token.
        token = _TOKEN.match(text, start, end)
        if token and stem(token.group(0)) in stems:
            spans.append((start, token.end()))
            if len(spans) >= MAX_MATCHES:
                break
    return _join(text, spans)


def _join(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out:
            gap = text[out[-1][1]:start]
            m = _JOINABLE.fullmatch(gap)
            if m and (m.group(1) is None or m.group(1).lower() in STOPWORDS) and len(gap) <= 6:
                out[-1] = (out[-1][0], end)
                continue
        out.append((start, end))
    return out


def highlight_spans(text: str, stems: frozenset[str]) -> Highlighted:
    """The whole text and its matched words (titles, the report page)."""
    return Highlighted(text, tuple(find_matches(text, stems)))


def highlight_all(text: str, stems: frozenset[str]) -> str:
    """The whole text escaped and highlighted, as HTML."""
    return highlight_spans(text, stems).to_html()


def snippet_spans(text: str, stems: frozenset[str], fragments: int = SNIPPET_FRAGMENTS) -> Highlighted:
    """A few fragments with context around the best matches, or the text's lead."""
    spans = find_matches(text, stems) if stems else []
    if not spans:
        return Highlighted(_lead(text))
    chosen: list[tuple[int, int]] = []
    remaining = spans
    while remaining and len(chosen) < fragments:
        start, end = _best_window(text, remaining)
        chosen.append((start, end))
        remaining = [s for s in remaining if s[1] <= start or s[0] >= end]
    chosen.sort()
    out = _Joined()
    cut = False  # the previous fragment stops before the text's end
    for i, (start, end) in enumerate(chosen):
        if i and cut and start > 0:
            out.add(f" {ELLIPSIS} ")  # two cuts in a row read as one
        elif i:
            out.add((ELLIPSIS if cut else "") + " " + (ELLIPSIS if start > 0 else ""))
        elif start > 0:
            out.add(ELLIPSIS)
        pos = start
        for s_start, s_end in (s for s in spans if s[0] >= start and s[1] <= end):
            out.add(text[pos:s_start])
            out.add(text[s_start:s_end], marked=True)
            pos = s_end
        out.add(text[pos:end])
        cut = end < len(text)
    if cut:
        out.add(ELLIPSIS)
    return Highlighted(out.text(), tuple(out.spans))


def snippet(text: str, stems: frozenset[str], fragments: int = SNIPPET_FRAGMENTS) -> str:
    """The snippet as HTML (escaped, matched words in ``<mark>``)."""
    return snippet_spans(text, stems, fragments).to_html()


class _Joined:
    """Text pieces joined with their whitespace collapsed, and the spans of the marked ones."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.length = 0

    def add(self, piece: str, marked: bool = False) -> None:
        piece = _WHITESPACE.sub(" ", piece)
        if piece.startswith(" ") and self.parts and self.parts[-1].endswith(" "):
            piece = piece[1:]
        if piece:
            self.parts.append(piece)
            if marked:
                self.spans.append((self.length, self.length + len(piece)))
            self.length += len(piece)

    def text(self) -> str:
        return "".join(self.parts)


def _best_window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The window of about FRAGMENT_CHARS holding the most distinct matched words.

    One pass with two pointers: the window starting at each span is the one
    before it minus its first span plus the spans that now fit.
    """
    words = [text[s:e].lower() for s, e in spans]
    inside: dict[str, int] = {}  # word -> how often in the window
    best_score, best_start, best_end = -1, 0, 0
    j = 0
    for i, (start, first_end) in enumerate(spans):
        if i > 0 and i <= j:  # the previous window's first span leaves it
            gone = words[i - 1]
            inside[gone] -= 1
            if not inside[gone]:
                del inside[gone]
        j = max(j, i)
        while j < len(spans) and spans[j][1] - start <= FRAGMENT_CHARS - 40:
            inside[words[j]] = inside.get(words[j], 0) + 1
            j += 1
        score = len(inside) * 100 + (j - i)
        if score > best_score:
            best_score, best_start, best_end = score, start, spans[j - 1][1] if j > i else first_end
    room = max(0, FRAGMENT_CHARS - (best_end - best_start))
    return _snap_left(text, best_start - room // 3), _snap_right(text, best_end + room - room // 3)


def _snap_left(text: str, pos: int) -> int:
    if pos <= 0:
        return 0
    space = text.rfind(" ", max(0, pos - 20), pos)
    newline = text.rfind("\n", max(0, pos - 20), pos)
    cut = max(space, newline)
    return cut + 1 if cut >= 0 else pos


def _snap_right(text: str, pos: int) -> int:
    if pos >= len(text):
        return len(text)
    cut = text.find(" ", pos, pos + 20)
    return cut if cut >= 0 else pos


def _lead(text: str) -> str:
    if len(text) <= LEAD_CHARS:
        return _WHITESPACE.sub(" ", text)
    end = _snap_right(text, LEAD_CHARS - 20)
    return _WHITESPACE.sub(" ", text[:end]) + ELLIPSIS
