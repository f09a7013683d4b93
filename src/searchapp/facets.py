"""Facet counting over per-document ordinals.

A ``FacetTable`` is built once per index reader from the posting lists of the
exact-value fields and then answers every search with NumPy: filter masks,
and counts with Solr's tag/exclude semantics (each facet counted with every
other filter applied but not its own).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .postings import PostingCache, field_terms
from .results import FacetValue

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
        self.made: dict[tuple[int, int, bool], FacetValue] = {}

    def facet_value(self, i: int, count: int, selected: bool) -> FacetValue:
        key = (i, count, selected)
        made = self.made.get(key)
        if made is None:
            if len(self.made) > 200_000:
                self.made.clear()
            made = self.made[key] = FacetValue(self.values[i], count, selected)
        return made

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

    @classmethod
    def from_reader(cls, reader, fieldname: str, live: np.ndarray) -> "MultiValued":
        values, docs, ords = [], [], []
        if fieldname in reader.schema:
            for number, (term, ids) in enumerate(field_terms(reader, fieldname).items()):
                ids = ids[live[ids]].astype(np.int32)
                values.append(term.decode("utf-8"))
                docs.append(ids)
                ords.append(np.full(len(ids), number, dtype=np.int32))
        if not values:
            return cls([], np.zeros(0, np.int32), np.zeros(0, np.int32))
        return cls(values, np.concatenate(docs), np.concatenate(ords))

    def mask(self, selected: list[str], n: int) -> np.ndarray:
        """Documents holding any of ``selected`` (OR within a facet)."""
        wanted = [self.index[v] for v in selected if v in self.index]
        out = np.zeros(n, dtype=bool)
        if wanted:
            out[self.docs[np.isin(self.ords, wanted)]] = True
        return out

    def counts(self, docmask: np.ndarray) -> np.ndarray:
        return np.bincount(self.ords[docmask[self.docs]], minlength=len(self.values))


FIELDS = ("source", "topic", "topic_auto")


class FacetTable:
    """Per-document facet data of one reader: source, topics, day.

    ``postings`` holds the reader's decoded posting lists, which match and
    score queries on arrays (see ``postings``). :meth:`open` keeps the arrays
    in the index folder, so that a server starting on a built index does
    not read them from the postings again.
    """

    def __init__(self, reader, saved: dict | None = None) -> None:
        self.n = reader.doc_count_all()
        self.postings = PostingCache(reader)
        if saved is None:
            self.live = _live(reader, self.n)
            for field in FIELDS:
                setattr(self, field, MultiValued.from_reader(reader, field, self.live))
            self.day = _days(reader, self.n, self.live)
        else:
            self.live, self.day = saved["live"], saved["day"]
            for field in FIELDS:
                values = json.loads(str(saved[f"{field}_values"]))
                setattr(self, field, MultiValued(values, saved[f"{field}_docs"], saved[f"{field}_ords"]))
        self.topics = MultiValued.union(self.topic, self.topic_auto)  # what the topic facet counts
        self.dated = self.day != NO_DAY
        years, months = _year_month(self.day)
        self.year = np.where(self.dated, years, 0)
        self.month_index = np.where(self.dated, years * 12 + months - 1, 0)
        # Each document's year as a bucket from the first year on, undated ones
        # in one more bucket after the last: the year facet is one bincount.
        dated_years = self.year[self.dated]
        self.first_year = int(dated_years.min()) if dated_years.size else 0
        self.years = int(dated_years.max()) - self.first_year + 1 if dated_years.size else 0
        self.year_bucket = np.where(self.dated, self.year - self.first_year, self.years).astype(np.int64)

    @classmethod
    def open(cls, reader, folder: Path | None) -> "FacetTable":
        """The table of ``reader``, from ``folder`` when it was kept there, else
        read from the index and kept (when the folder can be written)."""
        if folder is None:
            return cls(reader)
        key = _reader_key(reader)
        path = folder / f"{SAVED_PREFIX}{key[0]}.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                saved = {name: data[name] for name in data.files}
            if str(saved["key"]) == key[1]:
                return cls(reader, saved)
        except (OSError, KeyError, ValueError):
            pass  # not kept yet, or for another state of the index
        table = cls(reader)
        table._save(folder, path, key)
        return table

    def _save(self, folder: Path, path: Path, key: tuple[int, str]) -> None:
        arrays = {"key": np.array(key[1]), "live": self.live, "day": self.day}
        for field in FIELDS:
            values = getattr(self, field)
            arrays[f"{field}_values"] = np.array(json.dumps(values.values))  # any text, NULs too
            arrays[f"{field}_docs"], arrays[f"{field}_ords"] = values.docs, values.ords
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
            for old in folder.glob(f"{SAVED_PREFIX}*.npz"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:  # a read-only index: read from the postings each time
            tmp.unlink(missing_ok=True)

    def topic_mask(self, selected: list[str]) -> np.ndarray:
        return self.topics.mask(selected, self.n)

    def date_mask(self, rng: DateRange) -> np.ndarray:
        mask = self.dated.copy()
        if rng.first is not None:
            mask &= self.day >= rng.first
        if rng.last is not None:
            mask &= self.day <= rng.last
        return mask

    def source_values(self, docmask: np.ndarray, selected: list[str]) -> tuple[FacetValue, ...]:
        return _values(self.source, self.source.counts(docmask), selected)

    def topic_values(self, docmask: np.ndarray, selected: list[str]) -> tuple[FacetValue, ...]:
        """Curated and automatic topics together; a report tagged with a topic both ways counts once."""
        return _values(self.topics, self.topics.counts(docmask), selected)

    def date_values(self, docmask: np.ndarray, rng: DateRange) -> tuple[tuple[FacetValue, ...], str]:
        """Years, or months when the selected range spans less than two years."""
        span = rng.span_days()
        if span is not None and span < 731:
            first, last = dt.date.fromordinal(rng.first), dt.date.fromordinal(rng.last)
            lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
            buckets = self.month_index[docmask & self.dated]
            inside = (buckets >= lo) & (buckets <= hi)
            counts = np.bincount(buckets[inside] - lo, minlength=hi - lo + 1)
            out = []
            for i, count in enumerate(counts):
                year, month = divmod(lo + i, 12)
                start = dt.date(year, month + 1, 1).toordinal()
                end = _month_end(year, month + 1).toordinal()
                out.append(FacetValue(f"{year:04d}-{month + 1:02d}", int(count), rng.first <= start and end <= rng.last))
            return tuple(out), "month"
        counts = np.bincount(self.year_bucket[docmask], minlength=self.years + 1)
        out = []
        for offset in np.nonzero(counts[:-1])[0].tolist():
            year = self.first_year + offset
            start, end = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
            selected = rng.active and (rng.first or 0) <= start and end <= (rng.last or 10**9)
            out.append(FacetValue(f"{year:04d}", int(counts[offset]), bool(selected)))
        undated = int(counts[-1])
        if undated:
            out.append(FacetValue(UNDATED, undated, False))
        return tuple(out), "year"


def _values(field: MultiValued, counts: np.ndarray, selected: list[str]) -> tuple[FacetValue, ...]:
    """Values with a count, most first (then by name, case-blind), then every
    selected one that the index does not hold (at zero)."""
    chosen = set(selected)
    keep = counts > 0
    for value in chosen:
        if value in field.index:
            keep[field.index[value]] = True
    shown = np.nonzero(keep)[0]
    shown = shown[np.lexsort((field.name_rank[shown], -counts[shown]))]
    names = field.values
    out = [field.facet_value(i, c, names[i] in chosen) for i, c in zip(shown.tolist(), counts[shown].tolist())]
    out += [FacetValue(v, 0, True) for v in selected if v not in field.index]
    return tuple(out)


SAVED_PREFIX = "facets-"


def _reader_key(reader) -> tuple[int, str]:
    """The index state a table belongs to: its commit number, and its segments and size."""
    segments = []
    for seg, _ in reader.leaf_readers():
        segment = seg.segment() if hasattr(seg, "segment") else None
        segments.append(segment.segment_id() if hasattr(segment, "segment_id") else "?")
    generation = reader.generation()
    return (generation if isinstance(generation, int) else -1,
            f"{generation}:{reader.doc_count_all()}:{','.join(segments)}")


def _live(reader, n: int) -> np.ndarray:
    live = np.ones(n, dtype=bool)
    for seg, offset in reader.leaf_readers():
        if seg.has_deletions():
            segment = seg.segment() if hasattr(seg, "segment") else None
            if segment is not None and hasattr(segment, "deleted_docs"):
                deleted = np.fromiter(segment.deleted_docs(), dtype=np.int64)
            else:  # another reader: ask document by document
                deleted = np.array([d for d in range(seg.doc_count_all()) if seg.is_deleted(d)], np.int64)
            live[deleted + offset] = False
    return live


def _days(reader, n: int, live: np.ndarray) -> np.ndarray:
    day = np.full(n, NO_DAY, dtype=np.int32)
    for term, ids in (field_terms(reader, "date") if "date" in reader.schema else {}).items():
        try:
            ordinal = dt.date.fromisoformat(term.decode("ascii")).toordinal()
        except ValueError:
            continue
        day[ids[live[ids]]] = ordinal
    return day


def _year_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year and month arrays for day ordinals (vectorised through datetime64)."""
    epoch = dt.date(1970, 1, 1).toordinal()
    d64 = (days.astype(np.int64) - epoch).astype("datetime64[D]")
    months = d64.astype("datetime64[M]").astype(np.int64)
    return (months // 12 + 1970).astype(np.int32), (months % 12 + 1).astype(np.int32)


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)
