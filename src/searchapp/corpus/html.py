"""Saved web pages (``.html``, ``.htm``): the main text without navigation and
boilerplate, with title, date, author and site name, read by trafilatura.

The date is the page's own (its meta tags, its time elements), never one
found by searching the text. A page with too little main text for
trafilatura gives its whole visible text instead (script and style left out).

Checked before any parser sees the page: entity declarations (``<!ENTITY``,
the "billion laughs" expansion) are refused, and so is nesting deeper than
:data:`MAX_NESTING` elements.
"""

from __future__ import annotations

import html as html_module
import re
import warnings
from html.parser import HTMLParser

import nh3

from searchapp.corpus.files import MAX_FILE_BYTES, CorpusFile, decode_text, read_bytes
from searchapp.corpus.meta import Parsed
from searchapp.errors import CorpusError

__all__ = ["MAX_NESTING", "extract_html", "html_to_text", "read_html"]

MAX_NESTING = 400
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
# Elements whose end tag is optional or absent: they do not nest.
_FLAT = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot",
    "colgroup", "rt", "rp", "optgroup", "param", "keygen",
})


class _DepthGauge(HTMLParser):
    """Measures how deep elements nest, without building a tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in _FLAT:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _FLAT:
            self.depth = max(0, self.depth - 1)


def check_markup(text: str, relpath: str) -> None:
    """Refuse entity declarations and nesting deeper than :data:`MAX_NESTING`."""
    if _ENTITY.search(text.encode("utf-8", "surrogatepass")[:MAX_FILE_BYTES]):
        raise CorpusError(relpath, "the page declares XML entities (<!ENTITY>): refused, "
                                   "their expansion could exhaust memory")
    gauge = _DepthGauge()
    gauge.feed(text)
    gauge.close()
    if gauge.deepest > MAX_NESTING:
        raise CorpusError(relpath, f"HTML nested {gauge.deepest:,} levels deep (limit {MAX_NESTING})")


def _decode(data: bytes, relpath: str) -> str:
    declared = _CHARSET.search(data[:4096])
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError) as e:
            raise CorpusError(relpath, f"cannot decode the page as its declared charset: {e}") from e
    return decode_text(data, relpath)


def html_to_text(markup: str) -> str:
    """All visible text of an HTML fragment (script and style content dropped)."""
    text = html_module.unescape(nh3.clean(markup, tags={"p", "br", "div", "li", "tr", "h1", "h2", "h3"}))
    text = re.sub(r"(?i)<br\s*/?>|</?(?:p|div|li|tr|h\d)>", "\n", text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def _extract(text: str) -> dict[str, object]:
    import trafilatura  # slow to import; only web pages need it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = trafilatura.bare_extraction(
            text, with_metadata=True, include_tables=True, include_comments=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    return document.as_dict() if document is not None else {}


def read_html(data: bytes, relpath: str) -> Parsed:
    """Read a web page's main text and metadata from its bytes.

    :raises CorpusError: undecodable, entity declarations, nested too deeply,
        or no text at all.
    """
    text = _decode(data, relpath)
    check_markup(text, relpath)
    found = _extract(text)
    body = str(found.get("text") or "") or html_to_text(text)
    if not body.strip():
        raise CorpusError(relpath, "web page without text")
    parsed = Parsed(body=body, format="html")
    for key, name in (("title", "title"), ("sitename", "source"), ("url", "url"), ("date", "date")):
        value = found.get(key)
        parsed.take(name, value if isinstance(value, str) else None)
    author = found.get("author")
    if isinstance(author, str):
        parsed.take("authors", [a.strip() for a in author.split(";") if a.strip()])
    if not parsed.title:
        match = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
        parsed.take("title", html_module.unescape(match.group(1)).strip() if match else None)
    return parsed


def extract_html(cf: CorpusFile) -> Parsed:
    """Extract one saved web page (see :func:`read_html`)."""
    return read_html(read_bytes(cf, MAX_FILE_BYTES), cf.relpath)
