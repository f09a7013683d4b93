"""The Whoosh schema and its version.

Facet fields (``source``, ``topic``, ``language``, ``person``, ``org``,
``place``; :data:`FACET_FIELDS`) and ``date`` hold exact values as single
terms: the searcher turns their posting lists into per-document ordinals
once and counts facets from those (see ``engine.state`` and ``facets``).
The codec Whoosh writes them with is ``engine.whoosh_internals.IndexCodec``.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from .analysis import ANALYZER, IndexPositions
from .engine.whoosh_internals import IndexCodec  # pickled into the index under this module's name

__all__ = ["FACET_FIELDS", "FIELD_BOOSTS", "QUERY_FIELDS", "SCHEMA_VERSION", "TEXT_FIELDS", "FacetField",
           "IndexCodec", "build_schema", "facet_field", "join_topics"]

# Bump whenever the analysis chain or the fields change: an index with
# another version asks for a full reindex.
SCHEMA_VERSION = 5  # 3: the ``indexed`` marker (issue 14); 4: acronyms kept (issue 13); 5: authors, language, pages, html, entities, parent/attachments

TEXT_FIELDS = ("title", "body")
# Title words weigh 4 body words in BM25F (ranking.py; tuned with benchmarks/relevance.py).
FIELD_BOOSTS = {"title": 4.0, "body": 1.0}
# Field names a query may use (``title:word``), and what they search.
TOPIC_SEPARATOR = "\x1f"
AUTHOR_SEPARATOR = "\n"  # between the authors in the ``author`` field


@dataclass(frozen=True)
class FacetField:
    """One facet: its name (also the filter parameter and the query field),
    the field of its curated values and, for facets a report can also be
    given automatically, the field of its automatic ones."""

    name: str
    curated: str
    auto: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.curated, self.auto) if self.auto else (self.curated,)


# The one table of facets: filters, reader-state ordinals, counts, search
# parameters and the query syntax all follow it.
FACET_FIELDS = (
    FacetField("source", "source"),
    FacetField("topic", "topic", "topic_auto"),
    FacetField("language", "language"),
    FacetField("person", "person", "person_auto"),
    FacetField("org", "org", "org_auto"),
    FacetField("place", "place", "place_auto"),
)
FACETS_BY_NAME = {f.name: f for f in FACET_FIELDS}
# Field names a query may use (``title:word``), and what they search.
QUERY_FIELDS = ("title", "body", "source", "topic", "date", "author", "language", "person", "org", "place")


def facet_field(name: str) -> FacetField:
    return FACETS_BY_NAME[name]


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # "<relpath>\t<size>:<mtime_ns>": lets an incremental reindex see what changed.
        filesig=ID(),
        file=ID(stored=True),
        title=_text(),
        body=_text(),
        source=ID(stored=True),
        topic=_keyword(),
        topic_auto=_keyword(),
        date=ID(stored=True),  # YYYY-MM-DD, absent when undated
        meta=STORED(),  # url, author, line and the extra fields, as a dict
        indexed=ID(stored=True),  # issue 14: the commit that first indexed the report (markers.py)
        author=_text(),  # every author, one a line (``author:``)
        language=ID(stored=True),
        person=_keyword(), person_auto=_keyword(),
        org=_keyword(), org_auto=_keyword(),
        place=_keyword(), place_auto=_keyword(),
        format=ID(stored=True),
        parent=ID(stored=True),
        # Stored only: page start offsets in body, the safe HTML, attachment
        # ids, the OCR mark and the attachment's file name in its message.
        pages=STORED(), html=STORED(), attachments=STORED(), ocr=STORED(), attachment=STORED(),
    )


def _keyword() -> KEYWORD:
    """Exact values, comma-separated (see :func:`join_topics`)."""
    return KEYWORD(stored=True, commas=True, lowercase=False, scorable=False)


def _text() -> TEXT:
    """A text field: stemmed positions for phrases, stored for snippets."""
    field = TEXT(analyzer=ANALYZER, stored=True, multitoken_query="phrase")
    field.format = IndexPositions(field_boost=field.format.field_boost)  # issue 5: the same postings, faster
    return field


def join_topics(topics) -> str:
    """Topics as one KEYWORD value (commas separate values in Whoosh)."""
    return ",".join(t.replace(",", ";").strip() for t in topics if t.strip())
