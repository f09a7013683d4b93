"""Every query answers within 2 s or is refused: the cost bound on the Reuters index (issue 11).

    PYTHONPATH=src python benchmarks/query_cost.py --queries 5000

Indexes the Reuters JSONL (../shared/corpora/reuters21578) in a temporary
folder (or uses --index), then runs the fuzzer's slow queries of issue 11 and
``--queries`` generated ones (words of the index, operators, patterns,
phrases, ranges, boosts, stray brackets and quotes) through
``SearchIndex.search`` in ``--procs`` processes, timing each search. Prints
the count over 2 s (target 0), the p50/p99/max, and how many were refused
with a ``QueryError`` (each reason counted), as text and as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
try:
    import searchapp  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from searchapp import QueryError, SearchIndex, reindex  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "reuters21578" / "reuters21578.jsonl.gz"
LIMIT_S = 2.0
# The fuzzer's slow queries, as issue 11 gives them.
FUZZER = (
    "??",
    "??ne",
    "con* mer* end* fav* moo*",
    "int* int* pro* cer* sta* com* mar* ban*",
    "[a TO z]",
    "[a TO z] [b TO y] [c TO x]",
    "title:[a TO z] body:[a TO m]",
    '"mill^1e9 recommendations fresh prudential" { AND NOT date:{* TO y}',
    "oil || gas && price || date:{9999 TO y} && ??ne || crude && wheat || corn && *a* || bank",
    " || ".join(["oil && gas", "date:{9999 TO y}", "??ne", "price", "s*"] * 8),
    "NOT NOT oil",
    "*a*",
    "s*",
    "*",
)
OPERATORS = ("AND", "OR", "NOT", "&&", "||", "-", "+", "(", ")", "{", "}", "[", "]", '"', "~2", "^3", "^1e9", ":")
FIELDS = ("title:", "body:", "source:", "topic:", "date:")


def generate(words: list[str], count: int, seed: int = 11) -> list[str]:
    """``count`` queries, from plain words to hostile mixes."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8, 20))):
            word = rng.choice(words)
            kind = rng.random()
            if kind < 0.12:
                word = word[: rng.randint(1, 4)] + "*"
            elif kind < 0.18:
                word = "?" * rng.randint(1, 3) + word[rng.randint(0, 3):]
            elif kind < 0.24:
                word = f"[{rng.choice(words)} TO {rng.choice(words)}]"
            elif kind < 0.28:
                word = rng.choice(("date:[", "date:{")) + rng.choice(("*", "1987", "9999", "y")) + " TO " \
                    + rng.choice(("*", "1987-06", "y", "2000")) + rng.choice(("]", "}"))
            elif kind < 0.36:
                word = rng.choice(FIELDS) + word
            elif kind < 0.44:
                word = f'"{word} {rng.choice(words)}"'
            parts.append(word)
            if rng.random() < 0.4:
                parts.append(rng.choice(OPERATORS))
        out.append(" ".join(parts))
    return out


def _vocabulary(index_dir: Path, size: int = 3000) -> list[str]:
    """Words of the reports, read back from stored titles (a spread of common and rare)."""
    with SearchIndex.open(index_dir) as index:
        titles = [h.title for h in index.search("", per_page=100).hits]
        titles += [h.title for page in range(2, 40) for h in index.search("", page=page, per_page=100).hits]
    words = sorted({w.strip(".,'\"()").lower() for t in titles for w in t.split() if w.strip(".,'\"()").isalpha()})
    return words[:size] or ["oil"]


def _run(args: tuple[str, list[str]]) -> list[tuple[str, float, str | None]]:
    index_dir, queries = args
    out = []
    with SearchIndex.open(index_dir) as index:
        index.search("warm up")
        for text in queries:
            started = time.perf_counter()
            refused = None
            try:
                index.search(text)
            except QueryError as e:
                refused = str(e)
            out.append((text, time.perf_counter() - started, refused))
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--queries", type=int, default=5000, help="generated queries besides the fuzzer's")
    p.add_argument("--procs", type=int, default=2, help="processes running the queries")
    p.add_argument("--index", type=Path, help="an index of the Reuters JSONL to use (default: build one)")
    p.add_argument("--corpus", type=Path, default=CORPUS)
    args = p.parse_args(argv)
    work = None
    index_dir = args.index
    if index_dir is None:
        work = Path(tempfile.mkdtemp(prefix="query-cost-"))
        (work / "corpus").mkdir()
        shutil.copy(args.corpus, work / "corpus" / args.corpus.name)  # a temporary copy, removed below
        index_dir = work / "index"
        started = time.perf_counter()
        summary = reindex(work / "corpus", index_dir, procs=args.procs)
        print(f"indexed {summary.total} reports in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    try:
        queries = list(FUZZER) + generate(_vocabulary(index_dir), args.queries)
        parts = [(str(index_dir), queries[i::args.procs]) for i in range(args.procs)]
        with ProcessPoolExecutor(args.procs) as pool:
            results = [r for part in pool.map(_run, parts) for r in part]
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    times = [t for _, t, _ in results]
    slow = sorted((r for r in results if r[1] > LIMIT_S), key=lambda r: -r[1])
    refused = Counter(reason.split(":")[0] for _, _, reason in results if reason)
    report = {
        "queries": len(results), "over_2s": len(slow), "p50_ms": round(_percentile(times, 50) * 1000, 1),
        "p99_ms": round(_percentile(times, 99) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
        "refused": sum(refused.values()), "refused_by_reason": dict(refused.most_common(12)),
        "slowest": [(text[:120], round(t, 3)) for text, t, _ in sorted(results, key=lambda r: -r[1])[:8]],
        "fuzzer": {text[:80]: (round(t * 1000, 1), reason) for text, t, reason in results if text in FUZZER},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
