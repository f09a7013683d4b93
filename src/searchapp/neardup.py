"""Near-duplicate reports grouped: MinHash with LSH over word shingles.

Two reports are near-duplicates when their normalised texts are equal (a hash
of the words), or when they tell the same story in nearly the same words.
The words are the report's index terms (stemmed, stopwords left out: see
``shingling``), and a shingle is a run of two of them (about the span of
three words as written).


* the estimated Jaccard similarity of their word shingles reaches the
  threshold (MinHash; LSH bands, as datasketch chooses them, find the candidates),
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
text with SHA-1 took about 1 ms). The LSH bands (datasketch's choice of
bands) are kept as sorted arrays of band keys (``bands``): a full build finds
its candidate pairs with one sort per band over every signature
(:meth:`NearDuplicates.from_signatures`); an incremental run
(:meth:`NearDuplicates.update`) looks up only the changed reports' keys, so
both find the same pairs, and its cost does not grow with the collection's
size beyond copying the arrays.

>>> groups = NearDuplicates.build([("a", "the cat sat on the mat " * 5), ("b", "")])
>>> groups.replace("c", "The cat sat on the mat. " * 5)
>>> groups.group_of("a"), groups.members("a"), groups.group_of("b")
('a', ('a', 'c'), 'b')

The thresholds were chosen by ``benchmarks/neardup_bench.py`` on labelled
Reuters and CISA pairs.
"""

from __future__ import annotations

import itertools
import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from searchapp import collector, store
from searchapp.bands import BandIndex, band_keys, lsh_params
from searchapp.minhash_rows import RowsFile, open_rows, remove_unused, save_rows
from searchapp.errors import SearchAppError
from searchapp.signature_table import Signatures, pack, unpack
from searchapp.shingling import (  # noqa: F401  (this module's API, as before)
    COMMON_SAMPLE, COMMON_STRIDE, SHINGLE_WORDS, Signature, common_shingles, normalised_words, shingle_of, shingles,
    signature, signature_of,
)

__all__ = ["NearDuplicates", "NearDuplicatesFileError", "Signature", "common_shingles",
           "normalised_words", "shingles"]

THRESHOLD = 0.6  # LSH bands chosen for THRESHOLD - CANDIDATE_MARGIN (see ``bands``)
NUM_PERM = 256  # 128: more estimate noise at the threshold (recall 0.77 with these hashes); +0.02 ms a report
_SEED = 1  # datasketch's default


