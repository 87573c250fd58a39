"""Channel actions other than messages (hide a public post or comment), through the outbox."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from threadline.adapters.config import account_config
from threadline.channels.base import ChannelAction, PermanentSendError, RetryableSendError
from threadline.channels.registry import get_adapter
from threadline.conversations.models import Message
from threadline.events.service import audit, publish
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import ChannelAccount

ACT_JOB = "channel.act"
ACTIONS = ("hide", "unhide")


@handler(ACT_JOB)
def run_action(runtime: Runtime, job: Job) -> None:
    action = str(job.payload.get("action"))
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
        publish(session, message.workspace_id, "message.updated",
                {"conversation_id": str(message.conversation_id),
                 "message_id": str(message_id), "hidden": meta["hidden"]})
