"""Entity index fields: the same documents whatever the batches they are extracted in."""

from __future__ import annotations

import pytest

from searchapp import entity_fields
from searchapp.entities import extractor_status

needs_model = pytest.mark.skipif(not extractor_status().available,
                                 reason=extractor_status().reason)

# "Belkov" alone in one report, "Andrii Belkov" in another: with the old
# batch-wide merge the first report's person depended on whether both fell in
# one batch.
REPORTS = [
    {"id": "a", "title": "", "body": "Andrii Belkov, a lawyer, met Serhiy Shoigu in Rostov-on-Don."},
    {"id": "b", "title": "", "body": "Prosecutors said Belkov later left Russia for Ukraine."},
    {"id": "c", "title": "", "body": "Yevhen Smirnov said nothing. Smirnov emphasized the delay."},
    {"id": "d", "title": "", "body": "", "meta": {"extra": {"places": ["uk"], "people": ["james-baker"]}}},
]


class ListWriter:
    def __init__(self) -> None:
        self.docs: list[dict] = []

    def add_document(self, **fields) -> None:
        self.docs.append(fields)


def written(batch: int) -> list[dict]:
    sink = ListWriter()
    writer = entity_fields.EntityWriter(sink, batch=batch, extract=True)
    for report in REPORTS:
        writer.add_document(**report)
    writer.flush()
    return sink.docs


@needs_model
def test_documents_do_not_depend_on_batch_boundaries():
    one, all_at_once = written(1), written(64)
    assert one == all_at_once == written(3)
    assert [d["id"] for d in one] == ["a", "b", "c", "d"]
    assert one[0]["person_auto"] == "Andrii Belkov,Serhiy Shoigu"
    assert one[1]["person_auto"] == "Belkov"  # another report's full name is not this report's
    assert one[2]["person_auto"] == "Yevhen Smirnov"  # merged within the report
    assert one[3]["person"] == "James Baker" and one[3]["place"] == "United Kingdom"


def test_without_extraction_documents_pass_through_in_order():
    sink = ListWriter()
    writer = entity_fields.EntityWriter(sink, batch=2, extract=False)
    for report in REPORTS:
        writer.add_document(**report)
    writer.flush()
    assert sink.docs == REPORTS


def test_gazetteer_places_without_the_model_whatever_the_batches():
    def places(batch: int) -> list[str | None]:
        sink = ListWriter()
        writer = entity_fields.EntityWriter(sink, batch=batch, gazetteer=True)
        for report in REPORTS:
            writer.add_document(**report)
        writer.flush()
        return [d.get("place_auto") for d in sink.docs]

    assert places(1) == places(64) == ["Rostov-on-Don", "Russia,Ukraine", None, None]


@pytest.mark.parametrize("extra", [None, {}, {"url": "x", "line": 3}, {"people": ["Andrii Belkov"]},
                                   {"orgs": "NATO, UN"}, {"dateline": "HONG KONG, April 8 -"}, {"places": []}])
def test_curated_fields_are_the_curated_entities(extra):
    """The short cut for extra fields without entities gives what extraction gives."""
    from searchapp import entities

    want = entity_fields.entity_fields(entities.extract_entities("", "", extra or {}, extract=False))
    assert entity_fields.curated_fields(extra) == want
    assert bool(want) == bool(extra and any(extra.get(k) for k in ("people", "orgs", "dateline")))
