"""Serving the web app with waitress, a production WSGI server (not Flask's
development server)."""

from __future__ import annotations

import logging
import signal

from waitress.server import create_server as waitress_server

from .config import Settings
from .errors import IndexNotFoundError, ListenError, SchemaVersionError
from .web import create_app
from .web.guard import LOOPBACK_NAMES, MAX_BODY_BYTES

log = logging.getLogger("searchapp.server")


def create_server(settings: Settings, app=None):
    """A waitress server for the app, bound but not yet running (``.run()`` serves).

    ``settings.port`` 0 picks a free port (``.effective_port``).

    :raises ListenError: the address cannot be listened on.
    """
    app = create_app(settings) if app is None else app
    try:
        # The body cap is waitress's too: an oversized body gets a 413 before the app reads it.
        return waitress_server(app, host=settings.host, port=settings.port, threads=settings.threads,
                               ident="searchapp", max_request_body_size=MAX_BODY_BYTES)
    except OSError as e:
        raise ListenError(settings.host, settings.port, e.strerror or str(e)) from e


def serve(settings: Settings) -> None:
    """Serve the search page and the JSON API until interrupted.

    Says in the log whether there is an index to serve, and how to build one.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    try:
        index = app.extensions["searchapp"].get()
        index.search("", per_page=1)  # builds the facet tables before the first visitor
        log.info("serving %d reports from %s", index.doc_count(), settings.index)
        # issue 6: this thread serves no request; its searcher would keep the first
        # generation's files open (and their disk space held) after reindexes delete them.
        index.close()
    except (IndexNotFoundError, SchemaVersionError) as e:
        log.warning("%s; the page says so until then, and picks the index up without a restart", e)
    server = create_server(settings, app)
    if settings.host not in LOOPBACK_NAMES:
        log.warning("listening on %s: reachable from other machines; answering to the host names %s",
                    settings.host, ", ".join(app.config["SEARCHAPP_SERVED_NAMES"]))
    for url in listen_urls(server):
        log.info("searchapp on %s (%d threads); Ctrl-C stops it", url, settings.threads)
    _stop_on_sigterm()
    try:
        server.run()  # returns on Ctrl-C or SIGTERM, its workers stopped
    finally:
        log.info("stopped")


def listen_urls(server) -> list[str]:
    """The addresses a server from ``create_server`` listens on."""
    pairs = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    return [f"http://[{h}]:{p}/" if ":" in str(h) else f"http://{h}:{p}/" for h, p in pairs]


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager's stop) ends the server like Ctrl-C does."""
    def stop(signum, frame):
        raise SystemExit(0)

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave the signal alone
        pass
