"""Hostile corpus files, end to end through ``reindex`` (and ``searchapp reindex``).

One corpus holds every kind of bad file at once next to good ones: binary
files, a 200 MB (sparse) text file, invalid UTF-8 and UTF-16, JSON Lines with
broken lines, deeply nested JSON and YAML, duplicate ids across files,
impossible dates, empty files, odd and undecodable file names, symbolic links
out of the corpus, unreadable files. Each bad one must be reported with its
path and reason, every good report must be indexed and searchable, and nothing
outside the corpus may be opened. The parsers' unit tests (test_corpus.py)
check each reason in isolation; these check that the whole pipeline keeps them
apart.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchapp
from searchapp import SearchIndex, reindex
from searchapp import indexer as indexer_module
from searchapp.cli import main as cli_main
from searchapp.corpus import MAX_FILE_BYTES

MIB = 1024 * 1024
EXPECTED_TYPES = ("(expected .txt, .md, .markdown, .jsonl, .jsonl.gz, .pdf, .html, .htm, .docx, .doc, "
                  ".odt, .rtf, .eml, .msg, .json)")


def write(root: Path, relpath: str | bytes, content: str | bytes) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(root), os.fsencode(relpath))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def native(title: str, body: str, date: str = "2024-05-01", source: str = "Good Desk") -> str:
    return f"date {date} {title}\nSource: {source}\n\n{body}\n"


def deep_json(levels: int) -> str:
    return json.dumps({"id": "deep", "title": "Deep", "body": "x"})[:-1] + ', "x": ' + "[" * levels + "]" * levels + "}"


# -- audit: which files does the process open or list? ----------------------------------

class _Audit:
    active = False
    seen: list[str] = []

    @classmethod
    def hook(cls, event: str, args) -> None:
        if cls.active and event in ("open", "os.scandir", "os.listdir") and args and args[0] is not None:
            path = args[0]
            if isinstance(path, (str, bytes, os.PathLike)):
                cls.seen.append(os.fsdecode(path))


sys.addaudithook(_Audit.hook)


class audited:
    """Record the paths opened or listed inside the block."""

    def __enter__(self) -> list[str]:
        _Audit.seen = []
        _Audit.active = True
        return _Audit.seen

    def __exit__(self, *exc) -> None:
        _Audit.active = False


def bytes_read() -> int:
    """Bytes this process has read so far (Linux /proc/self/io), or -1."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


# -- the corpus ---------------------------------------------------------------------------

GOOD_IDS = {
    "good/plain", "good/notes", "good/feed:1", "good/feed:2", "good/feed:3",
    "good/utf16le", "good/utf16be", "good/bom-crlf", "good/late-nul",
    "names/new\nline", "names/tab\tname", "names/ spaces ", "names/-rf", "names/ünïcödé",
    "links/inside-link", "bad/mixed:m1", "bad/mixed:m7",
    "dup/a:1", "dup/a:2", "dup/b",
    "dates/zero", "dates/huge-year", "dates/feb30", "dates/max", "dates/min", "dates/feed:z", "dates/feed:y",
    "dates/front",
}


