"""The JSON API: ``/api/search`` and ``/api/reports/<id>``.

Answers are the core's ``to_dict()``; errors are ``{"error": {"status", "message"}}``
(from the app's one error handler).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from . import get_index, read_params, run_search

bp = Blueprint("api", __name__)


@bp.route("/search")
def search():
    params = read_params()
    return jsonify(run_search(get_index(), params).to_dict())


@bp.route("/reports/<report_id:report_id>")
def report(report_id: str):
    params = read_params()
    return jsonify(get_index().get(report_id, query=params.q).to_dict())
