"""The fan-out: one public reply per member post, through the outbox, paced per channel
account, never twice to the same post.

`incident.fanout` takes a chunk of the incident's members that have no message of this phase
yet (under the workspace's "incidents" lock), writes each one's reply (the personal-data guard
and the channel's rules run per conversation, as for any reply) and its `incident.reply` send
job due at the account's next free slot, and records the message id on the member row, all
in one transaction: a crash leaves either all of it or none, and a post that has its message
id is never given another. It enqueues itself again until no member is left.

`incident.reply` sends one reply with the sender's three steps (outbound/sender.py: in-flight
mark, provider call, outcome; 429s honour Retry-After, an outcome left unknown is reconciled
or never re-sent), after waiting for a slot of the account's pace in the process's rate
limiter (shared through Redis when scaled): the due times spread the sends, the limiter keeps
a worker that fell behind from sending them all at once.

The reviewed incident answer is the approval of every reply it sends: the replies are not
held one by one (decision 0332).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
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
from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.db.locks import workspace_lock
from threadline.errors import PolicyViolation, RateLimited
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.incidents.detection import changed, timeline
from threadline.incidents.members import FANOUT_JOB
from threadline.incidents.models import (
    AnswerState,
    Incident,
    IncidentPost,
    IncidentStatus,
    PostState,
)
from threadline.incidents.settings import incident_settings
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.outbound import sender
from threadline.outbound.policy import check_outbound_text
from threadline.outbound.replies import release
from threadline.workspace.models import ChannelAccount

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

REPLY_JOB = "incident.reply"
CHUNK = 50
LOCK = "incidents"
MAX_PACE_WAIT = 5.0  # seconds a send waits for its slot before giving the worker back


def _slot(incident: Incident, account_id: uuid.UUID, per_minute: int,
          now: datetime) -> datetime:
    """The account's next free slot for this incident, and book it."""
    pace = dict(incident.pace or {})
    key = str(account_id)
    try:
        free = datetime.fromisoformat(str(pace.get(key))) if pace.get(key) else now
    except ValueError:
        free = now
    due = max(now, free)
    pace[key] = (due + timedelta(seconds=60.0 / per_minute)).isoformat()
    incident.pace = pace
    return due


def _refuse(row: IncidentPost, reason: str) -> None:
    row.state = PostState.REFUSED
    row.reason = reason[:64]


def _write_reply(session: Session, incident: Incident, row: IncidentPost, text: str,
                 phase: str, now: datetime) -> Message | None:
    """The reply to one member post (None: refused, with the reason on the row)."""
    anchor = session.get(Message, row.message_id)
    conv = session.get(Conversation, row.conversation_id)
    if anchor is None or conv is None or anchor.deleted_at is not None:
        _refuse(row, "anchor_gone")
        return None
    if conv.merged_into_id is not None:
        conv = session.get(Conversation, conv.merged_into_id) or conv
    account = session.get(ChannelAccount, anchor.channel_account_id)
    if account is None or not account.active or account.workspace_id != incident.workspace_id:
        _refuse(row, "account_disabled")
        return None
    try:
        check_outbound_text(session, incident.workspace_id, text, "public", conversation=conv)
    except PolicyViolation as exc:
        _refuse(row, exc.code)
        return None
    ident = session.get(Identity, anchor.identity_id) if anchor.identity_id else None
    message_id = new_id()
    outbound = OutboundMessage(message_id=str(message_id), visibility=Visibility.PUBLIC,
                               text=text, recipient=ident.address if ident else None,
                               in_reply_to=anchor.provider_id,
                               root_provider_id=anchor.root_provider_id)
    try:
        get_adapter(account.kind).check_send(account_config(account), outbound,
                                             SendContext(now=now))
    except SendPolicyError as exc:
        _refuse(row, exc.code)
        return None
    except ChannelError as exc:
        _refuse(row, exc.code)
        return None
    message = Message(
        id=message_id, workspace_id=incident.workspace_id, conversation_id=conv.id,
        channel_account_id=account.id, channel=account.kind, direction="outbound",
        visibility="public", kind="message", text=text, delivery="pending",
        author_type="automation", reply_to_provider_id=anchor.provider_id,
        root_provider_id=anchor.root_provider_id, created_at=now, attachments=[], triage={},
        meta={"recipient": outbound.recipient, "options": {},
              "incident": {"id": str(incident.id), "phase": phase,
                           "post_id": str(anchor.id)}})
    session.add(message)
    conv.message_count += 1
    conv.updated_at = now
    session.flush()
    release(session, conv, message, by="system")
    audit(session, incident.workspace_id, "message.created", "message", message.id,
          actor_type="system", actor_id=f"incident:{incident.id}",
          data={"conversation_id": str(conv.id), "visibility": "public",
                "channel": account.kind, "incident_id": str(incident.id), "phase": phase})
    publish(session, incident.workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})
    per_minute = incident_settings(session, incident.workspace_id).pace(account.kind)
    enqueue(session, REPLY_JOB, {"message_id": str(message.id), "per_minute": per_minute,
                                 "account_id": str(account.id)},
            workspace_id=incident.workspace_id,
            due_at=_slot(incident, account.id, per_minute, now))
    return message


