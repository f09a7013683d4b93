"""Saved searches and their alert outbox in one SQLite file.

The file lives outside the index (the caller gives its path), so reindexing
never touches it. It is created and migrated here: a ``schema_version`` table
and the ordered ``MIGRATIONS``, applied inside one ``BEGIN IMMEDIATE`` so two
processes opening an old file at once migrate it once. WAL and a busy timeout
let two writers (two browser tabs, the web app and a cron run) both land.

Markers (``seen_marker``, ``run_marker``) are opaque text the index supplies:
a generation counter or a timestamp; this module only stores them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import AlertStoreError, SavedSearchError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: saved searches with the marker of the last look
    ("""CREATE TABLE saved_search (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            query TEXT NOT NULL,
            filters TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL,
            seen_marker TEXT)""",),
    # 2: alerts: the marker of the last run, and deliveries until they are sent
    ("ALTER TABLE saved_search ADD COLUMN run_marker TEXT",
     """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            saved_id INTEGER NOT NULL REFERENCES saved_search(id) ON DELETE CASCADE,
            channel TEXT NOT NULL,
            payload TEXT NOT NULL,
            created TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent TEXT)""",
     "CREATE INDEX outbox_pending ON outbox(channel) WHERE sent IS NULL"),
)
SCHEMA_VERSION = len(MIGRATIONS)
FILTER_KEYS = ("source", "topic", "date_from", "date_to", "mode")
MAX_NAME = 200


@dataclass(frozen=True)
class SavedSearch:
    id: int
    name: str
    query: str
    filters: Mapping[str, Any]  # source/topic: lists; date_from/date_to: text; mode: all|any
    created: str  # RFC 3339, UTC
    seen_marker: str | None = None
    run_marker: str | None = None

    def search_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``SearchIndex.search`` besides the query."""
        return dict(self.filters)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "query": self.query, "filters": dict(self.filters),
                "created": self.created, "seen_marker": self.seen_marker, "run_marker": self.run_marker}


