"""A report's fields beyond title and text, read back from its stored fields
for ``Hit`` and ``ReportDetail``: authors, language, entities, pages.

The indexer writes them (``indexer.document_fields``); this is the one place
that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .report import Report
from .results import EntityRef, Highlighted
from .schema import AUTHOR_SEPARATOR, FACET_FIELDS

ENTITY_FACETS = tuple(f for f in FACET_FIELDS if f.name in ("person", "org", "place"))
_ELLIPSIS = "…"


def values(value: str | None) -> tuple[str, ...]:
    """A comma-joined keyword field as its values."""
    return tuple(v for v in (value or "").split(",") if v)


def entities(stored: Mapping[str, Any]) -> tuple[EntityRef, ...]:
    """People, organisations and places, curated ones first in each kind."""
    out = []
    for facet in ENTITY_FACETS:
        curated = values(stored.get(facet.curated))
        out += [EntityRef(facet.name, name, True) for name in curated]
        out += [EntityRef(facet.name, name, False) for name in values(stored.get(facet.auto))
                if name not in curated]
    return tuple(out)


def hit_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The fields ``Hit`` and ``ReportDetail`` share, from stored fields."""
    return {
        "authors": tuple(a for a in (stored.get("author") or "").split(AUTHOR_SEPARATOR) if a),
        "language": stored.get("language"),
        "entities": entities(stored),
        "format": stored.get("format") or "",
        "ocr": bool(stored.get("ocr")),
    }


def detail_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The fields only ``ReportDetail`` has (the others: ``SearchIndex.get``)."""
    body = stored.get("body", "")
    starts = list(stored.get("pages") or ())
    return {
        **hit_fields(stored),
        "html": stored.get("html"),
        "pages": tuple(body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])),
        "attachment": stored.get("attachment"),
    }


def page_of(pages: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding ``offset`` of stored page offsets (``Report.page_of``)."""
    return Report("", "", "", pages=tuple(pages)).page_of(offset)


def snippet_page(body: str, snippet: Highlighted, pages: Sequence[int]) -> int | None:
    """The page of the snippet's first match (its first fragment found in the body).

    None without pages; the lead's page (1) when nothing matched.
    """
    if not pages:
        return None
    if not snippet.spans:
        return 1
    start, end = snippet.spans[0]
    fragment_start = snippet.text.rfind(_ELLIPSIS, 0, start) + 1
    fragment = snippet.text[fragment_start:end].strip()
    found = body.find(fragment) if fragment else -1
    if found < 0:  # whitespace changed by the snippet: the first copy of the word
        found = body.find(snippet.text[start:end])
        return page_of(pages, max(found, 0))
    return page_of(pages, found + len(fragment) - (end - start))
