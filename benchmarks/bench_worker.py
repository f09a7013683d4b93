"""One measured step in a process of its own, so that its time and memory are its own.

Run by bench.py as ``python bench_worker.py '<json spec>'``; prints one JSON
object on its last line of standard output.

Specs (``task``):
- ``index``: full build of ``engine`` from ``corpus`` into ``index``
  (``learned_topics``: false leaves out searchapp's learned topic tagger).
- ``update``: incremental update after ``changed`` files changed.
- ``search``: open the index, time the first search, then ``rounds`` rounds of the query mix.
- ``serve``: run searchapp's web server on ``index`` (port 0: it logs the one it got).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _peak_rss_mb() -> dict:
    # VmHWM, not RUSAGE_SELF: on Linux ru_maxrss survives exec, so it would
    # include the benchmark process this one was forked from.
    self_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"rss_self_mb": round(self_kb / 1024, 1), "rss_children_mb": round(children_kb / 1024, 1)}


def _cpu_s() -> float:
    """CPU time of this process and its finished children (less swayed by other load than wall time)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _without_learned_topics() -> None:
    """searchapp's reindex without the topic tagger learned from curated reports
    (issue 4): no learning pass, no model; the taxonomy still tags."""
    from searchapp import topics

    topics.ReindexTopics.learn_fields = lambda self, fields: None
    topics.TopicLearner.fit = lambda self, procs=1: None


def run(spec: dict) -> dict:
    from bench_engines import ENGINES, BenchQuery

    if spec["engine"] == "searchapp" and not spec.get("learned_topics", True):
        _without_learned_topics()
    engine = ENGINES[spec["engine"]]
    task = spec["task"]
    kwargs = {}
    if spec.get("topics"):  # a reference's copy of searchapp's automatic topics (read before timing)
        kwargs["topics"] = json.loads(Path(spec["topics"]).read_text("utf-8"))
    if task == "index":
        started = time.perf_counter()
        if spec.get("limit"):
            kwargs["limit"] = spec["limit"]
        cpu = _cpu_s()
        engine.build(Path(spec["corpus"]), Path(spec["index"]), procs=spec.get("procs", 0), **kwargs)
        return {"seconds": time.perf_counter() - started, "cpu_s": _cpu_s() - cpu, **_peak_rss_mb()}
    if task == "update":
        started, cpu = time.perf_counter(), _cpu_s()
        engine.update(Path(spec["corpus"]), Path(spec["index"]), [Path(p) for p in spec["changed"]],
                      procs=spec.get("procs", 0), **kwargs)
        return {"seconds": time.perf_counter() - started, "cpu_s": _cpu_s() - cpu, **_peak_rss_mb()}
    if task == "search":
        queries = [BenchQuery(**{k: tuple(v) if isinstance(v, list) else v for k, v in q.items()})
                   for q in spec["queries"]]
        return _search(engine, Path(spec["index"]), queries, spec["rounds"])
    raise ValueError(f"unknown task {task!r}")


def _search(engine, index: Path, queries, rounds: int) -> dict:
    """Times ``run`` (what a user waits for), not the conversion for comparing engines.

    The first round is timed apart ("first"): each query's first run, before
    any cache holds its words.
    """
    started = time.perf_counter()
    searcher = engine(index)
    opened = time.perf_counter()
    searcher.run(queries[0])
    first = time.perf_counter()
    first_ms: dict[str, float] = {}
    totals: dict[str, int] = {}
    for q in queries:
        t0 = time.perf_counter()
        raw = searcher.run(q)
        first_ms[q.name] = (time.perf_counter() - t0) * 1000
        totals[q.name] = searcher.outcome(raw, q).total
    latencies: dict[str, list[float]] = {q.name: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            searcher.run(q)
            latencies[q.name].append((time.perf_counter() - t0) * 1000)
    searcher.close()
    return {
        "open_s": opened - started, "first_search_s": first - started,
        "latencies_ms": latencies, "first_round_ms": first_ms, "totals": totals, **_peak_rss_mb(),
    }


def serve(spec: dict) -> None:
    from searchapp.config import Settings
    from searchapp.server import serve as run_server

    run_server(Settings(index=Path(spec["index"]), host="127.0.0.1", port=0, threads=spec.get("threads", 8)))


def main() -> None:
    spec = json.loads(sys.argv[1])
    if spec["task"] == "serve":
        serve(spec)
        return
    out = run(spec)
    sys.stdout.write("\n" + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
