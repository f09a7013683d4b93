"""Speed at scale: searchapp against SQLite FTS5 and plain Whoosh, in one run.

    PYTHONPATH=src python benchmarks/bench.py --size 10000
    PYTHONPATH=src python benchmarks/bench.py --size 1000 10000 100000 --rounds 5

For each size: a corpus built from ../shared/corpora (see bench_corpus) in a
temporary folder; a full index by every engine (reports/s, MB/s of text, peak
RSS of the indexing process tree, size on disk); the query mix in-process
(p50/p95/p99 of the complete operation: top 10, three facets, snippets);
searchapp's web server under concurrent clients (requests/s, p95, peak RSS,
time to the first result); an incremental reindex after 1% of the files
changed. Every figure is also given as a ratio to both references. Results go
to benchmarks/results/bench-<size>.json, the plot of all sizes measured so far
to benchmarks/results/bench.png.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import searchapp  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from bench_corpus import BenchCorpus, change_files, load_sources, write_corpus  # noqa: E402
from bench_engines import ENGINES, BenchQuery, auto_topics  # noqa: E402
from bench_http import http_load  # noqa: E402
from bench_report import percentiles, plot, print_table, summarize  # noqa: E402

DEFAULT_CORPORA = REPO.parent / "shared" / "corpora"
RESULTS = HERE / "results"
REFERENCES = ("fts5", "whoosh")

REUTERS = ("Reuters",)
ADVISORIES = ("CISA", "WA SOC (Western Australian Government Cyber Security Unit)")
# The fixed mix: single words (common to rare), two and three words, phrases,
# source/topic/date filters (alone, together, multi-select), date sort, and
# browsing without words. The names say which is which in the results.
QUERY_MIX: tuple[BenchQuery, ...] = (
    BenchQuery("1w-common", ("said",)),
    BenchQuery("1w-mid", ("security",)),
    BenchQuery("1w-oil", ("oil",)),
    BenchQuery("1w-rare", ("ransomware",)),
    BenchQuery("2w", ("interest", "rates")),
    BenchQuery("2w-common", ("information", "system")),
    BenchQuery("3w", ("crude", "oil", "prices")),
    BenchQuery("3w-advisory", ("remote", "code", "execution")),
    BenchQuery("phrase", ("remote", "code", "execution"), phrase=True),
    BenchQuery("phrase-2w", ("boundary", "layer"), phrase=True),
    BenchQuery("1w+source", ("government",), source=REUTERS),
    BenchQuery("1w+topic", ("price",), topic=("crude",)),
    BenchQuery("1w+years", ("vulnerability",), date_from="2020-01-01", date_to="2023-12-31"),
    BenchQuery("1w+months", ("oil",), date_from="1987-03-01", date_to="1987-04-30"),
    BenchQuery("1w+all3", ("price",), source=REUTERS, topic=("crude", "nat-gas"),
               date_from="1987-01-01", date_to="1987-12-31"),
    BenchQuery("1w+2sources", ("security",), source=ADVISORIES),
    BenchQuery("common+source", ("said",), source=REUTERS),
    BenchQuery("rare+source", ("cocoa",), source=REUTERS),
    BenchQuery("1w-newest", ("vulnerability",), sort="newest"),
    BenchQuery("1w+topic-newest", ("windows",), topic=("comp.os.ms-windows.misc",), sort="newest"),
    BenchQuery("browse-newest", (), sort="newest"),
    BenchQuery("browse+filters", (), source=REUTERS, date_from="1987-03-01", date_to="1987-03-31",
               sort="newest"),
)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), str(HERE), env.get("PYTHONPATH")) if p)
    return env


def run_worker(spec: dict) -> dict:
    """Run one step in a subprocess; its result, with the peak RSS of its process tree."""
    proc = subprocess.Popen([sys.executable, str(HERE / "bench_worker.py"), json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    sampler = TreeRss(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec['task']} {spec['engine']} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_tree_mb"] = round(sampler.peak_kb / 1024, 1)
    result["peak_rss_mb"] = max(result["rss_tree_mb"], result["rss_self_mb"], result["rss_children_mb"])
    return result


class TreeRss(threading.Thread):
    """Samples the summed RSS of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_s):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss_kb(pid) for pid in tree)


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def du_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def bench_size(records: list[dict], size: int, work: Path, args) -> dict:
    """Every measurement for one corpus size."""
    print(f"\n== {size:,} reports: writing the corpus", flush=True)
    corpus = write_corpus(records, size, work / "corpus")
    out: dict = {"size": size, "corpus": {"reports": corpus.reports, "files": corpus.files,
                                          "text_mb": round(corpus.text_bytes / 2**20, 1)},
                 "engines": {}, "query_mix": [asdict(q) for q in QUERY_MIX]}
    topics = None
    for name in args.engines:
        out["engines"][name] = {"index": index_engine(name, corpus, work / name, args, topics)}
        if name == "searchapp":  # the references index searchapp's automatic topics too
            topics = work / "auto-topics.json"
            topics.write_text(json.dumps(auto_topics(work / name)), encoding="utf-8")
    for name in args.engines:
        rounds = args.whoosh_rounds if name == "whoosh" and args.whoosh_rounds else args.rounds
        print(f"-- {name}: searching ({rounds} rounds of {len(QUERY_MIX)} queries)", flush=True)
        spec = {"task": "search", "engine": name, "index": str(work / name), "rounds": rounds,
                "queries": [asdict(q) for q in QUERY_MIX]}
        out["engines"][name]["search"] = run_worker(spec)
    if "searchapp" in args.engines and args.clients:
        print(f"-- searchapp: HTTP, {args.clients} clients for {args.http_seconds:g} s", flush=True)
        try:
            out["engines"]["searchapp"]["http"] = http_load(
                [sys.executable, str(HERE / "bench_worker.py")], _env(), work / "searchapp",
                QUERY_MIX, clients=args.clients, seconds=args.http_seconds)
        except RuntimeError as e:  # the rest of the run is still worth having
            print(f"!! the HTTP test failed: {e}", file=sys.stderr, flush=True)
            out["engines"]["searchapp"]["http_error"] = str(e)
    changed = change_files(corpus)
    for name in args.engines:
        print(f"-- {name}: incremental reindex of {len(changed)} changed files", flush=True)
        spec = {"task": "update", "engine": name, "corpus": str(corpus.path), "index": str(work / name),
                "changed": [str(p) for p in changed], "procs": args.procs,
                "learned_topics": not args.no_learned_topics,
                "topics": str(topics) if topics and name != "searchapp" else None}
        out["engines"][name]["update"] = run_worker(spec)
    out["changed_files"] = len(changed)
    return out


