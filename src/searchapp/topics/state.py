"""What an index generation remembers of the tagger that tagged it (for incremental reindexes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import store
from .learned import LearnedModel
from .names import TopicVocabulary

STATE_FILE = "topics-state.json"  # small: rewritten by every reindex
MODEL_FILE = "topics-model.npz"  # the arrays: written only when the model changes
STATE_VERSION = 3  # 2: the curated topics of each source (issue 13); 3: the ids drifted


@dataclass(frozen=True)
class SavedTopics:
    """The tagger state of one generation."""

    generation: int  # the Whoosh index generation it belongs to
    fingerprint: str  # TopicTagger.fingerprint()
    model: LearnedModel | None
    curated: int = 0  # curated reports in the index when the model was learned
    drifted: frozenset[str] = frozenset()  # ids of the curated reports added, changed or removed since
    vocabulary: TopicVocabulary = field(default_factory=TopicVocabulary)

    @property
    def drift(self) -> int:
        """How many curated reports changed since the model was learned."""
        return len(self.drifted)


def load_saved(gen_dir: Path) -> SavedTopics | None:
    """The tagger state saved in a generation, or None (missing, unreadable, of an older
    version or not matching its model file: retrain)."""
    try:
        meta = json.loads((gen_dir / STATE_FILE).read_text("utf-8"))
        if meta.get("version") != STATE_VERSION:
            return None
        model = None
        if meta["model"]:
            with np.load(gen_dir / MODEL_FILE, allow_pickle=False) as data:
                model = LearnedModel.from_arrays(data)
            if model.fingerprint() != meta["model"]:
                return None
        return SavedTopics(int(meta["generation"]), str(meta["fingerprint"]), model,
                           int(meta.get("curated", 0)), frozenset(map(str, meta.get("drifted", ()))),
                           TopicVocabulary(meta["vocabulary"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(gen_dir: Path, state: SavedTopics, previous: SavedTopics | None = None) -> None:
    """Write ``state`` into a generation (atomically).

    The model's arrays (20 MB with 50 topics) are rewritten only when the
    model differs from ``previous``'s (issue 5: a small update stays small).
    """
    model = state.model
    model_fp = model.fingerprint() if model is not None else None
    if model is not None and (previous is None or previous.model is None
                              or previous.model.fingerprint() != model_fp
                              or not (gen_dir / MODEL_FILE).exists()):
        _write_atomic(gen_dir / MODEL_FILE, lambda fh: np.savez(fh, **model.arrays()))
    meta = {"version": STATE_VERSION, "generation": state.generation, "fingerprint": state.fingerprint,
            "model": model_fp, "curated": state.curated,
            "drifted": sorted(state.drifted),
            "vocabulary": state.vocabulary.to_json()}
    _write_atomic(gen_dir / STATE_FILE, lambda fh: fh.write(json.dumps(meta).encode("utf-8")))


def _write_atomic(path: Path, write) -> None:
    store.atomic_write(path, write)