def build_hostile_corpus(root: Path, outside: Path) -> dict[tuple[str, int | None], str]:
    """Write the corpus; return the expected rejections {(path, line): reason}."""
    secret = "OUTSIDE-SECRET-WORD"
    write(outside, "secret.txt", native("Secret", f"{secret} must never be indexed"))
    write(outside, "dir/also-secret.txt", native("Also secret", secret))

    # Good files, some in unusual but valid encodings.
    write(root, "good/plain.txt", native("Plain good report", "apples and pears"))
    write(root, "good/notes.md", "---\ntitle: Good notes\ndate: 2024-05-02\nsource: Good Desk\n---\nkiwis\n")
    write(root, "good/feed.jsonl", "".join(json.dumps({"id": str(i), "title": f"Feed {i}", "body": "plums",
                                                       "source": "Good Desk"}) + "\n" for i in (1, 2, 3)))
    write(root, "good/utf16le.txt", b"\xff\xfe" + native("Sixteen little", "mangoes").encode("utf-16-le"))
    write(root, "good/utf16be.md", b"\xfe\xff" + "---\ntitle: Sixteen big\n---\nlychees\n".encode("utf-16-be"))
    write(root, "good/bom-crlf.txt", b"\xef\xbb\xbf" + native("Bom and crlf", "cherries").replace("\n", "\r\n").encode())
    write(root, "good/late-nul.txt", native("A NUL far in", "figs " * 3000 + "\x00 tail"))  # past the 8 KiB sniff

    rejected: dict[tuple[str, int | None], str] = {}

    def bad(relpath: str, content: str | bytes, reason: str, line: int | None = None) -> None:
        write(root, relpath, content)
        rejected[(relpath, line)] = reason

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    bad("bad/binary.txt", png, "binary file, not text")
    bad("bad/image.md", png, "binary file, not text")
    bad("bad/binary.jsonl", png, "binary file, not text")
    bad("bad/latin1.txt", native("Caf\xe9", "cr\xe8me").encode("latin-1"),
        "not UTF-8 text: invalid byte 0xe9 at offset 19")
    bad("bad/utf16-no-bom.txt", native("No BOM", "x").encode("utf-16-le"), "binary file, not text")
    bad("bad/utf16-odd.txt", b"\xff\xfe" + "Odd".encode("utf-16-le") + b"\x41",
        "not UTF-16 text: truncated data")
    bad("bad/utf16.jsonl", b"\xff\xfe" + '{"id": 1}\n'.encode("utf-16-le"),
        "UTF-16 text: JSON Lines files must be UTF-8")
    bad("bad/empty.txt", b"", "empty file")
    bad("bad/blank.md", b" \n\t\n", "empty file")
    bad("bad/empty.jsonl", b"", "empty file")
    bad("bad/blank.jsonl", b"\n   \n\n", "empty file")
    bad("bad/zero-bytes.jsonl.gz", b"", "empty file")
    bad("bad/empty.jsonl.gz", gzip.compress(b""), "empty file")
    bad("bad/deep.md", "---\ntitle: Deep\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nbody\n",
        "invalid YAML front matter: nested deeper than 64 levels or too many values")
    bad("bad/not-gzip.jsonl.gz", b'{"id": 1}\n', "corrupt gzip file: not a gzipped file (b'{\"')")
    with open(root / "bad" / "huge.txt", "wb") as f:  # 200 MB, sparse: no disk used
        f.truncate(200 * MIB)
    rejected[("bad/huge.txt", None)] = "file too large: 200.0 MiB (limit 50.0 MiB)"
    for name, shown in (("notes.pptx", "'.pptx'"), ("README", "without an extension"),
                        ("archive.tar.gz", "'.tar.gz'")):
        bad(f"bad/{name}", b"whatever", f"unsupported file type {shown} {EXPECTED_TYPES}")

    # JSON Lines with broken lines among good ones: each bad line alone is rejected.
    lines = [
        json.dumps({"id": "m1", "title": "Mixed one", "body": "bananas"}),
        '{"id": "m2", "title": "trunc',
        "[1, 2, 3]",
        json.dumps({"id": {"nested": 1}, "title": "x"}),
        "not json at all",
        deep_json(100_000),
        json.dumps({"id": "m7", "title": "Mixed seven", "body": "bananas too"}),
        json.dumps({"id": "m1", "title": "Same id again"}),
        '{"id": "m9", "title": "caf\xe9"}',  # written as Latin-1 below
        json.dumps({"id": "m10", "title": "big", "n": 0})[:-1].replace("0", "9" * 5000) + "}",
    ]
    data = "\n".join(lines).encode("utf-8").replace("caf\xe9".encode(), b"caf\xe9") + b"\n"
    write(root, "bad/mixed.jsonl", data)
    for line, reason in {
        2: "invalid JSON: Invalid control character at column 29",  # the newline inside the string
        3: "expected a JSON object, got list",
        4: "field 'id' must be a string or a number, got object",
        5: "invalid JSON: Expecting value at column 1",
        6: "JSON nested too deeply (limit 64 levels)",
        8: "duplicate id 'm1' (first seen on line 1)",
        9: "not UTF-8 text: invalid byte 0xe9 at offset 26 of the line",
        10: "invalid JSON: Exceeds the limit (4300 digits) for integer string conversion",
    }.items():
        rejected[("bad/mixed.jsonl", line)] = reason

    # Duplicate ids across files: the first file (in path order) wins, the other is rejected.
    records = "".join(json.dumps({"id": i, "title": f"Dup {i}", "body": "dates"}) + "\n" for i in (1, 2))
    write(root, "dup/a.jsonl", records)
    with gzip.open(root / "dup" / "a.jsonl.gz", "wb") as gz:
        gz.write(records.encode())
    rejected[("dup/a.jsonl.gz", 1)] = "duplicate report id 'dup/a:1' (already in dup/a.jsonl)"
    rejected[("dup/a.jsonl.gz", 2)] = "duplicate report id 'dup/a:2' (already in dup/a.jsonl)"
    write(root, "dup/b.markdown", "---\ntitle: B as Markdown\n---\nb\n")
    write(root, "dup/b.txt", native("B as text", "b"))
    rejected[("dup/b.txt", None)] = "duplicate report id 'dup/b' (already in dup/b.markdown)"

    # Dates nobody can mean: the report is kept, undated, its date text kept with it.
    write(root, "dates/zero.txt", "Zero date\nDate: 0000-00-00\nSource: Date Desk\n\nzero\n")
    write(root, "dates/huge-year.txt", "Huge year\nDate: 99999-01-01\nSource: Date Desk\n\nhuge\n")
    write(root, "dates/feb30.txt", "February 30\nDate: 2024-02-30\nSource: Date Desk\n\nfeb\n")
    write(root, "dates/max.txt", native("Last possible", "max", date="9999-12-31", source="Date Desk"))
    write(root, "dates/min.txt", native("First possible", "min", date="1000-01-01", source="Date Desk"))
    write(root, "dates/feed.jsonl", json.dumps({"id": "z", "title": "Z", "date": "0000-00-00", "source": "Date Desk"})
          + "\n" + json.dumps({"id": "y", "title": "Y", "date": -1e308, "source": "Date Desk"}) + "\n")
    write(root, "dates/front.md", "---\ntitle: Front\ndate: 0999-12-31\nsource: Date Desk\n---\nfront\n")

    # File names: odd but valid ones are fine.
    for name in ("new\nline", "tab\tname", " spaces ", "-rf", "ünïcödé"):
        write(root, f"names/{name}.txt", native(f"Named {name!r}", "odd names"))

    # Symbolic links: inside is followed, anything else is reported and never read.
    links = root / "links"
    write(root, "links/real.txt", native("Real", "inside")).unlink()  # the folder only
    (links / "inside-link.txt").symlink_to(root / "good" / "plain.txt")
    (links / "secret.txt").symlink_to(outside / "secret.txt")
    (links / "secret-dir").symlink_to(outside / "dir", target_is_directory=True)
    (links / "passwd.txt").symlink_to("/etc/passwd")
    (links / "hop.txt").symlink_to(links / "secret.txt")  # a link to a link going out
    (links / "dotdot.txt").symlink_to(Path("..") / ".." / outside.name / "secret.txt")
    (links / "broken.txt").symlink_to(links / "missing.txt")
    out = "symbolic link pointing outside the corpus: not followed"
    for name in ("secret.txt", "secret-dir", "passwd.txt", "hop.txt", "dotdot.txt"):
        rejected[(f"links/{name}", None)] = out
    rejected[("links/broken.txt", None)] = "broken symbolic link: its target does not exist"
    write(root, ".hidden/secret.txt", native("Hidden", "never looked at"))  # skipped, by design
    return rejected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root, outside = base / "corpus", base / "outside"
    rejected = build_hostile_corpus(root, outside)
    index_dir = base / "index"
    read_before = bytes_read()
    with audited() as opened:
        summary = reindex(root, index_dir, procs=1)
    read = bytes_read() - read_before if read_before >= 0 else -1
    return {"root": root, "outside": outside, "index": index_dir, "rejected": rejected,
            "summary": summary, "opened": list(opened), "read": read}