def index_engine(name: str, corpus: BenchCorpus, index: Path, args, topics: Path | None) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    limit = args.whoosh_index_limit if name == "whoosh" and args.whoosh_index_limit else None
    spec = {"task": "index", "engine": name, "corpus": str(corpus.path), "index": str(index),
            "procs": args.procs if name == "searchapp" else 0, "learned_topics": not args.no_learned_topics,
            "topics": str(topics) if topics and name != "searchapp" else None}
    if limit and limit < corpus.reports:
        # The single-writer rate on the first `limit` reports; the full index
        # for searching is then built with several writers into one segment.
        print(f"-- {name}: indexing the first {limit:,} reports (timed)", flush=True)
        timed = run_worker({**spec, "limit": limit})
        share = _share(corpus, limit)
        shutil.rmtree(index, ignore_errors=True)
        print(f"-- {name}: indexing all reports for searching (not timed)", flush=True)
        run_worker({**spec, "procs": os.cpu_count() or 1})
        reports, text_bytes = share
        timed["sampled"] = reports
    else:
        print(f"-- {name}: indexing", flush=True)
        timed = run_worker(spec)
        reports, text_bytes = corpus.reports, corpus.text_bytes
    timed["reports"] = reports
    timed["reports_per_s"] = reports / timed["seconds"]
    timed["mb_per_s"] = text_bytes / 2**20 / timed["seconds"]
    timed["index_mb"] = du_mb(index)
    return timed


def _share(corpus: BenchCorpus, limit: int) -> tuple[int, int]:
    """Reports and text bytes of the whole files the first ``limit`` reports fall in."""
    from bench_corpus import read_part

    reports = text_bytes = 0
    for path in corpus.part_files():
        for rec in read_part(path):
            reports += 1
            text_bytes += len(rec["title"].encode()) + len(rec["body"].encode())
        if reports >= limit:
            break
    return reports, text_bytes


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, nargs="+", default=[10_000], help="corpus sizes (reports)")
    p.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA, help="the real corpora folder")
    p.add_argument("--engines", default=",".join(ENGINES), help="engines to run (comma-separated)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds of the query mix")
    p.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (0: no HTTP test)")
    p.add_argument("--http-seconds", type=float, default=15.0, help="length of the HTTP test")
    p.add_argument("--procs", type=int, default=0, help="searchapp indexing processes (0: one per core)")
    p.add_argument("--whoosh-rounds", type=int, help="timed rounds for plain Whoosh (default: --rounds)")
    p.add_argument("--no-learned-topics", action="store_true",
                   help="index without searchapp's topic tagger learned from curated reports (issue 4)")
    p.add_argument("--whoosh-index-limit", type=int, default=0,
                   help="time plain Whoosh's single writer on this many reports only (0: all)")
    p.add_argument("--workdir", type=Path, help="where corpora and indexes go (default: a temporary folder)")
    p.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON and the plot")
    p.add_argument("--keep", action="store_true", help="keep the corpora and indexes (with --workdir)")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        p.error(f"unknown engines {sorted(unknown)}; choose from {', '.join(ENGINES)}")
    if args.keep and args.workdir is None:
        p.error("--keep needs --workdir")
    if any(s < 1 for s in args.size):
        p.error("--size must be at least 1")
    return args


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    print(f"loading the corpora from {args.corpora}", flush=True)
    records = load_sources(args.corpora)
    work_root = args.workdir or Path(tempfile.mkdtemp(prefix="searchapp-bench-"))
    runs = []
    try:
        for size in args.size:
            work = work_root / f"size-{size}"
            shutil.rmtree(work, ignore_errors=True)
            raw = bench_size(records, size, work, args)
            raw["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                              "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "load_average": os.getloadavg()}
            raw["options"] = {"learned_topics": not args.no_learned_topics, "rounds": args.rounds,
                              "whoosh_rounds": args.whoosh_rounds or args.rounds,
                              "whoosh_index_limit": args.whoosh_index_limit or None}
            result = summarize(raw)
            print_table(result)
            args.results.mkdir(parents=True, exist_ok=True)
            path = args.results / f"bench-{size}.json"
            path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            print(f"\nwrote {path}")
            runs.append(result)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        if not args.no_plot:
            png = plot(args.results)
            if png:
                print(f"wrote {png}")
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    return runs


__all__ = ["QUERY_MIX", "main", "percentiles"]

if __name__ == "__main__":
    main()
