"""Finding report files in a corpus folder and reading their bytes safely.

Nothing here trusts the corpus: symbolic links out of the folder are never
followed, special files (FIFOs, devices) are never opened, a file's size is
checked before it is read, and text is decoded strictly so that a wrong
encoding is reported instead of silently turned into replacement characters.
"""

from __future__ import annotations

import codecs
import gzip
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from searchapp.errors import CorpusError

__all__ = [
    "CorpusFile",
    "MAX_FILE_BYTES",
    "check_identity",
    "SUPPORTED_SUFFIXES",
    "decode_text",
    "discover",
    "iter_lines",
    "open_binary",
    "open_checked",
    "os_reason",
    "read_bytes",
    "read_text",
    "corpus_root",
    "size_text",
    "strip_suffix",
    "suffix_of",
    "unsupported",
    "utf8_problem",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".txt", ".md", ".markdown", ".jsonl", ".jsonl.gz",
    ".pdf", ".html", ".htm", ".docx", ".doc", ".odt", ".rtf", ".eml", ".msg", ".json",
)
# Read only to say why they are not read (no converter installed).
UNCONVERTED_SUFFIXES: tuple[str, ...] = (".doc", ".odt", ".rtf")
# Folder defaults and sidecars (searchapp.corpus.meta): metadata, not reports.
_METADATA_NAMES = ("_folder.toml",)
_METADATA_SUFFIX = ".meta.toml"
MAX_FILE_BYTES = 50 * 1024 * 1024  # 50 MiB: per text file, and per JSON line
SNIFF_BYTES = 8192  # how much of the start is looked at for NUL bytes

_MIB = 1024 * 1024
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".z")
_EXPECTED = "expected " + ", ".join(SUPPORTED_SUFFIXES)


@dataclass(frozen=True)
class CorpusFile:
    """One report file found in the corpus folder."""

    path: Path  # absolute path
    relpath: str  # POSIX path relative to the corpus folder
    size: int
    mtime_ns: int
    # (st_dev, st_ino) of what discovery checked: reading opens only that file.
    identity: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def signature(self) -> str:
        """What changes when the file changes; incremental reindex compares it."""
        return f"{self.size}:{self.mtime_ns}"

    @property
    def suffix(self) -> str | None:
        """The supported suffix of the file (lower case), or ``None``."""
        return suffix_of(self.relpath)


def suffix_of(name: str) -> str | None:
    """Return which of :data:`SUPPORTED_SUFFIXES` ``name`` ends with (any case)."""
    lowered = name.lower()
    # Longest first, so that "x.jsonl.gz" is not taken for something ending in ".gz".
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix) and len(lowered) > len(suffix):
            return suffix
    return None


def size_text(size: int) -> str:
    """Format a byte count in MiB, as in error messages: ``200.0 MiB``."""
    return f"{size / _MIB:.1f} MiB"


def unsupported(relpath: str) -> CorpusError:
    """The error for a file whose type searchapp does not read."""
    stem, suffix = os.path.splitext(relpath.rsplit("/", 1)[-1])
    if suffix.lower() in _COMPRESSED:  # say ".tar.gz", not ".gz"
        suffix = os.path.splitext(stem)[1] + suffix
    what = f"'{suffix}'" if suffix else "without an extension"
    return CorpusError(relpath, f"unsupported file type {what} ({_EXPECTED})")


