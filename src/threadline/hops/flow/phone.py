"""The phone on the desktop (issue 15): the agent's own number, click-to-call from a
conversation, and the follow invitation after a call (decision 0326).

Click-to-call: the provider calls the agent's own phone first and, once he answers, bridges
the customer (`<Dial callerId=<the account's number>><Number>customer</Number></Dial>`). The
request writes the call record into the timeline and the outbox job `call.click_to_call` in
one transaction; the job dials. Crash safety as for callbacks: the record says `placing`
(committed) before the provider is called, and a job that finds it still `placing` never dials
again (Twilio's create takes no idempotency key) but marks the record `unknown`. Once dialled,
the record carries the CallSid, so Twilio's status and recording callbacks find it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    OUTCOME_UNKNOWN_CODES,
    ChannelAction,
    PermanentSendError,
    RetryableSendError,
)
from threadline.channels.registry import get_adapter
from threadline.contacts.models import Consent, Identity
from threadline.contacts.rules import normalize_phone
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import PolicyViolation, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.hops.flow.offers import first_account
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import Agent, ChannelAccount

CALL_JOB = "call.click_to_call"
GREETING = "Connecting you to the customer."
FOLLOW_KINDS = {"x": "X", "instagram": "Instagram", "facebook": "Facebook"}


class CallRefused(PolicyViolation):
    code = "call_refused"


# --- the agent's own phone -------------------------------------------------------------


def agent_phone(agent: Agent) -> str | None:
    number = (agent.phone or {}).get("number")
    return str(number) if number else None


def set_agent_phone(session: Session, agent: Agent, raw: str) -> Agent:
    """Set (or, with an empty value, clear) the number click-to-call rings first."""
    text = raw.strip()
    if len(text) > 40:
        raise ValidationFailed("not a phone number", code="invalid_phone")
    number = normalize_phone(text) if text else None
    agent.phone = {"number": number} if number else None
    audit(session, agent.workspace_id, "agent.phone_set" if number else "agent.phone_cleared",
          "agent", agent.id, actor_type="agent", actor_id=str(agent.id))
    return agent


# --- click-to-call -------------------------------------------------------------------------


def customer_phone(session: Session, conv: Conversation) -> str | None:
    """The customer's number: his most recently linked phone identity."""
    if conv.customer_id is None:
        return None
    found = session.scalar(select(Identity.address).where(
        Identity.workspace_id == conv.workspace_id, Identity.customer_id == conv.customer_id,
        Identity.kind == "phone").order_by(Identity.linked_at.desc()).limit(1))
    return str(found) if found else None


def calls_refused(session: Session, workspace_id: uuid.UUID, number: str) -> bool:
    """The customer said no to calls: consents for this number exist and all are revoked."""
    rows = list(session.execute(select(Consent.revoked_at).where(
        Consent.workspace_id == workspace_id, Consent.kind == "phone",
        Consent.address == number)))
    return bool(rows) and all(row.revoked_at is not None for row in rows)


def click_to_call(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                  agent: Agent) -> Message:
    """Write the call record and the job that dials; refusals are typed (4xx)."""
    conv = access_conversation(session, workspace_id, conversation_id)
    own = agent_phone(agent)
    if own is None:
        raise CallRefused("add your own phone number on your account page first: the call "
                          "rings you, then the customer", code="no_agent_phone",
                          details={"allowed": ["set_agent_phone"]})
    number = customer_phone(session, conv)
    if number is None:
        raise CallRefused("this customer has no phone number", code="no_customer_phone")
    if calls_refused(session, workspace_id, number):
        raise CallRefused("the customer withdrew his consent to calls on this number",
                          code="consent_revoked")
    account = first_account(session, workspace_id, "voice")
    if account is None:
        raise CallRefused("the workspace has no phone account", code="no_voice_account")
    now = utcnow()
    message = Message(
        id=new_id(), workspace_id=workspace_id, conversation_id=conv.id,
        channel_account_id=account.id, channel=account.kind, direction="outbound",
        visibility="private", kind="call", text="Outbound call (click-to-call): ringing you",
        provider_id=None, delivery="pending", author_type="agent", author_agent_id=agent.id,
        created_at=now, attachments=[], triage={},
        meta={"click_to_call": True, "call_status": "requested", "direction": "outbound-api",
              "agent_id": str(agent.id), "recipient": number})
    session.add(message)
    conv.message_count += 1
    conv.last_message_at = now
    conv.updated_at = now
    session.flush()
    enqueue(session, CALL_JOB, {"message_id": str(message.id)}, workspace_id=workspace_id)
    audit(session, workspace_id, "call.click_to_call", "conversation", conv.id,
          actor_type="agent", actor_id=str(agent.id), data={"message_id": str(message.id)})
    publish(session, workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})
    return message


