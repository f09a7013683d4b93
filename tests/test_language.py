"""The NumPy scoring of py3langid's model gives py3langid's own answers."""

from __future__ import annotations

import numpy as np
import pytest

from searchapp.corpus import language

TEXTS = [
    "The committee held a hearing on the budget request of the federal judiciary for next year.",
    "Le comité a tenu une audience sur la demande budgétaire de la justice fédérale pour l'année prochaine.",
    "Der Ausschuss hielt eine Anhörung zum Haushaltsantrag der Bundesjustiz für das nächste Jahr ab.",
    "Комитет провёл слушания по бюджетному запросу федеральной судебной системы на следующий год.",
    "委員会は来年度の連邦司法の予算要求に関する公聴会を開いた。",
    "ALL IN CAPITALS: OIL PRICES ROSE SHARPLY ON TUESDAY AFTER THE ANNOUNCEMENT",
    "x",
    "",
    "1234 5678 !!! ???",
    "Emoji 🙂 and a lone surrogate \ud800 in the middle of English words about the weather.",
]


@pytest.fixture(scope="module")
def reference():
    """py3langid's own identifier, loaded by py3langid (its DFA walk in Python)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.mark.parametrize("text", TEXTS)
def test_classify_is_py3langids(reference, text: str) -> None:
    want_language, want_probability = reference.classify(text)
    got_language, got_probability = language._model().classify(text)
    assert got_language == want_language
    assert got_probability == pytest.approx(want_probability, abs=1e-5)


@pytest.mark.parametrize("text", TEXTS)
def test_feature_counts_are_the_dfa_walks(reference, text: str) -> None:
    from py3langid.langid import visit_counts

    data = language._encode(text)
    want = visit_counts(reference.tk_nextmove, reference._rowbase, reference.tk_output, data) or {}
    got = language._feature_counts(language._model(), data)
    assert (dict(zip(*(a.tolist() for a in got))) if got is not None else {}) == dict(want)


def test_window_is_the_automatons_depth() -> None:
    """Every state is reached from the start state within WINDOW bytes, and
    some state needs all of them: the breadth-first depth of the automaton."""
    model = language._model()
    seen = np.zeros(len(model.rowbase), dtype=bool)
    seen[0] = True
    frontier, depth = np.array([0]), 0
    while True:
        reached = np.zeros_like(seen)
        reached[model.nextmove[model.rowbase[frontier][:, None] + np.arange(256)].ravel()] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not len(frontier):
            break
        seen[frontier] = True
        depth += 1
    assert seen.all()
    assert depth == language.WINDOW


def test_detect_needs_letters() -> None:
    assert language.detect_language("12 34 " * 100) is None
    assert language.detect_language(TEXTS[0]) == "en"
