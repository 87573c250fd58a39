"""The workspace's public-answer policy as pure data and its matcher (no database).

Topics the team may answer in public (opening hours, delivery times, outage status) and topics
that always go private (account, billing, orders), each a list of keywords. A message on a
private-only topic is not `public_ok`, whatever else it says; a message only on public topics
is `public_ok` unless it carries personal data; a message on no listed topic keeps triage's own
verdict. Keywords match whole words, case- and accent-insensitively ("Öffnungszeiten" matches
"offnungszeiten"); a keyword of several words matches them in sequence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

from threadline.triage.types import Triage

PERSONAL_DATA = "personal_data"


def fold(text: str) -> str:
    """Case- and accent-insensitive form, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True)
class Topic:
    name: str
    keywords: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        words = sorted({fold(k) for k in self.keywords if fold(k)}, key=len, reverse=True)
        if not words:
            return None
        alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def matches(self, folded: str) -> bool:
        return self.pattern is not None and self.pattern.search(folded) is not None


@dataclass(frozen=True)
class PublicAnswers:
    public: tuple[Topic, ...] = ()
    private: tuple[Topic, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.public and not self.private


@dataclass(frozen=True)
class TopicVerdict:
    """Which listed topics a text is on; `public_ok` is None when it is on none."""

    public: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    public_ok: bool | None = field(default=None)


def topics_of(text: str, policy: PublicAnswers) -> TopicVerdict:
    if policy.empty or not text:
        return TopicVerdict()
    folded = fold(text)
    private = tuple(t.name for t in policy.private if t.matches(folded))
    public = tuple(t.name for t in policy.public if t.matches(folded))
    if private:
        return TopicVerdict(public, private, False)
    if public:
        return TopicVerdict(public, private, True)
    return TopicVerdict()


def apply_public_answers(result: Triage, text: str, policy: PublicAnswers) -> Triage:
    """Triage's verdict with the workspace's topics applied (personal data always private)."""
    verdict = topics_of(text, policy)
    if verdict.public_ok is None:
        return result
    if verdict.public_ok is False:
        reasons = tuple(dict.fromkeys([*result.private_reasons,
                                       *(f"topic:{name}" for name in verdict.private)]))
        return replace(result, public_ok=False, private_reasons=reasons)
    if PERSONAL_DATA in result.private_reasons:
        return result
    return replace(result, public_ok=True, private_reasons=())
