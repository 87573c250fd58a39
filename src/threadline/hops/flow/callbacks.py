"""Placing a callback: the outbox job `callback.place` dials through the voice adapter (Twilio
`Calls.json`) and puts the call record in the conversation's timeline.

Crash safety like the sender: the state `placing` is committed before the provider is called.
A job that finds a callback still `placing` cannot know whether the earlier attempt dialled
(Twilio's create takes no idempotency key), so it never dials again: the callback turns
`unknown` for an agent to check. Answers that mean "not processed" (429, 5xx, unreachable)
put it back to `scheduled` and retry. Consent is checked again right before dialling, so a
revocation after the request is honoured.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    OUTCOME_UNKNOWN_CODES,
    ChannelAction,
    PermanentSendError,
    RetryableSendError,
    SendResult,
)
from threadline.channels.registry import get_adapter
from threadline.contacts.service import has_consent
from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.hops.flow.offers import first_account
from threadline.hops.records import callbacks
from threadline.hops.records.models import Callback, Hop
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import ChannelAccount

GREETING = ("Hello, this is the callback you asked for. Please hold while we connect you "
            "to an agent.")


def _voice_account(session: Session, callback: Callback) -> ChannelAccount | None:
    hop_id = (callback.meta or {}).get("hop_id")
    hop = session.get(Hop, uuid.UUID(hop_id)) if hop_id else None
    if hop is not None and hop.to_account_id is not None:
        account = session.get(ChannelAccount, hop.to_account_id)
        if account is not None and account.kind == "voice":
            return account
    return first_account(session, callback.workspace_id, "voice")


def _start(runtime: Runtime, callback_id: uuid.UUID) -> tuple[ChannelAccount, str] | None:
    """Check and mark `placing` (committed); None when there is nothing to dial."""
    with runtime.db.session() as session:
        callback = session.get(Callback, callback_id)
        if callback is None or callback.state not in ("scheduled", "placing"):
            return None  # gone, or done already: a re-run changes nothing
        if callback.state == "placing":
            callbacks.set_state(session, callback, "unknown",
                                outcome="an earlier attempt may have dialled; not dialled again")
            return None
        now = utcnow()
        if callback.window_start is not None and callback.window_start > now:
            return None  # moved later; its own job comes then
        if callback.window_end is not None and callback.window_end < now:
            callbacks.set_state(session, callback, "expired", outcome="the window has passed")
            return None
        if not has_consent(session, callback.workspace_id, kind="phone", address=callback.phone,
                           purpose=callbacks.PURPOSE):
            callbacks.set_state(session, callback, "canceled", outcome="consent revoked")
            return None
        account = _voice_account(session, callback)
        if account is None:
            callbacks.set_state(session, callback, "failed", outcome="no voice account")
            return None
        callbacks.set_state(session, callback, "placing")
        session.expunge(account)
        return account, callback.phone


@handler(callbacks.PLACE_JOB)
def place_callback(runtime: Runtime, job: Job) -> None:
    callback_id = uuid.UUID(job.payload["callback_id"])
    started = _start(runtime, callback_id)
    if started is None:
        return
    account, phone = started
    action = ChannelAction("call", target=phone, params={
        "twiml": f"<Response><Say>{escape(GREETING)}</Say></Response>"})
    config = account_config(account, runtime.settings)
    try:
        result = get_adapter(account.kind).act(config, action, runtime.http)
    except RetryableSendError as exc:
        if exc.code not in OUTCOME_UNKNOWN_CODES:
            with runtime.db.session() as session:
                callback = session.get(Callback, callback_id)
                if callback is not None and callback.state == "placing":
                    callbacks.set_state(session, callback, "scheduled")
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except PermanentSendError as exc:
        with runtime.db.session() as session:
            callback = session.get(Callback, callback_id)
            if callback is not None:
                callbacks.set_state(session, callback, "failed",
                                    outcome=exc.redacted(config).message)
        return
    with runtime.db.session() as session:
        callback = session.get(Callback, callback_id)
        if callback is not None:
            _placed(session, callback, account, result)


def _placed(session: Session, callback: Callback, account: ChannelAccount,
            result: SendResult) -> None:
    callbacks.set_state(session, callback, "placed", call_provider_id=result.provider_id)
    conv = session.get(Conversation, callback.conversation_id)
    if conv is None:
        return
    now = utcnow()
    message = Message(
        id=new_id(), workspace_id=conv.workspace_id, conversation_id=conv.id,
        channel_account_id=account.id, channel=account.kind, direction="outbound",
        visibility="private", kind="call", text="Callback call (asked for by the customer)",
        provider_id=result.provider_id, delivery=result.state.value, author_type="automation",
        created_at=now, attachments=[], triage={},
        meta={"callback_id": str(callback.id), "call_status": "queued",
              "direction": "outbound-api", "recipient": callback.phone, **result.meta})
    session.add(message)
    conv.message_count += 1
    conv.last_message_at = now
    conv.updated_at = now
    session.flush()
    audit(session, conv.workspace_id, "message.created", "message", message.id,
          data={"conversation_id": str(conv.id), "kind": "call",
                "callback_id": str(callback.id)})
    publish(session, conv.workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})


def sync_outcomes(session: Session, items: list[Callback]) -> None:
    """A placed callback takes the outcome its call record reached (Twilio's callbacks)."""
    for callback in items:
        if callback.state != "placed" or not callback.call_provider_id:
            continue
        call = session.scalar(select(Message).where(
            Message.workspace_id == callback.workspace_id,
            Message.provider_id == callback.call_provider_id).limit(1))
        if call is None:
            continue
        if call.delivery == "delivered":
            callbacks.set_state(session, callback, "completed", outcome="completed")
        elif call.delivery == "failed":
            error = (call.delivery_error or "failed").strip().lower().replace("-", "_")
            state = error if error in callbacks.OUTCOMES else "failed"
            callbacks.set_state(session, callback, state, outcome=call.delivery_error)
