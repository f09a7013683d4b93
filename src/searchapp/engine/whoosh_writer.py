"""The Whoosh engine's ``protocol.EngineWriter``: changes to the live generation, one commit.

Holds the index's reindex lock from opening to ``commit`` or ``cancel``; the
commit is Whoosh's (readers see all of it or none), and the new reader's
state is kept beside the index so that the first search after it does not
build it (``state.ReaderState.open``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterable

from .. import store
from ..schema import SCHEMA_VERSION, IndexCodec
from .protocol import Stored
from .state import ReaderState
from .whoosh_internals import open_index

WRITER_ARGS = {"limitmb": 256, "codec": IndexCodec(compression=0)}


class WhooshWriter:
    """Add, replace and delete reports of the index in ``index_dir``, then commit once.

    :raises IndexLockedError: another reindex or writer holds the index.
    :raises IndexNotFoundError: no index built yet.
    """

    def __init__(self, index_dir: str | os.PathLike, wait: bool = False) -> None:
        self._locked = contextlib.ExitStack()
        index_dir = Path(index_dir)
        self._locked.enter_context(store.reindex_lock(index_dir, wait=wait))
        try:
            def checked() -> Path:
                ix, path = store.open_generation(index_dir)
                ix.close()
                return path

            self._ix, self.path = open_index(None, str(index_dir), SCHEMA_VERSION, open_first=checked)
            self._writer = self._ix.writer(**WRITER_ARGS)
        except BaseException:
            self._locked.close()
            raise

    def add(self, fields: Stored) -> None:
        self._writer.update_document(**fields)

    def delete(self, report_ids: Iterable[str]) -> int:
        return sum(self._writer.delete_by_term("id", report_id) for report_id in report_ids)

    def commit(self) -> None:
        try:
            self._writer.commit(merge=True)
            with self._ix.reader() as reader:
                ReaderState.open(reader, self.path)
        finally:
            self._locked.close()

    def cancel(self) -> None:
        try:
            self._writer.cancel()
        finally:
            self._locked.close()
