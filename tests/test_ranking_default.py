"""The search box's default mode (issue 13 item 8): all words of a short query
first, then, when fewer than a page of reports hold them all, the reports
holding some of them (query.Widened, ranking.tiered)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from searchapp import SearchIndex, query, ranking, reindex

FILLER = " ".join(f"filler{i}" for i in range(40))
REPORTS = {
    # both words, once each, in a long body: the lowest BM25F of the three
    "both": f"{FILLER} pipeline ransomware",
    # one word, three times, in a short body: the highest BM25F
    "pipeline": "pipeline pipeline pipeline leak",
    "ransomware": "ransomware gang",
    "other": "grain harvest",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("default-mode")
    corpus = root / "corpus"
    corpus.mkdir()
    with open(corpus / "docs.jsonl", "w", encoding="utf-8") as out:
        for rid, body in REPORTS.items():
            out.write(json.dumps({"id": rid, "title": f"report {rid}", "body": body, "source": "CISA"}) + "\n")
    reindex(corpus, root / "index", full=True, procs=1)
    with SearchIndex.open(root / "index") as opened:
        yield opened


def _ids(index, text, mode):
    return [rid.split(":", 1)[1] for rid, _ in index.rank(text, mode=mode)]


def test_any_word_ranks_by_bm25f_alone(index):
    assert _ids(index, "pipeline ransomware", "any") == ["pipeline", "ransomware", "both"]


def test_few_strict_matches_come_first_then_the_others_by_bm25f(index):
    assert _ids(index, "pipeline ransomware", "all") == ["both", "pipeline", "ransomware"]
    res = index.search("pipeline ransomware")
    assert [h.id for h in res.hits] == ["docs:both", "docs:pipeline", "docs:ransomware"]
    assert res.total == 3 and res.strict_total == 1 and not res.fallback
    assert res.to_dict()["strict_total"] == 1


def test_mode_every_is_never_widened(index):
    res = index.search("pipeline ransomware", mode="every")
    assert [h.id for h in res.hits] == ["docs:both"] and res.strict_total is None
    assert index.search("pipeline zanzibar", mode="every").total == 0


def test_no_strict_match_is_the_fallback(index):
    res = index.search("pipeline zanzibar")
    assert res.fallback and [h.id for h in res.hits] == ["docs:pipeline", "docs:both"]
    assert res.strict_total == 0


def test_a_page_of_strict_matches_is_not_widened(index, monkeypatch):
    monkeypatch.setattr(query, "FEW_MATCHES", 1)
    assert _ids(index, "pipeline ransomware", "all") == ["both"]


def test_filters_and_exclusions_are_never_widened(index):
    assert _ids(index, "pipeline ransomware -leak", "all") == ["both"]
    assert _ids(index, "pipeline ransomware source:cisa", "all") == ["both"]


def test_tiered_puts_the_first_tier_above_every_other_score():
    scores = np.array([9.0, 0.5, 4.0, 0.0])
    out = ranking.tiered(scores, np.array([False, True, True, False]))
    assert out.tolist() == [9.0, 10.5, 14.0, 0.0]
    same = ranking.tiered(scores, np.zeros(4, dtype=bool))
    assert same.tolist() == scores.tolist()


def test_widened_matches_as_its_loose_query_and_remembers_the_strict_one():
    strict, loose = query.parse("pipeline ransomware"), query.parse("pipeline ransomware", any_word=True)
    widened = query.Widened(loose, strict)
    assert widened.subqueries == [loose] and widened.strict == strict
    assert widened != query.Widened(loose, query.parse("pipeline"))
    assert widened.apply(lambda q: q) == widened
    assert set(query.positive_terms(widened)) == set(query.positive_terms(loose))


@pytest.mark.parametrize("n, minimum", [(1, 1), (3, 3), (4, 1), (39, 1), (40, 2), (59, 2), (60, 3)])
def test_minimum_words_all_up_to_three_then_one_in_twenty(n, minimum):
    assert query.minimum_words(n) == minimum
