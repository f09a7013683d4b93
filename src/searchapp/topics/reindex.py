"""The topic side of one reindex, as the indexer drives it (meant to move to the indexer, issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from ..schema import join_topics
from . import state
from .learned import TopicLearner, training_key
from .names import TopicVocabulary
from .state import SavedTopics
from .tagger import TopicTagger
from .taxonomy import Taxonomy

# An incremental reindex keeps the saved model until the curated reports added,
# changed or removed since it was learned pass this share of those it was
# learned from (issue 5: changing 1% of a corpus must not cost a retraining).
# Each report counts once however often it changed, and only when what the
# model learns from it changed (its title, body, source or topics).
RETRAIN_SHARE = 0.1


class ReindexTopics:
    """The topic side of one reindex.

    1. Learning pass: the indexer parses the files to index and hands
       :meth:`learn_fields` the documents it will write (same duplicate and
       Unicode rules); the curated ones are learned from. Nothing is
       written, and only the sampled curated reports are analysed.
    2. :meth:`prepare` returns the :class:`TopicTagger`. A full reindex fits
       the model on what it learned. An incremental one reuses the model saved
       in the generation while the curated reports changed since it was
       learned (:meth:`forget` is told the ones being replaced; each one
       counts once, across runs too) stay at most :data:`RETRAIN_SHARE` of
       them (new reports are tagged by that model); past that, or when the
       state is missing or stale, it also learns from every curated report
       kept in the index and fits again.
    3. The indexing pass writes each report once, in file order, through a
       :class:`TaggingWriter` that gives untagged ones their automatic
       topics (parallel workers inherit the tagger when they fork).
    4. Incremental runs :meth:`retag` the untagged reports already indexed
       when the tagger changed, so the index then equals a full rebuild's.
    5. :meth:`save` remembers the tagger in the new generation.
    """

    def __init__(self, taxonomy: Taxonomy, saved: SavedTopics | None = None, procs: int = 1) -> None:
        self.taxonomy = taxonomy
        self.saved = saved
        self.procs = procs
        self.learner = TopicLearner()
        self.tagger: TopicTagger | None = None
        self.retag_needed = False
        self.curated = 0
        self.drifted: frozenset[str] = frozenset()  # curated reports changed since the model was learned
        self._before: dict[str, str] = {}  # id -> training_key, of the curated reports being replaced
        self._after: dict[str, str] = {}  # id -> training_key, of the new curated reports
        self._forgotten = TopicVocabulary()  # the topics of the curated reports being replaced

    def learn_fields(self, fields: dict) -> None:
        """Learn from a document the run writes if it has curated topics."""
        if fields.get("topic"):
            if self.saved is not None:  # only an update compares them (``changed``)
                self._after[fields["id"]] = training_key(fields)
            self._learn(fields)

    def forget(self, stored: dict) -> None:
        """A report an incremental run replaces or removes (its stored fields)."""
        if stored.get("topic"):
            self._before[stored["id"]] = training_key(stored)
            self._forgotten.add(stored.get("source") or "", stored["topic"].split(","))

    def changed(self) -> set[str]:
        """The curated reports of this run whose training content is new, changed or gone."""
        before, after = self._before, self._after
        return {i for i in before.keys() | after.keys() if before.get(i) != after.get(i)}

    def _learn(self, fields: dict) -> None:
        self.learner.add(fields["id"], fields.get("title") or "", fields.get("body") or "",
                         fields["topic"].split(","), fields.get("source") or "")

    def up_to_date(self, generation: int) -> bool:
        """Whether the saved state belongs to this index and to this taxonomy."""
        saved = self.saved
        return (saved is not None and saved.generation == generation
                and saved.fingerprint.split(":")[0] == self.taxonomy.fingerprint())

    def prepare(self, reader=None, skip_files: Iterable[str] = (), generation: int | None = None) -> TopicTagger:
        """The tagger. ``reader``: the index an incremental run updates (None: full),
        ``skip_files``: its files being replaced or removed."""
        saved = self.saved
        stale = reader is None or saved is None or saved.generation != generation
        drifted = frozenset() if saved is None else saved.drifted | self.changed()
        if stale or len(drifted) > RETRAIN_SHARE * saved.curated:
            if reader is not None:
                skip = set(skip_files)
                for _, stored in reader.iter_docs():
                    if stored.get("topic") and stored.get("file") not in skip:
                        self._learn(stored)
            model, vocabulary = self.learner.fit(self.procs), self.learner.vocabulary
            self.curated = len(self.learner)
        else:
            model = saved.model
            vocabulary = saved.vocabulary.merged(self.learner.vocabulary).without(self._forgotten)
            self.curated, self.drifted = saved.curated, drifted
        self.learner = TopicLearner()  # its sample is not needed any more: its memory goes back
        self.tagger = TopicTagger(self.taxonomy, model, vocabulary)
        self.retag_needed = reader is not None and (stale or self.tagger.fingerprint() != saved.fingerprint)
        return self.tagger

    def retag(self, reader, skip_files: Iterable[str] = ()) -> Iterator[tuple[dict, tuple[str, ...]]]:
        """Untagged reports already indexed whose automatic topics change: (stored fields, new topics)."""
        if not self.retag_needed:
            return
        skip = set(skip_files)
        for _, stored in reader.iter_docs():
            if not stored.get("topic") and stored.get("file") not in skip:
                auto = self.tagger.topics(stored.get("title") or "", stored.get("body") or "",
                                          stored.get("source") or "")
                if join_topics(auto) != (stored.get("topic_auto") or ""):
                    self.tagger.tagged += bool(auto)
                    yield stored, auto

    def save(self, gen_dir: Path, generation: int) -> None:
        """Remember the tagger in the generation, for incremental runs."""
        tagger = self.tagger
        state.save(gen_dir, SavedTopics(generation, tagger.fingerprint() if tagger else "",
                                        tagger.model if tagger else None, self.curated, self.drifted,
                                        tagger.vocabulary if tagger else TopicVocabulary()),
                   previous=self.saved)
