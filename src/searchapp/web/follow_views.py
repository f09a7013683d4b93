"""What the follow pages show (issue 14): the sources-over-time chart as
server-drawn SVG with its table, the export and feed links, and the CSRF
token of the save form (a random token in a SameSite cookie, repeated in the
form and compared on post)."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import g, request, url_for

from ..timeline import Series, Timeline
from .params import SearchParams

CSRF_COOKIE = "searchapp_csrf"
CSRF_FIELD = "csrf"
LABEL_WIDTH = 190
ROW_HEIGHT = 22
CHART_WIDTH = 720
AXIS_HEIGHT = 30
LABEL_CHARS = 26
FILE_NAME_CHARS = 40


# -- the chart --------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    count: int
    url: str | None  # the search narrowed to the row's value and the column's period
    title: str
    x: int
    y: int
    opacity: float


@dataclass(frozen=True)
class Row:
    label: str
    short: str
    total: int
    y: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Chart:
    """One heat map: rows (sources or topics) by columns (periods)."""

    facet: str
    heading: str
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, int, bool], ...]  # label, x, label shown on the axis
    cell_width: int
    width: int
    height: int
    truncated: bool


def charts(timeline: Timeline, params: SearchParams) -> list[Chart]:
    """The source and topic charts of a timeline (no chart for an empty one)."""
    out = []
    for facet, heading, series, cut in (("source", "Sources", timeline.sources, timeline.sources_truncated),
                                        ("topic", "Topics", timeline.topics, timeline.topics_truncated)):
        if series:
            out.append(_chart(facet, heading, series, cut, timeline, params))
    return out


def _chart(facet: str, heading: str, series: tuple[Series, ...], cut: bool, timeline: Timeline,
           params: SearchParams) -> Chart:
    periods = timeline.periods
    cell = max(6, min(48, (CHART_WIDTH - LABEL_WIDTH) // max(1, len(periods))))
    peak = max((c for s in series for c in s.counts), default=0) or 1
    every = max(1, -(-60 // cell))  # an axis label every ~60 px
    rows = []
    for r, s in enumerate(series):
        y = r * ROW_HEIGHT
        cells = []
        for c, (period, count) in enumerate(zip(periods, s.counts)):
            narrowed = params.changed(date_from=period.first, date_to=period.last)
            if s.value is not None:
                current = getattr(params, facet)
                narrowed = narrowed.changed(**{facet: current if s.value in current else current + (s.value,)})
            title = f"{s.label}, {period.label}: {count:,} report{'' if count == 1 else 's'}"
            url = narrowed.url() if count else None
            cells.append(Cell(count, url, title, LABEL_WIDTH + c * cell, y,
                              round(0.15 + 0.85 * count / peak, 3) if count else 0.0))
        short = s.label if len(s.label) <= LABEL_CHARS else s.label[:LABEL_CHARS - 1] + "…"
        rows.append(Row(s.label, short, s.total, y, tuple(cells)))
    columns = tuple((p.label, LABEL_WIDTH + i * cell, i % every == 0) for i, p in enumerate(periods))
    return Chart(facet, heading, tuple(rows), columns, cell, LABEL_WIDTH + len(periods) * cell,
                 len(rows) * ROW_HEIGHT + AXIS_HEIGHT, cut)


# -- links ------------------------------------------------------------------------

def follow_links(params: SearchParams) -> dict[str, str]:
    """The export, feed and timeline URLs of this search (relative, from checked values)."""
    query = urlencode(params.pairs(with_page=False))
    suffix = f"?{query}" if query else ""
    return {"csv": url_for("follow.export_csv") + suffix, "jsonl": url_for("follow.export_jsonl") + suffix,
            "atom": url_for("follow.feed") + suffix, "timeline": url_for("follow.timeline_json") + suffix}


def file_name(query: str, extension: str) -> str:
    """A safe download name for a search: ASCII letters, digits and dashes only.

    >>> file_name('crude "oil" / ../x', "csv")
    'searchapp-crude-oil-x.csv'
    """
    slug = re.sub(r"[^A-Za-z0-9]+", "-", query).strip("-")[:FILE_NAME_CHARS].strip("-")
    return f"searchapp-{slug or 'all'}.{extension}"


# -- CSRF -------------------------------------------------------------------------

def csrf_token() -> str:
    """This browser's token (from its cookie, or a new one set with the response)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token):
        token = g.get("new_csrf") or secrets.token_urlsafe(32)
        g.new_csrf = token
    return token


def set_csrf_cookie(response):
    token = g.get("new_csrf")
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure)
    return response


def csrf_ok() -> bool:
    """Whether the posted form carries this browser's token."""
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), request.form.get(CSRF_FIELD, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())
