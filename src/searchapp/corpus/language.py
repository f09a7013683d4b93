"""The language of a text: py3langid's shipped model, scored with NumPy.

py3langid finds its byte n-gram features by walking a DFA over the text's
UTF-8 bytes one byte at a time in Python (``visit_counts``): 0.2-1 ms a
report, the largest single cost of a reindex after the language facet came
(issue 12). The DFA is an Aho-Corasick automaton: the state after a byte is
that of the longest suffix of the text read so far that is a prefix of a
feature, so it depends on the last :data:`WINDOW` bytes only (the automaton's
depth). :func:`_feature_counts` therefore computes every position's state at
once, walking all the windows side by side in :data:`WINDOW` vector steps;
the counts, and so the scores, are py3langid's own (``tests/test_language.py``
compares them with ``LanguageIdentifier.classify``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

import numpy as np

__all__ = ["WINDOW", "detect_language"]

# Characters of the body the language is detected from: on the benchmark
# corpus 1,000 agree with 2,000 on 99.9% of reports.
SAMPLE = 1000
MIN_LETTERS = 40
MIN_PROBABILITY = 0.5
# The depth of py3langid's automaton (its longest feature, in bytes);
# tests/test_language.py computes it from the model.
WINDOW = 6


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or ``None`` if it is too short to tell."""
    sample = text[:SAMPLE]
    if next(islice(filter(str.isalpha, sample), MIN_LETTERS - 1, None), None) is None:
        return None  # fewer letters than that
    language, probability = _model().classify(sample)
    return language if probability >= MIN_PROBABILITY else None


@dataclass(frozen=True)
class _Model:
    """The arrays of py3langid's model (see ``py3langid.langid.LanguageIdentifier``)."""

    nextmove: np.ndarray  # row * 256 + byte -> next state
    rowbase: np.ndarray  # state -> its row * 256
    output: np.ndarray  # state -> the feature it completes, or -1
    # feature x class log-probabilities: shipped as float16, kept as float32
    # (NumPy's promotion of each report's rows was half of the scoring)
    ptc: np.ndarray
    pc: np.ndarray  # class log priors
    classes: list[str]
    aliases: list[tuple[int, int]]  # (first, duplicate) columns of one label

    def classify(self, text: str) -> tuple[str, float]:
        """(language, probability), as ``LanguageIdentifier(norm_probs=True).classify``."""
        data = _encode(text)
        features = _feature_counts(self, data)
        if features is None:  # py3langid's uniform scores
            scores = np.zeros(len(self.classes), dtype=np.float32)
        else:
            found, counts = features
            scores = np.log1p(counts.astype(np.float32)) @ self.ptc[found] + self.pc
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for first, duplicate in self.aliases:
            scores[first] += scores[duplicate]
            scores[duplicate] = 0.0
        best = int(scores.argmax())
        return self.classes[best], float(scores[best])


def _encode(text: str) -> bytes:
    """The bytes py3langid scores (``LanguageIdentifier._encode``)."""
    import unicodedata

    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _feature_counts(model: _Model, data: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """(feature indexes, how often each occurs) in ``data``, or None for none.

    ``states[i]`` ends as the state after byte ``i``: the walk from the start
    state over bytes ``i - WINDOW + 1 .. i`` (fewer at the start of the text).
    """
    text = np.frombuffer(data, dtype=np.uint8)
    size = len(text)
    states = np.zeros(size, dtype=np.intp)
    for back in range(min(WINDOW, size) - 1, -1, -1):  # byte i - back into state i
        states[back:] = model.nextmove[model.rowbase[states[back:]] + text[:size - back]]
    features = model.output[states]
    features = features[features >= 0]
    if not len(features):
        return None
    return np.unique(features, return_counts=True)


@lru_cache(maxsize=1)
def _model() -> _Model:
    """py3langid's shipped model, loaded once per process, in memory.

    py3langid's own loader unpacks the model into a temporary file; a worker
    must not write outside the index, so the same arrays are read here from
    an in-memory copy (the one place that knows py3langid's model layout).
    """
    import io
    import lzma

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    with lzma.open(Path(MODEL_DIR) / MODEL_FILE) as source:
        unpacked = io.BytesIO(source.read())
    with np.load(unpacked, allow_pickle=False) as data:
        classes = data["classes"].tolist()
        first: dict[str, int] = {}
        aliases = [(first[c], i) for i, c in enumerate(classes) if first.setdefault(c, i) != i]
        return _Model(
            nextmove=np.asarray(data["nextmove"]), rowbase=data["nextmove_row"].astype(np.intp) << 8,
            output=np.asarray(data["out_feat"]), ptc=data["ptc"].astype(np.float32), pc=np.asarray(data["pc"]),
            classes=classes, aliases=aliases)
