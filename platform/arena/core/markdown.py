"""Organisers' Markdown (overview, rules, descriptions, licence texts, announcements) as safe HTML.

Raw HTML in the source is dropped, not escaped: a ``<script>`` block or an ``<img onerror=…>`` leaves
nothing behind. Links to anything but http(s), mailto and relative addresses lose their link (the text
stays). The rendered HTML then goes through an allow-list sanitiser (nh3), which also gives every link
``rel="nofollow noopener"``, so a gap in one layer is closed by the other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

#: Schemes a link or an image may point to; relative addresses are allowed too.
URL_SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "em", "strong", "s",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
})
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
LINK_REL = "nofollow noopener"


def _safe_url(url: str) -> bool:
    # Browsers ignore control characters and blanks inside a scheme ("java\tscript:"): judge without them.
    cleaned = "".join(ch for ch in url if ch > " ").lower()
    return urlsplit(cleaned).scheme in URL_SCHEMES | {""}


def _drop_unsafe_links(state) -> None:
    """Core rule: hide the tags (not the text) of links whose target is not a safe URL."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        hidden_depths: list[int] = []
        depth = 0
        for child in token.children:
            if child.type == "link_open":
                depth += 1
                if not _safe_url(child.attrGet("href") or ""):
                    child.hidden = True
                    hidden_depths.append(depth)
            elif child.type == "link_close":
                if hidden_depths and hidden_depths[-1] == depth:
                    child.hidden = True
                    hidden_depths.pop()
                depth -= 1


def _build() -> MarkdownIt:
    # html=True parses raw HTML so that the renderer can drop it whole (escaped, it would still show).
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # judged by _drop_unsafe_links, which keeps the link's text
    md.core.ruler.push("drop_unsafe_links", _drop_unsafe_links)
    md.add_render_rule("html_block", lambda *args, **kwargs: "")
    md.add_render_rule("html_inline", lambda *args, **kwargs: "")
    return md


_MARKDOWN = _build()


def render_markdown(text: str | None) -> SafeString:
    """Render ``text`` (CommonMark with tables) as sanitised HTML, safe to print in any page."""
    if not text:
        return mark_safe("")
    html = _MARKDOWN.render(text)
    return mark_safe(nh3.clean(html, tags=set(TAGS), attributes=ATTRIBUTES, link_rel=LINK_REL,
                               url_schemes=set(URL_SCHEMES), strip_comments=True))
