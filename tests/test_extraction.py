"""The indexer's reading of files: a time limit and a memory bound per file, and the text cache."""

from __future__ import annotations

import datetime as dt
import os
import time

from searchapp import corpus, extraction, indexer, processes
from searchapp.corpus import Extracted, discover
from searchapp.corpus.meta import Parsed
from searchapp.errors import CorpusError
from searchapp.report import ParseWarning


def _children() -> set[int]:
    """This process's living children (the helpers it started)."""
    out = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                out.add(int(name))
    return out


def _corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "stuck.html").write_text("<html><body><p>never read</p></body></html>")
    (folder / "good.md").write_text("# Grain exports\n\nWheat and barley shipments rose.\n")
    (folder / "note.txt").write_text("Title: Oil\n\nCrude prices fell.\n")
    return folder


def test_a_parser_that_hangs_is_stopped_and_the_rest_indexed(tmp_path, monkeypatch):
    def hang(cf):
        while True:
            time.sleep(0.05)

    monkeypatch.setitem(corpus.READERS, ".html", hang)
    before = _children()
    summary = indexer.reindex(_corpus(tmp_path), tmp_path / "index", full=True, procs=1, parse_timeout_s=1)
    assert [(e.path, e.reason) for e in summary.rejected] == [(
        "stuck.html",
        "reading it took longer than the time limit of 1 s per file (setting 'parse_timeout_s'): it was stopped",
    )]
    assert summary.added == 2
    assert _children() == before  # the stuck parser and its replacement's helper are gone


def test_a_parser_that_takes_too_much_memory_is_stopped(tmp_path, monkeypatch):
    def greedy(cf):
        return [bytearray(600 * 1024 * 1024)]

    monkeypatch.setitem(corpus.READERS, ".html", greedy)
    summary = indexer.reindex(_corpus(tmp_path), tmp_path / "index", full=True, procs=1, parse_memory_mb=256)
    assert [(e.path, e.reason) for e in summary.rejected] == [(
        "stuck.html",
        "reading it needs more than the memory limit of 256 MiB per file (setting 'parse_memory_mb'): "
        "it was stopped",
    )]
    assert summary.added == 2


def test_the_helper_is_kept_from_call_to_call_and_replaced_after_a_timeout():
    before = _children()  # helpers other tests' modules keep (run with test_meta, one is there)
    with processes.Helper(lambda x: (os.getpid(), x * 2)) as helper:
        first, doubled = helper.call(21, timeout=5)
        assert doubled == 42 and helper.call(1, timeout=5)[0] == first
    with processes.Helper(lambda x: time.sleep(x) or os.getpid()) as helper:
        try:
            helper.call(30, timeout=0.2)
        except TimeoutError:
            pass
        else:
            raise AssertionError("no timeout")
        assert helper.call(0, timeout=5) != first
    assert _children() == before


def test_a_full_rebuild_reads_unchanged_files_from_the_cache(tmp_path, monkeypatch):
    folder = _corpus(tmp_path)
    (folder / "stuck.html").unlink()
    first = indexer.reindex(folder, tmp_path / "index", full=True, procs=1)
    cache = tmp_path / "index" / extraction.CACHE_FOLDER
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 1  # the Markdown file; plain text is not cached
    stamp = (cache / entries[0]).stat().st_mtime_ns
    monkeypatch.setitem(corpus.READERS, ".md", lambda cf: (_ for _ in ()).throw(AssertionError("parsed again")))
    second = indexer.reindex(folder, tmp_path / "index", full=True, procs=1)
    assert (second.added, second.rejected) == (first.added, []) == (2, [])
    assert sorted(p.name for p in cache.iterdir()) == entries and (cache / entries[0]).stat().st_mtime_ns >= stamp


