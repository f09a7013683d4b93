"""Near-duplicate groups kept beside the index (issue 15).

The indexer builds the groups (``neardup.NearDuplicates``) of a generation
once its reports are written, and brings them up to date after an
incremental commit: the replaced and deleted reports out, the new ones in.
Two files in the generation folder: :data:`GROUPS_FILE`, the signatures for
the next update, and :data:`MEMBERS_FILE`, only the reports that have a near-
duplicate with their group id, which is all a search reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from . import store
from .neardup import NearDuplicates, NearDuplicatesFileError

__all__ = ["GROUPS_FILE", "MEMBERS_FILE", "build", "load_members", "update"]

Seen = Callable[[dict], None]
GROUPS_FILE = "neardup.npz"
MEMBERS_FILE = "groups.npz"


def report_text(stored) -> str:
    """What a report is compared by: its title as the headline, then its body."""
    return f"{stored.get('title') or ''}\n{stored.get('body') or ''}"


def build(reader, folder: Path, seen: Seen | None = None) -> NearDuplicates:
    """The groups of every live report of ``reader``, written into ``folder``.

    :param seen: called with each report's stored fields on the way (one pass
        over them for whatever else a reindex reads there).
    """
    groups = NearDuplicates.build((s["id"], report_text(s)) for s in _seen(_live_stored(reader), seen))
    _save(groups, folder)
    return groups


def update(reader, folder: Path, removed: Iterable[str], added: Iterable[str],
           seen: Seen | None = None) -> NearDuplicates:
    """The groups of ``folder`` with ``removed`` ids taken out and ``added`` ones
    (read from ``reader``) put in; built from scratch when the file is missing."""
    try:
        groups = NearDuplicates.load(folder / GROUPS_FILE)
    except NearDuplicatesFileError:
        return build(reader, folder, seen)
    added = set(added)
    for report_id in set(removed) - added:
        groups.remove(report_id)
    for report_id in sorted(added):
        docnum = _live_docnum(reader, report_id)
        if docnum is not None:
            stored = reader.stored_fields(docnum)
            if seen is not None:
                seen(stored)
            groups.replace(report_id, report_text(stored))
    _save(groups, folder)
    return groups


def _seen(stored_fields, seen: Seen | None):
    for stored in stored_fields:
        if seen is not None:
            seen(stored)
        yield stored


def load_members(folder: Path) -> dict[str, str]:
    """Report id -> group id, for reports that have near-duplicates ({} without the file)."""
    try:
        with np.load(folder / MEMBERS_FILE, allow_pickle=False) as data:
            return dict(zip(data["ids"].tolist(), data["groups"].tolist()))
    except (OSError, KeyError, ValueError):
        return {}


def _save(groups: NearDuplicates, folder: Path) -> None:
    groups.save(folder / GROUPS_FILE)
    ids, owners = [], []
    for members in groups.groups():
        ids.extend(members)
        owners.extend([members[0]] * len(members))
    store.atomic_write(folder / MEMBERS_FILE,
                       lambda f: np.savez(f, ids=np.array(ids, dtype=str), groups=np.array(owners, dtype=str)))


def _live_docnum(reader, report_id: str) -> int | None:
    if ("id", report_id) not in reader:
        return None
    return next((d for d in reader.postings("id", report_id).all_ids() if not reader.is_deleted(d)), None)


def _live_stored(reader):
    for docnum in range(reader.doc_count_all()):
        if not reader.is_deleted(docnum):
            yield reader.stored_fields(docnum)
