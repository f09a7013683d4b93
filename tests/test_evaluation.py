"""The evaluator against hand-computed values, collection loading, and the
relevance harness (benchmarks/relevance.py) on ADI."""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
from pathlib import Path

import pytest

from searchapp import QueryError, SearchIndex
from searchapp.evaluation import (
    CollectionError,
    average_precision,
    evaluate,
    load_collection,
    ndcg,
    precision,
    read_qrels,
    recall,
)

REPO = Path(__file__).resolve().parents[1]


# -- measures, by hand ----------------------------------------------------------

def test_average_precision_by_hand():
    # relevant at ranks 1, 3 and 5 of 3 relevant: (1/1 + 2/3 + 3/5) / 3
    assert average_precision(["a", "x", "b", "y", "c"], {"a": 1, "b": 1, "c": 1}) == pytest.approx(
        (1 + 2 / 3 + 3 / 5) / 3)


def test_average_precision_counts_unretrieved_relevant_documents_as_misses():
    assert average_precision(["x", "a"], {"a": 1, "b": 1}) == pytest.approx(0.25)
    assert average_precision([], {"a": 1}) == 0.0


def test_average_precision_stops_at_its_depth():
    ranking = [f"x{i}" for i in range(1000)] + ["a"]
    assert average_precision(ranking, {"a": 1}) == 0.0
    assert average_precision(ranking, {"a": 1}, depth=1001) == pytest.approx(1 / 1001)


def test_ndcg_graded_by_hand():
    rel = {"a": 3, "b": 1, "c": 2}
    dcg = 1 / math.log2(2) + 3 / math.log2(3) + 2 / math.log2(5)
    ideal = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg(["b", "a", "x", "c"], rel) == pytest.approx(dcg / ideal)
    assert ndcg(["a", "c", "b"], rel) == pytest.approx(1.0)


def test_ndcg_looks_at_the_first_ten_only():
    ranking = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg(ranking, {"a": 1}) == 0.0
    assert ndcg(ranking[9:], {"a": 1}) == pytest.approx(1 / math.log2(3))


def test_precision_and_recall_by_hand():
    rel = {"a": 1, "b": 1, "c": 1, "d": 1}
    assert precision(["a", "x", "b"], rel) == pytest.approx(0.2)  # 2 of 10: missing ranks are misses
    assert recall(["a", "b"], rel) == pytest.approx(0.5)
    assert recall(["x"] * 100 + ["a"], rel) == 0.0  # a is at rank 101


def test_a_document_repeated_in_a_ranking_counts_once():
    rel = {"a": 1, "b": 1}
    assert precision(["a", "a", "a"], rel) == pytest.approx(0.1)
    assert average_precision(["a", "a", "b"], rel) == pytest.approx(1.0)
    assert ndcg(["a", "a"], {"a": 1}) == pytest.approx(1.0)


def test_evaluate_leaves_out_queries_without_relevant_documents():
    qrels = {"1": {"a": 1}, "2": {}, "3": {"b": 1}}
    run = {"1": ["a"], "2": ["a"]}  # query 3 retrieved nothing
    ev = evaluate(run, qrels, ["1", "2", "3", "4"])
    assert set(ev.per_query) == {"1", "3"}
    assert ev.per_query["3"] == {"ndcg@10": 0.0, "map": 0.0, "p@10": 0.0, "recall@100": 0.0}
    assert ev.means["map"] == pytest.approx(0.5)
    assert ev.means["p@10"] == pytest.approx(0.05)
    assert ev.queries == 2


# -- collections -------------------------------------------------------------------

