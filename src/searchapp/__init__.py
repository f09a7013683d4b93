"""searchapp: full-text search for collections of reports.

>>> from searchapp import search                       # doctest: +SKIP
>>> res = search("corruption defence", index_dir="index", source=["UK Ministry of Defence"])  # doctest: +SKIP
>>> res.total, res.hits[0].snippet                     # doctest: +SKIP
"""

from .errors import (
    ConfigError,
    CorpusError,
    IndexLockedError,
    IndexNotFoundError,
    IndexWriteError,
    QueryError,
    ReportNotFoundError,
    SchemaVersionError,
    SearchAppError,
)
from .indexer import ReindexSummary, reindex
from .report import Report
from .results import EntityRef, FacetValue, Hit, ReportDetail, ReportRef, SearchResults
from .search import SearchIndex, search

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "CorpusError",
    "EntityRef",
    "FacetValue",
    "Hit",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexWriteError",
    "QueryError",
    "ReindexSummary",
    "Report",
    "ReportDetail",
    "ReportNotFoundError",
    "ReportRef",
    "SchemaVersionError",
    "SearchAppError",
    "SearchIndex",
    "SearchResults",
    "reindex",
    "search",
]
