"""What the search page shows, as plain values with their URLs: facet lists,
the date histogram, filter chips, pagination.

The core hands over counts; the links are made here, from ``SearchParams``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from ..facets import UNDATED
from ..languages import language_name
from ..results import FacetValue, SearchResults
from .params import FACETS, SearchParams

TOP_VALUES = 10  # facet values shown before "show all"
BAR_STEPS = 20  # bar heights are CSS classes h0..h20 (no inline styles under the CSP)
MAX_BAR_LABELS = 5  # labels under the histogram's bars; the others show on hover
# The sidebar's facets, in its order: parameter -> (heading, what one value is, plural).
FACET_LABELS = {
    "source": ("Source", "source", "sources"),
    "topic": ("Topic", "topic", "topics"),
    "language": ("Language", "language", "languages"),
    "person": ("People", "person", "people"),
    "org": ("Organisations", "organisation", "organisations"),
    "place": ("Places", "place", "places"),
}
assert tuple(FACET_LABELS) == FACETS


@dataclass(frozen=True)
class FacetEntry:
    value: str
    count: int  # reports holding the value, curated or automatic
    selected: bool
    id: str  # of its checkbox
    auto: int = 0  # of those, the reports holding it only automatically
    label: str = ""  # as shown ("English" for "en"); the value itself when empty

    @property
    def curated(self) -> int:
        return self.count - self.auto

    @property
    def shown(self) -> str:
        return self.label or self.value

    @property
    def count_title(self) -> str:
        """The count in words, for the hover text (``795 reports: 634 curated, 161 automatic``)."""
        noun = "1 report" if self.count == 1 else f"{self.count:,} reports"
        if not self.auto:
            return noun
        if not self.curated:
            return f"{noun}, all automatic"
        return f"{noun}: {self.curated:,} curated, {self.auto:,} automatic"


@dataclass(frozen=True)
class FacetView:
    name: str  # the query parameter: one of FACETS
    label: str  # the heading: "People"
    top: tuple[FacetEntry, ...]
    rest: tuple[FacetEntry, ...]
    plural: str = ""  # "people", for the filter box
    left_out: int = 0  # less frequent values not sent (facets.MAX_VALUES)

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


ALWAYS_SHOWN = ("source", "topic")  # the others only when these results have values of them


def facet_views(results: SearchResults) -> list[FacetView]:
    """The facets of :data:`FACET_LABELS`, in that order; an empty one only when in :data:`ALWAYS_SHOWN`."""
    views = [facet_view(name, results.facets.get(name, ()), results.facets_left_out.get(name, 0))
             for name in FACET_LABELS]
    return [v for v in views if v.size or v.name in ALWAYS_SHOWN]


def facet_view(name: str, values: tuple[FacetValue, ...], left_out: int = 0) -> FacetView:
    """Selected values first, then by count (the core's order); the top ten, then the rest."""
    ordered = [v for v in values if v.selected] + [v for v in values if not v.selected]
    entries = [FacetEntry(v.value, v.count, v.selected, f"f-{name}-{i}", v.auto,
                          value_label(name, v.value))
               for i, v in enumerate(ordered)]
    cut = max(TOP_VALUES, sum(1 for v in ordered if v.selected))
    label, _, plural = FACET_LABELS[name]
    return FacetView(name, label, tuple(entries[:cut]), tuple(entries[cut:]), plural, left_out)


def value_label(facet: str, value: str) -> str:
    """How a facet value is shown: a language's name for its code, else "" (the value itself)."""
    return language_name(value) if facet == "language" else ""


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
    """Whether the search asks for undated reports only."""
    return params.undated


def undated_url(params: SearchParams) -> str:
    """The undated reports of this search (no date range applies to them), or back without them."""
    if params.undated:
        return params.url(undated=False)
    return params.url(undated=True, date_from="", date_to="")


def chips(params: SearchParams, results: SearchResults | None = None) -> list[Chip]:
    """One removable chip per active filter."""
    out = []
    for name, (label, _, _) in FACET_LABELS.items():
        out += [Chip(f"{label}: {value_label(name, v) or v}", params.toggle(name, v)) for v in getattr(params, name)]
    if params.date_from or params.date_to:
        out.append(Chip(f"Date: {date_range_label(params, results)}", params.url(date_from="", date_to="")))
    if params.undated:
        out.append(Chip("Date: undated", params.url(undated=False)))
    if params.group:
        out.append(Chip("One group of near-duplicates", params.url(group="")))
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
