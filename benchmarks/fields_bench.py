"""Cost of the entity pass and of the near-duplicate pass as shares of a full reindex (issue 15).

Indexes the first N Reuters stories (default 10,000) three times from scratch:
without automatic entities and without near-duplicate groups (the baseline),
with the groups only, and with both; prints each run's seconds and the shares.

    PYTHONPATH=src python benchmarks/fields_bench.py [--reports 10000] [--procs 2]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

from searchapp import entities, grouping, reindex

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def _corpus(folder: Path, reports: int) -> Path:
    with gzip.open(CORPORA / "reuters21578" / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as f:
        lines = list(itertools.islice(f, reports))
    (folder / "corpus").mkdir()
    (folder / "corpus" / "reuters.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder / "corpus"


def _run(corpus: Path, index: Path, procs: int, extract: bool, groups: bool) -> float:
    shutil.rmtree(index, ignore_errors=True)
    off = entities.ExtractorStatus(False, "off for the baseline")
    patches = []
    if not extract:
        patches.append(mock.patch.object(entities, "extractor_status", lambda: off))
    if not groups:
        patches.append(mock.patch.object(grouping, "build", lambda *a, **k: None))
    for p in patches:
        p.start()
    try:
        started = time.perf_counter()
        reindex(corpus, index, full=True, procs=procs)
        return time.perf_counter() - started
    finally:
        for p in patches:
            p.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    print(f"extractor: {entities.extractor_status().reason}")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = _corpus(Path(tmp), args.reports)
        index = Path(tmp) / "index"
        base = _run(corpus, index, args.procs, extract=False, groups=False)
        grouped = _run(corpus, index, args.procs, extract=False, groups=True)
        both = _run(corpus, index, args.procs, extract=True, groups=True)
    print(f"{args.reports} Reuters reports, {args.procs} processes")
    print(f"  baseline (no entities, no groups): {base:.1f} s")
    print(f"  + near-duplicate groups:           {grouped:.1f} s ({(grouped - base) / base:+.0%})")
    print(f"  + automatic entities too:          {both:.1f} s ({(both - grouped) / base:+.0%} for entities)")


if __name__ == "__main__":
    main()
