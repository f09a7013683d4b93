"""What a report is compared by for near-duplicates (``neardup``): its words,
their shingles as 64-bit hashes, the collection's boilerplate shingles, and a
:class:`Signature` (MinHash values, a digest of the words, figures, codes and
headline), worked out in NumPy in the indexing processes.

The words are the report's index terms (``analysis.analyze`` of its title,
then of its body: stemmed, stopwords left out). The indexing process has
analysed both for the postings just before, so they cost a cache lookup
there, where a tokenising of their own took a third of a signature's time.

A shingle is a hash of its words: each word hashed once (blake2b, kept per
process), the words of a run combined with odd multipliers and MurmurHash3's
finaliser; the MinHash values are datasketch's affine32 permutations of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .analysis import analyze

__all__ = ["COMMON_SAMPLE", "COMMON_STRIDE", "Signature", "common_shingles", "minhash_values", "normalised_words", "shingle_of",
           "shingles", "signature", "signature_of"]

FIGURES_AGREE = 0.5
CODES_AGREE = 0.5
HEADLINE_AGREE = 0.4
MIN_SHINGLES = 20  # a shorter text (boilerplate aside) matches exact copies only
# Index terms a shingle takes. On the labelled pairs (benchmarks/neardup_bench.py, threshold 0.6):
# 2 terms precision 0.98, recall 0.85; 3 terms 0.98 / 0.78; 3 words as written (before) 1.00 / 0.86.
SHINGLE_WORDS = 2
COMMON_SHARE = 0.002  # a shingle in this share of the reports (and ...
COMMON_MIN_REPORTS = 10  # ... in at least this many) is boilerplate
COMMON_SAMPLE = 5_000  # reports a build learns the boilerplate from: ...
# ... one in this many of the first COMMON_SAMPLE * COMMON_STRIDE. Analysing a text costs as
# much as its whole signature; on the labelled pairs, every report of the pool or one in two
# find the same pairs but one (reuters 2185 / 2215) or none (the other half).
COMMON_STRIDE = 2
# Odd multipliers that combine a run's word hashes into the shingle's hash.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                dtype=np.uint64)
_ROWS = 8192  # shingles a MinHash takes at once (bounds the memory of a huge report)
_WORD_CACHE = 500_000  # words whose hash a process keeps
_FIGURE = re.compile(r"\d(?:[\w.,/:-]*\w)?")
_CODE = re.compile(r"\b[a-z]++-\d++(?:-\d++)+\b")  # possessive: half the time, the same matches


def normalised_words(text: str) -> list[str]:
    """The words ``text`` is compared by: the index terms of its first line (the
    headline), then those of the rest (punctuation, spacing, case, endings and
    stopwords ignored)."""
    title, _, body = text.partition("\n")
    return analyze(title) + analyze(body)


class _WordHashes(dict):
    """Word -> its 64-bit hash, worked out the first time a word is seen (per process:
    most words come again and again, and a lookup is a C call)."""

    def __missing__(self, word: str) -> int:
        if len(self) >= _WORD_CACHE:
            self.clear()
        found = self[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return found


_word_hashes = _WordHashes()


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser: every bit of the result depends on every bit of ``h``."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """The hashes of the runs of ``size`` consecutive words, sorted and unique
    (uint64); a text shorter than that is one shingle, a text without words none."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    hashed = np.fromiter(map(_word_hashes.__getitem__, words), dtype=np.uint64, count=len(words))
    runs = max(1, len(words) - size + 1)
    # (array arithmetic wraps around silently: no np.errstate needed, which costs as much as a step)
    mixed = hashed[:runs] * _MIX[0]
    for k in range(1, min(size, len(words))):
        mixed += hashed[k:k + runs] * _MIX[k % len(_MIX)]
    mixed += np.uint64(min(size, len(words)))
    return _unique(_fmix64(mixed))


def _unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-d array, in a third of the time (its wrapper's cost)."""
    values.sort()
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def shingle_of(text: str, size: int = SHINGLE_WORDS) -> int:
    """The hash of one shingle given as its words (``"minimize network exposure"``)."""
    return int(shingles(normalised_words(text), size)[0])


def common_shingles(texts: Iterable[str], share: float = COMMON_SHARE,
                    min_reports: int = COMMON_MIN_REPORTS,
                    size: int = SHINGLE_WORDS) -> np.ndarray:
    """The shingles found in at least ``share`` of the texts (and in at least
    ``min_reports`` of them): the collection's boilerplate (sorted hashes)."""
    found = [shingles(normalised_words(text), size) for text in texts]
    if not found:
        return np.zeros(0, dtype=np.uint64)
    values, counts = np.unique(np.concatenate(found), return_counts=True)
    return values[counts >= max(min_reports, share * len(found))]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


@dataclass(frozen=True)
class Signature:
    """What a report is compared by (worked out once, possibly in a worker).

    ``minhash`` (the MinHash values, ``num_perm`` uint32) is None when the
    text is nothing but boilerplate, ``digest`` None when it has no words (a
    report that groups with nothing).
    """

    minhash: np.ndarray | None = field(compare=False)
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


def signature(text: str, common: np.ndarray, permutations: tuple[np.ndarray, np.ndarray],
              shingle_words: int = SHINGLE_WORDS) -> Signature:
    """What ``text`` is compared by (its first line taken as its headline), with the
    boilerplate shingles ``common`` left out and MinHash ``permutations`` (a, b)."""
    title, _, body = text.partition("\n")
    return signature_of(title, body, common, permutations, shingle_words)


def signature_of(title: str, body: str, common: np.ndarray,
                 permutations: tuple[np.ndarray, np.ndarray],
                 shingle_words: int = SHINGLE_WORDS) -> Signature:
    """:func:`signature` of ``title`` (one line), a newline and ``body``."""
    headline = analyze(title)
    words = headline + analyze(body)  # normalised_words(text)
    if not words:
        return Signature(None, None)
    digest = hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()
    own = shingles(words, shingle_words)
    if len(common):  # both sorted: one binary search each
        at = np.searchsorted(common, own)
        np.minimum(at, len(common) - 1, out=at)
        own = own[common[at] != own]
    # Too short (or nothing but boilerplate): only exact copies match, since one
    # other word there ("SUN raises crude postings", "PHILLIPS raises ...") is
    # another story.
    minhash = minhash_values(own, *permutations) if len(own) >= MIN_SHINGLES else None
    lowered = f"{title}\n{body}".lower()
    return Signature(minhash, digest, frozenset(_FIGURE.findall(lowered)),
                     frozenset(_CODE.findall(lowered)), frozenset(headline))


def minhash_values(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """datasketch's affine32 permutations ``a * h + b`` over the (already mixed)
    shingle hashes: one uint32 minimum per permutation."""
    if not len(hashes):
        return np.full(len(a), np.iinfo(np.uint32).max, dtype=np.uint32)
    folded = (hashes ^ (hashes >> np.uint64(32))).astype(np.uint32)  # the low 32 bits
    out = (folded[:_ROWS, None] * a + b).min(axis=0)
    for start in range(_ROWS, len(folded), _ROWS):
        np.minimum(out, (folded[start:start + _ROWS, None] * a + b).min(axis=0), out=out)
    return out
