"""Finding and parsing report files: corpus folder -> :class:`~searchapp.report.Report`.

>>> files, errors = discover(Path("corpus"))            # doctest: +SKIP
>>> for item in parse_file(files[0]):                   # doctest: +SKIP
...     print(item.id if isinstance(item, Report) else f"skipped {item}")

Formats, one module each: ``.txt`` (:mod:`~searchapp.corpus.native`), ``.md`` /
``.markdown`` (:mod:`~searchapp.corpus.markdown`), ``.jsonl`` / ``.jsonl.gz``
(:mod:`~searchapp.corpus.jsonl`). Bad content never raises here: it comes back
as :class:`~searchapp.errors.CorpusError` items, so that one bad file (or line)
costs only itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from searchapp.corpus.dates import parse_date, parse_date_prefix
from searchapp.corpus.files import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    CorpusFile,
    discover,
    read_text,
    strip_suffix,
    suffix_of,
    unsupported,
)
from searchapp.corpus.jsonl import parse_jsonl
from searchapp.corpus.markdown import parse_markdown
from searchapp.corpus.native import parse_native
from searchapp.errors import CorpusError
from searchapp.report import Report

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "CorpusFile",
    "discover",
    "parse_date",
    "parse_date_prefix",
    "parse_file",
]


def parse_file(cf: CorpusFile) -> Iterator[Report | CorpusError]:
    """Parse one corpus file into its reports.

    Yields a :class:`Report` for every good report and a :class:`CorpusError`
    (``path`` = the relative path, ``line`` set for JSON Lines) for whatever is
    rejected: the whole file, or one line of a JSON Lines file.

    :param cf: a file from :func:`discover`.
    """
    suffix = suffix_of(cf.relpath)
    if suffix in (".jsonl", ".jsonl.gz"):
        yield from parse_jsonl(cf)
        return
    if suffix not in (".txt", ".md", ".markdown"):
        yield unsupported(cf.relpath)
        return
    try:
        text = read_text(cf)
        report_id = strip_suffix(cf.relpath)
        if suffix == ".txt":
            yield parse_native(text, cf.relpath, report_id)
        else:
            yield parse_markdown(text, cf.relpath, report_id)
    except CorpusError as e:
        yield e
