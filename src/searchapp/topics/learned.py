"""The learned model: topics learned from the curated reports of the corpus.

One linear SVM per topic (one-vs-rest) over TF-IDF of the index's stemmed
terms, trained on the curated reports, tags others with the corpus's own
vocabulary. Only confident predictions are kept: each topic's decision
threshold is the one that maximised F1 in stratified cross-validation on the
curated reports among those with a cross-validated precision of at least
``fitting.MIN_CV_PRECISION``, and a topic that cannot reach that precision
with an F1 of ``fitting.MIN_CV_F1`` is never predicted (see :mod:`.fitting`).

Why scikit-learn's ``LinearSVC`` (liblinear) and not NLTK's classifiers:
linear SVMs are the best-documented learners for this task (Joachims 1998,
Dumais et al. 1998: 86-92 breakeven on Reuters ModApte, against 72-81 for
naive Bayes, the strongest of NLTK's own), and liblinear fits thousands of
sparse documents in well under a second per topic. The features are
scikit-learn's own ``TfidfVectorizer`` (sublinear tf, smoothed idf, L2 norm)
over the index's analysis. scikit-learn is used for fitting only: a fitted
model is kept as plain NumPy arrays (:class:`LearnedModel`), so tagging needs
NumPy alone and the model cached in an index generation does not depend on
scikit-learn's pickles. ``benchmarks/topics_bench.py`` measures the learner
on Reuters-21578 ModApte: micro-F1 92.8 on the ten most frequent categories
and 87.1 on all 90 (92.0 and 87.0 breakeven for Dumais et al.'s linear SVM).
The precision floor costs two rare categories ("gas", "silver": 87.5 on all
90 with a floor of 0.7) and buys the precision that ``benchmarks/topics_mixed.py``
measures on the CISA advisories (0.82 instead of 0.73).

Reports without topics are untagged, not off-topic, so they are never used
as negative examples. Everything is deterministic: training reports are
sorted by id, the vocabulary by term, and liblinear and the folds are
seeded, so the same corpus gets the same topics whether it was indexed in
full or incrementally.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..analysis import analyze as terms
from .fitting import _fit_all
from .names import TopicVocabulary, labels_of, topic_key

MIN_TRAINING_REPORTS = 20  # curated reports before anything is learned
MIN_LABEL_REPORTS = 5  # curated reports a topic needs to be learned (one per fold)
MAX_LEARNED_TOPICS = 5
MAX_FEATURES = 100_000
# issue 5: what learning may cost. Past these the model gains little and the
# cost grows with the corpus (a 100,000-report corpus with 50,811 curated
# reports and 310 topics on ten or more of them was still learning after 7
# minutes; bounded, 11 s). The sample is the curated reports whose ids hash
# lowest, so it is the same whatever order the reports come in.
MAX_TRAINING_REPORTS = 10_000
MAX_LEARNED_LABELS = 50  # the most frequent curated topics of the sample
MAX_TRAINING_CHARS = 20_000  # of a report's body
TITLE_WEIGHT = 2  # a title word counts as two body words


def training_key(fields: dict) -> str:
    """What the model learns of a curated report (a document's or its stored
    fields): the same key when a rewrite changed nothing the model sees."""
    labels = sorted({topic_key(t) for t in labels_of(fields.get("topic", "").split(","))})
    seen = [fields.get("title") or "", (fields.get("body") or "")[:MAX_TRAINING_CHARS], labels,
            fields.get("source") or ""]
    return hashlib.blake2b(json.dumps(seen).encode("utf-8"), digest_size=12).hexdigest()


def _counts(title: list[str], body: list[str]) -> Counter[str]:
    counts = Counter(body)
    for term in title:
        counts[term] += TITLE_WEIGHT
    return counts


def _report_terms(report: tuple[str, str]) -> list[str]:
    """The terms of a (title, body) pair as the vectorizer counts them: title terms TITLE_WEIGHT times."""
    title, body = report
    return terms(body) + terms(title) * TITLE_WEIGHT


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=_report_terms, sublinear_tf=True, max_features=MAX_FEATURES,
                           dtype=np.float64)


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
        return self.scores_terms(terms(title), terms(body))

    def scores_terms(self, title: list[str], body: list[str]) -> np.ndarray:
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
        return self.predict_terms(terms(title), terms(body))

    def predict_terms(self, title: list[str], body: list[str]) -> tuple[str, ...]:
        """:meth:`predict` of a report already analysed (``analysis.analyze``)."""
        margin = self.scores_terms(title, body) - self.threshold
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
    hashes) and analyses only those, when fitting. Every curated report, in
    the sample or not, is counted in :attr:`vocabulary` (its source's topics).
    """

    def __init__(self) -> None:
        self._sample: list[tuple[int, str, str, str, tuple[str, ...]]] = []  # a heap on -hash
        self.seen = 0
        self.vocabulary = TopicVocabulary()

    def __len__(self) -> int:
        """Labelled reports added (the sample may hold fewer)."""
        return self.seen

    @property
    def sampled(self) -> int:
        """Reports the model will be fitted on."""
        return len(self._sample)

    def add(self, report_id: str, title: str, body: str, labels: Sequence[str], source: str = "") -> None:
        """One training report; empty ``labels`` make a negative example for every label."""
        self.seen += 1
        if labels:
            self.vocabulary.add(source, labels)
        key = -int.from_bytes(hashlib.blake2b(report_id.encode("utf-8"), digest_size=8).digest(), "big")
        item = (key, report_id, title, body[:MAX_TRAINING_CHARS], tuple(sorted(set(labels))))
        if len(self._sample) < MAX_TRAINING_REPORTS:
            heapq.heappush(self._sample, item)
        elif item > self._sample[0]:
            heapq.heapreplace(self._sample, item)

    def sample_texts(self) -> dict[str, tuple[str, str]]:
        """Report id -> (title, body as kept) of the reports in the sample."""
        return {item[1]: (item[2], item[3]) for item in self._sample}

    def fit(self, procs: int = 1) -> LearnedModel | None:
        """The model, or None when there is too little to learn from.

        Labels that differ only by case or spacing are learned as one, in
        their most common spelling.

        :param procs: processes fitting topics side by side (the model is the same).
        """
        examples = sorted(self._sample, key=lambda e: e[1])
        n = len(examples)
        spelled = [set(self.vocabulary.spell_all(e[4])) for e in examples]
        per_label = Counter(label for labels in spelled for label in labels)
        eligible = [l for l, c in per_label.items() if c >= MIN_LABEL_REPORTS and n - c >= 2]
        labels = sorted(sorted(eligible, key=lambda l: (-per_label[l], l))[:MAX_LEARNED_LABELS])
        if n < MIN_TRAINING_REPORTS or not labels:
            return None
        vectorizer = _vectorizer()
        X = vectorizer.fit_transform([(e[2], e[3]) for e in examples])
        targets = [np.array([label in s for s in spelled]) for label in labels]
        rows = _fit_all(X, targets, procs)
        kept = [(label, row) for label, row in zip(labels, rows) if row is not None]
        if not kept:
            return None
        return LearnedModel(tuple(label for label, _ in kept),
                            tuple(vectorizer.get_feature_names_out().tolist()),
                            vectorizer.idf_.astype(np.float32),
                            np.array([r[0] for _, r in kept], dtype=np.float32),
                            np.array([r[1] for _, r in kept], dtype=np.float32),
                            np.array([r[2] for _, r in kept], dtype=np.float32))