def _pending_rows(session: Session, incident: Incident, phase: str) -> list[IncidentPost]:
    stmt = select(IncidentPost).where(IncidentPost.incident_id == incident.id)
    if phase == "answer":
        stmt = stmt.where(IncidentPost.state == PostState.MEMBER)
    else:
        stmt = stmt.where(IncidentPost.followup_message_id.is_(None),
                          IncidentPost.state.in_((PostState.MEMBER, PostState.QUEUED)))
    return list(session.scalars(stmt.order_by(IncidentPost.seq).limit(CHUNK)))


def fan_out_chunk(session: Session, incident: Incident, phase: str) -> int:
    """Write the next chunk's replies; returns how many rows it settled (0: done)."""
    if phase == "answer":
        if incident.status != IncidentStatus.OPEN or incident.answer_state != \
                AnswerState.APPROVED or not incident.answer_text:
            return 0
        text = incident.answer_text
    else:
        if incident.status != IncidentStatus.CLOSED or not incident.followup_text:
            return 0
        text = incident.followup_text
    rows = _pending_rows(session, incident, phase)
    now = utcnow()
    sent = 0
    for row in rows:  # every post its own reply, anchored on it (two posts: two replies)
        message = _write_reply(session, incident, row, text, phase, now)
        if message is None:
            if phase == "followup":
                row.followup_message_id = row.message_id  # settled: nothing to send
            continue
        sent += 1
        if phase == "answer":
            row.answer_message_id = message.id
            row.answer_version = incident.answer_version
            row.state = PostState.QUEUED
        else:
            row.followup_message_id = message.id
    if rows:
        timeline(session, incident, f"{phase}_queued", replies=sent, settled=len(rows))
        changed(session, incident, "sending")
    return len(rows)


@handler(FANOUT_JOB)
def handle_fanout(runtime: Runtime, job: Job) -> None:
    try:
        incident_id = uuid.UUID(str(job.payload["incident_id"]))
        phase = str(job.payload.get("phase") or "answer")
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed fan-out: {type(exc).__name__}") from None
    if phase not in ("answer", "followup"):
        raise PermanentFailure("unknown fan-out phase")
    with runtime.db.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return
        workspace_lock(session, incident.workspace_id, LOCK)
        session.refresh(incident)
        if fan_out_chunk(session, incident, phase) >= CHUNK:
            enqueue(session, FANOUT_JOB, {"incident_id": str(incident.id), "phase": phase},
                    workspace_id=incident.workspace_id)


def _wait_for_slot(runtime: Runtime, payload: dict[str, Any]) -> None:
    per_minute = max(1, int(payload.get("per_minute") or 60))
    per_second = max(1, per_minute // 60)
    window = 1.0 if per_minute >= 60 else 60.0
    limit = per_second if per_minute >= 60 else per_minute
    key = f"incident-pace:{payload.get('account_id')}"
    deadline = time.monotonic() + MAX_PACE_WAIT
    while True:
        try:
            runtime.limiter.hit(key, limit, window)
            return
        except RateLimited:
            if time.monotonic() > deadline:
                raise RetryLater("waiting for the account's pace", 1.0) from None
            time.sleep(0.02)


@handler(REPLY_JOB)
def send_incident_reply(runtime: Runtime, job: Job) -> None:
    try:
        message_id = uuid.UUID(str(job.payload["message_id"]))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed reply job: {type(exc).__name__}") from None
    _wait_for_slot(runtime, job.payload)
    plan = sender.begin_attempt(runtime, message_id)
    if plan is None:
        return
    sender.conclude(runtime, plan, sender.deliver(runtime, plan), attempts=job.attempts)
