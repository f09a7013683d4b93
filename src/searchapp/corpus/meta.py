"""The metadata cascade every format shares: what a parser found, completed.

For each field the first value found wins:

1. the document's own (front matter, e-mail headers, PDF/DOCX properties,
   HTML meta, CSAF fields): what the format's parser puts in :class:`Parsed`;
2. ``Key: value`` header lines at the top of the text (``Date:``,
   ``Publication Date:``, ``Source:``, ``Author(s):``, also in bold Markdown,
   ``**Publication Date:** 04/13/2026``), see :func:`read_header_lines`;
3. the file name: ``2024-07-28-title.md``, ``20221103001-openssl.md``;
4. folder defaults: a sidecar ``<file>.meta.toml`` beside the file, then the
   ``_folder.toml`` files of its folder and of every folder above it up to
   the corpus folder (the nearest wins). Example ``corpus/cisa/_folder.toml``::

       source = "CISA"
       topics = ["ICS", "advisories"]
       authors = ["CISA"]
       language = "en"
       date_order = "month-first"   # how 04/13/2026 is read in this folder

   and ``corpus/cisa/report.pdf.meta.toml``, for that one file::

       title = "ICS advisory roundup"
       date = 2024-07-28
       source = "CISA ICS"

Finally, a report without a language gets one detected from its text
(``language``; detected once, before the text cache: :func:`detect`). Values that are there but cannot be used (a date such as
``31/12/2024`` in a folder without ``date_order``) become
:class:`~searchapp.report.ParseWarning` items on the report, never a guess.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from searchapp.corpus.dates import DATE_ORDERS, read_date
from searchapp.corpus.language import detect_language
from searchapp.corpus.native import collapse, make_report
from searchapp.report import ParseWarning, Report

__all__ = [
    "FOLDER_FILE",
    "SIDECAR_SUFFIX",
    "Parsed",
    "detect",
    "detect_language",
    "filename_date",
    "finish",
    "folder_defaults",
    "is_metadata_file",
    "read_header_lines",
    "read_table_headers",
    "take_header",
]

FOLDER_FILE = "_folder.toml"
SIDECAR_SUFFIX = ".meta.toml"
MAX_META_BYTES = 64 * 1024
MAX_HEADER_LINES = 30

# "Key: value", "**Key:** value", "**Key**: value", "__Key:__ value"
_HEADER = re.compile(
    r"\s*(?:[-*]\s+)?(?P<mark>\*\*|__)?(?P<key>[A-Za-z][A-Za-z ()._/-]{0,29}?)\s*"
    r"(?::(?P=mark)|(?P=mark):|:)(?!//)\s*(?P<value>.*?)\s*"
)
# "| **Key:** | value |": the colon is needed ("| Date | Event |" heads a table of the text).
_TABLE_ROW = re.compile(r"\|\s*(?P<mark>\*\*|__)?(?P<key>[A-Za-z][A-Za-z ()._/-]{0,29}?)\s*"
                        r"(?::(?P=mark)|(?P=mark):|:)\s*\|(?P<value>[^|]*)\|?")
MAX_HEADER_LINE = 300  # longer lines are text, not headers (and keep the patterns fast)
MAX_TABLE_LINES = 80
_HEADER_KEYS = {
    "date": "date", "publication date": "date", "published": "date", "date published": "date",
    "issued": "date", "release date": "date",
    "updated": "updated", "last updated": "updated", "modified": "updated",
    "source": "source", "publisher": "source",
    "author": "authors", "authors": "authors", "author(s)": "authors", "by": "authors",
    "title": "title", "topics": "topics", "tags": "topics", "url": "url", "source url": "url",
}
_FOLDER_KEYS = frozenset({"source", "topics", "authors", "author", "language", "date_order", "url"})
_SIDECAR_KEYS = _FOLDER_KEYS | {"title", "date", "updated"}
# 2024-07-28-title, 2024_07_28 title, 20221103001-title (an 8-digit date and a serial)
_FILE_DATE = re.compile(r"(?P<y>\d{4})[-_]?(?P<m>\d{2})[-_]?(?P<d>\d{2})(?:\d{1,4})?(?=$|[^0-9])")


@dataclass
class Parsed:
    """What one format's parser read from a file, before the cascade completes it."""

    body: str
    format: str
    title: str | None = None
    date: dt.date | None = None
    updated: dt.date | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    url: str | None = None
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    pages: tuple[int, ...] = ()
    ocr: bool = False
    html: str | None = None
    warnings: list[ParseWarning] = field(default_factory=list)
    headers_read: bool = False  # the parser already read the header lines itself
    # The language detected from the body (None: too short to tell), "" until
    # detected: detection is content-only, so it is done before the text cache.
    detected_language: str | None = ""
    # (field, label, text) of dates found as text: read in :func:`finish`, where
    # the folder's date_order is known.
    date_texts: list[tuple[str, str, Any]] = field(default_factory=list)

    def take(self, name: str, value: Any) -> None:
        """Set a field if it has no value yet (the first found wins)."""
        if value in (None, "", [], ()):
            return
        if name in ("date", "updated") and not isinstance(value, dt.date):
            self.date_texts.append((name, name, value))
        elif name in ("authors", "topics"):
            if not getattr(self, name):
                setattr(self, name, [value] if isinstance(value, str) else list(value))
        elif getattr(self, name) in (None, ""):
            setattr(self, name, value)


