"""The near-duplicate threshold, chosen on labelled Reuters and CISA pairs.

    PYTHONPATH=src python benchmarks/neardup_bench.py [--corpora DIR] [--out FILE]

Pool: Reuters-21578 stories with NEWID <= 7,500 (both 264 and 344 among them)
and all 2,383 CISA advisories, 9,883 reports, text = title and body. The
groups of the whole pool are built (:class:`searchapp.neardup.NearDuplicates`,
boilerplate learned from one report in two of the pool, as a build does) at
each threshold, and every labelled pair of
``benchmarks/data/neardup_pairs.jsonl`` (see ``benchmarks/data/README.md``
for how they were labelled) is scored: grouped together or not, against its
label. Precision = labelled duplicates among the grouped pairs; recall =
grouped pairs among the labelled duplicates.

Cost: the wall time of the signatures (shingling and MinHash, what a worker
process would do) and of the grouping (a build at once, and an update of the
last 2% of the pool into a build of the rest, which must find the same
groups), per 1,000 reports, one process on a shared machine. Figures are
printed and written as JSON to ``benchmarks/results/``.

Cost in a reindex (``--reindex-cost SIZE``): full reindexes of a bench corpus
(``bench_corpus.write_corpus``, or a copy of ``--corpus DIR``) with
near-duplicate grouping and without it (the boilerplate, the signatures, the
build and the update replaced by nothing), alternated, one process each,
timed by wall clock and by the CPU time of the run and its processes; then,
after each, one file of the corpus changed and an incremental reindex timed
the same way. The ratios are what grouping adds.

Run of 2026-12-01 (135 labelled pairs), hashed shingles, 256 permutations,
LSH bands for 0.5: threshold 0.6 (the default) groups with precision 1.00
and recall 0.86; 0.5: 0.98 / 0.89; 0.9: 1.00 / 0.45. (SHA-1 shingles, 128
permutations, bands for 0.6, before: 1.00 / 0.82.) Signatures 0.24 s of CPU
per 1,000 reports (was about 1 s); the grouping of a full build at once and
report by report find the same groups (checked here).

Reindex cost, 10,000 reports, 2026-12-01 (after the language fix of the
learning pass): quiet machine, 2 processes: 30.0 s wall / 38.4 s CPU with
grouping, 21.0 s / 25.3 s without (+43% wall); one process: 30.9 s CPU
against 22.7 s (+36%). Target +15%: not met. In one process the grouping's
parts take about 5 s of CPU (signatures 3.2 s, boilerplate of 10,000 texts
1.5 s, grouping and file 0.8 s); the rest of the difference is not found.

Run of 2026-12-01, later (shingles of 2 index terms, LSH band arrays): on the
135 pairs, threshold 0.6: precision 0.98 (one pair: ICSA-18-347-02 and
ICSA-19-038-02, two Siemens advisories on the same two CVEs), recall 0.85;
0.5: 0.97 / 0.89 (boilerplate from every report of the pool). 3 terms:
0.98 / 0.78. Headline agreement 0.5: 1.00 / 0.83. Boilerplate from one
report in two, as a build now learns it: 0.98 / 0.83 (the other half: 0.98 /
0.85). The update of 2% of the pool: 0.015 s of CPU.

Reindex of /tmp/prof/c10k (10,000 reports, one process, alternated with the
branch's parent on a busy machine: the whole run's CPU is too noisy there, 24
to 31 s for the same run without grouping, so the grouping's parts are timed
in the process): full build, signatures 2.1-2.9 s (parent 4.2-4.7 s),
boilerplate 1.3-1.9 s (1.5-1.8 s), build 0.17-0.26 s (0.30 s): 3.6-5.0 s
against 6.0-6.8 s, +13-19% of the median run without grouping (27.0 s;
parent +22-25%). One file of 50 changed (200 reports), incremental: update
0.31-0.33 s (1.6-1.7 s), signatures 0.05 s (0.08 s); the whole run 1.04-1.09
s against 2.36-2.50 s (0.6-1.1 s without grouping). What is left of the
update is loading and saving the file, in Python for every report.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from searchapp.neardup import (  # noqa: E402
    COMMON_SAMPLE, COMMON_STRIDE, THRESHOLD, NearDuplicates, common_shingles,
)

LABELS = REPO / "benchmarks" / "data" / "neardup_pairs.jsonl"
THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
REUTERS_MAX_ID = 7500
TARGET_PRECISION = 0.95


def load_pool(corpora: Path) -> dict[str, str]:
    pool = {}
    with gzip.open(corpora / "reuters21578" / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if int(rec["id"]) <= REUTERS_MAX_ID:
                pool[f"reuters:{rec['id']}"] = f"{rec['title'] or ''}\n{rec['body'] or ''}"
    path = corpora / "cisa-csaf-advisories" / "cisa-csaf-advisories.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            pool[f"cisa:{rec['id']}"] = f"{rec['title'] or ''}\n{rec['body'] or ''}"
    return pool


def load_labels(path: Path = LABELS) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(groups: NearDuplicates, labels: list[dict]) -> dict:
    grouped = [(groups.group_of(p["a"]) == groups.group_of(p["b"]), p) for p in labels]
    tp = sum(g and p["label"] == "duplicate" for g, p in grouped)
    fp = sum(g and p["label"] == "distinct" for g, p in grouped)
    fn = sum(not g and p["label"] == "duplicate" for g, p in grouped)
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "true_positives": tp, "false_positives": fp, "false_negatives": fn,
        "false_positive_pairs": [f"{p['a']} {p['b']}" for g, p in grouped
                                 if g and p["label"] == "distinct"],
        "groups": len(groups.groups()),
        "reports_in_groups": sum(len(g) for g in groups.groups()),
    }


def _timed(run) -> dict:
    before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    start = time.perf_counter()
    run()
    wall = time.perf_counter() - start
    after = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def _timed_reindexes(source: Path, work: Path, grouped: bool) -> dict[str, dict]:
    """A full reindex of a copy of ``source``, then one file changed and an incremental one."""
    from bench_corpus import BenchCorpus, change_files

    from searchapp import grouping, indexer

    names = ("common", "__call__", "build", "update")
    owners = (grouping.Sample, grouping.Signer, grouping, grouping)
    saved = [getattr(owner, name) for owner, name in zip(owners, names)]
    if not grouped:
        for owner, name in zip(owners, names):
            setattr(owner, name, lambda *args: None)
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(source, corpus)  # keeps mtimes
    files = len(BenchCorpus(corpus, 0, 0, 0).part_files())
    try:
        full = _timed(lambda: indexer.reindex(corpus, index, full=True, procs=1))
        change_files(BenchCorpus(corpus, 0, files, 0), 1 / files)
        incremental = _timed(lambda: indexer.reindex(corpus, index, procs=1))
    finally:
        for owner, name, value in zip(owners, names, saved):
            setattr(owner, name, value)
        shutil.rmtree(index, ignore_errors=True)
    return {"full": full, "incremental": incremental}


def reindex_cost(corpora: Path, size: int, rounds: int, work: Path, source: Path | None = None) -> dict:
    """Reindexes with and without grouping, alternated; the medians and their ratios."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_corpus import load_sources, write_corpus

    if source is None:
        source = work / f"corpus-{size}"
        if not source.exists():
            write_corpus(load_sources(corpora), size, source)
    runs: dict[str, list[dict]] = {"with": [], "without": []}
    for _ in range(rounds):
        for name, grouped in (("without", False), ("with", True)):
            runs[name].append(_timed_reindexes(source, work, grouped))
            print(name, runs[name][-1], flush=True)
    median = {name: {kind: {k: statistics.median(r[kind][k] for r in found) for k in ("wall_s", "cpu_s")}
                     for kind in ("full", "incremental")} for name, found in runs.items()}
    added = {kind: {k: round(median["with"][kind][k] / median["without"][kind][k] - 1, 3)
                    for k in ("wall_s", "cpu_s")} for kind in ("full", "incremental")}
    return {"corpus": str(source), "runs": runs, "median": median, "added": added,
            "machine": platform.platform(), "load_average": os.getloadavg()}


