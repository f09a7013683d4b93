"""Alerts over a real index: markers per commit, "new since" across reindexes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from click.testing import CliRunner

from searchapp import SearchIndex, reindex
from searchapp.alerts import AlertStore, alerts_add, alerts_list, alerts_run
from searchapp.alerts.index import current_marker, index_new_since
from searchapp.cli import main


def write_reports(path: Path, start: int, count: int, word: str = "pipeline") -> None:
    rows = [{"id": f"r{n}", "date": f"2024-03-{n % 28 + 1:02d}", "source": "Wire", "title": f"{word} report {n}",
             "body": f"A {word} was inspected, report number {n}.", "topics": []} for n in range(start, start + count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def ids(hits) -> list[str]:
    """The report numbers of hits (ids are ``<file>:<id>``)."""
    return sorted(h.id.split(":", 1)[1] for h in hits)


def test_markers_grow_per_commit_and_survive_a_full_reindex(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_reports(corpus / "a.jsonl", 0, 3)
    reindex(corpus, index_dir, procs=1)
    with SearchIndex.open(index_dir) as index:
        assert index.marker() == 1
    write_reports(corpus / "b.jsonl", 10, 2)
    reindex(corpus, index_dir, procs=1)
    with SearchIndex.open(index_dir) as index:
        assert index.marker() == 2
        assert ids(index.all_hits("", indexed_after=1)) == ["r10", "r11"]
    reindex(corpus, index_dir, procs=1, full=True)
    with SearchIndex.open(index_dir) as index:
        assert index.marker() == 2  # every report keeps the marker that first indexed it
        assert ids(index.all_hits("", indexed_after=1)) == ["r10", "r11"]
        assert list(index.all_hits("", indexed_after=2)) == []
    write_reports(corpus / "c.jsonl", 20, 1)
    reindex(corpus, index_dir, procs=1)
    with SearchIndex.open(index_dir) as index:
        assert index.marker() == 4  # the full rebuild was commit 3
        assert ids(index.all_hits("", indexed_after=2)) == ["r20"]


def test_alerts_run_reports_new_reports_once(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_reports(corpus / "a.jsonl", 0, 3)
    write_reports(corpus / "other.jsonl", 100, 2, word="harbour")
    reindex(corpus, index_dir, procs=1)
    store = AlertStore(tmp_path / "alerts.sqlite")
    with SearchIndex.open(index_dir) as index:
        alerts_add(store, "pipes", "pipeline", marker=current_marker(index))
        alerts_add(store, "everything", "")
    runs = []
    for step in range(3):
        if step == 2:
            write_reports(corpus / "b.jsonl", 10, 2)  # two more matching reports, incrementally
            write_reports(corpus / "more.jsonl", 200, 1, word="harbour")
            reindex(corpus, index_dir, procs=1)
        with SearchIndex.open(index_dir) as index:
            report = alerts_run(store, index_new_since(index), current_marker(index))
        runs.append({a.saved.name: ids(a.hits) for a in report.alerts})
    assert runs[0] == {"pipes": [], "everything": ["r0", "r1", "r100", "r101", "r2"]}
    assert runs[1] == {"pipes": [], "everything": []}
    assert runs[2] == {"pipes": ["r10", "r11"], "everything": ["r10", "r11", "r200"]}
    with SearchIndex.open(index_dir) as index:
        listed = {i.saved.name: i.new for i in alerts_list(store, index_new_since(index), current_marker(index)).items}
    assert listed == {"pipes": 2, "everything": 8}  # neither was looked at since it was saved


def test_cli_alerts_add_list_run_remove(tmp_path):
    corpus, index_dir, db = tmp_path / "corpus", tmp_path / "index", tmp_path / "alerts.sqlite"
    corpus.mkdir()
    write_reports(corpus / "a.jsonl", 0, 2)
    reindex(corpus, index_dir, procs=1)
    common = ["--index", str(index_dir), "--db", str(db)]
    runner = CliRunner()
    result = runner.invoke(main, ["alerts", "add", "pipes", "pipeline", *common])
    assert result.exit_code == 0, result.output
    assert result.output == "saved 'pipes'\n"
    result = runner.invoke(main, ["alerts", "add", "broken", "nosuch:word", *common])
    assert result.exit_code == 1
    assert result.output == ("Error: unknown field 'nosuch' in the query; the fields are title:, body:, source:, "
                             "topic:, date:, author:, language:, person:, org:, place:\n")
    write_reports(corpus / "b.jsonl", 5, 1)
    reindex(corpus, index_dir, procs=1)
    result = runner.invoke(main, ["alerts", "list", *common])
    assert result.output == "pipes: pipeline  (1 new since last looked)\n"
    result = runner.invoke(main, ["alerts", "run", "--json", *common])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(a["name"], a["new"], [h["id"] for h in a["hits"]]) for a in data["alerts"]] == [("pipes", 1, ["b:r5"])]
    result = runner.invoke(main, ["alerts", "run", *common])
    assert result.output == "pipes: 0 new\n"
    result = runner.invoke(main, ["alerts", "remove", "pipes", "--db", str(db)])
    assert result.output == "removed 'pipes'\n"
    assert runner.invoke(main, ["alerts", "list", *common]).output == "no saved searches\n"


def test_cli_search_exports_every_hit(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_reports(corpus / "a.jsonl", 0, 25)
    reindex(corpus, index_dir, procs=1)
    runner = CliRunner()
    result = runner.invoke(main, ["search", "pipeline", "--index", str(index_dir), "--format", "jsonl", "--all"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 25
    result = runner.invoke(main, ["search", "pipeline", "--index", str(index_dir), "--format", "csv"])
    assert len(result.output.splitlines()) == 1 + 10  # one page of the default size, and the header
    result = runner.invoke(main, ["search", "pipeline", "--index", str(index_dir), "--all"])
    assert result.exit_code == 2 and "--all needs --format csv or --format jsonl" in result.output


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that fails its first request."""

    bodies: list[dict] = []
    calls = 0

    def do_POST(self):  # noqa: N802 (the handler's name)
        type(self).calls += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).calls == 1:
            self.send_response(500)
        else:
            type(self).bodies.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_cli_alerts_run_posts_to_the_webhook_and_retries_a_failure(tmp_path):
    corpus, index_dir, db = tmp_path / "corpus", tmp_path / "index", tmp_path / "alerts.sqlite"
    corpus.mkdir()
    write_reports(corpus / "a.jsonl", 0, 1)
    reindex(corpus, index_dir, procs=1)
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        common = ["--index", str(index_dir), "--db", str(db)]
        env = {"SEARCHAPP_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook"}
        runner = CliRunner()
        assert runner.invoke(main, ["alerts", "add", "pipes", "pipeline", *common]).exit_code == 0
        write_reports(corpus / "b.jsonl", 7, 1)
        reindex(corpus, index_dir, procs=1)
        first = runner.invoke(main, ["alerts", "run", *common], env=env)
        assert first.exit_code == 1, first.output
        assert first.output.splitlines()[-1] == (
            f"  webhook to http://127.0.0.1:{server.server_port}: not sent, retried at the next run: delivery by "
            f"webhook to http://127.0.0.1:{server.server_port} failed: the receiver answered HTTP 500; it is "
            "retried at the next run")
        second = runner.invoke(main, ["alerts", "run", *common], env=env)
        assert second.exit_code == 0, second.output
        assert second.output.splitlines()[0] == "pipes: 0 new"
        assert [(b["saved_search"]["name"], b["new"], [h["id"] for h in b["hits"]]) for b in _Receiver.bodies] == [
            ("pipes", 1, ["b:r7"])]
    finally:
        server.shutdown()
        server.server_close()
