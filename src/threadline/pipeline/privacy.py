"""What agents and API clients see of personal data posted in public: masked by default,
revealed on request (audited)."""

from __future__ import annotations

from typing import Any

from threadline.conversations.models import Message


def public_pii_spans(message: Message) -> list[dict[str, Any]]:
    if message.visibility != "public" or message.direction != "inbound":
        return []
    spans = (message.triage or {}).get("pii") or []
    return [s for s in spans if isinstance(s, dict) and "start" in s and "end" in s]


def masked_text(message: Message) -> str:
    """The text with each public personal-data span replaced by its type, e.g. [CREDIT_CARD]."""
    text = message.text or ""
    spans = sorted(public_pii_spans(message), key=lambda s: int(s["start"]), reverse=True)
    for span in spans:
        start, end = int(span["start"]), int(span["end"])
        if 0 <= start < end <= len(text):
            text = text[:start] + f"[{span.get('type', 'PII')}]" + text[end:]
    return text
