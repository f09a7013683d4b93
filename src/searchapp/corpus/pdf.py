"""PDF reports, read page by page with pypdfium2.

The body is the pages' text joined by blank lines; ``Report.pages`` holds the
offset where each page starts, so a hit can name its page.

Metadata, the first found wins: the info dictionary's ``Title`` and
``Author`` when plausible (not empty, not a file name such as ``Microsoft
Word - draft.docx``); else the first page's largest-type lines as the title
and the names under an ``Author Information`` heading as the authors. The
date is the one stated on the first page (``Updated April 10, 2026``), else
the info ``CreationDate`` (when the file was made, which is often days after
the publication); ``ModDate`` is ``updated``.

Password-protected and corrupt files are rejected with that reason. A PDF
without a text layer (scanned) is read by OCR with tesseract
(:mod:`~searchapp.corpus.ocr`) and marked ``ocr``; without tesseract the
reason says how to get it.
"""

from __future__ import annotations

import datetime as dt
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from searchapp.corpus import ocr
from searchapp.corpus.dates import parse_date_prefix
from searchapp.corpus.files import MAX_FILE_BYTES, CorpusFile, read_bytes
from searchapp.corpus.meta import Parsed
from searchapp.corpus.native import collapse
from searchapp.errors import CorpusError

__all__ = ["MAX_PAGES", "extract_pdf", "read_pdf"]

MAX_PAGES = 5000
MIN_TEXT_CHARS = 20  # fewer letters than this on every page: no text layer
MAX_TITLE_CHARS = 300
_PAGE_BREAK = "\n\n"
_IMPLAUSIBLE_TITLE = re.compile(r"(?i)^(?:untitled|microsoft (?:word|powerpoint)\b.*|.*\.(?:docx?|pdf|rtf|odt|indd|tex|txt)|document\d*)$")
_IMPLAUSIBLE_AUTHOR = re.compile(r"(?i)^(?:user|admin(?:istrator)?|owner|author|unknown|windows user)$")
_PDF_DATE = re.compile(r"(?:D:)?(\d{4})(\d{2})(\d{2})")
_DATE_LINE = re.compile(r"(?i)\s*(?:(?:updated|published|revised|issued)\s*:?\s*)?(?P<date>.*)")
_AUTHOR_BLOCK_END = re.compile(r"(?i)^(?:disclaimer|acknowledg(?:e)?ments?|footnotes|notes)$")
_ROLES = ("Specialist", "Analyst", "Legislative", "Attorney", "Senior", "Section", "Research", "Coordinator",
          "Director", "Manager", "Fellow", "Professor", "Economist", "Librarian", "Acting", "Assistant")
_BYLINE = re.compile(r"\s*(?P<name>[A-Z][\w.'\u2019-]+(?: [A-Z][\w.'\u2019-]*){1,4}), (?:%s)\b.{0,80}" % "|".join(_ROLES))
_NOT_TITLE = re.compile(r"(?i)^(?:https?://\S+|\S+\.(?:gov|com|org)\S*|[\W\d_]*)$")


