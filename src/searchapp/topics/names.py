"""Topic values: one value for spellings that differ only by case or spacing.

"Energy", "energy" and " Energy " are one topic. :func:`topic_key` says which
values are the same; :class:`TopicVocabulary` counts the curated spellings
per source and shows each topic in its most common one. The indexer folds
curated and learned topics with it when it writes a report; the facet code
can fold the values of an index it did not write with :func:`spellings`.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

from ..schema import join_topics


def labels_of(topics: Iterable[str]) -> tuple[str, ...]:
    """Topics as the index stores them (``schema.join_topics``), as a tuple."""
    return tuple(t for t in join_topics(topics).split(",") if t)


def topic_key(value: str) -> str:
    """What makes two topic values the same: case and runs of spaces do not count.

    >>> topic_key("  Critical   Manufacturing ") == topic_key("critical manufacturing")
    True
    """
    return " ".join(value.split()).casefold()


def spellings(counts: Mapping[str, int]) -> dict[str, str]:
    """Each value -> the spelling of its topic to show: the most used one (ties: the first in
    sorted order, so upper case before lower case).

    >>> spellings({"Energy": 5, "energy": 2, "Water": 1})
    {'Energy': 'Energy', 'energy': 'Energy', 'Water': 'Water'}
    """
    best: dict[str, tuple[int, str]] = {}
    for value, count in counts.items():
        clean = " ".join(value.split())
        key = topic_key(value)
        rank = (-count, clean)
        if key not in best or rank < best[key]:
            best[key] = rank
    return {value: best[topic_key(value)][1] for value in counts}


class TopicVocabulary:
    """The curated topics of each source, with how often each spelling is used."""

    def __init__(self, counts: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.counts: dict[str, Counter[str]] = {s: Counter(c) for s, c in (counts or {}).items()}
        self._spelling: dict[str, str] | None = None

    def add(self, source: str, topics: Iterable[str]) -> None:
        """One curated report of ``source``."""
        self.counts.setdefault(source, Counter()).update(labels_of(topics))
        self._spelling = None

    def merged(self, other: "TopicVocabulary") -> "TopicVocabulary":
        out = TopicVocabulary(self.counts)
        for source, counts in other.counts.items():
            out.counts.setdefault(source, Counter()).update(counts)
        return out

    def without(self, other: "TopicVocabulary") -> "TopicVocabulary":
        """This vocabulary less the reports counted in ``other``, whose topics are
        as the index stores them (in their shown spelling): each topic of a
        source loses exactly that many counts, shared among its spellings in
        proportion, so that the most used spelling stays the most used."""
        out = TopicVocabulary(self.counts)
        for source, counts in other.counts.items():
            mine = out.counts.get(source)
            if mine is None:
                continue
            removed: Counter[str] = Counter()
            for value, count in counts.items():
                removed[topic_key(value)] += count
            for key, count in removed.items():
                same = {v: c for v, c in mine.items() if topic_key(v) == key}
                total = sum(same.values())
                for value in same:
                    del mine[value]
                left = total - count
                if left > 0:
                    scaled = Counter({v: c * left // total for v, c in same.items()})
                    scaled[max(same, key=lambda v: (same[v], v))] += left - sum(scaled.values())
                    mine.update(+scaled)
            if not mine:
                del out.counts[source]
        return out

    def curates(self, source: str) -> bool:
        """Whether reports of ``source`` carry curated topics."""
        return bool(self.counts.get(source))

    def keys_of(self, source: str) -> frozenset[str]:
        """The topics (as :func:`topic_key`) that ``source``'s curated reports use."""
        return frozenset(topic_key(t) for t in self.counts.get(source, ()))

    def spell(self, topic: str) -> str:
        """``topic`` in the spelling most used over every source (itself, cleaned, if unknown)."""
        if self._spelling is None:
            total: Counter[str] = Counter()
            for counts in self.counts.values():
                total.update(counts)
            self._spelling = {topic_key(v): s for v, s in spellings(total).items()}
        return self._spelling.get(topic_key(topic), " ".join(topic.split()))

    def spell_all(self, topics: Iterable[str]) -> tuple[str, ...]:
        """Topics in their shown spelling, without repeats, in order."""
        out: dict[str, str] = {}
        for topic in labels_of(topics):
            out.setdefault(topic_key(topic), self.spell(topic))
        return tuple(out.values())

    def to_json(self) -> dict[str, dict[str, int]]:
        return {s: dict(sorted(c.items())) for s, c in sorted(self.counts.items())}
