"""Deleting a public message on its channel: a customer's public comment (Facebook Page,
Instagram) or the brand's own public reply (Facebook, Instagram, X). Asked for by an agent
(`request_delete`: checked, audited, queued), done by the worker through the provider's API
(`run_delete`, the `delete` action of the `channel.act` job in outbound/actions.py), which
marks the message deleted and tells the desktops (docs/decisions/0325-deleting-public-messages.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelAction,
    ChannelError,
    Direction,
    PermanentSendError,
    RetryableSendError,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.conversations.models import Message
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import Conflict, Forbidden, NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.jobs.registry import Job, PermanentFailure, RetryLater
from threadline.workspace.models import ChannelAccount, Role

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

ACT_JOB = "channel.act"  # run by outbound/actions.py::run_action
DELETE = "delete"
# Why a message is deleted (recorded in the audit log with the agent).
REASONS: dict[str, str] = {
    "spam": "Spam or scam",
    "abuse": "Abusive or hateful",
    "personal_data": "Personal data in public",
    "off_topic": "Off topic",
    "mistake": "Sent by mistake or wrong",
    "other": "Other (see note)",
}
MAX_NOTE = 500
# The role that may delete a customer's comment; any agent may delete the brand's own reply.
CUSTOMER_COMMENT_ROLE = Role.SUPERVISOR


@dataclass(frozen=True)
class Deletion:
    """What the agent asked for: why (one of REASONS) and an optional note."""

    reason: str
    note: str = ""

    def checked(self) -> Deletion:
        if self.reason not in REASONS:
            raise ValidationFailed(f"reason must be one of {', '.join(REASONS)}",
                                   code="invalid_reason", details={"field": "reason"})
        note = self.note.strip()
        if len(note) > MAX_NOTE or any(ord(c) < 32 and c not in "\n\t" for c in note):
            raise ValidationFailed(f"a note has at most {MAX_NOTE} characters of text",
                                   code="invalid_note", details={"field": "note"})
        if self.reason == "other" and not note:
            raise ValidationFailed("say why in the note when the reason is 'other'",
                                   code="invalid_note", details={"field": "note"})
        return Deletion(self.reason, note)


def _channel_deletes(channel: str) -> frozenset[str]:
    """Whose public messages a channel's API lets the brand delete ("inbound": a customer's
    comment, "outbound": the brand's own reply); the adapter's `deletes`."""
    try:
        adapter = get_adapter(channel)
    except ChannelError:
        return frozenset()
    deletes: Any = getattr(adapter, "deletes", ())
    return frozenset(str(d) for d in deletes)


def deletable(message: Message) -> bool:
    """The desktop shows Delete for these: a public message, still there, that the channel
    lets the brand delete (whether this agent may is `may_delete`)."""
    return _refusal(message) is None


def may_delete(message: Message, role: str) -> bool:
    """A customer's comment needs a supervisor; the brand's own reply any agent."""
    if message.direction == Direction.INBOUND:
        return Role.RANK.get(role, -1) >= Role.RANK[CUSTOMER_COMMENT_ROLE]
    return True


def deletable_messages(session: Session, conversation_id: uuid.UUID, role: str, *,
                       besides: uuid.UUID | None = None) -> list[Message]:
    """The conversation's messages that someone of `role` may delete now (the desktop's
    Delete buttons)."""
    rows = session.scalars(select(Message).where(
        Message.conversation_id == conversation_id, Message.id != besides,
        Message.visibility == Visibility.PUBLIC, Message.deleted_at.is_(None))
        .order_by(Message.created_at))
    return [m for m in rows if deletable(m) and not deleting(m) and may_delete(m, role)]


def deleting(message: Message) -> bool:
    """A delete is queued and the provider has not answered yet."""
    return bool((message.meta or {}).get("deleting"))


def _refusal(message: Message) -> ValidationFailed | Conflict | None:
    if message.deleted_at is not None:
        return Conflict("this message is already deleted", code="already_deleted")
    if message.kind == "note" or message.visibility != Visibility.PUBLIC:
        return ValidationFailed("only a public post, comment or reply can be deleted on its "
                                "channel; a private message stays", code="private_message")
    if message.direction not in _channel_deletes(message.channel):
        whose = "a customer's" if message.direction == Direction.INBOUND else "the brand's"
        return ValidationFailed(f"{message.channel} does not let the brand delete {whose} "
                                "public message", code="channel_cannot_delete",
                                details={"channel": message.channel})
    if not message.provider_id or message.channel_account_id is None:
        return ValidationFailed("this message is not on the channel (not sent yet, or "
                                "failed)", code="not_on_channel")
    return None


def check_delete(message: Message, role: str) -> None:
    """Raise the typed refusal unless this message can be deleted by someone of `role`."""
    refused = _refusal(message)
    if refused is not None:
        raise refused
    if not may_delete(message, role):
        raise Forbidden(f"deleting a customer's comment needs the {CUSTOMER_COMMENT_ROLE} "
                        "role", code="insufficient_role")


def request_delete(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                   message_id: uuid.UUID, actor: Actor, role: str,
                   deletion: Deletion) -> dict[str, Any]:
    """An agent deletes a public message on its channel: checked, audited and queued; the
    worker calls the provider. Asking again while the delete is queued queues nothing."""
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id or (
            message.conversation_id != conversation_id):
        raise NotFound("message not found")
    deletion = deletion.checked()
    check_delete(message, role)
    if deleting(message):
        return {"message_id": str(message_id), "action": DELETE, "state": "queued"}
    meta = {k: v for k, v in (message.meta or {}).items() if k != "delete_error"}
    meta["deleting"] = {"reason": deletion.reason, "by": actor.id, "at": utcnow().isoformat()}
    message.meta = meta
    enqueue(session, ACT_JOB, {"message_id": str(message_id), "action": DELETE,
                               "target": message.provider_id, "reason": deletion.reason,
                               "note": deletion.note, "actor_type": actor.type,
                               "actor_id": actor.id}, workspace_id=workspace_id)
    audit(session, workspace_id, "message.delete_requested", "message", message_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"reason": deletion.reason, "note": deletion.note,
                "direction": message.direction, "channel": message.channel})
    publish(session, workspace_id, Live.MESSAGE_UPDATED,
            {"conversation_id": str(conversation_id), "message_id": str(message_id),
             "deleting": True})
    return {"message_id": str(message_id), "action": DELETE, "state": "queued"}


def run_delete(runtime: Runtime, job: Job) -> None:
    """The `delete` action of `channel.act`: keyed by the provider id, so a second run (after
    a crash between the provider's answer and the commit) finds the message deleted, or the
    provider answering that the object is gone, which the adapter counts as deleted."""
    message_id = uuid.UUID(str(job.payload["message_id"]))
    with runtime.db.session(write=False) as session:
        message = session.get(Message, message_id)
        if message is None or message.deleted_at is not None or (
                message.channel_account_id is None or not message.provider_id):
            return
        if message.provider_id != job.payload.get("target"):
            raise PermanentFailure("the message's provider id changed since the request")
        account = session.get(ChannelAccount, message.channel_account_id)
        if account is None:
            return
        config = account_config(account, runtime.settings)
        kind, target = account.kind, message.provider_id
    try:
        result = get_adapter(kind).act(config, ChannelAction(DELETE, target=target),
                                       runtime.http)
    except RetryableSendError as exc:
        if job.attempts < runtime.settings.max_attempts:
            raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
        reason = f"{exc.code}: {exc.redacted(config).message}"  # the last try: give up
        _failed(runtime, job, message_id, reason)
        raise PermanentFailure(reason) from None
    except PermanentSendError as exc:
        reason = f"{exc.code}: {exc.redacted(config).message}"
        _failed(runtime, job, message_id, reason)
        raise PermanentFailure(reason) from None
    actor_type = str(job.payload.get("actor_type") or "system")
    actor_id = job.payload.get("actor_id")
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.deleted_at is not None:
            return
        meta = {k: v for k, v in (message.meta or {}).items()
                if k not in ("deleting", "delete_error")}
        meta["deleted_by"] = {"type": actor_type, "id": actor_id,
                              "reason": job.payload.get("reason")}
        session.execute(update(Message).where(Message.id == message_id).values(
            deleted_at=utcnow(), meta=meta))
        audit(session, message.workspace_id, "message.delete", "message", message_id,
              actor_type=actor_type, actor_id=str(actor_id) if actor_id else None,
              data={"reason": job.payload.get("reason"), "note": job.payload.get("note", ""),
                    "provider_id": target,
                    "already_gone": bool(result.meta.get("already_gone"))})
        publish(session, message.workspace_id, Live.MESSAGE_DELETED,
                {"conversation_id": str(message.conversation_id),
                 "message_id": str(message_id)})


def _failed(runtime: Runtime, job: Job, message_id: uuid.UUID, reason: str) -> None:
    """The provider refused: the message stays, the agent sees why and may ask again."""
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        meta = {k: v for k, v in (message.meta or {}).items() if k != "deleting"}
        meta["delete_error"] = reason[:300]
        session.execute(update(Message).where(Message.id == message_id).values(meta=meta))
        audit(session, message.workspace_id, "message.delete_failed", "message", message_id,
              data={"reason": job.payload.get("reason"), "error": reason[:300]})
        publish(session, message.workspace_id, Live.MESSAGE_UPDATED,
                {"conversation_id": str(message.conversation_id),
                 "message_id": str(message_id), "deleting": False})