def updated_cpu(signatures: dict, common) -> float:
    """CPU seconds of an update that puts the last 2% of the pool into a build of
    the rest and takes out as many (checked: the groups of a build of the result)."""
    items = list(signatures.items())
    cut = len(items) - len(items) // 50
    groups = NearDuplicates.from_signatures(items[:cut], common=common)
    removed = [report_id for report_id, _ in items[:len(items) - cut]]
    cpu = time.process_time()
    groups.update(removed, items[cut:])
    spent = time.process_time() - cpu
    gone = set(removed)
    rest = [(i, s) for i, s in items if i not in gone]
    assert groups.groups() == NearDuplicates.from_signatures(rest, common=common).groups(), \
        "an update must find the groups of a build of the result"
    return round(spent, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpora = os.environ.get("SEARCHAPP_CORPORA", str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--corpora", type=Path, default=Path(default_corpora))
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / "neardup_thresholds.json")
    parser.add_argument("--reindex-cost", type=int, metavar="SIZE",
                        help="measure what grouping adds to a full reindex of SIZE reports instead")
    parser.add_argument("--corpus", type=Path, help="with --reindex-cost: a copy of this bench corpus")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "neardup-cost")
    args = parser.parse_args(argv)
    if args.reindex_cost:
        result = reindex_cost(args.corpora, args.reindex_cost, args.rounds, args.work, args.corpus)
        print(json.dumps(result, indent=2))
        return 0
    pool, labels = load_pool(args.corpora), load_labels()
    start = time.perf_counter()
    common = common_shingles(list(pool.values())[::COMMON_STRIDE][:COMMON_SAMPLE])  # as a build
    learn_seconds = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    signer = NearDuplicates(common=common)
    signatures = {report_id: signer.signature(text) for report_id, text in pool.items()}
    sign_seconds, sign_cpu = time.perf_counter() - start, time.process_time() - cpu
    update_cpu = updated_cpu(signatures, common)
    results, group_seconds = {}, {}
    for threshold in THRESHOLDS:
        start = time.perf_counter()
        groups = NearDuplicates.from_signatures(signatures.items(), threshold=threshold, common=common)
        group_seconds[threshold] = round(1000 * (time.perf_counter() - start) / len(pool), 3)
        results[str(threshold)] = score(groups, labels)
        print(threshold, {k: v for k, v in results[str(threshold)].items()
                          if k != "false_positive_pairs"}, flush=True)
    made_up = {}
    for p in labels:
        key = f"{p['a'].split(':')[0]} {p['label']} ({p['kind']})"
        made_up[key] = made_up.get(key, 0) + 1
    result = {
        "reports": len(pool), "labelled_pairs": len(labels), "make_up": made_up,
        "common_shingles": len(common), "default_threshold": THRESHOLD,
        "by_threshold": results,
        "seconds_per_1000": {"learn_boilerplate": round(1000 * learn_seconds / len(pool), 3),
                             "signatures": round(1000 * sign_seconds / len(pool), 3),
                             "signatures_cpu": round(1000 * sign_cpu / len(pool), 3),
                             "build_at_once_by_threshold": group_seconds},
        "update_of_2_percent_cpu_s": update_cpu,
        "target_precision": TARGET_PRECISION, "machine": platform.platform(),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "by_threshold"}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
