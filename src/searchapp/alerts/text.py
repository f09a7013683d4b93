"""Showing user- and report-supplied text on a terminal, in a mail or a log line."""

from __future__ import annotations

import re

# Control characters (a terminal's escape sequences, line breaks that would
# forge output lines) and the bidirectional overrides that reorder text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(value: str) -> str:
    """``value`` with every unsafe character written as an escape.

    >>> shown("a\\x1b[31mred\\nline\\u202e")
    'a\\\\x1b[31mred\\\\nline\\\\u202e'
    """
    return _UNSAFE.sub(_escape, value)


def _escape(match: re.Match) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
