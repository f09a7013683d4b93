"""Sources over time against the plain search (issue 14), and the whole export.

    PYTHONPATH=src python benchmarks/timeline_bench.py --size 10000 [--work /tmp/tl]

Builds a corpus of ``--size`` reports with ``bench_corpus`` (from
../shared/corpora), indexes it, then for a set of queries times, warm, the
plain search (one page with facets), ``SearchIndex.timeline`` (per source and
per topic per period) and, once, the export of every hit of the empty query
through ``all_hits`` into ``csv_chunks`` (time, and tracemalloc's peak).
The issue's target: the timeline within 3 times the plain search.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_corpus import load_sources, write_corpus  # noqa: E402

from searchapp import SearchIndex, reindex  # noqa: E402
from searchapp.export import csv_chunks  # noqa: E402

QUERIES = ("", "oil", "security vulnerability", "market OR price", "government")
REPEAT = 7


def median_ms(call, repeat: int = REPEAT) -> float:
    call()  # warm: parsed query, postings
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def export_all(index: SearchIndex) -> tuple[int, float]:
    start = time.perf_counter()
    rows = sum(chunk.count("\r\n") for chunk in csv_chunks(index.all_hits("", sort="newest"))) - 1
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/searchapp-timeline-bench"))
    parser.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora")
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    corpus, index_dir = args.work / "corpus", args.work / "index"
    if not (index_dir / "CURRENT").exists():
        write_corpus(load_sources(args.corpora), args.size, corpus)
        reindex(corpus, index_dir, procs=args.procs, full=True)
    with SearchIndex.open(index_dir) as index:
        print(f"{index.doc_count():,} reports")
        print(f"{'query':<26} {'total':>8} {'search ms':>10} {'timeline ms':>12} {'ratio':>6}")
        for q in QUERIES:
            total = index.search(q).total
            plain = median_ms(lambda: index.search(q))
            tl = median_ms(lambda: index.timeline(q))
            print(f"{q or '(every report)':<26} {total:>8,} {plain:>10.1f} {tl:>12.1f} {tl / plain:>6.2f}")
        rows, seconds = export_all(index)
        tracemalloc.start()
        export_all(index)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"export of every report as CSV: {rows:,} rows in {seconds:.2f} s, "
              f"peak Python memory {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