@functools.cache
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` of datasketch's ``affine32`` permutations ``a * h + b`` of
    ``MinHash(num_perm, seed=1)``, made as it makes them (``RandomState(1)``:
    odd multipliers, then offsets) without importing datasketch, whose package
    imports SciPy's integrate (1.3 s in every process);
    ``tests/test_neardup.py`` checks that they are datasketch's own."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b

# 2: strings as one UTF-8 blob and offsets (fixed-width columns grew to GBs); 3: hashed shingles;
# 4: the LSH band arrays; 5: the MinHash values in a rows file of their own (``minhash_rows``)
_FORMAT = 5
_ARRAYS = ("signed", "hashed", "hashed_rows", "edges", "common", "band_keys", "band_rows")


class NearDuplicatesFileError(SearchAppError):
    """The saved near-duplicate groups cannot be read."""

    status = 503

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot read the near-duplicate groups in {path}: {reason}; "
                         "rebuild them with a full reindex")


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
        self._a, self._b = permutations(num_perm)
        self._shape = lsh_params(threshold, num_perm)  # (bands, rows)
        self._bands = BandIndex.empty(self._shape[0])
        self._row_ids: list[str] = []  # the reports with MinHash values, by their row in _bands
        self._signatures = Signatures()  # reports with words
        self._by_digest: dict[str, set[str]] = {}
        self._links: dict[str, set[str]] = {}
        self._rows: tuple[RowsFile, np.ndarray] | None = None  # the rows file loaded from, and its rows

    @classmethod
    def build(cls, reports: Iterable[tuple[str, str]], sample: int = COMMON_SAMPLE,
              **params) -> NearDuplicates:
        """Groups of ``(report id, text)`` pairs, the boilerplate learned from
        ``sample`` of them, one in :data:`COMMON_STRIDE` of the first (only
        those are held in memory)."""
        iterator = iter(reports)
        first = list(itertools.islice(iterator, sample * COMMON_STRIDE))
        if "common" not in params:
            params["common"] = common_shingles((text for _, text in first[::COMMON_STRIDE]),
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
        signed = dict(signed)
        groups._links = {report_id: set() for report_id in signed}
        groups._signatures = Signatures({i: s for i, s in signed.items() if s.digest is not None})
        for report_id, signature in groups._signatures.items():
            groups._by_digest.setdefault(signature.digest, set()).add(report_id)
        for members in groups._by_digest.values():
            for report_id in members:
                groups._links[report_id].update(members - {report_id})
        groups._row_ids = [i for i, s in groups._signatures.items() if s.minhash is not None]
        matrix = groups._matrix(groups._row_ids)
        keys = band_keys(matrix, *groups._shape)
        groups._bands = BandIndex.of(keys)
        pairs = groups._bands.pairs()
        alike = np.count_nonzero(matrix[pairs[:, 0]] == matrix[pairs[:, 1]], axis=1) / groups.num_perm
        for i, j in pairs[alike >= groups.threshold].tolist():
            groups._link_if_agree(groups._row_ids[i], groups._row_ids[j])
        return groups

    def _matrix(self, ids: list[str]) -> np.ndarray:
        """The MinHash values of these reports, one row each."""
        return np.array([self._signatures[i].minhash for i in ids],
                        dtype=np.uint32).reshape(len(ids), self.num_perm)

    def _link_if_agree(self, a: str, b: str) -> None:
        if self._signatures[a].agrees(self._signatures[b]):
            self._links[a].add(b)
            self._links[b].add(a)

    def _link_if_similar(self, a: str, b: str) -> None:
        alike = np.count_nonzero(self._signatures[a].minhash == self._signatures[b].minhash)
        if alike / self.num_perm >= self.threshold:
            self._link_if_agree(a, b)

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._links

    def signature(self, text: str) -> Signature:
        """What ``text`` is compared by (its first line taken as its headline)."""
        return signature(text, self.common, (self._a, self._b), self.shingle_words)

    def signature_of(self, title: str, body: str) -> Signature:
        """:meth:`signature` of ``title`` (one line), a newline and ``body``."""
        return signature_of(title, body, self.common, (self._a, self._b), self.shingle_words)

    def add(self, report_id: str, text: str) -> None:
        """Add a report (or replace the one with this id)."""
        self.add_signature(report_id, self.signature(text))

    replace = add

    def remove(self, report_id: str) -> None:
        """Take a report out; an unknown id is ignored."""
        self.update([report_id], [])

    def add_signature(self, report_id: str, signature: Signature) -> None:
        """:meth:`add` with the :meth:`signature` worked out already (in a worker
        process, say, by an object with the same boilerplate: it is the costly part)."""
        self.update([], [(report_id, signature)])

    def update(self, removed: Iterable[str], signed: Iterable[tuple[str, Signature]]) -> None:
        """Take the ``removed`` reports out (unknown ids are ignored) and put the
        ``signed`` ones in, replacing those of the same id: the groups that
        :meth:`from_signatures` would find for the result. Only the new reports'
        LSH band keys are looked up."""
        added = dict(signed)
        for report_id in set(removed) | set(added):
            self._drop(report_id)
        kept = np.array([i in self._signatures for i in self._row_ids], dtype=bool)
        for report_id, signature in sorted(added.items()):
            self._links[report_id] = set()
            if signature.digest is None:
                continue  # no words: a group of its own
            same = self._by_digest.setdefault(signature.digest, set())
            for other in same:
                self._links[report_id].add(other)
                self._links[other].add(report_id)
            same.add(report_id)
            self._signatures[report_id] = signature
        new = [i for i, s in sorted(added.items()) if s.digest is not None and s.minhash is not None]
        keys = band_keys(self._matrix(new), *self._shape)
        for q, row in self._bands.query(keys).tolist():
            if kept[row]:
                self._link_if_similar(new[q], self._row_ids[row])
        for i, j in BandIndex.of(keys).pairs().tolist():
            self._link_if_similar(new[i], new[j])
        self._bands = self._bands.replaced(kept, keys)
        self._row_ids = [i for i, k in zip(self._row_ids, kept.tolist()) if k] + new

    def _drop(self, report_id: str) -> None:
        """The report's links, signature and digest entry taken out (its band row stays)."""
        for other in self._links.pop(report_id, ()):
            self._links[other].discard(report_id)
        signature = self._signatures.pop(report_id, None)
        if signature is None:
            return
        same = self._by_digest.get(signature.digest, set())
        same.discard(report_id)
        if not same:
            self._by_digest.pop(signature.digest, None)

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
        with collector.paused():
            self._save(path)

    def _save(self, path: str | os.PathLike) -> None:
        ids = sorted(self._links)
        position = {report_id: i for i, report_id in enumerate(ids)}
        edges = [(position[a], position[b]) for a in ids for b in self._links[a] if a < b]
        meta = {"format": _FORMAT, "threshold": self.threshold, "num_perm": self.num_perm,
                "shingle_words": self.shingle_words}
        signed, digests, words, sources = self._signatures.columns(self._row_ids)
        fresh = np.array([self._signatures[self._row_ids[n]].minhash for n in np.flatnonzero(sources < 0).tolist()],
                         dtype=np.uint32).reshape(-1, self.num_perm)
        path = Path(path)
        previous, stored = self._rows if self._rows is not None else (None, None)
        rows_file, hashed_rows = save_rows(path.parent, path.stem, previous, stored, sources, fresh)
        meta["minhash_file"], meta["minhash_rows"] = rows_file.path.name, rows_file.rows
        texts = {"ids": pack(ids), "digests": pack(digests), "figures": words["figures"],
                 "codes": words["codes"], "headlines": words["headline"]}
        columns = {f"{name}_{part}": array for name, (blob, ends) in texts.items()
                   for part, array in (("blob", blob), ("ends", ends))}

        def write(f) -> None:
            np.savez(
                f, meta=np.array(json.dumps(meta)), **columns,
                signed=np.array([position[i] for i in signed], dtype=np.int64),
                hashed=np.array([position[i] for i in self._row_ids], dtype=np.int64), hashed_rows=hashed_rows,
                band_keys=self._bands.keys, band_rows=self._bands.rows, common=self.common,
                edges=np.array(edges, dtype=np.int64).reshape(len(edges), 2),
            )

        store.atomic_write(path, write)  # fsynced; a killed run's temporary file is cleared
        if previous is not None and rows_file.path == previous.path:
            # appended: a next save appends after these rows (the loaded ones' rows are unchanged);
            # rewritten: the loaded ones stay rows of the old file, still mapped once it is removed
            self._rows = (rows_file, stored)
        remove_unused(path.parent, path.stem, rows_file)  # the file the groups file in place used before

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
                arrays["rows"] = open_rows(Path(path).parent, str(meta["minhash_file"]), int(meta["minhash_rows"]),
                                           int(meta["num_perm"]))
                arrays.update({key: unpack(data[f"{key}_blob"], data[f"{key}_ends"]) for key in ("ids", "digests")})
                arrays.update({key: (data[f"{key}_blob"], data[f"{key}_ends"])
                               for key in ("figures", "codes", "headlines")})
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
            raise NearDuplicatesFileError(str(path), str(e)) from e
        groups = cls(meta["threshold"], meta["num_perm"], meta["shingle_words"],
                     common=arrays.pop("common"))
        try:
            with collector.paused():
                groups._restore(**arrays)
        except (ValueError, IndexError) as e:
            raise NearDuplicatesFileError(str(path), str(e)) from e
        return groups

    def _restore(self, ids, signed, digests, hashed, hashed_rows, rows, figures, codes, headlines,
                 edges, band_keys, band_rows) -> None:
        if band_keys.shape != (self._shape[0], len(hashed)) or band_rows.shape != band_keys.shape:
            raise ValueError(f"band arrays of shape {band_keys.shape} for {len(hashed)} signatures")
        if hashed_rows.shape != hashed.shape or (len(hashed_rows) and not
                                                  0 <= hashed_rows.min() <= hashed_rows.max() < rows[0].rows):
            raise ValueError(f"{len(hashed)} signatures' rows not in the {rows[0].rows} of {rows[0].path.name}")
        self._rows = rows
        self._bands = BandIndex(band_keys, band_rows)
        self._row_ids = [ids[p] for p in hashed.tolist()]
        self._links = {report_id: set() for report_id in ids}
        for a, b in edges:
            self._links[ids[a]].add(ids[b])
            self._links[ids[b]].add(ids[a])
        if len(signed) != len(digests) or any(len(ends) != len(signed) for _, ends in (figures, codes, headlines)):
            raise ValueError(f"{len(signed)} signed reports, {len(digests)} digests")
        row_of = np.full(len(ids), -1, dtype=np.int64)  # each report's row of the rows file
        row_of[hashed] = hashed_rows
        self._signatures = Signatures.stored(
            [ids[p] for p in signed.tolist()], digests,
            {"figures": figures, "codes": codes, "headline": headlines}, row_of[signed], rows[1])
        for report_id, digest in self._signatures.digest_items():
            self._by_digest.setdefault(digest, set()).add(report_id)