def _open(data: bytes, relpath: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        message = str(e).lower()
        if "password" in message:
            raise CorpusError(relpath, "password-protected PDF: remove the password to index it") from e
        raise CorpusError(relpath, f"not a readable PDF (corrupt or truncated): {e}") from e


def _page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip()
    finally:
        textpage.close()


def _line_sizes(page: pdfium.PdfPage) -> list[tuple[float, str]]:
    """The first page's lines, each with the largest font size in it."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines, start = [], 0
        for line in text.split("\n"):
            sizes = [pdfium_c.FPDFText_GetFontSize(textpage.raw, i) for i in range(start, start + len(line))]
            lines.append((max(sizes, default=0.0), line.strip()))
            start += len(line) + 1
        return lines
    finally:
        textpage.close()


def heading_title(lines: list[tuple[float, str]]) -> str | None:
    """The first run of lines in the page's largest type (a URL or a number is no title)."""
    candidates = [(size, text) for size, text in lines if text and not _NOT_TITLE.fullmatch(text)]
    if not candidates:
        return None
    largest = max(size for size, _ in candidates)
    run: list[str] = []
    for size, text in lines:
        if run and (not text or size < largest * 0.95):
            break
        if text and size >= largest * 0.95 and not _NOT_TITLE.fullmatch(text):
            run.append(text)
    title = collapse(" ".join(run))
    return title if 0 < len(title) <= MAX_TITLE_CHARS else None


def stated_date(lines: list[tuple[float, str]]) -> dt.date | None:
    """A line of the first page that is only a date (``Updated April 10, 2026``)."""
    for _, text in lines[:40]:
        found, rest = parse_date_prefix(_DATE_LINE.fullmatch(text).group("date"))  # type: ignore[union-attr]
        if found is not None and not rest:
            return found
    return None


def block_authors(page_texts: list[str]) -> list[str]:
    """Names listed under an ``Author Information`` heading: name lines and
    role lines alternate (``Zachary T. Neuhofer`` / ``Analyst in ...``)."""
    for text in reversed(page_texts[-3:]):
        lines = [line.strip() for line in text.split("\n")]
        if "Author Information" not in lines:
            continue
        names = []
        block = lines[lines.index("Author Information") + 1 :]
        for number, line in enumerate(x for x in block if x):
            if _AUTHOR_BLOCK_END.match(line):
                break
            if number % 2 == 0 and 1 < len(line.split()) <= 6:
                names.append(line)
        return names
    return []


def byline_authors(page_texts: list[str]) -> list[str]:
    """Names in ``Name, Role`` byline lines near the end (``Gene Falk, Specialist
    in Social Policy``), as short reports end."""
    names: list[str] = []
    for text in page_texts[-2:]:
        names += [m.group("name") for m in map(_BYLINE.fullmatch, text.split("\n")) if m]
    return list(dict.fromkeys(names))


def _info_date(value: str | None) -> dt.date | None:
    match = _PDF_DATE.match(value or "")
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _info(parsed: Parsed, pdf: pdfium.PdfDocument) -> None:
    info = pdf.get_metadata_dict(skip_empty=True)
    title = collapse(info.get("Title", ""))
    if title and not _IMPLAUSIBLE_TITLE.match(title):
        parsed.take("title", title)
    author = collapse(info.get("Author", ""))
    if author and not _IMPLAUSIBLE_AUTHOR.match(author):
        parsed.take("authors", [a.strip() for a in re.split(r"[;,]| and ", author) if a.strip()])
    created = _info_date(info.get("CreationDate"))
    if created is not None:
        parsed.extra["pdf_created"] = created.isoformat()
    parsed.take("updated", _info_date(info.get("ModDate")))


def _texts(pdf: pdfium.PdfDocument, relpath: str) -> list[str]:
    count = len(pdf)
    if count > MAX_PAGES:
        raise CorpusError(relpath, f"PDF has {count:,} pages (limit {MAX_PAGES:,})")
    if count == 0:
        raise CorpusError(relpath, "PDF has no pages")
    return [_page_text(pdf[number]) for number in range(count)]


def _join(page_texts: list[str]) -> tuple[str, tuple[int, ...]]:
    offsets, position = [], 0
    for text in page_texts:
        offsets.append(position)
        position += len(text) + len(_PAGE_BREAK)
    return _PAGE_BREAK.join(page_texts), tuple(offsets)


def read_pdf(data: bytes, relpath: str) -> Parsed:
    """Read a PDF's text, pages and metadata from its bytes.

    :raises CorpusError: password-protected, corrupt, too many pages, or no
        text (scanned) when OCR is not available or finds none.
    """
    pdf = _open(data, relpath)
    try:
        page_texts = _texts(pdf, relpath)
        scanned = all(sum(c.isalnum() for c in t) < MIN_TEXT_CHARS for t in page_texts)
        if scanned:
            page_texts = ocr.ocr_pages(pdf, relpath)
        body, pages = _join(page_texts)
        parsed = Parsed(body=body, format="pdf", pages=pages, ocr=scanned)
        _info(parsed, pdf)
        if not scanned:
            lines = _line_sizes(pdf[0])
            parsed.take("title", heading_title(lines))
            parsed.take("date", stated_date(lines))
        parsed.take("authors", block_authors(page_texts) or byline_authors(page_texts))
        parsed.take("date", _info_date(parsed.extra.get("pdf_created")))
        return parsed
    finally:
        pdf.close()


def extract_pdf(cf: CorpusFile) -> Parsed:
    """Extract one PDF file (see :func:`read_pdf`)."""
    return read_pdf(read_bytes(cf, MAX_FILE_BYTES), cf.relpath)
