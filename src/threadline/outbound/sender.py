"""The sender: one outbox job per outbound message, delivered through the channel adapter.

Three steps, each its own transaction, so that a crash anywhere is recovered by re-running
the job (docs/design.md#durability):

1. `begin_attempt` commits `meta.send.state = "in_flight"` before anything leaves.
2. `deliver` is the provider call (no database). If the previous attempt is still
   "in_flight" (the worker died between the call and the commit, or the call timed out after
   the request left), the outcome of that attempt is unknown and the adapter is asked first:
   - adapters with a `reconcile` hook (X, Twilio SMS) look the earlier send up; a found send is
     recorded instead of sending again, none found means a re-send is safe;
   - adapters whose re-send is harmless (`resend_is_idempotent`: email keeps its Message-ID)
     send again;
   - the others (Meta, WhatsApp, Telegram) are never sent twice: the message is marked failed
     with code `delivery_unknown` for the agent to check; an echo or status that later proves
     the send (Meta `client_message_id`, WhatsApp `biz_opaque_callback_data`) turns it sent.
3. `conclude` records the outcome: sent (+ provider id), failed (+ the provider's reason), or a
   retry (429 after Retry-After, 5xx with backoff) whose attempt is marked "not_sent" when the
   provider answered, or left "in_flight" when the outcome is unknown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    OUTCOME_UNKNOWN_CODES,
    AccountConfig,
    ChannelError,
    OutboundMessage,
    PermanentSendError,
    ReconcilingAdapter,
    RetryableSendError,
    SendResult,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.conversations.models import Message
from threadline.db.base import utcnow
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.media import service as media
from threadline.workspace.models import ChannelAccount

SEND_JOB = "message.send"
CLOCK_SLACK = timedelta(seconds=2)  # provider clocks and second-resolution timestamps


@dataclass(frozen=True)
class SendPlan:
    message_id: uuid.UUID
    kind: str
    config: AccountConfig
    outbound: OutboundMessage
    started_at: datetime
    unknown_since: datetime | None  # the earlier attempt whose outcome is unknown


@dataclass(frozen=True)
class Outcome:
    result: SendResult | None = None
    error: ChannelError | None = None
    reconciled: bool = False


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def begin_attempt(runtime: Runtime, message_id: uuid.UUID) -> SendPlan | None:
    """Mark an attempt as started (committed before the provider is called)."""
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.delivery != "pending" or message.channel_account_id is None:
            return None  # gone, or already sent/failed: a re-run changes nothing
        account = session.get(ChannelAccount, message.channel_account_id)
        if account is None:
            return None
        meta = dict(message.meta or {})
        previous = dict(meta.get("send") or {})
        if not account.active:  # disabled after the reply was queued: nothing leaves
            _record(session, message, state="failed", code="account_disabled",
                    error="the channel account is disabled; not sent",
                    unknown=previous.get("state") == "in_flight")
            return None
        unknown_since = (_parse_time(previous.get("started_at"))
                         if previous.get("state") == "in_flight" else None)
        now = utcnow()
        meta["send"] = {"state": "in_flight", "started_at": now.isoformat(),
                        "attempt": int(previous.get("attempt") or 0) + 1}
        if unknown_since is not None:
            meta["send"]["unknown_since"] = unknown_since.isoformat()
        session.execute(update(Message).where(Message.id == message_id).values(meta=meta))
        outbound = OutboundMessage(
            message_id=str(message.id), visibility=Visibility(message.visibility),
            text=message.text, recipient=meta.get("recipient"),
            in_reply_to=message.reply_to_provider_id, thread_key=message.thread_key,
            root_provider_id=message.root_provider_id,
            options=dict(meta.get("options") or {}),
            attachments=media.outbound(session, runtime.settings, message.workspace_id,
                                       message.attachments or [],
                                       with_bytes=media.needs_bytes(account.kind,
                                                                    runtime.settings)))
        return SendPlan(message_id=message_id, kind=account.kind,
                        config=account_config(account, runtime.settings), outbound=outbound,
                        started_at=now, unknown_since=unknown_since)


def deliver(runtime: Runtime, plan: SendPlan) -> Outcome:
    """The provider call (reconcile first when the previous attempt's outcome is unknown).
    An error's reason (shown to agents, audited, dead-lettered) is one bounded line without
    the account's credentials."""
    outcome = _call_provider(runtime, plan)
    if outcome.error is not None:
        return Outcome(error=outcome.error.redacted(plan.config))
    return outcome


def _call_provider(runtime: Runtime, plan: SendPlan) -> Outcome:
    adapter = get_adapter(plan.kind)
    try:
        if plan.unknown_since is not None:
            if isinstance(adapter, ReconcilingAdapter):
                found = adapter.reconcile(plan.config, plan.outbound, runtime.http,
                                          since=plan.unknown_since - CLOCK_SLACK)
                if found is not None:
                    return Outcome(result=found, reconciled=True)
            elif not getattr(adapter, "resend_is_idempotent", False):
                return Outcome(error=PermanentSendError(
                    f"an earlier attempt may have reached {plan.kind} and it cannot be looked "
                    "up; not sent again (check the conversation on the channel)",
                    code="delivery_unknown"))
        return Outcome(result=adapter.send(plan.config, plan.outbound, runtime.http))
    except (RetryableSendError, PermanentSendError) as exc:
        return Outcome(error=exc)
    except ChannelError as exc:  # misconfigured account and the like: retrying cannot help
        return Outcome(error=PermanentSendError(exc.message, code=exc.code))


def conclude(runtime: Runtime, plan: SendPlan, outcome: Outcome, *, attempts: int) -> None:
    """Record the outcome; raise RetryLater for a retryable error with attempts left."""
    if outcome.result is not None:
        _finish(runtime, plan.message_id, state=outcome.result.state.value,
                provider_id=outcome.result.provider_id, reconciled=outcome.reconciled)
        return
    error = outcome.error
    if isinstance(error, RetryableSendError):
        unknown = error.code in OUTCOME_UNKNOWN_CODES
        if attempts >= runtime.settings.max_attempts:
            _finish(runtime, plan.message_id, state="failed",
                    error=f"gave up after {attempts} attempts: {error.message}",
                    code=error.code, unknown=unknown)
            return
        _mark_attempt(runtime, plan.message_id, "in_flight" if unknown else "not_sent",
                      error)
        raise RetryLater(error.message, error.retry_after)
    if error is not None:
        _finish(runtime, plan.message_id, state="failed", error=error.message, code=error.code,
                unknown=error.code == "delivery_unknown")


@handler(SEND_JOB)
def send_message(runtime: Runtime, job: Job) -> None:
    plan = begin_attempt(runtime, uuid.UUID(job.payload["message_id"]))
    if plan is None:
        return
    conclude(runtime, plan, deliver(runtime, plan), attempts=job.attempts)


def _mark_attempt(runtime: Runtime, message_id: uuid.UUID, state: str,
                  error: ChannelError) -> None:
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.delivery != "pending":
            return
        meta = dict(message.meta or {})
        send = dict(meta.get("send") or {})
        if state == "in_flight" and send.get("unknown_since"):
            send["started_at"] = send["unknown_since"]  # still unknown since the first one
        send.update(state=state, last_error=error.message[:500], last_code=error.code)
        meta["send"] = send
        session.execute(update(Message).where(Message.id == message_id).values(meta=meta))


def _finish(runtime: Runtime, message_id: uuid.UUID, *, state: str,
            provider_id: str | None = None, error: str | None = None, code: str | None = None,
            reconciled: bool = False, unknown: bool = False) -> None:
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.delivery != "pending":
            return
        _record(session, message, state=state, provider_id=provider_id, error=error, code=code,
                reconciled=reconciled, unknown=unknown)


def _record(session: Session, message: Message, *, state: str, provider_id: str | None = None,
            error: str | None = None, code: str | None = None, reconciled: bool = False,
            unknown: bool = False) -> None:
    """Write the outcome of a pending message (audited, published to the desktops)."""
    message_id = message.id
    meta = dict(message.meta or {})
    send = dict(meta.get("send") or {})
    send["state"] = "unknown" if unknown else ("done" if state != "failed" else "failed")
    if code:
        send["last_code"] = code
    if reconciled:
        send["reconciled"] = True
    meta["send"] = send
    values: dict[str, Any] = {"delivery": state, "delivery_error": error, "meta": meta}
    if provider_id:
        values["provider_id"] = provider_id
    session.execute(update(Message).where(Message.id == message_id).values(**values))
    data: dict[str, Any] = {"error": error, "code": code} if error else {}
    if reconciled:
        data["reconciled"] = True
    audit(session, message.workspace_id, f"message.{state}", "message", message_id,
          data=data)
    publish(session, message.workspace_id, Live.MESSAGE_DELIVERY,
            {"conversation_id": str(message.conversation_id),
             "message_id": str(message_id), "delivery": state, "error": error})
