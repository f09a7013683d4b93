"""Near-duplicate reports grouped: MinHash with LSH over word shingles.

Two reports are near-duplicates when their normalised texts are equal (a hash
of the words), or when they tell the same story in nearly the same words:

* the estimated Jaccard similarity of their word shingles reaches the
  threshold (MinHash; datasketch's LSH finds the candidates),
* and they give the same figures (Jaccard of their numbers at least
  :data:`FIGURES_AGREE`: the daily "Fed adds reserves" wire on another day
  differs only there),
* and the same codes when both have some (CVE and advisory ids:
  :data:`CODES_AGREE`; two advisories of one product differ only there),
* and headlines (the text's first line) about the same thing
  (:data:`HEADLINE_AGREE` of their words when both have one).

A text of fewer than :data:`MIN_SHINGLES` shingles matches exact copies only.

A group is a connected set of near-duplicates: A like B and B like C put A, B
and C in one group. A report without words groups with nothing.

Boilerplate is left out of the comparison: shingles found in many reports of
the collection (advisory templates, "Recommended practices" sections, the
daily market wires) are learned from the first reports of a build
(:func:`common_shingles`) and kept until the next build. Without that, two
CISA advisories on different products are 0.99 alike.

A shingle is a 64-bit hash of its words (each word hashed once, the words
of a run combined in NumPy), and the MinHash of a report is worked out in
NumPy from those (:meth:`NearDuplicates.signature`, in the indexing
processes: a few hundred microseconds a report, where hashing every shingle's
text with SHA-1 took about 1 ms). A full build finds its candidate pairs with
one sort per LSH band over every signature (:meth:`NearDuplicates.from_signatures`);
datasketch's LSH index answers the updates of an incremental run, with the
same bands, so both find the same pairs.

>>> groups = NearDuplicates.build([("a", "the cat sat on the mat " * 5), ("b", "")])
>>> groups.replace("c", "The cat sat on the mat. " * 5)
>>> groups.group_of("a"), groups.members("a"), groups.group_of("b")
('a', ('a', 'c'), 'b')

The thresholds were chosen by ``benchmarks/neardup_bench.py`` on labelled
Reuters and CISA pairs.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from searchapp import store
from searchapp.errors import SearchAppError
from searchapp.shingling import (  # noqa: F401  (this module's API, as before)
    COMMON_SAMPLE, SHINGLE_WORDS, Signature, common_shingles, normalised_words, shingle_of, shingles,
    signature,
)

__all__ = ["NearDuplicates", "NearDuplicatesFileError", "Signature", "common_shingles",
           "normalised_words", "shingles"]

THRESHOLD = 0.6
# The LSH bands are chosen for a threshold this much lower, so that they miss
# few pairs at the threshold itself (chosen for 0.6, datasketch's bands found
# a pair of similarity 0.6 in 42% of cases, 0.7 in 85%; for 0.5: 87% and
# 99.5%); every candidate is then checked against the threshold.
CANDIDATE_MARGIN = 0.1
NUM_PERM = 256  # 128: more estimate noise at the threshold (recall 0.77 with these hashes); +0.02 ms a report
_SCHEME = "affine32"
_FORMAT = 3  # 2: strings as one UTF-8 blob and offsets (fixed-width columns grew to GBs); 3: hashed shingles
_TEXTS = ("ids", "digests", "figures", "codes", "headlines")
_ARRAYS = ("signed", "hashed", "signatures", "edges", "common")


class NearDuplicatesFileError(SearchAppError):
    """The saved near-duplicate groups cannot be read."""

    status = 503

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot read the near-duplicate groups in {path}: {reason}; "
                         "rebuild them with a full reindex")


def _packed(strings: Iterable[str]) -> dict[str, np.ndarray]:
    """Strings as one UTF-8 blob and the offsets that cut it: a fixed-width
    NumPy string column costs its longest entry times the count (one report
    with 30,000 figures made a 10,000-report file 1.5 GB)."""
    encoded = [s.encode() for s in strings]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return {"blob": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            "ends": ends.reshape(len(encoded))}


def _unpacked(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    data = blob.tobytes()
    starts = np.concatenate(([0], ends[:-1])) if len(ends) else ends
    return [data[a:b].decode() for a, b in zip(starts.tolist(), ends.tolist())]


class _Hashed:
    """MinHash values in the shape datasketch's LSH index reads."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray) -> None:
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)