class _Walk:
    """One walk of a corpus folder; collects files and errors."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.files: list[CorpusFile] = []
        self.errors: list[CorpusError] = []

    def folder(self, folder: Path, relpath: str, ancestors: frozenset[str]) -> None:
        """Walk one folder; ``ancestors`` are the real paths above it (loop guard)."""
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError as e:
            if not relpath:
                raise CorpusError(str(self.root), os_reason(e)) from e
            self.errors.append(CorpusError(relpath, os_reason(e)))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = f"{relpath}/{entry.name}" if relpath else entry.name
            if not _is_utf8(entry.name):  # issue 6: Whoosh and the web need UTF-8 ids
                shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self.errors.append(CorpusError(shown, "name is not valid UTF-8: rename it"))
                continue
            self.entry(entry, path, ancestors)

    def entry(self, entry: os.DirEntry[str], relpath: str, ancestors: frozenset[str]) -> None:
        """Classify one folder entry: recurse, keep, or report why not."""
        real = os.path.realpath(entry.path) if entry.is_symlink() else None
        if real is not None:
            problem = self.link_problem(real, ancestors)
            if problem:
                self.errors.append(CorpusError(relpath, problem))
                return
        try:
            info = os.stat(entry.path)  # follows a link that stays inside
        except OSError as e:
            self.errors.append(CorpusError(relpath, os_reason(e)))
            return
        if stat.S_ISDIR(info.st_mode):
            self.folder(Path(entry.path), relpath, ancestors | {real or os.path.realpath(entry.path)})
        elif entry.name in _METADATA_NAMES or entry.name.lower().endswith(_METADATA_SUFFIX):
            return  # read by the parsers as folder defaults and sidecars
        elif not stat.S_ISREG(info.st_mode):
            self.errors.append(CorpusError(relpath, "not a regular file"))
        elif suffix_of(entry.name) is None:
            self.errors.append(unsupported(relpath))
        else:
            self.regular_file(Path(entry.path), relpath, info)

    def link_problem(self, real: str, ancestors: frozenset[str]) -> str | None:
        """Why a symbolic link must not be followed, or ``None`` if it may be."""
        if not os.path.exists(real):
            return "broken symbolic link: its target does not exist"
        if os.path.commonpath([real, self.real_root]) != self.real_root:
            return "symbolic link pointing outside the corpus: not followed"
        if real in ancestors:
            return "symbolic link to a folder containing it (a loop): not followed"
        return None

    def regular_file(self, path: Path, relpath: str, info: os.stat_result) -> None:
        """Keep a supported file if it can be opened for reading."""
        try:
            os.close(_open_fd(path))
        except OSError as e:
            self.errors.append(CorpusError(relpath, os_reason(e)))
            return
        self.files.append(CorpusFile(path, relpath, info.st_size, info.st_mtime_ns,
                                     (info.st_dev, info.st_ino)))


def discover(corpus_dir: Path) -> tuple[list[CorpusFile], list[CorpusError]]:
    """Find every report file under ``corpus_dir``, recursively.

    Hidden files and folders (name starting with ``.``) are skipped; every other
    entry is either returned as a :class:`CorpusFile` or explained by a
    :class:`CorpusError` (unsupported type, unreadable, broken symbolic link,
    link pointing outside the corpus, special file). Both lists are sorted by
    relative path.

    :param corpus_dir: the corpus folder.
    :returns: ``(files, errors)``.
    :raises CorpusError: if ``corpus_dir`` does not exist, is not a folder or
        cannot be listed.
    """
    root = Path(corpus_dir).absolute()
    if not root.exists():
        raise CorpusError(str(corpus_dir), "corpus folder does not exist")
    if not root.is_dir():
        raise CorpusError(str(corpus_dir), "is not a folder")
    walk = _Walk(root)
    walk.folder(root, "", frozenset({walk.real_root}))
    walk.files.sort(key=lambda f: f.relpath)
    walk.errors.sort(key=lambda e: e.path)
    return walk.files, walk.errors


def read_text(cf: CorpusFile) -> str:
    """Read a whole text file (``.txt``, ``.md``) as a string with ``\\n`` newlines.

    :raises CorpusError: if the file is too large, binary, not UTF-8 / UTF-16,
        empty, or cannot be read.
    """
    try:
        with open_checked(cf) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise CorpusError(cf.relpath, _too_large(size))
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise CorpusError(cf.relpath, os_reason(e)) from e
    if len(data) > MAX_FILE_BYTES:  # it grew since it was measured
        raise CorpusError(cf.relpath, _too_large(len(data)))
    text = decode_text(data, cf.relpath)
    if not text.strip():
        raise CorpusError(cf.relpath, "empty file")
    return text


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # the OS gave undecodable bytes as lone surrogates
        return False
    return True


def check_identity(cf: CorpusFile, fd: int) -> os.stat_result:
    """``fstat`` of an opened corpus file, checked to be the file discovery found.

    A file swapped for a symbolic link (say, to a secret outside the corpus)
    or a FIFO after discovery is refused before a byte of it is read (issue 6).

    :raises CorpusError: it is another file now.
    """
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (
            cf.identity is not None and (info.st_dev, info.st_ino) != cf.identity):
        raise CorpusError(cf.relpath, "the file was replaced while it was being indexed: not read")
    return info


def _open_fd(path: Path) -> int:
    """A read-only descriptor that never blocks on opening: a FIFO swapped in
    would wait forever for a writer. (A symbolic link inside the corpus is
    followed; one swapped in fails the identity check.)"""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


def open_checked(cf: CorpusFile) -> BinaryIO:
    """Open a corpus file for reading bytes, checked to be the file discovery found.

    :raises OSError: it cannot be opened.
    :raises CorpusError: it is another file or not a regular file now.
    """
    fd = _open_fd(cf.path)
    try:
        check_identity(cf, fd)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _too_large(size: int) -> str:
    return f"file too large: {size_text(size)} (limit {size_text(MAX_FILE_BYTES)})"


def decode_text(data: bytes, relpath: str) -> str:
    """Decode bytes as UTF-8 (BOM dropped) or BOM-marked UTF-16; newlines to ``\\n``.

    :raises CorpusError: for binary data (a NUL byte near the start) and for
        bytes that are not valid in the encoding.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise CorpusError(relpath, f"not UTF-16 text: {e.reason}") from e
    elif b"\x00" in data[:SNIFF_BYTES]:
        raise CorpusError(relpath, "binary file, not text")
    else:
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            text = data[start:].decode("utf-8")
        except UnicodeDecodeError as e:
            raise CorpusError(relpath, utf8_problem(e, start)) from e
    return text.replace("\r\n", "\n").replace("\r", "\n")