def is_metadata_file(name: str) -> bool:
    """Whether a file name is folder defaults or a sidecar (not a report)."""
    return name == FOLDER_FILE or name.lower().endswith(SIDECAR_SUFFIX)


def _split_list(value: str, key: str) -> list[str]:
    parts = value.split(";") if key == "authors" else re.split(r"[;,]", value)
    return [collapse(p) for p in parts if p.strip()]


def read_header_lines(lines: list[str], parsed: Parsed) -> int:
    """Read ``Key: value`` header lines from the top of ``lines`` into ``parsed``.

    Blank lines before them are skipped; the block ends at the first line that
    is not a header (or :data:`MAX_HEADER_LINES`). Unknown keys go to
    ``parsed.extra``. A ``Source:`` that is a URL is the report's URL.

    :returns: the index of the first line after the header block (0 if none).
    """
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    end = 0
    for count, line in enumerate(lines[index:]):
        match = _HEADER.fullmatch(line) if count < MAX_HEADER_LINES and len(line) <= MAX_HEADER_LINE else None
        if match is None:
            break
        _header_value(parsed, collapse(match.group("key")).lower(), match.group("value"))
        end = index + count + 1
    return end


def read_table_headers(lines: list[str], parsed: Parsed) -> None:
    """Read two-column ``| **Key:** | value`` table rows near the top (a page's
    overview table) into ``parsed``, for the fields still missing."""
    for line in lines[:MAX_TABLE_LINES]:
        line = line.strip()
        match = _TABLE_ROW.fullmatch(line) if line.startswith("|") and len(line) <= MAX_HEADER_LINE else None
        if match:
            _header_value(parsed, collapse(match.group("key")).lower(), match.group("value"))


def take_header(parsed: Parsed, key: str, value: str) -> bool:
    """Use one ``Key: value`` header another reader split off, if it is a known key."""
    if key not in _HEADER_KEYS:
        return False
    _header_value(parsed, key, value)
    return True


def _header_value(parsed: Parsed, key: str, value: str) -> None:
    name = _HEADER_KEYS.get(key)
    value = value.strip().strip("*_").strip()
    if name == "source" and re.match(r"https?://", value):
        name = "url"
    if name in ("date", "updated"):
        if value:
            parsed.date_texts.append((name, key, value))
    elif name in ("authors", "topics"):
        parsed.take(name, _split_list(value, name))
    elif name is not None:
        parsed.take(name, value)
    elif value:
        parsed.extra.setdefault(key, value)


def _resolve_dates(parsed: Parsed, order: str | None) -> None:
    """Read the date texts gathered so far, in the order found (the first readable wins)."""
    for name, label, value in parsed.date_texts:
        if getattr(parsed, name) is not None:
            continue
        found, problem = read_date(value, order)
        if problem:
            shown = f"{label}: {value}" if label != name else str(value)
            parsed.warnings.append(ParseWarning(name, shown, problem))
            parsed.extra.setdefault(name, str(value))  # kept, not lost
        parsed.take(name, found)
    parsed.date_texts.clear()


