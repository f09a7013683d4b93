"""The three engines the benchmark compares, behind one small interface.

- ``searchapp``: ``searchapp.reindex`` and ``SearchIndex.search``.
- ``fts5``: SQLite FTS5 as a careful app uses it (``porter unicode61``,
  ``bm25()`` ranking through ``ORDER BY rank``, ``snippet()`` on the shown
  rows only, facet counts by ``GROUP BY`` over the matching rows).
- ``whoosh``: plain Whoosh as a typical Whoosh-based app uses it
  (``StemmingAnalyzer``, one writer, ``groupedby`` with ``FieldFacet`` and
  ``DateRangeFacet``, ``hit.highlights``).

searchapp tags reports without topics automatically (issue 4); the references
get those automatic topics from searchapp's index (:func:`auto_topics`, not
timed) beside each report's own, so that all three facet the same data.

Every engine answers a :class:`BenchQuery` with the same multi-select facet
semantics as searchapp (each facet counted with every filter but its own;
years, or months when the date filter spans less than two years; an
"undated" bucket with the years), so their totals and counts can be compared.
"""

from __future__ import annotations

import datetime as dt
import html
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from bench_corpus import read_part

FACETS = ("source", "topic", "date")
UNDATED = "undated"
MONTH_MODE_DAYS = 731  # as searchapp.facets: months when the range spans less
MARK = ("<mark>", "</mark>")


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix: words (or a phrase), filters and a sort."""

    name: str
    words: tuple[str, ...] = ()
    phrase: bool = False
    source: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    sort: str = "relevance"  # or "newest"

    @property
    def text(self) -> str:
        joined = " ".join(self.words)
        return f'"{joined}"' if self.phrase and joined else joined

    @property
    def filtered(self) -> bool:
        return bool(self.source or self.topic or self.date_from or self.date_to)

    def month_range(self) -> tuple[str, str] | None:
        """The (first, last) month shown by the date facet in month mode, else None."""
        if not (self.date_from and self.date_to):
            return None
        first, last = dt.date.fromisoformat(self.date_from), dt.date.fromisoformat(self.date_to)
        if (last - first).days + 1 >= MONTH_MODE_DAYS:
            return None
        return first.isoformat()[:7], last.isoformat()[:7]


@dataclass
class Outcome:
    """What a user sees: the total, the shown hits, every facet's counts."""

    total: int
    ids: list[str]
    facets: dict[str, dict[str, int]]
    snippets: list[str] = field(default_factory=list)


