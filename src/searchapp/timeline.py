"""Sources over time (issue 14): how many matching reports each source (and
each topic) published per year, month, week or day.

Counted from the reader state's arrays in one pass: for the matched mask,
every (document, value) pair of a facet field gets its document's period,
and one ``bincount`` over ``value ordinal x period`` gives the whole table;
no search per source. The top values by count are kept, the rest summed
into one "other" row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from .facets import DateRange

GRANULARITIES = ("year", "month", "week", "day")
TOP = 8
OTHER = "other"
# The widest span (in days) shown per month, per week and per day.
MONTHS_UP_TO = 3 * 366
WEEKS_UP_TO = 120
DAYS_UP_TO = 31


@dataclass(frozen=True)
class Period:
    """One column: its label and its first and last day (ISO dates, inclusive)."""

    label: str
    first: str
    last: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "first": self.first, "last": self.last}


@dataclass(frozen=True)
class Series:
    """One row: a source or topic (``value`` None for the grouped rest) and its count per period."""

    label: str
    value: str | None
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "counts": list(self.counts), "total": self.total}


@dataclass(frozen=True)
class Timeline:
    granularity: str
    periods: tuple[Period, ...]
    sources: tuple[Series, ...]
    topics: tuple[Series, ...]
    undated: int = 0  # matching reports without a date (in no column)
    sources_truncated: bool = False  # the "other" row holds the rest
    topics_truncated: bool = False

    @property
    def peak(self) -> int:
        """The largest count of one cell (the chart's scale)."""
        return max((c for s in (*self.sources, *self.topics) for c in s.counts), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"granularity": self.granularity, "periods": [p.to_dict() for p in self.periods],
                "sources": [s.to_dict() for s in self.sources], "topics": [s.to_dict() for s in self.topics],
                "undated": self.undated, "sources_truncated": self.sources_truncated,
                "topics_truncated": self.topics_truncated}


def granularity_for(first: int, last: int) -> str:
    """The period for a span of day ordinals: years, then months, weeks and days as it narrows.

    >>> d = dt.date(2024, 1, 1).toordinal()
    >>> [granularity_for(d, d + n) for n in (5000, 400, 60, 10)]
    ['year', 'month', 'week', 'day']
    """
    span = last - first + 1
    if span > MONTHS_UP_TO:
        return "year"
    if span > WEEKS_UP_TO:
        return "month"
    return "week" if span > DAYS_UP_TO else "day"


def count_timeline(state, mask: np.ndarray, dates: DateRange, top: int = TOP) -> Timeline:
    """The timeline of the documents in ``mask`` (a boolean array over the reader's documents).

    :param state: the reader's state (``day``, ``dated``, ``year``, ``month_index``,
        ``source`` and ``topics`` as ``MultiValued``).
    :param dates: the search's date filter: its bounds fix the axis when given.
    """
    dated = mask & state.dated
    undated = int(mask.sum() - dated.sum())
    days = state.day[dated]
    if not days.size and (dates.first is None or dates.last is None):
        return Timeline("year", (), (), (), undated)
    first = dates.first if dates.first is not None else int(days.min())
    last = dates.last if dates.last is not None else int(days.max())
    granularity = granularity_for(first, last)
    period, periods = _periods(state, granularity, first, last)
    sources, cut_sources = _series(state.source, dated, period, len(periods), top)
    topics, cut_topics = _series(state.topics, dated, period, len(periods), top)
    return Timeline(granularity, periods, sources, topics, undated, cut_sources, cut_topics)


def _periods(state, granularity: str, first: int, last: int) -> tuple[np.ndarray, tuple[Period, ...]]:
    """Each document's column number (any value for undated ones) and the columns."""
    a, b = dt.date.fromordinal(first), dt.date.fromordinal(last)
    if granularity == "year":
        return state.year.astype(np.int64) - a.year, tuple(
            Period(str(y), f"{y}-01-01", f"{y}-12-31") for y in range(a.year, b.year + 1))
    if granularity == "month":
        start = a.year * 12 + a.month - 1
        cols = []
        for m in range(start, b.year * 12 + b.month):
            year, month = divmod(m, 12)
            nxt = dt.date(year + (month == 11), (month + 1) % 12 + 1, 1)
            cols.append(Period(f"{year}-{month + 1:02d}", f"{year}-{month + 1:02d}-01",
                               (nxt - dt.timedelta(days=1)).isoformat()))
        return state.month_index.astype(np.int64) - start, tuple(cols)
    step = 7 if granularity == "week" else 1
    origin = first - a.weekday() if step == 7 else first
    cols = []
    for start in range(origin, last + 1, step):
        day = dt.date.fromordinal(start)
        label = f"week of {day.isoformat()}" if step == 7 else day.isoformat()
        cols.append(Period(label, day.isoformat(), dt.date.fromordinal(start + step - 1).isoformat()))
    return (state.day.astype(np.int64) - origin) // step, tuple(cols)


def _series(field, dated: np.ndarray, period: np.ndarray, width: int, top: int
            ) -> tuple[tuple[Series, ...], bool]:
    """The top ``top`` values of a ``MultiValued`` field by count, and an "other" row for the rest."""
    values = len(field.values)
    if not values or not width:
        return (), False
    docs = field.docs
    cols = period[docs]
    keep = dated[docs] & (cols >= 0) & (cols < width)  # inside the axis (a date filter's bounds)
    cells = np.bincount(field.ords[keep].astype(np.int64) * width + cols[keep],
                        minlength=values * width).reshape(values, width)
    totals = cells.sum(axis=1)
    order = np.lexsort((field.name_rank, -totals))
    shown = [int(i) for i in order[:top] if totals[i]]
    rest = [int(i) for i in order[top:] if totals[i]]
    series = [Series(field.values[i], field.values[i], tuple(int(c) for c in cells[i])) for i in shown]
    if rest:
        series.append(Series(f"{OTHER} ({len(rest)})", None, tuple(int(c) for c in cells[rest].sum(axis=0))))
    return tuple(series), bool(rest)
