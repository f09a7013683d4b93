"""The NLTK analysis chain Whoosh indexes and queries with.

Whoosh pickles the schema, analyzers included, into the index: everything here
lives at module level under stable names. Changing what the chain produces
means bumping ``schema.SCHEMA_VERSION``.

>>> [t.text for t in ANALYZER("The corrupted officials of Rostov-on-Don, 2007")]
['corrupt', 'offici', 'rostov', 'don', '2007']
>>> [(t.text, t.startchar, t.endchar) for t in ANALYZER("Belkov's arrest", chars=True)]
[('belkov', 0, 8), ('arrest', 9, 15)]
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer
from whoosh.analysis import Filter, LowercaseFilter, StopFilter, Tokenizer
from whoosh.analysis.acore import Token

# Numbers with decimal or thousands separators stay whole (5.93, 155,221);
# words keep inner apostrophes (Russia's); hyphens split, so "Rostov-on-Don"
# is indexed as its parts and queried as a phrase of them.
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|\w+(?:['\u2019]\w+)*"


def _load_stopwords() -> frozenset[str]:
    text = resources.files("searchapp").joinpath("stopwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


STOPWORDS = _load_stopwords()

_nltk_tokenizer = RegexpTokenizer(TOKEN_PATTERN)
_stemmer = SnowballStemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Lowercase, fold accents and apostrophes, and Snowball-stem one word.

    >>> stem("Corruption"), stem("corrupted"), stem("Montréal")
    ('corrupt', 'corrupt', 'montreal')
    """
    word = word.lower().replace("\u2019", "'")
    if not word.isascii():
        folded = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in folded if not unicodedata.combining(c))
    return _stemmer.stem(word)


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
        spans = _nltk_tokenizer.span_tokenize(value) if tokenize else [(0, len(value))]
        for pos, (start, end) in enumerate(spans):
            token.text = value[start:end]
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
    | StopFilter(stoplist=STOPWORDS, minsize=1, renumber=True)
    | NltkStemFilter()
)


def analyze(text: str) -> list[str]:
    """The index terms of ``text``, in order (stopwords removed).

    >>> analyze("Corruption is rooted in the defence industry")
    ['corrupt', 'root', 'defenc', 'industri']
    """
    return [t.text for t in ANALYZER(text)]
