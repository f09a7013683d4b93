"""Relevance evaluation: IR test collections and the measures of a ranking.

Part of the benchmarks, not of searchapp (``relevance.py`` uses it); its
measures are checked against trec_eval's, through ir_measures, by
``tests/test_evaluation.py``.

A collection folder (see ``../shared/corpora/*/PROVENANCE.md``) holds
``docs.jsonl.gz`` (``id``, ``title``, ``body``, ...), ``queries.jsonl``
(``id``, ``text``) and ``qrels.trec`` (``qid 0 docid grade``, judged-relevant
pairs only; Cranfield's grades run 1 to 4, the others are all 1).

The measures follow trec_eval: average precision to rank 1000 (MAP is its
mean), nDCG@10 with linear gains and a log2 discount (graded where the
judgments are), precision at 10 and recall at 100. Queries without a relevant
document are left out of every mean; a query with judgments that retrieves
nothing scores 0.

>>> qrels = {"q1": {"d1": 1, "d3": 1}}
>>> run = {"q1": ["d1", "d2", "d3"]}
>>> round(evaluate(run, qrels).means["map"], 4)   # (1/1 + 2/3) / 2
0.8333
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from searchapp.errors import SearchAppError

__all__ = [
    "Collection",
    "CollectionError",
    "Evaluation",
    "METRICS",
    "average_precision",
    "evaluate",
    "load_collection",
    "ndcg",
    "precision",
    "recall",
]

# name -> (label, depth)
METRICS = {
    "ndcg@10": ("nDCG@10", 10),
    "map": ("MAP@1000", 1000),
    "p@10": ("P@10", 10),
    "recall@100": ("R@100", 100),
}

Qrels = Mapping[str, Mapping[str, int]]


class CollectionError(SearchAppError):
    """A test collection folder that is missing files or holds bad lines."""

    status = 422


@dataclass(frozen=True)
class Collection:
    """One test collection: documents, queries and relevance judgments."""

    name: str
    docs: list[dict]  # the records of docs.jsonl.gz, as they are
    queries: dict[str, str]  # query id -> text, in file order
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade > 0}
    graded: bool = False  # whether some judgment is above 1

    def judged_queries(self) -> dict[str, str]:
        """The queries that have at least one relevant document."""
        return {qid: text for qid, text in self.queries.items() if self.qrels.get(qid)}


def _read_jsonl(path: Path, opener) -> list[dict]:
    records = []
    with opener(path, "rt", encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise CollectionError(f"{path}, line {number}: invalid JSON ({e.msg})") from e
            if not isinstance(record, dict) or record.get("id") in (None, ""):
                raise CollectionError(f"{path}, line {number}: expected a JSON object with an 'id'")
            records.append(record)
    return records


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels (``qid iter docid grade``); pairs graded 0 or less are dropped.

    :raises CollectionError: a line without four fields or with a grade that is no number.
    """
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise CollectionError(f"{path}, line {number}: expected 'qid 0 docid grade', got {line.strip()!r}")
            qid, _, docid, grade = parts
            try:
                value = int(grade)
            except ValueError as e:
                raise CollectionError(f"{path}, line {number}: the grade {grade!r} is not a whole number") from e
            if value > 0:
                qrels.setdefault(qid, {})[docid] = value
    return qrels


def load_collection(folder: str | Path) -> Collection:
    """Read the ``docs.jsonl.gz``, ``queries.jsonl`` and ``qrels.trec`` of a collection.

    :raises CollectionError: a file is missing or malformed.
    """
    folder = Path(folder)
    paths = {name: folder / name for name in ("docs.jsonl.gz", "queries.jsonl", "qrels.trec")}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise CollectionError(f"{folder} is not a test collection: {', '.join(missing)} missing")
    docs = _read_jsonl(paths["docs.jsonl.gz"], gzip.open)
    queries = {str(q["id"]): str(q.get("text") or "") for q in _read_jsonl(paths["queries.jsonl"], open)}
    qrels = read_qrels(paths["qrels.trec"])
    graded = any(g > 1 for judged in qrels.values() for g in judged.values())
    return Collection(folder.name, docs, queries, qrels, graded)


