"""Markdown as text without syntax and as safe HTML (searchapp.corpus.mdtext, .markdown)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.make_files import parse_files
from searchapp.corpus.mdtext import drop_link_lines, markdown_text, render_html
from searchapp.report import ParseWarning

CRS_LIKE = """# Types of Committee Hearings

**Product Type:** Reports
**Publication Date:** 04/13/2026
**Author(s):** Heitshusen, Valerie; Fink, Anya L.
**Source:** https://www.congress.gov/crs-product/98-317

---
[Citation](https://crs.example#citation)[Subscribe](https://crs.example/alerts)[Share/Save](https://crs.example#share)[Home](https://crs.example/) > [CRS Products](https://crs.example/p) > 98-317

## Background

The court in _Ouellette__ v. Mills_ held it, see [the ruling](https://law.example/o) and `code`.

| Type | Count |
|------|-------|
| Oversight | 4 |
"""


def parse(folder: Path, files: dict[str, str]) -> list:
    return parse_files(folder, files)


def test_crs_like_markdown_with_folder_date_order(tmp_path: Path) -> None:
    folder_toml = 'source = "Congressional Research Service"\ndate_order = "month-first"\n'
    (report,) = parse(tmp_path, {"crs/98-317.md": CRS_LIKE, "crs/_folder.toml": folder_toml})
    assert (report.title, report.date, report.source) == (
        "Types of Committee Hearings", dt.date(2026, 4, 13), "Congressional Research Service")
    assert report.authors == ("Heitshusen, Valerie", "Fink, Anya L.")
    assert report.url == "https://www.congress.gov/crs-product/98-317"
    assert report.extra["product type"] == "Reports" and report.format == "markdown"
    assert report.body == ("Background\n\nThe court in Ouellette v. Mills held it, see the ruling and code.\n\n"
                           "Type\tCount\nOversight\t4")
    assert report.warnings == ()


def test_slashed_date_without_date_order_is_a_warning_not_a_guess(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, {"r.md": "# T\n\nDate: 31/12/2024\n\nBody text."})
    assert report.date is None
    assert report.warnings == (ParseWarning(
        "date", "31/12/2024",
        'day and month order unknown: write it as YYYY-MM-DD, or set date_order = "month-first" '
        '(or "day-first") in _folder.toml'),)
    assert report.extra["date"] == "31/12/2024"


def test_html_rendering_is_safe() -> None:
    source = ('# Title\n\n<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n'
              '[click](javascript:alert(3)) [ok](https://ok.example/a "t") <a href="https://x.example" onclick="evil()">x</a>\n')
    html = render_html(source)
    assert "<script" not in html and "onerror" not in html and "onclick" not in html
    assert 'href="javascript' not in html and "alert(1)" not in html
    assert "<p>[click](javascript:alert(3)) " in html  # markdown-it refuses the link: shown as text
    assert '<a href="https://ok.example/a" title="t" rel="noopener nofollow">ok</a>' in html
    assert "<h1>Title</h1>" in html


def test_text_keeps_words_and_drops_urls_and_markup() -> None:
    text = markdown_text("Some **bold** and *it* and ~~gone~~ [link words](https://u.example/x)\n\n```\nx = 1\n```\n")
    assert text == "Some bold and it and gone link words\n\nx = 1"
    assert markdown_text("A <b>raw</b> tag <script>hidden()</script> here.") == "A raw tag  here."


def test_navigation_lines_are_dropped_links_in_prose_kept() -> None:
    source = ("[Citation](https://a)[Subscribe](https://b)\n[Listen](https://c)\n"
              "- [Download PDF (517KB)](https://d) | [History](https://e)\nText with [a link](https://f) in it.\n")
    assert drop_link_lines(source) == "Text with [a link](https://f) in it.\n"


def test_first_h1_is_the_title_without_front_matter(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, {"2024-07-28-note.md": "Intro paragraph.\n\n## Sub\n\n# Main Title\n\nMore."})
    assert (report.title, report.date) == ("Main Title", dt.date(2024, 7, 28))


def test_front_matter_wins_over_header_lines(tmp_path: Path) -> None:
    text = "---\ntitle: FM title\ndate: 2024-01-02\nauthors: [A. One, B. Two]\n---\n# Heading\nDate: 2023-05-06\n\nBody."
    (report,) = parse(tmp_path, {"r.md": text})
    assert (report.title, report.date, report.authors) == ("FM title", dt.date(2024, 1, 2), ("A. One", "B. Two"))


def test_deep_nesting_is_bounded() -> None:
    # 5,000 levels: what is nested deeper than MAX_NESTING (100) is dropped, never a crash.
    assert markdown_text(">" * 5000 + " deep") == ""
    assert render_html(">" * 5000 + " deep").count("<blockquote>") == 100
    assert markdown_text("[" * 5000 + "x" + "]" * 5000) == "[" * 5000 + "x" + "]" * 5000


def test_overview_table_rows_are_read_a_table_of_the_text_is_not(tmp_path: Path) -> None:
    text = ("# Section 122\n\n| **CRS Product Type:** | In Focus |\n| **Publication Date:** | 2026-04-10 |\n"
            "| Author: | Casey, Christopher A. |\n\nTable 1. Events\n\n| Date | Event |\n|---|---|\n"
            "| 1974 | Enacted |\n")
    (report,) = parse(tmp_path, {"r.md": text})
    assert (report.date, report.authors, report.extra["crs product type"]) == (
        dt.date(2026, 4, 10), ("Casey, Christopher A.",), "In Focus")
    assert report.warnings == ()  # "| Date | Event |" heads a table: not a date "Event"
