"""The JSON API through Flask's test client, and the app served for real by waitress."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from searchapp import SearchIndex
from searchapp.config import Settings
from searchapp.errors import ConfigError
from searchapp.server import create_server, listen_urls
from searchapp.web import CSP, create_app


@pytest.fixture(scope="module")
def core(index_dir):
    index = SearchIndex.open(index_dir)
    yield index
    index.close()


def without_timing(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "elapsed_ms"}


@pytest.mark.parametrize("query, kwargs", [
    ("q=grain", {"query": "grain"}),
    ("q=attacks&source=CISA&source=Reuters&sort=newest",
     {"query": "attacks", "source": ["CISA", "Reuters"], "sort": "newest"}),
    ("topic=energy&from=2024-01&to=2024-12&per_page=1&page=2",
     {"topic": ["energy"], "date_from": "2024-01", "date_to": "2024-12", "per_page": 1, "page": 2}),
    ("", {}),
])
def test_search_returns_the_cores_to_dict(client, core, query, kwargs):
    r = client.get("/api/search?" + query)
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    kwargs.setdefault("per_page", 10)  # the app's setting
    expected = core.search(kwargs.pop("query", ""), **kwargs).to_dict()
    assert without_timing(r.json) == without_timing(expected)
    assert isinstance(r.json["elapsed_ms"], float)


def test_search_facets_follow_filters_with_tag_exclude(client):
    data = client.get("/api/search?source=Reuters").json
    sources = {f["value"]: f for f in data["facets"]["source"]}
    assert sources["Reuters"]["selected"] and sources["CISA"]["count"] > 0
    assert data["total"] == sources["Reuters"]["count"]
    assert all(h["source"] == "Reuters" for h in data["hits"])


def test_report_returns_the_cores_to_dict_with_highlights(client, core):
    r = client.get("/api/reports/native/reuters-grain-2023?q=grain")
    assert r.status_code == 200
    assert r.json == core.get("native/reuters-grain-2023", query="grain").to_dict()
    assert "<mark>grain</mark>" in r.json["body_html"]


def test_report_ids_with_colons(client):
    r = client.get("/api/reports/feeds/wire-2024:R-2024-0117")
    assert r.status_code == 200 and r.json["id"] == "feeds/wire-2024:R-2024-0117"


def test_the_web_parses_and_the_core_checks(client, index_dir):
    from werkzeug.datastructures import MultiDict

    from searchapp.web.params import SearchParams

    # Reading the query string checks only this server's own limits (settings) ...
    params = SearchParams.from_args(MultiDict({"sort": "best", "page": "0", "from": "2024-13"}),
                                    max_query_length=200, max_per_page=50)
    assert (params.sort, params.page, params.date_from) == ("best", 0, "2024-13")
    # ... and what users see about the rest is the core's one message.
    from searchapp import QueryError, SearchIndex

    with SearchIndex.open(index_dir) as index, pytest.raises(QueryError) as core:
        index.search("", sort="best")
    assert client.get("/api/search?sort=best").json["error"]["message"] == str(core.value)


@pytest.mark.parametrize("url, status, message", [
    ("/api/search?page=0", 400, "page must be 1 or more, got 0"),
    ("/api/search?per_page=51", 400, "per_page must be between 1 and 50, got 51"),
    ("/api/search?per_page=x", 400, "per_page must be a whole number, got 'x'"),
    ("/api/search?page=40", 400, "page 40 is past the last page of these results (2)"),
    ("/api/search?sort=best", 400, "unknown sort 'best'; use one of: relevance, newest, oldest"),
    ("/api/search?from=2024-13", 400, "date_from: not a date: '2024-13' (month must be in 1..12)"),
    ("/api/search?q=" + "q" * 201, 400, "the query is too long: 201 characters, the limit is 200"),
    ("/api/search?q=Title:x", 400, "field names are lower case: write title: instead of Title:"),
    ("/api/reports/nope", 404, "no report with id 'nope'"),
    ("/api/reports/../etc/passwd", 404, "no report with id '../etc/passwd'"),
    ("/api/nothing", 404, None),
    ("/api", 404, None),
])
def test_errors_are_json_with_the_right_status(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    assert r.mimetype == "application/json"
    assert set(r.json) == {"error"}
    assert r.json["error"]["status"] == status
    if message is not None:
        assert r.json["error"]["message"] == message
    assert "Traceback" not in r.get_data(as_text=True)


def test_wrong_method_is_a_json_405(client):
    r = client.post("/api/search")
    assert r.status_code == 405 and r.json["error"]["status"] == 405


def test_no_index_is_a_json_503_until_one_is_built(tmp_path, settings):
    from searchapp import reindex

    client = create_app(Settings(index=tmp_path / "index")).test_client()
    r = client.get("/api/search?q=grain")
    assert r.status_code == 503
    assert "run `searchapp reindex`" in r.json["error"]["message"]
    assert client.get("/api/reports/x").status_code == 503
    reindex(settings.corpus, tmp_path / "index", procs=1)
    assert client.get("/api/search?q=grain").json["total"] > 0


def test_hostile_values_stay_data_in_json(hostile_client):
    data = hostile_client.get("/api/reports/hostile:x1").json
    assert data["title"] == "<script>alert('title')</script> Pipeline sabotage"
    assert "&lt;script&gt;" in data["title_html"] and "<script>" not in data["title_html"]
    r = hostile_client.get("/api/search?q=sabotage")
    assert r.mimetype == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert all("<img" not in h["snippet"] for h in r.json["hits"])


def test_the_web_package_never_imports_the_cli():
    # (click itself comes with Flask; the rule is about searchapp's own layers.)
    code = ("import sys, searchapp.web, searchapp.server; "
            "assert 'searchapp.cli' not in sys.modules, 'searchapp.cli was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- served for real ---------------------------------------------------------------

def test_real_server_answers_pages_json_and_headers(live_server):
    status, headers, body = live_server.get("/api/search?q=grain&source=Reuters")
    assert status == 200 and headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["total"] >= 1 and data["filters"]["source"] == ["Reuters"]
    status, headers, body = live_server.get("/search?q=grain")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert b"<mark>grain</mark>" in body
    assert headers["Server"] == "searchapp"
    status, _, body = live_server.get("/api/search?page=abc")
    assert status == 400 and json.loads(body)["error"]["status"] == 400
    log = live_server.log.read_text()
    assert "searchapp on http://127.0.0.1:" in log


def test_create_server_on_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"^cannot listen on 127.0.0.1:{port} \(.*\): choose another port or host$"):
            create_server(Settings(index=tmp_path, port=port))


def test_create_server_port_zero_picks_a_free_port(tmp_path):
    server = create_server(Settings(index=tmp_path, port=0, threads=1))
    try:
        port = int(server.effective_port)
        assert port > 0
        assert listen_urls(server) == [f"http://127.0.0.1:{port}/"]
    finally:
        server.close()
        server.task_dispatcher.shutdown()
