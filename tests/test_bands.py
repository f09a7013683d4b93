"""LSH bands as sorted arrays: pairs of a build, queries and merges of an update."""

from __future__ import annotations

import numpy as np

from searchapp.bands import BandIndex, band_keys


def _keys(rows: list[list[int]]) -> np.ndarray:
    """Two bands of two values each."""
    return band_keys(np.array(rows, dtype=np.uint32), 2, 2)


ROWS = [[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 5, 5, 5], [1, 2, 3, 4]]


def test_keys_are_equal_only_for_equal_band_values():
    keys = _keys(ROWS)
    assert keys.shape == (5, 2) and keys.dtype == np.uint64
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] == keys[2, 1]
    assert keys[0, 0] != keys[2, 0] and keys[0, 1] != keys[1, 1]
    assert _keys([[2, 1, 0, 0]])[0, 0] != keys[0, 0]  # the order of the values counts


def test_pairs_share_a_band():
    assert BandIndex.of(_keys(ROWS)).pairs().tolist() == [[0, 1], [0, 2], [0, 4], [1, 4], [2, 4]]
    assert BandIndex.of(_keys(ROWS[:1])).pairs().shape == (0, 2)


def test_query_finds_the_rows_that_share_a_band():
    index = BandIndex.of(_keys(ROWS[1:4]))  # rows 0, 1, 2 = ROWS 1, 2, 3
    assert index.query(_keys([[1, 2, 3, 4], [8, 8, 8, 8], [5, 5, 0, 0]])).tolist() == [
        [0, 0], [0, 1], [2, 2]]
    assert index.query(_keys([[8, 8, 8, 8]])).shape == (0, 2)


def test_replaced_equals_an_index_of_the_result():
    index = BandIndex.of(_keys(ROWS[:3]))
    kept = np.array([True, False, True])
    merged = index.replaced(kept, _keys(ROWS[3:]))
    expected = BandIndex.of(_keys([ROWS[0], ROWS[2], ROWS[3], ROWS[4]]))
    assert merged.keys.tolist() == expected.keys.tolist()
    assert merged.pairs().tolist() == expected.pairs().tolist() == [[0, 1], [0, 3], [1, 3]]
    assert sorted(merged.rows[0].tolist()) == [0, 1, 2, 3]
    assert len(BandIndex.empty(2).replaced(np.zeros(0, dtype=bool), _keys(ROWS))) == 5
