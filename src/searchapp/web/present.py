"""What the search page shows, as plain values with their URLs: facet lists,
the date histogram, filter chips, pagination.

The core hands over counts; the links are made here, from ``SearchParams``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from ..facets import UNDATED
from ..results import FacetValue, SearchResults
from .params import SearchParams

TOP_VALUES = 10  # facet values shown before "show all"
BAR_STEPS = 20  # bar heights are CSS classes h0..h20 (no inline styles under the CSP)
MAX_BAR_LABELS = 5  # labels under the histogram's bars; the others show on hover
# The core has no "undated" filter; the query language says it: no date in any year.
UNDATED_QUERY = "NOT date:[1000 TO 9999]"
# Fields of the corpora that say how a collection was made, not what a report is
# (Reuters-21578's LEWISSPLIT, CGISPLIT, OLDID, ...; raw dates and file paths).
INTERNAL_FIELDS = frozenset({
    "lewissplit", "cgisplit", "oldid", "newid", "has_topics", "text_type", "date_raw",
    "path", "file", "headers", "line",
})


@dataclass(frozen=True)
class FacetEntry:
    value: str
    count: int
    selected: bool
    id: str  # of its checkbox


@dataclass(frozen=True)
class FacetView:
    name: str  # the query parameter: "source" or "topic"
    label: str
    top: tuple[FacetEntry, ...]
    rest: tuple[FacetEntry, ...]

    @property
    def size(self) -> int:
        return len(self.top) + len(self.rest)


@dataclass(frozen=True)
class Bar:
    label: str  # "2024" or "Mar"
    title: str  # "2024: 8 reports"
    count: int
    height: int  # 0..BAR_STEPS
    selected: bool
    url: str
    show_label: bool


@dataclass(frozen=True)
class DateView:
    granularity: str
    bars: tuple[Bar, ...]
    undated: int
    zoom_out_url: str | None  # back from months to years
    date_from: str  # ISO days for the date inputs
    date_to: str
    undated_url: str | None = None  # toggles the undated reports
    undated_selected: bool = False


@dataclass(frozen=True)
class Chip:
    label: str
    url: str  # the URL without this filter


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("...")
    url: str | None
    current: bool = False


def facet_view(name: str, label: str, values: tuple[FacetValue, ...]) -> FacetView:
    """Selected values first, then by count (the core's order); the top ten, then the rest."""
    ordered = [v for v in values if v.selected] + [v for v in values if not v.selected]
    entries = [FacetEntry(v.value, v.count, v.selected, f"f-{name}-{i}") for i, v in enumerate(ordered)]
    cut = max(TOP_VALUES, sum(1 for v in ordered if v.selected))
    return FacetView(name, label, tuple(entries[:cut]), tuple(entries[cut:]))


def date_view(results: SearchResults, params: SearchParams) -> DateView:
    """The histogram: one bar per year (or month) from the first to the last, empty ones as gaps."""
    counts = {v.value: v for v in results.facets.get("date", ()) if v.value != UNDATED}
    undated = sum(v.count for v in results.facets.get("date", ()) if v.value == UNDATED)
    month = results.date_granularity == "month"
    keys = _every_bucket(sorted(counts), month)
    highest = max((v.count for v in counts.values()), default=0)
    every = max(1, -(-len(keys) // MAX_BAR_LABELS))
    # When every bar is inside the selected range, marking them all says nothing.
    mark_selected = not all(v.selected for v in counts.values())
    bars = []
    for i, key in enumerate(keys):
        v = counts.get(key)
        count = v.count if v else 0
        noun = "no reports" if not count else "1 report" if count == 1 else f"{count:,} reports"
        bars.append(Bar(
            label=_month_label(key) if month else key,
            title=f"{_month_title(key) if month else key}: {noun}",
            count=count,
            height=round(BAR_STEPS * count / highest) if highest else 0,
            selected=bool(v and v.selected and mark_selected),
            url=params.url(date_from=key, date_to=key),
            show_label=i % every == 0,
        ))
    return DateView(
        granularity=results.date_granularity, bars=tuple(bars), undated=undated,
        zoom_out_url=_zoom_out(results, params, keys) if month else None,
        date_from=results.filters.get("date_from") or "",
        date_to=results.filters.get("date_to") or "",
        undated_url=undated_url(params) if undated or is_undated(params) else None,
        undated_selected=is_undated(params),
    )


def _every_bucket(keys: list[str], month: bool) -> list[str]:
    """The years (``1987``) or months (``1987-03``) from the first key to the last."""
    if not keys:
        return []
    if not month:
        return [str(y) for y in range(int(keys[0]), int(keys[-1]) + 1)]
    first, last = int(keys[0][:4]) * 12 + int(keys[0][5:7]) - 1, int(keys[-1][:4]) * 12 + int(keys[-1][5:7]) - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


def _zoom_out(results: SearchResults, params: SearchParams, keys: list[str]) -> str:
    """Back from months: to the whole year when part of one is shown, else to every date."""
    years = sorted({k[:4] for k in keys})
    whole_year = (results.filters.get("date_from"), results.filters.get("date_to")) == (
        f"{years[0]}-01-01", f"{years[0]}-12-31") if years else True
    if len(years) == 1 and not whole_year:
        return params.url(date_from=years[0], date_to=years[0])
    return params.url(date_from="", date_to="")


def is_undated(params: SearchParams) -> bool:
    """Whether the query asks for undated reports only (the undated link's doing)."""
    return params.q == UNDATED_QUERY or params.q.endswith(f" {UNDATED_QUERY}")


def undated_url(params: SearchParams) -> str:
    """The undated reports of this search (no date filter applies to them), or back without them."""
    if is_undated(params):
        return params.url(q=params.q[: -len(UNDATED_QUERY)].strip().removeprefix("(").removesuffix(")"))
    q = f"({params.q}) {UNDATED_QUERY}" if params.q else UNDATED_QUERY
    return params.url(q=q, date_from="", date_to="")


def chips(params: SearchParams, results: SearchResults | None = None) -> list[Chip]:
    """One removable chip per active filter."""
    out = [Chip(f"Source: {v}", params.toggle("source", v)) for v in params.source]
    out += [Chip(f"Topic: {v}", params.toggle("topic", v)) for v in params.topic]
    if params.date_from or params.date_to:
        out.append(Chip(f"Date: {date_range_label(params, results)}", params.url(date_from="", date_to="")))
    return out


def date_range_label(params: SearchParams, results: SearchResults | None = None) -> str:
    first, last = params.date_from, params.date_to
    if results is not None:
        first = results.filters.get("date_from") or ""
        last = results.filters.get("date_to") or ""
    if params.date_from and params.date_from == params.date_to:
        return params.date_from  # one year, month or day, as asked
    if first and last:
        return f"{first} to {last}"
    if first:
        return f"from {first}"
    return f"until {last}"


def pagination(results: SearchResults, params: SearchParams, around: int = 2) -> list[PageLink]:
    """Page links: the first, the last, and ``around`` pages either side of the current one."""
    pages, current = results.pages, results.page
    if pages <= 1:
        return []
    shown = sorted({1, pages} | set(range(max(1, current - around), min(pages, current + around) + 1)))
    out: list[PageLink] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            out.append(PageLink(None, None))
        out.append(PageLink(number, params.page_url(number), number == current))
        previous = number
    return out


def _month_label(value: str) -> str:
    return calendar.month_abbr[int(value[5:7])]


def _month_title(value: str) -> str:
    return f"{calendar.month_name[int(value[5:7])]} {value[:4]}"


@dataclass(frozen=True)
class MetaRow:
    label: str
    text: str
    url: str | None = None  # an http(s) link, never another scheme


def meta_rows(meta: dict) -> list[MetaRow]:
    """A report's extra metadata as label/text rows: ``extra`` flattened, empty and internal fields left out.

    ``line`` goes with the file; :data:`INTERNAL_FIELDS` are the collection's bookkeeping.
    """
    items = [(k, v) for k, v in meta.items() if k != "extra"]
    extra = meta.get("extra")
    if isinstance(extra, dict):
        items += list(extra.items())
    elif extra is not None:
        items.append(("extra", extra))
    rows = []
    for key, value in sorted(items, key=lambda kv: (kv[0] != "url", str(kv[0]))):
        text = _plain(value).strip()
        if not text or str(key).lower() in INTERNAL_FIELDS:
            continue
        label = "Original" if key == "url" else str(key).replace("_", " ").capitalize()
        rows.append(MetaRow(label, text, http_url(value)))
    return rows


def _plain(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items() if _plain(v))
    if isinstance(value, (list, tuple)):
        return ", ".join(p for p in map(_plain, value) if p)
    return "" if value is None else str(value)


def http_url(url: object) -> str | None:
    """``url`` when it is an http(s) address (never ``javascript:`` and the like)."""
    if isinstance(url, str) and re.match(r"https?://[^\s/]", url.strip(), re.IGNORECASE):
        return url.strip()
    return None
