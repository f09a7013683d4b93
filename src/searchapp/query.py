"""Query parsing: the query language, field checks, date ranges.

The language: all words required by default (a longer question needs only a
share of its words, :func:`minimum_words`; when fewer than :data:`FEW_MATCHES`
reports match, :class:`Widened` adds those holding any of the words after
them); ``"exact phrase"``, ``OR``,
``NOT word`` / ``-word``, ``title:`` ``body:`` ``author:`` ``date:`` and the facets' fields
(``source:`` ``topic:`` ``language:`` ``person:`` ``org:`` ``place:``, exact values)
fields, ``date:2024-07`` and ``date:[2024-01 TO 2024-06]`` ranges, ``word*``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from typing import Callable, Iterator

from whoosh import query as wq
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, PlusMinusPlugin
from whoosh.qparser.plugins import SingleQuotePlugin

from .analysis import ANALYZER
from .errors import QueryError
from .engine.arrays import AtLeast
from .engine.budget import MAX_CLAUSES, MAX_EXPANSIONS
from .engine.whoosh_internals import bounded
from .engine.whoosh_scoring import FieldsTerm
from .query_syntax import check_syntax
from .schema import FACETS_BY_NAME, FIELD_BOOSTS, QUERY_FIELDS, TEXT_FIELDS, build_schema

_SCHEMA = build_schema()
# "field:" at a word start, outside quotes; "http://" is not a field.
_FIELD_RE = re.compile(r'(?<![\w.:/-])([A-Za-z_][\w-]*):(?=[^\s/])')
_QUOTED_RE = re.compile(r'"[^"]*"?')
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
# The "any word" grouping: plain OR, the scores of the words matched added up,
# exactly as bag_of_words (ranking.FieldsTerm already favours documents that
# match more words; a coordination bonus did not help on the test collections).
ANY_WORD_GROUP = OrGroup
# issue 6: Whoosh's parser takes time quadratic in the length of a word (a
# 100,000-letter one took a minute); the web's own limit is lower (a setting).
MAX_QUERY_CHARS = 10_000
# issue 13 item 8: "all words" keeps its precision on short queries, but a long
# question collapsed to the few reports holding every word (CISI nDCG@10 .313
# against .402 for any word). Up to ALL_WORDS_UP_TO plain words all are
# required; beyond, one word in 1 / SHARE_BEYOND (at least one). When fewer
# than FEW_MATCHES reports match, the reports holding any of the words follow
# them (Widened). Tuned on the tune half of benchmarks/relevance.py (engine
# searchapp-all): a share of 0.1 cost .005 (20- to 39-word questions need 2
# words), 0.05 ties any word; the widening is what lifts CACM, MED and NPL's
# short queries on the test half (.469 -> .477, any word .476).
ALL_WORDS_UP_TO = 3
SHARE_BEYOND = 0.05
FEW_MATCHES = 10  # a page of results


def _check_length(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long: {len(text)} characters, the limit is {MAX_QUERY_CHARS}")


# issue 6: "*a*" stood for every word of a 60,000-word index and took 40 s;
# like Lucene's clause limit, a pattern may stand for so many words, no more
# (engine.budget holds the limits of the whole query).
MAX_PATTERNS = 10  # prefix and wildcard words in one query


def _check_patterns(q: wq.Query) -> None:
    words = {leaf.text for leaf in q.leaves() if isinstance(leaf, (wq.Prefix, wq.Wildcard))}
    if len(words) > MAX_PATTERNS:
        raise QueryError(f"too many words with * or ?: {len(words)}, the limit is {MAX_PATTERNS}")
    clauses = sum(1 for _ in q.leaves())
    if clauses > MAX_CLAUSES:
        raise QueryError(f"the query has too many parts: {clauses} words and phrases, the limit is {MAX_CLAUSES}")


def _parser(group) -> MultifieldParser:
    parser = MultifieldParser(list(TEXT_FIELDS), _SCHEMA, fieldboosts=FIELD_BOOSTS, group=group)
    # Apostrophes are words' (Russia's), not quotes.
    parser.remove_plugin_class(SingleQuotePlugin)
    # "-word" and "+word" at a word's start only: "Rostov-on-Don" stays a word.
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+(?=[^\s+])", minusexpr=r"(?<![^\s(])-(?=[^\s-])"))
    return parser


_ALL_PARSER = _parser(AndGroup)
_ANY_PARSER = _parser(ANY_WORD_GROUP)


PARSE_FAILED = ("cannot read the query: check its operators (AND, OR, NOT each between two words), "
                "its quotes and its brackets, or search for the words alone")


def check_fields(text: str) -> None:
    """Whoosh turns an unknown ``field:x`` into a body word; refuse it instead."""
    unquoted = _QUOTED_RE.sub(" ", text)
    for match in _FIELD_RE.finditer(unquoted):
        name = match.group(1)
        if name.lower() not in QUERY_FIELDS:
            raise QueryError(
                f"unknown field {name!r} in the query; the fields are "
                + ", ".join(f"{f}:" for f in QUERY_FIELDS)
            )
        if name not in QUERY_FIELDS:
            raise QueryError(f"field names are lower case: write {name.lower()}: instead of {name}:")


def parse(text: str, any_word: bool = False, resolve: Callable[[str, str], list[str]] | None = None) -> wq.Query:
    """Parse a user's query into a Whoosh query.

    :param any_word: OR the words instead of requiring all of them.
    :param resolve: maps (field, value) of ``source:``/``topic:`` to the exact
        values it means (case-insensitive match against the index's values).
    :raises QueryError: unknown field, bad date, too long, unreadable structure
        (``query_syntax``: brackets, quotes, empty fields, lone operators).
    """
    _check_length(text)
    check_fields(text)
    check_syntax(text, QUERY_FIELDS)
    try:
        q = _rewrite((_ANY_PARSER if any_word else _ALL_PARSER).parse(text), resolve)
        if not any_word:
            q = _loosen_long(q, text)
    except QueryError:
        raise
    except Exception as e:  # whoosh's parser raises assorted errors on odd input ("NOT NOT oil")
        raise QueryError(PARSE_FAILED) from e
    _check_patterns(q)
    return q


def bag_of_words(text: str) -> wq.Query:
    """Every word of ``text`` as an OR'ed term, no syntax at all (for raw texts).

    A word repeated in the text weighs more, as in BM25 with query-term frequency.

    :raises QueryError: too long.
    """
    _check_length(text)
    counts: dict[str, int] = {}
    for token in ANALYZER(text):
        counts[token.text] = counts.get(token.text, 0) + 1
    if not counts:
        return wq.NullQuery
    # Each word is scored once over title and body (BM25F, see ranking.py).
    clauses = [FieldsTerm(t, TEXT_FIELDS, boost=n) for t, n in counts.items()]
    return ANY_WORD_GROUP.qclass(clauses) if len(clauses) > 1 else clauses[0]


def minimum_words(n: int) -> int:
    """How many of ``n`` plain query words a match must hold in the default mode.

    >>> [minimum_words(n) for n in (1, 2, 3, 4, 20, 39, 40, 60)]
    [1, 2, 3, 1, 1, 1, 2, 3]
    """
    if n <= ALL_WORDS_UP_TO:
        return n
    return max(1, math.floor(n * SHARE_BEYOND))


def _loosen_long(q: wq.Query, text: str) -> wq.Query:
    """A long AND of words and phrases written without a field (no filter or
    exclusion) made an :class:`AtLeast` of
    :func:`minimum_words`; plain words weigh as often as they are written
    (as in :func:`bag_of_words`). Long is the question as written
    ("parallel languages languages for parallel computation" is 5 words)."""
    if type(q) is not wq.And or len(q.subqueries) < 2 or not all(map(_unfielded, q.subqueries)):
        return q
    words = bag_of_words(text)
    counts = {s.text: s.boost for s in words.subqueries} if isinstance(words, wq.Or) else {}
    written = sum(counts.values())
    if written <= ALL_WORDS_UP_TO:
        return q
    parts = [FieldsTerm(s.text, s.fields, boost=counts.get(s.text, 1)) if isinstance(s, FieldsTerm) and s.boost == 1.0
             else s for s in q.subqueries]
    return AtLeast(parts, min(len(parts), minimum_words(int(written))))


def _unfielded(q: wq.Query) -> bool:
    """A word or phrase the user wrote without a field (the parser spread it over the text fields)."""
    if isinstance(q, FieldsTerm):
        return True
    return (type(q) is wq.Or and all(type(s) is wq.Phrase for s in q.subqueries)
            and sorted(s.fieldname for s in q.subqueries) == sorted(TEXT_FIELDS))


def _fields_terms(q: wq.Query) -> wq.Query | None:
    """An OR in which the parser spread words over the text fields, each such
    word made one BM25F word (ranking.FieldsTerm); None when there is none."""
    if type(q) is not wq.Or:
        return None
    spread: dict[str, dict[str, wq.Term]] = {}
    for sub in q.subqueries:
        if type(sub) is wq.Term and sub.fieldname in TEXT_FIELDS:
            spread.setdefault(sub.text, {})[sub.fieldname] = sub
    words = {text: terms for text, terms in spread.items() if len(terms) == len(TEXT_FIELDS)}
    if not words:
        return None
    body = TEXT_FIELDS[-1]
    out: list[wq.Query] = []
    for sub in q.subqueries:
        terms = words.pop(sub.text, None) if type(sub) is wq.Term and sub.fieldname in TEXT_FIELDS else None
        if terms is not None:  # the first of the word's terms stands for all of them
            out.append(FieldsTerm(sub.text, TEXT_FIELDS, boost=terms[body].boost / FIELD_BOOSTS[body]))
        elif not (type(sub) is wq.Term and sub.text in spread and len(spread[sub.text]) == len(TEXT_FIELDS)):
            out.append(sub)
    if len(out) == 1 and isinstance(out[0], FieldsTerm):  # one word, "word^2" boosting its OR
        return FieldsTerm(out[0].text, TEXT_FIELDS, boost=out[0].boost * q.boost)
    return wq.Or(out, boost=q.boost, scale=q.scale)


def _rewrite(q: wq.Query, resolve) -> wq.Query:
    if isinstance(q, wq.Every) and q.fieldname in TEXT_FIELDS:
        # issue 6: "*" is every report; Whoosh's field:* joins every word's postings (90 s)
        return wq.Every()
    merged = _fields_terms(q)
    if merged is not None:
        return merged if merged.is_leaf() else merged.apply(lambda child: _rewrite(child, resolve))
    if isinstance(q, (wq.Term, wq.TermRange, wq.Phrase, wq.Prefix, wq.Wildcard)):
        field = q.fieldname
        if field == "date":
            return _date_query(q)
        if field in FACETS_BY_NAME:
            return _exact_query(q, field, resolve)
        return bounded(q, MAX_EXPANSIONS)
    if q.is_leaf():
        return q
    return q.apply(lambda child: _rewrite(child, resolve))


def _text_of(q: wq.Query) -> str:
    if isinstance(q, wq.Phrase):
        return " ".join(q.words)
    return getattr(q, "text", "")


def _exact_query(q: wq.Query, field: str, resolve) -> wq.Query:
    text = _text_of(q)
    values = resolve(field, text) if resolve else [text]
    fields = FACETS_BY_NAME[field].fields
    terms = [wq.Term(f, v) for v in values for f in fields]
    if not terms:
        return wq.NullQuery
    return wq.Or(terms) if len(terms) > 1 else terms[0]


def _date_query(q: wq.Query) -> wq.Query:
    if isinstance(q, wq.TermRange):
        first = date_bounds(q.start)[0] if q.start else None
        last = date_bounds(q.end)[1] if q.end else None
        if first and last and first > last:
            raise QueryError(f"the date range [{q.start} TO {q.end}] starts after it ends: "
                             f"write the earlier date first, as in [{q.end} TO {q.start}]")
    else:
        first, last = date_bounds(_text_of(q))
    return wq.TermRange("date", first.isoformat() if first else None, last.isoformat() if last else None)


def date_bounds(text: str) -> tuple[dt.date, dt.date]:
    """First and last day meant by ``2024``, ``2024-07`` or ``2024-07-28``.

    >>> date_bounds("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))

    :raises QueryError: not such a date.
    """
    m = _DATE_RE.match(str(text).strip())
    if not m:
        raise QueryError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        month = int(month)
        if day is None:
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        day_ = dt.date(year, month, int(day))
        return day_, day_
    except ValueError as e:
        raise QueryError(f"not a date: {text!r} ({e})") from e


def relaxable(q: wq.Query) -> bool:
    """Whether :class:`Widened` may add any-word matches to ``q``: only plain words, no
    field filters (``source:``, ``topic:``, ``date:``) or exclusions, which
    the user meant strictly."""
    if not isinstance(q, (wq.And, AtLeast)):
        return False
    for leaf in q.leaves():
        fields = leaf.fields if isinstance(leaf, FieldsTerm) else (getattr(leaf, "fieldname", None),)
        if not set(fields) <= set(TEXT_FIELDS):
            return False
    return not any(isinstance(node, (wq.Not, wq.AndNot)) for node in _nodes(q))


class Widened(wq.Or):
    """A default-mode query ``strict`` that matched fewer than :data:`FEW_MATCHES`
    reports, widened to its any-word form ``loose``: it matches and scores as
    ``loose``; the engine ranks the reports ``strict`` matches first
    (:func:`searchapp.ranking.tiered`), then the others by their scores.

    >>> w = Widened(parse("pipeline zanzibar", any_word=True), parse("pipeline zanzibar"))
    >>> type(w.strict).__name__, len(w.subqueries)
    ('And', 1)
    """

    def __init__(self, loose: wq.Query, strict: wq.Query, boost: float = 1.0) -> None:
        super().__init__([loose], boost=boost)
        self.strict = strict

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and getattr(other, "strict", None) == self.strict

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.strict)

    def __repr__(self) -> str:
        return f"Widened({self.subqueries[0]!r}, strict={self.strict!r})"

    def apply(self, fn):
        return Widened(fn(self.subqueries[0]), self.strict, boost=self.boost)

    def normalize(self):
        return Widened(self.subqueries[0].normalize(), self.strict, boost=self.boost)


def _nodes(q: wq.Query) -> Iterator[wq.Query]:
    yield q
    if not q.is_leaf():
        for child in q.children():
            yield from _nodes(child)


def positive_terms(q: wq.Query, fieldnames=TEXT_FIELDS) -> Iterator[tuple[str, str]]:
    """The (field, text) terms a match must or may contain: not those under NOT;
    a phrase's text is its words joined by spaces."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from positive_terms(q.a, fieldnames)
        return
    if isinstance(q, wq.Phrase):
        # A phrase is one entry, its words joined by spaces: highlight marks
        # them only together (highlight.find_matches).
        if q.fieldname in fieldnames and q.words:
            yield q.fieldname, " ".join(q.words)
        return
    if q.is_leaf():
        for field, text in q.terms() if hasattr(q, "terms") else ():
            if field in fieldnames:
                yield field, text.decode("utf-8") if isinstance(text, bytes) else text
        return
    for child in q.children():
        yield from positive_terms(child, fieldnames)


def expandable(q: wq.Query) -> Iterator[wq.Query]:
    """Prefix and wildcard leaves (not under NOT), whose terms depend on the index."""
    if isinstance(q, (wq.Not,)):
        return
    if isinstance(q, wq.AndNot):
        yield from expandable(q.a)
        return
    if isinstance(q, (wq.Prefix, wq.Wildcard)):
        yield q
        return
    if not q.is_leaf():
        for child in q.children():
            yield from expandable(child)