def filename_date(relpath: str) -> dt.date | None:
    """The date a file name starts with: ``2024-07-28-...``, ``20221103001-...``."""
    match = _FILE_DATE.match(relpath.rsplit("/", 1)[-1])
    if not match:
        return None
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _read_toml(path: Path, shown: str, allowed: frozenset[str]) -> tuple[dict[str, Any], list[ParseWarning]]:
    """One metadata file, read without following links or reading special files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {}, []
    except OSError as e:
        return {}, [ParseWarning("metadata", shown, f"cannot be read: {e.strerror}")]
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_META_BYTES:
        why = "not a regular file" if not stat.S_ISREG(info.st_mode) else "larger than 64 KiB"
        return {}, [ParseWarning("metadata", shown, f"{why}: not applied")]
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return {}, [ParseWarning("metadata", shown, f"not valid TOML ({e}): not applied")]
    unknown = sorted(set(data) - allowed)
    warnings = [ParseWarning("metadata", shown, f"unknown keys {', '.join(unknown)}: ignored")] if unknown else []
    return {k: v for k, v in data.items() if k in allowed}, warnings


@lru_cache(maxsize=1024)
def _folder_chain(root: str, folder: str, mtimes: tuple[int, ...]) -> tuple[dict[str, Any], tuple[ParseWarning, ...]]:
    """The merged ``_folder.toml`` defaults for ``folder`` (relative, POSIX), nearest first."""
    del mtimes  # part of the cache key only: an edited file is read again
    merged: dict[str, Any] = {}
    warnings: list[ParseWarning] = []
    parts = folder.split("/") if folder else []
    for depth in range(len(parts), -1, -1):
        rel = "/".join(parts[:depth] + [FOLDER_FILE])
        data, found = _read_toml(Path(root, rel), rel, _FOLDER_KEYS)
        warnings += found
        for key, value in data.items():
            merged.setdefault(key, value)
    return merged, tuple(warnings)


def _mtime(path: str) -> int:
    try:
        return os.lstat(path).st_mtime_ns
    except OSError:
        return 0


def folder_defaults(root: Path, relpath: str) -> tuple[dict[str, Any], list[ParseWarning]]:
    """The defaults for the file at ``relpath``: its sidecar over its folders' files."""
    folder = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
    parts = folder.split("/") if folder else []
    mtimes = tuple(_mtime(os.path.join(root, *parts[:d], FOLDER_FILE)) for d in range(len(parts) + 1))
    merged, warnings = _folder_chain(str(root), folder, mtimes)
    sidecar, more = _read_toml(Path(root, relpath + SIDECAR_SUFFIX), relpath + SIDECAR_SUFFIX, _SIDECAR_KEYS)
    return {**merged, **sidecar}, [*warnings, *more]


def detect(parsed: Parsed) -> None:
    """Detect the body's language once, unless the document names its own."""
    if parsed.detected_language == "":
        parsed.detected_language = None if parsed.language else detect_language(parsed.body)


def _apply_defaults(parsed: Parsed, defaults: dict[str, Any]) -> None:
    for key in ("title", "source", "url", "language"):
        if isinstance(defaults.get(key), str):
            parsed.take(key, defaults[key])
    authors = defaults.get("authors", defaults.get("author"))
    parsed.take("authors", [authors] if isinstance(authors, str) else [str(a) for a in authors or ()])
    topics = defaults.get("topics")
    parsed.take("topics", [topics] if isinstance(topics, str) else [str(t) for t in topics or ()])
    for key in ("date", "updated"):
        parsed.take(key, defaults.get(key))
    _resolve_dates(parsed, defaults.get("date_order"))


def finish(parsed: Parsed, root: Path, relpath: str, report_id: str, **more: Any) -> Report:
    """Complete ``parsed`` with the cascade (see the module) and build the report.

    :param root: the corpus folder, where folder defaults are looked for.
    :param more: further :class:`Report` fields (``parent``, ``attachments``, ...).
    """
    defaults, warnings = folder_defaults(root, relpath)
    order = defaults.get("date_order")
    if order is not None and order not in DATE_ORDERS:
        warnings.append(ParseWarning("date_order", str(order), 'use "month-first" or "day-first"'))
        order = None
    if not parsed.headers_read:
        read_header_lines(parsed.body.split("\n", MAX_HEADER_LINES)[:MAX_HEADER_LINES], parsed)
    _resolve_dates(parsed, order)
    parsed.take("date", filename_date(relpath))
    _apply_defaults(parsed, {**defaults, "date_order": order})
    detect(parsed)
    parsed.take("language", parsed.detected_language)
    return make_report(
        report_id=report_id, path=relpath, title=parsed.title, body=parsed.body,
        date=parsed.date, source=parsed.source, topics=parsed.topics, url=parsed.url,
        authors=parsed.authors, extra=parsed.extra, language=parsed.language,
        pages=parsed.pages, ocr=parsed.ocr, html=parsed.html, format=parsed.format,
        updated=parsed.updated, warnings=tuple(parsed.warnings + warnings), **more,
    )
