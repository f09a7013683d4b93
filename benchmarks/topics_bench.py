"""How well the learned topic tagger does on Reuters-21578, ModApte split.

    PYTHONPATH=src python benchmarks/topics_bench.py [--corpora DIR] [--limit N] [--out FILE]

The split, as the collection's README (section VIII.B) defines it:
training = LEWISSPLIT="TRAIN" and TOPICS="YES" (9,603 stories), test =
LEWISSPLIT="TEST" and TOPICS="YES" (3,299 stories); everything else is unused.
Some TOPICS="YES" stories carry no category; the README allows dropping those
from training but not from the test set, so every test story counts (a topic
predicted for a story without categories is a false positive).

Two trainings of the same learner (``searchapp.topics.TopicLearner``, exactly
as the indexer uses it), both tested on all 3,299 test stories:

* ``modapte``: all 9,603 training stories, those without categories as
  negative examples: the split as published results use it;
* ``curated``: only the 7,775 training stories with categories: what the
  indexer learns from, since a report without topics there is untagged, not
  a negative example.

Scores: micro- and macro-averaged F1 over the ten categories most frequent in
training, and over all categories with at least one training and one test
story (90). The published anchors are micro-averaged precision/recall
breakeven points, close to but not the same as F1 at the tagger's thresholds.
Figures are printed and written as JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from searchapp import topics  # noqa: E402

ANCHORS = [  # (source, learner, categories, micro-averaged breakeven)
    ("Dumais et al. 1998", "naive Bayes", "top10", 81.5),
    ("Dumais et al. 1998", "linear SVM", "top10", 92.0),
    ("Dumais et al. 1998", "naive Bayes", "all", 75.2),
    ("Dumais et al. 1998", "linear SVM", "all", 87.0),
    ("Joachims 1998", "naive Bayes", "all", 72.0),
    ("Joachims 1998", "k-NN", "all", 82.3),
    ("Joachims 1998", "SVM", "all", 86.4),
]
TARGET = {"top10": 92.0, "all": 87.0}


def load_modapte(corpora: Path, limit: int | None = None) -> tuple[list[dict], list[dict]]:
    """The ModApte training and test stories (``limit``: the first N of each, for smoke tests)."""
    path = corpora / "reuters21578" / "reuters21578.jsonl.gz"
    train, test = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            story = json.loads(line)
            if story["has_topics"] != "YES":
                continue
            if story["lewissplit"] == "TRAIN":
                train.append(story)
            elif story["lewissplit"] == "TEST":
                test.append(story)
    if limit:
        train, test = train[:limit], test[:limit]
    return train, test


def evaluate(predicted: list[set[str]], truth: list[set[str]], categories: list[str]) -> dict:
    """Micro/macro precision, recall and F1 over ``categories``."""
    counts = {c: [0, 0, 0] for c in categories}  # tp, fp, fn
    for guess, true in zip(predicted, truth):
        for c in categories:
            if c in guess and c in true:
                counts[c][0] += 1
            elif c in guess:
                counts[c][1] += 1
            elif c in true:
                counts[c][2] += 1
    tp, fp, fn = (sum(v[i] for v in counts.values()) for i in range(3))
    f1 = [2 * a / (2 * a + b + c) if a + b + c else 0.0 for a, b, c in counts.values()]
    return {
        "categories": len(categories),
        "micro_precision": round(100 * tp / max(tp + fp, 1), 2),
        "micro_recall": round(100 * tp / max(tp + fn, 1), 2),
        "micro_f1": round(100 * 2 * tp / max(2 * tp + fp + fn, 1), 2),
        "macro_f1": round(100 * sum(f1) / max(len(f1), 1), 2),
    }


def run(train: list[dict], test: list[dict], negatives: bool) -> dict:
    """Train on ``train`` (stories without categories as negatives or left out), score on ``test``."""
    learner = topics.TopicLearner()
    started = time.perf_counter()
    for story in train:
        if story["topics"] or negatives:
            learner.add(story["id"], story["title"] or "", story["body"] or "", story["topics"])
    model = learner.fit()
    trained = time.perf_counter()
    predicted = [set(model.predict(s["title"] or "", s["body"] or "")) if model else set() for s in test]
    tagged = time.perf_counter()
    truth = [set(s["topics"]) for s in test]
    per_train = Counter(c for s in train for c in s["topics"])
    in_test = {c for s in test for c in s["topics"]}
    every = sorted(c for c in per_train if c in in_test)
    top10 = [c for c, _ in sorted(per_train.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
    return {
        "training_stories": len(learner),
        "test_stories": len(test),
        "learned_categories": len(model.labels) if model else 0,
        "top10": evaluate(predicted, truth, top10),
        "all": evaluate(predicted, truth, every),
        "top10_categories": top10,
        # Test stories without any category that the tagger gave one anyway.
        "uncategorised_test_stories": sum(1 for t in truth if not t),
        "uncategorised_tagged": sum(1 for t, p in zip(truth, predicted) if not t and p),
        "train_s": round(trained - started, 1),
        "tag_ms_per_story": round(1000 * (tagged - trained) / max(len(test), 1), 3),
    }


def print_table(results: dict) -> None:
    print(f"{'':38} {'categories':>10} {'micro-F1':>9} {'macro-F1':>9} {'micro-P':>8} {'micro-R':>8}")
    for source, learner, cats, value in ANCHORS:
        print(f"{source + ', ' + learner:38} {cats:>10} {value:>9.1f} {'':>9} {'(breakeven)':>17}")
    for name, res in results.items():
        for cats in ("top10", "all"):
            r = res[cats]
            label = f"searchapp, {name} ({res['training_stories']} train)"
            print(f"{label:38} {cats + ' (' + str(r['categories']) + ')':>10} {r['micro_f1']:>9.2f} "
                  f"{r['macro_f1']:>9.2f} {r['micro_precision']:>8.2f} {r['micro_recall']:>8.2f}")
    for name, res in results.items():
        print(f"{name}: {res['learned_categories']} categories learned, trained in {res['train_s']} s, "
              f"{res['tag_ms_per_story']} ms per story to tag; {res['uncategorised_tagged']} of the "
              f"{res['uncategorised_test_stories']} uncategorised test stories tagged")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_corpora = os.environ.get("SEARCHAPP_CORPORA", str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--corpora", type=Path, default=Path(default_corpora))
    parser.add_argument("--limit", type=int, help="first N training and N test stories only (smoke test)")
    parser.add_argument("--only", choices=("modapte", "curated"), help="run one training only")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "topics_reuters_modapte.json")
    args = parser.parse_args(argv)
    train, test = load_modapte(args.corpora, args.limit)
    results = {}
    for name, negatives in (("modapte", True), ("curated", False)):
        if args.only in (None, name):
            results[name] = run(train, test, negatives)
    print_table(results)
    report = {
        "benchmark": "Reuters-21578 ModApte, learned topic tagger",
        "split": "train: lewissplit=TRAIN, has_topics=YES; test: lewissplit=TEST, has_topics=YES",
        "limit": args.limit,
        "learner": {"model": "LinearSVC one-vs-rest, sublinear TF-IDF of stemmed terms",
                    "C": topics.SVM_C, "min_label_reports": topics.MIN_LABEL_REPORTS,
                    "min_cv_f1": topics.MIN_CV_F1, "min_cv_precision": topics.MIN_CV_PRECISION,
                    "cv_folds": topics.CV_FOLDS,
                    "title_weight": topics.TITLE_WEIGHT, "max_learned_topics": topics.MAX_LEARNED_TOPICS},
        "anchors": [dict(zip(("source", "learner", "categories", "micro_breakeven"), a)) for a in ANCHORS],
        "target_micro_f1": TARGET,
        "results": results,
        "python": platform.python_version(),
    }
    write_report(args.out, report)
    return 0


def write_report(path: Path, report: dict) -> None:
    """The figures as JSON (the folder made if needed), and where they went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":
    sys.exit(main())
