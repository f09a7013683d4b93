import subprocess
import sys

import pytest

from whoosh.formats import Positions

from searchapp.analysis import ANALYZER, STOPWORDS, IndexPositions, analyze, stem
from searchapp.corpus import discover, parse_file
from searchapp.report import Report

from .conftest import DATA_CORPUS, SEED_CORPUS


@pytest.mark.parametrize(
    "word, expected",
    [("corrupt", "corrupt"), ("corruption", "corrupt"), ("corrupted", "corrupt"),
     ("Treason", "treason"), ("Russia's", "russia"), ("Montréal", "montreal")],
)
def test_stem_folds_case_accents_and_suffixes(word, expected):
    assert stem(word) == expected


def test_hyphenated_names_are_indexed_by_their_parts():
    assert analyze("a court in Rostov-on-Don") == ["court", "rostov", "don"]
    assert analyze("Zvezda-Strela plant") == ["zvezda", "strela", "plant"]


def test_numbers_and_years_are_terms():
    assert analyze("In 2007, 70% of 5.93 mln") == ["2007", "70", "5.93", "mln"]


def test_offsets_point_at_the_words_as_written():
    text = "  The Kremlin’s purges"
    tokens = [(t.text, text[t.startchar:t.endchar]) for t in ANALYZER(text, chars=True)]
    assert tokens == [("kremlin", "Kremlin’s"), ("purg", "purges")]


def test_positions_skip_stopwords_so_phrases_still_match():
    positions = [(t.text, t.pos) for t in ANALYZER("Ministry of the Defence", positions=True)]
    assert positions == [("ministri", 0), ("defens", 1)]


def _texts() -> list[str]:
    texts = ["", "the of and", "The first word a stopword", "İstanbul Montréal Russia’s 155,221 bags; the DEFENCE of it",
             "of Belkov's arrest, Belkov's trial", "ﬁnance naïve café " * 3]
    for corpus in (DATA_CORPUS, SEED_CORPUS):
        files, _ = discover(corpus)
        for cf in files:
            texts += [t for r in parse_file(cf) if isinstance(r, Report) for t in (r.title, r.body)]
    return texts


def test_analyze_and_the_index_postings_are_whooshs_own_chain():
    # analyze() and IndexPositions skip Whoosh's token objects (issue 5); they
    # must give exactly the terms, positions and posting bytes of the chain.
    whoosh_positions, ours = Positions(), IndexPositions()
    for text in _texts():
        assert analyze(text) == [t.text for t in ANALYZER(text)], text
        assert list(ours.word_values(text, ANALYZER)) == list(whoosh_positions.word_values(text, ANALYZER)), text


def test_stopwords_are_shipped_and_keep_names():
    assert {"the", "of", "and"} <= STOPWORDS
    assert "don" not in STOPWORDS and "won" not in STOPWORDS


def test_analysis_needs_no_nltk_data_download(tmp_path):
    # With NLTK_DATA pointing at an empty folder, analysis must still work.
    code = "from searchapp.analysis import analyze; print(analyze('corrupted officials'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"NLTK_DATA": str(tmp_path), "PATH": "", "PYTHONPATH": ":".join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['corrupt', 'offici']"


def test_core_never_imports_flask_or_click():
    code = ("import sys, searchapp, searchapp.search, searchapp.indexer; "
            "print(sorted(m for m in ('flask', 'click') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": ":".join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_capital_stopwords_beside_lower_case_words_are_acronyms_and_indexed():
    from searchapp.analysis import ANALYZER, analyze

    assert analyze("The WHO said IT staff") == ["who", "said", "it", "staff"]
    assert analyze("who said it") == ["said"]
    assert analyze("WHO SAYS IT IS") == ["say"]  # a headline in capitals: plain stopwords
    assert analyze("oil AND gas") == ["oil", "gas"]  # an operator is never an acronym
    # the query side: a query word alone is kept when written in capitals
    assert [t.text for t in ANALYZER("WHO")] == ["who"] and [t.text for t in ANALYZER("who")] == []
    # positions as the index's: stopwords removed, acronyms counted
    assert [(t.text, t.pos) for t in ANALYZER("The WHO and IT staff", positions=True)] == \
        [("who", 1), ("it", 2), ("staff", 3)]


def test_an_acronym_is_marked_only_in_capitals():
    from searchapp.highlight import highlight_all

    assert highlight_all("The WHO said who knows", frozenset({"who"})) == "The <mark>WHO</mark> said who knows"
