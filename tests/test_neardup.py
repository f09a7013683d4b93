"""Near-duplicate groups: MinHash LSH over word shingles, kept up to date."""

from __future__ import annotations

import numpy as np
import pytest

from searchapp.neardup import (
    NearDuplicates,
    NearDuplicatesFileError,
    Signature,
    common_shingles,
    normalised_words,
    shingle_of,
    shingles,
)
from tests.conftest import SEED_CORPUS

ADDED = (
    "\n\nAnalysts in Kyiv said the purges were meant to show the public that the "
    "leadership is fighting graft while the war goes on, and that the arrested officials "
    "had lost the patrons who once shielded them from the investigators."
)
OTHER = (
    "Grain exports\n\nShips carrying wheat and maize left the ports of Odesa after the "
    "insurers agreed to cover the voyage through the Black Sea. Traders expect prices in "
    "Europe to fall as the cargoes arrive over the coming weeks, while farmers complain "
    "about the cost of storage and the shortage of lorries at the border crossings."
)


@pytest.fixture(scope="module")
def seed_text() -> str:
    (path,) = sorted(SEED_CORPUS.glob("*.txt"))
    return path.read_text(encoding="utf-8")


@pytest.fixture
def copies(seed_text) -> dict[str, str]:
    return {
        "original": seed_text,
        "one-word": seed_text.replace("embezzlement", "fraud", 1),
        "paragraph": seed_text + ADDED,
        "grain": OTHER,
        "empty": "   ",
    }


def test_near_copies_group_and_another_subject_does_not(copies):
    groups = NearDuplicates.build(copies.items())
    assert groups.members("paragraph") == ("one-word", "original", "paragraph")
    assert groups.group_of("original") == groups.group_of("one-word") == "one-word"
    assert groups.members("grain") == ("grain",)
    assert groups.groups() == [("one-word", "original", "paragraph")]


def test_report_without_text_groups_with_nothing(copies):
    groups = NearDuplicates.build(copies.items())
    groups.add("also-empty", "")
    assert groups.members("empty") == ("empty",)
    assert groups.members("also-empty") == ("also-empty",)
    assert "empty" in groups and len(groups) == 6


def test_edit_beyond_recognition_leaves_the_group(copies):
    groups = NearDuplicates.build(copies.items())
    groups.replace("one-word", OTHER.replace("wheat", "barley"))
    assert groups.members("original") == ("original", "paragraph")
    assert groups.members("one-word") == ("grain", "one-word")
    groups.remove("paragraph")
    assert groups.members("original") == ("original",)
    assert "paragraph" not in groups
    groups.remove("paragraph")  # an unknown id is ignored


def test_group_is_transitive_and_breaks_when_the_link_goes():
    middle = OTHER + (" The port authority said that more ships were waiting at anchor "
                      "and that the pilots would work through the night to clear them.")
    far = middle + (" Insurers in London raised the premiums for the next convoy, citing "
                    "the mines that drifted into the shipping lanes during the storms of "
                    "the last month, and asked the navy for an escort.")
    groups = NearDuplicates.build([("a", OTHER), ("b", middle), ("c", far)])
    assert groups.members("a") == ("a", "b", "c")
    groups.remove("b")
    assert groups.members("a") == ("a",)


def test_different_figures_are_not_near_duplicates():
    text = ("Fed adds reserves\n\nThe Federal Reserve entered the government securities "
            "market to arrange {} billion dlrs of customer repurchase agreements, a Fed "
            "spokeswoman said. Dealers said Federal funds were trading at {} pct when the "
            "Fed began its temporary and indirect supply of reserves to the banking system.")
    groups = NearDuplicates.build([("mon", text.format("1.5", "6-3/16")),
                                   ("tue", text.format("2.5", "6-1/8")),
                                   ("copy", text.format("1.5", "6-3/16"))])
    assert groups.members("mon") == ("copy", "mon")
    assert groups.members("tue") == ("tue",)


