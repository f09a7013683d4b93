"""Keeping up with reindexes: each thread's view of the index, opened whole.

A :class:`View` is what the searches of one thread use: a Whoosh searcher
(Whoosh's file handles are not thread-safe), its reader's state and its
near-duplicate groups, all read when the view opens. After that it needs
nothing of its generation's folder: the segment files are held open (on Linux
an unlinked file stays readable) and the state and groups are in memory, so
the indexer may delete the folder as soon as CURRENT names a newer one, and
a search on the old view still answers, facets and groups included.

:class:`Views` hands each thread its view, looks at CURRENT and at the
latest commit every ``refresh_every`` seconds, and moves a thread to a newer
commit of its generation once the indexer has kept that commit's state
(``state.saved_path``), so that no search builds it, or after
``STATE_WAIT_S`` without it (a reindex killed after its commit): built in
memory then. Nothing here writes into the index.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

from whoosh.index import EmptyIndexError

from .. import store
from ..schema import SCHEMA_VERSION
from . import whoosh_internals as wi
from .groups import GroupMap, GroupMaps
from .state import ReaderState, ReaderStates, saved_path
from .whoosh_scoring import weighting

STATE_WAIT_S = 10.0  # how long a thread keeps the last commit while the next one's state is not kept yet
OPEN_TRIES = 5  # generations a thread tries to open while full reindexes swap CURRENT


class Generation:
    """One opened index generation and the states and groups of its readers."""

    def __init__(self, index_dir: Path) -> None:
        def checked() -> Path:
            ix, path = store.open_generation(index_dir)
            ix.close()
            return path

        self.ix, self.path = wi.open_index(None, str(index_dir), SCHEMA_VERSION, open_first=checked)
        self.states = ReaderStates(self.path)
        self.groups = GroupMaps(self.path)

    def commit_ready(self, commit: int) -> bool:
        """Whether the indexer has kept the state of ``commit`` beside it."""
        return saved_path(self.path, commit).exists()


class View:
    """One thread's searcher, with its reader's state and groups read at once."""

    def __init__(self, gen: Generation, searcher) -> None:
        self.gen, self.searcher = gen, searcher
        self.commit = searcher.reader().generation()
        self.state: ReaderState = gen.states.get(searcher.reader())
        self._groups: GroupMap = gen.groups.get(searcher)

    @property
    def groups(self) -> GroupMap:
        """The near-duplicate groups: those read at opening, or newer ones of the
        same commit (the indexer writes them just after the reader's state)."""
        self._groups = self.gen.groups.get(self.searcher)
        return self._groups


class Views:
    """Each thread's :class:`View` of the index in ``index_dir``; safe to share between threads.

    :param refresh_every: seconds between looks at CURRENT and at the latest
        commit (a callable: read at each look).
    """

    def __init__(self, index_dir: Path, refresh_every: Callable[[], float]) -> None:
        self.index_dir = index_dir
        self._refresh_every = refresh_every
        self._lock = threading.Lock()
        self._local = threading.local()
        self.searchers: set = set()  # every thread's, for close()
        self._gen = Generation(index_dir)
        self._checked = time.monotonic()
        self._current_mtime = self._pointer_mtime()

    def close(self) -> None:
        with self._lock:
            searchers, self.searchers = self.searchers, set()
        for searcher in searchers:
            searcher.close()
        self._local = threading.local()

    def generation(self) -> Generation:
        """The generation CURRENT named at the last look."""
        now = time.monotonic()
        if now - self._checked >= self._refresh_every():
            self._checked = now
            mtime = self._pointer_mtime()
            if mtime != self._current_mtime:
                with self._lock:
                    if mtime != self._current_mtime:
                        self._gen = Generation(self.index_dir)
                        self._current_mtime = mtime
        return self._gen

    def current(self) -> View:
        """This thread's view, up to date."""
        gen = self.generation()
        local = self._local
        view: View | None = getattr(local, "view", None)
        if view is None or view.gen is not gen:
            return self._install(view, self._open(gen))
        if time.monotonic() - local.checked >= self._refresh_every():
            local.checked = time.monotonic()
            fresh = self._refreshed(view)
            if fresh is not None:
                return self._install(view, fresh, close_old=fresh.gen is not view.gen)
        return view

    def reopen(self) -> View:
        """This thread's view of the generation CURRENT names now."""
        return self._install(getattr(self._local, "view", None), self._open(self._reload()))

    # -- opening ----------------------------------------------------------------

    def _pointer_mtime(self) -> int:
        try:
            return os.stat(self.index_dir / store.CURRENT).st_mtime_ns
        except OSError:
            return 0

    def _reload(self) -> Generation:
        with self._lock:
            mtime = self._pointer_mtime()
            self._gen, self._current_mtime, self._checked = Generation(self.index_dir), mtime, time.monotonic()
            return self._gen

    def _open(self, gen: Generation) -> View:
        """A view of ``gen``, read while CURRENT still named it (a generation is
        deleted only after CURRENT moves on: what was read is all of it)."""
        for attempt in range(OPEN_TRIES):
            try:
                view = View(gen, gen.ix.searcher(weighting=weighting()))
            except (EmptyIndexError, OSError):
                # issue 6: the generation last seen (CURRENT is looked at every
                # refresh_every seconds) was swapped out and deleted since: look now.
                gen = self._reload()
                continue
            if store.current_generation(self.index_dir) == gen.path or attempt == OPEN_TRIES - 1:
                return view
            view.searcher.close()
            gen = self._reload()
        return View(gen, gen.ix.searcher(weighting=weighting()))

    def _refreshed(self, view: View) -> View | None:
        """A view of the latest commit of the thread's generation, when it is newer
        and its state is kept (or has been waited for long enough); None otherwise."""
        local = self._local
        latest = view.gen.ix.latest_generation()  # -1: the folder is gone
        if latest == view.commit:
            return None
        if latest < 0:
            return self._open(self._reload())
        if not view.gen.commit_ready(latest):
            since = getattr(local, "waiting", None)
            if since is None or since[0] != latest:
                local.waiting = since = (latest, time.monotonic())
            if time.monotonic() - since[1] < STATE_WAIT_S:
                return None
        try:
            fresh = view.searcher.refresh()
        except (EmptyIndexError, OSError):
            return self._open(self._reload())
        return None if fresh is view.searcher else View(view.gen, fresh)

    def _install(self, old: View | None, new: View, close_old: bool = True) -> View:
        """Make ``new`` this thread's view. A refreshed searcher shares its
        segment readers with the one it replaces: that one is not closed then."""
        with self._lock:
            if old is not None:
                self.searchers.discard(old.searcher)
            self.searchers.add(new.searcher)
        if old is not None and close_old and old.searcher is not new.searcher:
            old.searcher.close()
        self._local.view, self._local.checked = new, time.monotonic()
        return new
