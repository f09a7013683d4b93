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

>>> groups = NearDuplicates.build([("a", "the cat sat on the mat " * 5), ("b", "")])
>>> groups.replace("c", "The cat sat on the mat. " * 5)
>>> groups.group_of("a"), groups.members("a"), groups.group_of("b")
('a', ('a', 'c'), 'b')

The thresholds were chosen by ``benchmarks/neardup_bench.py`` on labelled
Reuters and CISA pairs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from searchapp import store
from searchapp.errors import SearchAppError

__all__ = ["NearDuplicates", "NearDuplicatesFileError", "Signature", "common_shingles",
           "normalised_words", "shingles"]

THRESHOLD = 0.6
FIGURES_AGREE = 0.5
CODES_AGREE = 0.5
HEADLINE_AGREE = 0.4
MIN_SHINGLES = 20  # a shorter text (boilerplate aside) matches exact copies only
NUM_PERM = 128
SHINGLE_WORDS = 3
COMMON_SHARE = 0.002  # a shingle in this share of the reports (and ...
COMMON_MIN_REPORTS = 10  # ... in at least this many) is boilerplate
COMMON_SAMPLE = 10_000  # reports a build learns the boilerplate from
_SCHEME = "affine32"
_FORMAT = 2  # 2: strings as one UTF-8 blob and offsets (fixed-width columns grew to GBs)
_WORD = re.compile(r"\w+")
_FIGURE = re.compile(r"\d(?:[\w.,/:-]*\w)?")
_CODE = re.compile(r"\b[a-z]+-\d+(?:-\d+)+\b")
_TEXTS = ("ids", "digests", "figures", "codes", "headlines", "common")
_ARRAYS = ("signed", "hashed", "signatures", "edges")


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


def common_shingles(texts: Iterable[str], share: float = COMMON_SHARE,
                    min_reports: int = COMMON_MIN_REPORTS,
                    size: int = SHINGLE_WORDS) -> frozenset[bytes]:
    """The shingles found in at least ``share`` of the texts (and in at least
    ``min_reports`` of them): the collection's boilerplate."""
    counts: Counter[bytes] = Counter()
    total = 0
    for text in texts:
        counts.update(shingles(normalised_words(text), size))
        total += 1
    floor = max(min_reports, share * total)
    return frozenset(shingle for shingle, n in counts.items() if n >= floor)


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


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


@dataclass(frozen=True)
class Signature:
    """What a report is compared by (worked out once, possibly in a worker).

    ``minhash`` is None when the text is nothing but boilerplate, ``digest``
    None when it has no words (a report that groups with nothing).
    """

    minhash: MinHash | None
    digest: str | None
    figures: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    headline: frozenset[str] = frozenset()

    def agrees(self, other: Signature) -> bool:
        """Same figures, codes and headline subject (each when both have them)."""
        if _jaccard(self.figures, other.figures) < FIGURES_AGREE:
            return False
        if self.codes and other.codes and _jaccard(self.codes, other.codes) < CODES_AGREE:
            return False
        return not (self.headline and other.headline
                    and _jaccard(self.headline, other.headline) < HEADLINE_AGREE)


class NearDuplicates:
    """The near-duplicate groups of a collection, updated report by report.

    :param threshold: estimated Jaccard similarity of shingle sets from which
        two reports are near-duplicates.
    :param common: boilerplate shingles, left out of every comparison.
    """

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM,
                 shingle_words: int = SHINGLE_WORDS, common: Iterable[bytes] = ()) -> None:
        self.common = frozenset(common)
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_words = shingle_words
        self._permutations = MinHash(num_perm=num_perm, scheme=_SCHEME).permutations
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
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
        params.setdefault("common", common_shingles(
            (text for _, text in first), size=params.get("shingle_words", SHINGLE_WORDS)))
        groups = cls(**params)
        for report_id, text in itertools.chain(first, iterator):
            groups.add(report_id, text)
        return groups

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, report_id: object) -> bool:
        return report_id in self._links

    def signature(self, text: str) -> Signature:
        """What ``text`` is compared by (its first line taken as its headline)."""
        words = normalised_words(text)
        if not words:
            return Signature(None, None)
        digest = hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()
        own = shingles(words, self.shingle_words) - self.common
        # Too short (or nothing but boilerplate): only exact copies match, since one
        # other word there ("SUN raises crude postings", "PHILLIPS raises ...") is
        # another story.
        minhash = None
        if len(own) >= MIN_SHINGLES:
            minhash = MinHash(num_perm=self.num_perm, permutations=self._permutations,
                              scheme=_SCHEME)
            minhash.update_batch(list(own))
        lowered = text.lower()
        return Signature(minhash, digest, frozenset(_FIGURE.findall(lowered)),
                         frozenset(_CODE.findall(lowered)),
                         frozenset(normalised_words(text.split("\n", 1)[0])))

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
        signature = self._signatures.pop(report_id, None)
        if signature is None:
            return
        if signature.minhash is not None:
            self._lsh.remove(report_id)
        same = self._by_digest[signature.digest]
        same.discard(report_id)
        if not same:
            del self._by_digest[signature.digest]

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
            self._lsh.insert(report_id, signature.minhash, check_duplication=False)
        self._signatures[report_id] = signature
        self._by_digest.setdefault(signature.digest, set()).add(report_id)

    def _similar(self, signature: Signature) -> set[str]:
        if signature.minhash is None:
            return set()
        found = set()
        for other in self._lsh.query(signature.minhash):
            theirs = self._signatures[other]
            if (signature.minhash.jaccard(theirs.minhash) >= self.threshold
                    and signature.agrees(theirs)):
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
                 "headlines": joined("headline"),
                 "common": sorted(c.decode() for c in self.common)}
        columns = {f"{name}_{part}": array for name, strings in texts.items()
                   for part, array in _packed(strings).items()}

        def write(f) -> None:
            np.savez(
                f, meta=np.array(json.dumps(meta)), **columns,
                signed=np.array([position[i] for i in signed], dtype=np.int64),
                hashed=np.array([position[i] for i in hashed], dtype=np.int64),
                signatures=np.array([self._signatures[i].minhash.hashvalues for i in hashed],
                                    dtype=np.uint32).reshape(len(hashed), self.num_perm),
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
                     common=(c.encode() for c in arrays.pop("common")))
        groups._restore(**arrays)
        return groups

    def _restore(self, ids, signed, digests, hashed, signatures, figures, codes, headlines,
                 edges) -> None:
        self._links = {report_id: set() for report_id in ids}
        for a, b in edges:
            self._links[ids[a]].add(ids[b])
            self._links[ids[b]].add(ids[a])
        minhashes = {int(p): MinHash(hashvalues=v, permutations=self._permutations,
                                     scheme=_SCHEME) for p, v in zip(hashed, signatures)}
        with self._lsh.insertion_session() as session:
            for p, digest, fig, code, head in zip(signed, digests, figures, codes, headlines):
                report_id, minhash = ids[p], minhashes.get(int(p))
                self._signatures[report_id] = Signature(
                    minhash, str(digest), frozenset(str(fig).split()),
                    frozenset(str(code).split()), frozenset(str(head).split()))
                self._by_digest.setdefault(str(digest), set()).add(report_id)
                if minhash is not None:
                    session.insert(report_id, minhash, check_duplication=False)