def utf8_problem(error: UnicodeDecodeError, offset: int = 0) -> str:
    """Describe invalid UTF-8: ``not UTF-8 text: invalid byte 0xff at offset 123``."""
    bad = error.object[error.start]
    return f"not UTF-8 text: invalid byte 0x{bad:02x} at offset {offset + error.start}"


def strip_suffix(relpath: str) -> str:
    """The relative path without its supported suffix: the base of report ids."""
    suffix = suffix_of(relpath)
    return relpath[: -len(suffix)] if suffix else relpath


def os_reason(error: OSError) -> str:
    """The OS's own words for a failure ("permission denied")."""
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def open_binary(cf: CorpusFile) -> BinaryIO:
    """Open a JSON Lines file for reading bytes, decompressing ``.jsonl.gz``.

    :raises OSError: as :func:`open` does.
    :raises CorpusError: the file is not the one discovery found (:func:`check_identity`).
    """
    raw = open_checked(cf)
    if cf.suffix == ".jsonl.gz":
        stream = gzip.GzipFile(fileobj=raw, mode="rb")
        stream.myfileobj = raw  # so that closing the stream closes the file (as gzip.open does)
        return stream  # type: ignore[return-value]
    return raw


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line number, bytes)`` for each line, streaming.

    A line longer than :data:`MAX_FILE_BYTES` is skipped without being held in
    memory and yielded as ``(line number, None)``.
    """
    number = 0
    while True:
        limit = MAX_FILE_BYTES  # read at call time, so tests can lower it
        data = stream.readline(limit + 1)
        if not data:
            return
        number += 1
        if len(data) <= limit:
            yield number, data
            continue
        while data and not data.endswith(b"\n"):
            data = stream.readline(_MIB)
        yield number, None


def read_bytes(cf: CorpusFile, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole binary file (PDF, DOCX, e-mail), at most ``limit`` bytes.

    :raises CorpusError: if the file is larger than ``limit``, empty, is not
        the file discovery found, or cannot be read.
    """
    try:
        with open(cf.path, "rb") as f:
            size = check_identity(cf, f.fileno()).st_size
            if size > limit:
                raise CorpusError(cf.relpath, _over(size, limit))
            data = f.read(limit + 1)
    except OSError as e:
        raise CorpusError(cf.relpath, os_reason(e)) from e
    if len(data) > limit:  # it grew since it was measured
        raise CorpusError(cf.relpath, _over(len(data), limit))
    if not data:
        raise CorpusError(cf.relpath, "empty file")
    return data


def _over(size: int, limit: int) -> str:
    return f"file too large: {size_text(size)} (limit {size_text(limit)})"


def corpus_root(cf: CorpusFile) -> Path:
    """The corpus folder ``cf`` was found in (its path without the relative path)."""
    path = str(cf.path)
    return Path(path[: len(path) - len(cf.relpath)] or ".")
