"""Near-duplicate groups as the searches of one reader see them, and the
collapse of a result list to each group's best hit (issue 15)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

from .. import grouping
from ..facets import Selection
from . import whoosh_internals as wi

KEPT = 4  # readers' group maps kept at once, as for their states


class GroupMap:
    """Each document's group ordinal (-1: no near-duplicate) for one reader."""

    def __init__(self, searcher, members: dict[str, str]) -> None:
        self.ids = sorted(set(members.values()))
        self._index = index = {g: i for i, g in enumerate(self.ids)}
        self.of = np.full(searcher.reader().doc_count_all(), -1, dtype=np.int32)
        # Each member's live document (as searcher.document_number finds it),
        # from one read of the id field's terms instead of a query a member.
        docs = wi.unique_docs(searcher.reader(), "id")
        found = [(d, index[g]) for r, g in members.items() if (d := docs.get(r)) is not None]
        if found:
            docnums, ordinals = zip(*found)
            self.of[list(docnums)] = ordinals
        # Each document's group as a code from 1 (0: none), and their counts over
        # every document: a result's groups are counted over the smaller side.
        self.codes = self.of.astype(np.int64) + 1
        self.total = np.bincount(self.codes, minlength=len(self.ids) + 1)

    def mask(self, group: str) -> np.ndarray:
        return self.of == self._index.get(group, -2)

    def group_id(self, docnum: int) -> str | None:
        ordinal = int(self.of[docnum])
        return self.ids[ordinal] if ordinal >= 0 else None


class GroupMaps:
    """The group maps of one generation's readers, by commit and groups file."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._maps: OrderedDict[tuple, GroupMap] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, searcher) -> GroupMap:
        """The groups of ``searcher``'s commit, read again when the groups file
        changes; once the folder is gone (a newer generation replaced it), the
        groups last read for that commit."""
        commit = searcher.reader().generation()
        try:
            stamp = (self.folder / grouping.MEMBERS_FILE).stat().st_mtime_ns if self.folder else 0
        except FileNotFoundError:
            stamp = None if self.folder is not None and not self.folder.is_dir() else 0
        except OSError:
            stamp = 0
        with self._lock:
            if stamp is None:
                kept = [m for (c, _), m in self._maps.items() if c == commit]
                if kept:
                    return kept[-1]
            key = (commit, stamp or 0)
            found = self._maps.get(key)
            if found is None:
                members = grouping.load_members(self.folder) if self.folder else {}
                found = self._maps[key] = GroupMap(searcher, members)
                while len(self._maps) > KEPT:
                    self._maps.popitem(last=False)
            else:
                self._maps.move_to_end(key)
            return found


def collapsed_page(ordered: Callable[[int], list], groups: GroupMap, final: Selection,
                   offset: int, limit: int) -> tuple[list, list[int], int]:
    """One page of ``ordered(k)`` (the first k (docnum, score) pairs, best
    first) with each group shown once, at its best hit.

    Returns the page, how many other reports of each hit's group matched, and
    how many reports the whole result hides under a best hit.
    """
    total = final.count
    counts = final.bincount(groups.codes, len(groups.ids) + 1, groups.total)[1:]
    hidden = int((counts[counts > 0] - 1).sum())
    end = offset + limit
    wanted = end + min(hidden, 4 * end)
    while True:
        kept, seen = [], set()
        for docnum, score in ordered(min(wanted, total)):
            ordinal = int(groups.of[docnum])
            if ordinal >= 0:
                if ordinal in seen:
                    continue
                seen.add(ordinal)
            kept.append((docnum, score))
        if len(kept) >= end or wanted >= total:
            break
        wanted *= 4
    page = kept[offset:end]
    similar = [int(counts[groups.of[d]]) - 1 if groups.of[d] >= 0 else 0 for d, _ in page]
    return page, similar, hidden
