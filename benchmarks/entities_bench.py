"""How well automatic entity extraction finds Reuters' curated places and people.

    PYTHONPATH=src python benchmarks/entities_bench.py [--corpora DIR] [--limit N] [--out FILE]

Test set: Reuters-21578's ModApte test stories (LEWISSPLIT="TEST" and
TOPICS="YES", 3,299 stories; see the collection's PROVENANCE.md and README).
Each story is extracted with its curated fields withheld, then compared with
them:

* **places**, at country level: the countries of the extracted places (a city
  counts as its country) against the countries of Reuters' ``places`` codes,
  both normalised by :func:`searchapp.entities.resolve_place`; once with every
  country mentioned, once with those mentioned at least twice (the dateline
  counts as one mention). Micro-averaged
  over all (story, country) pairs, and macro-averaged per story (precision over
  stories with a prediction, recall over stories with a curated place).
* **people**: Reuters tags a person by surname or full name (``james-baker``,
  ``stoltenberg``); an extracted name matches when it ends with the tag's words.

Cost: CPU time of :func:`searchapp.entities.extract_batch` (this process),
per report, on the stories and, with ``--mixed N``, on the first N reports of
bench.py's mixed corpus; curated-only is what an install without spaCy pays.
Figures are printed and written as JSON to ``benchmarks/results/``.

    PYTHONPATH=src python benchmarks/entities_bench.py --max-chars 0 250 500 1000 2000 4000 5000 --mixed 1000
    PYTHONPATH=src python benchmarks/entities_bench.py --places gazetteer --max-chars 500 2000 5000 --mixed 1000

Run of 2026-12-01 (3,299 test stories of 711 body characters on average; 1,000
mixed reports of 1,222; load average 8-14 on 2 cores, so CPU, not wall).
Countries per story (macro precision / recall), people recall, CPU ms a report:

    spaCy, max_chars     0: .983 / .871  people  -    0.08 Reuters   0.83 mixed
                       250: .965 / .927         .547  3.82           4.31
                       500: .944 / .939         .688  6.56           7.31
                      1000: .924 / .949         .821  8.70          11.32
                      2000: .911 / .955         .850 11.95          15.05
                      4000: .907 / .957         .868 12.28          16.60
                      5000: .907 / .957         .872 12.21          17.55
    gazetteer,         500: .921 / .948          -    0.22           0.23
                      2000: .884 / .964          -    0.35           0.44
                      5000: .880 / .965          -    0.42           0.52

Bound 0 reads the title only (Reuters' all-capitals titles are skipped): its
Reuters figures are the dateline's alone. Curated only: 0.012 ms a story.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from searchapp.entities import (  # noqa: E402
    MAX_CHARS,
    ReportEntities,
    extract_batch,
    extractor_status,
    resolve_place,
)

TARGET = {"precision": 0.8, "recall": 0.7}


def load_test(corpora: Path, limit: int | None) -> list[dict]:
    path = corpora / "reuters21578" / "reuters21578.jsonl.gz"
    stories = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["lewissplit"] == "TEST" and rec["has_topics"] == "YES":
                stories.append(rec)
                if limit and len(stories) >= limit:
                    break
    return stories


def gold_countries(story: dict) -> set[str]:
    places = (resolve_place(code) for code in story["places"])
    return {p.country for p in places if p is not None and p.country}


def person_matches(name: str, tag: str) -> bool:
    words, tail = name.lower().replace("-", " ").split(), tag.lower().split("-")
    return words[-len(tail):] == tail


def score_sets(predicted: list[set], truth: list[set]) -> dict:
    tp = sum(len(p & t) for p, t in zip(predicted, truth))
    n_pred, n_true = sum(map(len, predicted)), sum(map(len, truth))
    per_p = [len(p & t) / len(p) for p, t in zip(predicted, truth) if p]
    per_r = [len(p & t) / len(t) for p, t in zip(predicted, truth) if t]
    return {
        "micro_precision": round(tp / n_pred, 4) if n_pred else None,
        "micro_recall": round(tp / n_true, 4) if n_true else None,
        "macro_precision": round(sum(per_p) / len(per_p), 4) if per_p else None,
        "macro_recall": round(sum(per_r) / len(per_r), 4) if per_r else None,
        "stories_with_prediction": len(per_p),
        "stories_with_truth": len(per_r),
        "true_pairs": n_true,
        "predicted_pairs": n_pred,
    }


def score_people(found: list[ReportEntities], stories: list[dict]) -> dict:
    tagged = [(f, s) for f, s in zip(found, stories) if s["people"]]
    hits = sum(any(person_matches(p.name, tag) for p in f.people)
               for f, s in tagged for tag in s["people"])
    tags = sum(len(s["people"]) for _, s in tagged)
    return {"stories": len(tagged), "tags": tags, "recall": round(hits / tags, 4) if tags else None,
            "people_found_per_story": round(sum(len(f.people) for f, _ in tagged) / max(len(tagged), 1), 2)}


def timed(stories: list[dict], extract: bool, max_chars: int = MAX_CHARS,
          gazetteer: bool = False) -> tuple[list[ReportEntities], float]:
    """The entities of the stories and the CPU seconds they took (this process)."""
    # the curated fields are withheld; the dateline is part of the story
    items = [(s["title"] or "", s["body"] or "", {"dateline": s.get("dateline")}) for s in stories]
    start = time.process_time()
    found = extract_batch(items, extract=extract, max_chars=max_chars, gazetteer=gazetteer)
    return found, time.process_time() - start


def quality(found: list[ReportEntities], stories: list[dict]) -> dict:
    truth = [gold_countries(s) for s in stories]
    return {"countries": {f"mentioned_{n}x": score_sets([f.countries(n) for f in found], truth)
                          for n in (1, 2)},
            "people": score_people(found, stories)}


def mixed_sample(corpora: Path, size: int) -> list[dict]:
    """The first ``size`` reports of benchmarks/bench.py's corpus (all collections, shuffled)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_corpus import load_sources

    return load_sources(corpora)[:size]


