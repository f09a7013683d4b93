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

Each format's parser is one function of a :class:`CorpusFile`
(:data:`PARSERS`), so that a worker process can run it under a time limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from searchapp.corpus.csaf import parse_csaf
from searchapp.corpus.dates import parse_date, parse_date_prefix
from searchapp.corpus.docx import parse_docx, unconverted
from searchapp.corpus.email import parse_eml, parse_msg
from searchapp.corpus.files import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    CorpusFile,
    discover,
    suffix_of,
    unsupported,
)
from searchapp.corpus.html import parse_html
from searchapp.corpus.jsonl import parse_jsonl
from searchapp.corpus.markdown import parse_markdown
from searchapp.corpus.native import parse_text
from searchapp.corpus.pdf import parse_pdf
from searchapp.errors import CorpusError
from searchapp.report import ParseWarning, Report

__all__ = [
    "MAX_FILE_BYTES",
    "PARSERS",
    "SUPPORTED_SUFFIXES",
    "CorpusFile",
    "ParseWarning",
    "discover",
    "parse_date",
    "parse_date_prefix",
    "parse_file",
]

Parser = Callable[[CorpusFile], "Report | list[Report]"]

# suffix -> parser of one file: a Report, or a list (a message and its attachments).
PARSERS: dict[str, Parser] = {
    ".txt": parse_text,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".pdf": parse_pdf,
    ".html": parse_html,
    ".htm": parse_html,
    ".docx": parse_docx,
    ".doc": unconverted,
    ".odt": unconverted,
    ".rtf": unconverted,
    ".eml": parse_eml,
    ".msg": parse_msg,
    ".json": parse_csaf,
}


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
    if parser is None:
        yield unsupported(cf.relpath)
        return
    try:
        result = parser(cf)
    except CorpusError as e:
        yield e
        return
    yield from (result if isinstance(result, list) else [result])