def test_every_bad_file_is_reported_with_its_path_and_reason(hostile):
    got = {(e.path, e.line): e.reason for e in hostile["summary"].rejected}
    assert got == hostile["rejected"]
    assert len(hostile["summary"].rejected) == len(got)  # each reported once
    tried = sum(len(files) + sum(os.path.islink(os.path.join(folder, d)) for d in dirs)
                for folder, dirs, files in os.walk(hostile["root"]) if ".hidden" not in folder)
    print(f"\nhostile corpus: {tried} files tried, {hostile['summary'].files} parsed, "
          f"{len(got)} rejections (files and lines), {hostile['summary'].total} good reports indexed")


def test_every_good_report_is_indexed_and_searchable(hostile):
    assert hostile["summary"].total == len(GOOD_IDS)
    with SearchIndex.open(hostile["index"]) as index:
        # collapse=False: the link inside the corpus is an exact copy of good/plain, one near-duplicate group
        everything = index.search("", per_page=100, collapse=False)
        assert {hit.id for hit in everything.hits} == GOOD_IDS
        for word, expected in {"apples": {"good/plain", "links/inside-link"}, "mangoes": {"good/utf16le"},
                               "lychees": {"good/utf16be"}, "cherries": {"good/bom-crlf"},
                               "bananas": {"bad/mixed:m1", "bad/mixed:m7"}, "figs": {"good/late-nul"}}.items():
            assert {hit.id for hit in index.search(word, collapse=False).hits} == expected, word
        (plain,) = index.search("apples").hits
        assert plain.similar == 1
        assert index.search("OUTSIDE-SECRET-WORD").total == 0
        assert index.search("never looked at", mode="any").total == 0


