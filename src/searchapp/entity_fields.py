"""People, organisations and places as index fields (issue 15).

Each kind has a curated field (``person``, ``org``, ``place``: the report's own
``people``, ``orgs``, ``places``) and an automatic one (``person_auto``, ...:
extracted by ``searchapp.entities``), kept apart like ``topic`` and
``topic_auto``. :func:`curated_fields` needs no model; :class:`EntityWriter`
adds the automatic ones in batches where the indexer parses (in each worker
process), when the reindex asks for them (the ``entities`` setting: spaCy's
NER costs 13-30 ms of CPU a report of the mixed benchmark corpus, three to
five times the rest of a full reindex) and ``entities.extractor_status()`` says extraction
can run. Its cost is bounded by ``entities.MAX_CHARS`` of each body. Places
alone can come from ``entities.gazetteer`` instead, with no model, for about
0.5 ms a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import entities
from .errors import ConfigError
from .schema import join_topics

__all__ = ["BATCH", "EntityWriter", "curated_fields", "entity_fields"]

BATCH = entities.ner.BATCH  # reports a worker hands the extractor at once (one model batch)
_KINDS = (("person", "people"), ("org", "orgs"), ("place", "places"))


def entity_fields(found: entities.ReportEntities) -> dict[str, str]:
    """The six fields of one report's entities (empty ones left out)."""
    out = {}
    for field, kind in _KINDS:
        values = getattr(found, kind)
        for name, curated in ((field, True), (f"{field}_auto", False)):
            joined = join_topics(e.name for e in values if e.curated is curated)
            if joined:
                out[name] = joined
    return out


# The keys of a report's extra fields its curated entities come from.
_CURATED_KEYS = frozenset(entities.CURATED_KEYS.values()) | {"dateline"}


def curated_fields(extra: Mapping[str, Any] | None) -> dict[str, str]:
    """The fields of the entities a report carries itself (and its dateline's place)."""
    if not extra or _CURATED_KEYS.isdisjoint(extra):
        return {}  # most reports: nothing to normalise (a tenth of a millisecond each)
    return entity_fields(entities.extract_entities("", "", extra, extract=False))


def check_available(wanted: bool) -> None:
    """:raises ConfigError: automatic entities are asked for, and spaCy or its model is missing."""
    if wanted:
        status = entities.extractor_status()
        if not status.available:
            raise ConfigError(f"entity extraction cannot run: {status.reason}")


class EntityWriter:
    """Wraps an index writer: documents are held in batches of :data:`BATCH`,
    given their automatic entities, then written in order. Call :meth:`flush`
    before the writer commits.

    A report's entities depend on that report alone, never on the batch or
    the worker it falls in: a person's short form is merged with a full name
    of the same report only. Across reports the rule needs the whole
    collection ("Belkov" -> "Andrii Belkov" when that is the collection's
    only full name ending so), which a worker never sees:
    ``entities.merge_short_forms`` over a facet's person values gives that map.
    """

    def __init__(self, writer, batch: int = BATCH, extract: bool = False,
                 gazetteer: bool = False, cache: entities.MentionCache | None = None) -> None:
        """:param extract: spaCy's people, organisations and places (when it can run).
        :param gazetteer: places by name look-up instead (no model; about 0.5 ms
            of CPU a report), with or without ``extract``.
        :param cache: the NER's mentions kept by text, so that only new texts are read."""
        self._writer = writer
        self._batch = batch
        self._held: list[dict] = []
        self._extract = extract and entities.extractor_status().available
        self._gazetteer = gazetteer
        self._cache = cache

    def add_document(self, **fields) -> None:
        if not (self._extract or self._gazetteer):
            self._writer.add_document(**fields)
            return
        self._held.append(fields)
        if len(self._held) >= self._batch:
            self.flush()

    def flush(self) -> None:
        held, self._held = self._held, []
        if not held:
            return
        found = entities.extract_batch(
            ((f.get("title") or "", f.get("body") or "", (f.get("meta") or {}).get("extra") or {})
             for f in held), extract=self._extract, gazetteer=self._gazetteer, cache=self._cache)
        for fields, report_entities in zip(held, found):
            for name, _ in _KINDS:
                fields.pop(name, None)
                fields.pop(f"{name}_auto", None)
            fields.update(entity_fields(report_entities))
            self._writer.add_document(**fields)

    def __getattr__(self, name: str):
        return getattr(self._writer, name)
