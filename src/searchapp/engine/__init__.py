"""The search engine behind ``SearchIndex``, and the boundary a second engine implements.

- ``protocol``: :class:`SearchEngine` and :class:`EngineWriter`, the interface,
  with its request and answer types (no engine objects cross it);
- ``whoosh_engine``: the Whoosh engine (generations, per-thread searchers);
- ``state``: the per-reader state (live mask, days, facet ordinals, caches);
- ``arrays``: the array query engine (matching and BM25F scoring on NumPy);
- ``cache``: decoded postings, positions and field lengths per segment and per reader;
- ``budget``: the cost bound of a query;
- ``whoosh_scoring``: BM25F in Whoosh's query and weighting objects;
- ``whoosh_postings``, ``whoosh_internals``, ``whoosh_writer``: everything that knows
  Whoosh's formats and private API (a segment's postings, positions and lengths; opening,
  the codec, term tables and the parser's hooks; writing segments).
"""

from .protocol import EngineAnswer, EngineQuery, EngineWriter, SearchEngine

__all__ = ["EngineAnswer", "EngineQuery", "EngineWriter", "SearchEngine"]
