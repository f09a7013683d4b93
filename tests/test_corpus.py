"""Tests of searchapp.corpus: discovery, the three formats, dates, bad input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path

import pytest

from searchapp.corpus import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    CorpusFile,
    discover,
    parse_date,
    parse_date_prefix,
    parse_file,
)
from searchapp.corpus import files as corpus_files
from searchapp.errors import CorpusError
from searchapp.report import UNKNOWN_SOURCE, Report
from tests.make_files import parse_files

DATA = Path(__file__).resolve().parent / "data" / "corpus"
SEED = Path(__file__).resolve().parents[1] / "corpus" / "000_f5f54ec963f47618.txt"
EXPECTED = "(expected .txt, .md, .markdown, .jsonl, .jsonl.gz, .pdf, .html, .htm, .docx, .doc, .odt, .rtf, .eml, .msg, .json)"


# --- helpers ---------------------------------------------------------------


def write(root: Path, relpath: str, content: str | bytes) -> Path:
    """Write a file under ``root`` (bytes as they are, text as UTF-8)."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def parse_one(root: Path, relpath: str, content: str | bytes) -> list[Report | CorpusError]:
    """Write one file into an empty corpus, discover it and parse it."""
    write(root, relpath, content)
    files, errors = discover(root)
    assert errors == []
    assert [f.relpath for f in files] == [relpath]
    return list(parse_file(files[0]))


def one_report(root: Path, relpath: str, content: str | bytes) -> Report:
    items = parse_one(root, relpath, content)
    assert len(items) == 1 and isinstance(items[0], Report), items
    return items[0]


def one_error(root: Path, relpath: str, content: str | bytes) -> CorpusError:
    items = parse_one(root, relpath, content)
    assert len(items) == 1 and isinstance(items[0], CorpusError), items
    return items[0]


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def load_test_corpus() -> dict[str, Report]:
    """Every report of tests/data/corpus by id (and check there is no error)."""
    files, errors = discover(DATA)
    assert errors == []
    items = [item for f in files for item in parse_file(f)]
    reports = [item for item in items if isinstance(item, Report)]
    assert reports == items
    return {r.id: r for r in reports}


# --- the seed and the test corpus ------------------------------------------


def test_seed_file_parses() -> None:
    info = SEED.stat()
    cf = CorpusFile(SEED, SEED.name, info.st_size, info.st_mtime_ns)
    [report] = list(parse_file(cf))
    assert isinstance(report, Report)
    assert report.id == "000_f5f54ec963f47618"
    assert report.path == "000_f5f54ec963f47618.txt"
    assert report.date == dt.date(2024, 7, 28)
    assert report.source == "UK Ministry of Defence"  # after "Source:" + a no-break space
    assert report.title.startswith('British intelligence conducted a "wave of purges"')
    assert report.body.startswith("In the last week, Russia reported two corruption cases")
    assert report.body.endswith("private phone calls to friends in Ukraine with the reason for moving there.")
    assert report.topics == ()
    assert report.line is None and report.extra == {}


def test_discover_test_corpus_sorted_without_errors() -> None:
    files, errors = discover(DATA)
    assert errors == []
    assert [f.relpath for f in files] == [
        "feeds/advisories-2024.jsonl.gz",
        "feeds/wire-2024.jsonl",
        "markdown/2024-03-drone-attacks.md",
        "markdown/grid-substations-2024-06.markdown",
        "native/baltic-cable-no-source.txt",
        "native/cisa-pipeline-ransomware-2022.txt",
        "native/mod-corruption-2024-07.txt",
        "native/reuters-grain-2023.txt",
        "native/undated-armour-assessment.txt",
    ]
    first = files[0]
    assert first.path == DATA / first.relpath and first.path.is_absolute()
    assert first.size == first.path.stat().st_size
    assert first.signature == f"{first.size}:{first.path.stat().st_mtime_ns}"


