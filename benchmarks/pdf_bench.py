"""PDF extraction speed (pages/s per core) and a worker's peak memory.

Runs the PDF parser (:func:`searchapp.corpus.pdf.parse_pdf`, the whole report:
text, metadata, cascade, language) over every PDF of a folder in one child
process, so that its CPU time and peak memory are its own. Pages per second
per core are pages / CPU seconds (CPU time is less swayed by the other
processes of a shared machine than wall time); wall time is reported beside it.

    PYTHONPATH=src python benchmarks/pdf_bench.py [folder] [--rounds N]

The default folder is the 93 CRS PDFs of ``../shared/corpora``. Target: at
least 50 pages/s per core.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "crs-reports" / "raw" / "pdf"
TARGET_PAGES_PER_S = 50


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def worker(folder: Path, rounds: int) -> dict:
    """Parse every PDF ``rounds`` times; count pages, CPU and wall seconds."""
    from searchapp.corpus import discover, parse_file
    from searchapp.report import Report

    files, _ = discover(folder)
    files = [cf for cf in files if cf.relpath.lower().endswith(".pdf")]
    list(parse_file(files[0]))  # warm up: imports and the language model are loaded once per worker
    pages = reports = rejected = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for cf in files:
            for item in parse_file(cf):
                if isinstance(item, Report):
                    reports += 1
                    pages += len(item.pages)
                else:
                    rejected += 1
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"files": len(files), "rounds": rounds, "reports": reports, "rejected": rejected, "pages": pages,
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "pages_per_s_per_core": round(pages / cpu, 1), "pages_per_s_wall": round(pages / wall, 1),
            "ms_per_page": round(1000 * cpu / pages, 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.folder, args.rounds)))
        return
    command = [sys.executable, __file__, str(args.folder), "--rounds", str(args.rounds), "--worker"]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    result["children_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    result["target_met"] = result["pages_per_s_per_core"] >= TARGET_PAGES_PER_S
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
