"""The topic taxonomy: a TOML file of topics, each a name and the words and phrases that signal it.

``topics.toml`` ships with the package (``src/searchapp/topics.toml``). Words
are matched on the index's own stemmed analysis, so "corrupted officials"
matches the word "corruption" and the phrase "human rights" matches "human
rights group". A topic is chosen when it is frequent, varied and dense enough
in the report (see :data:`TAXONOMY_SETTINGS`). The taxonomy tags the reports
of sources that carry no curated topics (see :mod:`searchapp.topics.tagger`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from ..analysis import analyze as terms
from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_TAXONOMY = "topics.toml"
# name: (type, default, smallest allowed, what it does)
TAXONOMY_SETTINGS: dict[str, tuple[type, Any, float, str]] = {
    "min_score": (float, 3.0, 0.0, "weighted matches a topic needs"),
    "min_words": (int, 2, 1, "different words or phrases of the topic that must match"),
    "share": (float, 0.3, 0.0, "fraction of the best topic's score a topic needs"),
    "per_1000": (float, 2.0, 0.0, "matches per 1,000 terms a topic needs (long reports)"),
    "max_topics": (int, 4, 1, "most taxonomy topics per report"),
    "title_weight": (float, 2.0, 0.0, "what a match in the title counts"),
}


class Taxonomy:
    """Topics, each a name and the words and phrases that signal it.

    >>> tax = Taxonomy([("energy", ["oil", "natural gas", "pipeline"])], min_score=2)
    >>> tax.match("Pipeline restarts", "Natural gas flows resumed; oil prices fell.")
    ('energy',)
    """

    def __init__(self, topics: Sequence[tuple[str, Sequence[str]]], source: str = "taxonomy",
                 **settings: Any) -> None:
        self.source = source
        self.settings = {name: spec[1] for name, spec in TAXONOMY_SETTINGS.items()}
        self.settings.update(settings)
        self.names: list[str] = []
        self.words: list[tuple[str, ...]] = []
        # first stem -> [(stems of the word or phrase, topic number, word number)]
        self._index: dict[str, list[tuple[tuple[str, ...], int, int]]] = {}
        for number, (name, words) in enumerate(topics):
            self.names.append(name)
            self.words.append(tuple(words))
            seen: set[tuple[str, ...]] = set()
            for word_number, word in enumerate(words):
                stems = tuple(terms(word))
                if stems and stems not in seen:
                    seen.add(stems)
                    self._index.setdefault(stems[0], []).append((stems, number, word_number))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Taxonomy":
        """Read a taxonomy TOML file; ``None`` reads the one shipped with searchapp.

        :raises ConfigError: unreadable file, TOML syntax error (with its line) or
            a bad topic (named, with its line).
        """
        if path is None:
            return _shipped_taxonomy()
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the topic taxonomy {path}: {e}") from e
        return cls.from_toml(text, source=str(path))

    @classmethod
    def from_toml(cls, text: str, source: str = "taxonomy") -> "Taxonomy":
        """Parse and check a taxonomy (see ``topics.toml`` for the format).

        :raises ConfigError: as :meth:`load`.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{source}: not valid TOML: {e}") from e
        return cls(_check_topics(data, text, source), source=source,
                   **_check_settings(data.get("settings", {}), source))

    def fingerprint(self) -> str:
        """Changes whenever the topics or settings change what gets tagged."""
        blob = json.dumps([self.names, self.words, sorted(self.settings.items())])
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def scores(self, title: str, body: str) -> dict[str, tuple[float, int]]:
        """Topic -> (weighted matches, different words matched), for matched topics."""
        return self.scores_terms(terms(title), terms(body))

    def scores_terms(self, title: list[str], body: list[str]) -> dict[str, tuple[float, int]]:
        score: Counter[int] = Counter()
        distinct: dict[int, set[int]] = {}
        weight = float(self.settings["title_weight"])
        for seq, w in ((title, weight), (body, 1.0)):
            for i, term in enumerate(seq):
                for stems, topic, word in self._index.get(term, ()):
                    if len(stems) == 1 or tuple(seq[i:i + len(stems)]) == stems:
                        score[topic] += w
                        distinct.setdefault(topic, set()).add(word)
        return {self.names[t]: (s, len(distinct[t])) for t, s in score.items()}

    def match(self, title: str, body: str) -> tuple[str, ...]:
        """The topics of a report, best first (ties by name)."""
        return self.match_terms(terms(title), terms(body))

    def match_terms(self, title: list[str], body: list[str]) -> tuple[str, ...]:
        """:meth:`match` of a report already analysed (``analysis.analyze``)."""
        found = self.scores_terms(title, body)
        if not found:
            return ()
        s = self.settings
        length = len(title) + len(body)
        floor = max(float(s["min_score"]), float(s["per_1000"]) * length / 1000,
                    float(s["share"]) * max(v[0] for v in found.values()))
        chosen = sorted((name for name, (score, words) in found.items()
                         if score >= floor and words >= s["min_words"]),
                        key=lambda name: (-found[name][0], name))
        return tuple(chosen[: s["max_topics"]])


