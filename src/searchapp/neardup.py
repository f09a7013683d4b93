"""Near-duplicate reports grouped: MinHash with LSH over word shingles.

Two reports are near-duplicates when the estimated Jaccard similarity of
their word shingles reaches the threshold (MinHash, datasketch's LSH finds the
candidates), or when their normalised texts are equal (a hash of the words).
A group is a connected set of near-duplicates: A like B and B like C put A, B
and C in one group. A report without words groups with nothing.

>>> groups = NearDuplicates.build([("a", "the cat sat on the mat " * 5), ("b", "")])
>>> groups.add("c", "The cat sat on the mat. " * 5)
>>> groups.group_of("a"), groups.members("a"), groups.group_of("b")
('a', ('a', 'c'), 'b')

The default threshold was chosen by ``benchmarks/neardup_bench.py`` on
labelled Reuters and CISA pairs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from searchapp.errors import SearchAppError

__all__ = ["NearDuplicates", "NearDuplicatesFileError", "normalised_words", "shingles"]

THRESHOLD = 0.5
NUM_PERM = 128
SHINGLE_WORDS = 3
_SCHEME = "affine32"
_FORMAT = 1
_WORD = re.compile(r"\w+")


class NearDuplicatesFileError(SearchAppError):
    """The saved near-duplicate groups cannot be read."""

    status = 503

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot read the near-duplicate groups in {path}: {reason}; "
                         "rebuild them with a full reindex")


def normalised_words(text: str) -> list[str]:
    """The words of ``text`` in lower case (punctuation and spacing ignored)."""
    return _WORD.findall(text.lower())


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> set[bytes]:
    """Runs of ``size`` consecutive words; a text shorter than that is one shingle."""
    if len(words) <= size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


class NearDuplicates:
    """The near-duplicate groups of a collection, updated report by report.

    :param threshold: estimated Jaccard similarity of shingle sets from which
        two reports are near-duplicates.
    """

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM,
                 shingle_words: int = SHINGLE_WORDS) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_words = shingle_words
        self._permutations = MinHash(num_perm=num_perm, scheme=_SCHEME).permutations
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[str, MinHash] = {}
        self._digests: dict[str, str] = {}
        self._by_digest: dict[str, set[str]] = {}
        self._links: dict[str, set[str]] = {}

    @classmethod
    def build(cls, reports: Iterable[tuple[str, str]], **params) -> NearDuplicates:
        """Groups of ``(report id, text)`` pairs."""
        groups = cls(**params)
        for report_id, text in reports:
            groups.add(report_id, text)
        return groups

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._links

    def signature(self, text: str) -> tuple[MinHash | None, str | None]:
        """The MinHash and the digest of the normalised text (None, None without words)."""
        words = normalised_words(text)
        if not words:
            return None, None
        minhash = MinHash(num_perm=self.num_perm, permutations=self._permutations, scheme=_SCHEME)
        minhash.update_batch(list(shingles(words, self.shingle_words)))
        return minhash, hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()

    def add(self, report_id: str, text: str) -> None:
        """Add a report (or replace the one with this id)."""
        self._insert(report_id, *self.signature(text))

    replace = add

    def remove(self, report_id: str) -> None:
        """Take a report out; an unknown id is ignored."""
        if report_id not in self._links:
            return
        for other in self._links.pop(report_id):
            self._links[other].discard(report_id)
        if report_id in self._signatures:
            self._lsh.remove(report_id)
            del self._signatures[report_id]
            digest = self._digests.pop(report_id)
            self._by_digest[digest].discard(report_id)
            if not self._by_digest[digest]:
                del self._by_digest[digest]

    def _insert(self, report_id: str, minhash: MinHash | None, digest: str | None,
                links: Iterable[str] | None = None) -> None:
        self.remove(report_id)
        self._links[report_id] = set()
        if minhash is None or digest is None:
            return  # no words: a group of its own
        if links is None:
            links = self._similar(minhash) | self._by_digest.get(digest, set())
        for other in links:
            self._links[report_id].add(other)
            self._links[other].add(report_id)
        self._lsh.insert(report_id, minhash, check_duplication=False)
        self._signatures[report_id] = minhash
        self._digests[report_id] = digest
        self._by_digest.setdefault(digest, set()).add(report_id)

    def _similar(self, minhash: MinHash) -> set[str]:
        return {other for other in self._lsh.query(minhash)
                if minhash.jaccard(self._signatures[other]) >= self.threshold}

    def members(self, report_id: str) -> tuple[str, ...]:
        """The ids of the report's group, itself included, sorted.

        :raises KeyError: for an id that was never added.
        """
        if report_id not in self._links:
            raise KeyError(report_id)
        seen, todo = {report_id}, [report_id]
        while todo:
            for other in self._links[todo.pop()]:
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return tuple(sorted(seen))

    def group_of(self, report_id: str) -> str:
        """The group's id: its smallest member id (the report's own id when alone)."""
        return self.members(report_id)[0]

    def groups(self) -> list[tuple[str, ...]]:
        """Every group of two or more reports, sorted."""
        found, seen = [], set()
        for report_id in sorted(self._links):
            if report_id not in seen and self._links[report_id]:
                group = self.members(report_id)
                seen.update(group)
                found.append(group)
        return found

    def save(self, path: str | os.PathLike) -> None:
        """Write the groups to ``path`` (atomically: a new file replaces the old)."""
        ids = sorted(self._links)
        position = {report_id: i for i, report_id in enumerate(ids)}
        signed = [i for i in ids if i in self._signatures]
        edges = [(position[a], position[b]) for a in ids for b in self._links[a] if a < b]
        meta = {"format": _FORMAT, "threshold": self.threshold, "num_perm": self.num_perm,
                "shingle_words": self.shingle_words}
        target = Path(path)
        temporary = target.with_name(target.name + ".tmp")
        with open(temporary, "wb") as f:
            np.savez(
                f, meta=np.array(json.dumps(meta)), ids=np.array(ids, dtype=str),
                signed=np.array([position[i] for i in signed], dtype=np.int64),
                signatures=np.array([self._signatures[i].hashvalues for i in signed],
                                    dtype=np.uint32).reshape(len(signed), self.num_perm),
                digests=np.array([self._digests[i] for i in signed], dtype=str),
                edges=np.array(edges, dtype=np.int64).reshape(len(edges), 2),
            )
        os.replace(temporary, target)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NearDuplicates:
        """The groups :meth:`save` wrote.

        :raises NearDuplicatesFileError: for a missing, damaged or older file.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != _FORMAT:
                    raise NearDuplicatesFileError(str(path), f"format {meta.get('format')} "
                                                  f"is not {_FORMAT}")
                arrays = {key: data[key] for key in ("ids", "signed", "signatures", "digests", "edges")}
        except (OSError, ValueError, KeyError) as e:
            raise NearDuplicatesFileError(str(path), str(e)) from e
        groups = cls(meta["threshold"], meta["num_perm"], meta["shingle_words"])
        groups._restore(**arrays)
        return groups

    def _restore(self, ids, signed, signatures, digests, edges) -> None:
        ids = [str(i) for i in ids]
        self._links = {report_id: set() for report_id in ids}
        for a, b in edges:
            self._links[ids[a]].add(ids[b])
            self._links[ids[b]].add(ids[a])
        with self._lsh.insertion_session() as session:
            for position, values, digest in zip(signed, signatures, digests):
                report_id = ids[position]
                minhash = MinHash(hashvalues=values, permutations=self._permutations,
                                  scheme=_SCHEME)
                session.insert(report_id, minhash, check_duplication=False)
                self._signatures[report_id] = minhash
                self._digests[report_id] = str(digest)
                self._by_digest.setdefault(str(digest), set()).add(report_id)
