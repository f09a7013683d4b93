"""Near-duplicate groups kept beside the index (issue 15).

Each report's signature (``neardup.NearDuplicates.signature``: the costly
part) is worked out where the report is written, in the indexing process
that analysed it, by a :class:`Signer` made in the parent before the work is
handed out: it knows the boilerplate shingles, learned from the first
reports of a full build (:class:`Sample`, in the pass that learns topics) or
taken from the last build's file on an incremental run. The signatures come
back as NumPy arrays; the parent groups them once the reports are written
(:func:`build`, all pairs at once) or brings the saved groups up to date after
an incremental commit (:func:`update`: the replaced and deleted reports out,
the new ones in).

Two files in the generation folder: :data:`GROUPS_FILE`, the signatures for
the next update, and :data:`MEMBERS_FILE`, only the reports that have a near-
duplicate with their group id, which is all a search reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import store
from .neardup import COMMON_SAMPLE, COMMON_STRIDE, NearDuplicates, NearDuplicatesFileError, Signature, common_shingles
from .signature_table import pack, unpack

__all__ = ["GROUPS_FILE", "MEMBERS_FILE", "SAMPLE_POOL", "Sample", "Signer", "build", "load_members", "saved_common",
           "update"]

GROUPS_FILE = "neardup.npz"
MEMBERS_FILE = "groups.npz"
Signed = list[tuple[str, Signature]]  # (report id, signature), in the order written
SAMPLE_POOL = COMMON_SAMPLE * COMMON_STRIDE  # the first documents of a build a Sample takes from


def report_text(fields) -> str:
    """What a report is compared by: its title as the headline (one line), then its body."""
    return f"{_title(fields)}\n{fields.get('body') or ''}"


def _title(fields) -> str:
    title = fields.get("title") or ""
    return title.replace("\n", " ") if "\n" in title else title  # the same object: analysed already


class Sample:
    """The texts of :data:`~searchapp.neardup.COMMON_SAMPLE` documents, one in
    :data:`~searchapp.neardup.COMMON_STRIDE` of the first of a build, from
    which its boilerplate is learned."""

    def __init__(self, size: int = COMMON_SAMPLE) -> None:
        self._size = size
        self._seen = 0
        self._texts: list[str] = []

    def add(self, fields: dict) -> None:
        if self._seen % COMMON_STRIDE == 0 and len(self._texts) < self._size:
            self._texts.append(report_text(fields))
        self._seen += 1

    def common(self) -> np.ndarray:
        common, self._texts = common_shingles(self._texts), []
        return common


class Signer:
    """A document's signature, worked out with the build's boilerplate (called
    in the indexing processes; what it returns is small and pickles as arrays)."""

    def __init__(self, common: np.ndarray | None) -> None:
        self.common = common
        self._groups = NearDuplicates(common=() if common is None else common)

    def __call__(self, fields: dict) -> Signature:
        # the title and body themselves (not joined): the writer has just analysed them
        return self._groups.signature_of(_title(fields), fields.get("body") or "")


def saved_common(folder: Path) -> np.ndarray | None:
    """The boilerplate of the groups saved in ``folder`` (None without a readable file)."""
    try:
        with np.load(folder / GROUPS_FILE, allow_pickle=False) as data:
            return np.asarray(data["common"], dtype=np.uint64)
    except (OSError, KeyError, ValueError):
        return None


def build(signed: Signed, folder: Path, common: np.ndarray) -> NearDuplicates:
    """The groups of the reports ``signed`` (every report of a new generation), written into ``folder``."""
    groups = NearDuplicates.from_signatures(signed, common=common)
    _save(groups, folder)
    return groups


def update(reader, folder: Path, removed: Iterable[str], signed: Signed,
           common: np.ndarray | None) -> NearDuplicates:
    """The groups of ``folder`` with ``removed`` ids taken out and the ``signed``
    ones put in (their signatures made with ``common``, the saved file's
    boilerplate); built from every live report of ``reader`` when that file
    is missing or unreadable."""
    try:
        groups = NearDuplicates.load(folder / GROUPS_FILE)
    except NearDuplicatesFileError:
        groups = None
    if groups is None or common is None or not np.array_equal(groups.common, common):
        groups = NearDuplicates.build((s["id"], report_text(s)) for s in _live_stored(reader))
        _save(groups, folder)
        return groups
    groups.update(removed, signed)  # only the changed reports' band keys looked up
    _save(groups, folder)
    return groups


def load_members(folder: Path) -> dict[str, str]:
    """Report id -> group id, for reports that have near-duplicates ({} without the file)."""
    try:
        with np.load(folder / MEMBERS_FILE, allow_pickle=False) as data:
            if "ids" in data.files:  # written before the ids were packed
                return dict(zip(data["ids"].tolist(), data["groups"].tolist()))
            ids = unpack(data["ids_blob"], data["ids_ends"])
            return dict(zip(ids, [ids[row] for row in data["owner"].tolist()]))
    except (OSError, KeyError, ValueError, IndexError):
        return {}


def _save(groups: NearDuplicates, folder: Path) -> None:
    groups.save(folder / GROUPS_FILE)
    ids: list[str] = []
    owners: list[int] = []  # the row of each report's group id (its first member)
    for members in groups.groups():
        owners.extend([len(ids)] * len(members))
        ids.extend(members)
    blob, ends = pack(ids)  # a fixed-width string column costs its longest id times the count
    store.atomic_write(folder / MEMBERS_FILE,
                       lambda f: np.savez(f, ids_blob=blob, ids_ends=ends, owner=np.array(owners, dtype=np.int64)))


def _live_stored(reader):
    for docnum in range(reader.doc_count_all()):
        if not reader.is_deleted(docnum):
            yield reader.stored_fields(docnum)