def bound_row(stories: list[dict], mixed: list[dict], max_chars: int, places: str) -> dict:
    """Quality and cost at one bound: ``places`` "ner" (spaCy for all three
    kinds), "gazetteer" (no spaCy: places looked up) or "both" (spaCy's people
    and organisations, places looked up)."""
    extract, gazetteer = places != "gazetteer", places != "ner"
    found, seconds = timed(stories, extract, max_chars, gazetteer)
    row = {"places": places, "max_chars": max_chars, **quality(found, stories),
           "reuters_cpu_ms_per_report": round(1000 * seconds / len(stories), 2)}
    if mixed:
        _, mixed_seconds = timed(mixed, extract, max_chars, gazetteer)
        row["mixed_cpu_ms_per_report"] = round(1000 * mixed_seconds / len(mixed), 2)
    return row


def summary_line(row: dict) -> str:
    c = row["countries"]["mentioned_1x"]
    return (f"{row['places']:>9} max_chars {row['max_chars']:>6}: countries P {c['macro_precision']:.3f} "
            f"R {c['macro_recall']:.3f}, people R {row['people']['recall']:.3f}; CPU "
            f"{row['reuters_cpu_ms_per_report']:.2f} ms/Reuters story, "
            f"{row.get('mixed_cpu_ms_per_report', float('nan')):.2f} ms/mixed report")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpora = os.environ.get("SEARCHAPP_CORPORA", str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--corpora", type=Path, default=Path(default_corpora))
    parser.add_argument("--limit", type=int, default=None, help="first N test stories only")
    parser.add_argument("--max-chars", type=int, nargs="+", default=[MAX_CHARS],
                        help="body bounds to measure (characters after the title)")
    parser.add_argument("--places", choices=("ner", "gazetteer", "both"), nargs="+", default=["ner"],
                        help="how places are found (gazetteer: without spaCy)")
    parser.add_argument("--mixed", type=int, default=0,
                        help="also time this many reports of bench.py's mixed corpus per bound")
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / "entities_reuters_modapte.json")
    args = parser.parse_args(argv)
    status = extractor_status()
    if not status.available:
        print(f"extraction not available: {status.reason}", file=sys.stderr)
        return 2
    stories = load_test(args.corpora, args.limit)
    mixed = mixed_sample(args.corpora, args.mixed) if args.mixed else []
    extract_batch([("warm-up", "Warm up in Paris.", {})], gazetteer=True)  # loading is not per-report cost
    rows = []
    for places, max_chars in itertools.product(args.places, args.max_chars):
        rows.append(bound_row(stories, mixed, max_chars, places))
        print(summary_line(rows[-1]), flush=True)
    _, curated_seconds = timed(stories, extract=False)
    result = {
        "stories": len(stories),
        "model": status.reason,
        "bounds": rows,
        "curated_only_cpu_ms_per_report": round(1000 * curated_seconds / len(stories), 3),
        "mean_body_chars": round(sum(len(s["body"] or "") for s in stories) / len(stories)),
        "mixed_reports": len(mixed),
        "mixed_mean_body_chars": round(sum(len(s["body"] or "") for s in mixed) / len(mixed)) if mixed else None,
        "targets": TARGET,
        "machine": platform.platform(),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
