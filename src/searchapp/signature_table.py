"""The near-duplicate signatures of a collection, read from its saved file only when used.

An incremental reindex loads every report's signature, changes a few hundred
and saves them all again. Made into one ``Signature`` object each (frozen
sets of figures, codes and headline words), loading and saving 100,000 of
them took 4.3 s of a 9.7 s incremental run. :class:`Signatures` keeps what it
read as the arrays the file holds, makes an object of one only when it is
asked for (the candidates an update compares), and writes the ones it never
touched back from those arrays (:meth:`Signatures.columns`; their MinHash
values stay in their rows file: ``minhash_rows``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping

import numpy as np

from searchapp.shingling import Signature

__all__ = ["Packed", "Signatures", "pack", "unpack"]

Packed = tuple[np.ndarray, np.ndarray]  # (UTF-8 blob as uint8, end offset of each string)
TEXT_FIELDS = ("figures", "codes", "headline")


def pack(strings: Iterable[str]) -> Packed:
    """Strings as one UTF-8 blob and the offsets that cut it: a fixed-width
    NumPy string column costs its longest entry times the count (one report
    with 30,000 figures made a 10,000-report file 1.5 GB)."""
    encoded = [s.encode() for s in strings]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64).reshape(len(encoded))
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def unpack(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    data = blob.tobytes()
    starts = np.concatenate(([0], ends[:-1])) if len(ends) else ends
    return [data[a:b].decode() for a, b in zip(starts.tolist(), ends.tolist())]


def _kept(packed: Packed, keep: np.ndarray) -> Packed:
    """The strings of ``packed`` where ``keep`` is True, without decoding them."""
    blob, ends = packed
    lengths = np.diff(ends, prepend=0)
    return blob[np.repeat(keep, lengths)], np.cumsum(lengths[keep], dtype=np.int64)


def _joined(first: Packed, second: Packed) -> Packed:
    offset = first[1][-1] if len(first[1]) else 0
    return np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1] + offset])


class _Stored:
    """The signatures as a saved file holds them, one entry each, in file order."""

    def __init__(self, ids: list[str], digests: list[str], texts: dict[str, Packed],
                 rows: np.ndarray, matrix: np.ndarray) -> None:
        self.ids = ids  # the report of each entry
        self.at = {report_id: k for k, report_id in enumerate(ids)}
        self.alive = np.ones(len(ids), dtype=bool)
        self.digests = digests
        self.texts = texts  # field -> its packed strings (words joined by spaces)
        self.rows = rows  # each entry's row of ``matrix``, -1 for no MinHash values
        self.matrix = matrix
        self._data = {name: (packed[0].tobytes(), np.diff(packed[1], prepend=0).tolist(), packed[1].tolist())
                      for name, packed in texts.items()}

    def live(self, report_id: str) -> int | None:
        k = self.at.get(report_id)
        return k if k is not None and self.alive[k] else None

    def signature(self, k: int) -> Signature:
        words = {}
        for name, (data, lengths, ends) in self._data.items():
            words[name] = frozenset(data[ends[k] - lengths[k]:ends[k]].decode().split())
        row = int(self.rows[k])
        return Signature(np.array(self.matrix[row]) if row >= 0 else None, self.digests[k], **words)


class Signatures(MutableMapping):
    """Report id -> :class:`~searchapp.shingling.Signature`: the ones read from
    a file (:meth:`stored`) made on demand, the ones put in since kept as given."""

    def __init__(self, fresh: dict[str, Signature] | None = None) -> None:
        self._stored: _Stored | None = None
        self._fresh: dict[str, Signature] = dict(fresh or {})

    @classmethod
    def stored(cls, ids: list[str], digests: list[str], texts: dict[str, Packed],
               rows: np.ndarray, matrix: np.ndarray) -> Signatures:
        """:param ids: the report of each entry; ``digests``, ``texts`` (by
        field of :data:`TEXT_FIELDS`) and ``rows`` (into ``matrix``, -1: none) aligned with it."""
        table = cls()
        table._stored = _Stored(ids, digests, texts, rows, matrix)
        return table

    def __getitem__(self, report_id: str) -> Signature:
        found = self._fresh.get(report_id)
        if found is not None:
            return found
        k = self._stored.live(report_id) if self._stored is not None else None
        if k is None:
            raise KeyError(report_id)
        return self._stored.signature(k)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._fresh or (self._stored is not None and self._stored.live(report_id) is not None)

    def __setitem__(self, report_id: str, signature: Signature) -> None:
        self._forget(report_id)
        self._fresh[report_id] = signature

    def __delitem__(self, report_id: str) -> None:
        if not self._forget(report_id):
            raise KeyError(report_id)

    def _forget(self, report_id: str) -> bool:
        found = self._fresh.pop(report_id, None) is not None
        k = self._stored.live(report_id) if self._stored is not None else None
        if k is not None:
            self._stored.alive[k] = False
        return found or k is not None

    def __iter__(self) -> Iterator[str]:
        if self._stored is not None:
            yield from (self._stored.ids[k] for k in np.flatnonzero(self._stored.alive).tolist())
        yield from self._fresh

    def __len__(self) -> int:
        stored = int(self._stored.alive.sum()) if self._stored is not None else 0
        return stored + len(self._fresh)

    def digest_items(self) -> Iterator[tuple[str, str]]:
        """(report id, digest) of each signature, without making the objects."""
        if self._stored is not None:
            for k in np.flatnonzero(self._stored.alive).tolist():
                yield self._stored.ids[k], self._stored.digests[k]
        for report_id, signature in self._fresh.items():
            yield report_id, signature.digest

    def columns(self, row_ids: list[str]) -> tuple[list[str], list[str], dict[str, Packed], np.ndarray]:
        """What a file holds: the ids in the order of the other columns, their
        digests, their words by field (packed), and each of ``row_ids`` (each
        of which must have MinHash values) as its row in the stored matrix,
        -1 for one put in since (its values: ``self[report_id].minhash``).
        Stored entries still in the table are copied as the arrays they were read as."""
        fresh = sorted(self._fresh)
        signatures = [self._fresh[i] for i in fresh]
        added = {name: pack(" ".join(sorted(getattr(s, name))) for s in signatures) for name in TEXT_FIELDS}
        if self._stored is None:
            ids, digests, texts = fresh, [s.digest for s in signatures], added
        else:
            stored, keep = self._stored, self._stored.alive
            kept = np.flatnonzero(keep).tolist()
            ids = [stored.ids[k] for k in kept] + fresh
            digests = [stored.digests[k] for k in kept] + [s.digest for s in signatures]
            texts = {name: _joined(_kept(stored.texts[name], keep), added[name]) for name in TEXT_FIELDS}
        source = np.full(len(row_ids), -1, dtype=np.int64)  # each row's row in the stored matrix
        if self._stored is not None:
            stored = self._stored
            entry = np.array([stored.at.get(r, -1) for r in row_ids], dtype=np.int64).reshape(len(row_ids))
            found = entry >= 0
            found[found] = stored.alive[entry[found]]
            if self._fresh:
                found &= np.array([r not in self._fresh for r in row_ids], dtype=bool).reshape(len(row_ids))
            source[found] = stored.rows[entry[found]]
        return ids, digests, texts, source
