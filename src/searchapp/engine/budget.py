"""The cost bound of one query: words a pattern may stand for, clauses, time.

Like Lucene's ``maxClauseCount`` and Elasticsearch's search ``timeout``, but
refusing instead of answering in part: a query over its budget raises a
``QueryError`` that says what to simplify, so that every search answers
within a couple of seconds whatever is typed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import QueryError

MAX_EXPANSIONS = 1000  # words one prefix, wildcard or text range may stand for
MAX_WORDS = 4000  # words all the patterns of one query may stand for together
MAX_CLAUSES = 1024  # leaves of a parsed query (Lucene's default clause limit)
MATCH_SECONDS = 1.0  # of the thread's CPU for matching and scoring, checked as they go
SUGGEST_SECONDS = 0.4  # looking for did-you-mean words, checked between words


@dataclass
class QueryBudget:
    """What one query may still spend; ``check`` and ``spend_words`` raise when it is spent.

    Time is the CPU time of the thread that answers (``time.thread_time``),
    not the wall clock: a server's threads share the cores and the GIL, and
    an ordinary query on a cold index, waiting for three others at once,
    passed a second of wall time (one request in 800 of the 100,000-report
    benchmark was refused) while using a tenth of that itself.
    """

    seconds: float = MATCH_SECONDS
    max_words: int = MAX_WORDS
    words: int = 0
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.thread_time() + self.seconds

    def check(self) -> None:
        """:raises QueryError: the time budget is spent."""
        if time.thread_time() >= self.deadline:
            raise too_slow(self.seconds)

    def spend_words(self, count: int, what: str) -> None:
        """:raises QueryError: the patterns of the query stand for too many words together."""
        self.words += count
        if self.words > self.max_words:
            raise QueryError(
                f"the words with * or ? and the ranges of the query stand for more than "
                f"{self.max_words} words together (the last: {what}): use fewer or longer ones"
            )


def too_slow(seconds: float) -> QueryError:
    """The refusal of a query that ran out of time."""
    return QueryError(f"the query takes more than {seconds:g} s to match: simplify it "
                      "(fewer words with * or ?, fewer OR groups, no ranges over words)")


def unbounded() -> QueryBudget:
    """A budget that never runs out (tests, evaluations)."""
    return QueryBudget(seconds=float("inf"), max_words=1 << 62)
