"""The web app: a search page (blueprint ``ui``) and a JSON API (blueprint ``api``).

>>> app = create_app()                       # doctest: +SKIP
>>> app.test_client().get("/api/search?q=grain").json["total"]   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from pathlib import Path

from flask import Flask, current_app, jsonify, render_template, request
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from ..config import Settings, load_settings
from ..errors import IndexNotFoundError, QueryError, SchemaVersionError, SearchAppError
from ..results import Highlighted, SearchResults
from ..search import SearchIndex
from . import guard
from .params import SearchParams

log = logging.getLogger("searchapp.web")

# No inline script or style anywhere: the page's JavaScript and CSS are files.
CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_MARK_TAG = re.compile(r"</?mark>")


class ReportIdConverter(PathConverter):
    """A report id in a URL: like ``path``, and any character a file name may hold
    (``path`` stops at a line break, so a report from such a file had no page)."""

    regex = "(?s:[^/].*?)"


class IndexHolder:
    """The app's one ``SearchIndex``, opened on first use.

    While there is no index, every request tries again (a cheap look at
    ``CURRENT``), so an index built while the server runs is picked up
    without a restart; the ``SearchIndex`` itself follows later reindexes.
    """

    def __init__(self, index_dir: Path, index: SearchIndex | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._index = index
        self._lock = threading.Lock()
        self._warned = False

    def get(self) -> SearchIndex:
        """:raises IndexNotFoundError, SchemaVersionError: no usable index yet."""
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                try:
                    self._index = SearchIndex.open(self.index_dir)
                except (IndexNotFoundError, SchemaVersionError) as e:
                    if not self._warned:
                        log.warning("%s", e)
                        self._warned = True
                    raise
                log.info("opened the index in %s (%d reports)", self.index_dir, self._index.doc_count())
            return self._index


def create_app(settings: Settings | None = None, index: SearchIndex | None = None) -> Flask:
    """Build the Flask app.

    :param settings: defaults to ``load_settings()`` (``searchapp.toml``, ``SEARCHAPP_*``).
    :param index: an open index to serve; by default the one in ``settings.index``,
        opened when first needed.
    """
    settings = load_settings() if settings is None else settings
    if not Path(settings.corpus).is_dir():
        # `serve` takes no --corpus: an index built with `reindex --corpus DIR` is served
        # without its files unless the setting names DIR too.
        log.warning("the corpus folder %s does not exist: report pages offer no original files "
                    "(set corpus in searchapp.toml or SEARCHAPP_CORPUS to the folder given to reindex)",
                    settings.corpus)
    app = Flask(__name__)
    app.json.sort_keys = False  # issue 5: answers keep the core's order, and encode faster
    app.config["SEARCHAPP_SETTINGS"] = settings
    app.extensions["searchapp"] = IndexHolder(settings.index, index)
    app.jinja_env.filters["marked"] = marked
    # No redirects at all: "//x" in a path is not merged into a redirect.
    app.url_map.merge_slashes = False
    app.url_map.converters["report_id"] = ReportIdConverter
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from .api import bp as api_bp
    from .follow import bp as follow_bp
    from .ui import bp as ui_bp

    guard.install(app, settings)
    app.register_blueprint(ui_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(follow_bp)  # issue 14: exports, feed, timeline, saved searches
    app.register_error_handler(Exception, handle_error)
    app.after_request(add_security_headers)
    return app


def settings() -> Settings:
    return current_app.config["SEARCHAPP_SETTINGS"]


def get_index() -> SearchIndex:
    """The app's index. :raises IndexNotFoundError: none built yet."""
    return current_app.extensions["searchapp"].get()


def read_params() -> SearchParams:
    """The request's search state. :raises QueryError: a bad parameter (answered with 400)."""
    s = settings()
    return SearchParams.from_args(request.args, max_query_length=s.max_query_length,
                                  max_per_page=s.max_per_page)


def run_search(index: SearchIndex, params: SearchParams) -> SearchResults:
    """Search with the request's state; a page past the last one is a 400."""
    results = index.search(params.q, **params.search_kwargs(settings().per_page))
    if not results.total and results.hits:
        # The core can return unfiltered hits when the filters leave nothing
        # (an empty Whoosh filter set counts as no filter): show none.
        results = replace(results, hits=())
    if results.total and results.page > results.pages:
        raise QueryError(f"page {results.page} is past the last page of these results ({results.pages})")
    return results


def handle_error(e: Exception):
    """The one error handler: JSON under /api, an HTML page elsewhere."""
    if isinstance(e, HTTPException):
        status, message = e.code or 500, e.description or e.name
    elif isinstance(e, SchemaVersionError):
        # Visitors are not told the server's folders (the log has them).
        status, message = e.status, "the search index was built by another version: run `searchapp reindex --full`"
    elif isinstance(e, IndexNotFoundError):
        status, message = e.status, "there is no search index yet: run `searchapp reindex` to build one"
    elif isinstance(e, SearchAppError):
        status, message = e.status, str(e)
    else:
        current_app.logger.exception("unexpected error on %s", request.path)
        status, message = 500, "Something went wrong on the server; the error has been logged."
    if request.path == "/api" or request.path.startswith("/api/"):
        return jsonify({"error": {"status": status, "message": message}}), status
    q = request.args.get("q", "")[: settings().max_query_length]
    return render_template(
        "ui/error.html", status=status, message=message, params=SearchParams(q=q),
        no_index=isinstance(e, (IndexNotFoundError, SchemaVersionError)),
        rebuild=isinstance(e, SchemaVersionError), settings=settings(),
    ), status


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def marked(html) -> Markup:
    """Text with its matched words in ``<mark>``, escaped: a ``Highlighted``
    (text and spans) from the core, or an HTML fragment (only ``<mark>`` tags;
    anything else in it is escaped again rather than trusted).
    """
    if isinstance(html, Highlighted):
        return Markup(html.to_html())  # every character of the text escaped, the spans marked
    if "<" in _MARK_TAG.sub("", html):
        return escape(html)
    return Markup(html)
