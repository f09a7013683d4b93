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
    from searchapp.entities import extractor_status

    summary = reindex(corpus, index_dir, procs=1, entities=extractor_status().available)
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


# -- a corpus of report files (issue 12) and entities and near-duplicates (issue 15) --------

DEPOT_STORY = (
    "Fire broke out at the fuel depot outside Rostov-on-Don late on Tuesday, regional officials said, "
    "sending a column of smoke over the river port. Emergency crews worked through the night to keep the "
    "flames from reaching the rail terminal, where tank wagons wait to be loaded for the southern front. "
    "Andrii Belkov, who runs the First Department of the regional administration, said the cause was "
    "under investigation and that no workers had been hurt. Residents of the nearby districts were told "
    "to keep their windows shut while the smoke cleared. The depot stores diesel and aviation fuel for "
    "the region and for the Military Construction Company, whose trucks queued at the gates on Wednesday "
    "morning while inspectors walked the site. Satellite pictures taken at dawn showed three storage "
    "tanks blackened and a fourth with its roof torn away."
)
WIRE_RECORDS = [
    {"id": "d1", "date": "2024-05-07", "source": "Wire", "title": "Fire at Rostov fuel depot",
     "body": DEPOT_STORY, "people": ["Andrii Belkov"], "orgs": ["First Department"], "places": ["Rostov-on-Don"]},
    {"id": "d2", "date": "2024-05-07", "source": "Wire", "title": "Fire at Rostov fuel depot",
     "body": DEPOT_STORY.replace("late on Tuesday", "late on Tuesday night"),
     "people": ["Andrii Belkov"], "orgs": ["First Department"], "places": ["Rostov-on-Don"]},
    {"id": "d3", "date": "2024-05-08", "source": "Wire", "title": "Fire at Rostov fuel depot (update)",
     "body": DEPOT_STORY + " Officials said on Wednesday evening that the fire was out.",
     "people": ["Andrii Belkov"], "orgs": ["First Department"], "places": ["Rostov-on-Don"]},
    {"id": "g1", "date": "2024-03-02", "source": "Wire", "title": "Grain barges leave Izmail",
     "body": "A convoy of grain barges left the Danube port of Izmail on Saturday for Constanta, the first "
             "since the ice cleared. Traders said freight rates had eased and that more barges were loading.",
     "places": ["Ukraine"]},
    {"id": "f1", "date": "2024-04-11", "source": "Wire", "title": "Le port de Marseille rouvre ses quais",
     "body": "Le port de Marseille a rouvert mercredi ses quais aux navires de commerce après une semaine de "
             "grève des dockers. Les armateurs estiment que les retards seront rattrapés avant la fin du mois."},
]
PDF_PAGES = [
    [(20, "Pipeline Security Review"), (11, "An assessment of the northern pipeline network.")],
    [(11, "Chapter two covers the compressor stations and their fencing.")],
    [(11, "The turbine inspection found cracked welds at station four.")],
]
MARKDOWN = """---
source: Port Desk
date: 2024-05-02
---
# Harbour Briefing

## Findings

The **harbour** cranes were *inspected* by [the port authority](https://port.example/report).

| Crane | State |
|-------|-------|
| C1    | sound |

<script>document.title = 'pwned-md'</script>
[a bad link](javascript:alert(1))

<img src="x" onerror="document.title='pwned-img'">
"""
HTML_PAGE = """<!doctype html><html><head><title>Valve Advisory</title>
<script>document.title = 'pwned-html'; window.pwned = 1;</script></head>
<body><nav><a href="/">Home</a></nav><article><h1>Valve Advisory</h1>
<p>The valve controller firmware accepts unsigned updates from the maintenance port, and an attacker on the
plant network can replace it. Operators should isolate the maintenance port and apply the vendor's update.</p>
<p>Affected controllers were sold between 2019 and 2023 to water utilities in several countries.
<script>window.pwned = 2</script><img src="x" onerror="window.pwned = 3"></p>
</article></body></html>
"""
# A corpus file whose name would end a header, add a parameter or open a quote.
HOSTILE_NAME = 'memo "x"; filename=evil.html\r\nSet-Cookie: a=1.txt'


def formats_corpus_files(corpus: Path) -> None:
    """Write the formats corpus: a PDF, Markdown, an HTML page, an e-mail with an attachment,
    a text file with a hostile name, and JSON Lines records with entities and near-duplicates."""
    import email.message

    from tests.make_files import make_pdf

    for folder in ("pdf", "md", "html", "mail", "odd"):
        (corpus / folder).mkdir(parents=True)
    (corpus / "pdf" / "pipeline-review.pdf").write_bytes(
        make_pdf(PDF_PAGES, info={"Title": "Pipeline Security Review", "Author": "Jane Analyst"}))
    (corpus / "md" / "briefing.md").write_text(MARKDOWN, encoding="utf-8")
    (corpus / "html" / "advisory.html").write_text(HTML_PAGE, encoding="utf-8")
    message = email.message.EmailMessage()
    message["Subject"] = "Port inspection notes"
    message["From"] = "Sam Reporter <sam@example.org>"
    message["Date"] = "Thu, 02 May 2024 10:00:00 +0000"
    message.set_content("Notes from the crane inspection are attached.")
    message.add_attachment("# Inspection\n\nCrane C2 needs *paint* before the winter.\n", subtype="markdown",
                           filename="inspection.md")
    (corpus / "mail" / "notes.eml").write_bytes(bytes(message))
    (corpus / "odd" / (HOSTILE_NAME.replace("\\r\\n", "\r\n"))).write_text(
        "Date: 2024-01-05\nSource: Odd Desk\n\nA memo about fence repairs at the depot.\n", encoding="utf-8")
    (corpus / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in WIRE_RECORDS) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def formats_index(tmp_path_factory) -> tuple[Path, Path]:
    """(corpus, index) of the formats corpus, indexed once for the session."""
    corpus = tmp_path_factory.mktemp("formats") / "corpus"
    formats_corpus_files(corpus)
    return corpus, build_index(corpus, corpus.parent / "index")


@pytest.fixture(scope="session")
def formats_app(formats_index):
    corpus, index = formats_index
    app = create_app(Settings(corpus=corpus, index=index, per_page=10, max_per_page=50, max_query_length=200))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def formats_client(formats_app):
    return formats_app.test_client()


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


def start_server(index: Path, cwd: Path, timeout: float = 30, extra_args: tuple[str, ...] = (),
                 corpus: Path | None = None) -> LiveServer:
    """``searchapp serve`` (waitress) in a subprocess on a free loopback port."""
    port = free_port()
    log = cwd / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env = {k: v for k, v in env.items() if not k.startswith("SEARCHAPP_")}
    if corpus is not None:  # `serve` has no --corpus option; the setting comes from the environment
        env["SEARCHAPP_CORPUS"] = str(corpus)
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


@pytest.fixture(scope="session")
def formats_server(formats_index, tmp_path_factory):
    corpus, index = formats_index
    server = start_server(index, tmp_path_factory.mktemp("formats-server"), corpus=corpus)
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
            if any(node.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
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
