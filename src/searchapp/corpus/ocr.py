"""Optical character recognition of scanned PDF pages with tesseract.

Pages are rendered at :data:`OCR_DPI` and given to the ``tesseract`` program
one by one on its standard input (as PNG), the text read from its standard
output, each page with a time limit. Nothing is written to disk (pytesseract
would write every page to a temporary file).
"""

from __future__ import annotations

import io
import shutil
import subprocess

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


def _read(page: pdfium.PdfPage, relpath: str) -> str:
    image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
    png = io.BytesIO()
    try:
        image.save(png, "PNG")
    finally:
        image.close()
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "--dpi", str(OCR_DPI)], input=png.getvalue(),
                              capture_output=True, timeout=PAGE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise CorpusError(relpath, f"OCR of a page took longer than {PAGE_TIMEOUT_S} s: not read") from e
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise CorpusError(relpath, f"OCR failed (tesseract exit status {done.returncode}: {detail[0]})")
    return done.stdout.decode("utf-8", "replace").strip()


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
        texts = [_read(pdf[number], relpath) for number in range(len(pdf))]
    except OSError as e:
        raise CorpusError(relpath, f"OCR failed: {e.strerror or e}") from e
    if not any(text.strip() for text in texts):
        raise CorpusError(relpath, "PDF without a text layer, and OCR found no text in it")
    return texts