@lru_cache(maxsize=1)
def _shipped_taxonomy() -> Taxonomy:
    """The package's own taxonomy, read and checked once per process (it is never changed)."""
    text = resources.files("searchapp").joinpath(DEFAULT_TAXONOMY).read_text("utf-8")
    return Taxonomy.from_toml(text, source=DEFAULT_TAXONOMY)


def _check_settings(raw: Any, source: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [settings] must be a table")
    out = {}
    for key, value in raw.items():
        if key not in TAXONOMY_SETTINGS:
            raise ConfigError(f"{source}: unknown setting {key!r} in [settings] "
                              f"(known: {', '.join(TAXONOMY_SETTINGS)})")
        kind, _, smallest, _ = TAXONOMY_SETTINGS[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (kind is int and not isinstance(value, int)) or value < smallest:
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{source}: setting {key!r} must be {what} of at least {smallest:g}, got {value!r}")
        out[key] = kind(value)
    return out


def _check_topics(data: dict, text: str, source: str) -> list[tuple[str, list[str]]]:
    unknown = sorted(set(data) - {"settings", "topic"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (expected [settings] and [[topic]] tables)")
    entries = data.get("topic", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'topic' must be an array of tables: write each topic under [[topic]]")
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.replace(" ", "").startswith("[[topic]]")]
    lines = text.splitlines()
    topics, names = [], {}
    for number, entry in enumerate(entries):
        line = headers[number] if len(headers) == len(entries) else None
        name = entry.get("name") if isinstance(entry, dict) else None

        def fail(problem: str, word: str | None = None) -> ConfigError:
            where = line
            if word is not None and line is not None:
                where = next((n for n in range(line, len(lines) + 1) if f'"{word}"' in lines[n - 1]
                              or f"'{word}'" in lines[n - 1]), line)
            label = f"topic {name!r}" if isinstance(name, str) and name.strip() else f"topic number {number + 1}"
            return ConfigError(f"{source}{f', line {where}' if where else ''}: {label}: {problem}")

        if not isinstance(entry, dict):
            raise fail("must be a table with 'name' and 'words'")
        extra = sorted(set(entry) - {"name", "words"})
        if extra:
            raise fail(f"unknown key {extra[0]!r} (a topic has 'name' and 'words')")
        if not isinstance(name, str) or not name.strip():
            raise fail("needs a 'name' (text)")
        if "," in name:
            raise fail("a topic name cannot contain a comma")
        if name.strip().lower() in names:
            raise fail(f"the name is used twice (first at topic number {names[name.strip().lower()]})")
        names[name.strip().lower()] = number + 1
        words = entry.get("words")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            raise fail("needs 'words': a non-empty list of words and phrases (text)")
        for word in words:
            if not terms(word):
                raise fail(f"the word {word!r} has no index terms (only stopwords or punctuation)", word)
        topics.append((name.strip(), words))
    return topics


