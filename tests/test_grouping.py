"""Near-duplicate groups beside the index: the boilerplate sample and the signer."""

from __future__ import annotations

import numpy as np

from searchapp.grouping import Sample, Signer, report_text
from searchapp.neardup import COMMON_STRIDE, NearDuplicates
from tests.test_neardup import OTHER


def test_sample_takes_one_report_in_a_stride_of_the_first():
    sample = Sample(size=3)
    for n in range(10):
        sample.add({"title": f"t{n}", "body": "b"})
    assert sample._texts == [f"t{n}\nb" for n in range(0, 3 * COMMON_STRIDE, COMMON_STRIDE)]


def test_signer_signs_as_a_rebuild_from_the_stored_fields_does():
    for fields in ({"title": "Grain exports", "body": OTHER}, {"title": "Grain\nexports", "body": OTHER},
                   {"body": OTHER}, {"title": "", "body": ""}):
        signed, rebuilt = Signer(None)(fields), NearDuplicates().signature(report_text(fields))
        assert signed == rebuilt
        assert (signed.minhash is None and rebuilt.minhash is None) or np.array_equal(signed.minhash,
                                                                                      rebuilt.minhash)
    assert Signer(None)({"title": "Grain\nexports", "body": OTHER}).headline == {"grain", "export"}


def test_members_file_packs_the_ids_and_reads_an_older_one(tmp_path):
    from searchapp import grouping
    from tests.test_neardup import ADDED

    seed = "Officials of the First Department were arrested in Rostov-on-Don on charges of fraud. " * 8
    groups = NearDuplicates.build([("a", seed), ("b", seed + ADDED), ("c", OTHER), ("é" * 300, seed)])
    grouping._save(groups, tmp_path)
    members = grouping.load_members(tmp_path)
    assert members == {m: g[0] for g in groups.groups() for m in g} and {"a", "é" * 300} <= set(members)
    with np.load(tmp_path / grouping.MEMBERS_FILE) as data:
        assert "ids" not in data.files and data["ids_blob"].dtype == np.uint8
    np.savez(tmp_path / grouping.MEMBERS_FILE, ids=np.array(["a", "b"]), groups=np.array(["a", "a"]))
    assert grouping.load_members(tmp_path) == {"a": "a", "b": "a"}
