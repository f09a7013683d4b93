"""The speed benchmark (benchmarks/bench.py): it runs on a small size, and the
reference engines agree with searchapp on what matches.

No timing is asserted here; the benchmark prints figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import bench  # noqa: E402
from bench_corpus import CHANGED_MARK, PER_FILE, change_files, load_sources, read_part, write_corpus  # noqa: E402
from bench_engines import ENGINES, BenchQuery, auto_topics  # noqa: E402

pytestmark = [pytest.mark.corpora, pytest.mark.slow]

SIZE = 300
# AND queries with filters whose words every engine's analysis reads alike.
AGREEMENT_QUERIES = (
    BenchQuery("and+source+year", ("oil", "prices"), source=("Reuters",),
               date_from="1987-01-01", date_to="1987-12-31"),
    BenchQuery("and+topic", ("security", "vulnerability"), topic=("Critical Manufacturing", "Energy")),
    BenchQuery("and+source+months", ("said", "year"), source=("Reuters",),
               date_from="1987-03-01", date_to="1987-04-30"),
    BenchQuery("and+all+newest", ("company",), source=("Reuters",), topic=("acq", "earn"),
               date_from="1987-03-01", date_to="1987-06-30", sort="newest"),
)


@pytest.fixture(scope="module")
def records(shared_corpora):
    return load_sources(shared_corpora)


@pytest.fixture(scope="module")
def built(records, tmp_path_factory):
    work = tmp_path_factory.mktemp("bench-engines")
    corpus = write_corpus(records, SIZE, work / "corpus")
    ENGINES["searchapp"].build(corpus.path, work / "searchapp")
    topics = auto_topics(work / "searchapp")
    assert topics, "searchapp tags some reports automatically"
    for name in ("fts5", "whoosh"):
        ENGINES[name].build(corpus.path, work / name, topics=topics)
    opened = {name: engine(work / name) for name, engine in ENGINES.items()}
    yield corpus, work, opened
    for searcher in opened.values():
        searcher.close()


def test_corpus_is_split_into_files_with_unique_ids_and_shifted_repeats(records, tmp_path):
    corpus = write_corpus(records[:50], 120, tmp_path / "c", per_file=40)  # 50 records: 3 rounds
    assert (corpus.reports, corpus.files) == (120, 3)
    rows = [r for p in corpus.part_files() for r in read_part(p)]
    assert len({r["id"] for r in rows}) == 120
    first, repeat = rows[0], rows[50]
    assert repeat["id"] == f"{first['id']}~1" and repeat["body"] == first["body"]
    dated = next(i for i, r in enumerate(rows[:50]) if r["date"])
    assert int(rows[dated + 50]["date"][:4]) == int(rows[dated]["date"][:4]) + 1
    assert rows[dated + 100]["date"][4:] == rows[dated]["date"][4:] or rows[dated]["date"][5:] == "02-29"


def test_change_files_touches_one_percent_and_keeps_ids(records, tmp_path):
    corpus = write_corpus(records, 2000, tmp_path / "c", per_file=10)
    before = {p: read_part(p) for p in corpus.part_files()}
    changed = change_files(corpus)
    assert len(changed) == 2
    for path in changed:
        after = read_part(path)
        assert [r["id"] for r in after] == [r["id"] for r in before[path]]
        assert all(a["body"] != b["body"] for a, b in zip(after, before[path]))


@pytest.mark.parametrize("query", AGREEMENT_QUERIES, ids=lambda q: q.name)
def test_references_return_the_same_hits_and_counts_as_searchapp(built, query):
    _, _, engines = built
    mine = engines["searchapp"].search(query, limit=100)
    assert 0 < mine.total < 100, "the query must match a few reports for the comparison to mean anything"
    for name in ("fts5", "whoosh"):
        theirs = engines[name].search(query, limit=100)
        assert theirs.total == mine.total, name
        assert sorted(theirs.ids) == sorted(mine.ids), name
        assert theirs.facets == mine.facets, name
    assert any(len(values) > 1 for values in mine.facets.values())


def test_filters_that_leave_nothing_give_no_hits_in_any_engine(built):
    _, _, engines = built
    words = BenchQuery("words", ("information",))
    assert engines["searchapp"].search(words).total > 0
    nothing = BenchQuery("nothing", ("information",), date_from="1970-01-01", date_to="1985-12-31")
    for name, engine in engines.items():
        out = engine.search(nothing)
        assert (out.total, out.ids) == (0, []), name


def test_incremental_update_replaces_the_changed_reports_in_every_engine(records, tmp_path):
    corpus = write_corpus(records, 400, tmp_path / "corpus")
    query = BenchQuery("note", (CHANGED_MARK,))
    for name, engine in ENGINES.items():
        engine.build(corpus.path, tmp_path / name)
        searcher = engine(tmp_path / name)
        assert searcher.search(query).total == 0, name
        searcher.close()
    changed = change_files(corpus)
    for name, engine in ENGINES.items():
        engine.update(corpus.path, tmp_path / name, changed)
        searcher = engine(tmp_path / name)
        try:
            assert searcher.search(query, limit=100).total == PER_FILE, name
            assert searcher.search(BenchQuery("all"), limit=1).total == 400, name
        finally:
            searcher.close()


def test_benchmark_runs_and_writes_results_and_plot(shared_corpora, tmp_path):
    results = tmp_path / "results"
    runs = bench.main(["--size", str(SIZE), "--rounds", "1", "--clients", "2", "--http-seconds", "1",
                       "--corpora", str(shared_corpora), "--results", str(results),
                       "--workdir", str(tmp_path / "work")])
    saved = json.loads((results / f"bench-{SIZE}.json").read_text("utf-8"))
    assert saved == json.loads(json.dumps(runs[0]))
    assert saved["corpus"]["reports"] == SIZE
    figures = saved["figures"]
    assert set(figures) == {"searchapp", "fts5", "whoosh"}
    for name, fig in figures.items():
        assert fig["index_reports_per_s"] > 0 and fig["p95_ms"] >= fig["p50_ms"] > 0, name
        assert set(fig["per_query_p50_ms"]) == {q.name for q in bench.QUERY_MIX}, name
        assert fig["totals"]["browse-newest"] == SIZE, name
    assert set(saved["ratios"]) == {"fts5", "whoosh"}
    assert saved["ratios"]["fts5"]["p50_ms"] == pytest.approx(
        figures["searchapp"]["p50_ms"] / figures["fts5"]["p50_ms"], rel=1e-2)
    http = figures["searchapp"]["http"]
    assert http["requests"] > 0 and http["errors"] == 0
    assert (results / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "work" / f"size-{SIZE}").exists()  # the generated corpus is removed
