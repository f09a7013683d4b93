"""E-mail messages and their attachments (searchapp.corpus.email, .attachments)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from searchapp.corpus.email import attachment_bytes, safe_name
from searchapp.errors import CorpusError
from tests.make_files import make_pdf, parse_files


def make_eml(attachments=(), html: bool = False) -> bytes:
    message = EmailMessage()
    message["Subject"] = "Weekly drone report"
    message["From"] = "Jane Roe <jane@example.org>"
    message["To"] = "team@example.org"
    message["Date"] = "Fri, 26 Jul 2024 10:00:00 +0200"
    if html:
        message.set_content("<html><body><p>Attacks moved to <b>the ports</b>.</p><script>x()</script></body></html>", subtype="html")
    else:
        message.set_content("Attacks moved to the ports this week.\n")
    for name, data, maintype, subtype in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def parse(folder: Path, name: str, data) -> list:
    return parse_files(folder, {name: data})


def test_message_fields(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "m.eml", make_eml())
    assert (report.title, report.authors, report.date) == ("Weekly drone report", ("Jane Roe",), dt.date(2024, 7, 26))
    assert (report.body, report.format, report.attachments) == ("Attacks moved to the ports this week.", "email", ())


def test_html_body_rendered_to_text(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "m.eml", make_eml(html=True))
    assert report.body == "Attacks moved to the ports."


def test_attachments_become_linked_reports(tmp_path: Path) -> None:
    pdf = make_pdf([[(20, "Attached Analysis"), (11, "The attached analysis names Odesa.")]])
    attachments = [("../../../etc/evil name.pdf", pdf, "application", "pdf"),
                   ("notes.txt", b"Plain notes on the ports.", "text", "plain"),
                   ("photo.jpg", b"\xff\xd8\xff", "image", "jpeg"),
                   ("broken.pdf", b"%PDF-1.4 broken", "application", "pdf")]
    message, first, second, error = parse(tmp_path, "inbox/m.eml", make_eml(attachments))
    assert message.attachments == ("inbox/m/evil name.pdf", "inbox/m/notes.txt")
    assert (first.id, first.parent, first.attachment, first.path) == ("inbox/m/evil name.pdf", "inbox/m", "evil name.pdf", "inbox/m.eml")
    assert (first.title, first.format, len(first.pages)) == ("Attached Analysis", "pdf", 1)
    assert (second.body, second.parent, second.date) == ("Plain notes on the ports.", "inbox/m", None)
    assert isinstance(error, CorpusError) and (error.path, error.reason) == (
        "inbox/m.eml/broken.pdf",
        "not a readable PDF (corrupt or truncated): Failed to load document (PDFium: Data format error).")
    assert not (tmp_path / "etc").exists() and sorted(p.name for p in tmp_path.rglob("*")) == ["inbox", "m.eml"]


@pytest.mark.parametrize(
    ("name", "safe"),
    [("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("..", "attachment-3"), ("", "attachment-3"),
     ("a\x00b\nc.pdf", "a_b_c.pdf"), (".hidden.txt", "hidden.txt"), ("x" * 300 + ".pdf", "x" * 96 + ".pdf"),
     ('con<>:"|?*.txt', "con_______.txt")],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name, 3) == safe


def test_duplicate_attachment_names_are_numbered(tmp_path: Path) -> None:
    attachments = [("a.txt", b"First text.", "text", "plain"), ("a.txt", b"Second text.", "text", "plain")]
    message, *children = parse(tmp_path, "m.eml", make_eml(attachments))
    assert message.attachments == ("m/a.txt", "m/2-a.txt")
    assert [c.body for c in children] == ["First text.", "Second text."]


def test_unreadable_date_is_a_warning(tmp_path: Path) -> None:
    data = make_eml().replace(b"Fri, 26 Jul 2024 10:00:00 +0200", b"sometime in July")
    (report,) = parse(tmp_path, "2024-07-01-m.eml", data)
    assert report.date == dt.date(2024, 7, 1)  # from the file name
    assert [(w.field, w.value) for w in report.warnings] == [("date", "sometime in July")]


def test_bad_msg(tmp_path: Path) -> None:
    (error,) = parse(tmp_path, "m.msg", b"not an OLE file at all")
    assert error.path == "m.msg" and error.reason.startswith("not a readable Outlook message: ")


def test_not_a_message(tmp_path: Path) -> None:
    (error,) = parse(tmp_path, "m.eml", b"\n\njust text\n")
    assert error.reason == "not an e-mail message: no headers"


def test_attachment_bytes_by_the_reports_numbered_name(tmp_path: Path) -> None:
    attachments = [("a.txt", b"First text.", "text", "plain"), ("a.txt", b"Second text.", "text", "plain")]
    (tmp_path / "m.eml").write_bytes(make_eml(attachments))
    assert attachment_bytes(tmp_path / "m.eml", "2-a.txt") == b"Second text."
    assert attachment_bytes(tmp_path / "m.eml", "a.txt") == b"First text."
    assert attachment_bytes(tmp_path / "m.eml", "../m.eml") is None
    with pytest.raises(CorpusError) as e:
        attachment_bytes(tmp_path / "gone.eml", "a.txt")
    assert str(e.value).endswith("No such file or directory")


def test_outlook_msg_fields_and_attachment(tmp_path: Path) -> None:
    """A real .msg (an OLE compound file written by tests/make_msg.py, read strictly by olefile first)."""
    import io

    import olefile

    from tests.make_msg import make_msg

    pdf = make_pdf([[(20, "Attached Analysis"), (11, "The attached analysis names Odesa.")]])
    body = "Attacks moved to the ports this week.\n" + "The convoy waited at the outer anchorage.\n" * 120
    data = make_msg("Weekly drone report", ("Jane Roe", "jane@example.org"),
                    dt.datetime(2024, 7, 26, 8, 0, tzinfo=dt.timezone.utc), body,
                    [("..\\..\\evil analysis.pdf", pdf), ("notes.txt", b"Plain notes on the ports.")])
    olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT).close()  # a well-formed file
    message, analysis, notes = parse(tmp_path, "inbox/m.msg", data)
    assert (message.title, message.authors, message.date, message.format) == (
        "Weekly drone report", ("Jane Roe",), dt.date(2024, 7, 26), "email")
    assert message.body == body.strip() and message.attachments == ("inbox/m/evil analysis.pdf", "inbox/m/notes.txt")
    assert (analysis.id, analysis.parent, analysis.attachment, analysis.path, analysis.title, analysis.pages) == (
        "inbox/m/evil analysis.pdf", "inbox/m", "evil analysis.pdf", "inbox/m.msg", "Attached Analysis", (0,))
    assert analysis.body == "Attached Analysis\nThe attached analysis names Odesa."
    assert (notes.body, notes.parent) == ("Plain notes on the ports.", "inbox/m")
    (tmp_path / "inbox" / "m.msg").write_bytes(data)
    assert attachment_bytes(tmp_path / "inbox" / "m.msg", "evil analysis.pdf") == pdf
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inbox", "m.msg"]


def _nested_eml(depth: int) -> bytes:
    part = "Content-Type: text/plain\n\nDeep text.\n"
    for n in range(depth):
        part = f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n{part}\n--b{n}--\n'
    return ("Subject: Deep\nFrom: a@example.org\n" + part).encode()


def test_mime_parts_nested_5000_deep_are_refused_before_parsing(tmp_path: Path) -> None:
    """Python's parser spends 2.5 s on these 5,000 levels before a RecursionError (30 s under a higher
    recursion limit: its time grows with the square of the depth)."""
    (error,) = parse(tmp_path, "deep.eml", _nested_eml(5000))
    assert (error.path, error.reason) == (
        "deep.eml", "e-mail message with 5,000 multipart sections (limit 100): refused, "
                    "parts nested this deep cannot be read safely")
    (report,) = parse(tmp_path / "ok", "ok.eml", _nested_eml(100))
    assert (report.title, report.body) == ("Deep", "Deep text.")


def test_unknown_charset_is_read_as_utf8_with_a_warning(tmp_path: Path) -> None:
    data = b"Subject: C\nFrom: a@example.org\nContent-Type: text/plain; charset=x-bogus\n\nCaf\xe9 au lait.\n"
    (report,) = parse(tmp_path, "c.eml", data)
    assert report.body == "Caf\ufffd au lait."
    assert [(w.field, w.value, w.reason) for w in report.warnings] == [(
        "body", "charset x-bogus", "not a character set searchapp knows: read as UTF-8, what is not UTF-8 "
                                   "replaced by U+FFFD")]


def test_hostile_outlook_messages(tmp_path: Path) -> None:
    import struct
    import sys

    from tests.make_msg import PT_LONG, PT_UNICODE, _properties, compound_file

    header = struct.pack("<8xIIII8x", 0, 0, 0, 0)
    tree = {"x": b""}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # the writer recurses once per level
    try:
        for n in range(5000):
            tree = {f"s{n}": tree}
        tree.update(_properties([(0x0037, PT_UNICODE, "Deep"), (0x1000, PT_UNICODE, "Body")], header))
        deep = compound_file(tree)
    finally:
        sys.setrecursionlimit(limit)
    string8 = struct.pack("<HHIII", PT_LONG, 0x3FFD, 6, 99999, 0) + struct.pack("<HHIII", 0x001E, 0x0037, 6, 13, 0)
    codepage = compound_file({"__properties_version1.0": header + string8, "__substg1.0_0037001E": b"Caf\xe9 subject"})
    assert [(e.path, e.reason) for e in parse_files(tmp_path, {"deep.msg": deep, "codepage.msg": codepage})] == [
        ("codepage.msg", "not a readable Outlook message: the code-page specified in this message is not a known "
                         "Microsoft character encoding"),
        ("deep.msg", "Outlook message nested too deeply (storages within storages): refused")]
