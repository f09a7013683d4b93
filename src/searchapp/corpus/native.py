"""The native text format (``.txt``), and the clean-up every format shares.

A native report looks like this (every part is optional)::

    date 2024-07-28 British intelligence conducted a "wave of purges" ...
    Source: UK Ministry of Defence
    Topics: Russia, defence; corruption

    In the last week, Russia reported two corruption cases ...

The first non-empty line is ``date <date> <title>`` (``date`` in any case, an
optional colon, any date spelling :func:`~searchapp.corpus.dates.parse_date_prefix`
reads). Without a date line, the first line is the title, unless it is one of
the known headers. ``Key: value`` header lines follow, up to the first blank
line or the first line that is not a header; the rest is the body.

:func:`make_report` is the one place where fields from any format become a
:class:`~searchapp.report.Report`, so that titles, sources and topics are
cleaned the same way whatever the file looked like.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from searchapp.corpus.dates import parse_date, parse_date_prefix
from searchapp.report import UNKNOWN_SOURCE, Report

if TYPE_CHECKING:
    from searchapp.corpus.files import CorpusFile

__all__ = [
    "KNOWN_HEADERS",
    "MAX_TITLE_CHARS",
    "UNTITLED",
    "make_report",
    "normalize_authors",
    "normalize_topics",
    "parse_native",
    "parse_text",
    "title_from_body",
]

KNOWN_HEADERS = frozenset({"source", "topics", "url", "author", "date", "title"})
MAX_TITLE_CHARS = 120  # a title taken from the body is cut to this length
MAX_KEY_CHARS = 30
UNTITLED = "(untitled)"
# A first line longer than this is a paragraph of a plain text file, not a title.
_MAX_TITLE_LINE = 200

DATE_LINE = re.compile(r"\s*date\b\s*:?(?P<rest>.*)", re.IGNORECASE)
# "Key: value"; a value starting with "//" is a URL ("https://..."), not a header.
_HEADER = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z _-]*?)\s*:(?!//)\s*(?P<value>.*)")
_HEADING = re.compile(r"\s{0,3}#{1,6}(?:\s+|$)(?P<text>.*?)(?:\s+#+)?\s*")
_TOPIC_SEPARATORS = re.compile(r"[,;]")


def collapse(text: str) -> str:
    """Collapse runs of whitespace (including newlines) to single spaces."""
    return " ".join(text.split())


def normalize_topics(value: object) -> tuple[str, ...]:
    """Topics from a list or a comma/semicolon-separated string.

    Topics are trimmed, empty ones dropped and duplicates (ignoring case)
    removed, keeping the first spelling and the order.

    >>> normalize_topics(" Russia; defence, ,russia")
    ('Russia', 'defence')
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(_TOPIC_SEPARATORS.split(value))
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    else:
        items = [value]
    topics: dict[str, str] = {}
    for item in items:
        topic = collapse(str(item)) if item is not None else ""
        if topic:
            topics.setdefault(topic.casefold(), topic)
    return tuple(topics.values())


