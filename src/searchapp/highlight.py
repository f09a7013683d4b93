"""Snippets and highlighted text as plain text with the spans of the matched words.

Each surface formats a :class:`results.Highlighted` its own way: the web as
escaped HTML with ``<mark>``, the CLI with its own emphasis, the JSON API as
the spans (and, for compatibility, the HTML of :func:`mark`).

Matches are found with one regular-expression pass over the whole text (no
character limit), then checked against the query's stems, so a long report
is highlighted past Whoosh's 32K-character default as cheaply as a short one.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from functools import lru_cache
from typing import Iterable

from .analysis import STOPWORDS, spellings_of, stem
from .results import Highlighted

SNIPPET_FRAGMENTS = 3
MAX_FRAGMENTS = 5  # when the query's words are far apart, each still shows once
FRAGMENT_CHARS = 200
LEAD_CHARS = 260
MAX_MATCHES = 5000
ELLIPSIS = "\u2026"

_WHITESPACE = re.compile(r"\s+")
# Between two marks, only spaces, dashes and short stopwords: one mark ("Rostov-on-Don").
_JOINABLE = re.compile(r"[\s\-\u2010-\u2015'\u2019]*(?:(\w{1,3})[\s\-\u2010-\u2015'\u2019]+)?")


_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['\u2019]\w+)*")
_WORD_TAIL = re.compile(r"(?:[\w.,'\u2019]*\w)?")
# Not a word start: after a letter or an apostrophe (the "s" of "Council's"), or
# after a digit's point or comma (5.93); after an initial's dot it is (U.S.).
_WORD_BEFORE = re.compile(r"[\w'\u2019]|(?<=\d)[.,]")
_GAP_WORD = re.compile(r"\w+")
_JOINERS = "-.\u2010\u2011"


def _prefixes(stems: Iterable[str]) -> list[str]:
    return sorted({s[: max(1, len(s) - 1)] for s in spellings_of(stems) if s}, key=len, reverse=True)


@lru_cache(maxsize=256)
def _matcher(stems: frozenset[str]) -> re.Pattern | None:
    prefixes = _prefixes(stems)
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in prefixes)
    return re.compile(rf"(?<![\w'\u2019])(?<!\d[.,])(?:{alternatives})(?:[\w.,'\u2019]*\w)?", re.IGNORECASE)


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
    """Character spans of the words of ``text`` whose stem is in ``stems``.

    An entry of ``stems`` with spaces is a phrase ("militari construct compani",
    or "cve 2022 3602" for CVE-2022-3602): its words are marked only where they
    stand in that order, one mark for the whole phrase, and never as part of a
    longer hyphenated or dotted token (CVE-2022-3602 is not in CVE-2022-3602-1).
    """
    return _join(text, [(s, e) for s, e, _ in keyed_matches(text, stems)])


def keyed_matches(text: str, stems: frozenset[str]) -> list[tuple[int, int, str]]:
    """(start, end, key) of each match: the key is the stem, or the phrase."""
    singles = frozenset(s for s in stems if " " not in s)
    phrases = {tuple(s.split()) for s in stems if " " in s}
    words = singles | {w for p in phrases for w in p}
    found = []
    for start, end in _word_starts(text, words):
        # The word may run past a token's end ("5.93," or "word's"); trim to a token.
        token = _TOKEN.match(text, start, end)
        key = stem(token.group(0)) if token else None
        if key in words and (key not in STOPWORDS or token.group(0).isupper()):  # "US", not "us"
            found.append((start, token.end(), key))
            if len(found) >= MAX_MATCHES:
                break
    out = [m for m in found if m[2] in singles] + _phrase_runs(text, found, phrases)
    out.sort()
    return [m for i, m in enumerate(out) if not i or m[0] >= out[i - 1][1]]  # a word in two runs: once


def _phrase_runs(text: str, found: list[tuple[int, int, str]], phrases) -> list[tuple[int, int, str]]:
    runs = []
    for phrase in phrases:
        k = len(phrase)
        for i in range(len(found) - k + 1):
            if tuple(m[2] for m in found[i:i + k]) != phrase:
                continue
            start, end = found[i][0], found[i + k - 1][1]
            if all(_phrase_gap(text[found[j][1]:found[j + 1][0]]) for j in range(i, i + k - 1)) \
                    and not _inside_token(text, start, end):
                gaps = {text[found[j][1]:found[j + 1][0]] for j in range(i, i + k - 1)}
                if gaps == {"."} and text[end:end + 1] == ".":
                    end += 1  # an abbreviation's last dot (U.S.)
                runs.append((start, end, " ".join(phrase)))
    return runs


def _phrase_gap(gap: str) -> bool:
    """Between two words of a phrase: punctuation, spaces and stopwords only."""
    return len(gap) <= 30 and all(w.lower() in STOPWORDS for w in _GAP_WORD.findall(gap))


def _inside_token(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] continues a longer token joined by a hyphen or dot."""
    before = start >= 2 and text[start - 1] in _JOINERS and text[start - 2].isalnum()
    after = end + 1 < len(text) and text[end] in _JOINERS and text[end + 1].isalnum()
    return before or after


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
    """A few fragments with context around the best matches, or the text's lead.

    Fragments are chosen so that every matched word shows at least once, the
    rarest in the report first (more fragments than ``fragments`` if the words
    are far apart, up to MAX_FRAGMENTS); a fragment whose text was shown is not
    shown again.
    """
    keyed = keyed_matches(text, stems) if stems else []
    if not keyed:
        return Highlighted(_lead(text))
    spans = _join(text, [(s, e) for s, e, _ in keyed])
    chosen = _fragments(text, spans, _span_keys(spans, keyed), fragments)
    starts = [s for s, _ in spans]
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
        first = bisect_left(starts, start)  # the spans are sorted and apart: those inside are a run
        for s_start, s_end in itertools.takewhile(lambda s: s[1] <= end, spans[first:]):
            out.add(text[pos:s_start])
            out.add(text[s_start:s_end], marked=True)
            pos = s_end
        out.add(text[pos:end])
        cut = end < len(text)
    if cut:
        out.add(ELLIPSIS)
    return Highlighted(out.text(), tuple(out.spans))


