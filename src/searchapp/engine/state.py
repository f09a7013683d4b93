"""The state of one index reader: what every search on it shares.

A :class:`ReaderState` holds, for one committed state of the index, the live
mask, each document's day, the per-document ordinals of the exact-value
fields (source, topics), the decoded postings cache (``cache.PostingCache``)
and the cache of parsed queries (a facet click or the next page parses the
same words again). It is built once per reader and kept in the index folder
(``facets-<commit>.npz``) by the indexer at each commit (``ReaderState.open``),
so that a server does not read it from the postings again. Searches only
load it (``ReaderState.load``): a server writes nothing into the index, and a
loaded state is all in memory, so a reader keeps working after its
generation's folder is deleted. :class:`ReaderStates` keeps the states of
the readers that searches use, the old and the new one alike during an
incremental commit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .. import store
from ..facets import NO_DAY, DateRange, MultiValued
from ..schema import FACET_FIELDS, FACETS_BY_NAME
from . import whoosh_internals as wi
from .cache import PostingCache
from .term_tables import TermTables

FIELDS = tuple(name for facet in FACET_FIELDS for name in facet.fields)
TERM_FIELDS = (*FIELDS, "date")  # what a state is made of
SAVED_PREFIX = "facets-"
_SAVED_RE = re.compile(rf"^{SAVED_PREFIX}(-?\d+)\.npz$")
PARSED_PER_READER = 256
STATES_KEPT = 4  # readers' states kept at once: the newest, and those still in use during commits


class ReaderState:
    """Per-document data of one reader: live mask, days, facet ordinals, caches."""

    def __init__(self, reader, saved: dict | None = None, terms: TermTables | None = None) -> None:
        self.n = reader.doc_count_all()
        self.postings = PostingCache(reader)
        self._parsed: OrderedDict = OrderedDict()
        self._parsed_lock = threading.Lock()
        if saved is None:
            terms = terms or TermTables(reader, TERM_FIELDS, None)
            self.live = wi.live_mask(reader)
            for field in FIELDS:
                setattr(self, field, _multi_valued(terms, field, self.live))
            self.day = _days(terms, self.n, self.live)
        else:
            self.live, self.day = saved["live"], saved["day"]
            for field in FIELDS:
                values = json.loads(str(saved[f"{field}_values"]))
                setattr(self, field, MultiValued(values, saved[f"{field}_docs"], saved[f"{field}_ords"]))
        # What a facet with automatic values counts: both fields as one.
        self.unions = {f.name: MultiValued.union(getattr(self, f.curated), getattr(self, f.auto))
                       for f in FACET_FIELDS if f.auto}
        self.topics = self.unions["topic"]
        self._curated_ords: dict[str, np.ndarray] = {}
        self._date_orders: dict[bool, np.ndarray] = {}
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
        self.year_total = np.bincount(self.year_bucket, minlength=self.years + 1)

    @classmethod
    def open(cls, reader, folder: Path | None) -> "ReaderState":
        """The state of ``reader``, from ``folder`` when it was kept there, else
        read from the index and kept there (the indexer's call, at each commit:
        when the folder can be written)."""
        saved = cls._saved(reader, folder)
        if saved is not None:
            return cls(reader, saved)
        # issue 11: the unchanged segments' terms from their kept tables, not their postings
        state = cls(reader, terms=TermTables(reader, TERM_FIELDS, folder, writable=True))
        if folder is not None:
            state._save(folder, wi.reader_key(reader))
        return state

    @classmethod
    def load(cls, reader, folder: Path | None) -> "ReaderState":
        """The state of ``reader`` for searches: from ``folder`` when the indexer
        kept it there, else read from the index into memory. Never writes (a
        server writes nothing into the index) and, once returned, needs nothing
        of the folder: its arrays are in memory."""
        saved = cls._saved(reader, folder)
        return cls(reader, saved)

    @staticmethod
    def _saved(reader, folder: Path | None) -> dict | None:
        """The arrays kept in ``folder`` for ``reader``'s commit, or None."""
        if folder is None:
            return None
        key = wi.reader_key(reader)
        try:
            with np.load(saved_path(folder, key[0]), allow_pickle=False) as data:
                saved = {name: data[name] for name in data.files}
            if str(saved["key"]) == key[1]:
                return saved
        except (OSError, KeyError, ValueError):
            pass  # not kept yet, or for another state of the index
        return None

    def _save(self, folder: Path, key: tuple[int, str]) -> None:
        arrays = {"key": np.array(key[1]), "live": self.live, "day": self.day}
        for field in FIELDS:
            values = getattr(self, field)
            arrays[f"{field}_values"] = np.array(json.dumps(values.values))  # any text, NULs too
            arrays[f"{field}_docs"], arrays[f"{field}_ords"] = values.docs, values.ords
        try:
            store.atomic_write(saved_path(folder, key[0]), lambda fh: np.savez(fh, **arrays))
            _remove_older(folder, key[0])
        except OSError:  # a read-only index: read from the postings each time
            pass

    def parsed(self, key, parse):
        """The parsed query under ``key``, parsed with ``parse()`` once per reader."""
        with self._parsed_lock:
            q = self._parsed.get(key)
            if q is not None:
                self._parsed.move_to_end(key)
                return q
        q = parse()
        with self._parsed_lock:
            self._parsed[key] = q
            if len(self._parsed) > PARSED_PER_READER:
                self._parsed.popitem(last=False)
        return q

    def topic_mask(self, selected: list[str]) -> np.ndarray:
        return self.topics.mask(selected, self.n)

    def facet(self, name: str, curated_only: bool = False) -> MultiValued:
        """The values facet ``name`` filters and counts (``schema.FACET_FIELDS``)."""
        if curated_only or name not in self.unions:
            return getattr(self, FACETS_BY_NAME[name].curated)
        return self.unions[name]

    def facet_mask(self, name: str, selected: list[str], curated_only: bool = False) -> np.ndarray:
        return self.facet(name, curated_only).mask(selected, self.n)

    def curated_in_union(self, name: str, docmask) -> np.ndarray:
        """Counts of the curated values of facet ``name`` among ``docmask``, by
        the ordinals of its union with the automatic ones."""
        union, curated = self.unions[name], self.facet(name, True)
        ords = self._curated_ords.get(name)
        if ords is None:
            ords = self._curated_ords[name] = np.array([union.index[v] for v in curated.values], dtype=np.int64)
        out = np.zeros(len(union.values), dtype=np.int64)
        if len(ords):
            out[ords] = curated.counts(docmask)
        return out

    def date_order(self, newest: bool) -> np.ndarray:
        """Every document, newest (or oldest) first, undated ones last either
        way, ties in document order: sorted once per reader."""
        found = self._date_orders.get(newest)
        if found is None:
            days = self.day.astype(np.int64)
            key = np.where(days == NO_DAY, np.iinfo(np.int64).max, -days if newest else days)
            found = self._date_orders[newest] = np.argsort(key, kind="stable")
        return found

    def date_mask(self, rng: DateRange) -> np.ndarray:
        mask = self.dated.copy()
        if rng.first is not None:
            mask &= self.day >= rng.first
        if rng.last is not None:
            mask &= self.day <= rng.last
        return mask


