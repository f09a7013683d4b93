"""The HTML pages: the search page and the report page, and a report's original file (``/files/<id>``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template, request

from ..errors import QueryError, ReportNotFoundError
from ..results import SearchResults
from ..search import SearchIndex
from . import get_index, read_params, run_search, settings
from . import original
from .params import FACETS, SearchParams
from .present import FACET_LABELS, chips, date_view, facet_views, language_name, pagination, value_label
from .reportview import corpus_links, report_view

bp = Blueprint("ui", __name__)
bp.add_app_template_filter(language_name, "language_name")

MORE_LIKE_THIS = 5
MAX_RELAXATIONS = 8  # extra searches run for the no-results page


@dataclass(frozen=True)
class Relaxation:
    """A way out of an empty result: a filter (or the query) to drop, and what it brings."""

    label: str
    url: str
    total: int


@bp.app_template_filter("human_date")
def human_date(value: str | None) -> str:
    """``2024-03-15`` as ``15 Mar 2024``."""
    if not value:
        return "undated"
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


@bp.route("/")
@bp.route("/search")
def search():
    asked = read_params()
    index = get_index()
    results, params = _results(index, asked)
    relaxations = _relaxations(index, params) if results.total == 0 and params.is_search else []
    return render_template(
        "ui/search.html",
        params=params, results=results, doc_count=index.doc_count(),
        facets=facet_views(results),
        date=date_view(results, params), chips=chips(params, results),
        pages=pagination(results, params), relaxations=relaxations,
        first_number=(results.page - 1) * results.per_page + 1,
        suggestion_url=params.url(q=results.suggestion) if results.suggestion else None,
        past_page=asked.page if params.page != asked.page else None,
        settings=settings(),
    )


def _results(index: SearchIndex, params: SearchParams) -> tuple[SearchResults, SearchParams]:
    """The results and the state they show: a page past the last (a shared link to
    results that have since shrunk) shows the last page instead of an error.

    The core (and the API) refuse such a page; here it is asked again.
    """
    try:
        return run_search(index, params), params
    except QueryError:
        if params.page == 1:
            raise
        pages = run_search(index, params.changed(page=1)).pages  # a bad query raises here again
        if params.page <= pages:
            raise  # another problem (a page too deep to reach)
    last = params.changed(page=max(1, pages))
    return run_search(index, last), last


@bp.route("/reports/<report_id:report_id>")
def report(report_id: str):
    params = read_params()
    index = get_index()
    # The id is only ever looked up in the index, never used as a path.
    detail = index.get(report_id, query=params.q)
    # Near-duplicates are listed apart, not again as "more like this".
    duplicates = {d.id for d in detail.near_duplicates}
    similar = [h for h in index.more_like_this(detail.id, limit=MORE_LIKE_THIS + len(duplicates))
               if h.id not in duplicates][:MORE_LIKE_THIS]
    return render_template(
        "ui/report.html", params=params, detail=detail, similar=similar,
        view=report_view(detail, params, original.offered(settings().corpus, detail),
                         corpus_links(detail, lambda i: _holds(index, i), params.report_url)),
        back_url=params.url() if params.is_search else None,
        doc_count=index.doc_count(), settings=settings(),
    )


def _holds(index: SearchIndex, report_id: str) -> bool:
    try:
        index.get(report_id)
    except ReportNotFoundError:
        return False
    return True


@bp.route("/files/<report_id:report_id>")
def original_file(report_id: str):
    """The report's original file, as a download (``?view=1``: a PDF shown in the browser).

    The id is looked up in the index; the path comes from there, never from the URL.
    """
    params = read_params()
    detail = get_index().get(report_id, query=params.q)
    return original.response(settings().corpus, detail, view=request.args.get("view") == "1")


def _relaxations(index: SearchIndex, params: SearchParams) -> list[Relaxation]:
    """For an empty result: the filters (or the query) whose removal finds something."""
    options: list[tuple[str, SearchParams]] = []
    for name in FACETS:
        values = getattr(params, name)
        label = FACET_LABELS[name][1]
        options += [(f"{label}: {value_label(name, v) or v}", params.changed(**{name: tuple(x for x in values if x != v)}))
                    for v in values]
    if params.date_from or params.date_to:
        options.append(("the dates", params.changed(date_from="", date_to="")))
    if params.undated:
        options.append(("undated only", params.changed(undated=False)))
    if params.group:
        options.append(("the near-duplicate group", params.changed(group="")))
    if params.has_filters and len(options) > 1:
        options.append(("any filter", params.without_filters()))
    if params.q and params.has_filters:
        options.append(("the query", params.changed(q="")))
    out = []
    for label, relaxed in options[:MAX_RELAXATIONS]:
        total = index.search(relaxed.q, **{**relaxed.search_kwargs(1), "per_page": 1}).total
        if total:
            out.append(Relaxation(label, relaxed.url(), total))
    return out
