"""What the report page shows, as plain values with their URLs: the metadata
rows, the text (page by page for a PDF, safe HTML for Markdown), the entity
chips, the e-mail's attachments or message, the near-duplicates and the
original file.
"""

from __future__ import annotations

import html as html_text
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import nh3
from markupsafe import Markup

from ..results import Highlighted, ReportDetail
from .original import OriginalFile
from .params import SearchParams
from .present import FACET_LABELS, language_name

ENTITY_KINDS = ("person", "org", "place")
# Fields of the corpora that say how a collection was made, not what a report is
# (Reuters-21578's LEWISSPLIT, CGISPLIT, OLDID, ...; raw dates and file paths),
# and those the page shows in rows of their own.
INTERNAL_FIELDS = frozenset({
    "lewissplit", "cgisplit", "oldid", "newid", "has_topics", "text_type", "date_raw",
    "path", "file", "headers", "line",
    "author", "authors", "language", "format", "ocr", "pages", "html", "parent", "attachment", "attachments",
    "people", "orgs", "places",  # the entity chips
})


@dataclass(frozen=True)
class MetaRow:
    label: str
    text: str
    url: str | None = None  # an http(s) link, never another scheme


@dataclass(frozen=True)
class PageSection:
    """One page of a PDF's text: ``#page-4`` on the report page."""

    number: int
    text: Highlighted
    view_url: str | None  # the PDF itself at this page

    @property
    def anchor(self) -> str:
        return f"page-{self.number}"


@dataclass(frozen=True)
class EntityChip:
    name: str
    curated: bool
    url: str  # the search filtered by it


@dataclass(frozen=True)
class EntityGroup:
    kind: str  # the facet: "person", "org", "place"
    label: str  # "People"
    chips: tuple[EntityChip, ...]


@dataclass(frozen=True)
class ReportLink:
    title: str
    url: str
    note: str = ""  # what tells it apart from a link of the same title: its id, an attachment's file name


@dataclass(frozen=True)
class ReportView:
    meta: tuple[MetaRow, ...]
    language: str  # its name ("English"), "" when unknown
    pages: tuple[PageSection, ...]  # empty when the report has no pages
    html: Markup | None  # Markdown rendered, sanitised here once more
    entities: tuple[EntityGroup, ...]
    original: OriginalFile | None
    attachments: tuple[ReportLink, ...]
    parent: ReportLink | None
    near_duplicates: tuple[ReportLink, ...]


LocalLink = Callable[[str], str | None]  # a relative link of a report -> its URL here, or None


def report_view(detail: ReportDetail, params: SearchParams, original: OriginalFile | None,
                local_link: LocalLink | None = None) -> ReportView:
    """The report page's parts; ``original`` is what :func:`original.offered` found,
    ``local_link`` what a relative link in the report's HTML becomes (see :func:`corpus_links`)."""
    view_url = original.view_url if original else None
    return ReportView(
        meta=tuple(meta_rows(detail.meta)),
        language=language_name(detail.language),
        pages=tuple(page_sections(detail.body_highlight, detail.pages, view_url)),
        html=mark_words(safe_html(detail.html, local_link), detail.body_highlight),
        entities=tuple(entity_groups(detail.entities, params)),
        original=original,
        attachments=tuple(_links(detail.attachments, params, _attachment_name(detail.id))),
        parent=_links((detail.parent,), params)[0] if detail.parent else None,
        near_duplicates=tuple(_links(detail.near_duplicates, params, lambda ref: ref.id)),
    )


def safe_html(html: str | None, local_link: LocalLink | None = None) -> Markup | None:
    """HTML to put in the page as it is: the core's sanitised Markdown, cleaned once more
    here (nh3's allow-list: no script, style, frame, form or event handler; http(s) and
    mailto links only, each ``rel="noopener nofollow"``), so that the page never trusts a
    stored field. Images keep their alt text but lose their address: a report's page
    fetches nothing from elsewhere (the CSP would refuse it) nor from this site by a
    report's relative path. A relative link (``../guidelines/patch.md``) would resolve
    against this site's URL, not the corpus: ``local_link`` turns it into the page of the
    report it names, or the link loses its address (its words stay).
    """
    if not html:
        return None

    def attribute(element: str, name: str, value: str) -> str | None:
        if (element, name) == ("img", "src"):
            return None
        if (element, name) == ("a", "href") and _is_relative(value):
            return local_link(value) if local_link else None
        return value

    return Markup(nh3.clean(html, link_rel="noopener nofollow", url_schemes={"http", "https", "mailto"},
                            attribute_filter=attribute))


_TAG = re.compile(r"(<[^>]*>)")
MAX_MARKED_WORDS = 64  # distinct matched words marked in a report's HTML


