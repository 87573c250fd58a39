"""Outbound: an agent's reply passes the policy checks, becomes a message and an outbox job in
one transaction, and the sender worker (outbound/sender.py) delivers it through the adapter.

The pipeline fills what adapters cannot know (they have no database): the recipient and the
provider id answered, `SendContext.last_inbound_at` of that recipient on that account (the
messaging windows), the private-reply facts, and for email the subject and `References`.
Channel policy errors become a typed 422 whose `details.allowed` says what is possible
instead (a template, the human-agent tag, a private reply, at most N characters).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelError,
    OutboundMessage,
    SendContext,
    SendPolicyError,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.contacts.models import Identity
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, PolicyViolation, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import (
    ConversationEvent,
    audit,
    conversation_event,
    enqueue,
    publish,
)
from threadline.media import service as media
from threadline.outbound.approval_rules import HELD, hold, reasons_to_hold
from threadline.outbound.policy import check_outbound_text
from threadline.outbound.sender import SEND_JOB
from threadline.workspace.models import ChannelAccount

__all__ = ["SEND_JOB", "Reply", "post_reply", "recheck", "release"]
MAX_REFERENCES = 20


@dataclass(frozen=True)
class Reply:
    text: str
    visibility: str = "public"
    channel_account_id: uuid.UUID | None = None
    kind: str = "message"  # message | note
    options: dict[str, Any] = field(default_factory=dict)
    # The outbox job that sends it, and what that job needs beyond the message id (a hop's
    # sends go through `hop.send`, which records the provider's answer on the hop).
    send_job: str = SEND_JOB
    job_payload: dict[str, Any] = field(default_factory=dict)
    # The inbound message this answers (a hop's follow-up answers the original post), instead
    # of the customer's latest message on the account.
    anchor_id: uuid.UUID | None = None
    # Uploaded files to send with it (media/service.py::for_reply checks them).
    attachment_ids: tuple[uuid.UUID, ...] = ()


def _latest_inbound(session: Session, conv: Conversation, account_id: uuid.UUID | None,
                    visibility: str | None) -> Message | None:
    stmt = select(Message).where(Message.conversation_id == conv.id,
                                 Message.direction == "inbound", Message.kind != "note")
    if account_id is not None:
        stmt = stmt.where(Message.channel_account_id == account_id)
    if visibility is not None:
        stmt = stmt.where(Message.visibility == visibility)
    # a reply goes where the customer last wrote: a phone call carries no text answer, so it
    # is the anchor only when he never wrote (analytics/timeline.py chooses the same)
    return session.scalar(stmt.order_by(case((Message.kind == "call", 1), else_=0),
                                        Message.created_at.desc()).limit(1))


def _named_anchor(session: Session, conv: Conversation, message_id: uuid.UUID) -> Message:
    message = session.get(Message, message_id)
    if (message is None or message.workspace_id != conv.workspace_id
            or message.direction != "inbound" or message.deleted_at is not None):
        raise ValidationFailed("the message to answer is gone", code="anchor_gone")
    return message


def _recipient(session: Session, message: Message) -> str | None:
    if message.identity_id is None:
        return None
    ident = session.get(Identity, message.identity_id)
    return ident.address if ident else None


def post_reply(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
               reply: Reply, actor: Actor) -> Message:
    conv = access_conversation(session, workspace_id, conversation_id)
    if conv.merged_into_id is not None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    text = reply.text.strip()
    if not text and not reply.attachment_ids:
        raise ValidationFailed("a message needs text", code="empty_message")
    if reply.visibility not in ("public", "private"):
        raise ValidationFailed("visibility must be public or private")
    now = utcnow()
    if reply.kind == "note":
        if reply.attachment_ids:
            raise ValidationFailed("attachments go with messages, not notes",
                                   code="attachments_on_note")
        return _add(session, conv, actor, now, channel="note", account_id=None,
                    visibility="private", kind="note", text=text, delivery="sent", meta={})
    if reply.kind != "message":
        raise ValidationFailed("kind must be message or note")

    # Where: the message named, else the chosen account, else where the customer last wrote
    # with this visibility.
    anchor = (_named_anchor(session, conv, reply.anchor_id) if reply.anchor_id
              else _latest_inbound(session, conv, reply.channel_account_id, reply.visibility))
    if anchor is None:
        anchor = _latest_inbound(session, conv, reply.channel_account_id, None)
    account_id = reply.channel_account_id or (anchor.channel_account_id if anchor else None)
    if account_id is None:
        raise ValidationFailed("choose a channel account: the customer has not written on any",
                               code="no_channel")
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise NotFound("channel account not found")
    if not account.active:
        raise ValidationFailed("this channel account is disabled: nothing is sent through it",
                               code="account_disabled")
    visibility = Visibility(reply.visibility)
    options = dict(reply.options)
    in_reply_to = None
    recipient = None
    thread_key = None
    root = None
    if anchor is not None and anchor.channel_account_id == account.id:
        recipient = _recipient(session, anchor)
        thread_key = anchor.thread_key if visibility is Visibility.PRIVATE else None
        public_reply = visibility is Visibility.PUBLIC and anchor.visibility == "public"
        if public_reply or anchor.channel == "email":
            in_reply_to = anchor.provider_id
            root = anchor.root_provider_id
    if account.kind == "email":
        _email_options(session, conv, account, anchor, options)
    check_outbound_text(session, workspace_id, text, visibility.value, conversation=conv)
    files = media.for_reply(session, workspace_id, conv.id, reply.attachment_ids, account.kind)
    outbound = OutboundMessage(message_id=str(new_id()), visibility=visibility, text=text,
                               recipient=recipient, in_reply_to=in_reply_to,
                               thread_key=thread_key, root_provider_id=root, options=options,
                               attachments=tuple(media.placeholder(f) for f in files))
    context = _send_context(session, conv, account, anchor, options, now)
    try:
        get_adapter(account.kind).check_send(account_config(account), outbound, context)
    except SendPolicyError as exc:
        raise PolicyViolation(exc.message, code=exc.code,
                              details={"allowed": exc.allowed, "channel": account.kind}) from None
    except ChannelError as exc:  # e.g. a misconfigured account
        raise ValidationFailed(exc.message, code=exc.code) from None
    # The workspace's approval policy may hold it: stored, shown, but no job until approved.
    held_for = reasons_to_hold(session, conv, actor, visibility=visibility.value,
                               channel=account.kind, text=text)
    message = _add(session, conv, actor, now, channel=account.kind, account_id=account.id,
                   visibility=visibility.value, kind="message", text=text,
                   delivery=HELD if held_for else "pending",
                   meta={"recipient": recipient, "options": options},
                   message_id=uuid.UUID(outbound.message_id), reply_to=in_reply_to,
                   thread_key=thread_key)
    message.root_provider_id = root
    if files:
        message.attachments = [media.describe(f) for f in files]
        for f in files:
            f.message_id = message.id
    if held_for:
        hold(session, conv, message, actor, held_for, send_job=reply.send_job,
             job_payload=reply.job_payload)
        return message
    enqueue(session, reply.send_job, {**reply.job_payload, "message_id": str(message.id)},
            workspace_id=workspace_id)
    return message


def recheck(session: Session, conv: Conversation, message: Message, text: str) -> None:
    """Check a held reply again before it is released with `text` (an approver may have
    edited it; the customer may have written since): the personal-data guard and the
    channel's rules, as when it was written. Raises the same typed 422s."""
    account = session.get(ChannelAccount, message.channel_account_id)
    if account is None or account.workspace_id != conv.workspace_id:
        raise NotFound("channel account not found")
    if not account.active:
        raise ValidationFailed("this channel account is disabled: nothing is sent through it",
                               code="account_disabled")
    check_outbound_text(session, conv.workspace_id, text, message.visibility,
                        conversation=conv)
    meta = message.meta or {}
    options = dict(meta.get("options") or {})
    outbound = OutboundMessage(message_id=str(message.id), visibility=Visibility(
        message.visibility), text=text, recipient=meta.get("recipient"),
        in_reply_to=message.reply_to_provider_id, thread_key=message.thread_key,
        root_provider_id=message.root_provider_id, options=options)
    anchor = _latest_inbound(session, conv, account.id, None)
    context = _send_context(session, conv, account, anchor, options, utcnow())
    try:
        get_adapter(account.kind).check_send(account_config(account), outbound, context)
    except SendPolicyError as exc:
        raise PolicyViolation(exc.message, code=exc.code,
                              details={"allowed": exc.allowed, "channel": account.kind}) from None
    except ChannelError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None