class NearDuplicates:
    """The near-duplicate groups of a collection, updated report by report.

    :param threshold: estimated Jaccard similarity of shingle sets from which
        two reports are near-duplicates.
    :param common: boilerplate shingle hashes (:func:`common_shingles`), left
        out of every comparison.
    """

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM,
                 shingle_words: int = SHINGLE_WORDS, common: Iterable[int] | np.ndarray = ()) -> None:
        self.common = np.unique(np.asarray(list(common) if not isinstance(common, np.ndarray) else common,
                                           dtype=np.uint64))
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_words = shingle_words
        self._a, self._b = MinHash(num_perm=num_perm, scheme=_SCHEME).permutations
        self._index: MinHashLSH | None = None  # filled when first needed (an update)
        self._signatures: dict[str, Signature] = {}  # reports with words
        self._by_digest: dict[str, set[str]] = {}
        self._links: dict[str, set[str]] = {}

    @classmethod
    def build(cls, reports: Iterable[tuple[str, str]], sample: int = COMMON_SAMPLE,
              **params) -> NearDuplicates:
        """Groups of ``(report id, text)`` pairs, the boilerplate learned from
        the first ``sample`` of them (only those are held in memory)."""
        iterator = iter(reports)
        first = list(itertools.islice(iterator, sample))
        if "common" not in params:
            params["common"] = common_shingles((text for _, text in first),
                                               size=params.get("shingle_words", SHINGLE_WORDS))
        signer = cls(**params)
        return cls.from_signatures(((report_id, signer.signature(text))
                                    for report_id, text in itertools.chain(first, iterator)), **params)

    @classmethod
    def from_signatures(cls, signed: Iterable[tuple[str, Signature]], **params) -> NearDuplicates:
        """Groups of ``(report id, signature)`` pairs (a later one replaces an
        earlier one of the same id), all pairs found at once: the same groups
        as adding them one by one."""
        groups = cls(**params)
        for report_id, signature in signed:
            groups._forget(report_id)
            groups._links[report_id] = set()
            if signature.digest is not None:
                groups._signatures[report_id] = signature
        for members in groups._digest_sets().values():
            for report_id in members:
                groups._links[report_id].update(members - {report_id})
        for a, b in groups._similar_pairs():
            groups._links[a].add(b)
            groups._links[b].add(a)
        return groups

    def _digest_sets(self) -> dict[str, set[str]]:
        self._by_digest = {}
        for report_id, signature in self._signatures.items():
            self._by_digest.setdefault(signature.digest, set()).add(report_id)
        return self._by_digest

    def _similar_pairs(self) -> Iterable[tuple[str, str]]:
        """Every pair that shares an LSH band, reaches the threshold and agrees."""
        ids = [i for i, sig in self._signatures.items() if sig.minhash is not None]
        if len(ids) < 2:
            return
        matrix = np.stack([self._signatures[i].minhash for i in ids])
        pairs = np.unique(np.concatenate([_band_pairs(matrix[:, a:b])
                                          for a, b in _bands(self.threshold, self.num_perm)]), axis=0)
        if not len(pairs):
            return
        alike = np.count_nonzero(matrix[pairs[:, 0]] == matrix[pairs[:, 1]], axis=1) / self.num_perm
        for i, j in pairs[alike >= self.threshold].tolist():
            if self._signatures[ids[i]].agrees(self._signatures[ids[j]]):
                yield ids[i], ids[j]

    @property
    def _lsh(self) -> MinHashLSH:
        if self._index is None:
            self._index = MinHashLSH(threshold=_candidates(self.threshold), num_perm=self.num_perm,
                                     params=_lsh_params(self.threshold, self.num_perm))
            with self._index.insertion_session() as session:
                for report_id, signature in self._signatures.items():
                    if signature.minhash is not None:
                        session.insert(report_id, _Hashed(signature.minhash), check_duplication=False)
        return self._index

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._links

    def signature(self, text: str) -> Signature:
        """What ``text`` is compared by (its first line taken as its headline)."""
        return signature(text, self.common, (self._a, self._b), self.shingle_words)

    def add(self, report_id: str, text: str) -> None:
        """Add a report (or replace the one with this id)."""
        self.add_signature(report_id, self.signature(text))

    replace = add

    def remove(self, report_id: str) -> None:
        """Take a report out; an unknown id is ignored."""
        if report_id not in self._links:
            return
        for other in self._links.pop(report_id):
            self._links[other].discard(report_id)
        self._forget(report_id)

    def _forget(self, report_id: str) -> None:
        signature = self._signatures.pop(report_id, None)
        if signature is None:
            return
        if signature.minhash is not None and self._index is not None:
            self._index.remove(report_id)
        same = self._by_digest.get(signature.digest, set())
        same.discard(report_id)
        if not same:
            self._by_digest.pop(signature.digest, None)

    def add_signature(self, report_id: str, signature: Signature) -> None:
        """:meth:`add` with the :meth:`signature` worked out already (in a worker
        process, say, by an object with the same boilerplate: it is the costly part)."""
        self.remove(report_id)
        self._links[report_id] = set()
        if signature.digest is None:
            return  # no words: a group of its own
        for other in self._similar(signature) | self._by_digest.get(signature.digest, set()):
            self._links[report_id].add(other)
            self._links[other].add(report_id)
        if signature.minhash is not None:
            self._lsh.insert(report_id, _Hashed(signature.minhash), check_duplication=False)
        self._signatures[report_id] = signature
        self._by_digest.setdefault(signature.digest, set()).add(report_id)

    def _similar(self, signature: Signature) -> set[str]:
        if signature.minhash is None:
            return set()
        found = set()
        for other in self._lsh.query(_Hashed(signature.minhash)):
            theirs = self._signatures[other]
            alike = np.count_nonzero(signature.minhash == theirs.minhash) / self.num_perm
            if alike >= self.threshold and signature.agrees(theirs):
                found.add(other)
        return found
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
        hashed = [i for i in signed if self._signatures[i].minhash is not None]
        edges = [(position[a], position[b]) for a in ids for b in self._links[a] if a < b]
        meta = {"format": _FORMAT, "threshold": self.threshold, "num_perm": self.num_perm,
                "shingle_words": self.shingle_words}

        def joined(field: str) -> list[str]:
            return [" ".join(sorted(getattr(self._signatures[i], field))) for i in signed]

        texts = {"ids": ids, "digests": [self._signatures[i].digest for i in signed],
                 "figures": joined("figures"), "codes": joined("codes"),
                 "headlines": joined("headline")}
        columns = {f"{name}_{part}": array for name, strings in texts.items()
                   for part, array in _packed(strings).items()}

        def write(f) -> None:
            np.savez(
                f, meta=np.array(json.dumps(meta)), **columns,
                signed=np.array([position[i] for i in signed], dtype=np.int64),
                hashed=np.array([position[i] for i in hashed], dtype=np.int64),
                signatures=np.array([self._signatures[i].minhash for i in hashed],
                                    dtype=np.uint32).reshape(len(hashed), self.num_perm),
                common=self.common,
                edges=np.array(edges, dtype=np.int64).reshape(len(edges), 2),
            )

        store.atomic_write(Path(path), write)  # fsynced; a killed run's temporary file is cleared

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
                arrays = {key: data[key] for key in _ARRAYS}
                arrays.update({key: _unpacked(data[f"{key}_blob"], data[f"{key}_ends"])
                               for key in _TEXTS})
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
            raise NearDuplicatesFileError(str(path), str(e)) from e
        groups = cls(meta["threshold"], meta["num_perm"], meta["shingle_words"],
                     common=arrays.pop("common"))
        groups._restore(**arrays)
        return groups

    def _restore(self, ids, signed, digests, hashed, signatures, figures, codes, headlines,
                 edges) -> None:
        self._links = {report_id: set() for report_id in ids}
        for a, b in edges:
            self._links[ids[a]].add(ids[b])
            self._links[ids[b]].add(ids[a])
        minhashes = {int(p): v for p, v in zip(hashed, signatures)}
        for p, digest, fig, code, head in zip(signed, digests, figures, codes, headlines):
            report_id = ids[p]
            self._signatures[report_id] = Signature(
                minhashes.get(int(p)), str(digest), frozenset(str(fig).split()),
                frozenset(str(code).split()), frozenset(str(head).split()))
            self._by_digest.setdefault(str(digest), set()).add(report_id)


