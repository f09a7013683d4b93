"""A full rebuild from scratch, then ``--full`` again with the text cache.

Indexes a folder (default: the 93 CRS PDFs of ``../shared/corpora``) into a
fresh index, then rebuilds it in full: the second run reads every file's
reports from ``index/text-cache/`` instead of extracting them again. Target:
the second run at least 10 times faster. A third run without the cache (its
folder removed) shows that the gain is the cache's; the reading of the files
alone is timed as well, without and with the cache (what the cache saves:
extraction and each body's analysed terms, which the cache keeps too; the
topic tagging, near-duplicate signatures and Whoosh's writing of the reports
are the same in every run). Each run's CPU time (the process and its
children) is given beside its wall time: the CPU of the run with the cache
less that of reading the cache alone is what the cache cannot save, and 10x
is reachable only when it is under a tenth of the from-scratch CPU.

    PYTHONPATH=src python benchmarks/bench_text_cache.py [folder] [--procs N]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from searchapp import extraction
from searchapp.corpus import discover
from searchapp.indexer import reindex

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "crs-reports" / "raw" / "pdf"
TARGET_SPEEDUP = 10


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def _timed(corpus: Path, index: Path, procs: int) -> dict:
    start, cpu = time.perf_counter(), _cpu()
    summary = reindex(corpus, index, full=True, procs=procs)
    return {"seconds": round(time.perf_counter() - start, 2), "cpu_s": round(_cpu() - cpu, 2),
            "reports": summary.added, "rejected": len(summary.rejected)}


def _extraction(corpus: Path, cache_dir: Path) -> dict:
    """Seconds (wall and CPU) to read every file's reports through an extractor with that cache."""
    files, _ = discover(corpus)
    start, cpu = time.perf_counter(), _cpu()
    with extraction.Extractor(extraction.TextCache(cache_dir)) as extractor:
        for cf in files:
            list(extractor.items(cf))
    return {"seconds": round(time.perf_counter() - start, 2), "cpu_s": round(_cpu() - cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--procs", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        cold = _timed(args.folder, index, args.procs)
        cache = index / extraction.CACHE_FOLDER
        entries = sum(1 for _ in cache.iterdir())
        size = sum(p.stat().st_size for p in cache.iterdir())
        warm = _timed(args.folder, index, args.procs)
        shutil.rmtree(cache)
        again = _timed(args.folder, index, args.procs)
        cold_read = _extraction(args.folder, Path(tmp) / "cache")
        warm_read = _extraction(args.folder, Path(tmp) / "cache")
    speedup = cold["seconds"] / warm["seconds"]
    # What the cache cannot save: the CPU of a run with it, less reading from it.
    rest = warm["cpu_s"] - warm_read["cpu_s"]
    print(json.dumps({"folder": str(args.folder), "from_scratch": cold, "full_with_cache": warm,
                      "full_without_cache": again, "cache_entries": entries,
                      "cache_mb": round(size / 2**20, 1), "speedup": round(speedup, 1),
                      "speedup_cpu": round(cold["cpu_s"] / max(warm["cpu_s"], 0.01), 1),
                      "extraction_alone": {"without_cache": cold_read, "from_cache": warm_read,
                                           "speedup": round(cold_read["seconds"] / max(warm_read["seconds"], 0.01), 1)},
                      "analysis_and_writing_cpu_s": round(rest, 2),
                      "share_of_from_scratch_cpu": round(rest / max(cold["cpu_s"], 0.01), 3),
                      "target": TARGET_SPEEDUP, "met": speedup >= TARGET_SPEEDUP}, indent=2))


if __name__ == "__main__":
    main()
