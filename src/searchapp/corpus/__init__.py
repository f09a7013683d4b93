"""Finding and parsing report files: corpus folder -> :class:`~searchapp.report.Report`.

>>> files, errors = discover(Path("corpus"))            # doctest: +SKIP
>>> for item in parse_file(files[0]):                   # doctest: +SKIP
...     print(item.id if isinstance(item, Report) else f"skipped {item}")

Formats, one module each: ``.txt`` (:mod:`~searchapp.corpus.native`), ``.md`` /
``.markdown`` (:mod:`~searchapp.corpus.markdown`), ``.jsonl`` / ``.jsonl.gz``
(:mod:`~searchapp.corpus.jsonl`), ``.pdf`` (:mod:`~searchapp.corpus.pdf`),
``.html`` / ``.htm`` (:mod:`~searchapp.corpus.html`), ``.docx``
(:mod:`~searchapp.corpus.docx`), ``.eml`` / ``.msg``
(:mod:`~searchapp.corpus.email`), CSAF ``.json`` (:mod:`~searchapp.corpus.csaf`).
``.doc``, ``.odt`` and ``.rtf`` are recognised and rejected with a reason.
Every format's metadata is completed the same way (:mod:`~searchapp.corpus.meta`).
Bad content never raises here: it comes back as
:class:`~searchapp.errors.CorpusError` items, so that one bad file (or line)
costs only itself.

The slow formats are read in two stages (:mod:`~searchapp.corpus.staged`):
a reader of the file's content (:data:`READERS`, one function of a
:class:`CorpusFile`, which a helper process runs under a time limit and the
text cache keeps), then :func:`~searchapp.corpus.staged.complete`, which adds
what the file's place gives (ids, file-name date, folder defaults, sidecar).
The others (:data:`PARSERS`) are parsed in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from searchapp.corpus.csaf import extract_csaf
from searchapp.corpus.dates import parse_date, parse_date_prefix
from searchapp.corpus.docx import extract_docx, unconverted
from searchapp.corpus.email import extract_eml, extract_msg
from searchapp.corpus.files import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    CorpusFile,
    discover,
    suffix_of,
    unsupported,
)
from searchapp.corpus.html import extract_html
from searchapp.corpus.jsonl import parse_jsonl
from searchapp.corpus.markdown import extract_markdown
from searchapp.corpus.meta import Parsed, detect
from searchapp.corpus.native import parse_text
from searchapp.corpus.pdf import extract_pdf
from searchapp.corpus.staged import Extracted, complete
from searchapp.errors import CorpusError
from searchapp.report import ParseWarning, Report

__all__ = [
    "MAX_FILE_BYTES",
    "PARSERS",
    "READERS",
    "SUPPORTED_SUFFIXES",
    "CorpusFile",
    "ParseWarning",
    "Extracted",
    "complete",
    "discover",
    "extract_file",
    "parse_date",
    "parse_date_prefix",
    "parse_file",
]

Parser = Callable[[CorpusFile], Report]
Reader = Callable[[CorpusFile], "Parsed | Extracted"]

# suffix -> reader of one file's content: the first, cacheable stage of the slow formats.
READERS: dict[str, Reader] = {
    ".md": extract_markdown,
    ".markdown": extract_markdown,
    ".pdf": extract_pdf,
    ".html": extract_html,
    ".htm": extract_html,
    ".docx": extract_docx,
    ".eml": extract_eml,
    ".msg": extract_msg,
    ".json": extract_csaf,
}

# suffix -> parser of one whole file, for the formats read in one go.
PARSERS: dict[str, Parser] = {
    ".txt": parse_text,
    ".doc": unconverted,
    ".odt": unconverted,
    ".rtf": unconverted,
}


def extract_file(cf: CorpusFile) -> Extracted:
    """The first stage of a file of a :data:`READERS` format: what its content gives.

    :raises CorpusError: the file cannot be read.
    """
    found = READERS[suffix_of(cf.relpath) or ""](cf)
    extracted = found if isinstance(found, Extracted) else Extracted(found)
    for parsed in [extracted.parsed, *(item for _, item in extracted.attachments if isinstance(item, Parsed))]:
        detect(parsed)
    return extracted


def parse_file(cf: CorpusFile) -> Iterator[Report | CorpusError]:
    """Parse one corpus file into its reports.

    Yields a :class:`Report` for every good report and a :class:`CorpusError`
    (``path`` = the relative path, ``line`` set for JSON Lines) for whatever is
    rejected: the whole file, or one line of a JSON Lines file. An e-mail
    yields its message, then its attachments.

    :param cf: a file from :func:`discover`.
    """
    suffix = suffix_of(cf.relpath)
    if suffix in (".jsonl", ".jsonl.gz"):
        yield from parse_jsonl(cf)
        return
    parser = PARSERS.get(suffix or "")
    if parser is None and suffix not in READERS:
        yield unsupported(cf.relpath)
        return
    try:
        result = [parser(cf)] if parser is not None else complete(cf, extract_file(cf))
    except CorpusError as e:
        yield e
        return
    yield from result
