"""Markdown to safe HTML: markdown-it-py (CommonMark, tables and strikethrough; raw HTML in
the source is escaped, never passed through) and then nh3 (the Ammonia sanitiser) with an
allow-list of tags, attributes and URL schemes. Scripts, event handlers, styles and
`javascript:`/`data:` URLs never survive; links get `rel="noopener noreferrer nofollow"`."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
}
SCHEMES = frozenset({"http", "https", "mailto"})
_TAGS_RE = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}) \
        .enable(["table", "strikethrough"])


def render(markdown_text: str) -> str:
    """Safe HTML of an article's Markdown."""
    html = _parser().render(markdown_text)
    return nh3.clean(html, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(SCHEMES), link_rel="noopener noreferrer nofollow",
                     strip_comments=True)


def plain_text(markdown_text: str, limit: int | None = None) -> str:
    """The words of an article without markup (for excerpts and search documents)."""
    text = nh3.clean(_parser().render(markdown_text), tags=set())
    text = _SPACES.sub(" ", _TAGS_RE.sub(" ", text)).strip()
    text = (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&#39;", "'").replace("&amp;", "&"))
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return text
