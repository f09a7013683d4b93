"""Progress of a reindex by reports and bytes, not only files."""

from __future__ import annotations

import json

from searchapp import extraction, indexer
from searchapp.corpus import discover
from searchapp.meter import TICK_ITEMS, Meter, ReindexProgress


def test_one_large_file_moves_the_bar_as_its_reports_are_read(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "big.jsonl", "w") as fh:
        for n in range(1000):
            fh.write(json.dumps({"id": n, "title": f"R{n}", "body": "grain wheat " * 20}) + "\n")
    (corpus / "small.txt").write_text("Title: Oil\n\nCrude prices fell.\n")
    seen: list[ReindexProgress] = []
    indexer.reindex(corpus, tmp_path / "index", full=True, procs=1, progress=seen.append)
    big = [p for p in seen if p.relpath == "big.jsonl"]
    assert [p.reports for p in big] == [TICK_ITEMS, 2 * TICK_ITEMS, 3 * TICK_ITEMS, 1000]
    total = sum(cf.size for cf in discover(corpus)[0])
    assert {p.bytes_total for p in seen} == {total} and {p.files for p in seen} == {2}
    assert 0 < big[0].bytes_done < big[1].bytes_done < big[2].bytes_done < big[3].bytes_done
    assert [p.files_done for p in big] == [0, 0, 0, 1]
    assert seen[-1].bytes_done == total and seen[-1].files_done == 2 and seen[-1].reports == 1001


def test_a_file_without_a_known_count_is_credited_when_finished(tmp_path):
    (tmp_path / "a.txt").write_text("x" * 100)
    files = discover(tmp_path)[0]
    seen: list[ReindexProgress] = []
    meter = Meter(seen.append, files)
    meter.tick("a.txt", 1, False)
    meter.tick("a.txt", 0, True)
    assert [(p.bytes_done, p.files_done, p.reports) for p in seen] == [(0, 0, 1), (100, 1, 1)]


def test_slow_formats_are_read_ahead_into_the_cache_on_every_process(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(4):
        (corpus / f"r{n}.md").write_text(f"# Report {n}\n\nWheat shipments number {n}.\n")
    seen: list[ReindexProgress] = []
    with extraction.Extractor(extraction.TextCache(tmp_path / "cache")) as extractor:
        extraction.read_ahead(extractor, discover(corpus)[0], 2, lambda *tick: seen.append(tick))
    assert sorted(relpath for relpath, _, _ in seen) == [f"r{n}.md" for n in range(4)]
    assert len(list((tmp_path / "cache").iterdir())) == 4
