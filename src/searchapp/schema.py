"""The Whoosh schema and its version.

Facet fields (``source``, ``topic``, ``date``) hold exact values as single
terms: the searcher turns their posting lists into per-document ordinals
once and counts facets from those (see ``engine.state`` and ``facets``).
The codec Whoosh writes them with is ``engine.whoosh_internals.IndexCodec``.
"""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from .analysis import ANALYZER, IndexPositions
from .engine.whoosh_internals import IndexCodec  # pickled into the index under this module's name

__all__ = ["FIELD_BOOSTS", "QUERY_FIELDS", "SCHEMA_VERSION", "TEXT_FIELDS", "IndexCodec", "build_schema",
           "join_topics"]

# Bump whenever the analysis chain or the fields change: an index with
# another version asks for a full reindex.
SCHEMA_VERSION = 4  # 3: the ``indexed`` marker (issue 14); 4: acronyms in capitals kept (issue 13)

TEXT_FIELDS = ("title", "body")
# Title words weigh 4 body words in BM25F (ranking.py; tuned with benchmarks/relevance.py).
FIELD_BOOSTS = {"title": 4.0, "body": 1.0}
# Field names a query may use (``title:word``), and what they search.
QUERY_FIELDS = ("title", "body", "source", "topic", "date")
TOPIC_SEPARATOR = "\x1f"


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # "<relpath>\t<size>:<mtime_ns>": lets an incremental reindex see what changed.
        filesig=ID(),
        file=ID(stored=True),
        title=_text(),
        body=_text(),
        source=ID(stored=True),
        topic=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        topic_auto=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        date=ID(stored=True),  # YYYY-MM-DD, absent when undated
        meta=STORED(),  # url, author, line and the extra fields, as a dict
        indexed=ID(stored=True),  # issue 14: the commit that first indexed the report (markers.py)
    )


def _text() -> TEXT:
    """A text field: stemmed positions for phrases, stored for snippets."""
    field = TEXT(analyzer=ANALYZER, stored=True, multitoken_query="phrase")
    field.format = IndexPositions(field_boost=field.format.field_boost)  # issue 5: the same postings, faster
    return field


def join_topics(topics) -> str:
    """Topics as one KEYWORD value (commas separate values in Whoosh)."""
    return ",".join(t.replace(",", ";").strip() for t in topics if t.strip())
