"""Pure CSAT rules: how each channel asks (the method), the scale's choices and their ids,
and reading an answer back (a tap's id, or a short text such as "4" or "5 great")."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from threadline.csat.models import Method

SCALE = (1, 2, 3, 4, 5)
LABELS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"}
# WhatsApp shows at most three reply buttons: three points of the scale, one tap
# (docs/csat.md#whatsapp); the list style keeps all five behind one button.
WHATSAPP_BUTTONS = ((5, "Good"), (3, "OK"), (1, "Bad"))
LIST_BUTTON = "Choose a rating"
MAX_COMMENT = 1000
MAX_TEXT_REPLY = 500  # a longer message is a message, not a rating
PREFIX = "csat:"

QUICK_REPLY_KINDS = frozenset({"facebook", "messenger", "instagram"})
BUTTON_KINDS = frozenset({"whatsapp", "telegram"})
INLINE_KINDS = frozenset({"webchat"})
LINK_KINDS = frozenset({"sms", "email", "x", "api"})
# A call cannot carry a survey, nor a public forum topic (a survey is never public); the
# customer's other private channels may.
SILENT_KINDS = frozenset({"voice", "discourse"})

_CHOICE = re.compile(r"^csat:([0-9a-f]{32}):(-?\d{1,3})$")
_TEXT = re.compile(
    r"^\s*([1-5])(?:\s*(?:/\s*5|out of 5|stars?|\u2605+|\u2b50+))?"
    r"(?:\s*[-\u2013\u2014:,.!;)]+\s*|\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)


def method_for(kind: str, config: Mapping[str, Any]) -> str | None:
    """How a survey is asked on a channel kind (None: it cannot be asked there). An account
    whose config says `"csat_quick_replies": false` (a Messenger or Instagram account without
    quick replies) gets the link."""
    if kind in QUICK_REPLY_KINDS:
        return Method.LINK if config.get("csat_quick_replies") is False else \
            Method.QUICK_REPLIES
    if kind in BUTTON_KINDS:
        return Method.BUTTONS
    if kind in INLINE_KINDS:
        return Method.INLINE
    if kind in LINK_KINDS:
        return Method.LINK
    return None


def choice_id(survey_id: uuid.UUID, score: int) -> str:
    """The id a tap brings back: `csat:<survey id hex>:<score>` (39 bytes: fits Telegram's
    64-byte callback data)."""
    return f"{PREFIX}{survey_id.hex}:{score}"


def scale_choices(survey_id: uuid.UUID) -> list[dict[str, str]]:
    return [{"id": choice_id(survey_id, n), "title": f"{n} \u2013 {LABELS[n]}"} for n in SCALE]


def whatsapp_choices(survey_id: uuid.UUID, style: str) -> list[dict[str, str]]:
    if style == "list":
        return scale_choices(survey_id)
    return [{"id": choice_id(survey_id, score), "title": title}
            for score, title in WHATSAPP_BUTTONS]


def is_survey_choice(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


@dataclass(frozen=True)
class Choice:
    survey_id: uuid.UUID | None  # None: a csat id that is not well formed
    score: int | None


def parse_choice(value: str) -> Choice:
    match = _CHOICE.match(value.strip())
    if match is None:
        return Choice(None, None)
    return Choice(uuid.UUID(hex=match.group(1)), int(match.group(2)))


def valid_score(score: object) -> bool:
    return isinstance(score, int) and not isinstance(score, bool) and score in SCALE


def tapped(meta: Mapping[str, Any]) -> str | None:
    """The id of the choice an inbound item carries: a Messenger/Instagram quick reply or
    postback payload, a WhatsApp button or list reply, a Telegram callback."""
    quick = meta.get("quick_reply")
    candidates = [quick.get("payload") if isinstance(quick, Mapping) else None,
                  meta.get("postback_payload"), meta.get("reply_id"),
                  meta.get("callback_data")]
    return next((str(c) for c in candidates if is_survey_choice(c)), None)


def text_answer(text: str) -> tuple[int, str] | None:
    """A short typed rating: "4", "5 great", "3/5 - slow", "5 stars!" -> (score, comment).
    A question ("5 items missing?") or a long message is not a rating."""
    if not text or len(text) > MAX_TEXT_REPLY:
        return None
    match = _TEXT.match(text)
    if match is None:
        return None
    comment = " ".join(match.group(2).split())
    if "?" in comment:
        return None
    return int(match.group(1)), comment[:MAX_COMMENT]


def survey_text(question: str, method: str, url: str | None) -> str:
    """What the survey message says (the choices travel beside it, except on a link)."""
    if method == Method.LINK and url:
        return (f"{question} Reply with a number from 1 (very poor) to 5 (excellent), "
                f"or answer here: {url}")
    return question
