"""Policy checks on outgoing text (DESIGN §4): personal data never goes public."""

from __future__ import annotations

from threadline.errors import PolicyViolation
from threadline.triage import check_outbound


def check_outbound_text(text: str, visibility: str) -> None:
    """Raise a typed 422 when a public message contains or asks for personal data."""
    verdict = check_outbound(text, visibility=visibility)
    if verdict.blocked:
        reasons = verdict.to_dict()["reasons"]
        summary = "; ".join(str(r.get("message")) for r in reasons) or "personal data"
        raise PolicyViolation(f"blocked for a public channel: {summary}", code="pii_public",
                              details={"reasons": reasons})
