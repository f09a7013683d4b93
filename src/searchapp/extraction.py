"""Reading corpus files for the indexer, safely and once.

- Every parser but the streaming ones (JSON Lines, plain text) runs in a helper
  process (:class:`searchapp.processes.Helper`, one per indexing process, kept
  from file to file) with a time limit per file and a memory bound: a file
  whose parser hangs is stopped after ``timeout_s`` seconds and reported as a
  :class:`CorpusError`, one that needs more than ``memory_mb`` MiB likewise,
  and the rest goes on.
- The output of the slow formats' parsers (the reports of a file) is cached as
  JSON in ``index_dir/text-cache/`` by the file's content hash, its path, its
  metadata files (folder defaults and sidecar, which complete the reports) and
  :data:`PARSER_VERSION`: a ``--full`` rebuild or a schema change reads an
  unchanged file from there instead of extracting it again. A file with a
  rejection is not kept (the reason may be about this run: a time limit, OCR
  not installed). A full rebuild prunes the entries no file used
  (:meth:`TextCache.prune`).
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

from . import processes
from .corpus import CorpusFile, parse_file
from .corpus.files import MAX_FILE_BYTES, corpus_root, read_bytes
from .corpus.meta import folder_defaults
from .errors import CorpusError
from .report import ParseWarning, Report

# Bump when a parser's output changes: older cache entries are then not used.
PARSER_VERSION = 1
CACHE_FOLDER = "text-cache"
TIMEOUT_S = 60.0
MEMORY_MB = 2048
# Run in the calling process: they stream (JSON Lines) or are cheap and simple (text).
_IN_PROCESS = (".jsonl", ".jsonl.gz", ".txt", None)
# Worth caching: extraction costs much more than reading the cache.
CACHED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".eml", ".msg", ".md", ".markdown")
_TUPLES = {f.name for f in fields(Report) if f.type.startswith("tuple")}

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
        self._helper = processes.Helper(_parse_all, setup=lambda: _bound_memory(memory_mb))

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._helper.close()

    def items(self, cf: CorpusFile) -> Iterator[Item]:
        """What the file's parser yields: reports and rejections, in order."""
        if cf.suffix in _IN_PROCESS:
            return parse_file(cf)
        key = self.cache.key(cf) if self.cache is not None and cf.suffix in CACHED_SUFFIXES else None
        if isinstance(key, CorpusError):
            return iter([key])
        found = self.cache.get(key) if key is not None else None
        if found is not None:
            return iter(found)
        items = self._limited(cf)
        # Rejections are not kept: they may be about this run or this machine
        # (a time limit, OCR not installed), and failing is cheap to do again.
        if key is not None and not any(isinstance(i, CorpusError) for i in items):
            self.cache.put(key, items)
        return iter(items)

    def _limited(self, cf: CorpusFile) -> list[Item]:
        try:
            return self._helper.call(cf, self.timeout_s)
        except TimeoutError:
            return [CorpusError(cf.relpath, timeout_reason(self.timeout_s))]
        except MemoryError:
            return [CorpusError(cf.relpath, memory_reason(self.memory_mb))]
        except (ChildProcessError, BrokenPipeError) as e:
            return [CorpusError(cf.relpath, f"its parser crashed ({e})")]


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
                send((cf.relpath, sum(1 for _ in extractor.items(cf)), True))
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


def _parse_all(cf: CorpusFile) -> list[Item]:  # runs in the helper process
    return list(parse_file(cf))


def _bound_memory(memory_mb: int) -> None:  # runs in the helper process
    """Bound the address space to what the process holds now plus ``memory_mb``."""
    with open("/proc/self/statm") as fh:
        held = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = held + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# -- the text cache -------------------------------------------------------------

class TextCache:
    """Parsers' output as JSON files in ``folder``, one per (content, path, metadata, version)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.started = time.time()

    def key(self, cf: CorpusFile) -> str | CorpusError:
        """The entry's name for ``cf`` (a CorpusError when its bytes cannot be read)."""
        try:
            data = read_bytes(cf, MAX_FILE_BYTES)
        except CorpusError as e:
            return e
        defaults = folder_defaults(corpus_root(cf), cf.relpath)
        digest = hashlib.sha256(data)
        digest.update(repr((PARSER_VERSION, cf.relpath, defaults)).encode("utf-8", "backslashreplace"))
        return digest.hexdigest()

    def get(self, key: str) -> list[Report] | None:
        path = self.folder / f"{key}.json"
        try:
            items = decode(path.read_text("utf-8"))
            os.utime(path)  # used by this run: kept by prune()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return items

    def put(self, key: str, items: list[Report]) -> None:
        """Store ``items`` (not when JSON cannot hold them, or the disk is full)."""
        try:
            text = encode(items)
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


def encode(reports: list[Report]) -> str:
    """The reports as JSON (dates tagged, so that they come back as dates)."""
    out = []
    for item in reports:
        report = {f.name: getattr(item, f.name) for f in fields(Report)}
        report["warnings"] = [[w.field, w.value, w.reason] for w in item.warnings]
        out.append(report)
    return json.dumps(out, default=_tagged, ensure_ascii=False)


def decode(text: str) -> list[Report]:
    reports = []
    for report in json.loads(text, object_hook=_untagged):
        report["warnings"] = [ParseWarning(*w) for w in report["warnings"]]
        reports.append(Report(**{k: tuple(v) if k in _TUPLES else v for k, v in report.items()}))
    return reports


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
