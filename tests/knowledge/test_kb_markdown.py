"""Markdown rendered safe: what an attacker writes in an article never runs in a reader's
browser (markdown-it-py escapes raw HTML, nh3 sanitises what Markdown itself produces)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from threadline.knowledge.service import render_article_html

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '![x](x.png" onerror="alert(1))',
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<details open ontoggle=alert(1)>",
    "<form action=https://evil.example><input name=password></form>",
    '[x](https://example.com "t" onmouseover="alert(1)")',
    "<<script>script>alert(1)<</script>/script>",
    "<!-- <script>alert(1)</script> -->",
]
SAFE_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3",
             "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong",
             "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")  # as a browser's URL parser reads it
SAFE_SCHEMES = {"http", "https", "mailto"}


def unsafe_url(value: str) -> bool:
    """Whether a browser would follow `value` to a scheme other than http(s)/mailto (it
    strips surrounding spaces and removes tabs and newlines before parsing)."""
    cleaned = re.sub(r"[\t\n\r]", "", value.strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08"
                                                   "\x0b\x0c\x0e\x0f"))
    match = SCHEME.match(cleaned)
    return bool(match) and match.group(1).lower() not in SAFE_SCHEMES


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def problems(html: str) -> list[str]:
    parser = Elements()
    parser.feed(html)
    out: list[str] = []
    for tag, attrs in parser.found:
        if tag not in SAFE_TAGS:
            out.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                out.append(f"attribute {name}")
            if name in ("href", "src") and unsafe_url(value or ""):
                out.append(f"url {value}")
    return out


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_is_rendered_inert(source: str) -> None:
    html = render_article_html(f"Intro\n\n{source}\n\nOutro")
    assert problems(html) == [], html
    assert "Intro" in html and "Outro" in html


def test_raw_html_is_shown_as_text_not_markup() -> None:
    html = render_article_html("<b>bold?</b> and <script>alert(1)</script>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert problems(html) == []


def test_the_checker_itself_catches_what_it_looks_for() -> None:
    assert problems('<img src="x" onerror="alert(1)">') == ["attribute onerror"]
    assert problems('<a href="javascript:alert(1)">x</a>') == ["url javascript:alert(1)"]
    assert problems("<script>alert(1)</script>") == ["tag script"]
    assert problems('<a href=" java\tscript:alert(1)">x</a>') == ["url  java\tscript:alert(1)"]
    assert problems('<a href="java%09script:x">relative</a><a href="/p?a=b:c">x</a>') == []


def test_ordinary_markdown_keeps_its_formatting() -> None:
    html = render_article_html(
        "# Title\n\nSome **bold**, *italic* and `code`.\n\n- one\n- two\n\n"
        "[Docs](https://example.com/docs) and [mail](mailto:help@example.com)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nline\n```\n\n~~gone~~")
    for fragment in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>italic</em>",
                     "<code>code</code>", "<li>one</li>", "<table>", "<td>1</td>",
                     "<pre><code>line", "<s>gone</s>", 'href="mailto:help@example.com"'):
        assert fragment in html
    assert re.search(r'<a href="https://example.com/docs" rel="noopener noreferrer nofollow">',
                     html)