def _span_keys(spans, keyed) -> list[frozenset[str]]:
    """The query words (stems or phrases) each joined span holds."""
    starts = [m[0] for m in keyed]
    out = []
    for start, end in spans:
        words = {m[2] for m in keyed[bisect_left(starts, start):bisect_left(starts, end)]}
        out.append(frozenset(words))
    return out


def _fragments(text: str, spans, keys, fragments: int) -> list[tuple[int, int]]:
    counts: dict[str, int] = {}
    for held in keys:
        for k in held:
            counts[k] = counts.get(k, 0) + 1
    # A word not shown yet is worth more the rarer it is in the report.
    gain = {k: 1000 + 1000 // n for k, n in counts.items()}
    limit = max(fragments, min(len(counts), MAX_FRAGMENTS))
    chosen: list[tuple[int, int]] = []
    shown: list[frozenset[str]] = []
    remaining = list(range(len(spans)))
    tries = limit + 2  # a report repeating one passage offers it again and again
    while remaining and len(chosen) < limit and tries:
        tries -= 1
        first, last = _best_window(spans, keys, remaining, gain)
        room = max(0, FRAGMENT_CHARS - (spans[last][1] - spans[first][0]))
        start = _snap_left(text, spans[first][0] - room // 3, spans[first][0])
        end = _snap_right(text, spans[last][1] + room - room // 3, spans[last][1])
        for i in remaining:
            if spans[i][0] >= start and spans[i][1] <= end:
                gain.update(dict.fromkeys(keys[i], 0))
        # The next fragment neither overlaps nor touches this one.
        remaining = [i for i in remaining if spans[i][1] < start - 40 or spans[i][0] > end + 40]
        words = frozenset(_GAP_WORD.findall(text[start:end].lower()))
        if any(_similar(words, seen) for seen in shown):
            continue  # the same passage again (a repeated paragraph)
        shown.append(words)
        chosen.append((start, end))
        if len(chosen) >= fragments and not any(gain.values()):
            break
    return _merge(sorted(chosen))


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two fragments of mostly the same words (Jaccard 0.8 or more)."""
    return len(a & b) >= 0.8 * len(a | b)


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in windows:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


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
        if "  " in piece or not piece.isprintable():  # else its only spaces are single " "
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


def _best_window(spans, keys, remaining: list[int], gain: dict[str, int]) -> tuple[int, int]:
    """(first, last) of the remaining spans whose window of about FRAGMENT_CHARS
    is worth most: the gain of each word it holds once, then its number of spans.

    One pass with two pointers: the window starting at each span is the one
    before it minus its first span plus the spans that now fit, its worth kept
    as words enter and leave it.
    """
    inside: dict[str, int] = {}  # word -> spans of the window holding it
    worth = 0  # the gain of the words inside, each once
    best, best_pair = -1, (remaining[0], remaining[0])
    j = 0
    for a, first in enumerate(remaining):
        if a:
            for k in keys[remaining[a - 1]]:
                inside[k] -= 1
                if not inside[k]:
                    del inside[k]
                    worth -= gain.get(k, 0)
        j = max(j, a)
        limit = spans[first][0] + FRAGMENT_CHARS - 40
        while j < len(remaining) and (j == a or spans[remaining[j]][1] <= limit):
            for k in keys[remaining[j]]:
                held = inside.get(k, 0)
                if not held:
                    worth += gain.get(k, 0)
                inside[k] = held + 1
            j += 1
        score = worth * 100 + (j - a)
        if score > best:
            best, best_pair = score, (first, remaining[j - 1])
    return best_pair


LONG_TOKEN = 40  # a token longer than this (a URL) beside a fragment is left out, not cut
_NON_SPACE = re.compile(r"\S*")


def _snap_left(text: str, pos: int, keep: int | None = None) -> int:
    """A fragment's start at or before ``pos``: a word's start, never inside a URL
    (a long token before the first mark at ``keep`` is left out instead)."""
    if pos <= 0:
        return 0
    start = max(text.rfind(c, 0, pos) for c in " \n\t") + 1
    end = _token_end(text, start)
    if pos - start > LONG_TOKEN and keep is not None and end <= keep:
        return min(_skip_space(text, end), keep)
    return start


def _snap_right(text: str, pos: int, keep: int | None = None) -> int:
    """A fragment's end at or after ``pos``: a word's end, never inside a URL
    (a long token after the last mark at ``keep`` is left out instead)."""
    if pos >= len(text):
        return len(text)
    start = max(text.rfind(c, 0, pos) for c in " \n\t") + 1
    end = _token_end(text, pos)
    if end - pos > LONG_TOKEN and keep is not None and start >= keep:
        return max(start - 1, keep)
    return end


def _token_end(text: str, pos: int) -> int:
    return _NON_SPACE.match(text, pos).end()


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _lead(text: str) -> str:
    if len(text) <= LEAD_CHARS:
        return _WHITESPACE.sub(" ", text)
    end = _snap_right(text, LEAD_CHARS - 20)
    return _WHITESPACE.sub(" ", text[:end]) + ELLIPSIS
