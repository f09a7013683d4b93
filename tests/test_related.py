"""More like this (engine/related.py): telling words, BM25F, the same source or topic first when close."""

import json

import pytest

from searchapp import SearchIndex, reindex
from searchapp.engine.related import prefer_close


def _corpus(tmp_path, records):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "docs.jsonl", "w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r) + "\n")
    reindex(corpus, tmp_path / "index", full=True, procs=1)
    return SearchIndex.open(tmp_path / "index")


FILLER = [{"id": f"f{i}", "title": f"Weather note {i}", "body": f"rain and wind today number {i} in the city",
           "source": "Wire"} for i in range(12)]


def test_related_reports_share_the_telling_words_not_the_common_ones(tmp_path):
    records = FILLER + [
        {"id": "seed", "title": "Parental rights in custody law", "source": "CRS",
         "body": "The court weighed parental rights, custody and guardianship under state law, in the city."},
        {"id": "near", "title": "Custody and guardianship", "source": "Wire",
         "body": "A ruling on custody, guardianship and parental rights."},
        {"id": "city", "title": "City rain", "source": "Wire", "body": "The city had rain and wind in the court."},
    ]
    with _corpus(tmp_path, records) as index:
        hits = index.more_like_this("docs:seed", 3)
    assert [h.id for h in hits][:2] == ["docs:near", "docs:city"]


def test_close_scores_prefer_the_same_source_then_the_score_decides():
    seed = {"source": "CRS", "topic": "law"}
    candidates = [({"id": "a", "source": "news"}, 1.0), ({"id": "b", "source": "CRS"}, 0.95),
                  ({"id": "c", "source": "news", "topic": "Law,trade"}, 0.93), ({"id": "d", "source": "CRS"}, 0.5)]
    assert [f["id"] for f, _ in prefer_close(seed, candidates)] == ["b", "c", "a", "d"]
    assert [s for _, s in prefer_close(seed, candidates)] == [0.95, 0.93, 1.0, 0.5]


def test_an_unknown_report_has_no_related_reports(tmp_path):
    from searchapp.errors import ReportNotFoundError

    with _corpus(tmp_path, FILLER) as index, pytest.raises(ReportNotFoundError):
        index.more_like_this("docs:nope", 5)
