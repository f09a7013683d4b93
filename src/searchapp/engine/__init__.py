"""The search engine behind ``SearchIndex``, and the boundary a second engine implements.

- ``protocol``: :class:`SearchEngine` and :class:`EngineWriter`, the interface,
  with its request and answer types (no engine objects cross it);
- ``whoosh_engine``: the Whoosh engine (generations, per-thread searchers);
- ``state``: the per-reader state (live mask, days, facet ordinals, caches);
- ``arrays``: the array query engine (matching and BM25F scoring on NumPy);
- ``cache``: decoded postings, positions and field lengths per reader;
- ``budget``: the cost bound of a query;
- ``whoosh_scoring``: BM25F in Whoosh's query and weighting objects;
- ``whoosh_internals``: everything that knows Whoosh's formats and private API.
"""

from .protocol import EngineAnswer, EngineQuery, EngineWriter, SearchEngine

__all__ = ["EngineAnswer", "EngineQuery", "EngineWriter", "SearchEngine"]
