"""Word files (``.docx``) with python-docx: paragraphs, headings and tables in
document order; core properties for title, authors, dates and keywords.

The ZIP container is checked before python-docx opens it: at most
:data:`MAX_MEMBERS` members and :data:`MAX_UNPACKED_BYTES` unpacked (a zip
bomb is refused by its declared sizes, and reading stops at the limit if they
lie), no member expanding more than :data:`MAX_RATIO` times, and no XML part
with a document type declaration (OOXML has none; one could declare expanding
entities). lxml refuses XML nested deeper than 256 levels.

``.doc``, ``.odt`` and ``.rtf`` are rejected with a reason: converting them
needs LibreOffice, which searchapp does not run.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import NoReturn

from searchapp.corpus.files import MAX_FILE_BYTES, CorpusFile, read_bytes, size_text
from searchapp.corpus.meta import Parsed
from searchapp.errors import CorpusError

__all__ = ["MAX_UNPACKED_BYTES", "extract_docx", "read_docx", "unconverted"]

MAX_MEMBERS = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed size of one member
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_PROLOG_BYTES = 4096
_HEADING = re.compile(r"(?i)^(?:heading \d|title)$")


def unconverted(cf: CorpusFile) -> NoReturn:
    """``.doc``, ``.odt``, ``.rtf``: always a :class:`CorpusError` with the reason."""
    suffix = cf.relpath.rsplit(".", 1)[-1].lower()
    raise CorpusError(cf.relpath, f"'.{suffix}' files are not read: save it as .docx or PDF "
                                  "(converting it would need LibreOffice, which searchapp does not use)")


def check_container(data: bytes, relpath: str) -> None:
    """Refuse what is not a ZIP, zip bombs, and XML parts with a DOCTYPE."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as e:
        raise CorpusError(relpath, f"not a readable Word file (not a ZIP container: {e})") from e
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise CorpusError(relpath, f"Word file with {len(members):,} parts (limit {MAX_MEMBERS:,}): refused")
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_UNPACKED_BYTES:
            raise CorpusError(relpath, f"Word file unpacking to {size_text(unpacked)} "
                                       f"(limit {size_text(MAX_UNPACKED_BYTES)}): refused as a zip bomb")
        for member in members:
            if member.file_size > MAX_RATIO * max(member.compress_size, 1024):
                raise CorpusError(relpath, f"part {member.filename!r} expands {member.file_size // max(member.compress_size, 1):,} "
                                           f"times (limit {MAX_RATIO}): refused as a zip bomb")
            _check_prolog(archive, member, relpath)


def _check_prolog(archive: zipfile.ZipFile, member: zipfile.ZipInfo, relpath: str) -> None:
    if not member.filename.endswith((".xml", ".rels")):
        return
    try:
        with archive.open(member) as part:
            start = part.read(_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as e:  # RuntimeError: encrypted
        raise CorpusError(relpath, f"not a readable Word file (part {member.filename!r}: {e})") from e
    if _DOCTYPE.search(start):
        raise CorpusError(relpath, f"part {member.filename!r} declares a DOCTYPE or entities: "
                                   "refused, their expansion could exhaust memory")


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells = list(dict.fromkeys(cell.text.strip() for cell in row.cells))  # merged cells repeat
        if any(cells):
            lines.append("\t".join(cells))
    return lines


def _content(document) -> tuple[list[str], str | None]:
    """Body lines in document order, and the first heading."""
    from docx.table import Table

    lines: list[str] = []
    heading = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        text = block.text.strip()
        if text:
            lines.append(text)
            if heading is None and _HEADING.match(block.style.name if block.style else ""):
                heading = text
    return lines, heading


def _properties(parsed: Parsed, document) -> None:
    core = document.core_properties
    parsed.take("title", (core.title or "").strip() or None)
    parsed.take("authors", [a.strip() for a in (core.author or "").split(";") if a.strip()])
    parsed.take("date", core.created.date() if core.created else None)
    parsed.take("updated", core.modified.date() if core.modified else None)
    parsed.take("topics", [k.strip() for k in re.split(r"[;,]", core.keywords or "") if k.strip()])
    parsed.take("language", (core.language or "").split("-")[0].lower() or None)
    if core.subject:
        parsed.extra["subject"] = core.subject


def read_docx(data: bytes, relpath: str) -> Parsed:
    """Read a Word file's text and core properties from its bytes.

    :raises CorpusError: not a ZIP / not a Word file, zip bomb, DOCTYPE,
        XML nested too deeply or otherwise unreadable, no text.
    """
    check_container(data, relpath)
    import docx  # imported here: only Word files need it
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
        lines, heading = _content(document)
    except etree.XMLSyntaxError as e:
        if "Excessive depth" in str(e):
            raise CorpusError(relpath, "Word file with XML nested deeper than 256 levels: refused") from e
        raise CorpusError(relpath, f"not a readable Word file (bad XML: {e})") from e
    except (KeyError, ValueError, zipfile.BadZipFile) as e:
        raise CorpusError(relpath, f"not a readable Word file ({e})") from e
    if not lines:
        raise CorpusError(relpath, "Word file without text")
    parsed = Parsed(body="\n\n".join(lines), format="docx")
    _properties(parsed, document)
    parsed.take("title", heading)
    return parsed


def extract_docx(cf: CorpusFile) -> Parsed:
    """Extract one ``.docx`` file (see :func:`read_docx`)."""
    return read_docx(read_bytes(cf, MAX_FILE_BYTES), cf.relpath)
