"""Markdown to indexable text and to safe HTML (markdown-it-py, sanitised with nh3).

The text keeps the words a reader sees: link texts, emphasis, table cells,
code; URLs and markup go. ``_Ouellette__ v. Mills_`` gives ``Ouellette v.
Mills``. Lines that are nothing but links (navigation copied with a page:
``[Citation](...)[Subscribe](...)[Share/Save](...)``) are dropped from both.

>>> markdown_text("See [the *report*](https://x.example/r) and `code`.")
'See the report and code.'
"""

from __future__ import annotations

import html as html_module
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["convert", "drop_link_lines", "first_heading", "markdown_text", "render_html", "strip_emphasis_marks"]

MAX_NESTING = 100  # markdown-it's own limit on block/inline nesting
_LINK = r"!?\[[^\]\n]*\]\([^)\n]*\)"
# A line of links with only separators (|, >, ·, /, -, commas) and numbers between
# them; a breadcrumb may end in the current page's name ("... > IF10491").
_LINK_LINE = re.compile(
    rf"^[ \t]*(?:[-*+][ \t]+)?(?:{_LINK}[ \t|>·/,.\-\d]*)+(?:(?<=> )[^\[\]()\n>]{{1,60}})?$\n?",
    re.MULTILINE
)
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                       "td": {"align"}, "th": {"align"}, "ol": {"start"}}
_PARAGRAPH_ENDS = {"paragraph_close", "heading_close", "blockquote_close", "table_close"}
_LINE_ENDS = {"tr_close", "list_item_close"}
_CELL_ENDS = {"td_close", "th_close"}
# Emphasis markers left around words (``_Ouellette__``: unbalanced, so not parsed as emphasis).
# A link markdown-it left as text (a URL with spaces, as some converters write them).
_RAW_LINK = re.compile(r"\[([^\[\]\n]{0,300})\]\(https?://[^\n\[\]]{0,400}?\)(?=[\s.,;:!?\"'\u201d)\]\u2014-]|$)")
_HIDDEN = re.compile(r"</?(?:script|style)\b", re.IGNORECASE)
_STRAY_MARKS = re.compile(r"(?<!\w)[_*]+(?=\w)|(?<=\w)[_*]+(?!\w)")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    return md.enable("table").enable("strikethrough")


def drop_link_lines(source: str) -> str:
    """Remove the lines that hold nothing but links (navigation)."""
    return _LINK_LINE.sub("", source)


def strip_emphasis_marks(text: str) -> str:
    """Remove ``_`` / ``*`` runs glued to the start or end of words."""
    return _STRAY_MARKS.sub("", text)


def _inline_text(token: Token) -> str:
    out: list[str] = []
    hidden = False  # inside inline <script> or <style>: not text a reader sees
    for child in token.children or ():
        if child.type == "html_inline" and _HIDDEN.match(child.content):
            hidden = not child.content.startswith("</")
        elif hidden:
            continue
        elif child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)  # the alt text
        elif child.type == "html_inline":
            out.append(_html_words(child.content))
    return "".join(out)


def _html_words(fragment: str) -> str:
    """The text of raw HTML inside Markdown (script and style content dropped)."""
    return html_module.unescape(nh3.clean(fragment, tags=set()))


def convert(source: str) -> tuple[str, str, str | None]:
    """Parse once: (:func:`markdown_text`, :func:`render_html`, :func:`first_heading`)."""
    tokens = _parser().parse(source)
    return _text_of(tokens), _html_of(tokens), _heading_of(tokens)


def markdown_text(source: str) -> str:
    """The text of a Markdown document without its syntax, blocks separated by newlines."""
    return _text_of(_parser().parse(source))


def _text_of(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            parts.append(strip_emphasis_marks(_inline_text(token)))
        elif token.type in ("fence", "code_block"):
            parts.append(token.content.rstrip("\n") + "\n")
        elif token.type == "html_block":
            parts.append(_html_words(token.content).strip() + "\n")
        elif token.type in _PARAGRAPH_ENDS:
            parts.append("\n\n")
        elif token.type in _LINE_ENDS:
            parts.append("\n")
        elif token.type in _CELL_ENDS:
            parts.append("\t")
    text = _RAW_LINK.sub(r"\1", "".join(parts))
    lines = (line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def render_html(source: str) -> str:
    """The document as HTML safe to put in a page: no script, no event handlers,
    only http(s)/mailto links, each ``rel="noopener nofollow"``."""
    return _html_of(_parser().parse(source))


def _html_of(tokens: list[Token]) -> str:
    md = _parser()
    raw = md.renderer.render(tokens, md.options, {})
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel="noopener nofollow",
        url_schemes={"http", "https", "mailto"},
    )


def first_heading(source: str) -> str | None:
    """The text of the first level-1 heading, else of the first heading, or ``None``."""
    return _heading_of(_parser().parse(source))


def _heading_of(tokens: list[Token]) -> str | None:
    found = None
    for number, token in enumerate(tokens[:-1]):
        if token.type == "heading_open":
            text = strip_emphasis_marks(_inline_text(tokens[number + 1])).strip()
            if token.tag == "h1" and text:
                return text
            found = found or text or None
    return found
