"""engine.groups.GroupMap: each document's near-duplicate group, read in one
sorted lookup, as the lookup of one member at a time found it."""

import numpy as np
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage

from searchapp.engine import whoosh_internals as wi
from searchapp.engine.groups import GroupMap


def _index(tmp_path):
    """Four segments, deletions and an updated report (its id in two segments)."""
    ix = FileStorage(str(tmp_path)).create().create_index(Schema(id=ID(stored=True, unique=True), body=TEXT))
    for batch in (range(0, 40), range(40, 70), range(70, 90)):
        with ix.writer() as w:
            w.merge = False
            for n in batch:
                w.add_document(id=f"r{n:03d}", body=f"text {n}")
            if n == 89:
                w.add_document(id="r080", body="twice")  # two documents of one term in one segment
    with ix.writer() as w:
        w.merge = False
        w.delete_by_term("id", "r005")
        w.delete_by_term("id", "r071")
        w.update_document(id="r010", body="changed")  # old one deleted, new one in a fourth segment
        w.add_document(id="é-ü", body="accents")
    return ix


def _old_map(searcher, members):
    """The construction this replaces: one document_number query a member."""
    ids = sorted(set(members.values()))
    of = np.full(searcher.reader().doc_count_all(), -1, dtype=np.int32)
    for report_id, group in members.items():
        docnum = searcher.document_number(id=report_id)
        if docnum is not None:
            of[docnum] = ids.index(group)
    return ids, of


def test_group_map_is_the_one_member_at_a_time_map(tmp_path):
    ix = _index(tmp_path)
    members = {f"r{n:03d}": f"r{n - n % 7:03d}" for n in range(0, 95, 2)}  # r090.. are in no document
    members.update({"r005": "r000", "r071": "r070", "r010": "r007", "é-ü": "é-ü", "missing": "é-ü"})
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) == 4
        groups = GroupMap(s, members)
        ids, of = _old_map(s, members)
        assert groups.ids == ids
        assert np.array_equal(groups.of, of)
        assert groups.group_id(s.document_number(id="r010")) == "r007"
        assert groups.group_id(s.document_number(id="r001")) is None
        assert groups.total.tolist() == np.bincount(of.astype(np.int64) + 1, minlength=len(ids) + 1).tolist()


def test_group_map_without_members(tmp_path):
    with _index(tmp_path).searcher() as s:
        groups = GroupMap(s, {})
        assert groups.ids == [] and not (groups.of >= 0).any()


def test_unique_docs_are_document_number(tmp_path):
    with _index(tmp_path).searcher() as s:
        docs = wi.unique_docs(s.reader(), "id")
        live_ids = {f["id"] for f in s.all_stored_fields()}
        assert sorted(docs) == sorted(live_ids)
        assert docs == {t: s.document_number(id=t) for t in live_ids}


def test_unique_docs_of_another_codec_read_the_plain_way(tmp_path, monkeypatch):
    with _index(tmp_path).searcher() as s:
        raw = wi.unique_docs(s.reader(), "id")
        monkeypatch.setattr(wi, "W3TermsReader", type("Other", (), {}))
        assert wi.unique_docs(s.reader(), "id") == raw
        assert len(raw) == 89
