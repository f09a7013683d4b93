"""JSON Lines reports (``.jsonl``, ``.jsonl.gz``): one JSON object per line.

Fields: ``id``, ``date``, ``source``, ``title``, ``topics`` (a list or a
comma-separated string), ``body``, ``url``, ``author``; every other field is
kept in ``Report.extra``. A record's report id is
``<relpath without suffix>:<id>``, the id being the line number when the record
has none. A body that is Markdown (the record's ``format`` says ``markdown``, or
its ``file`` or ``path`` names a ``.md`` file) is read as a Markdown file's:
text without its syntax, navigation lines left out, safe HTML for the page.

Files are streamed line by line (gzip too), so their size is not limited; a bad
line is reported with its line number and the next lines are still read.
"""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from searchapp.corpus.dates import parse_date
from searchapp.corpus import files
from searchapp.corpus.files import (
    SNIFF_BYTES,
    CorpusFile,
    iter_lines,
    open_binary,
    os_reason,
    size_text,
    strip_suffix,
    utf8_problem,
)
from searchapp.corpus.mdtext import convert, drop_link_lines
from searchapp.corpus.native import make_report
from searchapp.errors import CorpusError
from searchapp.report import Report

__all__ = ["MAX_DEPTH", "parse_jsonl"]

MAX_DEPTH = 64  # nesting levels allowed in one record
_FIELDS = ("id", "date", "source", "title", "topics", "body", "url", "author")
_TYPE_NAMES = {
    list: "list",
    str: "string",
    int: "number",
    float: "number",
    bool: "true/false",
    type(None): "null",
}
_TOO_DEEP = f"JSON nested too deeply (limit {MAX_DEPTH} levels)"


class _BadRecord(Exception):
    """A line that is JSON but cannot be a report; the message says why."""


def _kind(value: object) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if isinstance(value, dict):
        return "object"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _too_deep(value: object) -> bool:
    """Whether a parsed value nests deeper than :data:`MAX_DEPTH` (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _load(data: bytes, first: bool) -> dict[str, Any]:
    """Decode and parse one line into a JSON object."""
    start = len(codecs.BOM_UTF8) if first and data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _BadRecord(utf8_problem(e, start) + " of the line") from e
    try:
        value = json.loads(text)
    except RecursionError as e:
        raise _BadRecord(_TOO_DEEP) from e
    except json.JSONDecodeError as e:
        raise _BadRecord(f"invalid JSON: {e.msg.removesuffix(' at')} at column {e.colno}") from e
    except ValueError as e:  # e.g. an integer with more than 4300 digits
        raise _BadRecord(f"invalid JSON: {str(e).split(':')[0]}") from e
    if not isinstance(value, dict):
        raise _BadRecord(f"expected a JSON object, got {_kind(value)}")
    if _too_deep(value):
        raise _BadRecord(_TOO_DEEP)
    return value


def _text(record: dict[str, Any], key: str, joiner: str = ", ") -> str | None:
    """A text field; numbers are turned into text, lists of them joined."""
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return joiner.join(str(v) for v in value)
    raise _BadRecord(f"field '{key}' must be text, got {_kind(value)}")


def _record_id(record: dict[str, Any], line: int) -> str:
    value = record.get("id")
    if value is None or value == "":
        return str(line)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise _BadRecord(f"field 'id' must be a string or a number, got {_kind(value)}")


def _markdown(record: dict[str, Any]) -> bool:
    """A record whose body is Markdown: it says so (``format``), or names a
    Markdown file it was made from (``file``/``path``, as the WA SOC and CRS
    records do)."""
    named = [record.get(key) for key in ("file", "path")]
    return (str(record.get("format", "")).lower() in ("markdown", "md")
            or any(isinstance(n, str) and n.lower().endswith((".md", ".markdown")) for n in named))


def _report(record: dict[str, Any], report_id: str, relpath: str, line: int) -> Report:
    """Turn one parsed record into a report (a Markdown body as text without its
    syntax, and its safe HTML for the report page, as a Markdown file's)."""
    extra = {key: value for key, value in record.items() if key not in _FIELDS}
    date = parse_date(record.get("date"))
    if date is None and record.get("date") not in (None, ""):
        extra["date"] = record["date"]  # kept, not lost
    body, html = _text(record, "body", "\n\n"), None
    if body and _markdown(record):
        body, html, _ = convert(drop_link_lines(body))
    return make_report(
        report_id=report_id,
        path=relpath,
        html=html,
        title=_text(record, "title"),
        body=body,
        date=date,
        source=_text(record, "source"),
        topics=record.get("topics"),
        url=_text(record, "url"),
        author=_text(record, "author"),
        extra=extra,
        line=line,
    )


class _Reader:
    """Turns the lines of one file into reports, remembering the ids seen."""

    def __init__(self, cf: CorpusFile) -> None:
        self.relpath = cf.relpath
        self.stem = strip_suffix(cf.relpath)
        self.seen: dict[str, int] = {}

    def line(self, number: int, data: bytes | None) -> Report | CorpusError | None:
        """One line: a report, an error, or ``None`` for a blank line."""
        if data is None:
            limit = size_text(files.MAX_FILE_BYTES)  # read now: tests lower it
            return CorpusError(self.relpath, f"line too long: more than {limit}", number)
        if not data.strip():
            return None
        try:
            record = _load(data, number == 1)
            record_id = _record_id(record, number)
            report = _report(record, f"{self.stem}:{record_id}", self.relpath, number)
        except _BadRecord as e:
            return CorpusError(self.relpath, str(e), number)
        first = self.seen.setdefault(record_id, number)
        if first != number:
            return CorpusError(
                self.relpath, f"duplicate id '{record_id}' (first seen on line {first})", number
            )
        return report


def _sniff(head: bytes) -> str | None:
    """Why the start of a file shows it is not UTF-8 JSON Lines, if it does."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 text: JSON Lines files must be UTF-8"
    if b"\x00" in head[:SNIFF_BYTES]:
        return "binary file, not text"
    return None


def _records(stream: BinaryIO, cf: CorpusFile) -> Iterator[Report | CorpusError]:
    reader = _Reader(cf)
    number = 0
    try:
        problem = _sniff(stream.peek(SNIFF_BYTES))  # type: ignore[attr-defined]
        if problem:
            yield CorpusError(cf.relpath, problem)
            return
        found = False
        for number, data in iter_lines(stream):
            item = reader.line(number, data)
            if item is not None:
                found = True
                yield item
        if not found:  # issue 6: reported like an empty .txt, not silently skipped
            yield CorpusError(cf.relpath, "empty file")
    except (OSError, EOFError, zlib.error) as e:
        yield CorpusError(cf.relpath, _read_failure(e, number))


def _read_failure(error: OSError | EOFError | zlib.error, lines_read: int) -> str:
    """Describe an error that stopped the reading of a file."""
    after = f" after line {lines_read}" if lines_read else ""
    if isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
        reason = str(error)
        return f"corrupt gzip file{after}: {reason[:1].lower()}{reason[1:]}"
    return f"read error{after}: {os_reason(error)}"


def parse_jsonl(cf: CorpusFile) -> Iterator[Report | CorpusError]:
    """Yield a report or an error for each non-blank line of a JSON Lines file.

    A corrupt gzip stream ends the file with one error (reports read before it
    stay yielded). Never raises for bad content.
    """
    try:
        stream = open_binary(cf)
    except OSError as e:
        yield CorpusError(cf.relpath, os_reason(e))
        return
    except CorpusError as e:  # replaced since discovery
        yield e
        return
    with stream:
        yield from _records(stream, cf)
