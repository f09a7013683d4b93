"""The server answers only to the host names it serves (DNS rebinding), and caps
request bodies: through Flask's test client and through the real waitress server."""

from __future__ import annotations

import socket

import pytest

from searchapp.config import Settings
from searchapp.web import create_app
from searchapp.web.guard import MAX_BODY_BYTES, host_name, is_served, served_names

NOT_SERVED = "this server does not answer to that host name (see the allowed_hosts setting)"


def _client(index_dir, **settings):
    app = create_app(Settings(index=index_dir, **settings))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:59999", "[::1]:8000",
                                  "LOCALHOST.", "[::1]"])
def test_loopback_names_are_served_by_default(index_dir, host):
    r = _client(index_dir).get("/api/search?q=grain", headers={"Host": host})
    assert r.status_code == 200, r.json


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "[::2]:8000", "", "localhost:8000@evil.example"])
def test_other_host_names_get_400(index_dir, host):
    client = _client(index_dir)
    r = client.get("/api/search?q=grain", environ_overrides={"HTTP_HOST": host})
    assert r.status_code == 400
    assert r.json == {"error": {"status": 400, "message": NOT_SERVED}}
    page = client.get("/search?q=grain", environ_overrides={"HTTP_HOST": host})
    assert page.status_code == 400 and NOT_SERVED.encode() in page.data
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_request_without_host_header_is_refused(index_dir):
    client = _client(index_dir)
    r = client.get("/api/search", environ_overrides={"HTTP_HOST": None})
    assert r.status_code == 400


def test_allowed_hosts_add_names_subdomains_or_any(index_dir):
    client = _client(index_dir, allowed_hosts=("search.example.org", ".corp.example"))
    for host, status in [("search.example.org", 200), ("Search.Example.ORG:443", 200), ("corp.example", 200),
                         ("a.b.corp.example", 200), ("xcorp.example", 400), ("example.org", 400),
                         ("localhost", 200)]:
        assert client.get("/api/search", headers={"Host": host}).status_code == status, host
    anyname = _client(index_dir, allowed_hosts=("*",))
    assert anyname.get("/api/search", headers={"Host": "whatever.example"}).status_code == 200


def test_the_listening_address_is_served_unless_it_is_every_address():
    assert served_names(Settings(host="10.0.0.5")) == ("127.0.0.1", "localhost", "::1", "10.0.0.5")
    assert served_names(Settings(host="0.0.0.0")) == ("127.0.0.1", "localhost", "::1")
    assert served_names(Settings(host="::", allowed_hosts=("a.example",))) == ("127.0.0.1", "localhost", "::1",
                                                                              "a.example")


def test_host_names_are_read_without_port_and_case():
    assert [host_name(h) for h in ("[::1]:80", "Example.org.:8080", "a.example", "[::1")] == [
        "::1", "example.org", "a.example", "[::1"]
    assert is_served("[::1]:1", ("::1",)) and not is_served("::1:1", ("::1",))
    assert not is_served(None, ("localhost",)) and is_served(None, ("*",))


def test_bodies_over_the_cap_get_413_in_the_app(index_dir):
    client = _client(index_dir)
    r = client.post("/api/search", data=b"x" * (MAX_BODY_BYTES + 1))
    assert r.status_code == 413
    assert r.json["error"]["message"] == f"the request body is too large: the limit is {MAX_BODY_BYTES} bytes"
    assert client.get("/api/search?q=grain", data=b"x" * MAX_BODY_BYTES).status_code == 200
    assert client.post("/api/search", data=b"x" * 10).status_code == 405  # GET only; the body was fine
    assert create_app(Settings(index=index_dir)).config["MAX_CONTENT_LENGTH"] == MAX_BODY_BYTES


# -- the real waitress server ------------------------------------------------------

def _raw(url: str, request: bytes) -> bytes:
    """The whole answer of the server to the bytes of one request."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    chunks = []
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # the server closed with bytes of ours unread: its answer came first
            pass
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_real_server_answers_only_its_host_names(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    ok = _raw(live_server.url, f"GET /api/search?q=grain HTTP/1.1\r\nHost: localhost:{port}\r\n"
                               "Connection: close\r\n\r\n".encode())
    assert _status(ok) == 200
    bad = _raw(live_server.url, b"GET /api/search?q=grain HTTP/1.1\r\nHost: rebind.evil.example\r\n"
                                b"Connection: close\r\n\r\n")
    assert _status(bad) == 400 and NOT_SERVED.encode() in bad


def test_real_server_caps_bodies_before_reading_them(live_server):
    # waitress refuses by the announced length, before a byte of the body arrives.
    big = _raw(live_server.url, b"POST /api/search HTTP/1.1\r\nHost: localhost\r\n"
                                b"Content-Length: 1073741824\r\nConnection: close\r\n\r\n")
    assert _status(big) == 413 and f"exceeds max_body of {MAX_BODY_BYTES}".encode() in big  # waitress's own answer
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY_BYTES // len(chunk) + 2))
    # A chunked body announces no length: refused once it has grown past the cap.
    chunked = _raw(live_server.url, b"POST /api/search HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                                    b"Connection: close\r\n\r\n" + body)
    assert _status(chunked) == 413 and f"exceeds max_body of {MAX_BODY_BYTES}".encode() in chunked
    small = _raw(live_server.url, b"POST /api/search HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                                  b"Connection: close\r\n\r\nhello")
    assert _status(small) == 405  # within the cap: the app answers (GET only)


def test_real_server_with_allowed_hosts_from_the_command_line(index_dir, start_live_server):
    server = start_live_server(index_dir, "--allowed-host", "search.example.org")
    for host, status in [(b"search.example.org", 200), (b"other.example.org", 400), (b"127.0.0.1", 200)]:
        answer = _raw(server.url, b"GET /api/search HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host)
        assert _status(answer) == status, host