def test_the_cache_key_follows_the_content_and_prune_drops_unused_entries(tmp_path):
    folder = _corpus(tmp_path)
    cache = extraction.TextCache(tmp_path / "cache")
    cf = next(f for f in discover(folder)[0] if f.relpath == "good.md")
    key = cache.key(cf)
    (folder / "good.md").write_text("# Grain exports\n\nWheat shipments fell.\n")
    changed = next(f for f in discover(folder)[0] if f.relpath == "good.md")
    assert cache.key(changed) != key
    cache.put(key, Extracted(Parsed(body="Wheat", format="markdown", title="Grain exports")))
    assert cache.get(key) == Extracted(Parsed(body="Wheat", format="markdown", title="Grain exports"))
    assert (cache.hits, cache.misses) == (1, 0)
    os.utime(cache.folder / f"{key}.json", (time.time() - 3600,) * 2)
    cache.started = time.time()
    assert cache.prune() == 1 and list(cache.folder.iterdir()) == []


def test_extractions_come_back_from_json_as_they_went_in():
    parsed = Parsed(body="x\n\ny", format="pdf", title="T", date=dt.date(2024, 7, 28), topics=["oil", "gas"],
                    authors=["A. B."], pages=(0, 3), extra={"n": 1, "when": dt.date(2020, 1, 2)}, ocr=True,
                    warnings=[ParseWarning("date", "31/12/2024", "day or month first?")],
                    date_texts=[("updated", "modified", "31/12/2024")], headers_read=True)
    child = Parsed(body="Notes.", format="text")
    extracted = Extracted(parsed, [("notes.txt", child)])
    assert extraction.decode(extraction.encode(extracted)) == extracted


def test_a_rejected_file_is_not_cached(tmp_path, monkeypatch):
    """OCR installed or a time limit raised later: the next full rebuild tries again."""
    def rejected(cf):
        raise CorpusError(cf.relpath, "no text layer")

    monkeypatch.setitem(corpus.READERS, ".html", rejected)
    summary = indexer.reindex(_corpus(tmp_path), tmp_path / "index", full=True, procs=1)
    assert [(e.path, e.reason) for e in summary.rejected] == [("stuck.html", "no text layer")]
    assert len(list((tmp_path / "index" / extraction.CACHE_FOLDER).iterdir())) == 1  # good.md only


def test_a_moved_file_is_not_extracted_again_and_gets_its_new_folders_metadata(tmp_path, monkeypatch):
    from searchapp import SearchIndex
    from tests.make_files import make_pdf

    folder = tmp_path / "corpus"
    for name, source in (("army", "Army Reports"), ("navy", "Navy Reports")):
        (folder / name).mkdir(parents=True)
        (folder / name / "_folder.toml").write_text(f'source = "{source}"\ntopics = ["{name}"]\n')
    pdf = make_pdf([[(20, "Fleet Readiness Review"), (11, "Ships in the yard: eleven.")]])
    (folder / "army" / "2024-07-28-review.pdf").write_bytes(pdf)
    indexer.reindex(folder, tmp_path / "index", full=True, procs=1)
    (folder / "army" / "2024-07-28-review.pdf").rename(folder / "navy" / "2023-01-05-renamed.pdf")

    def spy(cf):
        raise AssertionError(f"{cf.relpath} extracted again")

    looked_up = []
    get = extraction.TextCache.get
    monkeypatch.setattr(extraction.TextCache, "get", lambda self, key: looked_up.append(get(self, key)) or looked_up[-1])
    monkeypatch.setitem(corpus.READERS, ".pdf", spy)
    summary = indexer.reindex(folder, tmp_path / "index", procs=1)
    assert (summary.added, summary.rejected) == (1, [])
    assert [type(found).__name__ for found in looked_up] == ["Extracted"] * len(looked_up) and looked_up
    with SearchIndex.open(tmp_path / "index") as index:
        report = index.get("navy/2023-01-05-renamed")
        assert (report.title, report.source, report.topics, report.date) == (
            "Fleet Readiness Review", "Navy Reports", ("navy",), "2023-01-05")
        assert report.body == "Fleet Readiness Review\nShips in the yard: eleven." and index.doc_count() == 1