def _write_collection(folder: Path, qrels: str) -> None:
    folder.mkdir()
    with gzip.open(folder / "docs.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write(json.dumps({"id": "1", "title": "Wings", "body": "lift"}) + "\n")
        out.write(json.dumps({"id": "2", "title": None, "body": "drag"}) + "\n")
    (folder / "queries.jsonl").write_text(
        '{"id": "1", "text": "lift?"}\n{"id": "2", "text": "drag AND lift"}\n', encoding="utf-8")
    (folder / "qrels.trec").write_text(qrels, encoding="utf-8")


def test_load_collection(tmp_path):
    _write_collection(tmp_path / "tiny", "1 0 1 4\n1 0 2 1\n2 0 2 0\n")
    c = load_collection(tmp_path / "tiny")
    assert c.name == "tiny" and [d["id"] for d in c.docs] == ["1", "2"]
    assert c.queries == {"1": "lift?", "2": "drag AND lift"}
    assert c.qrels == {"1": {"1": 4, "2": 1}}  # grade 0 is not relevant
    assert c.graded
    assert list(c.judged_queries()) == ["1"]


def test_load_collection_errors(tmp_path):
    with pytest.raises(CollectionError, match="docs.jsonl.gz, queries.jsonl, qrels.trec missing"):
        load_collection(tmp_path)
    _write_collection(tmp_path / "bad", "1 0 1\n")
    with pytest.raises(CollectionError, match=r"qrels.trec, line 1: expected 'qid 0 docid grade', got '1 0 1'"):
        load_collection(tmp_path / "bad")
    (tmp_path / "grade.trec").write_text("1 0 1 yes\n")
    with pytest.raises(CollectionError, match="the grade 'yes' is not a whole number"):
        read_qrels(tmp_path / "grade.trec")


def test_real_collections_load_with_their_documented_counts(shared_corpora):
    cran = load_collection(shared_corpora / "cranfield")
    assert len(cran.docs) == 1400 and len(cran.queries) == 225 and cran.graded
    cisi = load_collection(shared_corpora / "cisi")
    assert len(cisi.queries) == 112 and len(cisi.judged_queries()) == 76 and not cisi.graded


# -- the harness on ADI ------------------------------------------------------------

@pytest.fixture(scope="module")
def relevance():
    spec = importlib.util.spec_from_file_location("relevance_bench", REPO / "benchmarks" / "relevance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_halves_are_disjoint_and_cover_the_queries(relevance, shared_corpora):
    adi = load_collection(shared_corpora / "adi")
    tune, test = relevance.split_queries(adi, "tune"), relevance.split_queries(adi, "test")
    assert not set(tune) & set(test)
    assert sorted(tune + test) == sorted(adi.queries) == sorted(relevance.split_queries(adi, "all"))


def test_harness_runs_on_adi(relevance, shared_corpora, tmp_path, capsys):
    out = tmp_path / "relevance.json"
    assert relevance.main(["--corpora", str(shared_corpora), "-c", "adi",
                           "-e", "searchapp", "-e", "fts5", "-e", "whoosh", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for label in ("nDCG@10", "MAP@1000", "P@10", "R@100"):
        assert f"{label} (all queries)" in printed
    assert "\nmean " in printed and "by query half" in printed
    result = json.loads(out.read_text())
    adi = result["collections"]["adi"]
    assert adi["queries"] == 35 and adi["docs"] == 82
    assert adi["tune_queries"] == relevance.split_queries(load_collection(shared_corpora / "adi"), "tune")
    for engine in ("searchapp", "fts5", "whoosh"):
        means = adi["engines"][engine]["means"]
        assert len(adi["engines"][engine]["per_query"]) == 35
        assert all(0.0 <= v <= 1.0 for v in means.values())
        # Sanity only: a random order of ADI's 82 documents scores about 0.05.
        assert means["ndcg@10"] > 0.2 and means["recall@100"] > 0.5
        assert result["means"][engine] == means  # one collection: its means are the means


def test_rank_orders_as_search_does(relevance, shared_corpora, tmp_path):
    adi = load_collection(shared_corpora / "adi")
    relevance.build_searchapp(adi, tmp_path)
    with SearchIndex.open(tmp_path / "index") as index:
        for text in list(adi.queries.values())[:5]:
            ranked = index.rank(text, limit=30, mode="any")
            assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
            pages = [index.search(text, mode="any", per_page=10, page=p) for p in (1, 2, 3)]
            assert [h.id for p in pages for h in p.hits] == [i for i, _ in ranked]
        # Stray syntax in raw query texts is just words in any-word mode.
        assert index.rank('what "AND" : ? (titles', mode="any")
        assert index.rank("the of and") == []  # nothing but stopwords
        with pytest.raises(QueryError, match="limit must be a whole number of 1 or more, got 0"):
            index.rank("titles", limit=0)
