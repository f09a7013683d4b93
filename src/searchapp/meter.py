"""How far a reindex is: reports read, files finished and bytes, for an honest progress bar.

Files differ in size by orders of magnitude (one JSON Lines file of 21,578
reports beside a page of text), so a count of files says little: the bar
follows the bytes of the files, a file being credited in proportion to the
reports of it already read when the number it holds is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .corpus import CorpusFile

# Items (reports and rejections) between two progress messages of a file.
TICK_ITEMS = 256


@dataclass(frozen=True)
class ReindexProgress:
    """One progress message of a reindex (what ``reindex(progress=...)`` is called with)."""

    reports: int  # reports (and rejected items) read so far
    files_done: int
    files: int
    bytes_done: int
    bytes_total: int
    relpath: str  # the file read last
    phase: str = "indexing"  # or "reading": files extracted ahead into the text cache

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 1.0


Progress = Callable[[ReindexProgress], None]
# (relpath, items read since the last tick, whether the piece of the file is finished)
Tick = Callable[[str, int, bool], None]


class Meter:
    """Turns ticks from the add loops (here or in workers) into :class:`ReindexProgress`."""

    def __init__(self, progress: Progress | None, files: list[CorpusFile],
                 items: dict[str, int] | None = None, phase: str = "indexing") -> None:
        self._progress = progress
        self._phase = phase
        self._sizes = {cf.relpath: max(cf.size, 1) for cf in files}
        self._items = items or {}
        self._read: dict[str, int] = {}
        self._credit: dict[str, float] = {}
        self._reports = 0
        self._bytes = 0.0
        self._files_done = 0
        self._total = sum(self._sizes.values())

    def tick(self, relpath: str, items: int, finished: bool) -> None:
        self._reports += items
        self._read[relpath] = self._read.get(relpath, 0) + items
        known = self._items.get(relpath, 0)
        if known > 0:
            share = min(1.0, self._read[relpath] / known)
        else:
            share = 1.0 if finished else 0.0
        before = self._credit.get(relpath, 0.0)
        if share > before:
            self._credit[relpath] = share
            self._bytes += self._sizes.get(relpath, 0) * (share - before)
            self._files_done += share >= 1.0
        if self._progress is not None:
            self._progress(self.snapshot(relpath))

    def snapshot(self, relpath: str = "") -> ReindexProgress:
        return ReindexProgress(
            reports=self._reports,
            files_done=self._files_done,
            files=len(self._sizes),
            bytes_done=int(round(self._bytes)),
            bytes_total=self._total,
            relpath=relpath,
            phase=self._phase,
        )