def test_impossible_dates_keep_the_report_undated_with_its_date_text(hostile):
    with SearchIndex.open(hostile["index"]) as index:
        dated = index.search("", source="Date Desk", sort="newest", per_page=20)
        assert [(h.id, h.date) for h in dated.hits[:2]] == [("dates/max", "9999-12-31"), ("dates/min", "1000-01-01")]
        assert {h.id for h in dated.hits if h.date is None} == {
            "dates/zero", "dates/huge-year", "dates/feb30", "dates/feed:z", "dates/feed:y", "dates/front"}
        years = {v.value: v.count for v in dated.facets["date"]}
        assert years == {"1000": 1, "9999": 1, "undated": 6}
        assert index.get("dates/zero").meta["extra"] == {"date": "0000-00-00"}
        assert index.get("dates/huge-year").meta["extra"] == {"date": "99999-01-01"}
        assert index.get("dates/feed:y").meta["extra"] == {"date": -1e308}
        assert index.search("", date_from="9999", date_to="9999").total == 1
        assert index.search("", date_from="0001", source="Date Desk").total == 2


def test_nothing_outside_the_corpus_is_opened_or_listed(hostile):
    outside = os.path.realpath(hostile["outside"])
    allowed = (os.path.realpath(hostile["root"]), str(hostile["root"]), os.path.realpath(hostile["index"]),
               str(hostile["index"]))
    opened = hostile["opened"]
    assert opened, "the audit hook saw nothing"
    leaked = [p for p in opened if os.path.realpath(p).startswith(outside) or p == "/etc/passwd"
              or ".hidden" in p]
    assert leaked == []
    package = os.path.dirname(os.path.realpath(searchapp.__file__))  # its own data files
    data_files = [p for p in opened if not p.endswith((".py", ".pyc")) and "site-packages" not in p
                  and not p.startswith((sys.prefix, sys.base_prefix, package))]
    strays = [p for p in data_files if not any(os.path.realpath(p).startswith(a) or p.startswith(a) for a in allowed)]
    assert strays == []


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_the_200_mb_file_is_refused_without_being_read(hostile):
    assert 0 <= hostile["read"] < 20 * MIB, f"read {hostile['read'] / MIB:.1f} MiB for a corpus of 200+ MiB"
    print(f"\nhostile corpus: {hostile['read'] / MIB:.1f} MiB read in all, the 200 MiB file not read")


