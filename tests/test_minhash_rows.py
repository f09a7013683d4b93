"""minhash_rows: the saved groups' MinHash values appended to their rows file,
not rewritten, and the same signatures as a build's after every save."""

from __future__ import annotations

import json

import numpy as np
import pytest

from searchapp import minhash_rows
from searchapp.neardup import NearDuplicates, NearDuplicatesFileError
from tests.test_neardup import _same_signatures, _variants, update_round


def _rows_files(folder):
    return sorted(folder.glob("neardup-*.u32"))


def _meta(path):
    with np.load(path) as data:
        return json.loads(str(data["meta"]))


ROUNDS = ((["s1-v3"], {"s0-v1": "s1-v1", "new": "s2-v1"}),
          (["s0-v0", "new"], {"later": "s2-v0", "s1-v1": "alone"}),
          ([], {"s2-v2": "s0-v2", "s0-v3": "s1-v0"}))


@pytest.mark.parametrize("rewrite_when", [100.0, 1.0])  # always appended; rewritten each time
def test_updates_append_rows_and_load_as_a_build(tmp_path, monkeypatch, rewrite_when):
    monkeypatch.setattr(minhash_rows, "REWRITE_WHEN", rewrite_when)
    signer = NearDuplicates()
    texts = dict(_variants())
    path = tmp_path / "neardup.npz"
    NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in texts.items()).save(path)
    (first,) = _rows_files(tmp_path)
    head = first.read_bytes()
    for removed, changed in ROUNDS:
        changed = {i: texts[source] + " revised" for i, source in changed.items()}
        _, rebuilt = update_round(path, signer, texts, removed, changed, saves=2)  # saved twice, as one object
        (now,) = _rows_files(tmp_path)  # the one the groups file names; no other left
        assert now.name == _meta(path)["minhash_file"]
        if rewrite_when > 10:
            assert now == first and now.read_bytes()[:len(head)] == head  # appended only
        else:
            assert now != first and now.stat().st_size == 4 * 256 * len(rebuilt._row_ids)


def test_rows_a_killed_save_appended_are_cut_off(tmp_path):
    signer = NearDuplicates()
    texts = dict(_variants())
    path = tmp_path / "neardup.npz"
    NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in texts.items()).save(path)
    (rows,) = _rows_files(tmp_path)
    size = rows.stat().st_size
    with open(rows, "ab") as fh:  # a save killed after appending, before its groups file
        fh.write(b"\xff" * 4 * 256 * 3)
    groups = NearDuplicates.load(path)
    _same_signatures(groups, NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in texts.items()))
    groups.update([], [("new", signer.signature(texts["s0-v0"] + " again"))])
    groups.save(path)
    assert rows.stat().st_size == size + 4 * 256  # the killed save's rows gone, the new one's after
    assert NearDuplicates.load(path).members("new") == NearDuplicates.load(path).members("s0-v0")


def test_a_missing_or_short_rows_file_says_what_to_do(tmp_path):
    signer = NearDuplicates()
    path = tmp_path / "neardup.npz"
    NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in _variants()).save(path)
    (rows,) = _rows_files(tmp_path)
    rows.write_bytes(rows.read_bytes()[:100])
    with pytest.raises(NearDuplicatesFileError, match="rebuild them with a full reindex"):
        NearDuplicates.load(path)
    rows.unlink()
    with pytest.raises(NearDuplicatesFileError):
        NearDuplicates.load(path)
