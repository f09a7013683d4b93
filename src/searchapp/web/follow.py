"""Blueprint ``follow`` (issue 14): exports, the Atom feed, sources over time,
deep pages through a cursor, and saved searches.

- ``/api/search.csv``, ``/api/search.jsonl``: every hit of a search, streamed.
- ``/search.atom``: the newest hits of a search as Atom 1.0.
- ``/api/timeline``: matching reports per source and topic per period (JSON).
- ``/saved`` (GET: the list with "N new since you last looked"; POST: save),
  ``/saved/open?name=``, ``/saved/remove`` (POST).
"""

from __future__ import annotations

import itertools

from flask import (Blueprint, Response, abort, jsonify, redirect, render_template, request, stream_with_context,
                   url_for)

from .. import export
from ..alerts import AlertStore, alerts_add, alerts_list, alerts_remove, describe
from ..alerts.index import check_search, current_marker, index_new_since
from ..feed import MAX_ENTRIES, atom_feed
from ..paging import decode_cursor, encode_cursor
from . import get_index, read_params, settings
from .follow_views import CSRF_FIELD, charts, csrf_ok, csrf_token, file_name, follow_links, set_csrf_cookie
from .params import SearchParams

bp = Blueprint("follow", __name__)
EXPORT_BATCH = 1000


def filters(params: SearchParams, sort: str | None = None) -> dict:
    """The filters of a search for ``all_hits`` and ``timeline``."""
    return {"source": list(params.source), "topic": list(params.topic), "date_from": params.date_from or None,
            "date_to": params.date_to or None, "sort": sort or params.sort}


@bp.app_context_processor
def follow_context() -> dict:
    return {"follow_links": follow_links, "timeline_charts": timeline_charts, "csrf_token": csrf_token,
            "csrf_field": CSRF_FIELD}


def timeline_charts(params: SearchParams):
    """The charts of the results page's sources-over-time section."""
    found = get_index().timeline(params.q, **filters(params, "relevance"))
    return found, charts(found, params)


@bp.after_app_request
def _cookie(response):
    return set_csrf_cookie(response)


# -- exports and the feed -----------------------------------------------------------

def _export(chunks, mime: str, extension: str) -> Response:
    params = read_params()
    hits = get_index().all_hits(params.q, batch=EXPORT_BATCH, **filters(params))
    response = Response(stream_with_context(chunks(hits)), mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(params.q, extension)}"'
    response.headers["X-Total-Count"] = str(hits.total)
    return response


@bp.route("/api/search.csv")
def export_csv():
    return _export(export.csv_chunks, "text/csv; charset=utf-8", "csv")


@bp.route("/api/search.jsonl")
def export_jsonl():
    return _export(export.jsonl_chunks, "application/x-ndjson; charset=utf-8", "jsonl")


@bp.route("/search.atom")
def feed():
    params = read_params()
    hits = get_index().all_hits(params.q, batch=MAX_ENTRIES, **filters(params, "newest"))
    body = atom_feed(itertools.islice(hits, MAX_ENTRIES), title=f"searchapp: {params.q or 'every report'}",
                     self_url=request.url, alternate_url=request.url_root.rstrip("/") + params.url(sort="relevance"),
                     report_base_url=request.url_root + "reports/")
    return Response(body, mimetype="application/atom+xml")


# -- sources over time and deep pages -------------------------------------------------

@bp.route("/api/timeline")
def timeline_json():
    params = read_params()
    top = request.args.get("top", "8")
    found = get_index().timeline(params.q, top=int(top) if top.isdigit() else -1, **filters(params, "relevance"))
    return jsonify({"query": params.q, **found.to_dict()})


def cursor_page(params: SearchParams):
    """``/api/search?cursor=``: one page from a cursor's position, past any window."""
    position = decode_cursor(request.args.get("cursor", ""))
    per_page = params.per_page or settings().per_page
    stream = get_index().all_hits(params.q, start=position, batch=per_page, **filters(params))
    hits = list(itertools.islice(stream, per_page))
    after = position + len(hits)
    return jsonify({"query": params.q, "total": stream.total, "per_page": per_page, "position": position,
                    "next_cursor": encode_cursor(after) if after < stream.total else None,
                    "hits": [h.to_dict() for h in hits]})


# -- saved searches -------------------------------------------------------------------

def _store() -> AlertStore:
    return AlertStore(settings().alerts_db)


def _checked_post() -> None:
    if not csrf_ok():
        abort(400, description="the form has expired or did not come from this site: reload the page and try again")


@bp.route("/saved", methods=["GET"])
def saved_list():
    index = get_index()
    listing = alerts_list(_store(), index_new_since(index, listed=1), current_marker(index))
    return render_template("follow/saved.html", listing=listing, describe=describe, params=SearchParams(),
                           settings=settings(), doc_count=index.doc_count())


@bp.route("/saved", methods=["POST"])
def saved_add():
    _checked_post()
    form = request.form
    params = SearchParams.from_args(form, max_query_length=settings().max_query_length,
                                    max_per_page=settings().max_per_page)
    index = get_index()
    alerts_add(_store(), form.get("name", "").strip(), params.q,
               {k: v for k, v in filters(params).items() if k != "sort"},
               marker=current_marker(index), check=check_search(index))
    return redirect(url_for("follow.saved_list"), code=303)


@bp.route("/saved/open")
def saved_open():
    store = _store()
    saved = store.get(request.args.get("name", ""))
    store.mark_seen(saved.name, current_marker(get_index()))
    f = saved.filters
    params = SearchParams(q=saved.query, source=tuple(f.get("source", ())), topic=tuple(f.get("topic", ())),
                          date_from=f.get("date_from", ""), date_to=f.get("date_to", ""))
    return redirect(params.url(), code=303)


@bp.route("/saved/remove", methods=["POST"])
def saved_remove():
    _checked_post()
    alerts_remove(_store(), request.form.get("name", ""))
    return redirect(url_for("follow.saved_list"), code=303)
