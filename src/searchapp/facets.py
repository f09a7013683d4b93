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


class Selection:
    """A mask of documents and, found once for every count over it, the numbers
    of the documents it holds, or of those it leaves out when it holds most:
    a count then costs the smaller side (browsing counts what is not shown).
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.count = int(np.count_nonzero(mask))
        self.inverted = self.count > len(mask) // 2
        self._docs: np.ndarray | None = None

    @classmethod
    def of(cls, docmask: "np.ndarray | Selection") -> "Selection":
        return docmask if isinstance(docmask, Selection) else cls(docmask)

    @property
    def docs(self) -> np.ndarray:
        """The documents of the mask, or of its complement when ``inverted``."""
        if self._docs is None:
            self._docs = np.flatnonzero(~self.mask if self.inverted else self.mask)
        return self._docs

    def bincount(self, codes: np.ndarray, minlength: int, total: np.ndarray | None = None) -> np.ndarray:
        """How many documents of the mask hold each code (``codes``: one per
        document, all of them; ``total``: its bincount over all, when kept)."""
        if not self.inverted:
            return np.bincount(codes[self.docs], minlength=minlength)
        if total is None:
            total = np.bincount(codes, minlength=minlength)
        return total - np.bincount(codes[self.docs], minlength=len(total))


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
        self._by_doc_of: _ByDoc | None = None
        self._by_value_of: tuple[np.ndarray, np.ndarray] | None = None

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
        pairs = np.sort(docs * len(values) + ords)  # np.unique hashes: ten times slower here
        pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])]
        return cls(values, (pairs // len(values)).astype(np.int32), (pairs % len(values)).astype(np.int32))

    def mask(self, selected: list[str], n: int) -> np.ndarray:
        """Documents holding any of ``selected`` (OR within a facet)."""
        wanted = np.asarray(self.matching(selected), dtype=np.int64)
        out = np.zeros(n, dtype=bool)
        if len(wanted):
            order, starts = self._by_value()
            out[self.docs[order[_ranges(starts[wanted], starts[wanted + 1])]]] = True
        return out

    def _by_value(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs' order by value, and where each value's pairs start in it."""
        found = self._by_value_of
        if found is None:
            order = np.argsort(self.ords, kind="stable")
            starts = np.zeros(len(self.values) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.ords, minlength=len(self.values)), out=starts[1:])
            found = self._by_value_of = (order, starts)
        return found

    def counts(self, docmask: "np.ndarray | Selection") -> np.ndarray:
        """How many documents of ``docmask`` hold each value, by ordinal,
        counted over the smaller side of the selection (:class:`Selection`)."""
        if not len(self.values):
            return np.zeros(0, dtype=np.int64)
        docs = Selection.of(docmask)
        by_doc = self._by_doc(len(docs.mask))
        if by_doc.codes is not None:  # one value at most a document: one code each
            return docs.bincount(by_doc.codes, len(self.values) + 1, by_doc.total_codes)[1:]
        if 4 * len(docs.docs) > len(self.docs):  # most pairs are read anyway: every pair, no index
            return np.bincount(self.ords[docs.mask[self.docs]], minlength=len(self.values))
        lo, hi = by_doc.starts[docs.docs], by_doc.starts[docs.docs + 1]
        part = np.bincount(by_doc.ords[_ranges(lo, hi)], minlength=len(self.values))
        return by_doc.total - part if docs.inverted else part

    def _by_doc(self, n: int) -> "_ByDoc":
        found = self._by_doc_of
        if found is None or found.n != n:
            found = self._by_doc_of = _ByDoc(self.docs, self.ords, n, len(self.values))
        return found


class _ByDoc:
    """A field's (doc, ordinal) pairs indexed by document, for counting a few
    documents' values: where each document's pairs start (``n`` + 1 of them),
    their ordinals, and every value's count; or, when no document holds two
    values, each document's code (its value's ordinal + 1, 0 for none)."""

    def __init__(self, docs: np.ndarray, ords: np.ndarray, n: int, size: int) -> None:
        self.n = n
        held = np.bincount(docs, minlength=n)[:n]
        self.codes = self.total_codes = None
        if not len(held) or held.max() <= 1:
            self.codes = np.zeros(n, dtype=np.int64)
            self.codes[docs] = ords.astype(np.int64) + 1
            self.total_codes = np.bincount(self.codes, minlength=size + 1)
            return
        order = np.argsort(docs, kind="stable")
        self.starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(held, out=self.starts[1:])
        self.ords = ords[order].astype(np.int64)
        self.total = np.bincount(self.ords, minlength=size)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every index of the ranges ``lo[i] <= k < hi[i]``, in order (vectorised)."""
    lengths = hi - lo
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) + np.repeat(lo - (ends - lengths), lengths)


MAX_VALUES = 200  # values of one facet in an answer (the selected ones always): Datasette's bound


def facet_values(state, name: str, docmask: "np.ndarray | Selection", selected: list[str],
                 curated_only: bool = False) -> tuple[tuple[FacetValue, ...], int]:
    """The values of facet ``name`` (``schema.FACET_FIELDS``) among ``docmask``,
    the :data:`MAX_VALUES` most frequent and every selected one, and how many
    other values with a count were left out (a place facet has thousands).

    For a facet with automatic values, curated and automatic together (a report
    holding a value both ways counts once), each value's ``auto`` the reports
    holding it only automatically; with ``curated_only``, curated values only.
    """
    field = state.facet(name, curated_only)
    if not field.values and not selected:  # a facet the index holds no value of (entities not extracted)
        return (), 0
    docs = Selection.of(docmask)
    counts = field.counts(docs)
    auto = None
    if field is not state.facet(name, True):
        auto = counts - state.curated_in_union(name, docs)
    return _values(field, counts, selected, auto)


def date_values(state, docmask: "np.ndarray | Selection", rng: DateRange) -> tuple[tuple[FacetValue, ...], str]:
    """Years, or months when the selected range spans less than two years."""
    span = rng.span_days()
    if span is not None and span < 731:
        first, last = dt.date.fromordinal(rng.first), dt.date.fromordinal(rng.last)
        lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
        buckets = state.month_index[Selection.of(docmask).mask & state.dated]
        inside = (buckets >= lo) & (buckets <= hi)
        counts = np.bincount(buckets[inside] - lo, minlength=hi - lo + 1)
        out = []
        for i, count in enumerate(counts):
            year, month = divmod(lo + i, 12)
            start = dt.date(year, month + 1, 1).toordinal()
            end = _month_end(year, month + 1).toordinal()
            out.append(FacetValue(f"{year:04d}-{month + 1:02d}", int(count), rng.first <= start and end <= rng.last))
        return tuple(out), "month"
    counts = Selection.of(docmask).bincount(state.year_bucket, state.years + 1, state.year_total)
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
    free = counts > 0
    free[list(chosen)] = False
    left_out = max(0, int(np.count_nonzero(free)) - MAX_VALUES)
    if left_out > MAX_VALUES:  # thousands of values: sort only those that can come first
        free &= counts >= np.partition(counts[free], -MAX_VALUES)[-MAX_VALUES]
    free[list(chosen)] = True
    shown = np.flatnonzero(free)
    shown = shown[np.lexsort((field.name_rank[shown], -counts[shown]))]
    is_chosen = np.isin(shown, list(chosen))
    shown = shown[(np.cumsum(~is_chosen) <= MAX_VALUES) | is_chosen]
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

