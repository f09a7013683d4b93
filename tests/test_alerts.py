"""Saved searches and alerts: the store, its migrations and faults, runs and deliveries."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from searchapp.alerts import (
    SCHEMA_VERSION,
    AlertStore,
    EmailDelivery,
    WebhookDelivery,
    alerts_add,
    alerts_list,
    alerts_remove,
    alerts_run,
)
from searchapp.alerts import store as store_module
from searchapp.errors import AlertStoreError, QueryError, SavedSearchError, SearchAppError
from searchapp.results import Hit

HOSTILE_NAME = 'crude <script>alert(1)</script>\x1b[2J\n"forged line'


class FakeIndex:
    """Reports with the generation that indexed them; markers are generations."""

    def __init__(self) -> None:
        self.generation = 0
        self.reports: list[tuple[int, Hit]] = []

    def add(self, *titles: str, source: str = "Reuters") -> None:
        self.generation += 1
        for title in titles:
            n = len(self.reports) + 1
            self.reports.append((self.generation, Hit(
                id=f"r{n}", title=title, date=f"2024-01-{n:02d}", source=source, topics=(),
                score=None, snippet=title, title_html=title)))

    @property
    def marker(self) -> str:
        return str(self.generation)

    def new_since(self, saved, since, until):
        if "(" in saved.query:
            raise QueryError(f"cannot parse the query {saved.query!r}: unbalanced parenthesis")
        low = int(since or 0)
        return [hit for gen, hit in reversed(self.reports)
                if low < gen <= int(until) and saved.query.lower() in hit.title.lower()
                and hit.source in saved.filters.get("source", [hit.source])]


@pytest.fixture
def db(tmp_path):
    return AlertStore(tmp_path / "alerts.sqlite3")


def schema_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version FROM schema_version").fetchone()[0]


# -- the store ----------------------------------------------------------------

def test_new_store_has_current_schema(db):
    assert SCHEMA_VERSION == 2
    assert schema_version(db.path) == 2
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_upgrade_from_version_1_keeps_saved_searches(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert store_module.migrate(conn, str(path), target=1) == 0
    conn.execute("INSERT INTO saved_search (name, query, filters, created, seen_marker)"
                 " VALUES ('oil', 'crude', '{\"source\": [\"Reuters\"]}', '2024-01-01T00:00:00Z', '7')")
    conn.close()
    assert schema_version(path) == 1
    store = AlertStore(path)
    assert schema_version(path) == 2
    saved = store.get("oil")
    assert (saved.query, saved.filters, saved.seen_marker, saved.run_marker) == ("crude", {"source": ["Reuters"]}, "7", None)
    assert store.pending() == []
    AlertStore(path)  # opening again migrates nothing
    assert schema_version(path) == 2


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    AlertStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 9")
    with pytest.raises(AlertStoreError) as e:
        AlertStore(path)
    assert str(e.value) == (f"the saved searches database {path} has schema version 9, newer than this "
                            "searchapp's 2: upgrade searchapp; searching still works")


def test_add_list_remove_and_errors(db):
    saved = alerts_add(db, "oil", "crude", {"source": "Reuters", "date_from": "2024", "mode": "any"}, marker="3")
    assert saved.filters == {"source": ["Reuters"], "date_from": "2024", "mode": "any"}
    assert saved.search_kwargs() == {"source": ["Reuters"], "date_from": "2024", "mode": "any"}
    assert (saved.seen_marker, saved.run_marker) == ("3", "3")
    with pytest.raises(SavedSearchError) as e:
        db.add("oil", "other")
    assert (str(e.value), e.value.status) == (
        "a saved search named 'oil' exists already; remove it first or choose another name", 409)
    with pytest.raises(SavedSearchError, match="^unknown filter 'colour'; use: source, topic, date_from, date_to, mode$"):
        db.add("x", "q", {"colour": "red"})
    with pytest.raises(SavedSearchError, match="^a saved search needs a name$"):
        db.add("  ", "q")
    assert [s.name for s in db.list()] == ["oil"]
    assert alerts_remove(db, "oil").name == "oil"
    with pytest.raises(SavedSearchError) as e:
        alerts_remove(db, "oil")
    assert (str(e.value), e.value.status) == ("no saved search named 'oil'", 404)
    assert alerts_list(db).to_text() == "no saved searches\n"


def test_add_checks_the_query_first(db):
    def check(query, filters):
        raise QueryError(f"cannot parse {query!r}")

    with pytest.raises(QueryError):
        alerts_add(db, "bad", "(oil", check=check)
    assert db.list() == []


def test_hostile_name_stored_as_is_and_escaped_when_shown(db):
    alerts_add(db, HOSTILE_NAME, 'x"\x07', {"topic": ["<b>"]})
    assert db.list()[0].name == HOSTILE_NAME
    text = alerts_list(db).to_text()
    assert text == ('crude <script>alert(1)</script>\\x1b[2J\\n"forged line: x"\\x07  [topic=<b>]\n')
    assert json.loads(json.dumps(alerts_list(db).to_dict()))["saved_searches"][0]["name"] == HOSTILE_NAME


def test_two_writers_at_once_both_land(tmp_path):
    path = tmp_path / "alerts.sqlite3"
    AlertStore(path)
    start = threading.Barrier(2)
    failures = []

    def writer(prefix):
        store = AlertStore(path)
        start.wait()
        try:
            for i in range(25):
                store.add(f"{prefix}{i}", "q")
        except SearchAppError as e:  # pragma: no cover - the failure the test looks for
            failures.append(e)

    threads = [threading.Thread(target=writer, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(AlertStore(path).list()) == 50


def test_locked_database_is_a_clear_error_and_reads_go_on(tmp_path):
    path = tmp_path / "alerts.sqlite3"
    AlertStore(path).add("kept", "q")
    store = AlertStore(path, timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(AlertStoreError) as e:
            store.add("new", "q")
        assert str(e.value) == (f"the saved searches database {path} is locked by another program: "
                                "try again in a moment; searching still works")
        assert e.value.status == 503
        assert [s.name for s in store.list()] == ["kept"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.add("new", "q")
    assert [s.name for s in store.list()] == ["kept", "new"]


def test_corrupt_database_is_a_clear_error_and_searching_goes_on(tmp_path, built_index):
    from searchapp import SearchIndex

    path = tmp_path / "alerts.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(AlertStoreError) as e:
        AlertStore(path)
    assert str(e.value) == (f"the saved searches database {path} is corrupt: move it aside and a new, "
                            "empty one is created; searching still works")
    with SearchIndex.open(built_index) as index:
        assert index.search("").total > 0


def test_read_only_database_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "alerts.sqlite3"
    AlertStore(path).add("kept", "q")
    real_connect = sqlite3.connect

    def read_only(*args, **kwargs):  # what a read-only mount does to a writer (root ignores chmod)
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    store = AlertStore(path)  # opens: a current schema is only read
    assert [s.name for s in store.list()] == ["kept"]
    with pytest.raises(AlertStoreError) as e:
        store.add("new", "q")
    assert str(e.value) == (f"the saved searches database {path} is read-only: saved searches cannot be "
                            "changed until it is writable; searching still works")
    old = tmp_path / "old.sqlite3"
    conn = real_connect(old, isolation_level=None)
    store_module.migrate(conn, str(old), target=1)
    conn.close()
    with pytest.raises(AlertStoreError, match="is read-only: "):
        AlertStore(old)  # a migration needs to write


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(AlertStoreError, match="cannot be opened: check that its folder exists and is writable"):
        AlertStore(tmp_path / "no" / "such" / "alerts.sqlite3")


# -- runs ---------------------------------------------------------------------

def test_run_twice_reports_new_reports_once_then_again_after_reindex(db):
    index = FakeIndex()
    index.add("Crude oil up", "Wheat down")
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude stocks fall", "Crude exports", "Corn")
    first = alerts_run(db, index.new_since, index.marker)
    assert [(a.saved.name, a.new, [h.id for h in a.hits]) for a in first.alerts] == [("oil", 2, ["r4", "r3"])]
    assert first.to_text() == ("oil: 2 new\n"
                               "  2024-01-04  Reuters  Crude exports  [r4]\n"
                               "  2024-01-03  Reuters  Crude stocks fall  [r3]\n")
    data = json.loads(json.dumps(first.to_dict()))
    assert (data["marker"], data["ok"], data["unconfigured"]) == ("2", True, 0)
    assert {k: v for k, v in data["alerts"][0].items() if k != "hits"} == {
        "name": "oil", "query": "crude", "filters": {}, "new": 2, "error": None, "deliveries": []}
    assert [h["title"] for h in data["alerts"][0]["hits"]] == ["Crude exports", "Crude stocks fall"]
    second = alerts_run(db, index.new_since, index.marker)
    assert [(a.new, a.hits) for a in second.alerts] == [(0, ())]
    assert second.to_text() == "oil: 0 new\n"
    index.add("Crude futures", "Barley")
    third = alerts_run(db, index.new_since, index.marker)
    assert [[h.title for h in a.hits] for a in third.alerts] == [["Crude futures"]]
    assert third.ok and third.to_dict()["alerts"][0]["hits"][0]["id"] == "r6"


def test_new_since_last_looked(db):
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude a", "Crude b", "Wheat")
    listing = alerts_list(db, index.new_since, index.marker)
    assert [i.new for i in listing.items] == [2]
    assert listing.to_text() == "oil: crude  (2 new since last looked)\n"
    db.mark_seen("oil", index.marker)
    assert [i.new for i in alerts_list(db, index.new_since, index.marker).items] == [0]


def test_query_that_no_longer_parses_is_reported_and_kept(db):
    index = FakeIndex()
    alerts_add(db, "broken", "(crude", marker=index.marker)
    alerts_add(db, "fine", "crude", marker=index.marker)
    index.add("Crude a")
    report = alerts_run(db, index.new_since, index.marker)
    assert report.to_text() == ("broken: error: cannot parse the query '(crude': unbalanced parenthesis\n"
                                "fine: 1 new\n  2024-01-01  Reuters  Crude a  [r1]\n")
    assert not report.ok
    assert [s.name for s in db.list()] == ["broken", "fine"]
    assert db.get("broken").run_marker == "0"  # not advanced: nothing is skipped once it is fixed
    assert alerts_list(db, index.new_since, index.marker).items[0].error.startswith("cannot parse")


def test_overlapping_runs_record_and_send_each_alert_once(db):
    saved = alerts_add(db, "oil", "crude", marker="0")
    assert db.advance(saved, "1", {"email:a": {"n": 1}}) is True
    assert db.advance(saved, "1", {"email:a": {"n": 1}}) is False  # read before the first run moved it
    [item] = db.pending()
    assert (item.channel, item.payload, item.attempts) == ("email:a", {"n": 1}, 0)
    assert db.claim(item) is True
    assert db.claim(item) is False  # the other run read it with attempts 0
    db.delivered(item.id, "refused")
    [again] = db.pending()
    assert (again.attempts, again.last_error) == (1, "refused")
    assert db.claim(again) is True
    db.delivered(again.id, None)
    assert db.pending() == []


def test_hostile_report_titles_escaped_in_run_text(db):
    index = FakeIndex()
    alerts_add(db, HOSTILE_NAME, "crude", marker=index.marker)
    index.add("crude\x1b]0;pwned\x07\nforged: 99 new", source="S\u202eevil")
    text = alerts_run(db, index.new_since, index.marker).to_text()
    assert text == ('crude <script>alert(1)</script>\\x1b[2J\\n"forged line: 1 new\n'
                    "  2024-01-01  S\\u202eevil  crude\\x1b]0;pwned\\x07\\nforged: 99 new  [r1]\n")


# -- deliveries: a local SMTP server and a local HTTP receiver -----------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailBox:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.messages: list = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        if self.failures:
            self.failures -= 1
            return "451 4.3.0 mailbox busy, try again later"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)


@pytest.fixture
def smtp_server():
    servers = []

    def start(failures=0):
        box = MailBox(failures)
        controller = Controller(box, hostname="127.0.0.1", port=free_port(),
                                authenticator=box.authenticate, auth_require_tls=False)
        controller.start()
        servers.append(controller)
        return box, controller.port

    yield start
    for controller in servers:
        controller.stop()


def email_to(port, **over) -> EmailDelivery:
    args = dict(host="127.0.0.1", port=port, sender="alerts@example.org", recipients=("ana@example.org",),
                user="ana", password="s3cret", starttls=False, timeout=5)
    args.update(over)
    return EmailDelivery(**args)


def test_email_delivery_fails_once_then_is_sent_at_the_next_run(db, smtp_server):
    box, port = smtp_server(failures=1)
    index = FakeIndex()
    alerts_add(db, HOSTILE_NAME, "crude", marker=index.marker)
    index.add("Crude oil <up>")
    mail = email_to(port)
    first = alerts_run(db, index.new_since, index.marker, [mail], report_base_url="https://h/reports/")
    outcome = first.alerts[0].deliveries[0]
    assert (outcome.sent, outcome.attempts) == (False, 1)
    assert outcome.error.startswith("delivery by e-mail to ana@example.org failed: 127.0.0.1:")
    assert "mailbox busy" in outcome.error and not first.ok
    assert box.messages == [] and len(db.pending()) == 1
    second = alerts_run(db, index.new_since, index.marker, [mail], report_base_url="https://h/reports/")
    assert second.alerts[0].new == 0
    assert [(d.sent, d.attempts, d.error) for d in second.alerts[0].deliveries] == [(True, 2, None)]
    assert db.pending() == []
    assert box.logins[-1] == (b"ana", b"s3cret")
    [(rcpt, message)] = box.messages
    assert rcpt == ["ana@example.org"]
    assert message["Subject"].strip() == 'searchapp: 1 new for crude <script>alert(1)</script>\\x1b[2J\\n"forged line'
    assert message.get_content().replace("\r\n", "\n") == (
        '1 new report(s) for the saved search crude <script>alert(1)</script>\\x1b[2J\\n"forged line\n'
        "query: crude\n\n2024-01-01  Reuters  Crude oil <up>\n  https://h/reports/r1\n")
    third = alerts_run(db, index.new_since, index.marker, [mail])
    assert third.alerts[0].deliveries == () and len(box.messages) == 1


def test_email_starttls_not_offered_sends_nothing(db, smtp_server):
    box, port = smtp_server()
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude")
    report = alerts_run(db, index.new_since, index.marker, [email_to(port, starttls=True)])
    [outcome] = report.alerts[0].deliveries
    assert not outcome.sent and "STARTTLS extension not supported by server" in outcome.error
    assert box.messages == [] and len(db.pending()) == 1


def test_email_wrong_password_is_not_sent(db, smtp_server):
    box, port = smtp_server()
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude")
    [outcome] = alerts_run(db, index.new_since, index.marker, [email_to(port, password="nope")]).alerts[0].deliveries
    assert not outcome.sent and "535" in outcome.error
    assert box.messages == []


def test_email_password_never_sent_unencrypted_off_this_machine(db):
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude")
    mail = email_to(25, host="192.0.2.1")  # TEST-NET: nothing is listening, nothing is tried
    [outcome] = alerts_run(db, index.new_since, index.marker, [mail]).alerts[0].deliveries
    assert outcome.error == ("delivery by e-mail to ana@example.org failed: 192.0.2.1:25: the password would "
                             "cross the network unencrypted; use STARTTLS; it is retried at the next run")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.requests.append((self.path, self.headers["Content-Type"], body))
        status = server.statuses.pop(0) if server.statuses else 204
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    servers = []

    def start(*statuses):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        server.requests, server.statuses = [], list(statuses)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}/hook?token=abc"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_webhook_fails_once_then_is_sent_at_the_next_run(db, receiver):
    server, url = receiver(500)
    index = FakeIndex()
    alerts_add(db, "oil", "crude", {"source": ["Reuters"]}, marker=index.marker)
    index.add("Crude \"quoted\" </script>")
    hook = WebhookDelivery(url, timeout=5)
    first = alerts_run(db, index.new_since, index.marker, [hook], report_base_url="https://h/reports/")
    [outcome] = first.alerts[0].deliveries
    host = url.split("/")[2]
    assert (outcome.channel, outcome.sent, outcome.error) == (
        f"webhook to http://{host}", False,
        f"delivery by webhook to http://{host} failed: the receiver answered HTTP 500; it is retried at the next run")
    assert first.to_text().endswith(f"  webhook to http://{host}: not sent, retried at the next run: {outcome.error}\n")
    second = alerts_run(db, index.new_since, index.marker, [hook], report_base_url="https://h/reports/")
    assert [(d.sent, d.attempts) for d in second.alerts[0].deliveries] == [(True, 2)]
    assert db.pending() == [] and len(server.requests) == 2
    path, mime, body = server.requests[-1]
    assert (path, mime) == ("/hook?token=abc", "application/json")
    notice = json.loads(body)
    assert notice["saved_search"] == {"name": "oil", "query": "crude", "filters": {"source": ["Reuters"]}}
    assert notice["new"] == 1
    assert notice["hits"][0]["title"] == 'Crude "quoted" </script>'
    assert notice["hits"][0]["link"] == "https://h/reports/r1"
    assert server.requests[0][2] == body  # the retry sends the same alert
    assert len(alerts_run(db, index.new_since, index.marker, [hook]).alerts[0].deliveries) == 0


def test_webhook_redirect_is_a_failure(db, receiver):
    server, url = receiver(302)
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude")
    [outcome] = alerts_run(db, index.new_since, index.marker, [WebhookDelivery(url)]).alerts[0].deliveries
    assert not outcome.sent and "the receiver answered HTTP 302" in outcome.error
    assert len(server.requests) == 1


def test_unreachable_webhook_is_kept(db):
    index = FakeIndex()
    alerts_add(db, "oil", "crude", marker=index.marker)
    index.add("Crude")
    hook = WebhookDelivery(f"http://127.0.0.1:{free_port()}/", timeout=2)
    [outcome] = alerts_run(db, index.new_since, index.marker, [hook]).alerts[0].deliveries
    assert not outcome.sent and "refused" in outcome.error.lower()
    assert len(db.pending()) == 1
    later = alerts_run(db, index.new_since, index.marker)  # no channel given: kept, counted
    assert later.unconfigured == 1 and later.to_text().endswith(
        "1 alert(s) wait for a delivery channel this run was not given\n")
    alerts_remove(db, "oil")
    assert db.pending() == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "http:///nohost", "javascript:alert(1)"])
def test_webhook_url_must_be_http(url):
    with pytest.raises(SavedSearchError, match="^a webhook URL must be http:// or https:// with a host, got "):
        WebhookDelivery(url)


def test_webhook_key_and_label_hide_secrets():
    hook = WebhookDelivery("https://user:pw@hooks.example/services/T0/SECRET")
    assert hook.label == "webhook to https://hooks.example"
    assert "SECRET" not in hook.key and "pw" not in hook.key
    assert "pw" not in repr(EmailDelivery("h", 25, "a@b", ("c@d",), user="u", password="pw"))


def test_modules_import_neither_flask_nor_click():
    import subprocess
    import sys

    code = ("import sys, searchapp.alerts, searchapp.export, searchapp.feed; "
            "print(sorted(m for m in ('flask', 'click') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_email_message_of_non_ascii_names_round_trips():
    from searchapp.alerts.delivery import email_message

    notice = {"saved_search": {"name": "Ölpreise – Россия", "query": "öl", "filters": {}}, "new": 2,
              "hits": [{"date": None, "source": "Spiegel", "title": "Öl wird teurer", "link": None}]}
    raw = email_message(notice, "a@example.org", ("b@example.org",)).as_bytes()
    assert max(raw) < 128  # encoded for any mail server
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "searchapp: 2 new for Ölpreise – Россия"
    assert parsed.get_content() == ("2 new report(s) for the saved search Ölpreise – Россия\nquery: öl\n\n"
                                    "undated  Spiegel  Öl wird teurer\n... and 1 more\n")
