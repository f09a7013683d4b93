"""Where an index lives on disk: generations, the CURRENT pointer, the lock.

``index_dir/CURRENT`` names the generation folder searches open. A full
rebuild writes a new generation beside the old one and swaps CURRENT with an
atomic rename, so a reader never sees a half-built index and an interrupted
rebuild leaves the previous one in place. Every file that must survive a
crash is written by :func:`atomic_write`, and a generation's files reach the
disk (fsync) before CURRENT names it, so a power cut cannot leave CURRENT
naming a half-written generation.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from whoosh import index as whoosh_index

from .errors import IndexLockedError, IndexNotFoundError, SchemaVersionError, SearchAppError
from .schema import SCHEMA_VERSION

CURRENT = "CURRENT"
META = "searchapp.json"
LOCK = ".reindex.lock"
GEN_PREFIX = "gen-"


def current_generation(index_dir: Path) -> Path | None:
    """The folder of the live generation, or None when there is no index."""
    try:
        name = (index_dir / CURRENT).read_text("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise SearchAppError(f"cannot read {index_dir / CURRENT}: {e.strerror}") from e
    if not name.startswith(GEN_PREFIX) or "/" in name or not (index_dir / name).is_dir():
        return None
    return index_dir / name


def read_meta(gen_dir: Path) -> dict:
    try:
        return json.loads((gen_dir / META).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def open_generation(index_dir: Path):
    """Open the live Whoosh index, checking its schema version.

    :raises IndexNotFoundError: no index built yet.
    :raises SchemaVersionError: built by an incompatible searchapp.
    """
    gen = current_generation(index_dir)
    if gen is None or not whoosh_index.exists_in(str(gen)):
        raise IndexNotFoundError(str(index_dir))
    version = read_meta(gen).get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaVersionError(str(index_dir), version, SCHEMA_VERSION)
    return whoosh_index.open_dir(str(gen)), gen


def new_generation(index_dir: Path) -> Path:
    """Create an empty folder for the next generation (a hidden name until published)."""
    numbers = [
        int(p.name[len(GEN_PREFIX):])
        for p in index_dir.glob(GEN_PREFIX + "*")
        if p.name[len(GEN_PREFIX):].isdigit()
    ]
    number = max(numbers, default=0) + 1
    building = index_dir / f".building-{GEN_PREFIX}{number:06d}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    return building


def write_meta(gen_dir: Path, **meta) -> None:
    data = {"schema_version": SCHEMA_VERSION, **meta}
    atomic_write(gen_dir / META, json.dumps(data, indent=2))


def publish(index_dir: Path, building: Path) -> Path:
    """Rename a finished generation into place and point CURRENT at it."""
    final = index_dir / building.name.removeprefix(".building-")
    fsync_tree(building)
    os.replace(building, final)
    try:
        fsync_dir(index_dir)
        atomic_write(index_dir / CURRENT, final.name + "\n")
    except BaseException:  # issue 6: e.g. a full disk; don't keep an unpublished copy
        shutil.rmtree(final, ignore_errors=True)
        raise
    prune(index_dir, keep=final)
    return final


def prune(index_dir: Path, keep: Path) -> None:
    """Remove every generation but ``keep`` (the one CURRENT names) and abandoned builds.

    A server still searching an older generation is not disturbed: a reader
    holds its segment files open (on Linux an unlinked file stays readable)
    and reads its state and near-duplicate groups when it opens
    (``engine.views``), so nothing of the folder is needed after that.
    """
    for old in index_dir.glob(GEN_PREFIX + "*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)
    remove_abandoned(index_dir)


def remove_abandoned(index_dir: Path) -> None:
    """Remove what a killed reindex left behind (call with the reindex lock held):
    unfinished builds, a generation renamed into place but never named in
    CURRENT, and half-written CURRENT / meta files.
    """
    for stale in index_dir.glob(".building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    # -- issue 6 (kill -9 tests): a kill between publish()'s rename and its
    # write of CURRENT left a whole unpublished generation behind for good.
    current = current_generation(index_dir)
    number = _gen_number(current) if current is not None else None
    if number is not None:
        for gen in index_dir.glob(GEN_PREFIX + "*"):
            if gen.is_dir() and (_gen_number(gen) or 0) > number:
                shutil.rmtree(gen, ignore_errors=True)
    for folder in (index_dir, current):
        for tmp in folder.glob(".*.tmp") if folder is not None else ():
            tmp.unlink(missing_ok=True)  # atomic_write's, from a killed run
    # -- end issue 6


def _gen_number(gen: Path) -> int | None:
    digits = gen.name[len(GEN_PREFIX):]
    return int(digits) if digits.isdigit() else None


@contextlib.contextmanager
def reindex_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the index's reindex lock (an OS lock: a killed process frees it).

    :raises IndexLockedError: when another reindex holds it and ``wait`` is false.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexLockedError(str(index_dir)) from e
            raise
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()} {time.time():.0f}\n")
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def atomic_write(path: Path, data: str | bytes | Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` so that a crash leaves either the old file or the new one, whole.

    Written to a temporary file beside it (``.NAME.PID.THREAD.tmp``, which
    :func:`remove_abandoned` clears after a kill), fsynced, renamed over it,
    and the folder fsynced so that the rename itself survives a power cut.

    :param data: the text (UTF-8), the bytes, or a function writing to the open binary file.
    :raises OSError: the file cannot be written (nothing is left behind then).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: leave no half-written file behind
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_tree(folder: Path, only: Callable[[str], bool] | None = None) -> None:
    """fsync every file in ``folder`` (and below) whose name ``only`` accepts, then the folders."""
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if only is None or only(name):
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(Path(root))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
