"""More like this: how often the related reports share a curated topic with the report.

Reuters (the first ``--reports`` stories, 5,000 by default): for ``--seeds``
stories with curated topics (a fixed random sample), the share of their top 5
related reports (``SearchIndex.more_like_this``) that share a curated topic
with them (issue 13 item 5: target 0.7). Then, on a mixed collection (every
CRS report and WA SOC advisory, 2,000 newsgroup posts, 2,000 Reuters stories),
the related reports of a few CRS and WA SOC reports, to read by eye.

    python benchmarks/related_bench.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from searchapp import SearchIndex, reindex  # noqa: E402

TOP = 5
MIXED = (("crs-reports", "crs-reports.jsonl.gz", None), ("wa-soc-advisories", "wa-soc-advisories.jsonl.gz", None),
         ("20newsgroups-bydate", "20news-bydate.jsonl.gz", 2000), ("reuters21578", "reuters21578.jsonl.gz", 2000))
EXAMPLES = ("parental rights", "Military Construction", "ransomware", "CVE-2022-3602")


def _records(path: Path, first: int | None):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if first is not None and i >= first:
                return
            yield json.loads(line)


def _build(records_by_file: dict[str, list[dict]], workdir: Path) -> SearchIndex:
    corpus = workdir / "corpus"
    corpus.mkdir()
    for name, records in records_by_file.items():
        with open(corpus / f"{name}.jsonl", "w", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in records)
    reindex(corpus, workdir / "index", full=True, procs=1)
    return SearchIndex.open(workdir / "index")


def topic_share(corpora: Path, reports: int, seeds: int) -> dict:
    records = list(_records(corpora / "reuters21578" / "reuters21578.jsonl.gz", reports))
    tagged = [r for r in records if r.get("topics")]
    sample = random.Random(13).sample(tagged, min(seeds, len(tagged)))
    with tempfile.TemporaryDirectory(prefix="related-") as tmp:
        index = _build({"reuters": records}, Path(tmp))
        shared = shown = 0
        started = time.perf_counter()
        for r in sample:
            hits = index.more_like_this(f"reuters:{r['id']}", TOP)
            mine = {t.lower() for t in r["topics"]}
            shared += sum(1 for h in hits if mine & {t.lower() for t in h.topics})
            shown += len(hits)
        ms = (time.perf_counter() - started) * 1000 / max(len(sample), 1)
        index.close()
    return {"seeds": len(sample), "related": shown, "share": shared / shown if shown else 0.0, "ms": ms}


def examples(corpora: Path) -> list[str]:
    files = {folder: list(_records(corpora / folder / name, first)) for folder, name, first in MIXED}
    lines = []
    with tempfile.TemporaryDirectory(prefix="related-mixed-") as tmp:
        index = _build(files, Path(tmp))
        for words in EXAMPLES:
            for folder in ("crs-reports", "wa-soc-advisories"):
                seed = next((r for r in files[folder] if words in r.get("body", "")), None)
                if seed is None:
                    continue
                lines.append(f"\n{folder}:{seed['id']}  {seed.get('title', '')[:80]}")
                for h in index.more_like_this(f"{folder}:{seed['id']}", TOP):
                    lines.append(f"    {h.score:7.2f}  [{h.source[:28]}] {h.title[:70]}")
        index.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--reports", type=int, default=5000, help="Reuters stories indexed (default 5,000)")
    parser.add_argument("--seeds", type=int, default=300, help="stories whose related reports are judged")
    args = parser.parse_args(argv)
    result = topic_share(args.corpora, args.reports, args.seeds)
    print(f"Reuters, {args.reports} stories, {result['seeds']} seeds: {result['share']:.3f} of the top {TOP} "
          f"related share a curated topic ({result['related']} related, {result['ms']:.1f} ms per report)")
    print("\n".join(examples(args.corpora)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
