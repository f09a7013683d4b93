"""Topics for reports that carry none: a shipped taxonomy and a model learned from the corpus.

A report's own topics (header, front matter, JSON) are *curated* and always
win. A report without any gets *automatic* topics (the ``topic_auto`` field)
from two sources, used together:

* :class:`Taxonomy`: a TOML file of topics, each a name and the words and
  phrases that signal it (``topics.toml`` ships with the package). Words are
  matched on the index's own stemmed analysis, so "corrupted officials"
  matches the word "corruption" and the phrase "human rights" matches "human
  rights group". A topic is chosen when it is frequent, varied and dense
  enough in the report (see :data:`TAXONOMY_SETTINGS`).
* :class:`LearnedModel`: when part of the corpus is curated, one linear SVM
  per topic (one-vs-rest) over TF-IDF of the same stemmed terms, trained on
  the curated reports, tags the others with the corpus's own vocabulary. Only
  confident predictions are kept: each topic's decision threshold is the one
  that maximised F1 in stratified cross-validation on the curated reports, and
  a topic whose cross-validated F1 stays below :data:`MIN_CV_F1` is never
  predicted at all.

Why scikit-learn's ``LinearSVC`` (liblinear) and not NLTK's classifiers:
linear SVMs are the best-documented learners for this task (Joachims 1998,
Dumais et al. 1998: 86-92 breakeven on Reuters ModApte, against 72-81 for
naive Bayes, the strongest of NLTK's own), and liblinear fits thousands of
sparse documents in well under a second per topic, where NLTK's maximum
entropy trainer iterates in pure Python. scikit-learn is used for fitting
only: a fitted model is kept as plain NumPy arrays (:class:`LearnedModel`),
so tagging needs NumPy alone and the model cached in an index generation does
not depend on scikit-learn's pickles. ``benchmarks/topics_bench.py`` measures
the learner on Reuters-21578 ModApte (micro-F1 92.6 on the ten most frequent
categories and 87.4 on all 90, against 92.0 and 87.0 breakeven for Dumais et
al.'s linear SVM; it learns the 50 most frequent, see
:data:`MAX_LEARNED_LABELS`).

Reports without topics are untagged, not off-topic, so they are never used
as negative examples. The price: the model knows no "none of these", and on a
corpus whose untagged reports differ in kind from the curated ones it tags
them with the nearest curated topic (on ModApte trained this way, 91.2 and
86.4 micro-F1, and 134 of the 280 uncategorised test stories get a topic).

Everything is deterministic: training reports are sorted by id, the
vocabulary by term, and liblinear and the folds are seeded, so the same
corpus gets the same topics whether it was indexed in full or incrementally.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import multiprocessing
import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .analysis import analyze as terms
from .errors import ConfigError
from .schema import join_topics

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

def labels_of(topics: Iterable[str]) -> tuple[str, ...]:
    """Topics as the index stores them (``schema.join_topics``), as a tuple."""
    return tuple(t for t in join_topics(topics).split(",") if t)


# -- the taxonomy ---------------------------------------------------------------

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
        return self._scores(terms(title), terms(body))

    def _scores(self, title: list[str], body: list[str]) -> dict[str, tuple[float, int]]:
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
        return self._match(terms(title), terms(body))

    def _match(self, title: list[str], body: list[str]) -> tuple[str, ...]:
        found = self._scores(title, body)
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


# -- the learned model -------------------------------------------------------------

MIN_TRAINING_REPORTS = 20  # curated reports before anything is learned
MIN_LABEL_REPORTS = 5  # curated reports a topic needs to be learned (one per fold)
MIN_CV_F1 = 0.5  # topics the model cannot predict this well in cross-validation are dropped
MAX_LEARNED_TOPICS = 5
MAX_FEATURES = 100_000
SVM_C = 1.0
CV_FOLDS = 3
# issue 5: what learning may cost. Past these the model gains little and the
# cost grows with the corpus (a 100,000-report corpus with 50,811 curated
# reports and 310 topics on ten or more of them was still learning after 7
# minutes; bounded, 11 s). The sample is the curated reports whose ids hash
# lowest, so it is the same whatever order the reports come in.
MAX_TRAINING_REPORTS = 10_000
MAX_LEARNED_LABELS = 50  # the most frequent curated topics of the sample
MAX_TRAINING_CHARS = 20_000  # of a report's body
TITLE_WEIGHT = 2  # a title word counts as two body words
THRESHOLDS = np.round(np.arange(-0.5, 0.501, 0.05), 2)


def _counts(title: list[str], body: list[str]) -> Counter[str]:
    counts = Counter(body)
    for term in title:
        counts[term] += TITLE_WEIGHT
    return counts


@dataclass(frozen=True, eq=False)
class LearnedModel:
    """One linear SVM per topic over sublinear, L2-normalised TF-IDF, as NumPy arrays."""

    labels: tuple[str, ...]
    vocabulary: tuple[str, ...]  # sorted; column j is vocabulary[j]
    idf: np.ndarray  # float32, per column
    coef: np.ndarray  # float32, labels x columns
    intercept: np.ndarray  # float32, per label
    threshold: np.ndarray  # float32, per label: predicted when the decision value exceeds it

    def __post_init__(self) -> None:
        object.__setattr__(self, "_column", {t: j for j, t in enumerate(self.vocabulary)})

    def scores(self, title: str, body: str) -> np.ndarray:
        """Decision values of every label for a report."""
        return self._scores(terms(title), terms(body))

    def _scores(self, title: list[str], body: list[str]) -> np.ndarray:
        column = self._column  # type: ignore[attr-defined]
        pairs = sorted((column[t], c) for t, c in _counts(title, body).items() if t in column)
        if not pairs:
            return self.intercept.astype(np.float64)
        cols = np.array([p[0] for p in pairs], dtype=np.int64)
        x = (1.0 + np.log(np.array([p[1] for p in pairs], dtype=np.float64))) * self.idf[cols]
        x /= np.linalg.norm(x)
        # Multiply and sum rather than BLAS: the same result on any machine
        # and thread count, and safe in the indexer's forked workers.
        return (self.coef[:, cols] * x).sum(axis=1) + self.intercept

    def predict(self, title: str, body: str) -> tuple[str, ...]:
        """The confidently predicted labels, most confident first."""
        return self._predict(terms(title), terms(body))

    def _predict(self, title: list[str], body: list[str]) -> tuple[str, ...]:
        margin = self._scores(title, body) - self.threshold
        chosen = [j for j in np.argsort(-margin, kind="stable") if margin[j] > 0]
        return tuple(self.labels[j] for j in chosen[:MAX_LEARNED_TOPICS])

    def fingerprint(self) -> str:
        """A hash of the whole model, worked out once (20 ms for 50 topics; a
        reindex asks for it several times)."""
        found = self.__dict__.get("_fingerprint")
        if found is None:
            h = hashlib.sha256(json.dumps([self.labels, self.vocabulary]).encode("utf-8"))
            for array in (self.idf, self.coef, self.intercept, self.threshold):
                h.update(np.ascontiguousarray(array).tobytes())
            found = h.hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", found)
        return found

    def arrays(self) -> dict[str, np.ndarray]:
        return {"labels": np.array(self.labels, dtype=str), "vocabulary": np.array(self.vocabulary, dtype=str),
                "idf": self.idf, "coef": self.coef, "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_arrays(cls, data) -> "LearnedModel":
        return cls(tuple(data["labels"].tolist()), tuple(data["vocabulary"].tolist()), data["idf"],
                   data["coef"], data["intercept"], data["threshold"])


class TopicLearner:
    """Collects labelled reports, then fits a :class:`LearnedModel`.

    Keeps a sample of at most :data:`MAX_TRAINING_REPORTS` (the lowest id
    hashes) and analyses only those, when fitting.
    """

    def __init__(self) -> None:
        self._sample: list[tuple[int, str, str, str, tuple[str, ...]]] = []  # a heap on -hash
        self.seen = 0

    def __len__(self) -> int:
        """Labelled reports added (the sample may hold fewer)."""
        return self.seen

    def add(self, report_id: str, title: str, body: str, labels: Sequence[str]) -> None:
        """One training report; empty ``labels`` make a negative example for every label."""
        self.seen += 1
        key = -int.from_bytes(hashlib.blake2b(report_id.encode("utf-8"), digest_size=8).digest(), "big")
        item = (key, report_id, title, body[:MAX_TRAINING_CHARS], tuple(sorted(set(labels))))
        if len(self._sample) < MAX_TRAINING_REPORTS:
            heapq.heappush(self._sample, item)
        elif item > self._sample[0]:
            heapq.heapreplace(self._sample, item)

    def fit(self, procs: int = 1) -> LearnedModel | None:
        """The model, or None when there is too little to learn from.

        :param procs: processes fitting topics side by side (the model is the same).
        """
        examples = sorted(self._sample, key=lambda e: e[1])
        n = len(examples)
        per_label = Counter(label for e in examples for label in e[4])
        eligible = [l for l, c in per_label.items() if c >= MIN_LABEL_REPORTS and n - c >= 2]
        labels = sorted(sorted(eligible, key=lambda l: (-per_label[l], l))[:MAX_LEARNED_LABELS])
        if n < MIN_TRAINING_REPORTS or not labels:
            return None
        X, vocabulary, idf = self._matrix([_counts(terms(e[2]), terms(e[3])) for e in examples])
        targets = [np.array([label in e[4] for e in examples]) for label in labels]
        rows = _fit_all(X, targets, procs)
        kept = [(label, row) for label, row in zip(labels, rows) if row is not None]
        if not kept:
            return None
        return LearnedModel(tuple(label for label, _ in kept), vocabulary, idf,
                            np.array([r[0] for _, r in kept], dtype=np.float32),
                            np.array([r[1] for _, r in kept], dtype=np.float32),
                            np.array([r[2] for _, r in kept], dtype=np.float32))

    @staticmethod
    def _matrix(counted: list[Counter[str]]):
        from scipy import sparse

        ids: dict[str, int] = {}
        examples = [(np.array([ids.setdefault(t, len(ids)) for t in c], dtype=np.int64),
                     np.array(list(c.values()), dtype=np.float64)) for c in counted]
        n, names = len(examples), list(ids)
        df = np.bincount(np.concatenate([e[0] for e in examples] + [np.zeros(0, np.int64)]),
                         minlength=len(names))
        present = np.nonzero(df)[0]
        if len(present) > MAX_FEATURES:  # the most frequent, ties by term
            present = np.array(sorted(present, key=lambda i: (-df[i], names[i]))[:MAX_FEATURES])
        order = sorted(present, key=lambda i: names[i])
        column = np.full(len(names), -1, dtype=np.int64)
        column[order] = np.arange(len(order))
        idf = (np.log((1 + n) / (1 + df[order])) + 1).astype(np.float32)
        indptr, indices, data = [0], [], []
        for term_ids, counts in examples:
            cols = column[term_ids]
            keep = cols >= 0
            cols, tf = cols[keep], counts[keep]
            sort = np.argsort(cols)
            cols, tf = cols[sort], tf[sort]
            x = (1 + np.log(tf)) * idf[cols]
            norm = np.linalg.norm(x)
            indices.append(cols)
            data.append(x / norm if norm else x)
            indptr.append(indptr[-1] + len(cols))
        X = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                              shape=(n, len(order)))
        return X, tuple(names[i] for i in order), idf


_FITTING: tuple = ()  # (X, targets) for forked fitting processes


def _fit_all(X, targets: list[np.ndarray], procs: int) -> list[tuple | None]:
    """Each topic's (coef, intercept, threshold), or None when it is not predictable enough."""
    global _FITTING
    procs = min(procs or os.cpu_count() or 1, len(targets))
    if procs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_fit_one(X, y) for y in targets]
    _FITTING = (X, targets)  # the forked processes inherit it: nothing is pickled but the results
    try:  # issue 11: children that close the reindex lock and die with the reindex
        from . import processes

        return processes.map_items(_fit_forked, len(targets), procs, name="topic-fitting process")
    finally:
        _FITTING = ()