def test_the_cli_lists_every_rejection_and_exits_0(hostile, tmp_path):
    result = CliRunner().invoke(cli_main, ["reindex", "--corpus", str(hostile["root"]),
                                           "--index", str(tmp_path / "index"), "--procs", "1"])
    assert result.exit_code == 0, result.output
    assert f"rejected ({len(hostile['rejected'])}):" in result.output
    for (path, line), reason in hostile["rejected"].items():
        where = f"{path}:{line}" if line is not None else path
        assert f"    {where}: {reason}\n" in result.output
    assert f"{len(GOOD_IDS)} in the index" in result.output


def test_an_incremental_run_rejects_a_new_duplicate_and_keeps_the_old_report(hostile, tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "first.txt", native("First", "original words"))
    index_dir = tmp_path / "index"
    reindex(corpus, index_dir, procs=1)
    write(corpus, "first.md", "---\ntitle: Impostor\n---\nimpostor words\n")
    summary = reindex(corpus, index_dir, procs=1)
    assert [(e.path, e.reason) for e in summary.rejected] == [
        ("first.md", "duplicate report id 'first' (already in first.txt)")]
    with SearchIndex.open(index_dir) as index:
        assert index.get("first").title == "First" and index.search("impostor").total == 0


# -- text that is not text: lone surrogates, undecodable file names ------------------------

def test_lone_surrogates_are_rejected_per_report_not_fatal(tmp_path):
    """JSON may escape half of a surrogate pair (\\ud800): such a string cannot be
    written as UTF-8, so neither Whoosh nor a web page can hold it."""
    corpus = tmp_path / "corpus"
    records = [
        '{"id": "ok", "title": "Fine", "body": "all good"}',
        '{"id": "t", "title": "half \\ud800 pair", "body": "x"}',
        '{"id": "s", "title": "S", "source": "desk \\udfff", "body": "x"}',
        '{"id": "k", "title": "K", "topics": ["\\ud83d"], "body": "x"}',
        '{"id": "\\udc80", "title": "id", "body": "x"}',
        '{"id": "e", "title": "E", "body": "x", "note": {"deep": ["\\ud800"]}}',
        '{"id": "pair", "title": "A real pair \\ud83d\\ude00", "body": "emoji"}',
    ]
    write(corpus, "feed.jsonl", "\n".join(records) + "\n")
    write(corpus, "front.md", '---\ntitle: "yaml \\ud800 escape"\n---\nbody\n')
    summary = reindex(corpus, tmp_path / "index", procs=1)
    assert {r.id for r in _reports(tmp_path / "index")} == {"feed:ok", "feed:pair"}
    reasons = {(e.path, e.line): e.reason for e in summary.rejected}
    assert reasons == {
        ("feed.jsonl", 2): "text that is not valid Unicode (a lone surrogate) in field 'title'",
        ("feed.jsonl", 3): "text that is not valid Unicode (a lone surrogate) in field 'source'",
        ("feed.jsonl", 4): "text that is not valid Unicode (a lone surrogate) in field 'topic'",
        ("feed.jsonl", 5): "text that is not valid Unicode (a lone surrogate) in field 'id'",
        ("feed.jsonl", 6): "text that is not valid Unicode (a lone surrogate) in field 'meta'",
        ("front.md", None): "text that is not valid Unicode (a lone surrogate) in field 'title'",
    }
    result = CliRunner().invoke(cli_main, ["search", "", "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "good.txt", native("Good", "fine"))
    write(corpus, b"caf\xe9.txt", native("Latin-1 name", "name"))
    write(corpus, b"dir\xff/inside.txt", native("In a Latin-1 folder", "name"))
    summary = reindex(corpus, tmp_path / "index", procs=1)
    assert summary.total == 1
    assert sorted((e.path, e.reason) for e in summary.rejected) == [
        ("caf\ufffd.txt", "name is not valid UTF-8: rename it"),
        ("dir\ufffd", "name is not valid UTF-8: rename it"),
    ]
    result = CliRunner().invoke(cli_main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "i2")])
    assert result.exit_code == 0, result.output
    assert "caf\ufffd.txt: name is not valid UTF-8: rename it" in result.output


