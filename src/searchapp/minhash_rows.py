"""The MinHash values of the saved near-duplicate signatures, in a file of
their own that later saves append to (``neardup``).

The values are most of what the groups file holds (1 KB a report: 100 MB at
100,000), and an incremental reindex changes a few hundred of them. Kept in
the groups file, each run read them all and wrote them all again (and
fsynced them). Here they are raw rows of ``uint32`` in ``<stem>-<token>.u32``
beside the groups file, which names the file, how many of its rows it uses
and each signature's row. A save appends the new signatures' rows
(:func:`save_rows`): the rows the groups file in place uses are never
touched, so a run killed before its groups file replaced the old one leaves
the old one whole (the rows it appended past the old count are cut off at
the next save). Once the rows no longer used pass the ones used
(:data:`REWRITE_WHEN`), the used ones are written into a new file and the
old file is removed after the new groups file is in place
(:func:`remove_unused`). A load maps the file (:func:`open_rows`): only the
rows an update compares are read.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from searchapp import store

__all__ = ["REWRITE_WHEN", "RowsFile", "open_rows", "remove_unused", "save_rows"]

SUFFIX = ".u32"
REWRITE_WHEN = 2.0  # rows in the file / rows used: past this, the used ones go into a new file


@dataclass(frozen=True)
class RowsFile:
    """A rows file as a saved groups file uses it: its first ``rows`` rows."""

    path: Path
    rows: int
    num_perm: int


def open_rows(folder: Path, name: str, rows: int, num_perm: int) -> tuple[RowsFile, np.ndarray]:
    """The file and its first ``rows`` rows, mapped (read only).

    :raises ValueError: the name is not one of a rows file, or the file is shorter.
    :raises OSError: the file cannot be read.
    """
    if "/" in name or not name.endswith(SUFFIX):
        raise ValueError(f"{name!r} is not a MinHash rows file")
    path = folder / name
    size = path.stat().st_size
    if size < rows * num_perm * 4:
        raise ValueError(f"{name} holds {size} bytes, fewer than {rows} rows")
    if rows == 0:
        return RowsFile(path, 0, num_perm), np.zeros((0, num_perm), dtype=np.uint32)
    return RowsFile(path, rows, num_perm), np.memmap(path, dtype=np.uint32, mode="r", shape=(rows, num_perm))


def save_rows(folder: Path, stem: str, previous: RowsFile | None, stored: np.ndarray | None,
              sources: np.ndarray, fresh: np.ndarray) -> tuple[RowsFile, np.ndarray]:
    """The rows of a new groups file written (fsynced) before it is: the
    rows file it uses and each of its signatures' row there.

    :param previous: the rows file the signatures were loaded from (None: none).
    :param stored: that file's rows (``open_rows``).
    :param sources: each signature's row in ``previous``, -1 for those in ``fresh``.
    :param fresh: the values of the others, in their order among ``sources``.
    """
    num_perm = fresh.shape[1]
    new = np.flatnonzero(sources < 0)
    if (previous is not None and previous.path.parent == folder and previous.path.exists()
            and previous.num_perm == num_perm and previous.rows + len(new) <= REWRITE_WHEN * max(1, len(sources))):
        rows = sources.copy()
        rows[new] = previous.rows + np.arange(len(new))
        with open(previous.path, "r+b") as fh:
            fh.truncate(previous.rows * num_perm * 4)  # what a killed save appended
            fh.seek(0, os.SEEK_END)
            fh.write(np.ascontiguousarray(fresh, dtype=np.uint32).tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        return RowsFile(previous.path, previous.rows + len(new), num_perm), rows
    matrix = np.empty((len(sources), num_perm), dtype=np.uint32)
    if len(new) < len(sources):
        matrix[sources >= 0] = stored[sources[sources >= 0]]
    matrix[new] = fresh
    path = folder / f"{stem}-{time.time_ns():x}-{os.getpid()}{SUFFIX}"
    try:
        with open(path, "wb") as fh:
            fh.write(matrix.tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        store.fsync_dir(folder)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return RowsFile(path, len(sources), num_perm), np.arange(len(sources), dtype=np.int64)


def remove_unused(folder: Path, stem: str, used: RowsFile) -> None:
    """Remove the rows files of ``stem`` other than ``used`` (call once the
    groups file naming ``used`` is in place)."""
    for path in folder.glob(f"{stem}-*{SUFFIX}"):
        if path != used.path:
            path.unlink(missing_ok=True)
