"""Reading corpus files for the indexer, safely and once.

- Every parser but the streaming ones (JSON Lines, plain text) runs in a helper
  process (:class:`searchapp.processes.Helper`, one per indexing process, kept
  from file to file) with a time limit per file and a memory bound: a file
  whose parser hangs is stopped after ``timeout_s`` seconds and reported as a
  :class:`CorpusError`, one that needs more than ``memory_mb`` MiB likewise,
  and the rest goes on.
- What the slow formats' content gives (:class:`~searchapp.corpus.Extracted`:
  text, pages, the document's own metadata, attachments) is cached as JSON in
  ``index_dir/text-cache/`` by the file's content hash, its reader and what
  else changes extraction (:func:`extraction_settings`), never its path: a
  ``--full`` rebuild, a schema change or a moved or renamed file reads an
  unchanged file from there instead of extracting it again. What the file's
  place gives (ids, file-name date, folder defaults, sidecar) is added after
  the cache, on every read (:func:`~searchapp.corpus.complete`), so a moved
  file gets the metadata of its new folder. A file with a rejection is not
  kept (the reason may be about this run: a time limit, OCR not installed).
  A full rebuild prunes the entries no file used (:meth:`TextCache.prune`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

from . import analysis, processes
from .corpus import READERS, CorpusFile, Extracted, complete, extract_file, parse_file
from .corpus import ocr
from .corpus.files import MAX_FILE_BYTES, read_bytes
from .corpus.meta import Parsed
from .errors import CorpusError
from .report import ParseWarning, Report

# Bump when a reader's output changes: older cache entries are then not used.
PARSER_VERSION = 2
CACHE_FOLDER = "text-cache"
_TERM_SEPARATOR = "\x1f"
TIMEOUT_S = 60.0
MEMORY_MB = 2048
# Read in a helper process under the limits and cached: extraction costs much
# more than reading the cache. CSAF too, measured on the 2,385 raw CISA files:
# 3.46 s through the helper without the cache, 1.25 s from it (hash, read,
# complete); parsing alone in process 2.62 s (language detection included).
# The others run in the calling process: they stream (JSON Lines) or are cheap
# and simple (text, the rejected .doc/.odt/.rtf).
CACHED_SUFFIXES = tuple(READERS)
# The suffixes that share a reader share cache entries (.htm and .html): one name each.
_READER_NAMES = {s: min(k for k, r in READERS.items() if r is reader) for s, reader in READERS.items()}

Item = Report | CorpusError


class Extractor:
    """The reports of corpus files, read under limits and through the cache.

    :param cache: the text cache, or None for none.
    :param timeout_s: the time limit for reading one file.
    :param memory_mb: how much memory a parser may take beyond what the process holds.
    """

    def __init__(self, cache: "TextCache | None" = None, timeout_s: float = TIMEOUT_S,
                 memory_mb: int = MEMORY_MB) -> None:
        self.cache = cache
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._helper = processes.Helper(_extract, setup=lambda: _bound_memory(memory_mb))

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._helper.close()

    def items(self, cf: CorpusFile) -> Iterator[Item]:
        """What the file's parser yields: reports and rejections, in order."""
        if cf.suffix not in READERS:
            return parse_file(cf)
        found = self.extracted(cf)
        if isinstance(found, CorpusError):
            return iter([found])
        for parsed, terms in zip(found.bodies, found.terms):
            if terms is not None and isinstance(parsed, Parsed):
                analysis.remember(parsed.body, terms)  # the indexer's analyses become look-ups
        return iter(complete(cf, found))

    def extracted(self, cf: CorpusFile) -> Extracted | CorpusError:
        """The first stage of a :data:`~searchapp.corpus.READERS` file: from the
        cache, else extracted under the limits (and then cached)."""
        key = self.cache.key(cf) if self.cache is not None else None
        if isinstance(key, CorpusError):
            return key
        found = self.cache.get(key) if key is not None else None
        if found is not None:
            return found
        found = self._limited(cf)
        # Rejections are not kept: they may be about this run or this machine
        # (a time limit, OCR not installed), and failing is cheap to do again.
        if key is not None and isinstance(found, Extracted) and not found.rejected:
            self.cache.put(key, found)
        return found

    def _limited(self, cf: CorpusFile) -> Extracted | CorpusError:
        try:
            return self._helper.call(cf, self.timeout_s)
        except TimeoutError:
            return CorpusError(cf.relpath, timeout_reason(self.timeout_s))
        except MemoryError:
            return CorpusError(cf.relpath, memory_reason(self.memory_mb))
        except (ChildProcessError, BrokenPipeError) as e:
            return CorpusError(cf.relpath, f"its parser crashed ({e})")


def read_ahead(extractor: Extractor, files: list[CorpusFile], procs: int, tick=None) -> None:
    """Extract the files of the cached formats into the cache on ``procs``
    processes, so that the indexer's passes over them (learning topics, then
    writing) read the cache instead of extracting one file after another.

    :param tick: called in this process as ``tick(relpath, items, True)`` for each file read.
    """
    slow = [cf for cf in files if cf.suffix in CACHED_SUFFIXES]
    if extractor.cache is None or procs < 2 or len(slow) < 2:
        return
    procs = min(procs, len(slow))

    def share(k: int) -> processes.Work:
        def work(send: processes.Send) -> None:
            for cf in slow[k::procs]:
                found = extractor.extracted(cf)
                send((cf.relpath, 1 if isinstance(found, CorpusError) else found.count, True))
        return work

    def message(_number: int, value) -> None:
        if tick is not None:
            tick(*value)

    processes.run([share(k) for k in range(procs)], message, name="reading process")