def bridge_twiml(caller_id: str, customer: str, recording_callback: str | None) -> str:
    record = ""
    if recording_callback:
        record = (f' record="record-from-answer" recordingStatusCallback='
                  f'{quoteattr(recording_callback)}')
    return (f"<Response><Say>{escape(GREETING)}</Say><Dial callerId={quoteattr(caller_id)}"
            f"{record}><Number>{escape(customer)}</Number></Dial></Response>")


@dataclass(frozen=True)
class _Dial:
    account: ChannelAccount
    agent_phone: str
    customer: str


def _mark(message: Message, status: str, **changes: Any) -> None:
    message.meta = {**(message.meta or {}), "call_status": status}
    for key, value in changes.items():
        setattr(message, key, value)


def _start(runtime: Runtime, message_id: uuid.UUID) -> _Dial | None:
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.provider_id is not None:
            return None  # gone, or dialled already
        status = (message.meta or {}).get("call_status")
        if status == "placing":
            _mark(message, "unknown", delivery="failed",
                  delivery_error="an earlier attempt may have dialled; not dialled again")
            return None
        if status != "requested":
            return None
        agent_id = (message.meta or {}).get("agent_id")
        agent = session.get(Agent, uuid.UUID(str(agent_id))) if agent_id else None
        account = session.get(ChannelAccount, message.channel_account_id) \
            if message.channel_account_id else None
        own = agent_phone(agent) if agent is not None else None
        customer = str((message.meta or {}).get("recipient") or "")
        if agent is None or own is None or account is None or not account.active:
            _mark(message, "failed", delivery="failed",
                  delivery_error="no agent phone or no phone account any more")
            return None
        if calls_refused(session, message.workspace_id, customer):
            _mark(message, "canceled", delivery="failed", delivery_error="consent revoked")
            return None
        _mark(message, "placing")
        session.expunge(account)
        return _Dial(account, own, customer)


def _finish(runtime: Runtime, message_id: uuid.UUID, **changes: Any) -> None:
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        status = changes.pop("status")
        _mark(message, status, **changes)
        publish(session, message.workspace_id, Live.MESSAGE_EDITED,
                {"conversation_id": str(message.conversation_id),
                 "message_id": str(message.id)})


@handler(CALL_JOB)
def place_call(runtime: Runtime, job: Job) -> None:
    message_id = uuid.UUID(str(job.payload["message_id"]))
    dial = _start(runtime, message_id)
    if dial is None:
        return
    config = account_config(dial.account, runtime.settings)
    caller_id = str(config.get("from_number") or "")
    recording = None
    if config.get("record_calls") and runtime.settings.public_url:
        recording = (f"{runtime.settings.public_url.rstrip('/')}/webhooks/voice/"
                     f"{dial.account.id}")
    action = ChannelAction("call", target=dial.agent_phone, params={
        "twiml": bridge_twiml(caller_id, dial.customer, recording)})
    try:
        result = get_adapter(dial.account.kind).act(config, action, runtime.http)
    except RetryableSendError as exc:
        if exc.code not in OUTCOME_UNKNOWN_CODES:
            _finish(runtime, message_id, status="requested")
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except PermanentSendError as exc:
        _finish(runtime, message_id, status="failed", delivery="failed",
                delivery_error=exc.redacted(config).message)
        return
    _finish(runtime, message_id, status="queued", provider_id=result.provider_id,
            text="Outbound call (click-to-call): ringing you, then the customer")


# --- the follow invitation after a call ----------------------------------------------------


@dataclass(frozen=True)
class FollowHint:
    network: str  # the channel kind: x | instagram | facebook
    label: str
    account_name: str
    text: str


def follow_hints(session: Session, conv: Conversation) -> list[FollowHint]:
    """After a call in this conversation ended: the social accounts of the brand where the
    customer has an identity, with a short invitation to follow the brand there."""
    if conv.customer_id is None:
        return []
    if not _call_ended(session, conv):
        return []
    kinds = set(session.scalars(select(Identity.kind).where(
        Identity.workspace_id == conv.workspace_id, Identity.customer_id == conv.customer_id,
        Identity.kind.in_(tuple(FOLLOW_KINDS)))))
    hints: list[FollowHint] = []
    for kind in sorted(kinds):
        account = first_account(session, conv.workspace_id, kind)
        if account is None:
            continue
        label = FOLLOW_KINDS[kind]
        text = (f"Thank you for your call today! Follow us on {label} ({account.name}) for "
                f"news and quick answers.")
        hints.append(FollowHint(kind, label, account.name, text))
    return hints


def _call_ended(session: Session, conv: Conversation) -> bool:
    """A call of this conversation was answered and ended (its terminal status said
    `completed`)."""
    for direction, delivery, meta in session.execute(
            select(Message.direction, Message.delivery, Message.meta).where(
                Message.workspace_id == conv.workspace_id, Message.conversation_id == conv.id,
                Message.kind == "call").limit(50)):
        if (meta or {}).get("call_status") == "completed" or (
                direction == "outbound" and delivery == "delivered"):
            return True
    return False
