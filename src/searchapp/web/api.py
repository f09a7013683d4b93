"""The JSON API: ``/api/search`` and ``/api/reports/<id>``.

Answers are the core's ``to_dict()``; errors are ``{"error": {"status", "message"}}``
(from the app's one error handler).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import get_index, read_params, run_search

bp = Blueprint("api", __name__)


@bp.route("/search")
def search():
    params = read_params()
    if "cursor" in request.args:  # issue 14: deep pages, past the 10,000 of plain ones
        from .follow import cursor_page
        return cursor_page(params)
    return jsonify(run_search(get_index(), params).to_dict())


@bp.route("/reports/<report_id:report_id>")
def report(report_id: str):
    params = read_params()
    return jsonify(get_index().get(report_id, query=params.q).to_dict())