def check_reply(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                account: ChannelAccount, visibility: Visibility,
                options: dict[str, Any] | None = None) -> SendPolicyError | None:
    """Would a short reply on `account` with `visibility` pass the channel's rules now?
    (The composer's question; None when it would.)"""
    conv = access_conversation(session, workspace_id, conversation_id)
    anchor = (_latest_inbound(session, conv, account.id, visibility.value)
              or _latest_inbound(session, conv, account.id, None))
    opts = dict(options or {})
    recipient = _recipient(session, anchor) if anchor is not None else None
    in_reply_to = (anchor.provider_id if anchor is not None and (
        visibility is Visibility.PUBLIC or anchor.channel == "email") else None)
    probe = OutboundMessage(message_id=str(new_id()), visibility=visibility, text="ok",
                            recipient=recipient, in_reply_to=in_reply_to,
                            thread_key=anchor.thread_key if anchor is not None else None,
                            options=opts)
    try:
        get_adapter(account.kind).check_send(
            account_config(account), probe,
            _send_context(session, conv, account, anchor, opts, utcnow()))
    except SendPolicyError as exc:
        return exc
    except ChannelError as exc:
        return SendPolicyError(exc.message, code=exc.code)
    return None


def _send_context(session: Session, conv: Conversation, account: ChannelAccount,
                  anchor: Message | None, options: dict[str, Any], now: datetime) -> SendContext:
    """What the channel's policy needs: the recipient's last inbound on this account (any
    conversation: the provider's window is per person), and the private-reply facts."""
    stmt = select(Message.created_at).where(Message.channel_account_id == account.id,
                                            Message.direction == "inbound",
                                            Message.visibility == "private")
    if anchor is not None and anchor.identity_id is not None \
            and anchor.channel_account_id == account.id:
        stmt = stmt.where(Message.identity_id == anchor.identity_id)
    else:
        stmt = stmt.where(Message.conversation_id == conv.id)
    last = session.scalar(stmt.order_by(Message.created_at.desc()).limit(1))
    replied_at = None
    used = False
    target = options.get("private_reply_to")
    if target:
        replied_at = session.scalar(select(Message.created_at).where(
            Message.workspace_id == conv.workspace_id, Message.provider_id == str(target)))
        used = session.scalar(select(Message.id).where(
            Message.workspace_id == conv.workspace_id, Message.direction == "outbound",
            Message.delivery != "failed",
            Message.meta["options"]["private_reply_to"].as_string() == str(target))
            .limit(1)) is not None
    return SendContext(now=now, last_inbound_at=last, replied_item_created_at=replied_at,
                       private_reply_used=used)