@pytest.mark.parametrize(
    ("report_id", "date", "source", "topics"),
    [
        ("native/mod-corruption-2024-07", "2024-07-21", "UK Ministry of Defence", ("Russia", "defence", "corruption")),
        ("native/reuters-grain-2023", "2023-03-14", "Reuters", ("grain", "Ukraine", "Black Sea")),
        ("native/cisa-pipeline-ransomware-2022", "2022-05-09", "CISA", ("ransomware", "energy", "critical infrastructure")),
        ("native/undated-armour-assessment", None, "UK Ministry of Defence", ()),
        ("native/baltic-cable-no-source", "2024-02-28", UNKNOWN_SOURCE, ()),
        ("markdown/2024-03-drone-attacks", "2024-03-15", "UK Ministry of Defence", ("drones", "Black Sea")),
        ("markdown/grid-substations-2024-06", "2024-06-03", "CISA", ("energy", "power grid")),
        ("feeds/wire-2024:R-2024-0117", "2024-01-17", "Reuters", ("shipping", "Red Sea")),
        ("feeds/wire-2024:R-2024-0409", "2024-04-09", "Reuters", ("elections", "India")),
        ("feeds/wire-2024:3", "2023-11-02", "CISA", ()),
        ("feeds/wire-2024:1042", "2022-09-14", "Reuters", ("coffee", "Brazil")),
        ("feeds/advisories-2024:ICSA-24-226-01", "2024-08-13", "CISA", ("energy", "critical manufacturing")),
        ("feeds/advisories-2024:AA24-290A", "2024-10-16", "CISA", ("phishing", "healthcare")),
    ],
)
def test_test_corpus_table(report_id: str, date: str | None, source: str, topics: tuple[str, ...]) -> None:
    report = load_test_corpus()[report_id]
    assert report.date == (dt.date.fromisoformat(date) if date else None)
    assert report.source == source
    assert report.topics == topics
    assert report.title and report.body


def test_test_corpus_details() -> None:
    reports = load_test_corpus()
    assert len(reports) == 13
    mod = reports["native/mod-corruption-2024-07"]
    assert mod.title == "Defence ministry purge widens as corruption cases reach Rostov-on-Don"
    assert {"corrupted", "corruption", "Rostov-on-Don"} <= set(mod.body.replace(".", " ").split())
    pipeline = [r.id for r in reports.values() if "pipeline" in r.body and "ransomware" in r.body]
    assert pipeline == ["native/cisa-pipeline-ransomware-2022"]
    assert reports["native/cisa-pipeline-ransomware-2022"].author == "CISA Cybersecurity Division"
    assert reports["native/baltic-cable-no-source"].extra == {"region": "Baltic Sea"}
    assert reports["native/undated-armour-assessment"].title.startswith("Weekly assessment: Russian armour")
    drones = reports["markdown/2024-03-drone-attacks"]
    assert drones.url == "https://www.gov.uk/example/defence-intelligence-update-2024-03-15"
    assert drones.author == "Defence Intelligence"
    assert drones.extra == {"classification": "OFFICIAL"}
    grid = reports["markdown/grid-substations-2024-06"]
    assert grid.title == "Grid operators warned about exposed substation controllers"
    assert grid.extra == {"advisory_ids": ["ICSA-24-155-01"]}
    wire = reports["feeds/wire-2024:3"]
    assert (wire.path, wire.line) == ("feeds/wire-2024.jsonl", 3)
    assert reports["feeds/wire-2024:1042"].extra == {"places": ["brazil"]}
    assert reports["feeds/advisories-2024:AA24-290A"].line == 2
    years = {r.date.year for r in reports.values() if r.date}
    months_2024 = {r.date.month for r in reports.values() if r.date and r.date.year == 2024}
    assert years == {2022, 2023, 2024} and len(months_2024) >= 6