def saved_path(folder: Path, commit: int) -> Path:
    """Where the indexer keeps the state of commit ``commit`` of the index in ``folder``."""
    return folder / f"{SAVED_PREFIX}{commit}.npz"


def _remove_older(folder: Path, commit: int) -> None:
    """Delete the kept states of earlier commits only: a later one (just
    written by the indexer, or by a thread on the newer reader) is needed."""
    for old in folder.glob(f"{SAVED_PREFIX}*.npz"):
        m = _SAVED_RE.match(old.name)
        if m and int(m.group(1)) < commit:
            old.unlink(missing_ok=True)


class ReaderStates:
    """The states of the readers of one index generation, by commit.

    Threads on the old and on the new reader after an incremental commit
    each find their own state: the ``STATES_KEPT`` most recently used are
    kept, so that neither evicts the other's and rebuilds it.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._states: OrderedDict[int, ReaderState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader) -> ReaderState:
        commit = reader.generation()
        with self._lock:
            state = self._states.get(commit)
            if state is not None:
                self._states.move_to_end(commit)
                return state
            state = ReaderState.load(reader, self.folder)
            self._states[commit] = state
            while len(self._states) > STATES_KEPT:
                self._states.popitem(last=False)
            return state


def _multi_valued(terms: TermTables, fieldname: str, live: np.ndarray) -> MultiValued:
    values, docs, ords = [], [], []
    for number, (term, ids) in enumerate(terms.field_terms(fieldname).items()):
        ids = ids[live[ids]].astype(np.int32)
        values.append(term.decode("utf-8"))
        docs.append(ids)
        ords.append(np.full(len(ids), number, dtype=np.int32))
    if not values:
        return MultiValued([], np.zeros(0, np.int32), np.zeros(0, np.int32))
    return MultiValued(values, np.concatenate(docs), np.concatenate(ords))


def _days(terms: TermTables, n: int, live: np.ndarray) -> np.ndarray:
    day = np.full(n, NO_DAY, dtype=np.int32)
    for term, ids in terms.field_terms("date").items():
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