def _nonzero(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    return {k: int(v) for k, v in pairs if v}


def report_id(path: Path, rec: dict) -> str:
    """searchapp's id for a JSON Lines record: ``<file without suffix>:<record id>``."""
    return f"{path.name.removesuffix('.jsonl.gz')}:{rec['id']}"


Topics = dict[str, list[str]]  # report id -> automatic topics


def auto_topics(index: Path) -> Topics:
    """The automatic topics searchapp gave each report (from its stored fields)."""
    from searchapp import store

    ix, _ = store.open_generation(index)
    out: Topics = {}
    with ix.searcher() as searcher:
        for _, stored in searcher.reader().iter_docs():
            auto = [t for t in (stored.get("topic_auto") or "").split(",") if t]
            if auto:
                out[stored["id"]] = auto
    ix.close()
    return out


def _topics(rid: str, rec: dict, extra: Topics | None) -> list[str]:
    """A report's own topics and its automatic ones, each once."""
    return list(dict.fromkeys(rec["topics"] + (extra or {}).get(rid, [])))


# -- searchapp ------------------------------------------------------------------

class SearchappEngine:
    name = "searchapp"

    @staticmethod
    def build(corpus: Path, index: Path, procs: int = 0) -> None:
        from searchapp import reindex

        summary = reindex(corpus, index, full=True, procs=procs)
        if summary.rejected:
            raise RuntimeError(f"searchapp rejected {len(summary.rejected)} items: {summary.rejected[0]}")

    @staticmethod
    def update(corpus: Path, index: Path, changed: list[Path], procs: int = 0) -> None:
        from searchapp import reindex

        summary = reindex(corpus, index, procs=procs)
        if summary.full or summary.updated == 0:
            raise RuntimeError(f"expected an incremental update, got {summary.to_dict()}")

    def __init__(self, index: Path) -> None:
        from searchapp import SearchIndex

        self.index = SearchIndex.open(index)

    def run(self, q: BenchQuery, limit: int = 10):
        """The timed part: what a user waits for (``SearchResults``), every word
        required as the references require them (mode ``every``: never widened)."""
        return self.index.search(
            q.text, source=list(q.source), topic=list(q.topic), date_from=q.date_from,
            date_to=q.date_to, sort=q.sort, per_page=limit, mode="every",
        )

    @staticmethod
    def outcome(res, q: BenchQuery) -> Outcome:
        # the facets the references count too (searchapp's language and entity facets are its own)
        facets = {name: _nonzero((v.value, v.count) for v in values) for name, values in res.facets.items()
                  if name in ("source", "topic", "date")}
        return Outcome(res.total, [h.id for h in res.hits], facets, [h.snippet for h in res.hits])

    def search(self, q: BenchQuery, limit: int = 10) -> Outcome:
        return self.outcome(self.run(q, limit), q)

    def close(self) -> None:
        self.index.close()


# -- SQLite FTS5 ----------------------------------------------------------------

class Fts5Engine:
    name = "fts5"
    SCHEMA = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE docs(id INTEGER PRIMARY KEY, rid TEXT NOT NULL, file TEXT NOT NULL,
                          source TEXT NOT NULL, date TEXT);
        CREATE TABLE doc_topics(doc INTEGER NOT NULL, topic TEXT NOT NULL);
        CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize = 'porter unicode61');
        INSERT INTO fts(fts, rank) VALUES ('rank', 'bm25(2.5, 1.0)');
    """
    INDEXES = """
        CREATE UNIQUE INDEX docs_rid ON docs(rid);
        CREATE INDEX docs_file ON docs(file);
        CREATE INDEX docs_source ON docs(source);
        CREATE INDEX docs_date ON docs(date);
        CREATE INDEX topics_topic ON doc_topics(topic, doc);
        CREATE INDEX topics_doc ON doc_topics(doc);
    """

    @classmethod
    def build(cls, corpus: Path, index: Path, procs: int = 0, topics: Topics | None = None) -> None:
        index.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(index / "fts.db")
        con.executescript(cls.SCHEMA)
        with con:
            for path in sorted(corpus.glob("part-*.jsonl.gz")):
                cls._insert_file(con, path, topics)
        con.executescript(cls.INDEXES)
        with con:
            con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        con.close()

    @staticmethod
    def _insert_file(con: sqlite3.Connection, path: Path, topics: Topics | None) -> None:
        for rec in read_part(path):
            rid = report_id(path, rec)
            cur = con.execute(
                "INSERT INTO docs(rid, file, source, date) VALUES (?, ?, ?, ?)",
                (rid, path.name, rec["source"], rec["date"]),
            )
            doc = cur.lastrowid
            con.execute("INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)", (doc, rec["title"], rec["body"]))
            con.executemany("INSERT INTO doc_topics(doc, topic) VALUES (?, ?)",
                            [(doc, t) for t in _topics(rid, rec, topics)])

    @classmethod
    def update(cls, corpus: Path, index: Path, changed: list[Path], procs: int = 0,
               topics: Topics | None = None) -> None:
        con = sqlite3.connect(index / "fts.db")
        with con:
            for path in changed:
                old = [r[0] for r in con.execute("SELECT id FROM docs WHERE file = ?", (path.name,))]
                con.executemany("DELETE FROM fts WHERE rowid = ?", [(d,) for d in old])
                con.executemany("DELETE FROM doc_topics WHERE doc = ?", [(d,) for d in old])
                con.execute("DELETE FROM docs WHERE file = ?", (path.name,))
                cls._insert_file(con, path, topics)
        con.close()

    def __init__(self, index: Path) -> None:
        self.con = sqlite3.connect(index / "fts.db", check_same_thread=False)

    @staticmethod
    def _match_text(q: BenchQuery) -> str | None:
        if not q.words:
            return None
        quoted = [f'"{w}"' for w in q.words]
        return f'"{" ".join(q.words)}"' if q.phrase else " AND ".join(quoted)

    @staticmethod
    def _filters(q: BenchQuery, skip: str | None) -> tuple[list[str], list]:
        where, params = [], []
        if q.source and skip != "source":
            where.append(f"d.source IN ({','.join('?' * len(q.source))})")
            params += q.source
        if q.topic and skip != "topic":
            where.append(f"d.id IN (SELECT doc FROM doc_topics WHERE topic IN ({','.join('?' * len(q.topic))}))")
            params += q.topic
        if (q.date_from or q.date_to) and skip != "date":
            where.append("d.date BETWEEN ? AND ?")
            params += [q.date_from or "0000", q.date_to or "9999"]
        return where, params

    def _from(self, q: BenchQuery, skip: str | None = None, topics: bool = False) -> tuple[str, list]:
        """FROM and WHERE for the matching rows, with every filter but ``skip``'s.

        CROSS JOIN keeps the full-text match the outer loop: otherwise the
        planner may start from a filter's index and run the MATCH per row.
        """
        where, params = self._filters(q, skip)
        match = self._match_text(q)
        if match is not None:
            sql = "fts CROSS JOIN docs d ON d.id = fts.rowid"
            where.insert(0, "fts MATCH ?")
            params.insert(0, match)
        else:
            sql = "docs d"
        if topics:
            sql += " CROSS JOIN doc_topics t ON t.doc = d.id"
        return f" FROM {sql}" + ((" WHERE " + " AND ".join(where)) if where else ""), params

    def run(self, q: BenchQuery, limit: int = 10):
        """The timed part: the total, the shown hits with snippets, each facet's (value, count) rows."""
        sql, params = self._from(q)
        total = self.con.execute(f"SELECT count(*){sql}", params).fetchone()[0]
        rows = self._top(q, limit)
        facets = {
            "source": self._count("SELECT d.source, count(*){f} GROUP BY d.source", q, "source"),
            "topic": self._count("SELECT t.topic, count(*){f} GROUP BY t.topic", q, "topic", topics=True),
            "date": self._date_counts(q),
        }
        return total, rows, facets

    @staticmethod
    def outcome(raw, q: BenchQuery) -> Outcome:
        total, rows, facets = raw
        return Outcome(total, [r[0] for r in rows], {k: _nonzero(v) for k, v in facets.items()},
                       [r[1] for r in rows])

    def search(self, q: BenchQuery, limit: int = 10) -> Outcome:
        return self.outcome(self.run(q, limit), q)

    def _count(self, sql: str, q: BenchQuery, facet: str, extra: str = "", extra_params=(),
               topics: bool = False) -> list[tuple[str, int]]:
        from_where, params = self._from(q, skip=facet, topics=topics)
        if extra:
            from_where += f" AND {extra}" if " WHERE " in from_where else f" WHERE {extra}"
        return self.con.execute(sql.format(f=from_where), [*params, *extra_params]).fetchall()

    def _date_counts(self, q: BenchQuery) -> list[tuple[str, int]]:
        months = q.month_range()
        if months is not None:
            sql = "SELECT substr(d.date, 1, 7), count(*){f} GROUP BY 1"
            return self._count(sql, q, "date", "substr(d.date, 1, 7) BETWEEN ? AND ?", months)
        sql = f"SELECT coalesce(substr(d.date, 1, 4), '{UNDATED}'), count(*){{f}} GROUP BY 1"
        return self._count(sql, q, "date")

    def _top(self, q: BenchQuery, limit: int) -> list[tuple[str, str]]:
        """The shown hits: ids and snippets, the snippets made for these rows only."""
        from_where, params = self._from(q)
        match = self._match_text(q)
        if match is not None and q.sort == "relevance":
            order = "rank"  # FTS5 hands the rows over best first: no sort of every match
        else:
            order = "d.date IS NULL, d.date DESC, d.id"
        docs = [r[0] for r in self.con.execute(f"SELECT d.id{from_where} ORDER BY {order} LIMIT ?", [*params, limit])]
        if not docs:
            return []
        marks = ",".join("?" * len(docs))
        info = {r[0]: r[1] for r in self.con.execute(f"SELECT id, rid FROM docs WHERE id IN ({marks})", docs)}
        if match is not None:
            sql = (f"SELECT rowid, snippet(fts, 1, '{MARK[0]}', '{MARK[1]}', '…', 24), "
                   f"highlight(fts, 0, '{MARK[0]}', '{MARK[1]}') FROM fts WHERE fts MATCH ? AND rowid IN ({marks})")
            snippets = {r[0]: r[1] for r in self.con.execute(sql, [match, *docs])}
        else:
            sql = f"SELECT rowid, substr(body, 1, 260) FROM fts WHERE rowid IN ({marks})"
            snippets = {r[0]: html.escape(r[1]) for r in self.con.execute(sql, docs)}
        return [(info[d], snippets.get(d, "")) for d in docs]

    def close(self) -> None:
        self.con.close()


