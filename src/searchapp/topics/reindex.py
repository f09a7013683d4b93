"""The topic side of one reindex, as the indexer drives it (meant to move to the indexer, issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from ..schema import join_topics
from . import state
from .learned import TopicLearner
from .names import TopicVocabulary
from .state import SavedTopics
from .tagger import TopicTagger
from .taxonomy import Taxonomy

# An incremental reindex keeps the saved model until the curated reports added,
# changed or removed since it was learned pass this share of those it was
# learned from (issue 5: changing 1% of a corpus must not cost a retraining).
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
       learned stay under :data:`RETRAIN_SHARE` of them (new reports are
       tagged by that model); past that, or when the state is missing or
       stale, it also learns from every curated report kept in the index and
       fits again.
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
        self.curated = self.drift = 0

    def learn_fields(self, fields: dict) -> None:
        """Learn from a document (indexer fields or stored fields) if it has curated topics."""
        if fields.get("topic"):
            self.learner.add(fields["id"], fields.get("title") or "", fields.get("body") or "",
                             fields["topic"].split(","), fields.get("source") or "")

    def up_to_date(self, generation: int) -> bool:
        """Whether the saved state belongs to this index and to this taxonomy."""
        saved = self.saved
        return (saved is not None and saved.generation == generation
                and saved.fingerprint.split(":")[0] == self.taxonomy.fingerprint())

    def prepare(self, reader=None, skip_files: Iterable[str] = (), generation: int | None = None,
                curated_removed: int = 0) -> TopicTagger:
        """The tagger. ``reader``: the index an incremental run updates (None: full);
        ``curated_removed``: its curated reports in the files being replaced or removed."""
        saved = self.saved
        stale = reader is None or saved is None or saved.generation != generation
        drift = len(self.learner) + curated_removed + (saved.drift if saved is not None else 0)
        if stale or drift > RETRAIN_SHARE * saved.curated:
            if reader is not None:
                skip = set(skip_files)
                for _, stored in reader.iter_docs():
                    if stored.get("file") not in skip:
                        self.learn_fields(stored)
            model, vocabulary = self.learner.fit(self.procs), self.learner.vocabulary
            self.curated = len(self.learner)
        else:
            model, vocabulary = saved.model, saved.vocabulary.merged(self.learner.vocabulary)
            self.curated, self.drift = saved.curated, drift
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
                                        tagger.model if tagger else None, self.curated, self.drift,
                                        tagger.vocabulary if tagger else TopicVocabulary()),
                   previous=self.saved)
