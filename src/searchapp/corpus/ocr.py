"""Optical character recognition of scanned PDF pages with tesseract (pytesseract).

Pages are rendered at :data:`OCR_DPI` and read one by one, each with a time
limit. Nothing is written to disk but tesseract's own temporary files.
"""

from __future__ import annotations

import shutil

import pypdfium2 as pdfium

from searchapp.errors import CorpusError

__all__ = ["MAX_OCR_PAGES", "OCR_DPI", "ocr_available", "ocr_pages"]

OCR_DPI = 200
MAX_OCR_PAGES = 200
PAGE_TIMEOUT_S = 60
NO_TESSERACT = (
    "PDF without a text layer (scanned?) and OCR is not available: "
    "install Debian's tesseract-ocr (apt-get install tesseract-ocr) to have it read"
)


def ocr_available() -> bool:
    """Whether the tesseract program is on the PATH."""
    return shutil.which("tesseract") is not None


def _read(page: pdfium.PdfPage) -> str:
    import pytesseract  # imported here: only scanned PDFs need it

    image = page.render(scale=OCR_DPI / 72).to_pil()
    try:
        return pytesseract.image_to_string(image, timeout=PAGE_TIMEOUT_S).strip()
    finally:
        image.close()


def ocr_pages(pdf: pdfium.PdfDocument, relpath: str) -> list[str]:
    """The text of every page of ``pdf`` by OCR.

    :raises CorpusError: without tesseract, with more than
        :data:`MAX_OCR_PAGES` pages, on a page that takes too long, or when
        OCR finds no text at all.
    """
    if not ocr_available():
        raise CorpusError(relpath, NO_TESSERACT)
    if len(pdf) > MAX_OCR_PAGES:
        raise CorpusError(relpath, f"scanned PDF of {len(pdf):,} pages: OCR is limited to {MAX_OCR_PAGES} pages")
    try:
        texts = [_read(pdf[number]) for number in range(len(pdf))]
    except (RuntimeError, OSError) as e:  # TesseractError, its timeout (a RuntimeError too)
        raise CorpusError(relpath, f"OCR failed: {e}") from e
    if not any(text.strip() for text in texts):
        raise CorpusError(relpath, "PDF without a text layer, and OCR found no text in it")
    return texts
