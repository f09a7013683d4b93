"""engine.term_tables: a reader state made from the segments' kept term tables
equals one read from the postings, across commits that add, merge and drop segments."""

import numpy as np
from whoosh.filedb.filestore import FileStorage

from searchapp.engine import state as engine_state
from searchapp.engine import whoosh_internals as wi
from searchapp.engine.term_tables import PREFIX, TermTables
from searchapp.schema import build_schema


def _add(ix, numbers, merge=False, delete=()):
    with ix.writer() as w:
        w.merge = merge
        for report_id in delete:
            w.delete_by_term("id", report_id)
        for n in numbers:
            w.add_document(id=f"r{n:03d}", body=f"text {n}", source=f"Source {n % 3}",
                           topic=f"T{n % 4},Shared", date=f"2024-0{1 + n % 9}-1{n % 10}",
                           language="en" if n % 2 else "fr")


def _assert_same_state(reader, folder):
    fresh = engine_state.ReaderState(reader)  # read from the postings
    kept = engine_state.ReaderState(reader, terms=TermTables(reader, engine_state.TERM_FIELDS, folder))
    for field in engine_state.TERM_FIELDS:
        expected = wi.field_terms(reader, field)
        found = TermTables(reader, engine_state.TERM_FIELDS, folder).field_terms(field)
        assert list(found) == list(expected)
        assert all(np.array_equal(found[t], expected[t]) and found[t].dtype == expected[t].dtype for t in expected)
    assert np.array_equal(kept.live, fresh.live) and np.array_equal(kept.day, fresh.day)
    for field in engine_state.FIELDS:
        a, b = getattr(kept, field), getattr(fresh, field)
        assert a.values == b.values and np.array_equal(a.docs, b.docs) and np.array_equal(a.ords, b.ords)


def _tables(folder):
    return sorted(p.name for p in folder.glob(f"{PREFIX}*.npz"))


def test_state_from_kept_tables_equals_the_postings_across_commits(tmp_path):
    index, kept = tmp_path / "index", tmp_path / "kept"
    index.mkdir(), kept.mkdir()
    ix = FileStorage(str(index)).create_index(build_schema())
    _add(ix, range(0, 30))
    _add(ix, range(30, 45))
    with ix.reader() as reader:
        TermTables(reader, engine_state.TERM_FIELDS, kept, writable=True)
        assert len(_tables(kept)) == 2
        _assert_same_state(reader, kept)
    first = _tables(kept)
    _add(ix, range(45, 50), delete=["r003", "r031"])  # deletions in kept segments, a new one
    with ix.reader() as reader:
        TermTables(reader, engine_state.TERM_FIELDS, kept, writable=True)
        assert set(first) < set(_tables(kept)) and len(_tables(kept)) == 3
        _assert_same_state(reader, kept)
    _add(ix, [60], merge=True, delete=[f"r{n:03d}" for n in range(30, 45)])  # segments merged and dropped
    with ix.reader() as reader:
        TermTables(reader, engine_state.TERM_FIELDS, kept, writable=True)
        ids = {wi.segment_id(seg) for seg, _ in reader.leaf_readers()}
        assert _tables(kept) == sorted(f"{PREFIX}{i}.npz" for i in ids)  # the others' tables removed
        _assert_same_state(reader, kept)


def test_a_table_that_does_not_fit_its_segment_is_read_again(tmp_path):
    index, kept = tmp_path / "index", tmp_path / "kept"
    index.mkdir(), kept.mkdir()
    ix = FileStorage(str(index)).create_index(build_schema())
    _add(ix, range(0, 10))
    with ix.reader() as reader:
        TermTables(reader, engine_state.TERM_FIELDS, kept, writable=True)
    other = FileStorage(str(tmp_path / "other")).create().create_index(build_schema())
    _add(other, range(0, 3))
    with ix.reader() as reader, other.reader() as small:
        (name,) = _tables(kept)
        (kept / f"{PREFIX}{wi.segment_id(small)}.npz").unlink(missing_ok=True)
        TermTables(small, engine_state.TERM_FIELDS, kept, writable=True)
        # the small index's table put where the large one's was: 3 documents, not 10
        (kept / f"{PREFIX}{wi.segment_id(small)}.npz").rename(kept / name)
        _assert_same_state(reader, kept)
