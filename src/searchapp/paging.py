"""Deep paging (issue 14): every hit of a search as a stream, and the cursor
the API pages with beyond the 10,000 results of plain pages.

A cursor is the position of the next hit, opaque to clients (URL-safe base64
of a small JSON object), so a link can carry it; a cursor that does not decode
is a ``QueryError``. Positions, like Elasticsearch's ``from``, are counted in
the order of the search as the index is when the page is asked: reports
indexed in between can shift a page by as many.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Iterator

from .errors import QueryError
from .results import Hit

CURSOR_VERSION = 1
MAX_CURSOR_CHARS = 200


@dataclass
class HitStream:
    """``total`` hits of a search; iterating gives them in order from ``start``, read lazily."""

    total: int
    start: int
    hits: Iterator[Hit]

    def __iter__(self) -> Iterator[Hit]:
        return self.hits


def encode_cursor(position: int) -> str:
    """The cursor of the hit at ``position`` (0 is the first).

    >>> decode_cursor(encode_cursor(12345))
    12345
    """
    raw = json.dumps({"v": CURSOR_VERSION, "at": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position a cursor names; an empty cursor is the first hit.

    :raises QueryError: not a cursor this server made.
    """
    if not cursor:
        return 0
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = data["at"]
        if data.get("v") != CURSOR_VERSION or not isinstance(position, int) or position < 0:
            raise ValueError
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as e:
        raise QueryError("the cursor is not one this server made: start again from the first page "
                         "(an empty cursor)") from e
    return position
