"""Markdown reports (``.md``, ``.markdown``) with optional YAML front matter.

::

    ---
    title: Russia shifts drone attacks to Black Sea ports
    date: 2024-03-15
    source: UK Ministry of Defence
    tags: [drones, Black Sea]
    ---
    # Body heading
    ...

Front matter keys: ``title``, ``date``, ``source``, ``topics`` (a list or a
comma-separated string; ``tags`` is used when there are no ``topics``),
``url``, ``author``. Other keys go to ``Report.extra``, as JSON-able values.
Without front matter, a ``#`` heading on the first line is the title, and
``Key: value`` header lines after it (``**Publication Date:** 04/13/2026``) are
read as :mod:`~searchapp.corpus.meta` describes; without any, the first ``#``
heading is the title. The body is indexed without Markdown syntax and rendered
as safe HTML for the report page (:mod:`~searchapp.corpus.mdtext`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import re

import yaml

from searchapp.corpus.dates import parse_date_prefix
from searchapp.corpus.files import CorpusFile, read_text
from searchapp.corpus.mdtext import convert, drop_link_lines
from searchapp.corpus.meta import Parsed, read_header_lines, read_table_headers
from searchapp.corpus.native import DATE_LINE, heading_text, normalize_topics
from searchapp.errors import CorpusError

__all__ = ["extract_markdown", "split_front_matter"]

MAX_DEPTH = 64  # nesting of front matter values
MAX_NODES = 100_000  # values in front matter (YAML aliases can multiply them)
_DELIMITER = "---"
_CLOSERS = ("---", "...")
_KNOWN = frozenset({"title", "date", "source", "topics", "tags", "url", "author", "authors"})
_H1 = re.compile(r"\s{0,3}#(?:\s+.*|\s*)")
_BRACKETS = re.compile(r"[^\[\]{}]+")


class _TooComplex(Exception):
    """Front matter nested too deeply or too big once aliases are expanded."""


def split_front_matter(text: str, relpath: str) -> tuple[str | None, str, int]:
    """Split ``text`` into (front matter or ``None``, body, line of the front matter).

    The front matter starts with a ``---`` line (blank lines before it are
    allowed) and ends with a ``---`` or ``...`` line. The returned line number
    is the 1-based file line where the YAML text starts.

    :raises CorpusError: if the opening ``---`` has no closing line.
    """
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines) or lines[start].rstrip() != _DELIMITER:
        return None, text, 0
    for end in range(start + 1, len(lines)):
        if lines[end].rstrip() in _CLOSERS:
            front = "\n".join(lines[start + 1 : end])
            return front, "\n".join(lines[end + 1 :]), start + 2
    raise CorpusError(
        relpath, f"invalid YAML front matter: no closing '---' line after line {start + 1}"
    )


def _flow_depth(front: str) -> int:
    """How deep ``[`` and ``{`` nest (quotes not told apart: a bound, not a parse)."""
    steps = (1 if c in "[{" else -1 for c in _BRACKETS.sub("", front))
    return max(itertools.accumulate(steps, initial=0))


def _load_yaml(front: str, relpath: str, first_line: int) -> dict[str, Any]:
    """``yaml.safe_load`` the front matter; errors name the file line."""
    if _flow_depth(front) > MAX_DEPTH:  # PyYAML's scanner takes time growing with the square of it
        raise CorpusError(relpath, f"invalid YAML front matter: nested deeper than {MAX_DEPTH} levels or too many values")
    try:
        data = yaml.safe_load(front)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "unreadable YAML"
        where = f" (line {mark.line + first_line}, column {mark.column + 1})" if mark else ""
        raise CorpusError(relpath, f"invalid YAML front matter: {problem}{where}") from e
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
        # PyYAML raises ValueError for impossible timestamps such as 2024-02-30.
        raise CorpusError(relpath, f"invalid YAML front matter: {e}") from e
    except RecursionError as e:
        raise CorpusError(relpath, "invalid YAML front matter: nested too deeply") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise CorpusError(
            relpath, f"invalid YAML front matter: expected 'key: value' lines, got {kind}"
        )
    try:
        # Made JSON-able first and once: a bounded walk, whatever aliases there are.
        plain = _jsonable(data)
    except _TooComplex:
        raise CorpusError(
            relpath,
            f"invalid YAML front matter: nested deeper than {MAX_DEPTH} levels or too many values",
        ) from None
    return {key.strip().lower(): value for key, value in plain.items()}


def _jsonable(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A copy of a YAML value made of JSON types (dates become ISO strings)."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if depth > MAX_DEPTH or budget[0] < 0:
        raise _TooComplex
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, depth + 1, budget) for v in value]
    return str(value)  # e.g. bytes from !!binary


def _text(value: Any) -> str | None:
    """A (JSON-able) front matter value as display text."""
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(t for t in map(_text, value) if t)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _front_fields(parsed: Parsed, data: dict[str, Any]) -> None:
    """Front matter keys into ``parsed``; the others go to ``parsed.extra``."""
    used = _KNOWN - ({"tags"} if "topics" in data else set())  # tags: topics' alias
    parsed.extra.update({key: value for key, value in data.items() if key not in used})
    for key in ("title", "source", "url"):
        parsed.take(key, _text(data.get(key)))
    parsed.take("date", _text(data.get("date")))
    authors = data.get("authors", data.get("author"))
    parsed.take("authors", [_text(a) or "" for a in authors] if isinstance(authors, list) else _text(authors))
    parsed.take("topics", normalize_topics(data["topics"] if "topics" in data else data.get("tags")))


def _title_line(lines: list[str], parsed: Parsed) -> int:
    """Take a top ``#`` heading (or a native ``date <date> <title>`` line) as
    the title when there is none yet; return the index after it (0 if none)."""
    index = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if parsed.title or index >= len(lines):
        return 0
    if _H1.fullmatch(lines[index]):
        parsed.take("title", heading_text(lines[index]))
        return index + 1
    native = DATE_LINE.fullmatch(lines[index])
    found, rest = parse_date_prefix(native.group("rest")) if native else (None, "")
    if found is not None:
        parsed.take("date", found)
        parsed.take("title", rest)
        return index + 1
    return 0


def extract_markdown(cf: CorpusFile) -> Parsed:
    """Extract one Markdown report (see the module for the fields read).

    :raises CorpusError: for an unreadable file or front matter that is not
        valid YAML key/value pairs.
    """
    text = read_text(cf)
    front, body, first_line = split_front_matter(text, cf.relpath)
    parsed = Parsed(body="", format="markdown", headers_read=True)
    if front is not None:
        _front_fields(parsed, _load_yaml(front, cf.relpath, first_line))
    lines = body.split("\n")
    start = _title_line(lines, parsed)
    start += read_header_lines(lines[start:], parsed)
    read_table_headers(lines[start:], parsed)
    source = drop_link_lines("\n".join(lines[start:]))
    parsed.body, parsed.html, heading = convert(source)
    parsed.take("title", heading)
    return parsed