def test_test_corpus_gzip_is_deterministic() -> None:
    data = (DATA / "feeds" / "advisories-2024.jsonl.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\x00\x00\x00\x00"  # mtime 0


def test_public_constants() -> None:
    assert SUPPORTED_SUFFIXES == (
        ".txt", ".md", ".markdown", ".jsonl", ".jsonl.gz",
        ".pdf", ".html", ".htm", ".docx", ".doc", ".odt", ".rtf", ".eml", ".msg", ".json",
    )
    assert MAX_FILE_BYTES == 50 * 1024 * 1024


# --- dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-28", dt.date(2024, 7, 28)),
        (" 2024-07-28 ", dt.date(2024, 7, 28)),
        ("2024-07-28T10:00:00Z", dt.date(2024, 7, 28)),
        ("2024-07-19T16:00:00.000Z", dt.date(2024, 7, 19)),
        ("2017-01-10T00:00:00.000000Z", dt.date(2017, 1, 10)),
        ("2024-07-28T23:30:00+05:30", dt.date(2024, 7, 28)),  # the date as written
        ("2024-07-28T01:00:00-08:00", dt.date(2024, 7, 28)),
        ("1987-02-26T15:01:01", dt.date(1987, 2, 26)),
        ("2024/07/28", dt.date(2024, 7, 28)),
        ("28.07.2024", dt.date(2024, 7, 28)),
        ("28 July 2024", dt.date(2024, 7, 28)),
        ("28 Jul 2024", dt.date(2024, 7, 28)),
        ("July 28, 2024", dt.date(2024, 7, 28)),
        ("Jul 28 2024", dt.date(2024, 7, 28)),
        ("september 3rd, 2024", dt.date(2024, 9, 3)),
        ("26-FEB-1987 15:01:01.79", dt.date(1987, 2, 26)),
        ("Mon, 5 Apr 1993 18:01:16 GMT", dt.date(1993, 4, 5)),
        ("1987-04", None),
        ("July 2024", None),
        ("2024", None),
        ("0000-00-00", None),
        ("2024-02-30", None),
        ("2023-02-29", None),
        ("99999-01-01", None),
        ("0999-12-31", None),
        ("31.02.2024", None),
        ("2024-07-28 and more", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_parse_date_passes_dates_through() -> None:
    assert parse_date(dt.date(2024, 2, 29)) == dt.date(2024, 2, 29)
    assert parse_date(dt.datetime(2024, 2, 29, 23, 59)) == dt.date(2024, 2, 29)
    assert parse_date(20240229) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-28 British intelligence", (dt.date(2024, 7, 28), "British intelligence")),
        ("  28 July 2024 Title here", (dt.date(2024, 7, 28), "Title here")),
        ("July 28, 2024 - Title", (dt.date(2024, 7, 28), "Title")),
        ("2024/07/28: Title", (dt.date(2024, 7, 28), "Title")),
        ("28.07.2024 \u2014 Title", (dt.date(2024, 7, 28), "Title")),
        ("2024-07-28T10:00:00Z Title", (dt.date(2024, 7, 28), "Title")),
        ("2024-07-28", (dt.date(2024, 7, 28), "")),
        ("2024-07-281 Title", (None, "2024-07-281 Title")),
        ("2024-02-30 Title", (None, "2024-02-30 Title")),
        ("palm harvest", (None, "palm harvest")),
    ],
)
def test_parse_date_prefix(text: str, expected: tuple[dt.date | None, str]) -> None:
    assert parse_date_prefix(text) == expected


# --- native format -----------------------------------------------------------


@pytest.mark.parametrize(
    "first_line",
    [
        "date 2024-07-28 Grid outage report",
        "  date 2024-07-28 Grid outage report",
        "DATE 2024-07-28 Grid outage report",
        "date: 2024-07-28 Grid outage report",
        "Date: 28 July 2024 Grid outage report",
        "date July 28, 2024 Grid outage report",
        "date 2024/07/28 Grid outage report",
        "date 28.07.2024 Grid outage report",
        "date 2024-07-28T10:00:00Z Grid outage report",
        "date 28 Jul 2024 - Grid outage report",
    ],
)
def test_native_date_line_spellings(tmp_path: Path, first_line: str) -> None:
    report = one_report(tmp_path, "r.txt", f"{first_line}\nSource: CISA\n\nThe body.\n")
    assert (report.date, report.title, report.source, report.body) == (
        dt.date(2024, 7, 28),
        "Grid outage report",
        "CISA",
        "The body.",
    )


def test_native_lenient_headers(tmp_path: Path) -> None:
    text = (
        "\n\n date 2024-07-28   Title   with\tspaces  \n"
        "  SOURCE:    UK   Ministry of Defence  \n"
        "topics : Russia; defence,, russia ;  Black   Sea \n"
        "Url:\thttps://example.org/a\n"
        "author:  Jane Doe\n"
        "Reference Number: ABC-1\n"
        "Source: ignored, the first one wins\n"
        "Body starts here, and this line is no header.\n"
        "Second body line.\n"
    )
    report = one_report(tmp_path, "sub/r.txt", text)
    assert report.id == "sub/r"
    assert report.title == "Title with spaces"
    assert report.source == "UK Ministry of Defence"
    assert report.topics == ("Russia", "defence", "Black Sea")
    assert report.url == "https://example.org/a"
    assert report.author == "Jane Doe"
    assert report.extra == {"reference number": "ABC-1"}
    assert report.body == "Body starts here, and this line is no header.\nSecond body line."


def test_native_headers_stop_at_blank_line(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "date 2024-07-28 T\nSource: A\n\nNote: body, not a header\n")
    assert report.extra == {}
    assert report.body == "Note: body, not a header"


