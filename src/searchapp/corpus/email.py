"""E-mail messages: ``.eml`` (the standard library's ``email``) and ``.msg``
(Outlook, python-oxmsg).

Subject as title, ``Date`` as date, the sender as author, the plain text body
(else the HTML body rendered to text). Attachments in a supported format
become reports of their own with the id ``<message id>/<attachment name>``,
``parent`` set to the message and ``attachment`` to their name; the message
lists them in ``attachments``. Attachment names are sanitised (no folders, no
control characters, no leading dots, at most :data:`MAX_NAME_CHARS`
characters; duplicates numbered), and nothing is ever written to disk.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import io
import re
from collections.abc import Callable
from pathlib import Path

from searchapp.corpus.files import MAX_FILE_BYTES, CorpusFile, read_bytes
from searchapp.corpus.meta import Parsed
from searchapp.corpus.staged import Extracted
from searchapp.errors import CorpusError
from searchapp.report import ParseWarning

__all__ = ["MAX_ATTACHMENTS", "attachment_bytes", "extract_eml", "extract_msg", "safe_name"]

MAX_ATTACHMENTS = 100
MAX_NAME_CHARS = 100
MAX_MULTIPARTS = 100  # multipart sections in one message (a flat one with many attachments has one)
_MULTIPART = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*\\]")
Attachment = tuple[str, bytes]


def safe_name(name: str | None, number: int) -> str:
    """A harmless file name for an attachment: its last path part, cleaned.

    >>> safe_name("../../etc/passwd", 1)
    'passwd'
    >>> safe_name("..", 2)
    'attachment-2'
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    if len(base) > MAX_NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: MAX_NAME_CHARS - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 10 else base[:MAX_NAME_CHARS]
    return base or f"attachment-{number}"


def _sender(value: str | None) -> str | None:
    if not value:
        return None
    name, address = email.utils.parseaddr(value)
    return name.strip() or address.strip() or value.strip()


def _message_date(parsed: Parsed, value: str | None) -> None:
    if not value:
        return
    try:
        parsed.take("date", email.utils.parsedate_to_datetime(value).date())
    except (TypeError, ValueError, IndexError):
        parsed.take("date", value)  # read (and warned about) by the cascade


def _eml_body(message: email.message.EmailMessage) -> tuple[str, list[ParseWarning]]:
    from searchapp.corpus.html import html_to_text

    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", []
    warnings = []
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        charset = part.get_content_charset() or "none"
        warnings.append(ParseWarning("body", f"charset {charset}", "not a character set searchapp knows: "
                                     "read as UTF-8, what is not UTF-8 replaced by U+FFFD"))
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return html_to_text(content) if part.get_content_type() == "text/html" else content, warnings


def _check_nesting(data: bytes, relpath: str) -> None:
    """Refuse before parsing what is nested too deeply (the parser's time grows with the square of it)."""
    sections = len(_MULTIPART.findall(data))
    if sections > MAX_MULTIPARTS:
        raise CorpusError(relpath, f"e-mail message with {sections:,} multipart sections (limit "
                                   f"{MAX_MULTIPARTS}): refused, parts nested this deep cannot be read safely")


def read_eml(data: bytes, relpath: str) -> tuple[Parsed, list[Attachment]]:
    """Read an ``.eml`` message and its attachments (name, bytes)."""
    _check_nesting(data, relpath)
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        body, warnings = _eml_body(message)  # type: ignore[arg-type]
        attachments = [(part.get_filename() or "", part.get_payload(decode=True) or b"")
                       for part in message.iter_attachments()]  # type: ignore[attr-defined]
    except RecursionError:
        raise CorpusError(relpath, "e-mail message nested too deeply (parts within parts): refused") from None
    except (LookupError, ValueError, TypeError, IndexError) as e:
        raise CorpusError(relpath, f"not a readable e-mail message: {e}") from e
    if not message.keys():
        raise CorpusError(relpath, "not an e-mail message: no headers")
    parsed = Parsed(body=body, format="email", headers_read=True, title=message.get("subject"), warnings=warnings)
    parsed.take("authors", _sender(message.get("from")))
    _message_date(parsed, message.get("date"))
    return parsed, attachments


def read_msg(data: bytes, relpath: str) -> tuple[Parsed, list[Attachment]]:
    """Read an Outlook ``.msg`` message and its attachments (name, bytes)."""
    from oxmsg import Message

    from searchapp.corpus.html import html_to_text

    try:
        message = Message.load(io.BytesIO(data))
        body = message.body or ""
        if not body.strip() and message.html_body:
            body = html_to_text(message.html_body)
        attachments = [(a.file_name or "", a.file_bytes or b"") for a in message.attachments]
        subject, sender, sent = message.subject, message.sender, message.sent_date
    except RecursionError:
        raise CorpusError(relpath, "Outlook message nested too deeply (storages within storages): refused") from None
    except Exception as e:  # python-oxmsg and olefile raise many types for a bad file
        raise CorpusError(relpath, f"not a readable Outlook message: {e}") from e
    parsed = Parsed(body=body, format="email", headers_read=True, title=subject or None)
    parsed.take("authors", _sender(sender))
    parsed.take("date", sent.date() if sent else None)
    return parsed, attachments


def _attachment_items(attachments: list[Attachment], relpath: str) -> list[tuple[str, Parsed | CorpusError]]:
    """Each attachment of a format searchapp reads, under its sanitised name, read or rejected."""
    from searchapp.corpus.attachments import read_attachment

    out: list[tuple[str, Parsed | CorpusError]] = []
    for name, data in _named(attachments):
        try:
            parsed = read_attachment(name, data, f"{relpath}/{name}")
        except CorpusError as e:
            out.append((name, e))
            continue
        if parsed is not None:
            out.append((name, parsed))
    return out


def _named(attachments: list[Attachment]):
    """Each attachment (the first ``MAX_ATTACHMENTS``) under its sanitised, unique name."""
    taken: set[str] = set()
    for number, (raw_name, data) in enumerate(attachments[:MAX_ATTACHMENTS], 1):
        name = safe_name(raw_name, number)
        while name in taken:
            name = f"{number}-{name}"
        taken.add(name)
        yield name, data


def attachment_bytes(message_path: Path, name: str) -> bytes | None:
    """The bytes of the attachment named ``name`` (``Report.attachment``) in the
    ``.eml`` or ``.msg`` file at ``message_path``; None when it has none of that name.

    :raises CorpusError: the message cannot be read.
    """
    reader = {".eml": read_eml, ".msg": read_msg}.get(message_path.suffix.lower())
    if reader is None:
        return None
    try:
        with open(message_path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise CorpusError(str(message_path), e.strerror or str(e)) from e
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(str(message_path), f"larger than {MAX_FILE_BYTES} bytes")
    _, attachments = reader(data, message_path.name)
    return next((data for found, data in _named(attachments) if found == name), None)


def _extract(cf: CorpusFile, reader: Callable[[bytes, str], tuple[Parsed, list[Attachment]]]) -> Extracted:
    parsed, attachments = reader(read_bytes(cf, MAX_FILE_BYTES), cf.relpath)
    return Extracted(parsed, _attachment_items(attachments, cf.relpath))


def extract_eml(cf: CorpusFile) -> Extracted:
    """Extract an ``.eml`` file: the message and its attachments (see
    :func:`~searchapp.corpus.staged.complete` for the reports made of them)."""
    return _extract(cf, read_eml)


def extract_msg(cf: CorpusFile) -> Extracted:
    """Extract an Outlook ``.msg`` file, as :func:`extract_eml` does."""
    return _extract(cf, read_msg)
