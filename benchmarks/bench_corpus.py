"""Benchmark corpora of any size, built from the real corpora in ``../shared/corpora``.

The reports of every collection are shuffled together once (a fixed seed), then
taken in that order; a size larger than what exists repeats them in rounds,
each round with new ids and its dates shifted by ``round`` years, so that the
date facet grows as a real archive would. Reports are cleaned the way
searchapp cleans them (``make_report``) before they are written, so the
reference engines read exactly the titles, sources, topics and dates that
searchapp indexes.

The corpus is written as ``part-NNNNN.jsonl.gz`` files of ``PER_FILE`` reports,
so that an incremental reindex can be measured by touching 1% of the files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from searchapp.corpus.dates import parse_date
from searchapp.corpus.native import make_report

PER_FILE = 200
SEED = 20240728
# (folder, file) of every collection used; the abstract collections have no dates.
COLLECTIONS = (
    ("reuters21578", "reuters21578.jsonl.gz"),
    ("20newsgroups-bydate", "20news-bydate.jsonl.gz"),
    ("mini-newsgroups", "mini_newsgroups.jsonl.gz"),
    ("cisa-csaf-advisories", "cisa-csaf-advisories.jsonl.gz"),
    ("wa-soc-advisories", "wa-soc-advisories.jsonl.gz"),
    ("crs-reports", "crs-reports.jsonl.gz"),
    ("cacm", "docs.jsonl.gz"),
    ("cisi", "docs.jsonl.gz"),
    ("cranfield", "docs.jsonl.gz"),
    ("med", "docs.jsonl.gz"),
    ("npl", "docs.jsonl.gz"),
    ("lisa", "docs.jsonl.gz"),
    ("adi", "docs.jsonl.gz"),
)
CHANGED_MARK = "benchrevisionmark"  # a word no real report holds
CHANGED_NOTE = f"\n\nRevised ({CHANGED_MARK}): this report was updated after publication."


@dataclass(frozen=True)
class BenchCorpus:
    """A generated corpus folder and what is in it."""

    path: Path
    reports: int
    files: int
    text_bytes: int  # UTF-8 bytes of titles and bodies

    def part_files(self) -> list[Path]:
        return sorted(self.path.glob("part-*.jsonl.gz"))


def load_sources(corpora: Path) -> list[dict]:
    """Every report of the collections, cleaned, in one shuffled list.

    :raises FileNotFoundError: a collection is missing.
    """
    records: list[dict] = []
    for folder, name in COLLECTIONS:
        path = corpora / folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the benchmark needs the corpora in {corpora}")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                raw = json.loads(line)
                records.append(_clean(raw, f"{folder}-{raw.get('id') or number}"))
    random.Random(SEED).shuffle(records)
    return records


def _clean(raw: dict, key: str) -> dict:
    """A record as searchapp reads it (title from the body when missing, and so on)."""
    topics = raw.get("topics") or []
    if isinstance(topics, list):
        # searchapp stores topics comma-joined; a comma inside one becomes ";".
        topics = [str(t).replace(",", ";") for t in topics]
    report = make_report(
        report_id=key, path="", title=raw.get("title"), body=raw.get("body"),
        date=parse_date(raw.get("date")), source=raw.get("source"), topics=topics,
    )
    return {
        "key": key,
        "date": report.date,
        "source": report.source,
        "title": report.title,
        "topics": list(report.topics),
        "body": report.body,
    }


def _shifted(day: dt.date | None, years: int) -> str | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28).isoformat()


def generate(records: list[dict], size: int) -> Iterator[dict]:
    """``size`` reports: the records in order, repeated in rounds with new ids and dates."""
    if not records:
        raise ValueError("no source records")
    for n in range(size):
        rnd, rec = divmod(n, len(records))
        rec = records[rec]
        yield {
            "id": f"{rec['key']}~{rnd}" if rnd else rec["key"],
            "date": _shifted(rec["date"], rnd),
            "source": rec["source"],
            "title": rec["title"],
            "topics": rec["topics"],
            "body": rec["body"],
        }


def write_corpus(records: list[dict], size: int, folder: Path, per_file: int = PER_FILE) -> BenchCorpus:
    """Write ``size`` reports into ``folder`` as gzipped JSON Lines files."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.jsonl.gz"):
        old.unlink()
    files = text_bytes = count = 0
    batch: list[dict] = []
    for rec in generate(records, size):
        batch.append(rec)
        text_bytes += len(rec["title"].encode("utf-8")) + len(rec["body"].encode("utf-8"))
        count += 1
        if len(batch) == per_file:
            _write_part(folder / f"part-{files:05d}.jsonl.gz", batch)
            files, batch = files + 1, []
    if batch:
        _write_part(folder / f"part-{files:05d}.jsonl.gz", batch)
        files += 1
    return BenchCorpus(folder, count, files, text_bytes)


def _write_part(path: Path, batch: list[dict]) -> None:
    # compresslevel 1: the files are written once per run and read by every engine.
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
        for rec in batch:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def read_part(path: Path) -> list[dict]:
    """The records of one generated file (what the reference engines index)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def change_files(corpus: BenchCorpus, fraction: float = 0.01) -> list[Path]:
    """Rewrite ``fraction`` of the files (at least one), every report's body changed.

    The files are spread evenly over the corpus; their ids stay the same, so
    an incremental reindex updates rather than adds.
    """
    parts = corpus.part_files()
    count = max(1, round(len(parts) * fraction))
    step = len(parts) / count
    chosen = [parts[int(i * step)] for i in range(count)]
    for path in chosen:
        batch = read_part(path)
        for rec in batch:
            rec["body"] += CHANGED_NOTE
        _write_part(path, batch)
    return chosen
