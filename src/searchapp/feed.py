"""An Atom 1.0 feed (RFC 4287) of a search's hits, newest first.

Built with ``xml.etree`` so every title, query and snippet is escaped by the
serializer; characters XML 1.0 cannot hold at all (NUL, most control
characters, lone surrogates) are dropped first, since the serializer would
write them as they are and break every reader.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from typing import Iterable
from urllib.parse import quote

from .export import plain_snippet
from .report import UNKNOWN_SOURCE
from .results import Hit

ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "searchapp"
UNDATED = "1970-01-01T00:00:00Z"  # Atom needs a date; a fixed one keeps the entry stable
MAX_ENTRIES = 100

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids.

    >>> xml_text("a\\x00b\\x1bc\\ud800")
    'abc'
    """
    return _NOT_XML.sub("", value)


def report_link(base_url: str, report_id: str) -> str:
    """The URL of a report's page: ``base_url`` (the ``/reports/`` prefix) and the quoted id.

    >>> report_link("https://h/reports/", "reuters21578:1 a")
    'https://h/reports/reuters21578:1%20a'
    """
    return base_url.rstrip("/") + "/" + quote(report_id, safe="/:@")


def entry_id(link: str) -> str:
    """A stable entry id: the name-based UUID of the report page's URL.

    The same report at the same address gets the same id in every feed and
    every call; two installations holding the same report ids do not collide.
    """
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, link))


def atom_feed(
    hits: Iterable[Hit],
    *,
    title: str,
    self_url: str,
    alternate_url: str,
    report_base_url: str,
    updated: str | None = None,
    limit: int = MAX_ENTRIES,
) -> bytes:
    """The Atom document of ``hits`` (UTF-8 bytes with an XML declaration).

    :param hits: the search's hits; they are put newest first (undated last).
    :param title: the feed's title, for example ``"searchapp: crude oil"``.
    :param self_url: the feed's own URL; its id is derived from it.
    :param alternate_url: the results page the feed mirrors.
    :param report_base_url: the prefix of report pages, e.g. ``https://host/reports/``.
    :param updated: the feed's ``updated`` (RFC 3339); default the newest entry's.
    :param limit: at most this many entries.
    """
    entries = _newest_first(hits)[:limit]
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _text(feed, "id", entry_id(self_url))
    _text(feed, "title", title)
    _text(feed, "updated", updated or (_updated(entries[0]) if entries else UNDATED))
    _link(feed, "self", self_url, "application/atom+xml")
    _link(feed, "alternate", alternate_url, "text/html")
    author = ET.SubElement(feed, "author")
    _text(author, "name", GENERATOR)
    _text(feed, "generator", GENERATOR)
    for hit in entries:
        feed.append(_entry(hit, report_base_url))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(hit: Hit, report_base_url: str) -> ET.Element:
    link = report_link(report_base_url, hit.id)
    entry = ET.Element("entry")
    _text(entry, "id", entry_id(link))
    _text(entry, "title", hit.title or hit.id)
    _text(entry, "updated", _updated(hit))
    if hit.date:
        _text(entry, "published", _updated(hit))
    _link(entry, "alternate", link, "text/html")
    if hit.url and hit.url.startswith(("http://", "https://")):
        _link(entry, "related", hit.url, None)
    author = ET.SubElement(entry, "author")
    _text(author, "name", hit.source or UNKNOWN_SOURCE)
    for topic in (*hit.topics, *hit.auto_topics):
        ET.SubElement(entry, "category", term=xml_text(topic))
    summary = _text(entry, "summary", plain_snippet(hit.snippet))
    summary.set("type", "text")
    return entry


def _newest_first(hits: Iterable[Hit]) -> list[Hit]:
    # Two stable sorts: by id for ties, then by date, newest first, undated last.
    ordered = sorted(hits, key=lambda h: h.id)
    return sorted(ordered, key=lambda h: h.date or "", reverse=True)


def _updated(hit: Hit) -> str:
    return f"{hit.date}T00:00:00Z" if hit.date else UNDATED


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = xml_text(value)
    return child


def _link(parent: ET.Element, rel: str, href: str, mime: str | None) -> None:
    link = ET.SubElement(parent, "link", rel=rel, href=xml_text(href))
    if mime:
        link.set("type", mime)