def test_native_url_line_is_not_a_header(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "date 2024-07-28 T\nhttps://example.org/x\n")
    assert report.body == "https://example.org/x"


def test_native_header_date_and_title(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "Title: From a header\nDate: 9 April 2024\nSource: X\n\nBody.")
    assert (report.title, report.date, report.source, report.body) == (
        "From a header",
        dt.date(2024, 4, 9),
        "X",
        "Body.",
    )


def test_native_unreadable_header_date_is_kept_in_extra(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "Plain title\nDate: spring 2024\n\nBody.")
    assert report.date is None
    assert report.extra == {"date": "spring 2024"}


def test_plain_text_first_line_is_title(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "Breaking: grid outage in the north\n\nPower was cut.\n")
    assert (report.title, report.date, report.source) == ("Breaking: grid outage in the north", None, UNKNOWN_SOURCE)
    assert report.extra == {} and report.body == "Power was cut."


def test_date_word_without_a_date_is_a_title(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "Date palm harvest falls\n\nBody.")
    assert (report.title, report.date) == ("Date palm harvest falls", None)


def test_missing_title_comes_from_body_cut_on_a_word(tmp_path: Path) -> None:
    sentence = "Operators reported " + "very " * 40 + "long outages."
    report = one_report(tmp_path, "r.txt", f"Source: CISA\nTopics:\n\n\n{sentence}\nMore.")
    assert report.source == "CISA" and report.topics == ()
    assert report.title == ("Operators reported " + "very " * 20).rstrip() + "\u2026"
    assert len(report.title) <= 120
    assert report.body == f"{sentence}\nMore."


def test_long_first_line_stays_in_the_body(tmp_path: Path) -> None:
    paragraph = "word " * 60
    report = one_report(tmp_path, "r.txt", paragraph)
    assert report.body == paragraph.strip()
    assert report.title.endswith("\u2026") and len(report.title) <= 120


def test_date_line_alone_gives_untitled_report(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", "date 2024-07-28\n")
    assert (report.title, report.body, report.date) == ("(untitled)", "", dt.date(2024, 7, 28))


# --- decoding --------------------------------------------------------------


def test_utf16_with_bom_parses(tmp_path: Path) -> None:
    text = "date 2024-07-28 Caf\u00e9 report\r\nSource: CISA\r\n\r\nBody line\r\n"
    for encoding in ("utf-16", "utf-16-be"):
        data = text.encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        report = one_report(tmp_path, f"{encoding}.txt", data)
        (tmp_path / f"{encoding}.txt").unlink()
        assert (report.title, report.source, report.body) == ("Caf\u00e9 report", "CISA", "Body line")


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.txt", b"\xef\xbb\xbfdate 2024-07-28 T\r\nSource: A\r\n\r\nOne\rTwo\r\n")
    assert (report.title, report.source, report.body) == ("T", "A", "One\nTwo")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"abc\x00def", "binary file, not text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not text"),
        (b"hello \xff world", "not UTF-8 text: invalid byte 0xff at offset 6"),
        (b"\xef\xbb\xbfhi \xc3\x28", "not UTF-8 text: invalid byte 0xc3 at offset 6"),
        (b"", "empty file"),
        (b" \n\t\r\n  ", "empty file"),
        (b"\xef\xbb\xbf\n", "empty file"),
    ],
)
@pytest.mark.parametrize("name", ["bad.txt", "bad.md"])
def test_bad_text_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    error = one_error(tmp_path, name, content)
    assert (error.path, error.reason, error.line) == (name, reason, None)
    assert str(error) == f"{name}: {reason}"