def test_the_language_is_detected_before_the_cache_and_not_again(tmp_path, monkeypatch):
    from searchapp.corpus import complete, extract_file, meta

    (tmp_path / "r.md").write_text("# Grain\n\nWheat and barley shipments rose sharply in the southern ports this week.\n")
    (cf,) = discover(tmp_path)[0]
    extracted = extraction.decode(extraction.encode(extract_file(cf)))
    assert extracted.parsed.detected_language == "en"
    monkeypatch.setattr(meta, "detect_language", lambda text: (_ for _ in ()).throw(AssertionError("again")))
    assert [r.language for r in complete(cf, extracted)] == ["en"]


def test_an_edited_sidecar_applies_without_extracting_again(tmp_path, monkeypatch):
    from searchapp import SearchIndex
    from tests.make_files import make_pdf

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "r.pdf").write_bytes(make_pdf([[(20, "Harbour Survey"), (11, "Depths at the quay.")]]))
    indexer.reindex(folder, tmp_path / "index", full=True, procs=1)
    (folder / "r.pdf.meta.toml").write_text('source = "Port Authority"\ndate = 2024-05-02\n')
    monkeypatch.setitem(corpus.READERS, ".pdf", lambda cf: (_ for _ in ()).throw(AssertionError("extracted again")))
    summary = indexer.reindex(folder, tmp_path / "index", full=True, procs=1)
    assert (summary.added, summary.rejected) == (1, [])
    with SearchIndex.open(tmp_path / "index") as index:
        report = index.get("r")
        assert (report.title, report.source, report.date) == ("Harbour Survey", "Port Authority", "2024-05-02")


def test_the_bodies_terms_are_cached_and_the_indexer_looks_them_up(tmp_path):
    """The terms of a body depend on its text alone: extracted once with it,
    then what the indexer's analyses of that body (tags, postings) return."""
    from searchapp import analysis

    folder = _corpus(tmp_path)
    cf = next(f for f in discover(folder)[0] if f.relpath == "good.md")
    cache = extraction.TextCache(tmp_path / "cache")
    with extraction.Extractor(cache) as extractor:
        (report,) = extractor.items(cf)
    key = cache.key(cf)
    entry = cache.get(key)
    assert entry.terms == [analysis.analyzed(report.body)] == [(0, ("wheat", "barley", "shipment", "rose"))]
    cache.put(key, Extracted(entry.parsed, terms=[(0, ("remembered",))]))  # not the text's: shows the look-up
    analysis._analyzed.cache_clear()
    with extraction.Extractor(cache) as extractor:
        (report,) = extractor.items(cf)
    assert analysis.analyze(report.body) == ["remembered"]
    analysis._remembered.clear()
    analysis._analyzed.cache_clear()
    assert analysis.analyze(report.body) == ["wheat", "barley", "shipment", "rose"]


def test_terms_come_back_from_json_with_their_parts():
    extracted = Extracted(Parsed(body="Oil fell.", format="eml"), [("a.txt", Parsed(body="Gas rose.", format="text"))],
                          terms=[(0, ("oil", "fell")), (2, ("gas", "rose", "\u0635\u0644\u0649 \u0627\u0644\u0644\u0647"))])
    assert extraction.decode(extraction.encode(extracted)) == extracted


def test_the_cache_key_follows_the_analysis(tmp_path, monkeypatch):
    """Terms are kept in the entries: another analysis (a stopword more, say) reads none of them."""
    from searchapp import analysis

    cf = next(f for f in discover(_corpus(tmp_path))[0] if f.relpath == "good.md")
    key = extraction.TextCache(tmp_path / "cache").key(cf)
    monkeypatch.setattr(analysis, "ANALYSIS_KEY", "another")
    assert extraction.TextCache(tmp_path / "cache").key(cf) != key