def title_from_body(body: str) -> str:
    """The first non-empty body line, cut to :data:`MAX_TITLE_CHARS` on a word boundary."""
    line = next((collapse(x) for x in body.split("\n") if x.strip()), "")
    if len(line) <= MAX_TITLE_CHARS:
        return line
    cut = line[: MAX_TITLE_CHARS - 1]
    if line[MAX_TITLE_CHARS - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def _optional(value: str | None) -> str | None:
    text = collapse(value) if value else ""
    return text or None


def make_report(
    *,
    report_id: str,
    path: str,
    title: str | None,
    body: str | None,
    date: dt.date | None = None,
    source: str | None = None,
    topics: object = None,
    url: str | None = None,
    author: str | None = None,
    extra: dict[str, Any] | None = None,
    line: int | None = None,
    authors: object = None,
    **more: Any,
) -> Report:
    """Build a :class:`Report` with clean fields.

    Whitespace in the title, source, URL and author is collapsed; a missing
    title comes from the body (:func:`title_from_body`), else ``(untitled)``; a
    missing source is :data:`~searchapp.report.UNKNOWN_SOURCE`. ``authors`` (a
    list or a ``;``-separated string) and ``author`` fill each other: ``author``
    is the first of ``authors``. ``more`` are the other :class:`Report` fields
    (``pages``, ``language``, ...), passed as they are.
    """
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    if not more.get("pages"):
        text = text.strip()  # page offsets point into the text as given
    names = normalize_authors(authors) or normalize_authors(author)
    return Report(
        id=report_id,
        title=collapse(title or "") or title_from_body(text) or UNTITLED,
        body=text,
        date=date,
        source=collapse(source or "") or UNKNOWN_SOURCE,
        topics=normalize_topics(topics),
        path=path,
        line=line,
        url=_optional(url),
        author=names[0] if names else None,
        extra=dict(extra or {}),
        authors=names,
        **more,
    )


def normalize_authors(value: object) -> tuple[str, ...]:
    """Authors from a list or a ``;``-separated string, cleaned like topics.

    A comma is not a separator here: ``"Heitshusen, Valerie"`` is one name.

    >>> normalize_authors("Heitshusen, Valerie; Fink, Anya L.")
    ('Heitshusen, Valerie', 'Fink, Anya L.')
    """
    if isinstance(value, str):
        value = value.split(";")
    return normalize_topics(value)


def heading_text(line: str) -> str | None:
    """The text of a Markdown ATX heading (``## Title ##``), or ``None``."""
    match = _HEADING.fullmatch(line)
    return match.group("text") if match else None


def _header(line: str) -> tuple[str, str] | None:
    """Split a ``Key: value`` header line into (lower-case key, value)."""
    match = _HEADER.fullmatch(line)
    if not match:
        return None
    key = collapse(match.group("key")).lower()
    if len(key) > MAX_KEY_CHARS:
        return None
    return key, match.group("value").strip()


class _Fields:
    """The fields gathered from the first line and the headers."""

    def __init__(self) -> None:
        self.title = ""
        self.date: dt.date | None = None
        self.source = ""
        self.topics: list[str] = []
        self.url = ""
        self.author = ""
        self.extra: dict[str, Any] = {}

    def add(self, key: str, value: str) -> None:
        """Take one header; the first of a repeated header wins (topics add up)."""
        if key == "topics":
            self.topics.extend(normalize_topics(value))
        elif key == "date":
            found = parse_date(value)
            if found is None:
                self.extra.setdefault("date", value)  # kept, not lost
            elif self.date is None:
                self.date = found
        elif key in ("title", "source", "url", "author"):
            if not getattr(self, key):
                setattr(self, key, value)
        else:
            self.extra.setdefault(key, value)


def _first_line(line: str, fields: _Fields, markdown: bool) -> bool:
    """Read the first non-empty line into ``fields``; return whether it was used."""
    match = DATE_LINE.fullmatch(line)
    if match:
        found, rest = parse_date_prefix(match.group("rest"))
        if found is not None:
            fields.date, fields.title = found, rest
            return True
    header = _header(line)
    if header is not None and header[0] in KNOWN_HEADERS:
        return False
    title = (heading_text(line) if markdown else None) or line.strip()
    if len(title) > _MAX_TITLE_LINE:
        return False  # a paragraph: it stays in the body
    fields.title = title
    return True


def _read_headers(lines: list[str], start: int, fields: _Fields) -> int:
    """Read header lines from ``start``; return the index where the body starts."""
    index = start
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            return index + 1
        header = _header(line)
        if header is None:
            return index
        fields.add(*header)
        index += 1
    return index


def parse_native(text: str, relpath: str, report_id: str, *, markdown: bool = False) -> Report:
    """Parse one report in the native format (also plain text).

    :param text: the decoded file, ``\\n`` newlines.
    :param relpath: the corpus-relative path, for ``Report.path``.
    :param report_id: the id the report gets.
    :param markdown: a first line that is a Markdown heading gives its text as
        the title (Markdown files without front matter).
    """
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    fields = _Fields()
    if start < len(lines) and _first_line(lines[start], fields, markdown):
        start += 1
    body_start = _read_headers(lines, start, fields)
    return make_report(
        report_id=report_id,
        path=relpath,
        title=fields.title,
        body="\n".join(lines[body_start:]),
        date=fields.date,
        source=fields.source,
        topics=fields.topics,
        url=fields.url,
        author=fields.author,
        extra=fields.extra,
    )


def parse_text(cf: CorpusFile) -> Report:
    """Parse one native ``.txt`` file, completed by the metadata cascade
    (file-name date, folder defaults, language: :mod:`~searchapp.corpus.meta`)."""
    from searchapp.corpus.files import corpus_root, read_text, strip_suffix
    from searchapp.corpus.meta import Parsed, finish, take_header

    report = parse_native(read_text(cf), cf.relpath, strip_suffix(cf.relpath))
    extra = dict(report.extra)
    parsed = Parsed(
        body=report.body, format="text", title=report.title, date=report.date,
        source=None if report.source == UNKNOWN_SOURCE else report.source,
        authors=list(report.authors), topics=list(report.topics), url=report.url,
        extra=extra, headers_read=True,
    )
    if "date" in extra:  # a date header it could not read: read again with the folder's date order
        parsed.date_texts.append(("date", "date", extra.pop("date")))
    for key in [k for k, v in extra.items() if isinstance(v, str)]:
        if take_header(parsed, key, extra[key]):  # Publication Date:, Author(s):, ...
            del extra[key]
    return finish(parsed, corpus_root(cf), cf.relpath, report.id)