def _email_options(session: Session, conv: Conversation, account: ChannelAccount,
                   anchor: Message | None, options: dict[str, Any]) -> None:
    """Subject and References of an email reply (the adapter has no database)."""
    if "subject" not in options:
        subject = anchor.subject if anchor is not None else None
        options["subject"] = subject or getattr(conv, "subject", None) or "Your message"
    if "references" not in options:
        ids = [pid for pid in session.scalars(
            select(Message.provider_id).where(Message.conversation_id == conv.id,
                                              Message.channel_account_id == account.id,
                                              Message.provider_id.is_not(None))
            .order_by(Message.created_at)) if pid and pid.startswith("<")]
        last = anchor.provider_id if anchor is not None else None
        refs = [pid for pid in ids if pid != last]
        options["references"] = (refs[:1] + refs[1:][-(MAX_REFERENCES - 2):]) if refs else []


def _add(session: Session, conv: Conversation, actor: Actor, now: datetime, *, channel: str,
         account_id: uuid.UUID | None, visibility: str, kind: str, text: str, delivery: str,
         meta: dict[str, Any], message_id: uuid.UUID | None = None,
         reply_to: str | None = None, thread_key: str | None = None) -> Message:
    message = Message(
        id=message_id or new_id(), workspace_id=conv.workspace_id, conversation_id=conv.id,
        channel_account_id=account_id, channel=channel, direction="outbound",
        visibility=visibility, kind=kind, text=text, delivery=delivery,
        author_type="agent" if actor.agent_id else ("automation" if actor.type == "system"
                                                    else "agent"),
        author_agent_id=actor.agent_id, reply_to_provider_id=reply_to, thread_key=thread_key,
        created_at=now, attachments=[], triage={}, meta=meta)
    session.add(message)
    conv.message_count += 1
    conv.updated_at = now
    held = delivery == HELD
    if not held:
        _answered(conv, kind, now)
    session.flush()
    audit(session, conv.workspace_id, f"{'note' if kind == 'note' else 'message'}.created",
          "message", message.id, actor_type=actor.type, actor_id=actor.id,
          data={"conversation_id": str(conv.id), "visibility": visibility, "channel": channel,
                **({"held": True} if held else {})})
    publish(session, conv.workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})
    if kind != "note" and not held:
        conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.REPLIED,
                           message_id=str(message.id), visibility=visibility,
                           by=actor.type)
    return message


def _answered(conv: Conversation, kind: str, now: datetime) -> None:
    """The conversation's side of a message that goes out (not of one held for approval)."""
    conv.last_message_at = now
    if kind != "note" and conv.first_response_at is None:
        conv.first_response_at = now
    if kind != "note":
        conv.sla_due_at = None  # answered: the clock restarts when the customer writes again
    if kind != "note" and conv.status == Status.OPEN:
        conv.status = Status.PENDING


def release(session: Session, conv: Conversation, message: Message, by: str) -> None:
    """An approved reply goes out now: the conversation is answered (as `_add` does for a
    reply that was never held) and the REPLIED event is emitted; the caller enqueues the
    send job. `by` is the author's actor type."""
    now = utcnow()
    _answered(conv, message.kind, now)
    conv.updated_at = now
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.REPLIED,
                       message_id=str(message.id), visibility=message.visibility, by=by)
