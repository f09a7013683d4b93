"""The NLTK analysis chain Whoosh indexes and queries with.

Whoosh pickles the schema, analyzers included, into the index: everything here
lives at module level under stable names. Changing what the chain produces
means bumping ``schema.SCHEMA_VERSION``.

>>> [t.text for t in ANALYZER("The corrupted officials of Rostov-on-Don, 2007")]
['corrupt', 'offici', 'rostov', 'don', '2007']
>>> [(t.text, t.startchar, t.endchar) for t in ANALYZER("Belkov's arrest", chars=True)]
[('belkov', 0, 8), ('arrest', 9, 15)]

A stopword written in capitals among lower-case words is an acronym and kept
(the WHO, IT staff, the US), not in a title all in capitals:

>>> analyze("The WHO and IT staff in the US"), analyze("WHO SAYS IT IS")
(['who', 'it', 'staff', 'us'], ['say'])
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache
from importlib import resources

from whoosh.analysis import Filter, LowercaseFilter, StopFilter, Tokenizer
from whoosh.analysis.acore import Token
from whoosh.formats import Positions

from .engine.whoosh_internals import encode_positions
from .nltk_import import RegexpTokenizer, SnowballStemmer, redos

# Numbers with decimal or thousands separators stay whole (5.93, 155,221);
# words keep inner apostrophes (Russia's); hyphens split, so "Rostov-on-Don"
# is indexed as its parts and queried as a phrase of them.
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|\w+(?:['\u2019]\w+)*"


def _load_stopwords() -> frozenset[str]:
    text = resources.files("searchapp").joinpath("stopwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


# Issue 13 item 7, measured on the indexes and queries of benchmarks/relevance.py
# (mean nDCG@10 of the any-word mode on the questions' words in lower case,
# tune / test half): stopwords removed, acronyms kept (this
# chain) .511 / .476; stopwords kept in the index and dropped from queries
# outside phrases .507 / .476; no stopwords at all .490 / .455. Neither other
# option is better, and both need a new schema: the list stays.
STOPWORDS = _load_stopwords()


_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})  # the query language's, never acronyms


def acronyms(words: list[str]) -> list[bool]:
    """Which of the words (as written) are acronyms that would otherwise be
    stopwords: two or more capitals (WHO, IT, US) beside a word with a
    lower-case letter, or alone (a query's word); in a line all in capitals
    (a Reuters headline) they are plain stopwords."""
    flags = [False] * len(words)
    for i, word in enumerate(words):
        if len(word) < 2 or not word.isupper() or word.lower() not in STOPWORDS or word in _OPERATORS:
            continue
        beside = words[max(0, i - 1):i] + words[i + 1:i + 2]
        flags[i] = not beside or any(not w.isupper() and any(c.islower() for c in w) for w in beside)
    return flags


class _Tokenizer(RegexpTokenizer):
    """NLTK's ``RegexpTokenizer`` without its per-match wall-clock guard.

    NLTK bounds every match with a timeout, against patterns that backtrack
    catastrophically; that check made tokenizing 3.5 times slower (issue 5).
    :data:`TOKEN_PATTERN` is fixed and linear (each repetition is entered by
    a character the one before cannot match), so it needs no guard.
    """

    def _check_regexp(self):
        if self._regexp is None and redos is not None:
            self._regexp = redos.compile(self._pattern, self._flags, timeout=None)
        super()._check_regexp()


_nltk_tokenizer = _Tokenizer(TOKEN_PATTERN)
_stemmer = SnowballStemmer("english")


# British and American spellings of the same word meet in one stem, so a
# search for "defence" finds a US source's "defense" (and back).
SPELLING_VARIANTS = {
    "defence": "defense", "offence": "offense", "licence": "license", "pretence": "pretense",
    "armour": "armor", "behaviour": "behavior", "colour": "color", "favour": "favor",
    "harbour": "harbor", "honour": "honor", "labour": "labor", "neighbour": "neighbor",
    "rumour": "rumor", "vapour": "vapor", "endeavour": "endeavor", "humour": "humor",
    "centre": "center", "metre": "meter", "theatre": "theater", "fibre": "fiber", "litre": "liter",
    "analyse": "analyze", "paralyse": "paralyze", "catalyse": "catalyze",
    "organise": "organize", "organisation": "organization", "recognise": "recognize",
    "realise": "realize", "authorise": "authorize", "authorisation": "authorization",
    "criticise": "criticize", "mobilise": "mobilize", "mobilisation": "mobilization",
    "militarise": "militarize", "militarisation": "militarization", "stabilise": "stabilize",
    "destabilise": "destabilize", "modernise": "modernize", "modernisation": "modernization",
    "privatise": "privatize", "privatisation": "privatization", "sanitise": "sanitize",
    "minimise": "minimize", "maximise": "maximize", "prioritise": "prioritize",
    "utilise": "utilize", "normalise": "normalize", "legalise": "legalize", "finalise": "finalize",
    "jewellery": "jewelry", "manoeuvre": "maneuver", "programme": "program", "catalogue": "catalog",
    "dialogue": "dialog", "travelled": "traveled", "travelling": "traveling", "cancelled": "canceled",
    "modelling": "modeling", "signalling": "signaling", "fuelled": "fueled", "labelled": "labeled",
    "aluminium": "aluminum", "grey": "gray", "sceptical": "skeptical",
    "paediatric": "pediatric", "haemorrhage": "hemorrhage", "oestrogen": "estrogen",
    "anaemia": "anemia", "leukaemia": "leukemia", "diarrhoea": "diarrhea", "foetus": "fetus",
    "manoeuvres": "maneuvers", "judgement": "judgment", "ageing": "aging", "enrolment": "enrollment",
    "fulfil": "fulfill", "plough": "plow",
}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Lowercase, fold accents and apostrophes, and Snowball-stem one word.

    >>> stem("Corruption"), stem("corrupted"), stem("Montréal")
    ('corrupt', 'corrupt', 'montreal')
    >>> stem("defence") == stem("defense"), stem("armoured") == stem("armored")
    (True, True)
    """
    word = word.lower().replace("\u2019", "'")
    if not word.isascii():
        folded = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in folded if not unicodedata.combining(c))
    stemmed = _stemmer.stem(word)
    return _VARIANT_STEMS.get(stemmed, stemmed)


