"""How often did-you-mean corrects a misspelling, before (main's spelling.py) and after.

    PYTHONPATH=src python benchmarks/spelling_bench.py [--corpora DIR] [--index DIR] [--words N] [--seed S]

A mixed corpus of at most 10,000 reports (the first 4,000 Reuters stories and
every CISA, WA SOC, CRS and mini-newsgroups report) is indexed into a
temporary folder, removed at the end (or ``--index``, kept for the next run). From its bodies,
``--words`` real words (letters only, 5 to 14 of them, not stopwords, in at
least 3 reports) are drawn with a seeded generator, and each gets one or two
random edits (deletion, transposition, replacement, insertion). Misspellings
whose stem the index holds (they spell another real word) are left out: the
measure is on strings the index does not know.

A misspelling is corrected when ``SearchIndex.search(typo).suggestion`` has
the stem of the original word. "Before" runs the same search with the
``suggest`` function of main's ``src/searchapp/spelling.py`` (read with
``git show main:...``) in place of this tree's. Figures are printed and
written as JSON to ``benchmarks/results/spelling.json``.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from searchapp import SearchIndex, reindex, spelling  # noqa: E402
from searchapp.analysis import STOPWORDS, stem  # noqa: E402

SOURCES = {  # folder: how many records (None: all)
    "reuters21578": 4000, "cisa-csaf-advisories": None, "wa-soc-advisories": None,
    "crs-reports": None, "mini-newsgroups": None,
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORD = re.compile(r"\b[a-z]{5,14}\b")


def build_corpus(corpora: Path, out: Path) -> list[str]:
    """The mixed corpus as JSON Lines files under ``out``; returns the bodies."""
    out.mkdir(parents=True, exist_ok=True)
    bodies = []
    for folder, limit in SOURCES.items():
        path = next((corpora / folder).glob("*.jsonl.gz"))
        lines = []
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if limit is not None and len(lines) >= limit:
                    break
                lines.append(line)
                bodies.append(json.loads(line).get("body") or "")
        (out / f"{folder}.jsonl").write_text("".join(lines), encoding="utf-8")
    return bodies


def real_words(bodies: list[str], n: int, rng: random.Random) -> list[str]:
    df: Counter[str] = Counter()
    for body in bodies:
        df.update(set(WORD.findall(body.lower())))
    pool = sorted(w for w, c in df.items() if c >= 3 and w not in STOPWORDS)
    return rng.sample(pool, n)


def misspell(word: str, edits: int, rng: random.Random) -> str:
    for _ in range(edits):
        i = rng.randrange(len(word))
        kind = rng.choice(["delete", "transpose", "replace", "insert"])
        if kind == "delete":
            word = word[:i] + word[i + 1:]
        elif kind == "transpose" and i + 1 < len(word) and word[i] != word[i + 1]:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        elif kind == "replace":
            word = word[:i] + rng.choice(LETTERS.replace(word[i], "")) + word[i + 1:]
        else:
            word = word[:i] + rng.choice(LETTERS) + word[i:]
    return word


def main_suggest():
    """``suggest`` of main's spelling.py, loaded as a module of this package."""
    text = subprocess.run(["git", "-C", str(REPO), "show", "main:src/searchapp/spelling.py"],
                          check=True, capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spelling_main.py"
        path.write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("searchapp._spelling_main", path)
        module = importlib.util.module_from_spec(spec)
        module.__package__ = "searchapp"
        spec.loader.exec_module(module)
    return module.suggest


def callers() -> list:
    """The modules that call ``suggest`` by the name they imported."""
    return [m for m in list(sys.modules.values())
            if m is not spelling and getattr(m, "suggest", None) is spelling.suggest]


def measure(index: SearchIndex, cases: list[tuple[str, str, int]], suggest) -> dict:
    modules = callers()
    for m in modules:
        m.suggest = suggest
    try:
        corrected, wrong, none, started = 0, 0, 0, time.perf_counter()
        by_edits: Counter[int] = Counter()
        for original, typo, edits in cases:
            got = index.search(typo, per_page=1).suggestion
            if got is None:
                none += 1
            elif stem(got) == stem(original):
                corrected += 1
                by_edits[edits] += 1
            else:
                wrong += 1
        seconds = time.perf_counter() - started
    finally:
        for m in modules:
            m.suggest = spelling.suggest
    n = len(cases)
    shares = {f"share_{e}_edit{'s' if e > 1 else ''}": round(by_edits[e] / sum(1 for c in cases if c[2] == e), 3)
              for e in (1, 2)}
    return {"corrected": corrected, "wrong": wrong, "none": none, "share": round(corrected / n, 3), **shares,
            "ms_per_query": round(1000 * seconds / n, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", type=Path, default=Path("/work/shared/corpora"))
    ap.add_argument("--index", type=Path, help="index folder (built when missing, kept)")
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "spelling.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="spelling-bench-") as work:
        run(args, Path(work))


def run(args: argparse.Namespace, work: Path) -> None:
    bodies = build_corpus(args.corpora, work / "corpus")
    index_dir = args.index or work / "index"
    if not (index_dir / "CURRENT").exists():
        reindex(work / "corpus", index_dir)
    rng = random.Random(args.seed)
    index = SearchIndex.open(index_dir)
    cases, real = [], 0
    for i, word in enumerate(real_words(bodies, args.words, rng)):
        edits = 1 + i % 2  # every other word gets two edits
        typo = misspell(word, edits, rng)
        if index.search(typo, per_page=1).total:
            real += 1  # another real word, or the same stem
            continue
        cases.append((word, typo, edits))
    report = {"reports": index.doc_count(), "seed": args.seed, "drawn": args.words,
              "spelled_a_real_word": real, "misspellings": len(cases),
              "one_edit": sum(1 for c in cases if c[2] == 1),
              "before": measure(index, cases, main_suggest()), "after": measure(index, cases, spelling.suggest)}
    report["examples"] = [(w, t, index.search(t, per_page=1).suggestion) for w, t, _ in cases[:15]]
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    index.close()


if __name__ == "__main__":
    main()