def test_boilerplate_is_left_out():
    template = ("Recommended practices: minimize network exposure for all control system "
                "devices, locate them behind firewalls and use secure remote access. "
                "Report suspected malicious activity to the agency and follow the incident "
                "procedures of your organisation before taking defensive measures. ")
    texts = [(f"adv-{n}", f"Vendor {n} product\n{template * 3}The product {n} flaw lets "
              f"an attacker read files.") for n in "ABCD"]
    common = common_shingles((text for _, text in texts), share=0.0, min_reports=3)
    assert shingle_of("minimize network exposure") in common.tolist()
    assert shingle_of("product a flaw") not in common.tolist()
    assert NearDuplicates.build(texts, common=()).members("adv-A") == (
        "adv-A", "adv-B", "adv-C", "adv-D")
    assert NearDuplicates.build(texts, common=common).members("adv-A") == ("adv-A",)


def test_boilerplate_only_texts_match_only_exact_copies():
    common = shingles(normalised_words("the same notice every time, word for word"))
    groups = NearDuplicates(common=common)
    groups.add("a", "The same notice every time, word for word.")
    groups.add("b", "the same NOTICE every time -- word for word")
    groups.add("c", "The same notice every time word")
    assert groups.members("a") == ("a", "b")
    assert groups.members("c") == ("c",)


def test_signature_in_a_worker_equals_add(copies):
    worker = NearDuplicates()
    groups = NearDuplicates()
    for report_id, text in copies.items():
        signature = worker.signature(text)
        assert isinstance(signature, Signature)
        groups.add_signature(report_id, signature)
    assert groups.groups() == NearDuplicates.build(copies.items(), common=()).groups()
    assert groups.groups() == NearDuplicates.from_signatures(
        (i, worker.signature(t)) for i, t in copies.items()).groups()
    assert worker.signature(copies["original"]).minhash.dtype == np.uint32
    assert worker.signature("  ") == Signature(None, None)


def test_save_and_load_keep_groups_and_stay_incremental(copies, tmp_path):
    groups = NearDuplicates.build(copies.items(), threshold=0.7)
    path = tmp_path / "neardup.npz"
    groups.save(path)
    loaded = NearDuplicates.load(path)
    assert loaded.threshold == 0.7 and loaded.common.tolist() == groups.common.tolist()
    assert loaded.groups() == groups.groups()
    assert sorted(loaded._links) == sorted(groups._links)
    loaded.add("fourth", copies["original"].replace("prison", "jail", 1))
    assert loaded.members("original") == ("fourth", "one-word", "original", "paragraph")
    loaded.replace("paragraph", OTHER)
    assert loaded.members("grain") == ("grain", "paragraph")
    assert not list(tmp_path.glob("*.tmp"))


def test_load_of_a_damaged_file_says_what_to_do(tmp_path):
    path = tmp_path / "neardup.npz"
    path.write_bytes(b"not an archive")
    with pytest.raises(NearDuplicatesFileError) as caught:
        NearDuplicates.load(path)
    assert str(caught.value).startswith(f"cannot read the near-duplicate groups in {path}: ")
    assert str(caught.value).endswith("rebuild them with a full reindex")
    with pytest.raises(NearDuplicatesFileError):
        NearDuplicates.load(tmp_path / "missing.npz")


def test_unknown_id_raises_key_error():
    with pytest.raises(KeyError):
        NearDuplicates().members("nope")


@pytest.mark.parametrize("words, expected", [
    ([], []),
    (["cat"], ["cat"]),
    (["cat", "dog", "fox"], ["cat dog", "dog fox"]),
])
def test_shingles(words, expected):
    assert shingles(words).tolist() == sorted(shingle_of(s) for s in expected)
    assert len(set(shingles(["cat", "dog", "cat", "dog", "cat"]).tolist())) == 2
    assert shingle_of("cat dog") != shingle_of("dog cat") != shingle_of("cat")
    assert shingles(["cat", "dog", "fox", "owl"], 3).tolist() == sorted(
        shingle_of(s, 3) for s in ("cat dog fox", "dog fox owl"))