# -- measures -------------------------------------------------------------------

def average_precision(ranking: Sequence[str], relevant: Mapping[str, int], depth: int = 1000) -> float:
    """Precision at each relevant document's rank, summed over all relevant ones.

    >>> round(average_precision(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}), 4)   # (1 + 2/3) / 3
    0.5556
    """
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, doc in enumerate(_unique(ranking[:depth]), 1):
        if relevant.get(doc, 0) > 0:
            found += 1
            total += found / rank
    return total / sum(1 for g in relevant.values() if g > 0)


def ndcg(ranking: Sequence[str], relevant: Mapping[str, int], depth: int = 10) -> float:
    """Normalised discounted cumulative gain: gain = grade, discount log2(rank + 1).

    >>> round(ndcg(["x", "a"], {"a": 1}), 4)   # (1/log2 3) / 1
    0.6309
    """
    gains = sorted((g for g in relevant.values() if g > 0), reverse=True)[:depth]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, 1))
    if ideal == 0:
        return 0.0
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 1)
              for rank, doc in enumerate(_unique(ranking[:depth]), 1) if relevant.get(doc, 0) > 0)
    return dcg / ideal


def precision(ranking: Sequence[str], relevant: Mapping[str, int], depth: int = 10) -> float:
    """Relevant documents among the first ``depth``, over ``depth`` (missing ranks count as misses)."""
    return sum(1 for doc in _unique(ranking[:depth]) if relevant.get(doc, 0) > 0) / depth


def recall(ranking: Sequence[str], relevant: Mapping[str, int], depth: int = 100) -> float:
    """Share of the relevant documents found among the first ``depth``."""
    total = sum(1 for g in relevant.values() if g > 0)
    if not total:
        return 0.0
    return sum(1 for doc in _unique(ranking[:depth]) if relevant.get(doc, 0) > 0) / total


def _unique(ranking: Iterable[str]) -> list[str]:
    """The ranking with repeats of a document dropped (a document counts once)."""
    seen: set[str] = set()
    return [d for d in ranking if not (d in seen or seen.add(d))]


_MEASURES = {
    "ndcg@10": lambda r, rel: ndcg(r, rel, 10),
    "map": lambda r, rel: average_precision(r, rel, 1000),
    "p@10": lambda r, rel: precision(r, rel, 10),
    "recall@100": lambda r, rel: recall(r, rel, 100),
}


@dataclass(frozen=True)
class Evaluation:
    """Per-query scores and their means, for the queries with judgments."""

    per_query: dict[str, dict[str, float]]  # query id -> metric -> value
    means: dict[str, float] = field(default_factory=dict)

    @property
    def queries(self) -> int:
        return len(self.per_query)


def evaluate(run: Mapping[str, Sequence[str]], qrels: Qrels, queries: Iterable[str] | None = None) -> Evaluation:
    """Score a run (query id -> ranked doc ids) against the judgments.

    :param queries: the query ids to score (default: every judged query);
        those without a relevant document are left out, those missing from
        the run score 0.
    """
    wanted = list(qrels) if queries is None else list(queries)
    per_query: dict[str, dict[str, float]] = {}
    for qid in wanted:
        relevant = {d: g for d, g in qrels.get(qid, {}).items() if g > 0}
        if not relevant:
            continue
        ranking = list(run.get(qid, ()))
        per_query[qid] = {name: fn(ranking, relevant) for name, fn in _MEASURES.items()}
    means = {name: (sum(s[name] for s in per_query.values()) / len(per_query) if per_query else 0.0)
             for name in _MEASURES}
    return Evaluation(per_query, means)
