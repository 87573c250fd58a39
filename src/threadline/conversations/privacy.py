"""What agents and API clients see of personal data posted in public: masked by default,
revealed on request (the caller audits the reveal). Pure functions over stored triage spans."""

from __future__ import annotations

from typing import Any

from threadline.conversations.models import Message


def pii_spans(text: str, visibility: str, direction: str,
              triage: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The personal-data spans to hide: those of inbound messages posted in public."""
    if visibility != "public" or direction != "inbound":
        return []
    spans = (triage or {}).get("pii") or []
    return [s for s in spans if isinstance(s, dict) and "start" in s and "end" in s
            and 0 <= int(s["start"]) < int(s["end"]) <= len(text)]


def mask(text: str, spans: list[dict[str, Any]]) -> str:
    """Each span replaced by its type, e.g. [CREDIT_CARD]."""
    for span in sorted(spans, key=lambda s: int(s["start"]), reverse=True):
        start, end = int(span["start"]), int(span["end"])
        text = text[:start] + f"[{span.get('type', 'PII')}]" + text[end:]
    return text


def public_pii_spans(message: Message) -> list[dict[str, Any]]:
    return pii_spans(message.text or "", message.visibility, message.direction, message.triage)


def masked_text(message: Message) -> str:
    return mask(message.text or "", public_pii_spans(message))