def test_words_are_the_index_terms_of_the_headline_then_the_body():
    assert normalised_words("The IT staff\nof the Ministries' offices") == ["it", "staff", "ministri", "offic"]
    assert shingle_of("The cats, sitting") == shingle_of("cat sit")


def test_build_at_once_finds_the_pairs_that_adding_one_by_one_finds(copies):
    texts = list(copies.items()) + [(f"grain-{n}", OTHER.replace("wheat", w)) for n, w in
                                    enumerate(("barley", "rye", "oats", "wheat"))]
    one_by_one = NearDuplicates(common=())
    for report_id, text in texts:
        one_by_one.add(report_id, text)
    at_once = NearDuplicates.build(texts, common=())
    assert at_once._links == one_by_one._links
    assert at_once.members("grain") == ("grain", "grain-0", "grain-1", "grain-2", "grain-3")
    at_once.replace("grain-3", copies["original"])  # an update after a build at once
    assert at_once.members("original") == ("grain-3", "one-word", "original", "paragraph")


def test_same_body_under_another_subject_headline_is_another_report():
    body = OTHER.split("\n\n", 1)[1]
    groups = NearDuplicates.build([("sierra", "Sierra Wireless AirVantage\n" + body),
                                   ("birddog", "BirdDog Cameras and Encoders\n" + body),
                                   ("again", "Sierra Wireless AirVantage (Update A)\n" + body)])
    assert groups.members("sierra") == ("again", "sierra")
    assert groups.members("birddog") == ("birddog",)


def test_short_texts_match_exact_copies_only():
    groups = NearDuplicates.build([
        ("sun", "\nSUN RAISES CRUDE POSTINGS 50 CTS EFFECTIVE TODAY, WTI TO 17.50 dlrs/bbl"),
        ("phillips", "\nPHILLIPS RAISES CRUDE POSTINGS 50 CTS EFFECTIVE TODAY, WTI TO 17.50 dlrs/bbl"),
        ("sun-again", "\nSun raises crude postings 50 cts effective today, WTI to 17.50 dlrs/bbl."),
    ])
    assert groups.members("sun") == ("sun", "sun-again")
    assert groups.members("phillips") == ("phillips",)


@pytest.mark.parametrize("threshold, num_perm", [(0.6, 256), (0.5, 128)])
def test_bands_are_those_of_datasketchs_index(threshold, num_perm):
    from datasketch import MinHashLSH

    from searchapp.bands import CANDIDATE_MARGIN, band_ranges

    expected = MinHashLSH(threshold=threshold - CANDIDATE_MARGIN, num_perm=num_perm).hashranges
    assert band_ranges(threshold, num_perm) == expected


def _variants() -> list[tuple[str, str]]:
    """Three stories, each in several near copies, and reports alone."""
    stories = [OTHER, OTHER.replace("Grain exports", "Odesa shipping").replace("wheat", "sugar"),
               ADDED.strip() * 3]
    texts = []
    for s, story in enumerate(stories):
        words = story.split(" ")
        for v in range(4):
            changed = list(words)
            changed[5 + 7 * v] = "variant" + "abcd"[v]
            texts.append((f"s{s}-v{v}", " ".join(changed)))
    return texts + [("alone", "A different subject entirely, " * 12), ("blank", "")]


def test_update_finds_the_groups_of_a_build_of_the_result(tmp_path):
    before = _variants()
    signer = NearDuplicates()
    groups = NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in before)
    assert groups.members("s0-v0") == ("s0-v0", "s0-v1", "s0-v2", "s0-v3")
    groups.save(tmp_path / "neardup.npz")
    groups = NearDuplicates.load(tmp_path / "neardup.npz")
    texts = dict(before)
    changed = [("s0-v1", texts["s1-v1"]), ("new", texts["s2-v1"].replace("Kyiv", "Lviv", 1)),
               ("s1-v2", "")]
    groups.update(["s1-v3", "missing"], [(i, signer.signature(t)) for i, t in changed])
    after = dict(before) | dict(changed)
    del after["s1-v3"]
    rebuilt = NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in after.items())
    assert groups._links == rebuilt._links
    assert groups.members("s0-v0") == ("s0-v0", "s0-v2", "s0-v3")
    assert groups.members("s0-v1") == ("s0-v1", "s1-v0", "s1-v1")
    assert groups.members("new") == ("new", "s2-v0", "s2-v1", "s2-v2", "s2-v3")
    assert groups.members("s1-v2") == ("s1-v2",) and "s1-v3" not in groups
    assert sorted(groups._row_ids) == sorted(rebuilt._row_ids)
    groups.save(tmp_path / "neardup.npz")  # the band arrays saved after an update load again
    assert NearDuplicates.load(tmp_path / "neardup.npz")._links == rebuilt._links


