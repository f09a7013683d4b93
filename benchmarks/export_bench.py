"""The export writers alone: time and peak memory to stream N hits as CSV and JSON Lines.

    PYTHONPATH=src python benchmarks/export_bench.py --rows 100000

Hits are generated on the fly (about a 300-character snippet each, like the
core's), so the figure is the writers' cost and memory, not the search's; the
deep-paging iterator that feeds them in the app adds its own. Peak memory is
tracemalloc's peak of Python allocations during the export (the chunks are
counted and dropped, as a streamed response does), measured in a second
pass so tracing does not slow the timed one.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from searchapp.export import csv_chunks, jsonl_chunks
from searchapp.results import Hit

SNIPPET = ("The ministry said on <mark>Tuesday</mark> that crude &amp; oil exports rose, "
           "according to figures released by the statistics office … ") * 2


def hits(rows: int):
    for n in range(rows):
        yield Hit(id=f"reuters21578:{n}", title=f"Oil exports rise in month {n % 12 + 1}",
                  date=f"1987-{n % 12 + 1:02d}-{n % 28 + 1:02d}", source="Reuters",
                  topics=("crude", "ship"), score=round(10 / (n + 1), 4), snippet=SNIPPET,
                  title_html="", auto_topics=("energy",), url=f"https://example.org/{n}")


def measure(writer, rows: int) -> dict:
    started = time.perf_counter()
    size = sum(len(chunk.encode("utf-8")) for chunk in writer(hits(rows)))
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second pass: tracing slows Python down several times
    for _ in writer(hits(rows)):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed),
            "output_mb": round(size / 1e6, 1), "peak_python_mb": round(peak / 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for rows in args.rows:
        for name, writer in (("csv", csv_chunks), ("jsonl", jsonl_chunks)):
            print(name, measure(writer, rows))


if __name__ == "__main__":
    main()