# -- plain Whoosh ---------------------------------------------------------------

class WhooshEngine:
    name = "whoosh"

    @staticmethod
    def schema():
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

        analyzer = StemmingAnalyzer()
        return Schema(
            id=ID(stored=True, unique=True),
            file=ID(),
            title=TEXT(analyzer=analyzer, stored=True),
            body=TEXT(analyzer=analyzer, stored=True),
            source=ID(stored=True, sortable=True),
            topic=KEYWORD(stored=True, commas=True, lowercase=False),
            date=DATETIME(stored=True, sortable=True),
        )

    @staticmethod
    def _fields(path: Path, rec: dict, topics: Topics | None) -> dict:
        rid = report_id(path, rec)
        fields = {
            "id": rid, "file": path.name, "title": rec["title"], "body": rec["body"],
            "source": rec["source"], "topic": ",".join(_topics(rid, rec, topics)),
        }
        if rec["date"]:
            fields["date"] = dt.datetime.fromisoformat(rec["date"])
        return fields

    @classmethod
    def build(cls, corpus: Path, index: Path, procs: int = 1, limit: int | None = None,
              topics: Topics | None = None) -> None:
        """One writer, as the Whoosh docs show; ``limit`` stops after that many reports.

        ``procs`` > 1 (only to build a large reference index faster when its
        rate is measured on a subset) merges the writers' work into one
        segment, so searching it is the same as a single writer's index.
        """
        from whoosh import index as whoosh_index

        index.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(index), cls.schema())
        if procs > 1:
            writer = ix.writer(procs=procs, multisegment=False, limitmb=256)
        else:
            writer = ix.writer(limitmb=256)
        count = 0
        for path in sorted(corpus.glob("part-*.jsonl.gz")):
            for rec in read_part(path):
                writer.add_document(**cls._fields(path, rec, topics))
                count += 1
            if limit is not None and count >= limit:
                break
        writer.commit()

    @classmethod
    def update(cls, corpus: Path, index: Path, changed: list[Path], procs: int = 0,
               topics: Topics | None = None) -> None:
        from whoosh import index as whoosh_index

        ix = whoosh_index.open_dir(str(index))
        writer = ix.writer(limitmb=256)
        for path in changed:
            writer.delete_by_term("file", path.name)
            for rec in read_part(path):
                writer.add_document(**cls._fields(path, rec, topics))
        writer.commit()

    def __init__(self, index: Path) -> None:
        from whoosh import index as whoosh_index
        from whoosh.qparser import MultifieldParser

        self.ix = whoosh_index.open_dir(str(index))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "body"], self.ix.schema)
        years = [d.year for d in self._dates()]
        self.first_year, self.last_year = (min(years), max(years)) if years else (1970, 1970)

    def _dates(self) -> list[dt.datetime]:
        reader = self.searcher.reader()
        from whoosh.util.times import long_to_datetime

        # Raw column values: a missing date is a sentinel that does not translate.
        values = [v for v in reader.column_reader("date", translate=False) if v < 2**63]
        return [long_to_datetime(min(values)), long_to_datetime(max(values))] if values else []

    def _filter(self, q: BenchQuery, skip: str | None):
        from whoosh import query as wq

        parts = []
        if q.source and skip != "source":
            parts.append(wq.Or([wq.Term("source", v) for v in q.source]))
        if q.topic and skip != "topic":
            parts.append(wq.Or([wq.Term("topic", v) for v in q.topic]))
        if (q.date_from or q.date_to) and skip != "date":
            start = dt.datetime.fromisoformat(q.date_from) if q.date_from else None
            end = dt.datetime.fromisoformat(q.date_to) if q.date_to else None
            parts.append(wq.DateRange("date", start, end))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _facet(self, name: str, q: BenchQuery):
        from whoosh import sorting
        from whoosh.support.relativedelta import relativedelta

        if name == "source":
            return sorting.FieldFacet("source", maptype=sorting.Count)
        if name == "topic":
            return sorting.FieldFacet("topic", allow_overlap=True, maptype=sorting.Count)
        months = q.month_range()
        if months is not None:
            start = dt.datetime.fromisoformat(months[0] + "-01")
            end = dt.datetime.fromisoformat(months[1] + "-01") + relativedelta(months=1)
            facet = sorting.DateRangeFacet("date", start, end, relativedelta(months=1), maptype=sorting.Count)
        else:
            start, end = dt.datetime(self.first_year, 1, 1), dt.datetime(self.last_year + 1, 1, 1)
            facet = sorting.DateRangeFacet("date", start, end, relativedelta(years=1), maptype=sorting.Count)
        facet.other = None  # documents without a date
        return facet

    def run(self, q: BenchQuery, limit: int = 10):
        """The timed part: the total, the shown hits with highlights, each facet's groups."""
        from whoosh import query as wq

        query = self.parser.parse(q.text) if q.words else wq.Every()
        # Facets whose own filter is not set are counted by the main search;
        # each set filter needs a search without it (multi-select semantics).
        own = [f for f in FACETS if self._active(q, f)]
        main = {f: self._facet(f, q) for f in FACETS if f not in own}
        kwargs = {"sortedby": "date", "reverse": True} if q.sort == "newest" else {}
        results = self.searcher.search(query, limit=limit, filter=self._filter(q, None),
                                       groupedby=main or None, **kwargs)
        groups = {f: results.groups(f) for f in main}
        for f in own:
            extra = self.searcher.search(query, limit=1, filter=self._filter(q, f),
                                         groupedby={f: self._facet(f, q)})
            groups[f] = extra.groups(f)
        snippets = [hit.highlights("body") for hit in results]
        return len(results), [hit["id"] for hit in results], groups, snippets

    def outcome(self, raw, q: BenchQuery) -> Outcome:
        total, ids, groups, snippets = raw
        return Outcome(total, ids, {f: self._keys(f, groups[f], q) for f in FACETS}, snippets)

    def search(self, q: BenchQuery, limit: int = 10) -> Outcome:
        return self.outcome(self.run(q, limit), q)

    @staticmethod
    def _active(q: BenchQuery, facet: str) -> bool:
        return bool(q.source if facet == "source" else q.topic if facet == "topic" else (q.date_from or q.date_to))

    @staticmethod
    def _keys(facet: str, counts: dict, q: BenchQuery) -> dict[str, int]:
        if facet != "date":  # None: documents without the field
            return _nonzero((k, v) for k, v in counts.items() if k is not None)
        if q.month_range() is not None:  # None: undated or outside the months shown
            return _nonzero((k[0].isoformat()[:7], v) for k, v in counts.items() if k is not None)
        return _nonzero(((k[0].isoformat()[:4] if k else UNDATED), v) for k, v in counts.items())

    def close(self) -> None:
        self.searcher.close()


ENGINES = {e.name: e for e in (SearchappEngine, Fts5Engine, WhooshEngine)}