# (candidate threshold, permutations) -> (bands, rows): datasketch's choice,
# which it works out by numerical integration (0.3 s of CPU each time).
_KNOWN_PARAMS = {(0.5, 256): (42, 6)}


@functools.cache
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """The LSH bands and rows of datasketch's index for these parameters."""
    found = _KNOWN_PARAMS.get((round(_candidates(threshold), 6), num_perm))
    if found is None:
        lsh = MinHashLSH(threshold=_candidates(threshold), num_perm=num_perm)
        found = (lsh.b, lsh.r)
    return found


def _bands(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    """The LSH bands (ranges of MinHash values) of that index."""
    bands, rows = _lsh_params(threshold, num_perm)
    return [(k * rows, (k + 1) * rows) for k in range(bands)]


def _candidates(threshold: float) -> float:
    return max(0.05, threshold - CANDIDATE_MARGIN)


def _band_pairs(band: np.ndarray) -> np.ndarray:
    """Row pairs ``(i, j)``, ``i < j``, whose values in this band are all equal."""
    order = np.lexsort(band.T[::-1])
    ordered = band[order]
    cuts = np.flatnonzero(np.concatenate(([True], np.any(ordered[1:] != ordered[:-1], axis=1), [True])))
    found = [list(itertools.combinations(order[a:b].tolist(), 2))
             for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()) if b - a > 1]
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.sort(np.array([pair for run in found for pair in run], dtype=np.int64), axis=1)
