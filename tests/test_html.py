"""Saved web pages (searchapp.corpus.html)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.make_files import parse_files

PARAGRAPH = "Russian forces shifted their drone attacks to the Black Sea ports during the week. " * 6
PAGE = f"""<!DOCTYPE html><html lang="en"><head><title>Drones | Site X</title>
<meta name="author" content="Jane Roe"><meta property="og:site_name" content="Site X">
<meta property="article:published_time" content="2024-03-15T10:00:00Z">
<meta property="og:title" content="Drones shift to ports"></head>
<body><nav><a href="/">Home</a> | <a href="/about">About us</a> | Subscribe now</nav>
<article><h1>Drones shift to ports</h1><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>
<script>document.title = "pwned"; alert("x")</script></article>
<footer>Copyright 2024 Site X. All rights reserved.</footer></body></html>"""


def parse(folder: Path, name: str, data) -> list:
    return parse_files(folder, {name: data})


def test_main_text_and_metadata(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "page.html", PAGE)
    assert (report.title, report.source, report.authors) == ("Drones shift to ports", "Site X", ("Jane Roe",))
    assert report.date == dt.date(2024, 3, 15) and report.format == "html" and report.language == "en"
    assert "Black Sea ports" in report.body
    assert "About us" not in report.body and "Copyright" not in report.body
    assert "alert" not in report.body and "pwned" not in report.body


def test_short_page_gives_its_visible_text(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "s.htm", "<html><head><title>Short</title><style>p{}</style></head>"
                                          "<body><p>Only a line.</p><script>x()</script></body></html>")
    assert (report.title, report.body) == ("Short", "Only a line.")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
         "<html><body>&b;</body></html>",
         "the page declares XML entities (<!ENTITY>): refused, their expansion could exhaust memory"),
        ("<div>" * 5000 + "deep" + "</div>" * 5000, "HTML nested 5,000 levels deep (limit 400)"),
        ("<html><body><script>only()</script></body></html>", "web page without text"),
        (b"<html><body>\xff\xfe bad</body></html>", "not UTF-8 text: invalid byte 0xff at offset 12"),
        ('<html><head><meta charset="x-bogus"></head><body><p>Some text.</p></body></html>',
         "cannot decode the page as its declared charset: unknown encoding: x-bogus"),
    ],
)
def test_bad_pages(tmp_path: Path, data, reason: str) -> None:
    (error,) = parse(tmp_path, "bad.html", data)
    assert (error.path, error.reason) == ("bad.html", reason)


def test_declared_charset(tmp_path: Path) -> None:
    data = '<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><p>Un caf\xe9.</p></body></html>'
    (report,) = parse(tmp_path, "c.html", data.encode("latin-1"))
    assert (report.title, report.body) == ("Café", "Un café.")