def update_round(path, signer, texts: dict, removed: list, changed: dict, saves: int = 1):
    """One incremental round of the groups saved at ``path`` (``texts`` updated to match):
    ``(loaded, rebuilt)``, the saved groups read back and a build from every text,
    their signatures, links and rows checked equal."""
    groups = NearDuplicates.load(path)
    groups.update(removed, [(i, signer.signature(t)) for i, t in changed.items()])
    for _ in range(saves):
        groups.save(path)
    for report_id in removed:
        texts.pop(report_id, None)
    texts.update(changed)
    rebuilt = NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in texts.items())
    loaded = NearDuplicates.load(path)
    _same_signatures(loaded, rebuilt)
    assert loaded._links == rebuilt._links and sorted(loaded._row_ids) == sorted(rebuilt._row_ids)
    return loaded, rebuilt


def _same_signatures(groups: NearDuplicates, other: NearDuplicates) -> None:
    assert sorted(groups._signatures) == sorted(other._signatures)
    for report_id in other._signatures:
        mine, theirs = groups._signatures[report_id], other._signatures[report_id]
        assert (mine.digest, mine.figures, mine.codes, mine.headline) == \
            (theirs.digest, theirs.figures, theirs.codes, theirs.headline)
        assert (mine.minhash is None) == (theirs.minhash is None)
        if mine.minhash is not None:
            assert mine.minhash.tolist() == theirs.minhash.tolist()


def test_signatures_read_from_the_file_are_those_saved_across_updates(tmp_path):
    """A loaded file's signatures are made only when used and written back from
    its arrays: after load, update, save, load, update, save they are a build's."""
    signer = NearDuplicates()
    texts = dict(_variants())
    texts["figures"] = "Output rose 5.93 pct to 155,221 tonnes in CVE-2024-1234 " * 6
    path = tmp_path / "neardup.npz"
    NearDuplicates.from_signatures((i, signer.signature(t)) for i, t in texts.items()).save(path)
    for removed, changed in ((["s1-v3"], {"s0-v1": texts["s1-v1"], "new": texts["s2-v1"] + " Lviv"}),
                             (["s0-v0", "new"], {"figures": texts["figures"].replace("5.93", "6.1"),
                                                 "later": texts["s2-v0"], "blank": ""})):
        loaded, rebuilt = update_round(path, signer, texts, removed, changed)
        assert loaded._by_digest == rebuilt._by_digest


def test_load_of_band_arrays_that_do_not_fit_says_what_to_do(copies, tmp_path):
    path = tmp_path / "neardup.npz"
    NearDuplicates.build(copies.items()).save(path)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["band_keys"] = arrays["band_keys"][:, :1]
    np.savez(path, **arrays)
    with pytest.raises(NearDuplicatesFileError) as caught:
        NearDuplicates.load(path)
    assert "band arrays of shape (42, 1) for 4 signatures" in str(caught.value)


@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_permutations_are_datasketchs_own(num_perm):
    from datasketch import MinHash

    from searchapp.neardup import permutations

    theirs = MinHash(num_perm=num_perm, scheme="affine32").permutations
    ours = permutations(num_perm)
    assert ours[0].dtype == theirs.dtype and all(np.array_equal(o, t) for o, t in zip(ours, theirs))


def test_searchapp_does_not_import_datasketch():
    import subprocess
    import sys

    code = "import sys, searchapp, searchapp.cli, searchapp.web; print('datasketch' in sys.modules, 'scipy.integrate' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "False"]