_VARIANT_STEMS = {
    _stemmer.stem(british): _stemmer.stem(american)
    for british, american in SPELLING_VARIANTS.items()
    if _stemmer.stem(british) != _stemmer.stem(american)
}




def spellings_of(stems) -> set[str]:
    """The stems themselves and the unmapped stems of their other spellings (for highlighting)."""
    stems = set(stems)
    return stems | {british for british, american in _VARIANT_STEMS.items() if american in stems}


class NltkTokenizer(Tokenizer):
    """Whoosh tokenizer over NLTK's ``RegexpTokenizer.span_tokenize``.

    It keeps the character offsets, so highlights land on the words as
    written.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        spans = list(_nltk_tokenizer.span_tokenize(value)) if tokenize else [(0, len(value))]
        kept = acronyms([value[start:end] for start, end in spans])
        for pos, (start, end) in enumerate(spans):
            token.text = value[start:end]
            token.acronym = kept[pos]
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class AcronymStopFilter(StopFilter):
    """Whoosh's ``StopFilter`` (renumbering positions) that keeps the tokens
    :class:`NltkTokenizer` marked as acronyms (see :func:`acronyms`)."""

    def __call__(self, tokens):
        pos = None
        for t in tokens:
            if getattr(t, "acronym", False) or (len(t.text) >= self.min and t.text not in self.stops):
                if self.renumber and t.positions:
                    if pos is None:
                        pos = t.pos
                    else:
                        pos += 1
                        t.pos = pos
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


class NltkStemFilter(Filter):
    """Replaces each token's text by its cached Snowball stem."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = stem(token.text)
            yield token


ANALYZER = (
    NltkTokenizer()
    | LowercaseFilter()
    | AcronymStopFilter(stoplist=STOPWORDS, minsize=1, renumber=True)
    | NltkStemFilter()
)


def analyze(text: str) -> list[str]:
    """The index terms of ``text``, in order (stopwords removed): what
    :data:`ANALYZER` gives, without Whoosh's token objects.

    >>> analyze("Corruption is rooted in the defence industry")
    ['corrupt', 'root', 'defens', 'industri']
    """
    return list(_analyzed(text)[1])


# Bump with ``schema.SCHEMA_VERSION`` whenever the chain's code changes what
# it gives: the text cache keeps a body's terms under :data:`ANALYSIS_KEY`
# (``remember``), which also follows the pattern, the stopwords and the
# spelling variants by themselves.
ANALYSIS_VERSION = 1
ANALYSIS_KEY = hashlib.sha256(repr((ANALYSIS_VERSION, TOKEN_PATTERN, sorted(STOPWORDS),
                                    sorted(SPELLING_VARIANTS.items()))).encode()).hexdigest()[:16]
Analyzed = tuple[int, tuple[str, ...]]  # (position of the first term, the terms)
_REMEMBERED = 16
_remembered: dict[str, Analyzed] = {}


def analyzed(text: str) -> Analyzed:
    """The terms of ``text`` and the position of the first (see :func:`analyze`)."""
    return _analyzed(text)


def remember(text: str, terms: Analyzed) -> None:
    """Take ``terms`` as :func:`analyzed` of ``text`` (which they must be: the
    text cache's, kept under :data:`ANALYSIS_KEY`) for the next analyses
    of that text; the last few texts are kept."""
    _remembered[text] = terms
    if len(_remembered) > _REMEMBERED:
        del _remembered[next(iter(_remembered))]


@lru_cache(maxsize=4)
def _analyzed(text: str) -> Analyzed:
    """(position of the first term, the terms): the StopFilter with
    ``renumber=True`` numbers from the first kept token's own position."""
    # The indexer analyses a report's title and body for its automatic topics
    # and then again for the postings: the second time is a lookup (a string
    # keeps its hash, so the key costs nothing).
    known = _remembered.get(text)
    if known is not None:
        return known
    words = _nltk_tokenizer.tokenize(text)
    terms = list(map(_index_term, words))
    for i, acronym in enumerate(acronyms(words)):
        if acronym:
            terms[i] = stem(words[i])
    kept = tuple(t for t in terms if t is not None)
    return (terms.index(kept[0]) if kept else 0), kept


@lru_cache(maxsize=500_000)
def _index_term(word: str) -> str | None:
    """A token as written -> its index term, or None for a stopword."""
    word = word.lower()
    return None if word in STOPWORDS else stem(word)


class IndexPositions(Positions):
    """Whoosh's ``Positions`` postings (the same bytes), made from :func:`analyze`.

    Whoosh's own path runs every token through four generators; this one
    counts the analysed terms directly: about a fifth less CPU per report
    when indexing (issue 5). Positions skip stopwords, as the StopFilter's
    ``renumber=True`` does.
    """

    def word_values(self, value, analyzer, **kwargs):
        poses: dict[str, list[int]] = {}
        first, terms = _analyzed(value)
        for pos, term in enumerate(terms, first):
            if term in poses:
                poses[term].append(pos)
            else:
                poses[term] = [pos]
        boost = self.field_boost
        for term, poslist in poses.items():
            yield term, len(poslist), len(poslist) * boost, encode_positions(poslist)