def test_too_large_file_is_not_read(tmp_path: Path) -> None:
    with open(tmp_path / "huge.txt", "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: takes no disk space
    [cf], errors = discover(tmp_path)
    assert errors == [] and cf.size == 200 * 1024 * 1024
    [error] = list(parse_file(cf))
    assert isinstance(error, CorpusError)
    assert (error.path, error.reason) == ("huge.txt", "file too large: 200.0 MiB (limit 50.0 MiB)")


# --- Markdown ----------------------------------------------------------------


def test_markdown_front_matter(tmp_path: Path) -> None:
    text = (
        "---\n"
        "Title: '  Spaced   title '\n"
        "date: 2024-07-28 10:00:00+02:00\n"
        "source: [CISA]\n"
        "topics: ransomware, energy\n"
        "tags: [ignored-because-topics]\n"
        "published: 2024-07-29\n"
        "nested: {a: [1, 2024-01-02]}\n"
        "---\n"
        "# Heading\n\nBody text.\n"
    )
    report = one_report(tmp_path, "a/r.md", text)
    assert report.id == "a/r"
    assert (report.title, report.date, report.source) == ("Spaced title", dt.date(2024, 7, 28), "CISA")
    assert report.topics == ("ransomware", "energy")
    assert report.body == "Heading\n\nBody text."  # indexed without Markdown syntax
    assert report.extra == {
        "tags": ["ignored-because-topics"],
        "published": "2024-07-29",
        "nested": {"a": [1, "2024-01-02"]},
    }
    json.dumps(report.extra)  # JSON-able


def test_markdown_title_from_heading_and_tags(tmp_path: Path) -> None:
    text = "---\ndate: 'July 28, 2024'\ntags: drones; Black Sea\n---\n\nIntro line.\n\n## The  heading ##\n"
    report = one_report(tmp_path, "r.markdown", text)
    assert (report.title, report.date, report.topics) == ("The heading", dt.date(2024, 7, 28), ("drones", "Black Sea"))


def test_markdown_unreadable_date_is_kept(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.md", "---\ndate: 1987-04\n---\nBody")
    assert report.date is None and report.extra == {"date": "1987-04"}
    assert report.title == "Body"


def test_markdown_without_front_matter_reads_like_native(tmp_path: Path) -> None:
    report = one_report(tmp_path, "r.md", "# A heading title\nSource: Reuters\n\nBody.")
    assert (report.title, report.source, report.body) == ("A heading title", "Reuters", "Body.")
    report = one_report(tmp_path / "b", "r.md", "date 2024-07-28 Native style\n\nBody.")
    assert (report.title, report.date) == ("Native style", dt.date(2024, 7, 28))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "---\ntitle: ok\ntopics: [a, b\n---\nBody",
            "invalid YAML front matter: expected ',' or ']', but got '<stream end>' (line 3, column 14)",
        ),
        (
            "---\ntitle: ok\n  bad: indent\n---\nBody",
            "invalid YAML front matter: mapping values are not allowed here (line 3, column 6)",
        ),
        ("---\n- a\n- b\n---\nBody", "invalid YAML front matter: expected 'key: value' lines, got a list"),
        ("---\njust text\n---\nBody", "invalid YAML front matter: expected 'key: value' lines, got a single value"),
        ("---\ndate: 2024-02-30\n---\nBody", "invalid YAML front matter: day is out of range for month"),
        ("---\ntitle: never closed\n\nBody", "invalid YAML front matter: no closing '---' line after line 1"),
    ],
)
def test_markdown_bad_front_matter(tmp_path: Path, text: str, reason: str) -> None:
    error = one_error(tmp_path, "bad.md", text)
    assert (error.path, error.reason, error.line) == ("bad.md", reason, None)


def test_markdown_yaml_alias_bomb_is_rejected(tmp_path: Path) -> None:
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append("title: *a8")  # a billion strings once expanded
    error = one_error(tmp_path, "bomb.md", "\n".join(lines + ["---", "Body"]))
    assert error.reason == "invalid YAML front matter: nested deeper than 64 levels or too many values"


