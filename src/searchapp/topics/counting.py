"""Counting topics in an index: curated and automatic apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .names import spellings


def count_tagged(reader) -> int:
    """Live reports of an index that carry automatic topics."""
    docs: set[int] = set()
    if "topic_auto" in reader.schema:
        for term in reader.lexicon("topic_auto"):
            docs.update(reader.postings("topic_auto", term).all_ids())
    return sum(1 for d in docs if not reader.is_deleted(d))


@dataclass(frozen=True)
class TopicCount:
    """One topic of the index's vocabulary and how many reports carry it."""

    name: str
    curated: int
    auto: int

    @property
    def total(self) -> int:
        return self.curated + self.auto

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "curated": self.curated, "auto": self.auto, "total": self.total}


def count_topics(table) -> tuple[TopicCount, ...]:
    """Every topic of a ``facets.FacetTable`` with its counts, most reports first.

    Values that differ only by case or spacing are counted as one topic, shown in
    its most used spelling (:func:`.names.spellings`).
    """
    counts: dict[str, list[int]] = {}
    for slot, values in enumerate((table.topic, table.topic_auto)):
        if values.values:
            for name, count in zip(values.values, values.counts(table.live)):
                if count:
                    counts.setdefault(name, [0, 0])[slot] += int(count)
    shown = spellings({name: sum(c) for name, c in counts.items()})
    merged: dict[str, list[int]] = {}
    for name, (curated, auto) in counts.items():
        row = merged.setdefault(shown[name], [0, 0])
        row[0] += curated
        row[1] += auto
    rows = [TopicCount(name, c[0], c[1]) for name, c in merged.items()]
    return tuple(sorted(rows, key=lambda r: (-r.total, r.name.lower(), r.name)))
