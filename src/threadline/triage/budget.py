"""Hard bounds on the work triage does for one message (docs/decisions/0101-bounded-analysis.md).

Every step is linear in what it reads, and what it reads is bounded. The classifiers (sentiment,
category, urgency, relevance, language, learned models) read the first ``CLASSIFY_CHARS``
characters, VADER (the dearest per word) the first ``VADER_CHARS``. The PII detector reads every
type in the first ``PII_WINDOW_CHARS`` characters and the types never stored in clear (cards,
security codes, SSNs, passwords) in the whole text. Checks dearer than a regular expression
(checksums with their context look-ups) run for at most ``MAX_CANDIDATES`` candidates of one
kind, libphonenumber for ``MAX_PHONE_LOOKUPS``; past that a message is treated as holding that
kind of data (over-flagging an attack is safe, missing a card is not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import AnyStr

from threadline.triage.types import PiiFinding

CLASSIFY_CHARS = 4_000
VADER_CHARS = 1_000
PII_WINDOW_CHARS = 16_384
MAX_CANDIDATES = 256
MAX_PHONE_LOOKUPS = 32


def classify_window(text: str) -> tuple[str, bool]:
    """The part of ``text`` the classifiers read, and whether it is shorter than the text."""
    if len(text) <= CLASSIFY_CHARS:
        return text, False
    return text[:CLASSIFY_CHARS], True


@lru_cache(maxsize=2)
def folded(text: str) -> bytes:
    """``text`` lower-cased with one byte per character (non-ASCII becomes "?"), for case-blind
    keyword scans: a case-blind alternation costs the regex engine ~20 times more per character,
    and a span found in these bytes is the same span of ``text``."""
    return text.encode("ascii", "replace").lower()


def bounded_scan(pattern: re.Pattern[AnyStr], text: AnyStr, kind: str,
                 check: Callable[[re.Match[AnyStr]], PiiFinding | None]) -> Iterator[PiiFinding]:
    """``check`` on each match of ``pattern`` in ``text``, for at most ``MAX_CANDIDATES``
    matches; one more means "too many to check": then a finding of ``kind`` from that match to
    the end of ``text`` ends the scan."""
    for n, m in enumerate(pattern.finditer(text)):
        if n == MAX_CANDIDATES:
            yield PiiFinding(kind, m.start(), len(text))
            return
        finding = check(m)
        if finding is not None:
            yield finding