# --- JSON Lines --------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    full = {
        "id": "A",
        "date": "2024-07-19T16:00:00.000Z",
        "source": " CISA ",
        "title": "T",
        "topics": ["x", "x", " "],
        "body": "B",
        "cves": ["CVE-1"],
    }
    no_id = {"title": "no id", "date": None, "topics": "a; b", "author": ["Ann", "Bob"], "url": "https://e.org"}
    empty = {"id": 7, "body": "", "title": ""}
    partial_date = {"id": 7.5, "date": "1958-12", "body": "Only body."}
    text = jsonl(full, no_id) + "\n   \n" + jsonl(empty, partial_date)  # lines 3 and 4 are blank
    items = parse_one(tmp_path, "f/feed.jsonl", text)
    reports = [i for i in items if isinstance(i, Report)]
    assert reports == items
    a, b, c, d = reports
    assert (a.id, a.line, a.path, a.date) == ("f/feed:A", 1, "f/feed.jsonl", dt.date(2024, 7, 19))
    assert (a.source, a.topics, a.title, a.body, a.extra) == ("CISA", ("x",), "T", "B", {"cves": ["CVE-1"]})
    assert (b.id, b.line, b.date, b.topics, b.source) == ("f/feed:2", 2, None, ("a", "b"), UNKNOWN_SOURCE)
    assert (b.author, b.url, b.extra) == ("Ann, Bob", "https://e.org", {})
    assert (c.id, c.line, c.title, c.body) == ("f/feed:7", 5, "(untitled)", "")
    assert (d.id, d.title, d.date, d.extra) == ("f/feed:7.5", "Only body.", None, {"date": "1958-12"})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "x", "title": }', "invalid JSON: Expecting value at column 22"),
        ('{"id": "x" "title": 1}', "invalid JSON: Expecting ',' delimiter at column 12"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"just a string"', "expected a JSON object, got string"),
        ("42", "expected a JSON object, got number"),
        ("null", "expected a JSON object, got null"),
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply (limit 64 levels)"),
        ('{"a": ' + "[" * 64 + "]" * 64 + "}", "JSON nested too deeply (limit 64 levels)"),
        ('{"id": [1], "title": "t"}', "field 'id' must be a string or a number, got list"),
        ('{"title": {"en": "t"}}', "field 'title' must be text, got object"),
        ('{"n": ' + "9" * 5000 + "}", "invalid JSON: Exceeds the limit (4300 digits) for integer string conversion"),
    ],
)
def test_jsonl_bad_line_keeps_the_others(tmp_path: Path, line: str, reason: str) -> None:
    text = jsonl({"id": "a", "title": "first"}) + line + "\n" + jsonl({"id": "b", "title": "third"})
    first, error, third = parse_one(tmp_path, "bad.jsonl", text)
    assert isinstance(error, CorpusError)
    assert (error.path, error.reason, error.line) == ("bad.jsonl", reason, 2)
    assert str(error) == f"bad.jsonl:2: {reason}"
    assert isinstance(first, Report) and isinstance(third, Report)
    assert (first.id, third.id, third.line) == ("bad:a", "bad:b", 3)


def test_jsonl_64_levels_are_fine(tmp_path: Path) -> None:
    report = one_report(tmp_path, "ok.jsonl", '{"a": ' + "[" * 63 + "]" * 63 + "}\n")
    assert report.id == "ok:1"
    assert json.dumps(report.extra) == '{"a": ' + "[" * 63 + "]" * 63 + "}"


def test_jsonl_duplicate_id(tmp_path: Path) -> None:
    text = jsonl({"id": "X", "title": "one"}, {"id": "4"}, {"id": "X", "title": "again"}, {"title": "no id"})
    items = parse_one(tmp_path, "dup.jsonl", text)
    assert [i.id for i in items if isinstance(i, Report)] == ["dup:X", "dup:4"]
    errors = [(e.path, e.reason, e.line) for e in items if isinstance(e, CorpusError)]
    assert errors == [
        ("dup.jsonl", "duplicate id 'X' (first seen on line 1)", 3),
        ("dup.jsonl", "duplicate id '4' (first seen on line 2)", 4),
    ]


def test_jsonl_invalid_utf8_line(tmp_path: Path) -> None:
    data = b'{"id": "a"}\n{"title": "caf\xe9"}\n'
    first, error = parse_one(tmp_path, "enc.jsonl", data)
    assert isinstance(first, Report) and isinstance(error, CorpusError)
    assert (error.reason, error.line) == ("not UTF-8 text: invalid byte 0xe9 at offset 14 of the line", 2)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\x01\x02binary", "binary file, not text"),
        ('{"id": 1}\n'.encode("utf-16"), "UTF-16 text: JSON Lines files must be UTF-8"),
    ],
)
def test_jsonl_not_utf8_text(tmp_path: Path, content: bytes, reason: str) -> None:
    error = one_error(tmp_path, "x.jsonl", content)
    assert (error.reason, error.line) == (reason, None)


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    report = one_report(tmp_path, "x.jsonl", b'\xef\xbb\xbf{"id": "a", "body": "one\\r\\ntwo"}\r\n')
    assert (report.id, report.body) == ("x:a", "one\ntwo")


