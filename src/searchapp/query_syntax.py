"""The query language's structure, checked before Whoosh parses it.

Whoosh's parser is lenient: an unclosed bracket is dropped, ``title:(``
becomes the word "title", a lone ``AND`` matches nothing and ``y (x +)``
fails deep inside with "Plus". This pass reads the text once and refuses
what it cannot mean, saying what is wrong and where (1-based character
positions, as a person counts them).

>>> check_syntax("corruption (defence OR treason)")
>>> check_syntax("title:(")
Traceback (most recent call last):
...
searchapp.errors.QueryError: title: at character 1 has nothing to search: write a word after it, as in title:word
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import QueryError

OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")
_BINARY = set(OPERATORS) - {"NOT"}

# One piece of the text: a quoted phrase (closed or not), a bracket, a range
# [a TO b] (closed or not), or a run of anything else.
_PIECE = re.compile(r'"[^"]*"?|[()]|[\[{][^\]}]*[\]}]?|[^\s()"\[{]+')
_FIELD = re.compile(r"^([A-Za-z_][\w-]*):$")


@dataclass(frozen=True)
class _Piece:
    text: str
    start: int  # 0-based offset in the query
    end: int

    @property
    def at(self) -> str:
        return f"at character {self.start + 1}"


def check_syntax(text: str, fields=None) -> None:
    """Refuse a query whose brackets, quotes, fields or operators cannot be read.

    :param fields: the field names (``title`` ...) an empty ``field:`` is checked for;
        any ``name:`` when None.
    :raises QueryError: what is wrong and at which character.
    """
    pieces = [_Piece(m.group(0), m.start(), m.end()) for m in _PIECE.finditer(text)]
    _check_quotes_and_ranges(pieces)
    _check_fields(pieces, fields)
    _check_brackets(pieces)
    _check_operators(pieces)


def _check_quotes_and_ranges(pieces: list[_Piece]) -> None:
    for p in pieces:
        if p.text.startswith('"') and (len(p.text) == 1 or not p.text.endswith('"')):
            raise QueryError(f"the quote {p.at} is not closed: end the phrase with another \"")
        if p.text[0] in "[{" and p.text[-1] not in "]}":
            raise QueryError(f"the range {p.at} is not closed: write it as [2023 TO 2024]")


def _check_brackets(pieces: list[_Piece]) -> None:
    opened: list[_Piece] = []
    for i, p in enumerate(pieces):
        if p.text == "(":
            opened.append(p)
        elif p.text == ")":
            if not opened:
                raise QueryError(f"the bracket {p.at} closes nothing: remove it or add a ( before it")
            if pieces[i - 1] is opened.pop():
                raise QueryError(f"the brackets {pieces[i - 1].at} hold nothing: put words inside or remove them")
    if opened:
        raise QueryError(f"the bracket {opened[0].at} is not closed: add a ) after its words")


def _check_fields(pieces: list[_Piece], fields) -> None:
    for i, p in enumerate(pieces):
        m = _FIELD.match(p.text)
        if not m or (fields is not None and m.group(1).lower() not in fields):
            continue
        after = pieces[i + 1] if i + 1 < len(pieces) else None
        attached = after is not None and after.start == p.end
        empty_group = attached and after.text == "(" and (i + 2 >= len(pieces) or pieces[i + 2].text == ")")
        if not attached or empty_group or after.text == ")":
            raise QueryError(f"{p.text} {p.at} has nothing to search: write a word after it, "
                             f"as in {p.text}word")


def _check_operators(pieces: list[_Piece]) -> None:
    for i, p in enumerate(pieces):
        before = pieces[i - 1].text if i else None
        after = pieces[i + 1].text if i + 1 < len(pieces) else None
        if p.text in ("+", "-") and after in (None, ")"):
            raise QueryError(f"the {p.text} {p.at} has no word after it: write {p.text}word, without a space")
        if p.text not in OPERATORS:
            continue
        if after in (None, ")") or after in _BINARY:
            raise QueryError(f"{p.text} {p.at} has no word after it: write it between two words, "
                             f"as in oil {p.text} gas, or search for \"{p.text.lower()}\"")
        if p.text in _BINARY and (before in (None, "(") or before in OPERATORS):
            raise QueryError(f"{p.text} {p.at} has no word before it: write it between two words, "
                             f"as in oil {p.text} gas")
