"""Highlighted text as safe HTML: the engines mark matches with two control characters
(`syntax.MARK_START`, `MARK_END`) that no indexed document contains; everything else is
escaped, and only the marks become `<mark>` elements."""

from __future__ import annotations

from html import escape

from threadline.search.syntax import MARK_END, MARK_START


def to_html(marked: str) -> str:
    out: list[str] = []
    open_mark = False
    for char in marked:
        if char == MARK_START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif char == MARK_END:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(escape(char, quote=True))
    if open_mark:
        out.append("</mark>")
    return "".join(out)


def plain(marked: str) -> str:
    return marked.replace(MARK_START, "").replace(MARK_END, "")
