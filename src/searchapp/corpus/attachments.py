"""Reading an e-mail attachment (bytes in memory) with the parser of its format.

An attachment is never written to disk. One inside an attached message is not
read (the attached message's text is), so nesting cannot go deeper than one.
"""

from __future__ import annotations

from collections.abc import Callable

from searchapp.corpus.csaf import read_csaf
from searchapp.corpus.docx import read_docx
from searchapp.corpus.files import MAX_FILE_BYTES, decode_text, size_text
from searchapp.corpus.html import read_html
from searchapp.corpus.meta import Parsed
from searchapp.corpus.pdf import read_pdf
from searchapp.errors import CorpusError

__all__ = ["read_attachment"]


def _text(data: bytes, shown: str) -> Parsed:
    return Parsed(body=decode_text(data, shown), format="text")


def _message(data: bytes, shown: str) -> Parsed:
    from searchapp.corpus.email import read_eml

    return read_eml(data, shown)[0]


def _markdown(data: bytes, shown: str) -> Parsed:
    from searchapp.corpus.mdtext import convert, drop_link_lines

    body, html, heading = convert(drop_link_lines(decode_text(data, shown)))
    return Parsed(body=body, format="markdown", html=html, title=heading)


_READERS: dict[str, Callable[[bytes, str], Parsed]] = {
    ".pdf": read_pdf, ".html": read_html, ".htm": read_html, ".docx": read_docx,
    ".json": read_csaf, ".txt": _text, ".md": _markdown, ".markdown": _markdown, ".eml": _message,
}


def read_attachment(name: str, data: bytes, shown: str) -> Parsed | None:
    """Parse an attachment by its name's suffix; ``None`` for a format searchapp does not read.

    :param shown: the path shown in errors (``<message file>/<name>``).
    :raises CorpusError: as the format's reader does, or when it is too large.
    """
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    reader = _READERS.get(suffix)
    if reader is None:
        return None
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(shown, f"attachment too large: {size_text(len(data))} (limit {size_text(MAX_FILE_BYTES)})")
    if not data:
        raise CorpusError(shown, "empty attachment")
    return reader(data, shown)