@dataclass(frozen=True)
class Pending:
    """One delivery of one alert, kept until it is sent."""

    id: int
    saved_id: int
    channel: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def normalize_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters of a saved search, checked: lists for source/topic, text for the rest.

    :raises SavedSearchError: an unknown filter or a value of the wrong kind.
    """
    out: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise SavedSearchError(f"unknown filter {key!r}; use: {', '.join(FILTER_KEYS)}")
        if value in (None, "", [], ()):
            continue
        if key in ("source", "topic"):
            values = [value] if isinstance(value, str) else list(value)
            if not all(isinstance(v, str) for v in values):
                raise SavedSearchError(f"the {key} filter must be text")
            out[key] = values
        elif not isinstance(value, str) or (key == "mode" and value not in ("all", "any")):
            raise SavedSearchError(f"the {key} filter must be text" if key != "mode" else "mode must be 'all' or 'any'")
        else:
            out[key] = value
    return out


class AlertStore:
    """The saved-searches database at ``path``, created and migrated on open.

    Every call uses its own short connection, so one store serves many threads.

    :raises AlertStoreError: the file is locked, read-only, corrupt or newer.
    """

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        with self._connect() as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")  # kept by the file
            migrate(conn, str(self.path))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise store_error(str(self.path), e) from e
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise store_error(str(self.path), e) from e
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE`` (the write lock taken at once), committed on exit."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- saved searches -------------------------------------------------------

    def list(self) -> list[SavedSearch]:
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM saved_search ORDER BY name").fetchall()
        return [_saved(row) for row in rows]

    def get(self, name: str) -> SavedSearch:
        """:raises SavedSearchError: no saved search of that name (status 404)."""
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM saved_search WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise SavedSearchError(f"no saved search named {name!r}", status=404)
        return _saved(row)

    def add(self, name: str, query: str, filters: Mapping[str, Any] | None = None,
            marker: str | None = None, created: str | None = None) -> SavedSearch:
        """Save a search; ``marker`` (the index's current one) starts both "new since" counts.

        :raises SavedSearchError: a bad name or filter, or the name is taken (status 409).
        """
        _check_name(name)
        if not isinstance(query, str) or not _is_text(query):
            raise SavedSearchError("the query must be text")
        values = (name, query, json.dumps(normalize_filters(filters)), created or utc_now(), marker, marker)
        try:
            with self.transaction() as conn:
                conn.execute("INSERT INTO saved_search (name, query, filters, created, seen_marker, run_marker)"
                             " VALUES (?, ?, ?, ?, ?, ?)", values)
        except AlertStoreError as e:
            if isinstance(e.__cause__, sqlite3.IntegrityError):
                raise SavedSearchError(f"a saved search named {name!r} exists already; "
                                       "remove it first or choose another name", status=409) from e
            raise
        return self.get(name)

    def remove(self, name: str) -> SavedSearch:
        """Remove a saved search and its undelivered alerts.

        :raises SavedSearchError: no saved search of that name (status 404).
        """
        saved = self.get(name)
        with self.transaction() as conn:
            conn.execute("DELETE FROM saved_search WHERE id = ?", (saved.id,))
        return saved

    def mark_seen(self, name: str, marker: str) -> None:
        """The user looked at the saved search's results: "new since" counts from ``marker``."""
        saved = self.get(name)
        with self.transaction() as conn:
            conn.execute("UPDATE saved_search SET seen_marker = ? WHERE id = ?", (marker, saved.id))

    # -- alerts ---------------------------------------------------------------

    def advance(self, saved: SavedSearch, marker: str, deliveries: Mapping[str, dict[str, Any]]) -> bool:
        """Record a run of ``saved``: the new marker and, in the same transaction,
        one pending delivery per channel, so an alert is never lost between the two.

        Only when the marker is still the one ``saved`` was read with: of two
        overlapping runs one records the alerts; the other gets False.
        """
        now = utc_now()
        with self.transaction() as conn:
            moved = conn.execute("UPDATE saved_search SET run_marker = ? WHERE id = ? AND run_marker IS ?",
                                 (marker, saved.id, saved.run_marker)).rowcount
            if moved:
                conn.executemany(
                    "INSERT INTO outbox (saved_id, channel, payload, created) VALUES (?, ?, ?, ?)",
                    [(saved.id, channel, json.dumps(payload), now) for channel, payload in deliveries.items()])
        return bool(moved)

    def pending(self) -> list[Pending]:
        """The deliveries not sent yet, oldest first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT id, saved_id, channel, payload, attempts, last_error FROM outbox"
                                " WHERE sent IS NULL ORDER BY id").fetchall()
        return [Pending(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def claim(self, item: Pending) -> bool:
        """Count an attempt at ``item`` before it is made; False when another run
        took it since ``item`` was read (so two runs never send it twice)."""
        with self.transaction() as conn:
            return bool(conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ? AND attempts = ?"
                                     " AND sent IS NULL", (item.id, item.attempts)).rowcount)

    def delivered(self, pending_id: int, error: str | None) -> None:
        """Record a claimed attempt: sent when ``error`` is None, kept for the next run otherwise."""
        with self.transaction() as conn:
            if error is None:
                conn.execute("UPDATE outbox SET sent = ?, last_error = NULL WHERE id = ?", (utc_now(), pending_id))
            else:
                conn.execute("UPDATE outbox SET last_error = ? WHERE id = ?", (error, pending_id))


def migrate(conn: sqlite3.Connection, path: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to schema version ``target``; returns the version found.

    A database already at ``target`` is only read, so a read-only file still
    lists its saved searches.

    :raises AlertStoreError: the file was written by a newer searchapp.
    """
    found = _version(conn, path)
    if found >= target:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = _version(conn, path)  # again, under the lock: another process may have migrated
        for version in range(found + 1, target + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        if target > found:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def _version(conn: sqlite3.Connection, path: str) -> int:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
        return 0
    found = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise AlertStoreError(path, f"has schema version {found}, newer than this searchapp's "
                                    f"{SCHEMA_VERSION}: upgrade searchapp")
    return found


def store_error(path: str, e: sqlite3.Error) -> AlertStoreError:
    """A SQLite failure as a sentence about the saved-searches file."""
    text = str(e).lower()
    if "locked" in text or "busy" in text:
        reason = "is locked by another program: try again in a moment"
    elif "readonly" in text or "read-only" in text:
        reason = "is read-only: saved searches cannot be changed until it is writable"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        reason = "is corrupt: move it aside and a new, empty one is created"
    elif "unable to open" in text:
        reason = "cannot be opened: check that its folder exists and is writable"
    else:
        reason = f"cannot be used ({e})"
    return AlertStoreError(path, reason)


_COLUMNS = "id, name, query, filters, created, seen_marker, run_marker"


def _saved(row: tuple) -> SavedSearch:
    return SavedSearch(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise SavedSearchError("a saved search needs a name")
    if len(name) > MAX_NAME or not _is_text(name):
        raise SavedSearchError(f"a saved search's name must be text of at most {MAX_NAME} characters")
