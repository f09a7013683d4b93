"""Word files (searchapp.corpus.docx)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import pytest

from tests.make_files import parse_files


def make_docx(title: str = "Quarterly threat review") -> bytes:
    document = docx.Document()
    core = document.core_properties
    core.title, core.author, core.keywords = title, "Jane Roe; John Doe", "drones, ports"
    core.created, core.modified = dt.datetime(2024, 3, 15, 9, 0), dt.datetime(2024, 4, 1, 9, 0)
    document.add_heading("Overview", level=1)
    document.add_paragraph("Drone attacks moved to the Black Sea ports this quarter.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in enumerate((("Port", "Attacks"), ("Odesa", "14"))):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_paragraph("After the table.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def parse(folder: Path, name: str, data) -> list:
    return parse_files(folder, {name: data})


def test_paragraphs_headings_tables_and_properties(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "review.docx", make_docx())
    assert report.body == ("Overview\n\nDrone attacks moved to the Black Sea ports this quarter.\n\n"
                           "Port\tAttacks\n\nOdesa\t14\n\nAfter the table.")
    assert (report.title, report.authors, report.topics) == ("Quarterly threat review", ("Jane Roe", "John Doe"), ("drones", "ports"))
    assert (report.date, report.updated, report.format) == (dt.date(2024, 3, 15), dt.date(2024, 4, 1), "docx")


def test_heading_is_the_title_without_a_core_title(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "r.docx", make_docx(title=""))
    assert report.title == "Overview"


def _rezip(data: bytes, replace: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name in set(replace) - set(source.namelist()):
            target.writestr(name, replace[name])
    return out.getvalue()


DOCUMENT = "word/document.xml"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"word/media/bomb.bin": b"\0" * (201 * 1024 * 1024)},
         "Word file unpacking to 201.8 MiB (limit 200.0 MiB): refused as a zip bomb"),
        ({"word/media/ratio.bin": b"\0" * (20 * 1024 * 1024)},
         "part 'word/media/ratio.bin' expands 1,028 times (limit 200): refused as a zip bomb"),
        ({DOCUMENT: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><w:document ' + W.encode() + b'/>'},
         "part 'word/document.xml' declares a DOCTYPE or entities: refused, their expansion could exhaust memory"),
        ({DOCUMENT: (f"<w:document {W}><w:body>" + "<w:tbl><w:tr><w:tc>" * 1700 + "</w:tc></w:tr></w:tbl>" * 1700
                     + "</w:body></w:document>").encode()},
         "Word file with XML nested deeper than 256 levels: refused"),
        ({DOCUMENT: b'<?xml version="1.0" encoding="x-bogus"?><w:document ' + W.encode() + b"/>"},
         "not a readable Word file (bad XML: Unsupported encoding: x-bogus, line 1, column 39 (<string>, line 1))"),
        ({DOCUMENT: b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + W.encode() + b"><w:body><w:p><w:r>"
                    b"<w:t>Caf\xe9</w:t></w:r></w:p></w:body></w:document>"},
         "not a readable Word file (bad XML: Invalid bytes in character encoding, line 1, column 148 (<string>, line 1))"),
    ],
)
def test_hostile_docx(tmp_path: Path, change: dict[str, bytes], reason: str) -> None:
    (error,) = parse(tmp_path, "bad.docx", _rezip(make_docx(), change))
    assert (error.path, error.reason) == ("bad.docx", reason)


def test_not_a_zip(tmp_path: Path) -> None:
    (error,) = parse(tmp_path, "bad.docx", b"PK\x03\x04 this is not a zip")
    assert error.reason == "not a readable Word file (not a ZIP container: File is not a zip file)"


@pytest.mark.parametrize("suffix", [".doc", ".odt", ".rtf"])
def test_unconverted_formats(tmp_path: Path, suffix: str) -> None:
    (error,) = parse(tmp_path, f"old{suffix}", b"{\\rtf1 hello}")
    assert error.reason == (f"'{suffix}' files are not read: save it as .docx or PDF "
                            "(converting it would need LibreOffice, which searchapp does not use)")


def test_hostile_part_names_are_never_unpacked(tmp_path: Path) -> None:
    """A ZIP member named ../../evil.xml or /etc/x: the container is read in memory, nothing written."""
    data = _rezip(make_docx(), {"../../evil.xml": b"<x/>", "/etc/evil.xml": b"<x/>"})
    (report,) = parse(tmp_path / "corpus", "w.docx", data)
    assert report.title == "Quarterly threat review"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["corpus", "corpus/w.docx"]
