"""Relevance benchmark: searchapp against BM25 reference engines on IR test collections.

For each collection with queries and judgments in the corpora folder (ADI,
CACM, CISI, Cranfield, MED, NPL, LISA), every engine indexes the same
documents (title and body) and answers the same queries as bags of words;
``evaluation.py`` (beside this script) scores the rankings (nDCG@10, MAP@1000, P@10,
recall@100). searchapp indexes with its own analysis and schema (through
``searchapp.reindex`` on a temporary JSON Lines corpus) and ranks through
``SearchIndex.rank`` in any-word mode (engine ``searchapp``) and in the search
box's default mode (``searchapp-all``: all words up to three, one in twenty
beyond, then the reports holding any word when fewer than ten match; see
``query.py``).

The reference engines, with their usual settings: SQLite FTS5 (``porter
unicode61``, ``bm25()``), plain Whoosh (``StemmingAnalyzer``, default BM25F,
``OrGroup``), and, when installed, tantivy (``en_stem``) and bm25s (English
stopwords, PyStemmer's English stemmer).

Queries are split in two halves by their position in ``queries.jsonl`` (odd
positions "tune", even positions "test"): tune ranking on one, report on the
other (``--split``).

    python benchmarks/relevance.py                      # all collections, all engines
    python benchmarks/relevance.py -c adi -c med --split test
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

REPO = Path(__file__).resolve().parents[1]
for _folder in (REPO / "src", Path(__file__).resolve().parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from evaluation import METRICS, Collection, evaluate, load_collection  # noqa: E402

COLLECTIONS = ("adi", "cacm", "cisi", "cranfield", "med", "npl", "lisa")
ENGINES = ("searchapp", "searchapp-all", "fts5", "whoosh", "tantivy", "bm25s")
DEPTH = 1000
SPLITS = ("all", "tune", "test")
_WORD = re.compile(r"\w+")

Ranker = Callable[[str], list[str]]


def default_corpora() -> Path:
    configured = os.environ.get("SEARCHAPP_CORPORA")
    return Path(configured) if configured else REPO.parent / "shared" / "corpora"


def split_queries(collection: Collection, split: str) -> list[str]:
    """The query ids of one half ("tune": 1st, 3rd, ... query; "test": 2nd, 4th, ...), or all."""
    ids = list(collection.queries)
    if split == "tune":
        return ids[0::2]
    if split == "test":
        return ids[1::2]
    return ids


def _fields(record: dict) -> tuple[str, str]:
    return str(record.get("title") or ""), str(record.get("body") or "")


def _words(text: str) -> list[str]:
    """Query words for the references: lower case, so no AND/OR/NOT operator survives."""
    return [w.lower() for w in _WORD.findall(text)]


# -- engines: each builds its index in ``workdir`` and returns a ranker -------

def build_searchapp(collection: Collection, workdir: Path, mode: str = "any") -> Ranker:
    """searchapp's ranking in ``mode``: "any" (any word) or "all" (the search box's default)."""
    from searchapp import SearchIndex, reindex

    corpus, index = workdir / "corpus", workdir / "index"
    corpus.mkdir()
    with open(corpus / "docs.jsonl", "w", encoding="utf-8") as out:
        for record in collection.docs:
            out.write(json.dumps(record) + "\n")
    summary = reindex(corpus, index, full=True, procs=1)
    if summary.rejected:
        raise RuntimeError(f"searchapp rejected {len(summary.rejected)} records: {summary.rejected[0]}")
    searcher = SearchIndex.open(index)
    # Report ids are "docs:<record id>".
    # The default mode reads the query language; it gets the words alone, lower
    # case, as the reference engines do (a question's "e.g.", hyphens or stray
    # quote are not syntax its writer meant).
    prepare = (lambda text: " ".join(_words(text))) if mode == "all" else (lambda text: text)
    return lambda text: [rid.split(":", 1)[1] for rid, _ in searcher.rank(prepare(text), limit=DEPTH, mode=mode)]


def build_fts5(collection: Collection, workdir: Path) -> Ranker:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(docid UNINDEXED, title, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                   ((str(r["id"]), *_fields(r)) for r in collection.docs))

    def rank(text: str) -> list[str]:
        words = _words(text)
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT docid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                          (match, DEPTH))
        return [row[0] for row in rows]
    return rank


def build_whoosh(collection: Collection, workdir: Path) -> Ranker:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    schema = Schema(docid=ID(stored=True), title=TEXT(analyzer=StemmingAnalyzer()),
                    body=TEXT(analyzer=StemmingAnalyzer()))
    ix = whoosh_index.create_in(str(workdir), schema)
    with ix.writer(limitmb=256) as writer:
        for record in collection.docs:
            title, body = _fields(record)
            writer.add_document(docid=str(record["id"]), title=title, body=body)
    searcher = ix.searcher()  # BM25F by default
    parser = MultifieldParser(["title", "body"], schema, group=OrGroup)

    def rank(text: str) -> list[str]:
        q = parser.parse(" ".join(_words(text)))
        return [hit["docid"] for hit in searcher.search(q, limit=DEPTH)]
    return rank


def build_tantivy(collection: Collection, workdir: Path) -> Ranker:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("docid", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build(), path=str(workdir))
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for record in collection.docs:
        title, body = _fields(record)
        writer.add_document(tantivy.Document(docid=str(record["id"]), title=title, body=body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def rank(text: str) -> list[str]:
        words = _words(text)
        if not words:
            return []
        q = index.parse_query(" ".join(words), ["title", "body"])
        hits = searcher.search(q, DEPTH).hits
        return [searcher.doc(address)["docid"][0] for _, address in hits]
    return rank


def build_bm25s(collection: Collection, workdir: Path) -> Ranker:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids = [str(r["id"]) for r in collection.docs]
    texts = ["\n".join(_fields(r)) for r in collection.docs]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    depth = min(DEPTH, len(ids))

    def rank(text: str) -> list[str]:
        tokens = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False,
                                return_ids=False)
        if not tokens[0]:
            return []
        docs, scores = retriever.retrieve(tokens, k=depth, show_progress=False)
        return [ids[d] for d, s in zip(docs[0], scores[0]) if s > 0]
    return rank


BUILDERS = {
    "searchapp": build_searchapp,
    "searchapp-all": lambda collection, workdir: build_searchapp(collection, workdir, mode="all"),
    "fts5": build_fts5,
    "whoosh": build_whoosh,
    "tantivy": build_tantivy,
    "bm25s": build_bm25s,
}
OPTIONAL = {"tantivy": ("tantivy",), "bm25s": ("bm25s", "Stemmer")}


def available(engine: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in OPTIONAL.get(engine, ()))


# -- running --------------------------------------------------------------------

def run_collection(collection: Collection, engines: Iterable[str], split: str = "all",
                   log: Callable[[str], None] = print) -> dict:
    """Index and query one collection with each engine; scores, per-query scores and timings."""
    qids = [q for q in split_queries(collection, split) if collection.qrels.get(q)]
    tune = set(split_queries(collection, "tune"))
    out: dict = {"queries": len(qids), "docs": len(collection.docs), "engines": {},
                 "tune_queries": [q for q in qids if q in tune]}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix=f"relevance-{engine}-") as tmp:
            started = time.perf_counter()
            rank = BUILDERS[engine](collection, Path(tmp))
            indexed = time.perf_counter()
            run = {qid: rank(collection.queries[qid]) for qid in qids}
            done = time.perf_counter()
        ev = evaluate(run, collection.qrels, qids)
        out["engines"][engine] = {
            "means": ev.means,
            "per_query": ev.per_query,
            "index_s": round(indexed - started, 3),
            "query_ms": round((done - indexed) * 1000 / max(len(qids), 1), 3),
        }
        log(f"  {collection.name:<10} {engine:<10} nDCG@10 {ev.means['ndcg@10']:.3f}  MAP {ev.means['map']:.3f}"
            f"  (index {indexed - started:.1f} s, {(done - indexed) * 1000 / max(len(qids), 1):.1f} ms/query)")
    return out


def run_benchmark(corpora: Path, collections: Iterable[str], engines: Iterable[str],
                  split: str = "all", log: Callable[[str], None] = print) -> dict:
    """Run every engine on every collection; the result is what ``--out`` writes as JSON."""
    engines = list(engines)
    result: dict = {"split": split, "engines": engines, "collections": {}}
    for name in collections:
        collection = load_collection(corpora / name)
        result["collections"][name] = run_collection(collection, engines, split, log)
    result["means"] = {
        engine: {m: _mean(c["engines"][engine]["means"][m] for c in result["collections"].values())
                 for m in METRICS}
        for engine in engines
    }
    return result


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def tables(result: dict) -> str:
    """One table per metric: a row per collection and a mean row, a column per engine."""
    engines = result["engines"]
    lines = []
    for metric, (label, _) in METRICS.items():
        lines.append(f"\n{label} ({result['split']} queries)")
        lines.append(f"{'collection':<12}{'queries':>8}" + "".join(f"{e:>11}" for e in engines))
        for name, c in result["collections"].items():
            values = [c["engines"][e]["means"][metric] for e in engines]
            best = max(values)
            cells = "".join(f"{v:>10.3f}{'*' if v == best else ' '}" for v in values)
            lines.append(f"{name:<12}{c['queries']:>8}" + cells)
        values = [result["means"][e][metric] for e in engines]
        best = max(values)
        lines.append(f"{'mean':<12}{'':>8}" + "".join(f"{v:>10.3f}{'*' if v == best else ' '}" for v in values))
    return "\n".join(lines)


def halves(result: dict) -> str:
    """Mean nDCG@10 and MAP over the collections, on each half of the queries."""
    engines = result["engines"]
    lines = ["\nMeans over the collections by query half (tune: odd positions, test: even)",
             f"{'':<18}" + "".join(f"{e:>11}" for e in engines)]
    for half in ("tune", "test"):
        for metric in ("ndcg@10", "map"):
            values = []
            for engine in engines:
                per_collection = []
                for c in result["collections"].values():
                    tune = set(c["tune_queries"])
                    scores = [v[metric] for q, v in c["engines"][engine]["per_query"].items()
                              if (q in tune) == (half == "tune")]
                    if scores:
                        per_collection.append(_mean(scores))
                values.append(_mean(per_collection))
            best = max(values)
            lines.append(f"{half + ' ' + METRICS[metric][0]:<18}"
                         + "".join(f"{v:>10.3f}{'*' if v == best else ' '}" for v in values))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=default_corpora(),
                        help="folder of the collections (default: ../shared/corpora or $SEARCHAPP_CORPORA)")
    parser.add_argument("-c", "--collection", action="append", choices=COLLECTIONS,
                        help="collection to run (repeatable; default: all)")
    parser.add_argument("-e", "--engine", action="append", choices=ENGINES,
                        help="engine to run (repeatable; default: all installed)")
    parser.add_argument("--split", choices=SPLITS, default="all",
                        help="queries to score: all, or the tune/test half")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "relevance.json",
                        help="JSON results file (default: benchmarks/results/relevance.json)")
    args = parser.parse_args(argv)
    if not args.corpora.is_dir():
        parser.error(f"corpora folder not found: {args.corpora} (use --corpora or SEARCHAPP_CORPORA)")
    engines = args.engine or [e for e in ENGINES if available(e)]
    missing = [e for e in engines if not available(e)]
    if missing:
        parser.error(f"not installed: {', '.join(missing)} (pip install tantivy bm25s PyStemmer)")
    result = run_benchmark(args.corpora, args.collection or COLLECTIONS, engines, args.split)
    print(tables(result))
    if args.split == "all":
        print(halves(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
