"""The Whoosh schema and its version.

Facet fields (``source``, ``topic``, ``date``) hold exact values as single
terms: the searcher turns their posting lists into per-document ordinals
once and counts facets from those (see ``facets``).
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, _lenfield
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.util.numeric import byte_to_length

from .analysis import ANALYZER, IndexPositions

# Bump whenever the analysis chain or the fields change: an index with
# another version asks for `searchapp reindex --full`.
SCHEMA_VERSION = 2

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
    )


def _text() -> TEXT:
    """A text field: stemmed positions for phrases, stored for snippets."""
    field = TEXT(analyzer=ANALYZER, stored=True, multitoken_query="phrase")
    field.format = IndexPositions(field_boost=field.format.field_boost)  # issue 5: the same postings, faster
    return field


class IndexCodec(W3Codec):
    """Whoosh's W3 codec, writing the same files faster (issue 5).

    At commit Whoosh looks up the field length of every posting it writes
    with a seek and a one-byte read (a quarter of the commit); here each
    field's lengths are read once. Whoosh pickles the codec into the index:
    the name stays.
    """

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        super().add_postings(schema, _LoadedLengths(lengths) if lengths else None, items)


_LENGTHS = [None] + [byte_to_length(b) for b in range(1, 256)]  # a zero byte: no length (None), as Whoosh's


class _LoadedLengths:
    """``doc_field_length`` of Whoosh's per-document reader, from the columns read whole."""

    def __init__(self, reader) -> None:
        self._reader = reader
        self._fields: dict[str, list] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        values = self._fields.get(fieldname)
        if values is None:
            raw = length_bytes(self._reader, fieldname)
            values = self._fields[fieldname] = [_LENGTHS[b] for b in raw] if raw is not None else []
        return values[docnum] if values else default


def length_bytes(perdoc, fieldname: str) -> bytes | None:
    """Each document's field length as Whoosh quantises it to a byte (0: none),
    read in one go from a segment's per-document reader; None without lengths.

    Whoosh reads the column a byte at a time, with a seek each (issue 5).
    """
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    raw = column._dbfile.get(column._basepos, column._count)
    return raw + bytes(column._doccount - column._count)


def join_topics(topics) -> str:
    """Topics as one KEYWORD value (commas separate values in Whoosh)."""
    return ",".join(t.replace(",", ";").strip() for t in topics if t.strip())
