"""Fixtures of the web tests: indexes built from tests/data/corpus (and a hostile
corpus), the app and its test client, the real server in a subprocess, and a
small HTML reader (standard library only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from searchapp import reindex
from searchapp.config import Settings
from searchapp.web import create_app

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
SRC = Path(__file__).resolve().parents[2] / "src"

# Every field a report shows is hostile here.
HOSTILE_RECORDS = [
    {
        "id": "x1",
        "date": "2024-05-01",
        "source": "<b onmouseover=alert('src')>Evil Source</b>",
        "title": "<script>alert('title')</script> Pipeline sabotage",
        "topics": ["<svg/onload=alert('topic')>", "sabotage"],
        "url": "javascript:alert('url')",
        "body": "Pipeline sabotage reported. <img src=x onerror=alert('body')> "
                "</textarea><script>alert('body2')</script> \"quoted\" & 'single'.",
    },
    {
        "id": "x2",
        "date": "2023-02-02",
        "source": "Plain Source",
        "title": "A harmless pipeline report",
        "topics": ["sabotage"],
        "body": "Nothing to see: a pipeline was inspected and found in good order.",
    },
]


def build_index(corpus: Path, index_dir: Path) -> Path:
    summary = reindex(corpus, index_dir, procs=1)
    assert not summary.rejected, summary.rejected
    assert summary.total > 0
    return index_dir


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """The test corpus indexed once for the session (never the repository's index/)."""
    return build_index(CORPUS, tmp_path_factory.mktemp("web") / "index")


@pytest.fixture(scope="session")
def settings(index_dir) -> Settings:
    return Settings(corpus=CORPUS, index=index_dir, per_page=10, max_per_page=50,
                    max_query_length=200, threads=4)


@pytest.fixture(scope="session")
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("hostile") / "corpus"
    corpus.mkdir()
    lines = "\n".join(json.dumps(r) for r in HOSTILE_RECORDS) + "\n"
    (corpus / "hostile.jsonl").write_text(lines, encoding="utf-8")
    return build_index(corpus, corpus.parent / "index")


@pytest.fixture
def hostile_client(hostile_index):
    app = create_app(Settings(index=hostile_index))
    app.config["TESTING"] = True
    return app.test_client()


# -- the real server ------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str, timeout: float = 10):
        """(status, headers, body bytes) of a GET, error statuses included."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def start_server(index: Path, cwd: Path, timeout: float = 30, extra_args: tuple[str, ...] = ()) -> LiveServer:
    """``searchapp serve`` (waitress) in a subprocess on a free loopback port."""
    port = free_port()
    log = cwd / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env = {k: v for k, v in env.items() if not k.startswith("SEARCHAPP_")}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "searchapp", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--index", str(index), "--threads", "4", *extra_args],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            server.get("/static/searchapp.css", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"the server did not answer within {timeout} s:\n{log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def live_server(index_dir, tmp_path_factory):
    server = start_server(index_dir, tmp_path_factory.mktemp("server"))
    yield server
    stop_server(server)


@pytest.fixture
def start_live_server(tmp_path):
    """Starts ``searchapp serve`` with extra options (``start(index, *args)``); stops it after the test."""
    started: list[LiveServer] = []

    def start(index: Path, *extra_args: str) -> LiveServer:
        started.append(start_server(index, tmp_path, extra_args=extra_args))
        return started[-1]

    yield start
    for server in started:
        stop_server(server)


# -- reading HTML -----------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list["Node | str"] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["Node"]:
        out = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if cls and cls not in node.classes:
                continue
            if any(node.attrs.get(k.rstrip("_")) != v for k, v in attrs.items()):
                continue
            out.append(node)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Node":
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls!r} {attrs}> in the page"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def query_of(url: str) -> dict[str, list[str]]:
    """The query parameters of a link."""
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def html():
    """Parse a response into a tree: ``html(response).find("li", cls="hit")``."""
    def parse(response) -> Node:
        text = response if isinstance(response, str) else response.get_data(as_text=True)
        return parse_html(text)
    return parse


@pytest.fixture
def params_of():
    """The query parameters of a link, as {name: [values]}."""
    return query_of
