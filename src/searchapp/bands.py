"""The LSH bands of near-duplicate signatures (``neardup``), kept as sorted arrays.

A band is a range of a report's MinHash values; two reports whose values in
some band are all equal are candidates (then checked against the threshold).
Each band's values are hashed into one 64-bit key, and a :class:`BandIndex`
keeps, per band, every report's key sorted with the row it belongs to. A full
build finds its candidates in one sort per band (:meth:`BandIndex.pairs`); an
incremental run looks up only the changed reports' keys
(:meth:`BandIndex.query`, a binary search per band) and merges them in
(:meth:`BandIndex.replaced`), so both find the same candidates.

The bands are those datasketch's ``MinHashLSH`` chooses for the candidate
threshold (:func:`band_ranges`).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["CANDIDATE_MARGIN", "BandIndex", "band_keys", "band_ranges", "lsh_params"]

# The LSH bands are chosen for a threshold this much lower, so that they miss
# few pairs at the threshold itself (chosen for 0.6, datasketch's bands found
# a pair of similarity 0.6 in 42% of cases, 0.7 in 85%; for 0.5: 87% and
# 99.5%); every candidate is then checked against the threshold.
CANDIDATE_MARGIN = 0.1
# (candidate threshold, permutations) -> (bands, rows): datasketch's choice,
# which it works out by numerical integration (0.3 s of CPU each time).
_KNOWN_PARAMS = {(0.5, 256): (42, 6)}
# Odd multipliers that combine a band's values into its key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                dtype=np.uint64)
_ROW = np.int32  # a row number (half the size of the file's band columns)


def candidate_threshold(threshold: float) -> float:
    return max(0.05, threshold - CANDIDATE_MARGIN)


@functools.cache
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """The bands and rows of datasketch's LSH index for this threshold (less the margin)."""
    found = _KNOWN_PARAMS.get((round(candidate_threshold(threshold), 6), num_perm))
    if found is None:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=candidate_threshold(threshold), num_perm=num_perm)
        found = (lsh.b, lsh.r)
    return found


def band_ranges(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    """The LSH bands (ranges of MinHash values) of that index."""
    bands, rows = lsh_params(threshold, num_perm)
    return [(k * rows, (k + 1) * rows) for k in range(bands)]


def band_keys(matrix: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(len(matrix), bands)`` uint64: each band's values of each row hashed into one key."""
    values = np.asarray(matrix, dtype=np.uint64)[:, :bands * rows].reshape(len(matrix), bands, rows)
    with np.errstate(over="ignore"):
        mixed = (values * _MIX[np.arange(rows) % len(_MIX)]).sum(axis=2, dtype=np.uint64)
        mixed ^= mixed >> np.uint64(33)
        mixed *= np.uint64(0xFF51AFD7ED558CCD)
        return mixed ^ (mixed >> np.uint64(33))


class BandIndex:
    """Per band, the keys of every row sorted (``keys``, shape ``(bands, n)``)
    and the row each belongs to (``rows``, the same shape)."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.keys = keys
        self.rows = rows

    @classmethod
    def of(cls, keys: np.ndarray) -> BandIndex:
        """The index of rows with these ``(n, bands)`` keys (row ``i`` is ``keys[i]``)."""
        order = np.argsort(keys, axis=0, kind="stable").T
        return cls(np.take_along_axis(keys.T, order, axis=1), order.astype(_ROW))

    @classmethod
    def empty(cls, bands: int) -> BandIndex:
        return cls(np.zeros((bands, 0), dtype=np.uint64), np.zeros((bands, 0), dtype=_ROW))

    def __len__(self) -> int:
        return self.keys.shape[1]

    def pairs(self) -> np.ndarray:
        """Row pairs ``(i, j)``, ``i < j``, with the same key in some band (unique, sorted)."""
        n = self.keys.shape[1]
        codes = []  # each pair as i * n + j: one sort of integers finds the unique ones
        for keys, rows in zip(self.keys, self.rows):
            cuts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
            lengths = np.diff(cuts)
            for length in np.unique(lengths[lengths > 1]).tolist():  # runs of one length at once
                starts = cuts[:-1][lengths == length]
                run = rows[starts[:, None] + np.arange(length)].astype(np.int64)
                first, second = _combinations(length)
                a, b = run[:, first], run[:, second]
                codes.append((np.minimum(a, b) * n + np.maximum(a, b)).ravel())
        if not codes:
            return np.zeros((0, 2), dtype=np.int64)
        found = np.unique(np.concatenate(codes))
        return np.stack([found // n, found % n], axis=1)

    def query(self, keys: np.ndarray) -> np.ndarray:
        """Pairs ``(q, row)``: query ``q`` (a row of ``keys``, ``(m, bands)``) has the
        same key as ``row`` in some band (unique, sorted)."""
        found = []
        for band, (sorted_keys, rows) in enumerate(zip(self.keys, self.rows)):
            left = np.searchsorted(sorted_keys, keys[:, band], side="left")
            right = np.searchsorted(sorted_keys, keys[:, band], side="right")
            counts = right - left
            if not counts.any():
                continue
            queries = np.repeat(np.arange(len(keys)), counts)
            starts = np.repeat(left - np.cumsum(counts) + counts, counts)
            found.append(np.stack([queries, rows[starts + np.arange(len(queries))]], axis=1))
        if not found:
            return np.zeros((0, 2), dtype=np.int64)
        return np.unique(np.concatenate(found), axis=0)

    def replaced(self, kept: np.ndarray, added: np.ndarray) -> BandIndex:
        """The index with only the rows where ``kept`` (a bool per row) is true,
        renumbered in order, then the rows of ``added`` keys (``(m, bands)``) after them."""
        renumber = (np.cumsum(kept) - 1).astype(_ROW)
        start = int(kept.sum())
        bands = self.keys.shape[0]
        if not bands:
            return BandIndex.empty(0)
        size = start + len(added)
        keys, rows = np.empty((bands, size), dtype=np.uint64), np.empty((bands, size), dtype=_ROW)
        at_old = np.ones(size, dtype=bool)
        for band, (sorted_keys, old_rows) in enumerate(zip(self.keys, self.rows)):
            stays = kept[old_rows]
            order = np.argsort(added[:, band], kind="stable")
            new = added[order, band]
            kept_keys = sorted_keys[stays]
            # where np.insert(kept_keys, searchsorted(..., "right"), new) puts each new key
            at_new = np.searchsorted(kept_keys, new, side="right") + np.arange(len(new))
            at_old[:] = True
            at_old[at_new] = False
            keys[band, at_old], keys[band, at_new] = kept_keys, new
            rows[band, at_old], rows[band, at_new] = renumber[old_rows[stays]], start + order
        return BandIndex(keys, rows)


@functools.lru_cache(maxsize=64)
def _combinations(length: int) -> tuple[np.ndarray, np.ndarray]:
    """The index pairs of ``itertools.combinations(range(length), 2)``, in two arrays."""
    return np.triu_indices(length, 1)
