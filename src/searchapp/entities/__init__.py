"""People, organisations and places of a report: curated ones kept, the rest
extracted (spaCy NER, optional) and marked automatic, all normalised.

Curated entities come from the report's own ``places``, ``people`` and
``orgs`` (JSON Lines fields, front matter keys; Reuters writes them as
lower-case codes such as ``west-germany`` or ``james-baker``). A wire story's
``dateline`` ("HONG KONG, April 8 -") gives an automatic place, with or
without the extractor. Extraction reads
the title and the first :data:`MAX_CHARS` characters of the body, so its cost
per report is bounded.

>>> found = extract_entities("", "", {"places": ["usa", "ussr"], "orgs": ["opec"]}, extract=False)
>>> [(p.name, p.country, p.curated) for p in found.places]
[('Soviet Union', 'Russia', True), ('United States', 'United States', True)]
>>> found.orgs[0].name
'OPEC'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from searchapp.entities.cache import MentionCache
from searchapp.entities.gazetteer import find_places
from searchapp.entities.names import clean_name, clean_person, curated_name, merge_short_forms
from searchapp.entities.ner import BATCH, ExtractorStatus, RawEntity, extractor_status, find_entities
from searchapp.entities.places import Place, resolve_dateline, resolve_place

__all__ = [
    "MAX_CHARS",
    "Entity",
    "MentionCache",
    "ExtractorStatus",
    "Place",
    "ReportEntities",
    "extract_batch",
    "extract_entities",
    "extractor_status",
    "merge_short_forms",
    "resolve_place",
]

# Of the body read by the extractor: the NER's cost grows with the characters
# it reads (20-30 ms of CPU per 1,000 on the loaded bench machine). On ModApte
# (benchmarks/entities_bench.py) a news lead names the places: 600 characters
# give countries P/R 0.939/0.942 (5,000: 0.907/0.957) and people recall 0.739
# (5,000: 0.872); but the seed report names its last person at character
# 2,481 of 3,007, and a report's people are what the bound loses first.
MAX_CHARS = 3000
CURATED_KEYS = {"person": "people", "org": "orgs", "place": "places"}
# Reuters' curated organisation codes that are not plain acronyms.
_ORG_CODES = {
    "worldbank": "World Bank", "adb-africa": "African Development Bank",
    "adb-asia": "Asian Development Bank", "ico-coffee": "International Coffee Organization",
    "ico-islam": "Organisation of the Islamic Conference",
    "iwc-whale": "International Whaling Commission", "iwc-wheat": "International Wheat Council",
    "comecon": "Comecon", "euratom": "Euratom",
}
_ACRONYM_MAX = 8  # a lower-case curated org tag this short is an acronym ("opec")


@dataclass(frozen=True, order=True)
class Entity:
    """One person, organisation or place of a report.

    ``curated`` is True when the report itself names it, False when it was
    extracted. ``country`` is set for places whose country is known.
    ``mentions`` counts the times it was found (a curated tag and a dateline
    count once each).
    """

    name: str
    curated: bool
    country: str | None = None
    mentions: int = 1

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "curated": self.curated,
                                   "mentions": self.mentions}
        if self.country is not None:
            data["country"] = self.country
        return data


@dataclass(frozen=True)
class ReportEntities:
    """The entities of one report, each kind sorted by name."""

    people: tuple[Entity, ...] = ()
    orgs: tuple[Entity, ...] = ()
    places: tuple[Entity, ...] = ()

    def countries(self, min_mentions: int = 1) -> frozenset[str]:
        """The countries of the report's places: curated ones, and those whose
        places are mentioned at least ``min_mentions`` times in all."""
        counts: dict[str, int] = {}
        for place in self.places:
            if place.country:
                more = min_mentions if place.curated else place.mentions
                counts[place.country] = counts.get(place.country, 0) + more
        return frozenset(c for c, n in counts.items() if n >= min_mentions)

    def to_dict(self) -> dict[str, list[dict[str, object]]]:
        return {kind: [e.to_dict() for e in getattr(self, kind)]
                for kind in ("people", "orgs", "places")}


def extract_entities(title: str, body: str, curated: Mapping[str, object] | None = None,
                     extract: bool = True) -> ReportEntities:
    """The normalised entities of one report.

    :param curated: the report's own fields (``places``, ``people``, ``orgs``:
        a list of names or one comma-separated string); other keys are ignored.
    :param extract: False, or extraction not available, gives the curated ones only.
    """
    return extract_batch([(title, body, curated or {})], extract=extract)[0]


def extract_batch(reports: Iterable[tuple[str, str, Mapping[str, object]]],
                  extract: bool = True, batch_size: int = BATCH,
                  max_chars: int | None = None, gazetteer: bool = False,
                  cache: MentionCache | None = None) -> list[ReportEntities]:
    """:func:`extract_entities` over many reports, the NER batched (for a worker).

    :param max_chars: of each body read by the extractor (the title is read
        whole); None: :data:`MAX_CHARS`.
    :param gazetteer: places by name look-up (:mod:`.gazetteer`) instead of the
        NER's places; with ``extract`` False, the only automatic entities.
    :param cache: the NER's mentions kept by text (:mod:`.cache`): only the
        texts it does not hold are read by the model.
    """
    items = list(reports)
    bound = MAX_CHARS if max_chars is None else max_chars
    texts = [_bounded_text(title, body, bound) for title, body, _ in items]
    if extract and extractor_status().available:
        mentions: Iterable[list[RawEntity]] = _mentions_of(texts, batch_size, cache)
    else:
        mentions = ([] for _ in items)
    if gazetteer:
        mentions = ([m for m in found if m.kind != "place"]
                    + [RawEntity("place", name) for name in find_places(text)]
                    for found, text in zip(mentions, texts))
    return [_combine(curated, found) for (_, _, curated), found in zip(items, mentions)]


def _mentions_of(texts: list[str], batch_size: int, cache: MentionCache | None) -> list[list[RawEntity]]:
    if cache is None:
        return list(find_entities(texts, batch_size=batch_size))
    keys = [cache.key(text) for text in texts]
    known = cache.get_many(list(dict.fromkeys(keys)))
    missing = {key: text for key, text in zip(keys, texts) if key not in known}
    found = dict(zip(missing, find_entities(missing.values(), batch_size=batch_size))) if missing else {}
    cache.put_many(found)
    known.update(found)
    return [known[key] for key in keys]


def _bounded_text(title: str, body: str, max_chars: int) -> str:
    head = body[:max_chars]
    if len(body) > max_chars and " " in head:
        head = head[: head.rindex(" ")]  # never half a word
    # An all-capitals title (wire headlines) is read as names by the model.
    return head if title.isupper() or not title else f"{title}\n\n{head}"


def _curated_values(curated: Mapping[str, object], key: str) -> list[str]:
    value = curated.get(key)
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if not isinstance(value, Sequence):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def _dateline_place(fields: Mapping[str, object]) -> list[Entity]:
    """The place a wire story was filed from (Reuters' ``dateline``)."""
    dateline = fields.get("dateline")
    place = resolve_dateline(dateline) if isinstance(dateline, str) else None
    return [Entity(place.name, False, place.country)] if place else []


def _combine(curated: Mapping[str, object], found: list[RawEntity]) -> ReportEntities:
    mentions = {kind: [m.text for m in found if m.kind == kind] for kind in CURATED_KEYS}
    tags = {kind: _curated_values(curated, key) for kind, key in CURATED_KEYS.items()}
    return ReportEntities(
        people=_people(tags["person"], mentions["person"]),
        orgs=_orgs(tags["org"], mentions["org"]),
        places=_places(tags["place"], mentions["place"], _dateline_place(curated)),
    )


def _merge(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    """One entity per name, its mentions summed; curated if any of them is."""
    best: dict[str, Entity] = {}
    for e in entities:
        seen = best.get(e.name)
        if seen is not None:
            e = replace(e, curated=e.curated or seen.curated, country=e.country or seen.country,
                        mentions=e.mentions + seen.mentions)
        best[e.name] = e
    return tuple(sorted(best.values()))


def _people(tags: list[str], mentions: list[str]) -> tuple[Entity, ...]:
    named = [Entity(n, True) for n in map(curated_name, tags) if n]
    named += [Entity(n, False) for n in map(clean_person, mentions) if n]
    full = merge_short_forms({e.name for e in named})
    return _merge(replace(e, name=full.get(e.name, e.name)) for e in named)


def _orgs(tags: list[str], mentions: list[str]) -> tuple[Entity, ...]:
    named = [_ORG_CODES.get(t.lower()) or curated_name(t, _ACRONYM_MAX) for t in tags]
    entities = [Entity(n, True) for n in named if n]
    entities += [Entity(n, False) for n in map(clean_name, mentions) if n]
    return _merge(entities)


def _places(tags: list[str], mentions: list[str], filed: list[Entity]) -> tuple[Entity, ...]:
    entities = [_place(t, True, curated_name(t)) for t in tags] + filed
    entities += [_place(m, False, clean_name(m)) for m in mentions]
    return _merge(e for e in entities if e is not None)


def _place(text: str, curated: bool, fallback: str | None) -> Entity | None:
    place = resolve_place(text)
    if place is not None:
        return Entity(place.name, curated, place.country)
    return Entity(fallback, curated) if fallback else None
