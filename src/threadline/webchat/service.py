"""The visitor's side of the web chat: his envelopes enter through the durable ingest, and
he reads back what he may see.

Visible to a visitor: the messages of his own thread on this chat account (his inbound
messages, and the agents' outbound messages once sent) — never notes, never other channels,
never another visitor's messages. One exception, opted into by arriving through a short link:
the public message the conversation started with, shown first as context.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.channels.base import WebhookRequest
from threadline.channels.webchat.adapter import thread_key
from threadline.channels.webchat.payloads import WebchatEnvelope
from threadline.conversations.models import Conversation, Message
from threadline.conversations.privacy import masked_text
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.hops.records.links import find_link
from threadline.hops.records.models import ShortLink
from threadline.ingest import service as ingest
from threadline.webchat.tokens import Visitor
from threadline.workspace.models import ChannelAccount

KIND = "webchat"
VISIBLE_OUTBOUND = ("sent", "delivered", "read")
HISTORY_LIMIT = 200
# The private continuation hops hands whoever took a public chat link (in his token). A public
# `chat` code opens its form page `/s/{code}` only: that is where the taker is recorded.
CHAT_PURPOSES = ("chat_session",)


def chat_account(session: Session, account_id: str) -> ChannelAccount:
    return ingest.load_account(session, KIND, account_id)


def store_envelope(session: Session, account: ChannelAccount,
                   envelope: WebchatEnvelope) -> int:
    """A visitor's envelope (his token checked by the caller) enters through the same durable
    ingest as a provider webhook. Returns how many events were new (0: a retry of an echo id
    already stored)."""
    raw = envelope.model_dump_json(exclude_none=True).encode()
    request = WebhookRequest(method="POST", url=f"/webchat/{account.id}/messages",
                             headers={"content-type": "application/json"}, query={}, body=raw)
    return ingest.accept(session, account, request)


def check_link(session: Session, account: ChannelAccount, code: str) -> ShortLink:
    """A short-link code a chat starts from: it must be a live chat link of this workspace
    (not used up, not expired). A taken public link opens nothing: its taker continues through
    his own signed visitor token, which holds his private `chat_session` link."""
    link = find_link(session, code)
    if link is None or link.workspace_id != account.workspace_id:
        raise NotFound("this chat link is not valid", code="link_not_found")
    if link.used_at is not None:
        raise ValidationFailed("this chat link has been used already", code="link_used",
                               status=410)
    if link.expires_at <= utcnow():
        raise ValidationFailed("this chat link has expired", code="link_expired", status=410)
    if link.purpose not in CHAT_PURPOSES:
        raise ValidationFailed("this link does not open a chat here; open it as it was sent",
                               code="link_wrong_purpose")
    return link


def has_thread(session: Session, account: ChannelAccount, visitor: Visitor) -> bool:
    return session.scalar(select(Message.id).where(
        Message.channel_account_id == account.id,
        Message.thread_key == thread_key(visitor.visitor_id)).limit(1)) is not None


def _visible(stmt: Any, account: ChannelAccount, visitor: Visitor) -> Any:
    return stmt.where(Message.channel_account_id == account.id,
                      Message.thread_key == thread_key(visitor.visitor_id),
                      Message.kind != "note", Message.deleted_at.is_(None),
                      (Message.direction == "inbound")
                      | Message.delivery.in_(VISIBLE_OUTBOUND))


def history(session: Session, account: ChannelAccount, visitor: Visitor) -> list[Message]:
    stmt = _visible(select(Message), account, visitor)
    rows = list(session.scalars(stmt.order_by(Message.created_at.desc(), Message.id)
                                .limit(HISTORY_LIMIT)))
    rows.reverse()
    return rows


def visible_messages(session: Session, account: ChannelAccount, visitor: Visitor,
                     ids: list[uuid.UUID]) -> dict[uuid.UUID, Message]:
    if not ids:
        return {}
    stmt = _visible(select(Message), account, visitor).where(Message.id.in_(ids))
    return {m.id: m for m in session.scalars(stmt)}


def own_thread_ids(session: Session, account: ChannelAccount, visitor: Visitor,
                   ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these message ids are in this visitor's thread (deleted ones included: a
    deletion is shown to him only for his own thread)."""
    if not ids:
        return set()
    return set(session.scalars(select(Message.id).where(
        Message.id.in_(ids), Message.channel_account_id == account.id,
        Message.thread_key == thread_key(visitor.visitor_id))))


def own_outbound(session: Session, account: ChannelAccount, visitor: Visitor,
                 message_id: uuid.UUID) -> Message:
    """An agent message shown to this visitor (the target of a read receipt)."""
    found = visible_messages(session, account, visitor, [message_id]).get(message_id)
    if found is None or found.direction != "outbound" or not found.provider_id:
        raise NotFound("no such message in this chat", code="message_not_found")
    return found


def origin_context(session: Session, account: ChannelAccount,
                   visitor: Visitor) -> dict[str, Any] | None:
    """The public message a short-linked conversation started with (it is public already)."""
    if not visitor.link_token or account.config.get("show_origin_context") is False:
        return None
    try:
        link = check_link(session, account, visitor.link_token)
    except (NotFound, ValidationFailed):
        return None  # only a live link shows it (a used or expired one shows nothing)
    conv = session.get(Conversation, link.conversation_id)
    seen = 0
    while conv is not None and conv.merged_into_id is not None and seen < 16:
        conv = session.get(Conversation, conv.merged_into_id)
        seen += 1
    if conv is None or conv.origin_message_id is None:
        return None
    origin = session.get(Message, conv.origin_message_id)
    if (origin is None or origin.visibility != "public" or origin.direction != "inbound"
            or origin.deleted_at is not None):
        return None
    return {"id": f"context-{origin.id}", "type": "context", "sender": "visitor",
            "text": masked_text(origin), "channel": origin.channel, "visibility": "public",
            "created_at": _iso(origin.created_at)}


def message_view(message: Message) -> dict[str, Any]:
    meta = message.meta or {}
    inbound = message.direction == "inbound"
    view: dict[str, Any] = {"id": str(message.id), "type": "message",
                            "echo_id": meta.get("echo_id") if inbound else None,
                            "sender": "visitor" if inbound else "agent",
                            "text": message.text, "created_at": _iso(message.created_at),
                            "delivery": message.delivery}
    survey = meta.get("csat") if not inbound else None
    if isinstance(survey, dict) and survey.get("survey_id"):
        # a CSAT survey: the widget shows a 1-5 rating under it (docs/csat.md#web-chat)
        view["survey"] = {"id": str(survey["survey_id"]), "scale": [1, 2, 3, 4, 5],
                          "answered": bool(survey.get("answered")),
                          "score": survey.get("score")}
    bot = meta.get("selfservice") if not inbound else None
    if isinstance(bot, dict):
        # the self-service bot's answer: the widget shows its article and choices
        # (docs/self-service.md#web-chat)
        view["bot"] = {"title": bot.get("title"), "url": bot.get("url"),
                       "choices": [str(c) for c in bot.get("choices") or []],
                       "closed": bool(bot.get("closed"))}
    return view


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
