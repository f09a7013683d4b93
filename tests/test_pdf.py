"""PDF reports (searchapp.corpus.pdf, searchapp.corpus.ocr)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from searchapp.corpus import ocr
from searchapp.report import Report
from tests.make_files import ENCRYPT, make_image_pdf, make_pdf, parse_files


@pytest.fixture
def tesseract() -> None:
    """Skip without Debian's tesseract-ocr, or fail when SEARCHAPP_REQUIRE_OCR=1 (CI installs it)."""
    if not ocr.ocr_available():
        reason = "tesseract-ocr is not installed"
        if os.environ.get("SEARCHAPP_REQUIRE_OCR") == "1":
            pytest.fail(reason + " and SEARCHAPP_REQUIRE_OCR=1", pytrace=False)
        pytest.skip(reason)


def parse(folder: Path, name: str, data) -> list:
    return parse_files(folder, {name: data})


FIRST_PAGE = [(10, "https://example.org"), (10, "Updated April 10, 2026"), (24, "Drone Attacks on"),
              (24, "Black Sea Ports"), (11, "Russia shifted its drone attacks to the ports.")]


def test_text_pages_and_first_page_metadata(tmp_path: Path) -> None:
    pages = [FIRST_PAGE, [(11, "The second page names Odesa.")], [(11, "Third page.")]]
    (report,) = parse(tmp_path, "a/r.pdf", make_pdf(pages, {"CreationDate": "D:20260412093000-04'00'"}))
    assert (report.id, report.format, report.title) == ("a/r", "pdf", "Drone Attacks on Black Sea Ports")
    assert report.date == dt.date(2026, 4, 10)  # stated on the first page, not the creation date
    assert report.extra["pdf_created"] == "2026-04-12" and report.language == "en"
    assert len(report.pages) == 3 and report.pages[0] == 0
    offset = report.body.index("Odesa")
    assert report.page_of(offset) == 2 and report.body[report.pages[1]:].startswith("The second page")
    assert report.page_of(report.body.index("Third")) == 3 and not report.ocr


def test_info_title_and_authors_win_when_plausible(tmp_path: Path) -> None:
    info = {"Title": "Russia's Nuclear Weapons", "Author": "Anya L. Fink, Kelley M. Sayler",
            "CreationDate": "D:20260422110423-04'00'", "ModDate": "D:20260423000000Z"}
    (report,) = parse(tmp_path, "r.pdf", make_pdf([FIRST_PAGE], info))
    assert report.title == "Russia's Nuclear Weapons"
    assert (report.authors, report.author) == (("Anya L. Fink", "Kelley M. Sayler"), "Anya L. Fink")
    assert report.updated == dt.date(2026, 4, 23)


def test_implausible_info_title_gives_way_to_the_heading(tmp_path: Path) -> None:
    info = {"Title": "Microsoft Word - draft7.docx", "Author": "Administrator"}
    (report,) = parse(tmp_path, "r.pdf", make_pdf([FIRST_PAGE], info))
    assert (report.title, report.authors) == ("Drone Attacks on Black Sea Ports", ())


def test_author_information_block(tmp_path: Path) -> None:
    last = [(14, "Author Information"), (10, "Zachary T. Neuhofer"), (10, "Analyst in Agricultural Policy"),
            (10, "Jane Q. Roe"), (10, "Legislative Attorney"), (14, "Disclaimer"), (10, "This document ...")]
    (report,) = parse(tmp_path, "r.pdf", make_pdf([FIRST_PAGE, last]))
    assert report.authors == ("Zachary T. Neuhofer", "Jane Q. Roe")


def test_byline_authors(tmp_path: Path) -> None:
    last = [(11, "The end of the text."), (10, "Gene Falk, Specialist in Social Policy"),
            (10, "Kara Clifford Billings, Analyst in Social Policy"), (10, "Odesa, Ukraine, is a port.")]
    (report,) = parse(tmp_path, "r.pdf", make_pdf([FIRST_PAGE, last]))
    assert report.authors == ("Gene Falk", "Kara Clifford Billings")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (make_pdf([[(10, "secret")]], trailer_extra=ENCRYPT), "password-protected PDF: remove the password to index it"),
        (b"%PDF-1.4\nnot really a PDF", "not a readable PDF (corrupt or truncated): Failed to load document (PDFium: Data format error)."),
        (make_pdf([[(10, "Some text.")]])[:200], "not a readable PDF (corrupt or truncated): Failed to load document (PDFium: Data format error)."),
        (make_pdf([[(10, "p")]] * 5001), "PDF has 5,001 pages (limit 5,000)"),
    ],
)
def test_bad_pdfs(tmp_path: Path, data: bytes, reason: str) -> None:
    (error,) = parse(tmp_path, "bad.pdf", data)
    assert (error.path, error.reason) == ("bad.pdf", reason)


def test_empty_pdf_file(tmp_path: Path) -> None:
    (error,) = parse(tmp_path, "e.pdf", b"")
    assert error.reason == "empty file"


def test_scanned_pdf_is_read_by_ocr(tmp_path: Path, tesseract) -> None:
    (report,) = parse(tmp_path, "2024-03-15-scan.pdf", make_image_pdf(["Scanned report about", "drone attacks in 2024"]))
    assert report.ocr and report.body == "Scanned report about\ndrone attacks in 2024"
    assert (report.title, report.date) == ("Scanned report about", dt.date(2024, 3, 15))


def test_scanned_pdf_without_tesseract_says_how_to_enable_ocr(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    (error,) = parse(tmp_path, "scan.pdf", make_image_pdf(["Scanned"]))
    assert error.reason == ("PDF without a text layer (scanned?) and OCR is not available: "
                            "install Debian's tesseract-ocr (apt-get install tesseract-ocr) to have it read")


def test_blank_scanned_pdf(tmp_path: Path, tesseract) -> None:
    (error,) = parse(tmp_path, "blank.pdf", make_image_pdf([]))
    assert error.reason == "PDF without a text layer, and OCR found no text in it"


def test_report_page_of_without_pages() -> None:
    assert Report(id="x", title="t", body="b").page_of(0) is None


def test_ocr_time_limit_per_page(tmp_path: Path, monkeypatch, tesseract) -> None:
    monkeypatch.setattr(ocr, "PAGE_TIMEOUT_S", 0.001)
    (error,) = parse(tmp_path, "slow.pdf", make_image_pdf(["Scanned"]))
    assert error.reason == "OCR of a page took longer than 0.001 s: not read"


def test_objects_nested_5000_deep_do_not_stop_the_reading(tmp_path: Path) -> None:
    """PDFium bounds its own recursion: a trailer entry 5,000 arrays deep is ignored, the text is read."""
    deep = b"[" * 5000 + b"]" * 5000
    data = make_pdf([[(20, "Deep Arrays"), (11, "The text is still read.")]], trailer_extra=b"/Deep " + deep + b" ")
    (report,) = parse_files(tmp_path, {"deep.pdf": data})
    assert (report.title, report.body) == ("Deep Arrays", "Deep Arrays\nThe text is still read.")
