"""Facet counting: the indexed ways of counting give exactly the plain counts."""

from __future__ import annotations

import numpy as np
import pytest

from searchapp import facets
from searchapp.facets import MultiValued, Selection

N = 3000


def _field(rng: np.random.Generator, values: int, most: int) -> MultiValued:
    """Up to ``most`` distinct values per document, some documents without any."""
    docs, ords = [], []
    for doc in range(N):
        held = rng.choice(values, size=rng.integers(0, most + 1), replace=False)
        docs += [doc] * len(held)
        ords += sorted(held.tolist())
    names = [f"value {i:04d}" if i % 3 else f"Value {i:04d}" for i in range(values)]
    return MultiValued(names, np.array(docs, dtype=np.int32), np.array(ords, dtype=np.int32))


def _masks(rng: np.random.Generator):
    for share in (0.0, 0.001, 0.05, 0.2, 0.45, 0.55, 0.9, 0.999, 1.0):
        yield rng.random(N) < share


@pytest.mark.parametrize("most", [1, 4])
def test_counts_over_either_side_of_a_selection_equal_a_plain_count(most):
    rng = np.random.default_rng(most)
    field = _field(rng, 300, most)
    for mask in _masks(rng):
        expected = np.bincount(field.ords[mask[field.docs]], minlength=len(field.values))
        assert field.counts(mask).tolist() == expected.tolist()
        assert field.counts(Selection(mask)).tolist() == expected.tolist()


def test_a_selection_counts_codes_over_its_smaller_side():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 7, N)
    for mask in _masks(rng):
        selection = Selection(mask)
        assert selection.inverted == (mask.sum() > N // 2)
        assert len(selection.docs) == min(mask.sum(), N - mask.sum())
        expected = np.bincount(codes[mask], minlength=7).tolist()
        assert selection.bincount(codes, 7).tolist() == expected
        assert selection.bincount(codes, 7, np.bincount(codes, minlength=7)).tolist() == expected


@pytest.mark.parametrize("most", [1, 4])
def test_a_filter_mask_holds_the_documents_of_its_values(most):
    rng = np.random.default_rng(10 + most)
    field = _field(rng, 300, most)
    for chosen in ([], ["value 0001"], ["VALUE 0003", "value  0007", "nothing"], field.values[:40]):
        wanted = field.matching(chosen)
        expected = np.zeros(N, dtype=bool)
        expected[field.docs[np.isin(field.ords, wanted)]] = True
        assert field.mask(chosen, N).tolist() == expected.tolist()


def _plain_values(field, counts, selected):
    """The values as a full sort gives them: most first, then by name, at most MAX_VALUES besides the selected."""
    chosen = set(field.matching(selected))
    shown = sorted((i for i in range(len(counts)) if counts[i] > 0 or i in chosen),
                   key=lambda i: (-counts[i], field.values[i].lower()))
    out, others = [], 0
    for i in shown:
        if i in chosen or others < facets.MAX_VALUES:
            out.append((field.values[i], int(counts[i]), i in chosen))
        others += i not in chosen
    return out, max(0, others - facets.MAX_VALUES)


@pytest.mark.parametrize("values", [30, 900])
def test_the_values_shown_are_those_of_a_full_sort(values):
    rng = np.random.default_rng(values)
    field = _field(rng, values, 3)
    for mask in _masks(rng):
        counts = field.counts(mask)
        for selected in ([], [field.values[-1]], [field.values[5], field.values[values // 2], "absent"]):
            shown, left_out = facets._values(field, counts, selected)
            expected, expected_left_out = _plain_values(field, counts, selected)
            held = [(v.value, v.count, v.selected) for v in shown]
            assert held[:len(expected)] == expected and left_out == expected_left_out
            assert held[len(expected):] == [(v, 0, True) for v in selected if v == "absent"]


def test_a_union_holds_a_value_held_both_ways_once():
    first = MultiValued(["a", "b"], np.array([0, 0, 2], np.int32), np.array([0, 1, 1], np.int32))
    second = MultiValued(["b", "c"], np.array([0, 1, 2], np.int32), np.array([0, 1, 0], np.int32))
    union = MultiValued.union(first, second)
    assert union.values == ["a", "b", "c"]
    assert list(zip(union.docs.tolist(), union.ords.tolist())) == [(0, 0), (0, 1), (1, 2), (2, 1)]
