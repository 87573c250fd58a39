"""Does a stored JSON document mention a customer? Used on raw provider payloads, outbox jobs
and stream events, whose shapes Threadline does not own.

A document mentions him when one of its strings (or numbers) is one of his ids, provider ids
or coordinates (a handle, a number as the provider writes it), or contains one of his email
addresses ("Name <address>"). Long base64 strings are decoded first (raw emails are stored
that way) and searched for any of them. Handles are matched whole, never inside another
string: "maya_x" must not catch "maya_xyz".
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from threadline.subjects.subject import MIN_NEEDLE, Subject

BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n]{64,}")
MAX_DECODED = 8 * 1024 * 1024


def _leaves(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            yield item
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def _variants(coordinate: str) -> set[str]:
    """A coordinate as providers write it: "+447700900123" is "447700900123" on WhatsApp,
    "@maya" is "maya" in an X payload."""
    value = coordinate.strip().lower()
    out = {value}
    if value[:1] in ("+", "@"):
        out.add(value[1:])
    return {v for v in out if len(v) >= MIN_NEEDLE}


@dataclass(frozen=True)
class Matcher:
    exact: frozenset[str]
    contained: tuple[str, ...]

    @classmethod
    def of(cls, subject: Subject) -> Matcher:
        exact = {str(i) for i in subject.ids()} | {p.lower() for p in subject.provider_ids
                                                   if len(p) >= MIN_NEEDLE}
        for coordinate in subject.coordinates:
            exact |= _variants(coordinate)
        contained = {c for c in exact if "@" in c[1:]}  # email addresses
        return cls(frozenset(exact), tuple(sorted(contained)))

    def text(self, text: str) -> bool:
        low = text.lower()
        if low in self.exact or any(c in low for c in self.contained):
            return True
        if 64 <= len(text) <= MAX_DECODED and BASE64.fullmatch(text):
            decoded = _decoded(text).lower()
            return any(n in decoded for n in self.exact)
        return False

    def document(self, value: Any) -> bool:
        return any(self.text(leaf) for leaf in _leaves(value))


def _decoded(text: str) -> str:
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""