def test_jsonl_line_too_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_files, "MAX_FILE_BYTES", 1024 * 1024)
    long_line = json.dumps({"id": "big", "body": "x" * (3 * 1024 * 1024 // 2)})
    text = jsonl({"id": "a"}) + long_line + "\n" + jsonl({"id": "c"})
    first, error, third = parse_one(tmp_path, "long.jsonl", text)
    assert isinstance(error, CorpusError)
    assert (error.reason, error.line) == ("line too long: more than 1.0 MiB", 2)
    assert isinstance(first, Report) and isinstance(third, Report)
    assert (first.id, third.id, third.line) == ("long:a", "long:c", 3)


def test_jsonl_gz(tmp_path: Path) -> None:
    data = gzip.compress(jsonl({"id": "a", "title": "A"}, {"id": "b", "title": "B"}).encode(), mtime=0)
    items = parse_one(tmp_path, "d/x.jsonl.gz", data)
    assert len(items) == 2
    assert [(r.id, r.path, r.line) for r in items if isinstance(r, Report)] == [
        ("d/x:a", "d/x.jsonl.gz", 1),
        ("d/x:b", "d/x.jsonl.gz", 2),
    ]


def test_corrupt_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    records = [{"id": i, "title": f"t{i}", "body": "x" * 200} for i in range(50)]
    data = gzip.compress(jsonl(*records).encode(), mtime=0)
    items = parse_one(tmp_path, "cut.jsonl.gz", data[: len(data) // 2])
    reports = [r for r in items[:-1] if isinstance(r, Report)]
    error = items[-1]
    assert reports and reports == items[:-1]
    assert [r.id for r in reports] == [f"cut:{i}" for i in range(len(reports))]
    assert isinstance(error, CorpusError) and error.line is None
    assert error.reason == (
        f"corrupt gzip file after line {len(reports)}: "
        "compressed file ended before the end-of-stream marker was reached"
    )


def test_not_a_gzip_file(tmp_path: Path) -> None:
    error = one_error(tmp_path, "x.jsonl.gz", b'{"id": 1}\n')
    assert error.reason == "corrupt gzip file: not a gzipped file (b'{\"')"


# --- discovery -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [("notes.xyz", "'.xyz'"), ("data.tar.gz", "'.tar.gz'"), ("report.PPTX", "'.PPTX'"), ("Makefile", "without an extension")],
)
def test_unsupported_suffix(tmp_path: Path, name: str, shown: str) -> None:
    write(tmp_path, f"sub/{name}", "text")
    files, errors = discover(tmp_path)
    assert files == []
    assert [(e.path, e.reason) for e in errors] == [(f"sub/{name}", f"unsupported file type {shown} {EXPECTED}")]


def test_suffixes_are_matched_in_any_case(tmp_path: Path) -> None:
    report = one_report(tmp_path, "UPPER.TXT", "Title\n\nBody")
    assert report.id == "UPPER"


def test_readme_is_not_skipped_but_hidden_files_are(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# Readme\n")
    write(tmp_path, ".hidden.txt", "x")
    write(tmp_path, ".git/config.txt", "x")
    write(tmp_path, "sub/.cache/x.jsonl", "{}")
    files, errors = discover(tmp_path)
    assert [f.relpath for f in files] == ["README.md"] and errors == []


def test_sorted_by_relpath(tmp_path: Path) -> None:
    for name in ["b.txt", "a/z.txt", "a-b.txt", "A.txt", "a/b/c.md"]:
        write(tmp_path, name, "x")
    files, _ = discover(tmp_path)
    relpaths = [f.relpath for f in files]
    assert relpaths == sorted(relpaths) == ["A.txt", "a-b.txt", "a/b/c.md", "a/z.txt", "b.txt"]


def test_symlinks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = write(tmp_path, "outside/secret.txt", "secret")
    write(corpus, "real/inside.txt", "Inside\n\nBody")
    (corpus / "out-file.txt").symlink_to(outside)
    (corpus / "out-dir").symlink_to(outside.parent, target_is_directory=True)
    (corpus / "in-file.txt").symlink_to(corpus / "real" / "inside.txt")
    (corpus / "in-dir").symlink_to(Path("real"), target_is_directory=True)
    (corpus / "broken.txt").symlink_to(corpus / "missing.txt")
    (corpus / "real" / "loop").symlink_to(Path(".."), target_is_directory=True)
    files, errors = discover(corpus)
    assert [f.relpath for f in files] == ["in-dir/inside.txt", "in-file.txt", "real/inside.txt"]
    assert [(e.path, e.reason) for e in errors] == [
        ("broken.txt", "broken symbolic link: its target does not exist"),
        ("in-dir/loop", "symbolic link to a folder containing it (a loop): not followed"),
        ("out-dir", "symbolic link pointing outside the corpus: not followed"),
        ("out-file.txt", "symbolic link pointing outside the corpus: not followed"),
        ("real/loop", "symbolic link to a folder containing it (a loop): not followed"),
    ]
    assert files[0].path == corpus / "in-dir" / "inside.txt"


def test_corpus_reached_through_a_symlink(tmp_path: Path) -> None:
    write(tmp_path, "real/a.txt", "A")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    files, errors = discover(tmp_path / "link")
    assert [f.path for f in files] == [tmp_path / "link" / "a.txt"] and errors == []


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.txt", "secret")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions (root)")
        files, errors = discover(tmp_path)
        assert files == []
        assert [(e.path, e.reason) for e in errors] == [("locked.txt", "permission denied")]
    finally:
        path.chmod(0o644)


def test_unreadable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    write(folder, "a.txt", "x")
    folder.chmod(0)
    try:
        if os.access(folder, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions (root)")
        files, errors = discover(tmp_path)
        assert files == [] and [(e.path, e.reason) for e in errors] == [("locked", "permission denied")]
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    files, errors = discover(tmp_path)
    assert files == [] and [(e.path, e.reason) for e in errors] == [("pipe.txt", "not a regular file")]


def test_bad_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as missing:
        discover(tmp_path / "nope")
    assert (missing.value.path, missing.value.reason) == (str(tmp_path / "nope"), "corpus folder does not exist")
    write(tmp_path, "file.txt", "x")
    with pytest.raises(CorpusError) as not_dir:
        discover(tmp_path / "file.txt")
    assert str(not_dir.value) == f"{tmp_path / 'file.txt'}: is not a folder"


def test_parse_file_reports_a_vanished_file(tmp_path: Path) -> None:
    for name in ("gone.txt", "gone.jsonl"):
        write(tmp_path, name, "x")
    files, _ = discover(tmp_path)
    for cf in files:
        cf.path.unlink()
    items = [item for cf in files for item in parse_file(cf)]
    assert len(items) == 2
    assert [(e.path, e.reason) for e in items if isinstance(e, CorpusError)] == [
        ("gone.jsonl", "no such file or directory"),
        ("gone.txt", "no such file or directory"),
    ]


# --- the real corpora --------------------------------------------------------


@pytest.mark.corpora
@pytest.mark.parametrize(
    ("folder", "count", "undated"),
    [("reuters21578", 21578, 1), ("cisa-csaf-advisories", 2383, 0)],
)
def test_real_jsonl_corpora_parse_cleanly(
    shared_corpora: Path, folder: str, count: int, undated: int
) -> None:
    [cf] = [f for f in discover(shared_corpora / folder)[0] if f.relpath.endswith(".jsonl.gz")]
    items = list(parse_file(cf))
    assert [i for i in items if isinstance(i, CorpusError)] == []
    reports = [i for i in items if isinstance(i, Report)]
    assert len(reports) == count
    assert len({r.id for r in reports}) == count
    assert sum(r.date is None for r in reports) == undated


def test_markdown_front_matter_nested_5000_deep_is_refused_before_yaml(tmp_path: Path) -> None:
    """PyYAML spends seconds on 5,000 flow levels before its RecursionError: refused on a count first."""
    error = one_error(tmp_path, "deep.md", "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n# T\n\nBody.")
    assert error.reason == "invalid YAML front matter: nested deeper than 64 levels or too many values"
    (report,) = parse_files(tmp_path / "ok", {"ok.md": "---\nx: " + "[" * 64 + "]" * 64 + "\ntitle: Fine\n---\nBody."})
    assert report.title == "Fine"


def test_a_jsonl_record_of_a_markdown_file_is_read_as_markdown(tmp_path: Path) -> None:
    body = ("[Citation](https://x.example#c)[Subscribe](https://x.example/alerts)\n"
            "# Gootloader Advisory - 20221028001\n\n## Overview\n\nSince **19 August** the "
            "[WA SOC](https://soc.example/) has seen _Ouellette__ v. Mills_.\n")
    md, plain, said = (parse_one(tmp_path, "feed.jsonl", jsonl(
        {"id": "a", "file": "20221028001-advisory.md", "body": body},
        {"id": "b", "body": body},
        {"id": "c", "format": "Markdown", "body": body}))[i] for i in range(3))
    assert md.body == ("Gootloader Advisory - 20221028001\n\nOverview\n\n"
                       "Since 19 August the WA SOC has seen Ouellette v. Mills.")
    assert "<h2>Overview</h2>" in md.html and 'rel="noopener nofollow"' in md.html
    assert "Citation" not in md.html and said.body == md.body
    assert plain.body == body.strip() and plain.html is None  # no sign of Markdown: as written
