"""What automatic entities add to a full reindex, in one run.

    PYTHONPATH=src python benchmarks/entities_reindex.py --size 10000 --gazetteer 5000 --max-chars 1000 5000
    PYTHONPATH=src python benchmarks/entities_reindex.py --corpus /tmp/prof/c10k --procs 1 --max-chars 3000 600

Builds bench.py's mixed corpus (benchmarks/bench_corpus.py) of ``--size``
reports in a temporary folder, then runs a full reindex without entities and
one with them for each body bound (``searchapp.entities.MAX_CHARS`` set in a
forked child, which the indexing workers inherit), each into a new index (no
entity cache from an earlier run). Each reindex runs in its own
child process; its wall time and the CPU time of it and its workers
(``RUSAGE_CHILDREN``) are printed, with the share each adds to the reindex
without entities. Results as JSON in benchmarks/results/.

Run of 2026-12-01, 10,000 reports, 2 workers, load average 8-14 on 2 cores
(wall times are not comparable; CPU is):

    without entities                       44.8 s CPU
    places by look-up (gazetteer), 5,000   49.5 s CPU   +10.4% (spaCy loaded, not run)
    spaCy NER, max_chars 1,000            176.9 s CPU  +295%
  a second run:
    without entities                       57.7 s CPU
    spaCy NER, max_chars 5,000            255.5 s CPU  +342%

Run of 2026-12-01 evening, /tmp/prof/c10k, --procs 1, load average rising
from 5 to 9 on 2 cores during the run (CPU time inflates with the load, so the
two are not a fair pair; see the entity pass's own A/B in the commit log):

    without entities                       67.2 s CPU
    spaCy NER, max_chars 3,000            371.0 s CPU  +452%  (30 ms a report)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "benchmarks")]

from bench_corpus import load_sources, write_corpus  # noqa: E402


def timed_reindex(corpus: Path, index: Path, max_chars: int | None, gazetteer: bool = False,
                  procs: int = 0, entities: bool = False) -> dict:
    """A full reindex in a forked child: wall seconds and CPU seconds of its process tree.

    ``gazetteer``: places looked up and no spaCy (the proposed default; the
    indexer has no switch for it yet, so the child swaps the batch function).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: index, then leave without running the parent's cleanup
        code = 1
        try:
            from searchapp import entities as extraction, indexer

            if max_chars is not None:
                extraction.MAX_CHARS = max_chars
            if gazetteer:
                batch = extraction.extract_batch
                extraction.extract_batch = functools.partial(_places_only, batch)
            indexer.reindex(corpus, index, full=True, procs=procs, entities=entities or gazetteer)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the reindex with max_chars={max_chars} failed")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    shutil.rmtree(index, ignore_errors=True)  # the next run finds no entity cache
    return {"max_chars": max_chars, "entities": entities, "gazetteer": gazetteer,
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def _places_only(batch, reports, extract=True, **options):
    return batch(reports, extract=False, gazetteer=True, **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, help="an existing bench corpus folder instead of a new one "
                        "of --size reports (such as one bench_corpus.write_corpus wrote)")
    parser.add_argument("--procs", type=int, default=0, help="indexing processes (0: the default)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole plan, for pairs")
    parser.add_argument("--max-chars", type=int, nargs="+", default=[None],
                        help="body bounds to run (entities.MAX_CHARS; default: the module's)")
    parser.add_argument("--gazetteer", type=int, nargs="*", default=[],
                        help="bounds to run with places looked up and no spaCy")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "entities_reindex.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="entities-reindex-") as tmp:
        corpus = args.corpus or write_corpus(load_sources(args.corpora), args.size, Path(tmp) / "corpus").path
        plan = [(b, True) for b in args.gazetteer] + [(b, False) for b in args.max_chars]
        runs = []
        for _ in range(args.repeat):  # each run of the plan against its own run without entities
            runs.append(base := timed_reindex(corpus, Path(tmp) / "index", None, procs=args.procs))
            print(json.dumps(runs[-1]), flush=True)
            for bound, gazetteer in plan:
                runs.append(timed_reindex(corpus, Path(tmp) / "index", bound, gazetteer, args.procs,
                                          entities=True))
                runs[-1]["added_wall"] = round(runs[-1]["wall_s"] / base["wall_s"] - 1, 3)
                runs[-1]["added_cpu"] = round(runs[-1]["cpu_s"] / base["cpu_s"] - 1, 3)
                print(json.dumps(runs[-1]), flush=True)
    result = {"corpus": str(corpus), "procs": args.procs, "runs": runs, "load_average": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
