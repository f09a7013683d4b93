"""Lenient date parsing for report headers, front matter and JSON fields.

Only the standard library: a handful of anchored regular expressions, then
:class:`datetime.date` to reject impossible dates. Only complete calendar
dates count; a year or a year-month alone is not a date (``None``), because
pretending it is the first of the month would put it in the wrong facet.

>>> parse_date("28 July 2024")
datetime.date(2024, 7, 28)
>>> parse_date("2024-07-19T16:00:00.000Z")
datetime.date(2024, 7, 19)
>>> parse_date("1987-04") is None
True
>>> parse_date_prefix("2024-07-28 British intelligence conducted")
(datetime.date(2024, 7, 28), 'British intelligence conducted')
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["DATE_ORDERS", "parse_date", "parse_date_prefix", "read_date", "MIN_YEAR", "MAX_YEAR"]

MIN_YEAR = 1000
MAX_YEAR = 9999

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
# An optional time of day (and zone) after the date; it is read and dropped.
_TIME = (
    r"(?:(?:[T ]|,\s*|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)?"
)
_END = r"(?![\w/-])(?!\.\w)"  # the date must not run on into a longer token

_PATTERNS = [
    re.compile(p + _TIME + _END, re.IGNORECASE)
    for p in (
        # 2024-07-28, 2024-07-28T10:00:00Z, 2024-07-19T16:00:00.000Z
        r"(?P<year>\d{4,})-(?P<month>\d{1,2})-(?P<day>\d{1,2})",
        # 2024/07/28
        r"(?P<year>\d{4,})/(?P<month>\d{1,2})/(?P<day>\d{1,2})",
        # 28.07.2024 (day first, as written in Europe)
        r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4,})",
        # 28 July 2024, 28 Jul 2024, 26-FEB-1987, Fri, 26 Jul 2024
        _WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?[ -]" + _MONTH + r"[ -](?P<year>\d{4,})",
        # July 28, 2024, Jul 28 2024
        _WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4,})",
    )
]
# What may separate a leading date from the title after it: "2024-07-28 - Title".
_SEPARATOR = re.compile(r"\s*(?:[:|,.]|[-\u2013\u2014](?=\s|$))?")


def _to_date(match: re.Match[str]) -> dt.date | None:
    """Turn a pattern match into a date, or ``None`` if it is impossible."""
    fields = match.groupdict()
    year = int(fields["year"])
    day = int(fields["day"])
    month_name = fields.get("month_name")
    month = _MONTHS[month_name.lower()] if month_name else int(fields["month"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _match_start(text: str) -> tuple[dt.date | None, int]:
    """Find a date at the very start of ``text``: (date, end offset) or (None, 0)."""
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            found = _to_date(match)
            return (found, match.end()) if found else (None, 0)
    return None, 0


def parse_date(value: str | dt.date | dt.datetime | None) -> dt.date | None:
    """Read a calendar date from a string (or pass a date through).

    Accepts ISO dates and datetimes (``Z``, offsets and fractions allowed; the
    date is taken as written, not converted to UTC), ``2024/07/28``,
    ``28.07.2024``, ``28 July 2024``, ``28 Jul 2024``, ``July 28, 2024``,
    ``Jul 28 2024`` and ``26-FEB-1987 15:01:01.79``.

    :param value: the text, a date, a datetime or ``None``.
    :returns: the date, or ``None`` for anything that is not one complete,
        possible date between the years 1000 and 9999 (partial dates such as
        ``1987-04``, ``2024-02-30``, ``0000-00-00``, other types).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    found, end = _match_start(text)
    if found is None or text[end:].strip():
        return None
    return found


def parse_date_prefix(text: str) -> tuple[dt.date | None, str]:
    """Split a date off the start of ``text``.

    Leading spaces are ignored, and so is one separator after the date
    (``-``, ``–``, ``—``, ``:``, ``|``, ``,`` or ``.``).

    :returns: ``(date, rest)`` with the rest stripped; ``(None, text)`` unchanged
        when the text does not start with a possible date.
    """
    stripped = text.lstrip()
    found, end = _match_start(stripped)
    if found is None:
        return None, text
    rest = stripped[end:]
    separator = _SEPARATOR.match(rest)
    if separator:
        rest = rest[separator.end() :]
    return found, rest.strip()


# 04/13/2026, 31-12-2024: which number is the month depends on who wrote it.
_NUMERIC = re.compile(r"\s*(?P<a>\d{1,2})[/-](?P<b>\d{1,2})[/-](?P<year>\d{4})" + _TIME + r"\s*")
DATE_ORDERS = ("month-first", "day-first")
_UNKNOWN_ORDER = (
    "day and month order unknown: write it as YYYY-MM-DD, or set "
    'date_order = "month-first" (or "day-first") in _folder.toml'
)
_UNREADABLE = "not a date searchapp reads: write it as YYYY-MM-DD"


def read_date(value: object, order: str | None = None) -> tuple[dt.date | None, str | None]:
    """Read a date as :func:`parse_date` does, and say why when it cannot.

    Numeric dates with slashes or dashes (``04/13/2026``) are read only when
    ``order`` says which number is the month: never guessed, even when only
    one reading is possible, so that a folder's dates are read one way.

    >>> read_date("04/13/2026", "month-first")
    (datetime.date(2026, 4, 13), None)
    >>> read_date("31/12/2024")[1].startswith("day and month order unknown")
    True

    :param order: ``"month-first"``, ``"day-first"`` or ``None``.
    :returns: ``(date, None)``, or ``(None, reason)``; ``(None, None)`` for an
        empty value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    found = parse_date(value)  # type: ignore[arg-type]
    if found is not None:
        return found, None
    match = _NUMERIC.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None, _UNREADABLE
    if order not in DATE_ORDERS:
        return None, _UNKNOWN_ORDER
    a, b = int(match.group("a")), int(match.group("b"))
    month, day = (a, b) if order == "month-first" else (b, a)
    try:
        return dt.date(int(match.group("year")), month, day), None
    except ValueError:
        return None, f"not a possible date when read {order}"
