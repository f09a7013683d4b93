"""The NER's mentions of each text kept beside the index, by content.

spaCy's NER is the costly part of automatic entities (13-30 ms of CPU a
report of the mixed bench corpus, quiet to loaded machine; some three to five
times the rest of a reindex). What it finds depends on the
text it reads (a report's title and bounded body) and on the pipeline alone,
so a ``--full`` rebuild, a schema change or a moved file need not run it
again: the mentions are kept in one SQLite file (``entity-cache.sqlite`` in
the index folder), keyed by a hash of the text, the model's version and
:data:`~searchapp.entities.ner.MENTIONS_VERSION`. Normalisation (places to
countries, short forms of names) runs on every read, so a change there needs
no bump.

Each indexing process opens its own connection (never one inherited across a
fork). The cache is a help, never a dependency: a database that cannot be
opened, read or written (corrupt, locked for too long, a full disk) is left
alone and the NER runs as without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

from searchapp.entities.ner import MENTIONS_VERSION, MODEL, MODEL_VERSION, RawEntity

__all__ = ["CACHE_FILE", "MentionCache"]

CACHE_FILE = "entity-cache.sqlite"
_BUSY_MS = 30_000  # another process's write in progress: wait this long at most
_SCHEMA = "CREATE TABLE IF NOT EXISTS mentions (key TEXT PRIMARY KEY, found TEXT NOT NULL, used REAL NOT NULL)"
_SALT = repr((MODEL, MODEL_VERSION, MENTIONS_VERSION)).encode()


class MentionCache:
    """The mentions found in texts, in ``folder/entity-cache.sqlite``.

    ``hits`` and ``misses`` count this process's look-ups; ``started`` is when
    the cache was made, for :meth:`prune`.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / CACHE_FILE
        self.started = time.time()
        self.hits = self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self.broken: str | None = None  # why the cache is not used, once it failed

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(_SALT + text.encode("utf-8", "surrogatepass")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, list[RawEntity]]:
        """The cached mentions of those ``keys`` that are cached (marked used by this run)."""
        db = self._connection()
        found: dict[str, list[RawEntity]] = {}
        if db is not None and keys:
            try:
                marks = ",".join("?" * len(keys))
                for key, text in db.execute(f"SELECT key, found FROM mentions WHERE key IN ({marks})", keys):
                    found[key] = [RawEntity(kind, name) for kind, name in json.loads(text)]
                with db:
                    db.execute(f"UPDATE mentions SET used = ? WHERE key IN ({marks})", [time.time(), *keys])
            except (sqlite3.Error, ValueError, TypeError) as e:
                self._fail(e)
                found = {}
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[str, list[RawEntity]]) -> None:
        db = self._connection()
        if db is None or not items:
            return
        now = time.time()
        rows = [(key, json.dumps([[m.kind, m.text] for m in found], ensure_ascii=False), now)
                for key, found in items.items()]
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO mentions VALUES (?, ?, ?)", rows)
        except (sqlite3.Error, UnicodeEncodeError) as e:
            self._fail(e)

    def prune(self, since: float | None = None) -> int:
        """Remove the entries not used since ``since`` (None: since this cache
        was made; call after a full run with the run's start); how many."""
        db = self._connection()
        if db is None:
            return 0
        try:
            with db:
                return db.execute("DELETE FROM mentions WHERE used < ?",
                                  ((self.started if since is None else since) - 1,)).rowcount
        except sqlite3.Error as e:
            self._fail(e)
            return 0

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def _connection(self) -> sqlite3.Connection | None:
        if self.broken is not None:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        try:  # a connection made before a fork belongs to the parent: never used here
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a lost entry is only found again by the NER
            db.execute(_SCHEMA)
            db.isolation_level = ""  # transactions by ``with db``
        except (sqlite3.Error, OSError) as e:
            self._fail(e)
            return None
        self._db, self._pid = db, os.getpid()
        return db

    def _fail(self, error: Exception) -> None:
        self.broken = f"the entity cache {self.path} cannot be used ({error}); the NER runs without it"
        self._db = None