def _fit_forked(j: int):
    X, targets = _FITTING
    return _fit_one(X, targets[j])


def _fit_one(X, y: np.ndarray) -> tuple | None:
    threshold, f1 = _cv_threshold(X, y)
    if f1 < MIN_CV_F1:
        return None
    svm = _svm().fit(X, y)
    return svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0]), threshold


def _svm():
    from sklearn.svm import LinearSVC

    return LinearSVC(C=SVM_C, random_state=0, max_iter=5000)


def _cv_threshold(X, y: np.ndarray) -> tuple[float, float]:
    """The decision threshold with the best cross-validated F1, and that F1."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold

    folds = min(CV_FOLDS, int(y.sum()), int((~y).sum()))
    if folds < 2:
        return 0.0, 0.0
    held_out = np.empty(len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
            held_out[test] = _svm().fit(X[train], y[train]).decision_function(X[test])
    predicted = held_out[None, :] > THRESHOLDS[:, None]
    tp = (predicted & y).sum(1)
    wrong = (predicted & ~y).sum(1) + (~predicted & y).sum(1)
    f1 = 2 * tp / np.maximum(2 * tp + wrong, 1)
    best = np.nonzero(f1 == f1.max())[0]
    pick = min(best, key=lambda i: (abs(THRESHOLDS[i]), -THRESHOLDS[i]))  # the tie nearest 0
    return float(THRESHOLDS[pick]), float(f1[pick])


# -- tagging, and the topic side of a reindex ---------------------------------------

class TopicTagger:
    """Automatic topics: the taxonomy's, then the learned model's (no repeats)."""

    def __init__(self, taxonomy: Taxonomy, model: LearnedModel | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self.tagged = 0  # reports given at least one topic

    def topics(self, title: str, body: str) -> tuple[str, ...]:
        title_terms, body_terms = terms(title), terms(body)
        found = self.taxonomy._match(title_terms, body_terms)
        if self.model is not None:
            found += tuple(t for t in self.model._predict(title_terms, body_terms) if t not in found)
        return found

    def tag(self, title: str, body: str) -> tuple[str, ...]:
        """:meth:`topics`, counted in ``tagged`` when there are any."""
        found = self.topics(title, body)
        self.tagged += bool(found)
        return found

    def fingerprint(self) -> str:
        model = self.model.fingerprint() if self.model is not None else "-"
        return f"{self.taxonomy.fingerprint()}:{model}"


STATE_FILE = "topics-state.json"  # small: rewritten by every reindex
MODEL_FILE = "topics-model.npz"  # the arrays: written only when the model changes


# An incremental reindex keeps the saved model until the curated reports added,
# changed or removed since it was learned pass this share of those it was
# learned from (issue 5: changing 1% of a corpus must not cost a retraining).
RETRAIN_SHARE = 0.1


@dataclass(frozen=True)
class SavedTopics:
    """What a generation remembers of the tagger that tagged it."""

    generation: int  # the Whoosh index generation it belongs to
    fingerprint: str  # TopicTagger.fingerprint()
    model: LearnedModel | None
    curated: int = 0  # curated reports in the index when the model was learned
    drift: int = 0  # curated reports added, changed or removed since


def load_saved(gen_dir: Path) -> SavedTopics | None:
    """The tagger state saved in a generation, or None (missing, unreadable or
    not matching its model file: retrain)."""
    try:
        meta = json.loads((gen_dir / STATE_FILE).read_text("utf-8"))
        model = None
        if meta["model"]:
            with np.load(gen_dir / MODEL_FILE, allow_pickle=False) as data:
                model = LearnedModel.from_arrays(data)
            if model.fingerprint() != meta["model"]:
                return None
        return SavedTopics(int(meta["generation"]), str(meta["fingerprint"]), model,
                           int(meta.get("curated", 0)), int(meta.get("drift", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ReindexTopics:
    """The topic side of one reindex, as the indexer drives it.

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
                             fields["topic"].split(","))

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
            model = self.learner.fit(self.procs)
            self.curated = len(self.learner)
        else:
            model = saved.model
            self.curated, self.drift = saved.curated, drift
        self.tagger = TopicTagger(self.taxonomy, model)
        self.retag_needed = reader is not None and (stale or self.tagger.fingerprint() != saved.fingerprint)
        return self.tagger

    def retag(self, reader, skip_files: Iterable[str] = ()) -> Iterator[tuple[dict, tuple[str, ...]]]:
        """Untagged reports already indexed whose automatic topics change: (stored fields, new topics)."""
        if not self.retag_needed:
            return
        skip = set(skip_files)
        for _, stored in reader.iter_docs():
            if not stored.get("topic") and stored.get("file") not in skip:
                auto = self.tagger.topics(stored.get("title") or "", stored.get("body") or "")
                if join_topics(auto) != (stored.get("topic_auto") or ""):
                    self.tagger.tagged += bool(auto)
                    yield stored, auto

    def save(self, gen_dir: Path, generation: int) -> None:
        """Remember the tagger in the generation (atomically), for incremental runs.

        The model's arrays (20 MB with 50 topics) are rewritten only when the
        model changed (issue 5: a small update stays small).
        """
        model = self.tagger.model if self.tagger else None
        model_fp = model.fingerprint() if model is not None else None
        saved = self.saved
        if model is not None and (saved is None or saved.model is None
                                  or saved.model.fingerprint() != model_fp
                                  or not (gen_dir / MODEL_FILE).exists()):
            _write_atomic(gen_dir / MODEL_FILE, lambda fh: np.savez(fh, **model.arrays()))
        meta = {"generation": generation, "fingerprint": self.tagger.fingerprint() if self.tagger else "",
                "model": model_fp, "curated": self.curated, "drift": self.drift}
        _write_atomic(gen_dir / STATE_FILE, lambda fh: fh.write(json.dumps(meta).encode("utf-8")))


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        write(fh)
    os.replace(tmp, path)