def _reports(index_dir: Path):
    with SearchIndex.open(index_dir) as index:
        return index.search("", per_page=100).hits


# -- a file swapped for a link while the reindex runs ---------------------------------------

def test_a_file_swapped_for_a_link_after_discovery_is_not_followed(tmp_path, monkeypatch):
    """Discovery checks links; a file replaced by a link to a secret between
    discovery and reading must not be read through it."""
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    write(outside, "secret.txt", native("Secret", "OUTSIDE-SECRET-WORD"))
    write(corpus, "a.txt", native("A", "fine"))
    write(corpus, "swapped.txt", native("Swapped", "innocent"))
    write(corpus, "feed.jsonl", json.dumps({"id": 1, "title": "Feed", "body": "innocent"}) + "\n")
    write(outside, "secret.jsonl", json.dumps({"id": 1, "title": "S", "body": "OUTSIDE-SECRET-WORD"}) + "\n")
    real_discover = indexer_module.discover

    def discover_then_swap(folder):
        found = real_discover(folder)
        for name in ("swapped.txt", "feed.jsonl"):
            (corpus / name).unlink()
        (corpus / "swapped.txt").symlink_to(outside / "secret.txt")
        (corpus / "feed.jsonl").symlink_to(outside / "secret.jsonl")
        return found

    monkeypatch.setattr(indexer_module, "discover", discover_then_swap)
    with audited() as opened:
        summary = reindex(corpus, tmp_path / "index", procs=1)
    assert [p for p in opened if p.startswith(str(outside))] == []
    with SearchIndex.open(tmp_path / "index") as index:
        assert index.search("OUTSIDE-SECRET-WORD").total == 0
    assert sorted((e.path, e.reason) for e in summary.rejected) == [
        ("feed.jsonl", "the file was replaced while it was being indexed: not read"),
        ("swapped.txt", "the file was replaced while it was being indexed: not read"),
    ]


def test_a_file_swapped_for_a_fifo_after_discovery_is_rejected_without_hanging(tmp_path, monkeypatch):
    """A blocking open() of a FIFO waits for a writer forever, with the lock held."""
    corpus = tmp_path / "corpus"
    write(corpus, "a.txt", native("A", "fine"))
    write(corpus, "pipe.txt", native("Pipe", "innocent"))
    write(corpus, "feed.jsonl", json.dumps({"id": 1, "title": "Feed", "body": "innocent"}) + "\n")
    write(corpus, "feed2.jsonl.gz", gzip.compress(json.dumps({"id": 2, "title": "F", "body": "x"}).encode()))
    real_discover = indexer_module.discover

    def discover_then_swap(folder):
        found = real_discover(folder)
        for name in ("pipe.txt", "feed.jsonl", "feed2.jsonl.gz"):
            (corpus / name).unlink()
            os.mkfifo(corpus / name)
        return found

    monkeypatch.setattr(indexer_module, "discover", discover_then_swap)
    signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(60)  # a hang fails the test instead of the whole run
    try:
        summary = reindex(corpus, tmp_path / "index", procs=1)
    finally:
        signal.alarm(0)
    assert sorted((e.path, e.reason) for e in summary.rejected) == [
        ("feed.jsonl", "the file was replaced while it was being indexed: not read"),
        ("feed2.jsonl.gz", "the file was replaced while it was being indexed: not read"),
        ("pipe.txt", "the file was replaced while it was being indexed: not read"),
    ]
    assert summary.added == 1


