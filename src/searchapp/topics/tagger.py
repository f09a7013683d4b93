"""Automatic topics for one report, and the index writer that gives them.

A learned topic goes only where it can be trusted (issue 13): a report gets
only learned topics that its own source's curated reports use, so a topic
never crosses from one source's vocabulary to another's (a CRS topic on a
cyber advisory, a Usenet group on a Reuters story). A source for which the
model learned none of its topics (it carries no curated topics, or too few
to learn from) gets the taxonomy's topics instead; the two vocabularies are
never mixed for one source. ``benchmarks/topics_mixed.py`` measures the rule.
"""

from __future__ import annotations

import hashlib
import json

from ..analysis import analyze as terms
from ..schema import join_topics
from .learned import LearnedModel
from .names import TopicVocabulary, topic_key
from .taxonomy import Taxonomy


class TopicTagger:
    """Automatic topics: the learned model's within a source's own vocabulary, else the taxonomy's."""

    def __init__(self, taxonomy: Taxonomy, model: LearnedModel | None = None,
                 vocabulary: TopicVocabulary | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self.vocabulary = vocabulary if vocabulary is not None else TopicVocabulary()
        self.tagged = 0  # reports given at least one topic
        self._keys: dict[str, frozenset[str]] = {}

    def topics(self, title: str, body: str, source: str = "") -> tuple[str, ...]:
        """The automatic topics of a report of ``source``, best first."""
        title_terms, body_terms = terms(title), terms(body)
        allowed = self.learned_for(source)
        if not allowed:
            return self.taxonomy.match_terms(title_terms, body_terms)
        return tuple(t for t in self.model.predict_terms(title_terms, body_terms) if topic_key(t) in allowed)

    def learned_for(self, source: str) -> frozenset[str]:
        """The learned topics (as :func:`.names.topic_key`) that reports of ``source`` may get:
        those of the model that the source's curated reports use."""
        allowed = self._keys.get(source)
        if allowed is None:
            labels = {topic_key(t) for t in self.model.labels} if self.model is not None else set()
            allowed = self._keys[source] = self.vocabulary.keys_of(source) & labels
        return allowed

    def tag(self, title: str, body: str, source: str = "") -> tuple[str, ...]:
        """:meth:`topics`, counted in ``tagged`` when there are any."""
        found = self.topics(title, body, source)
        self.tagged += bool(found)
        return found

    def curated(self, topics: str) -> str:
        """A report's curated topics (as stored) in the spellings the index shows."""
        return join_topics(self.vocabulary.spell_all(topics.split(",")))

    def fingerprint(self) -> str:
        """Changes whenever the automatic topics of some report may change."""
        model = self.model.fingerprint() if self.model is not None else "-"
        keys = sorted((s, sorted(self.vocabulary.keys_of(s))) for s in self.vocabulary.counts)
        rule = hashlib.sha256(json.dumps(keys).encode("utf-8")).hexdigest()[:16]
        return f"{self.taxonomy.fingerprint()}:{model}:{rule}"


class TaggingWriter:
    """Wraps an index writer: curated topics in their shown spelling, automatic ones for the others."""

    def __init__(self, writer, tagger: TopicTagger) -> None:
        self._writer = writer
        self._tagger = tagger

    def add_document(self, **fields) -> None:
        if fields.get("topic"):
            fields["topic"] = self._tagger.curated(fields["topic"])
        else:
            auto = self._tagger.tag(fields.get("title") or "", fields.get("body") or "",
                                    fields.get("source") or "")
            if auto:
                fields["topic_auto"] = join_topics(auto)
        self._writer.add_document(**fields)
