"""The evaluator of the benchmarks (benchmarks/evaluation.py) against
hand-computed values and against trec_eval through ir_measures, collection
loading, and the relevance harness (benchmarks/relevance.py) on ADI."""

from __future__ import annotations

import doctest
import gzip
import importlib.util
import json
import math
import random
import sys
from pathlib import Path

import pytest

from searchapp import QueryError, SearchIndex

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import evaluation  # noqa: E402
from evaluation import (  # noqa: E402
    CollectionError,
    average_precision,
    evaluate,
    load_collection,
    ndcg,
    precision,
    read_qrels,
    recall,
)


def test_the_evaluator_is_no_part_of_the_product():
    assert not (REPO / "src" / "searchapp" / "evaluation.py").exists()
    assert importlib.util.find_spec("searchapp.evaluation") is None


def test_doctests_of_the_evaluator():
    failures, tried = doctest.testmod(evaluation)
    assert failures == 0 and tried >= 3


# -- against trec_eval, through ir_measures (the bench extra) --------------------------

def _small_run_and_qrels(seed: int = 7) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """20 queries over 1,500 documents: graded judgments (0 to 3, zeros kept),
    rankings of 5 to 1,200 documents, relevant ones on both sides of ranks 10,
    100 and 1000, one judged query that retrieves nothing relevant."""
    rng = random.Random(seed)
    docs = [f"d{i}" for i in range(1500)]
    run: dict[str, list[str]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for q in range(20):
        qid = f"q{q}"
        ranking = rng.sample(docs, rng.choice([5, 40, 150, 1200]))
        judged = rng.sample(docs, 30)
        qrels[qid] = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
        qrels[qid].update({d: rng.choice([1, 2]) for d in ranking[:3] if rng.random() < 0.5})
        # Relevant documents on both sides of each cut-off (ranks 10/11, 100/101, 1000/1001).
        for index in (9, 10, 99, 100, 999, 1000):
            if index < len(ranking) and rng.random() < 0.7:
                qrels[qid][ranking[index]] = rng.choice([1, 3])
        run[qid] = ranking
    run["q19"] = [d for d in run["q19"] if qrels["q19"].get(d, 0) == 0]  # retrieves nothing relevant
    return run, qrels


def test_measures_agree_with_ir_measures():
    ir_measures = pytest.importorskip(
        "ir_measures", reason="ir_measures is not installed (it comes with the bench extra: pip install -e '.[bench]')")
    from ir_measures import AP, P, R, nDCG

    run, qrels = _small_run_and_qrels()
    ours = evaluate(run, qrels)
    names = {AP @ 1000: "map", nDCG @ 10: "ndcg@10", P @ 10: "p@10", R @ 100: "recall@100"}
    ir_qrels = [ir_measures.Qrel(q, d, g) for q, judged in qrels.items() for d, g in judged.items()]
    # Strictly falling scores: trec_eval orders ties by document id, not by rank.
    ir_run = [ir_measures.ScoredDoc(q, d, float(len(ranking) - rank))
              for q, ranking in run.items() for rank, d in enumerate(ranking)]
    theirs: dict[str, dict[str, float]] = {}
    for metric in ir_measures.iter_calc(list(names), ir_qrels, ir_run):
        theirs.setdefault(metric.query_id, {})[names[metric.measure]] = metric.value
    assert set(theirs) == set(ours.per_query) == set(qrels)
    for qid, scores in ours.per_query.items():
        assert scores == pytest.approx(theirs[qid], abs=1e-9), qid
    aggregate = ir_measures.calc_aggregate(list(names), ir_qrels, ir_run)
    assert ours.means == pytest.approx({names[m]: v for m, v in aggregate.items()}, abs=1e-9)
    # The sample exercises what it claims to: grades above 1, a zero score, cut-offs that matter.
    assert ours.per_query["q19"]["map"] == 0.0 and 0 < ours.means["map"] < 1
    assert any(g > 1 for judged in qrels.values() for g in judged.values())


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