class TaggingWriter:
    """Wraps an index writer: a document without curated topics gets automatic ones."""

    def __init__(self, writer, tagger: TopicTagger) -> None:
        self._writer = writer
        self._tagger = tagger

    def add_document(self, **fields) -> None:
        if not fields.get("topic"):
            auto = self._tagger.tag(fields.get("title") or "", fields.get("body") or "")
            if auto:
                fields["topic_auto"] = join_topics(auto)
        self._writer.add_document(**fields)


def count_tagged(reader) -> int:
    """Live reports of an index that carry automatic topics."""
    docs: set[int] = set()
    if "topic_auto" in reader.schema:
        for term in reader.lexicon("topic_auto"):
            docs.update(reader.postings("topic_auto", term).all_ids())
    return sum(1 for d in docs if not reader.is_deleted(d))


# -- counting ------------------------------------------------------------------------

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
    """Every topic of a ``facets.FacetTable`` with its counts, most reports first."""
    counts: dict[str, list[int]] = {}
    for slot, values in enumerate((table.topic, table.topic_auto)):
        if values.values:
            for name, count in zip(values.values, values.counts(table.live)):
                if count:
                    counts.setdefault(name, [0, 0])[slot] += int(count)
    rows = [TopicCount(name, c[0], c[1]) for name, c in counts.items()]
    return tuple(sorted(rows, key=lambda r: (-r.total, r.name.lower(), r.name)))
