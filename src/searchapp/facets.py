"""Facet counting over per-document ordinals, with Solr's tag/exclude semantics.

The ordinals and days come from the reader's state (``engine.state.ReaderState``);
here they are only counted: each facet with every other filter applied but not
its own (``search`` chooses the masks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .results import FacetValue
from .topics.names import topic_key

UNDATED = "undated"
NO_DAY = 0  # date.toordinal() of a real date is >= 1


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of day ordinals; None ends are open."""

    first: int | None = None
    last: int | None = None

    @property
    def active(self) -> bool:
        return self.first is not None or self.last is not None

    def span_days(self) -> int | None:
        if self.first is None or self.last is None:
            return None
        return self.last - self.first + 1


class MultiValued:
    """A field with any number of values per document, as (doc, ordinal) pairs."""

    def __init__(self, values: list[str], docs: np.ndarray, ords: np.ndarray) -> None:
        self.values = values
        self.index = {v: i for i, v in enumerate(values)}
        self.docs = docs
        self.ords = ords
        # Each value's place in case-blind name order: ties in count are listed in it.
        self.name_rank = np.empty(len(values), dtype=np.int64)
        self.name_rank[sorted(range(len(values)), key=lambda i: values[i].lower())] = np.arange(len(values))
        # FacetValues are immutable: made once per (value, count, selected), most
        # are seen again (a facet's long tail of ones and twos, every browse).
        self.made: dict[tuple[int, int, bool, int], FacetValue] = {}
        self._by_key: dict[str, list[int]] | None = None

    def facet_value(self, i: int, count: int, selected: bool, auto: int = 0) -> FacetValue:
        key = (i, count, selected, auto)
        made = self.made.get(key)
        if made is None:
            if len(self.made) > 200_000:
                self.made.clear()
            made = self.made[key] = FacetValue(self.values[i], count, selected, auto)
        return made

    def matching(self, selected: list[str]) -> list[int]:
        """The ordinals of the values ``selected`` means: case and spacing do not
        count (``topic_key``), so a URL, a query and a facet link agree (issue 13)."""
        if self._by_key is None:
            by_key: dict[str, list[int]] = {}
            for i, value in enumerate(self.values):
                by_key.setdefault(topic_key(value), []).append(i)
            self._by_key = by_key
        return sorted({i for v in selected for i in self._by_key.get(topic_key(v), ())})

    @classmethod
    def union(cls, first: "MultiValued", second: "MultiValued") -> "MultiValued":
        """Both fields as one: a document holding a value in both holds it once."""
        values = sorted(set(first.values) | set(second.values))
        if not values:
            return cls([], np.zeros(0, np.int32), np.zeros(0, np.int32))
        index = {v: i for i, v in enumerate(values)}
        docs = np.concatenate([first.docs, second.docs]).astype(np.int64)
        ords = np.concatenate([
            np.array([index[v] for v in first.values], dtype=np.int64)[first.ords],
            np.array([index[v] for v in second.values], dtype=np.int64)[second.ords],
        ]) if len(docs) else np.zeros(0, np.int64)
        pairs = np.unique(docs * len(values) + ords)
        return cls(values, (pairs // len(values)).astype(np.int32), (pairs % len(values)).astype(np.int32))

    def mask(self, selected: list[str], n: int) -> np.ndarray:
        """Documents holding any of ``selected`` (OR within a facet)."""
        wanted = self.matching(selected)
        out = np.zeros(n, dtype=bool)
        if wanted:
            out[self.docs[np.isin(self.ords, wanted)]] = True
        return out

    def counts(self, docmask: np.ndarray) -> np.ndarray:
        return np.bincount(self.ords[docmask[self.docs]], minlength=len(self.values))


MAX_VALUES = 200  # values of one facet in an answer (the selected ones always): Datasette's bound


def facet_values(state, name: str, docmask: np.ndarray, selected: list[str],
                 curated_only: bool = False) -> tuple[tuple[FacetValue, ...], int]:
    """The values of facet ``name`` (``schema.FACET_FIELDS``) among ``docmask``,
    the :data:`MAX_VALUES` most frequent and every selected one, and how many
    other values with a count were left out (a place facet has thousands).

    For a facet with automatic values, curated and automatic together (a report
    holding a value both ways counts once), each value's ``auto`` the reports
    holding it only automatically; with ``curated_only``, curated values only.
    """
    field = state.facet(name, curated_only)
    counts = field.counts(docmask)
    auto = None
    if field is not state.facet(name, True):
        auto = counts - state.curated_in_union(name, docmask)
    return _values(field, counts, selected, auto)


def date_values(state, docmask: np.ndarray, rng: DateRange) -> tuple[tuple[FacetValue, ...], str]:
    """Years, or months when the selected range spans less than two years."""
    span = rng.span_days()
    if span is not None and span < 731:
        first, last = dt.date.fromordinal(rng.first), dt.date.fromordinal(rng.last)
        lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
        buckets = state.month_index[docmask & state.dated]
        inside = (buckets >= lo) & (buckets <= hi)
        counts = np.bincount(buckets[inside] - lo, minlength=hi - lo + 1)
        out = []
        for i, count in enumerate(counts):
            year, month = divmod(lo + i, 12)
            start = dt.date(year, month + 1, 1).toordinal()
            end = _month_end(year, month + 1).toordinal()
            out.append(FacetValue(f"{year:04d}-{month + 1:02d}", int(count), rng.first <= start and end <= rng.last))
        return tuple(out), "month"
    counts = np.bincount(state.year_bucket[docmask], minlength=state.years + 1)
    out = []
    for offset in np.nonzero(counts[:-1])[0].tolist():
        year = state.first_year + offset
        start, end = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
        selected = rng.active and (rng.first or 0) <= start and end <= (rng.last or 10**9)
        out.append(FacetValue(f"{year:04d}", int(counts[offset]), bool(selected)))
    undated = int(counts[-1])
    if undated:
        out.append(FacetValue(UNDATED, undated, False))
    return tuple(out), "year"



def _values(field: MultiValued, counts: np.ndarray, selected: list[str],
            auto: np.ndarray | None = None) -> tuple[tuple[FacetValue, ...], int]:
    """Values with a count, most first (then by name, case-blind), at most
    :data:`MAX_VALUES` unless selected, then every selected one that the index
    does not hold (at zero); and how many values with a count were left out."""
    chosen = set(field.matching(selected))
    keep = counts > 0
    keep[list(chosen)] = True
    shown = np.nonzero(keep)[0]
    shown = shown[np.lexsort((field.name_rank[shown], -counts[shown]))]
    is_chosen = np.isin(shown, list(chosen))
    within = np.cumsum(~is_chosen) <= MAX_VALUES
    left_out = int((~within & ~is_chosen).sum())
    shown = shown[within | is_chosen]
    autos = auto[shown].tolist() if auto is not None else [0] * len(shown)
    out = [field.facet_value(i, c, i in chosen, a)
           for i, c, a in zip(shown.tolist(), counts[shown].tolist(), autos)]
    held = {topic_key(field.values[i]) for i in chosen}
    out += [FacetValue(v, 0, True) for v in selected if topic_key(v) not in held]
    return tuple(out), left_out


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)

