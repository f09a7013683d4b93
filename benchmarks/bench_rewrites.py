"""Deleted reports reclaimed: rewrites of one large JSON Lines file, and the cost of a 1% update.

    PYTHONPATH=src python benchmarks/bench_rewrites.py [--rewrites 6] [--procs 2]

1. The Reuters JSON Lines file (21,578 reports, one file) indexed in full, then
   rewritten ``--rewrites`` times (a few reports edited each time, so the file
   changes and every report of it is replaced) with an incremental reindex
   after each: documents in the segments (live + deleted), segments, size on
   disk, and the median time of a fixed query mix, against the fresh index.
2. The same reports as 1,000 files: a full reindex, then 1% of the files
   changed and an incremental reindex; the ratio of the two times.

Prints a table and writes benchmarks/results/rewrites.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import searchapp  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(HERE.parent / "src"))

from whoosh import index as whoosh_index  # noqa: E402

from searchapp import SearchIndex, reindex, store  # noqa: E402

REUTERS = Path("/work/shared/corpora/reuters21578/reuters21578.jsonl.gz")
QUERIES = ("oil prices", "bank interest rates", "wheat exports", "trade deficit", "gold", "coffee brazil")


def records() -> list[dict]:
    with gzip.open(REUTERS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, items: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")


def disk_mb(index_dir: Path) -> float:
    gen = store.current_generation(index_dir)
    return round(sum(p.stat().st_size for p in gen.rglob("*") if p.is_file()) / 2**20, 1)


def segments(index_dir: Path) -> tuple[int, int]:
    ix = whoosh_index.open_dir(str(store.current_generation(index_dir)))
    try:
        segs = ix._segments()
        return len(segs), sum(s.doc_count_all() for s in segs)
    finally:
        ix.close()


def query_ms(index_dir: Path, rounds: int = 7) -> float:
    with SearchIndex.open(index_dir) as index:
        for q in QUERIES:  # warm up
            index.search(q)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for q in QUERIES:
                index.search(q)
            times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def state(index_dir: Path, label: str, seconds: float) -> dict:
    count, docs = segments(index_dir)
    row = {"run": label, "seconds": round(seconds, 1), "segments": count, "documents": docs,
           "mb": disk_mb(index_dir), "query_ms": query_ms(index_dir)}
    print(f"{label:<12} {row['seconds']:>7} s {count:>3} segments {docs:>7} docs "
          f"{row['mb']:>7} MB {row['query_ms']:>7} ms", flush=True)
    return row


def timed(*args, **kwargs) -> float:
    start = time.perf_counter()
    reindex(*args, **kwargs)
    return time.perf_counter() - start


def rewrites(items: list[dict], work: Path, count: int, procs: int) -> list[dict]:
    corpus, index_dir = work / "one", work / "one-index"
    corpus.mkdir()
    write_jsonl(corpus / "reuters.jsonl", items)
    rows = [state(index_dir, "fresh", timed(corpus, index_dir, full=True, procs=procs))]
    for run in range(1, count + 1):
        for i in range(run * 10, run * 10 + 10):
            items[i] = dict(items[i], body=f"{items[i].get('body', '')} rewrite {run}")
        write_jsonl(corpus / "reuters.jsonl", items)
        rows.append(state(index_dir, f"rewrite {run}", timed(corpus, index_dir, procs=procs)))
    return rows


def one_percent(items: list[dict], work: Path, procs: int) -> dict:
    corpus, index_dir = work / "many", work / "many-index"
    corpus.mkdir()
    files = 1000
    for n in range(files):
        write_jsonl(corpus / f"part-{n:04d}.jsonl", items[n::files])
    full = timed(corpus, index_dir, full=True, procs=procs)
    for n in range(0, files, 100):  # 10 files: 1%
        path = corpus / f"part-{n:04d}.jsonl"
        path.write_text(path.read_text(encoding="utf-8").replace('"body": "', '"body": "changed ', 1),
                        encoding="utf-8")
    incremental = timed(corpus, index_dir, procs=procs)
    row = {"full_s": round(full, 2), "incremental_1pct_s": round(incremental, 2),
           "ratio": round(incremental / full, 3)}
    print(f"1,000 files: full {row['full_s']} s, 1% incremental {row['incremental_1pct_s']} s "
          f"({row['ratio']:.1%} of full)", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewrites", type=int, default=6)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    items = records()
    with tempfile.TemporaryDirectory() as tmp:
        rows = rewrites(list(items), Path(tmp), args.rewrites, args.procs)
        update = one_percent(items, Path(tmp), args.procs)
    fresh, last = rows[0], rows[-1]
    summary = {"size_ratio": round(last["mb"] / fresh["mb"], 2),
               "query_ratio": round(last["query_ms"] / fresh["query_ms"], 2)}
    print(f"after {args.rewrites} rewrites: {summary['size_ratio']}x the fresh size, "
          f"{summary['query_ratio']}x the fresh query time")
    out = HERE / "results" / "rewrites.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rewrites": rows, "one_percent": update, **summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
