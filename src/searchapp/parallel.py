"""A full rebuild on every core: the corpus split into contiguous parts, each
part parsed, analysed and written as one segment by a process of its own.

Whoosh's ``MpWriter`` parses every report in the parent and hands batches to
its workers in whatever order they ask, so the parent is a bottleneck, the
order of the reports in the index changes from run to run, its sub-writers
outlive a killed parent and a dead one's reports are lost without a word
(issue 11). Here each worker reads its own part, so the work scales with the
cores, and part ``i`` becomes segment ``i``: the reports keep the order of the
files, as with one writer. A file larger than a part (one big JSON Lines
file) is cut into runs of its reports.

Workers run through :mod:`searchapp.processes` (they close the inherited
reindex lock and die with the parent). A worker reports each part of a file it
finished; its result (the segment, the ids it added, what it rejected) comes
back on the same pipe; an error in a worker is raised again in the parent, and
a worker that ends without a result fails the rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index

from . import processes
from .corpus import CorpusFile
from .engine.whoosh_writer import commit_segments, finish_part, part_writer
from .errors import CorpusError
from .meter import Tick

@dataclass(frozen=True)
class FileSlice:
    """The items ``start`` to ``stop`` (reports and rejections, in the order the
    parser yields them) of one file; ``stop`` None: to the end."""

    file: CorpusFile
    start: int = 0
    stop: int | None = None


# (writer, slices, rejected, tick) -> None: adds the reports of ``slices`` to
# ``writer``, telling ``tick`` how many items of each file it read.
AddFiles = Callable[[object, list[FileSlice], list, Tick], None]


@dataclass
class PartResult:
    segment: object | None = None
    docs: list[tuple[str, str, int | None, object]] = field(default_factory=list)  # (id, file, line, kept) by docnum
    rejected: list[CorpusError] = field(default_factory=list)

    def __getstate__(self) -> dict:
        # CorpusError does not unpickle (its arguments are not its message).
        rejected = [(e.path, e.reason, e.line) for e in self.rejected]
        return {"segment": self.segment, "docs": self.docs, "rejected": rejected}

    def __setstate__(self, state: dict) -> None:
        self.segment, self.docs = state["segment"], state["docs"]
        self.rejected = [CorpusError(path, reason, line) for path, reason, line in state["rejected"]]


Keep = Callable[[dict], object]  # what to keep of each document written (its signature, say)


class RecordingWriter:
    """Passes documents on to a writer, remembering each one's id, file, line
    and what ``keep`` takes from it (None without ``keep``), in order."""

    def __init__(self, writer, docs: list, keep: Keep | None = None) -> None:
        self._writer = writer
        self._docs = docs
        self._keep = keep

    def add_document(self, **fields) -> None:
        self._writer.add_document(**fields)
        kept = self._keep(fields) if self._keep is not None else None
        self._docs.append((fields["id"], fields["file"], (fields.get("meta") or {}).get("line"), kept))

    def __getattr__(self, name: str):
        return getattr(self._writer, name)


def split(files: list[CorpusFile], parts: int, items: dict[str, int] | None = None) -> list[list[FileSlice]]:
    """Contiguous runs of about equal size, in order.

    A file larger than a part is cut into runs of its items when ``items``
    (relpath -> how many items the parser yields) says how many it has.
    """
    total = sum(max(cf.size, 1) for cf in files)
    share = max(total / parts, 1)
    pieces: list[tuple[FileSlice, float]] = []
    for cf in files:
        count = (items or {}).get(cf.relpath, 0)
        cuts = min(count, round(cf.size / share)) if count > 1 else 1
        if cuts < 2:
            pieces.append((FileSlice(cf), max(cf.size, 1)))
            continue
        bounds = [count * k // cuts for k in range(cuts + 1)]
        pieces += [(FileSlice(cf, a, None if b == count else b), max(cf.size, 1) * (b - a) / count)
                   for a, b in zip(bounds, bounds[1:])]
    out: list[list[FileSlice]] = [[] for _ in range(parts)]
    done = 0.0
    for piece, weight in pieces:  # each piece goes to the part its middle falls in
        out[min(parts - 1, int((done + weight / 2) * parts // total))].append(piece)
        done += weight
    return [p for p in out if p]


def add_files_in_parts(ix, folder: Path, files: list[CorpusFile], procs: int, add: AddFiles,
                       rejected: list[CorpusError], tick: Tick | None,
                       items: dict[str, int] | None = None,
                       keep: Keep | None = None) -> list[tuple[str, object]]:
    """Index ``files`` into the (new, empty) index ``ix`` in ``folder`` with ``procs`` processes.

    Reports whose id an earlier file already holds are rejected, as one writer
    does. Returns ``(id, kept)`` of every report added, in index order.

    :param items: relpath -> how many items the file's parser yields (to cut large files).
    :param keep: called in the worker with each document written; what it
        returns comes back in the result (it must pickle, and be small).
    :raises OSError: a worker could not write (disk full, permissions).
    :raises ChildProcessError: a worker ended without a result (killed).
    """
    parts = split(files, procs, items)
    order = {cf.relpath: i for i, cf in enumerate(files)}

    def report(_number: int, message: tuple[str, int, bool]) -> None:
        if tick is not None:
            tick(*message)

    works = [_work_on(folder, part, add, keep) for part in parts]
    results = processes.run(works, report, name="indexing process")
    found: list[CorpusError] = []
    taken: dict[str, str] = {}  # id -> the file that has it first
    segments = []
    added: list[tuple[str, object]] = []
    for result in results:  # in file order: the first file with an id keeps it
        found += result.rejected
        for docnum, (report_id, relpath, line, kept) in enumerate(result.docs):
            first = taken.get(report_id)
            if first is None:
                taken[report_id] = relpath
                added.append((report_id, kept))
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

def _work_on(folder: Path, part: list[FileSlice], add: AddFiles,
             keep: Keep | None) -> processes.Work:
    def work(send: processes.Send) -> PartResult:
        result = PartResult()
        ix = whoosh_index.open_dir(str(folder))
        writer = part_writer(ix)
        recording = RecordingWriter(writer, result.docs, keep)
        for piece in part:
            add(recording, [piece], result.rejected, lambda *message: send(message))
        result.segment = finish_part(writer, empty=not result.docs)
        return result

    return work
