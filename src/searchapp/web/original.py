"""A report's original file: served only from inside the corpus folder, never
from a path in the URL, and never in a way that runs script in the site's origin.

The route looks the report up by its id; its file is the index's
corpus-relative path under the ``corpus`` setting, resolved (symbolic links
too) and refused when it lands outside that folder. Every answer is a download
(``Content-Disposition: attachment``) with ``X-Content-Type-Options: nosniff``,
``Content-Security-Policy: sandbox`` and a Content-Type from a short list of
harmless types (HTML is sent as bytes, never as ``text/html``). A PDF may also
be shown in the browser (``?view=1``, so that ``#page=4`` opens its page 4),
under the same sandbox.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file, url_for
from werkzeug.exceptions import NotFound

from ..results import ReportDetail

# The file's suffix -> the type it is sent as; anything else is plain bytes.
SAFE_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".eml": "message/rfc822",
    ".msg": "application/vnd.ms-outlook",
    ".json": "application/json",
    ".txt": "text/plain",  # send_file adds "; charset=utf-8"
    ".md": "text/plain",
    ".markdown": "text/plain",
}
BYTES = "application/octet-stream"
# No script, no plugin, no form, no same origin: even a file a browser would
# render cannot act as the site.
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
LABELS = {".pdf": "PDF", ".docx": "Word", ".eml": "e-mail", ".msg": "Outlook message", ".json": "JSON",
          ".html": "HTML", ".htm": "HTML", ".md": "Markdown", ".markdown": "Markdown", ".txt": "text"}
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+-]")


@dataclass(frozen=True)
class OriginalFile:
    """What the report page offers: the download link, and the PDF viewer's when it is a PDF."""

    name: str  # the file name it is saved as
    kind: str  # "PDF", "Markdown", ...
    url: str
    view_url: str | None  # a PDF in the browser; add "#page=N"


def offered(corpus: Path, detail: ReportDetail) -> OriginalFile | None:
    """The file the report page offers, or None (a record of a JSON Lines file, a missing file)."""
    try:
        path, name = locate(corpus, detail)
    except NotFound:
        return None
    url = url_for("ui.original_file", report_id=detail.id)
    suffix = Path(name).suffix.lower()
    return OriginalFile(download_name(name), LABELS.get(suffix, "file"), url,
                        f"{url}?view=1" if suffix == ".pdf" else None)


def locate(corpus: Path, detail: ReportDetail) -> tuple[Path | None, str]:
    """The file's path inside ``corpus`` and the name it goes by.

    An attachment of an e-mail has no file of its own (the path is None then,
    and its bytes are read from the message).

    :raises NotFound: a record of a collection file, or no such file inside the corpus.
    """
    if detail.meta.get("line") is not None or detail.format == "jsonl":
        raise NotFound(f"report {detail.id!r} is one record of a collection file, not a file "
                                         "of its own: its JSON is at /api/reports/<id>")
    root = Path(corpus).resolve()
    path = (root / detail.file).resolve() if detail.file else root
    if path == root or not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the original file of report {detail.id!r} is not in the corpus folder")
    attachment = detail.attachment
    if attachment:
        if _attachment_reader() is None:
            raise NotFound(f"the original file of attachment {detail.id!r} cannot be read "
                                             "here: download its message instead")
        return None, attachment
    return path, path.name


def response(corpus: Path, detail: ReportDetail, view: bool = False) -> Response:
    """The file as a download (or a PDF to view), with the headers of :data:`FILE_CSP`.

    :raises NotFound: as :func:`locate`.
    """
    path, name = locate(corpus, detail)
    suffix = Path(name).suffix.lower()
    mimetype = SAFE_TYPES.get(suffix, BYTES)
    if path is None:
        import io

        data = _attachment_reader()(corpus, detail)  # type: ignore[misc]
        if data is None:
            raise NotFound(f"attachment {name!r} is no longer in its message")
        head = data[:1024]
        sent = send_file(io.BytesIO(data), mimetype=mimetype, conditional=False)
    else:  # (send_file's own Content-Disposition, replaced below, needs a name without line breaks)
        with open(path, "rb") as f:
            head = f.read(1024)
        sent = send_file(path, mimetype=mimetype, conditional=True, etag=True, download_name=download_name(name))
    # Only what is truly a PDF is shown in the browser (an attached one too); anything else is a download.
    inline = view and suffix == ".pdf" and head.lstrip().startswith(b"%PDF-")
    sent.headers["Content-Disposition"] = disposition(name, inline)
    sent.headers["Content-Security-Policy"] = FILE_CSP
    sent.headers["X-Content-Type-Options"] = "nosniff"
    sent.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    sent.headers["Cache-Control"] = "private, no-cache"
    return sent


def download_name(name: str) -> str:
    """The last part of ``name`` without control characters, quotes, slashes or leading dots."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C" and c not in "\"'<>:|?*")
    return base.strip().lstrip(".").strip() or "report"


def disposition(name: str, inline: bool = False) -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266): an ASCII name for old
    clients, the full name percent-encoded, neither able to end the header or add a parameter.

    >>> disposition('r\u00e9sum\u00e9 "x".pdf')
    'attachment; filename="resume x.pdf"; filename*=UTF-8\\'\\'r%C3%A9sum%C3%A9%20x.pdf'
    """
    name = download_name(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _UNSAFE_ASCII.sub("_", ascii_name).strip().lstrip(".") or "report"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _attachment_reader():
    """The core's reader of an attachment's bytes, when this version has one (see the report)."""
    try:
        from ..corpus.email import attachment_bytes
    except ImportError:
        return None

    def read(corpus: Path, detail: ReportDetail) -> bytes | None:
        return attachment_bytes(Path(corpus).resolve() / detail.file, detail.attachment)

    return read
