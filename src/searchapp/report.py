"""The parsed report record: what every corpus format turns into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_SOURCE = "unknown source"


@dataclass(frozen=True)
class ParseWarning:
    """Something a parser read but would not use, kept so the reindex summary can say so.

    ``field`` is the report field concerned (``"date"``), ``value`` the text as
    found (``"31/12/2024"``) and ``reason`` why it was not used, as a sentence
    fragment a user can act on.
    """

    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.value!r} not used: {self.reason}"


@dataclass(frozen=True)
class Report:
    """One report, as parsed from a corpus file.

    ``id`` is unique in the corpus: the file's path relative to the corpus
    folder without its extension for one-report files, ``<that>:<record id>``
    for JSON Lines records, ``<message id>/<attachment name>`` for a report
    attached to an e-mail.

    Fields beyond the first ones, all with defaults so that every format can
    leave out what it does not have:

    ``authors``
        Every author, in the document's order (``author`` is the first one,
        kept for code that shows one name).
    ``language``
        ISO 639-1 code detected from the text (``"en"``), or ``None`` when the
        text is too short to tell.
    ``pages``
        For paged formats (PDF): the offset in ``body`` where each page
        starts, page 1 first (so ``pages[0] == 0``). Page *n*'s text is
        ``body[pages[n-1]:pages[n]]``; empty for formats without pages.
    ``ocr``
        The text was read by optical character recognition (a scanned PDF).
    ``parent``
        The id of the report (an e-mail) this one is an attachment of.
    ``attachments``
        The ids of the reports attached to this one (an e-mail's attachments in
        a supported format), in the message's order.
    ``attachment``
        For an attachment: its (sanitised) file name inside the message; the
        original file is the attachment of that name in ``path``.
    ``html``
        A safe HTML rendering of the body for the report page (Markdown):
        sanitised, no script, no event handlers, links ``rel="noopener
        nofollow"``. ``None`` when the page should show ``body`` as text.
    ``format``
        What the file was read as: ``"pdf"``, ``"html"``, ``"docx"``,
        ``"email"``, ``"csaf"``, ``"markdown"``, ``"text"``, ``"jsonl"``.
    ``updated``
        The date of the latest revision when the document states one (CSAF
        ``current_release_date``, a PDF's modification date).
    ``warnings``
        Values the parser found but did not use (an unreadable date), for the
        reindex summary.
    """

    id: str
    title: str
    body: str
    date: dt.date | None = None
    source: str = UNKNOWN_SOURCE
    topics: tuple[str, ...] = ()
    path: str = ""  # corpus-relative path of the file it came from (for attachments: the message)
    line: int | None = None  # line number for JSON Lines records
    url: str | None = None
    author: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    authors: tuple[str, ...] = ()
    language: str | None = None
    pages: tuple[int, ...] = ()
    ocr: bool = False
    parent: str | None = None
    attachments: tuple[str, ...] = ()
    attachment: str | None = None
    html: str | None = None
    format: str = ""
    updated: dt.date | None = None
    warnings: tuple[ParseWarning, ...] = ()

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding body offset ``offset``, or ``None`` without pages."""
        if not self.pages:
            return None
        low, high = 0, len(self.pages)
        while high - low > 1:
            middle = (low + high) // 2
            if self.pages[middle] <= offset:
                low = middle
            else:
                high = middle
        return low + 1
