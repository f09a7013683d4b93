"""A full rebuild on every core: the corpus files split into contiguous parts,
each part parsed, analysed and written as one segment by a process of its own.

Whoosh's ``MpWriter`` parses every report in the parent and hands batches to
its workers in whatever order they ask, so the parent is a bottleneck and the
order of the reports in the index changes from run to run. Here each worker
reads its own files, so the work scales with the cores, and part ``i`` becomes
segment ``i``: the reports keep the order of the files, as with one writer.

Workers are forked (their code and the caller's state are inherited, nothing
is pickled on the way in) and close every inherited file descriptor first, so
the parent's reindex lock dies with the parent. A worker reports progress on a
pipe; when the parent is gone, its next write fails and it stops. Its result
(the segment, the ids it added, what it rejected) goes to a file beside the
index; an error in a worker is raised again in the parent.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from .corpus import CorpusFile
from .engine.whoosh_internals import commit_segments
from .errors import CorpusError

# (writer, files, rejected) -> None: adds the reports of ``files`` to ``writer``.
AddFiles = Callable[[object, list, list], None]
Progress = Callable[[int, int, str], None]


@dataclass
class PartResult:
    segment: object | None = None
    docs: list[tuple[str, str, int | None]] = field(default_factory=list)  # (id, file, line) by docnum
    rejected: list[CorpusError] = field(default_factory=list)

    def __getstate__(self) -> dict:
        # CorpusError does not unpickle (its arguments are not its message).
        rejected = [(e.path, e.reason, e.line) for e in self.rejected]
        return {"segment": self.segment, "docs": self.docs, "rejected": rejected}

    def __setstate__(self, state: dict) -> None:
        self.segment, self.docs = state["segment"], state["docs"]
        self.rejected = [CorpusError(path, reason, line) for path, reason, line in state["rejected"]]


class _RecordingWriter:
    """Passes documents on to a writer, remembering each one's id, file and line."""

    def __init__(self, writer: SegmentWriter, docs: list) -> None:
        self._writer = writer
        self._docs = docs

    def add_document(self, **fields) -> None:
        self._writer.add_document(**fields)
        self._docs.append((fields["id"], fields["file"], (fields.get("meta") or {}).get("line")))


def split(files: list[CorpusFile], parts: int) -> list[list[CorpusFile]]:
    """Contiguous runs of files of about equal size, in order."""
    total = sum(max(cf.size, 1) for cf in files)
    out: list[list[CorpusFile]] = [[] for _ in range(parts)]
    done = 0
    for cf in files:
        part = min(parts - 1, done * parts // max(total, 1))
        out[part].append(cf)
        done += max(cf.size, 1)
    return [p for p in out if p]


def add_files_in_parts(ix, folder: Path, files: list[CorpusFile], procs: int, add: AddFiles,
                       rejected: list[CorpusError], progress: Progress | None,
                       writer_args: dict) -> int:
    """Index ``files`` into the (new, empty) index ``ix`` in ``folder`` with ``procs`` processes.

    Reports whose id an earlier file already holds are rejected, as one writer
    does. Returns how many reports were added.

    :raises OSError: a worker could not write (disk full, permissions).
    """
    parts = split(files, procs)
    order = {cf.relpath: i for i, cf in enumerate(files)}
    workers = [_start(folder, n, part, add, writer_args) for n, part in enumerate(parts)]
    try:
        _follow(workers, len(files), progress)
        results = [_collect(folder, n, pid) for n, (pid, _) in enumerate(workers)]
    except BaseException:
        for pid, _ in workers:
            _kill(pid)
        raise
    found: list[CorpusError] = []
    taken: dict[str, str] = {}  # id -> the file that has it first
    segments = []
    added = 0
    for result in results:  # in file order: the first file with an id keeps it
        found += result.rejected
        for docnum, (report_id, relpath, line) in enumerate(result.docs):
            first = taken.get(report_id)
            if first is None:
                taken[report_id] = relpath
                added += 1
            else:
                found.append(CorpusError(relpath, f"duplicate report id {report_id!r} (already in {first})", line))
                result.segment.delete_document(docnum)
        if result.segment is not None:
            segments.append(result.segment)
    found.sort(key=lambda e: (order.get(e.path, len(order)), e.line or 0))
    rejected.extend(found)
    commit_segments(ix, segments)
    return added


# -- workers --------------------------------------------------------------------

def _start(folder: Path, number: int, files: list[CorpusFile], add: AddFiles, writer_args: dict):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            os.close(read_end)
            _close_inherited(keep=write_end)
            _work(folder, number, files, add, writer_args, write_end)
            code = 0
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _close_inherited(keep: int) -> None:
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _work(folder: Path, number: int, files: list[CorpusFile], add: AddFiles, writer_args: dict, pipe: int) -> None:
    result = PartResult()
    outcome: tuple = ("ok", result)
    try:
        ix = whoosh_index.open_dir(str(folder))
        writer = SegmentWriter(ix, _lk=False, **writer_args)
        recording = _RecordingWriter(writer, result.docs)
        for cf in files:
            add(recording, [cf], result.rejected)
            os.write(pipe, (cf.relpath.replace("\n", " ") + "\n").encode("utf-8"))
        # Not writer._finish(): it would remove the temporary folder the
        # other workers share; the parent's commit does.
        if result.docs:
            result.segment = writer._finalize_segment()
        else:
            writer._close_segment()
    except BrokenPipeError:
        return  # the parent is gone: nobody wants this part any more
    except BaseException as e:
        outcome = ("error", _portable(e), traceback.format_exc())
    _write_result(folder, number, outcome)


def _portable(error: BaseException) -> BaseException:
    """The error itself when it survives pickling, else its gist (an OSError keeps its errno)."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        if isinstance(error, OSError):
            return OSError(error.errno, error.strerror or str(error))
        return RuntimeError(f"indexing worker failed: {type(error).__name__}: {error}")


def _result_path(folder: Path, number: int) -> Path:
    return folder / f".part-{number}.result"


def _write_result(folder: Path, number: int, outcome: tuple) -> None:
    data = pickle.dumps(outcome)
    path = _result_path(folder, number)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _follow(workers, total: int, progress: Progress | None) -> None:
    """Read the workers' progress lines until every one has finished."""
    open_fds = {fd: b"" for _, fd in workers}
    done = 0
    try:
        while open_fds:
            ready, _, _ = select.select(list(open_fds), [], [])
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    os.close(fd)
                    del open_fds[fd]
                    continue
                *lines, open_fds[fd] = (open_fds[fd] + chunk).split(b"\n")
                for line in lines:
                    done += 1
                    if progress is not None:
                        progress(done, total, line.decode("utf-8", "replace"))
    finally:
        for fd in open_fds:
            os.close(fd)


def _collect(folder: Path, number: int, pid: int) -> PartResult:
    _, status = os.waitpid(pid, 0)
    path = _result_path(folder, number)
    try:
        outcome = pickle.loads(path.read_bytes())
    except OSError:
        raise RuntimeError(f"indexing worker {number} ended without a result (wait status {status})") from None
    finally:
        path.unlink(missing_ok=True)
    if outcome[0] == "error":
        raise outcome[1]
    return outcome[1]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