def mark_words(html: Markup | None, body: Highlighted) -> Markup | None:
    """``html`` with the words the core matched in the report's text (``body``'s spans:
    ``Patch``, ``patches``) in ``<mark>``, as the plain text is marked. Only text between
    tags is touched, each piece unescaped, marked and escaped again; tags and their
    attributes are left as they are.
    """
    words = {body.text[a:b].lower() for a, b in body.spans if b > a}
    if html is None or not words:
        return html
    alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)[:MAX_MARKED_WORDS]))
    word = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    out = []
    for piece in _TAG.split(str(html)):
        if piece.startswith("<") or not piece:
            out.append(piece)
            continue
        text, at = html_text.unescape(piece), 0
        for found in word.finditer(text):
            out += [html_text.escape(text[at:found.start()], quote=False),
                    "<mark>", html_text.escape(found.group(), quote=False), "</mark>"]
            at = found.end()
        out.append(html_text.escape(text[at:], quote=False))
    return Markup("".join(out))


def _is_relative(url: str) -> bool:
    """A link to a path of the report's own site (``../x.md``, ``/x``), not an address or an anchor."""
    parts = urlsplit(url.strip())
    return not parts.scheme and not parts.netloc and bool(parts.path)


def corpus_links(detail: ReportDetail, exists: Callable[[str], bool], to_url: Callable[[str], str],
                 limit: int = 20) -> LocalLink:
    """What a relative link of ``detail``'s HTML becomes: the URL (``to_url(id)``) of the
    report held in the file it names (its path against the report's file, without the
    suffix, as ids are made), when that stays inside the corpus and ``exists(id)``; else None.
    At most ``limit`` different targets are looked up for one page.
    """
    folder = posixpath.dirname(detail.file)
    seen: dict[str, str | None] = {}

    def resolve(href: str) -> str | None:
        path = posixpath.normpath(posixpath.join(folder, unquote(urlsplit(href.strip()).path)))
        if path in seen:
            return seen[path]
        found = None
        if not path.startswith(("../", "/")) and path not in (".", "..") and len(seen) < limit:
            report_id = posixpath.splitext(path)[0]
            found = to_url(report_id) if exists(report_id) else None
        seen[path] = found
        return found

    return resolve


def page_sections(body: Highlighted, pages: tuple[str, ...], view_url: str | None) -> list[PageSection]:
    """The body's matched words split over its pages (each page found in the body in turn),
    each page without the blank lines that end it."""
    out, pos = [], 0
    for number, page in enumerate(pages, 1):
        text = page.rstrip()
        start = body.text.find(text, pos) if text else -1
        spans: tuple[tuple[int, int], ...] = ()
        if start >= 0:
            end = start + len(text)
            spans = tuple((max(a, start) - start, min(b, end) - start) for a, b in body.spans if a < end and b > start)
            pos = end
        out.append(PageSection(number, Highlighted(text, spans), f"{view_url}#page={number}" if view_url else None))
    return out


def entity_groups(entities, params: SearchParams) -> list[EntityGroup]:
    """People, organisations and places, curated ones first, each chip a filtered search."""
    out = []
    for kind in ENTITY_KINDS:
        found = sorted((e for e in entities if e.kind == kind), key=lambda e: not e.curated)
        if found:
            chips = tuple(EntityChip(e.name, e.curated, params.only(kind, e.name)) for e in found)
            out.append(EntityGroup(kind, FACET_LABELS[kind][0], chips))
    return out


def _links(refs, params: SearchParams, note: Callable | None = None) -> list[ReportLink]:
    return [ReportLink(ref.title or ref.id, params.report_url(ref.id), note(ref) if note else "")
            for ref in refs if ref]


def _attachment_name(message_id: str) -> Callable:
    """An attachment's file name, from its id (``<message id>/<file name>``)."""
    return lambda ref: ref.id.removeprefix(message_id + "/")


def meta_rows(meta: dict) -> list[MetaRow]:
    """A report's extra metadata as label/text rows: ``extra`` flattened, empty and internal fields left out.

    ``line`` goes with the file; :data:`INTERNAL_FIELDS` are the collection's bookkeeping.
    """
    items = [(k, v) for k, v in meta.items() if k != "extra"]
    extra = meta.get("extra")
    if isinstance(extra, dict):
        items += list(extra.items())
    elif extra is not None:
        items.append(("extra", extra))
    rows = []
    for key, value in sorted(items, key=lambda kv: (kv[0] != "url", str(kv[0]))):
        text = _plain(value).strip()
        if not text or str(key).lower() in INTERNAL_FIELDS:
            continue
        label = "Original" if key == "url" else str(key).replace("_", " ").capitalize()
        rows.append(MetaRow(label, text, http_url(value)))
    return rows


def _plain(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items() if _plain(v))
    if isinstance(value, (list, tuple)):
        return ", ".join(p for p in map(_plain, value) if p)
    return "" if value is None else str(value)


def http_url(url: object) -> str | None:
    """``url`` when it is an http(s) address (never ``javascript:`` and the like)."""
    if isinstance(url, str) and re.match(r"https?://[^\s/]", url.strip(), re.IGNORECASE):
        return url.strip()
    return None