def timeout_reason(timeout_s: float) -> str:
    return (f"reading it took longer than the time limit of {timeout_s:g} s per file "
            "(setting 'parse_timeout_s'): it was stopped")


def memory_reason(memory_mb: int) -> str:
    return (f"reading it needs more than the memory limit of {memory_mb} MiB per file "
            "(setting 'parse_memory_mb'): it was stopped")


def _extract(cf: CorpusFile) -> Extracted | CorpusError:  # runs in the helper process
    """The file's extraction, with the terms of its bodies (cached with it)."""
    try:
        found = extract_file(cf)
    except CorpusError as e:
        return e
    found.terms = [analysis.analyzed(p.body) if isinstance(p, Parsed) else None for p in found.bodies]
    return found


def _bound_memory(memory_mb: int) -> None:  # runs in the helper process
    """Bound the address space to what the process holds now plus ``memory_mb``."""
    with open("/proc/self/statm") as fh:
        held = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = held + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# -- the text cache -------------------------------------------------------------

def extraction_settings() -> tuple:
    """What changes a reader's output besides the bytes and the reader: the
    cache version, the OCR settings and the analysis (its terms are kept too). The limits (time, memory, sizes) are
    not in it: going over one is a rejection, and rejections are not cached."""
    return PARSER_VERSION, ocr.OCR_DPI, ocr.MAX_OCR_PAGES, analysis.ANALYSIS_KEY


class TextCache:
    """Readers' output as JSON files in ``folder``, one per (content, reader, settings).

    ``hits`` and ``misses`` count this process's look-ups.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.started = time.time()
        self.hits = self.misses = 0
        # (path, size:mtime) -> key: the indexer's passes over a file hash it once.
        self._keys: dict[tuple[str, str], str] = {}

    def key(self, cf: CorpusFile) -> str | CorpusError:
        """The entry's name for ``cf`` (a CorpusError when its bytes cannot be read).

        Not the path: a moved or renamed file has the same key.
        """
        known = self._keys.get((str(cf.path), cf.signature))
        if known is not None:
            return known
        try:
            data = read_bytes(cf, MAX_FILE_BYTES)
        except CorpusError as e:
            return e
        digest = hashlib.sha256(data)
        digest.update(repr((_READER_NAMES[cf.suffix or ""], extraction_settings())).encode())
        self._keys[(str(cf.path), cf.signature)] = key = digest.hexdigest()
        return key

    def get(self, key: str) -> Extracted | None:
        path = self.folder / f"{key}.json"
        try:
            found = decode(path.read_text("utf-8"))
            os.utime(path)  # used by this run: kept by prune()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, key: str, extracted: Extracted) -> None:
        """Store ``extracted`` (not when JSON cannot hold it, or the disk is full)."""
        try:
            text = encode(extracted)
        except (TypeError, ValueError):  # a value JSON cannot hold: not cached
            return
        path = self.folder / f"{key}.json"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:  # no fsync: a lost or torn entry is only read again from its file
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, "utf-8")
            os.replace(tmp, path)
        except (OSError, UnicodeEncodeError):  # a lone surrogate: the indexer rejects that report
            tmp.unlink(missing_ok=True)

    def prune(self) -> int:
        """Remove the entries this run did not use (call after a full run); how many."""
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.folder):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < self.started - 1:
                        os.unlink(entry.path)
                        removed += 1
        return removed


def encode(extracted: Extracted) -> str:
    """An extraction without rejections as JSON (dates tagged, so that they come
    back as dates), each part with its body's terms when they were worked out."""
    items = [["", extracted.parsed], *extracted.attachments]
    terms = [_joined(t) for t in extracted.terms] if extracted.terms else [None] * len(items)
    return json.dumps([[name, _plain(parsed), found] for (name, parsed), found in zip(items, terms)],
                      default=_tagged, ensure_ascii=False)


def _joined(terms) -> list | None:
    """A body's terms as [first position, the terms joined by U+001F]: one JSON
    string reads back much faster than a list of them. A term never holds that
    character (not a word character of ``analysis.TOKEN_PATTERN``, and no
    decomposition gives it; a space it may: U+FDFA decomposes into four words)."""
    return None if terms is None else [terms[0], _TERM_SEPARATOR.join(terms[1])]


def _plain(parsed: Parsed) -> dict:
    if not isinstance(parsed, Parsed):
        raise TypeError(f"not an extraction: {type(parsed).__name__}")
    out = {f.name: getattr(parsed, f.name) for f in fields(Parsed)}
    out["warnings"] = [[w.field, w.value, w.reason] for w in parsed.warnings]
    return out


def decode(text: str) -> Extracted:
    parts, terms = [], []
    for name, values, found in json.loads(text, object_hook=_untagged):
        values["warnings"] = [ParseWarning(*w) for w in values["warnings"]]
        values["pages"] = tuple(values["pages"])
        values["date_texts"] = [tuple(t) for t in values["date_texts"]]
        parts.append((name, Parsed(**values)))
        terms.append((found[0], tuple(found[1].split(_TERM_SEPARATOR)) if found[1] else ()) if found else None)
    return Extracted(parts[0][1], parts[1:], terms if any(terms) else [])


def _tagged(value):
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"not JSON: {type(value).__name__}")


def _untagged(obj: dict):
    if len(obj) == 1:
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
    return obj
