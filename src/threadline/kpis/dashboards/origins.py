"""Off-platform origins (`conversation_facts.origin_source`): where a conversation really
began before it reached a channel — the store, an order page, the website, a campaign.

An agent records it (one of `ORIGINS`, or "campaign:<name>"); a web chat started from a page
whose address carries `utm_campaign` or `utm_source` records it by itself (the hook below,
after the KPI facts exist). An agent's choice is never overwritten by a link's, and a
rebuild of the facts keeps it (kpis/tracking.py)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor, access_conversation
from threadline.errors import Conflict, ValidationFailed
from threadline.events.service import audit
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.kpis.models import ConversationFacts

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

ORIGINS = ("store", "order_page", "website", "phone", "email_newsletter", "print", "event",
           "referral")
CAMPAIGN = "campaign:"
MAX_ORIGIN = 40
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,30}$")
_SPLIT = re.compile(r"[^a-z0-9_.-]+")
ORIGIN_HOOK = 55  # after the KPI facts (kpis.engine.KPIS, 50), which make the row


def check_origin(value: str | None) -> str | None:
    """An agent's origin: one of ORIGINS, "campaign:<name>" (lower case letters, digits,
    _ . -; at most 31 characters), or empty to clear it. A typed 422 otherwise."""
    value = (value or "").strip().lower()
    if not value or value == "none":
        return None
    if value in ORIGINS:
        return value
    if value.startswith(CAMPAIGN) and _NAME.match(value.removeprefix(CAMPAIGN)):
        return value
    raise ValidationFailed("origin_source: one of " + ", ".join(ORIGINS) +
                           ", or campaign:<name> (a-z 0-9 _ . -, at most 31)",
                           code="invalid_origin", details={"field": "origin_source"})


def record_origin(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                  value: str | None, actor: Actor) -> ConversationFacts:
    """Set (or clear) the conversation's off-platform origin. 409 while its facts are not
    built yet (the worker builds them within moments of the first message)."""
    origin = check_origin(value)
    conv = access_conversation(session, workspace_id, conversation_id)
    facts = session.get(ConversationFacts, conv.id)
    if facts is None:
        raise Conflict("this conversation's figures are still being prepared; try again in "
                       "a moment", code="facts_not_ready")
    facts.origin_source = origin
    audit(session, workspace_id, "conversation.origin_recorded", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id, data={"origin_source": origin})
    session.flush()
    return facts


def _clean(value: str, room: int) -> str | None:
    cleaned = _SPLIT.sub("_", value.strip().lower()).strip("_.-")[:room]
    return cleaned or None


def origin_from_url(url: str | None) -> str | None:
    """ "campaign:<utm_campaign>", else "<utm_source>", from a page address; None without
    either (or for an address that is not one)."""
    if not url or len(url) > 2000:
        return None
    try:
        query = parse_qs(urlsplit(url).query, max_num_fields=50)
    except ValueError:
        return None
    campaign = (query.get("utm_campaign") or [""])[0]
    if campaign and (name := _clean(campaign, MAX_ORIGIN - len(CAMPAIGN))):
        return CAMPAIGN + name
    source = (query.get("utm_source") or [""])[0]
    return _clean(source, MAX_ORIGIN) if source else None


@conversation_hook(ORIGIN_HOOK, "kpis.origins")
def origin_from_link(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """A web chat's first customer message came from a page with campaign parameters: that
    is the conversation's origin (unless one is recorded already)."""
    del runtime
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id or \
            conv.origin_channel != "webchat":
        return
    facts = session.get(ConversationFacts, conv.id)
    if facts is None or facts.origin_source is not None:
        return
    meta = session.scalar(select(Message.meta).where(
        Message.conversation_id == conv.id, Message.direction == "inbound",
        Message.channel == "webchat").order_by(Message.created_at).limit(1))
    page = (meta or {}).get("page_url") if isinstance(meta, dict) else None
    origin = origin_from_url(page if isinstance(page, str) else None)
    if origin is not None:
        facts.origin_source = origin
