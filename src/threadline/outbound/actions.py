"""Channel actions other than messages (hide or unhide a customer's public post or comment,
delete a public message: outbound/deletion.py), through the outbox: asked for by the inbound
flow (personal data posted in public is hidden at once) or by an agent (`request_action`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
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
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.outbound.deletion import DELETE, run_delete
from threadline.workspace.models import ChannelAccount

ACT_JOB = "channel.act"
ACTIONS = ("hide", "unhide")


def hideable(message: Message) -> bool:
    """A customer's public post or comment, still there, on a channel whose API lets the
    page hide it (the desktop shows Hide / Unhide for these)."""
    if (message.direction != Direction.INBOUND or message.visibility != Visibility.PUBLIC
            or not message.provider_id or message.deleted_at is not None
            or message.channel_account_id is None):
        return False
    try:
        return get_adapter(message.channel).traits.can_hide
    except ChannelError:
        return False


def request_action(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                   message_id: uuid.UUID, action: str, actor: Actor) -> dict[str, Any]:
    """An agent hides or unhides a customer's public post or comment on a channel that can
    (Facebook Page comments, Instagram comments): checked, audited and queued; the provider
    is called by the worker (`run_action`), which records the new state and tells the
    desktops. Asking for the state the message is already in queues nothing."""
    if action not in ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(ACTIONS)}",
                               code="invalid_action", details={"field": "action"})
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id or (
            message.conversation_id != conversation_id):
        raise NotFound("message not found")
    if not hideable(message):
        raise ValidationFailed("only a customer's public post or comment on a channel that "
                               "lets a page hide it (Facebook, Instagram) can be hidden",
                               code="not_hideable", details={"channel": message.channel})
    state = "queued"
    if bool((message.meta or {}).get("hidden")) == (action == "hide"):
        state = "done"
    else:
        enqueue(session, ACT_JOB, {"message_id": str(message_id), "action": action,
                                   "reason": "agent"}, workspace_id=workspace_id)
        audit(session, workspace_id, f"message.{action}_requested", "message", message_id,
              actor_type=actor.type, actor_id=actor.id)
    return {"message_id": str(message_id), "action": action, "state": state}


@handler(ACT_JOB)
def run_action(runtime: Runtime, job: Job) -> None:
    action = str(job.payload.get("action"))
    if action == DELETE:
        return run_delete(runtime, job)
    if action not in ACTIONS:
        raise PermanentFailure(f"unknown channel action {action!r}")
    message_id = uuid.UUID(job.payload["message_id"])
    with runtime.db.session(write=False) as session:
        message = session.get(Message, message_id)
        if message is None or message.channel_account_id is None or not message.provider_id:
            return
        if bool((message.meta or {}).get("hidden")) == (action == "hide"):
            return  # already done: a re-run changes nothing
        account = session.get(ChannelAccount, message.channel_account_id)
        if account is None:
            return
        config = account_config(account, runtime.settings)
        kind, target = account.kind, message.provider_id
    try:
        get_adapter(kind).act(config, ChannelAction(action, target=target), runtime.http)
    except RetryableSendError as exc:
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except PermanentSendError as exc:
        raise PermanentFailure(f"{exc.code}: {exc.redacted(config).message}") from None
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        meta = dict(message.meta or {})
        meta["hidden"] = action == "hide"
        session.execute(update(Message).where(Message.id == message_id).values(meta=meta))
        audit(session, message.workspace_id, f"message.{action}", "message", message_id,
              data={"reason": job.payload.get("reason", "public_pii")})
        publish(session, message.workspace_id, Live.MESSAGE_UPDATED,
                {"conversation_id": str(message.conversation_id),
                 "message_id": str(message_id), "hidden": meta["hidden"]})
