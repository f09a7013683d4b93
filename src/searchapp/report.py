"""The parsed report record: what every corpus format turns into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_SOURCE = "unknown source"


@dataclass(frozen=True)
class Report:
    """One report, as parsed from a corpus file.

    ``id`` is unique in the corpus: the file's path relative to the corpus
    folder without its extension for one-report files, ``<that>:<record id>``
    for JSON Lines records.
    """

    id: str
    title: str
    body: str
    date: dt.date | None = None
    source: str = UNKNOWN_SOURCE
    topics: tuple[str, ...] = ()
    path: str = ""  # corpus-relative path of the file it came from
    line: int | None = None  # line number for JSON Lines records
    url: str | None = None
    author: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
