"""Where a conversation started off the platform (`conversation_facts.origin_source`), for the
journeys: a kind an agent records (the customer says he saw it in the store, on the order
page, on the website) or a link's campaign (`utm_source`), as `campaign:<name>`."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session

from threadline.conversations.service import Actor, access_conversation
from threadline.errors import ValidationFailed
from threadline.events.service import audit
from threadline.kpis.models import ConversationFacts
from threadline.kpis.tracking import recompute

KINDS = ("store", "order_page", "website", "phone", "print", "event")
_CAMPAIGN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,30}$")
MAX_LENGTH = 40


def clean_origin_source(value: str) -> str:
    """One of KINDS, or `campaign:<name>` (lowercase letters, digits, `_ . -`, at most 31);
    ValidationFailed otherwise."""
    text = (value or "").strip().lower()
    if text in KINDS:
        return text
    name = text.removeprefix("campaign:")
    if text.startswith("campaign:") and _CAMPAIGN.match(name):
        return text
    raise ValidationFailed(f"origin_source: one of {', '.join(KINDS)}, or campaign:<name>",
                           code="invalid_origin_source", details={"field": "origin_source"})


def source_of_utm(utm_source: str | None) -> str | None:
    """A link's `utm_source` as an origin: a known kind as itself, any other tidy name as a
    campaign; None when there is nothing usable."""
    text = (utm_source or "").strip().lower().replace(" ", "_")[:31]
    if not text:
        return None
    if text in KINDS:
        return text
    return f"campaign:{text}" if _CAMPAIGN.match(text) else None


def set_origin_source(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                      source: str, actor: Actor) -> ConversationFacts:
    """Record where the conversation started off the platform (kept by a rebuild)."""
    value = clean_origin_source(source)
    conv = access_conversation(session, workspace_id, conversation_id)
    facts = session.get(ConversationFacts, conv.id) or recompute(session, conv.id)
    if facts is None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    facts.origin_source = value
    audit(session, workspace_id, "conversation.origin_source", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id, data={"origin_source": value})
    session.flush()
    return facts