# -- unreadable files and folders ---------------------------------------------------------

def _as_nobody() -> bool:
    """In a forked child running as root: become an unprivileged user, so that
    file permissions count. False where that is impossible."""
    try:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    except OSError:
        return False
    return True


def test_unreadable_files_and_folders_are_reported_and_the_rest_indexed():
    base = Path(tempfile.mkdtemp(prefix="searchapp-unreadable-"))  # not under a root-only folder
    try:
        os.chmod(base, 0o755)
        corpus, index_dir = base / "corpus", base / "index"
        write(corpus, "good.txt", native("Good", "readable"))
        write(corpus, "locked.txt", native("Locked", "unreadable")).chmod(0)
        write(corpus, "locked.jsonl", json.dumps({"id": 1, "title": "L"}) + "\n").chmod(0)
        write(corpus, "closed/inside.txt", native("Closed", "unreadable"))
        (corpus / "closed").chmod(0)
        for folder in (corpus, base):
            folder.chmod(0o755)
        index_dir.mkdir(mode=0o777)
        index_dir.chmod(0o777)
        (base / "out").mkdir()
        (base / "out").chmod(0o777)  # where the unprivileged child writes its answer
        result = base / "out" / "result.json"
        if os.geteuid() == 0:
            pid = os.fork()
            if pid == 0:
                code = 3
                try:
                    if _as_nobody():
                        s = reindex(corpus, index_dir, procs=1)
                        result.write_text(json.dumps([s.total, [[e.path, e.reason] for e in s.rejected]]))
                        code = 0
                    else:
                        code = 4
                except BaseException:  # noqa: BLE001 - told to the parent
                    import traceback

                    result.with_suffix(".err").write_text(traceback.format_exc())
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            if os.WEXITSTATUS(status) == 4:
                pytest.skip("cannot drop root privileges here")
            assert os.WEXITSTATUS(status) == 0, result.with_suffix(".err").read_text()
            total, rejected = json.loads(result.read_text())
        else:
            s = reindex(corpus, index_dir, procs=1)
            total, rejected = s.total, [[e.path, e.reason] for e in s.rejected]
        assert total == 1
        assert sorted(map(tuple, rejected)) == [
            ("closed", "permission denied"), ("locked.jsonl", "permission denied"),
            ("locked.txt", "permission denied")]
    finally:
        for path in (base / "corpus" / "closed",):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


# -- a 200 MB JSON Lines file: streamed, memory bounded ---------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc peak-RSS reset")
def test_a_200_mb_jsonl_line_is_streamed_with_bounded_memory(tmp_path):
    """Good lines, then a 200 MB line that never ends (a sparse hole): the good
    lines are indexed, the long line is refused, and memory stays far below 200 MB."""
    corpus = tmp_path / "corpus"
    good = "".join(json.dumps({"id": i, "title": f"Line {i}", "body": "streamed " * 20}) + "\n" for i in range(100))
    path = write(corpus, "big.jsonl", good)
    with open(path, "r+b") as f:
        f.truncate(len(good.encode()) + 200 * MIB)
    result = tmp_path / "result.json"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
            start = _status_kib("VmRSS")
            s = reindex(corpus, tmp_path / "index", procs=1)
            peak = _status_kib("VmHWM")
            result.write_text(json.dumps({"total": s.total, "peak_growth_kib": peak - start,
                                          "rejected": [[e.path, e.line, e.reason] for e in s.rejected],
                                          "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    data = json.loads(result.read_text())
    assert data["total"] == 100
    limit = MAX_FILE_BYTES / MIB
    assert data["rejected"] == [["big.jsonl", 101, f"line too long: more than {limit:.1f} MiB"]]
    growth_mib = data["peak_growth_kib"] / 1024
    print(f"\n200 MiB JSON Lines file: peak memory growth {growth_mib:.0f} MiB")
    assert growth_mib < 150, f"memory grew by {growth_mib:.0f} MiB reading a 200 MiB file"


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)
