"""An open incident's side of its member conversations: it holds them out of the agents'
queue (snoozed until the hold runs out, unassigned work is not routed), gives a late post the
current answer, and lets a conversation go back to the queue when its customer writes
something that is not part of the burst (decision 0332)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, set_status
from threadline.db.base import utcnow
from threadline.events.service import enqueue
from threadline.incidents.detection import Joined
from threadline.incidents.models import AnswerState, Incident, IncidentPost, IncidentStatus
from threadline.incidents.settings import incident_settings

FANOUT_JOB = "incident.fanout"


def incident_actor(incident_id: uuid.UUID) -> Actor:
    return Actor("system", f"incident:{incident_id}")


def fan_out(session: Session, incident: Incident, phase: str) -> None:
    """Enqueue the fan-out of `phase` ("answer" or "followup"); the job works in chunks and
    re-enqueues itself until every member has his message."""
    enqueue(session, FANOUT_JOB, {"incident_id": str(incident.id), "phase": phase},
            workspace_id=incident.workspace_id)


def _with_private(session: Session, conversation_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not conversation_ids:
        return set()
    return set(session.scalars(select(Message.conversation_id).where(
        Message.conversation_id.in_(conversation_ids), Message.direction == "inbound",
        Message.visibility == "private").distinct()))


def hold(session: Session, incident: Incident, conversation_ids: Iterable[uuid.UUID]) -> int:
    """Take the member conversations out of the queue while the incident handles them. A
    conversation where the customer also wrote privately keeps its place (it is linked to
    the incident through its post)."""
    ids = set(conversation_ids)
    if not ids or incident.status != IncidentStatus.OPEN:
        return 0
    hours = incident_settings(session, incident.workspace_id).hold_hours
    until = utcnow() + timedelta(hours=hours)
    private = _with_private(session, ids)
    held: list[uuid.UUID] = []
    actor = incident_actor(incident.id)
    for conv in session.scalars(select(Conversation).where(
            Conversation.id.in_(ids - private),
            Conversation.workspace_id == incident.workspace_id,
            Conversation.merged_into_id.is_(None))):
        if conv.status in (Status.OPEN, Status.PENDING):
            set_status(session, conv, Status.SNOOZED, actor, snooze_until=until)
            held.append(conv.id)
        elif conv.status == Status.SNOOZED:
            held.append(conv.id)
    if held:
        session.execute(update(IncidentPost).where(
            IncidentPost.incident_id == incident.id,
            IncidentPost.conversation_id.in_(held)).values(held=True))
    return len(held)


def release(session: Session, conversation_ids: Iterable[uuid.UUID], *,
            status: str = Status.OPEN) -> None:
    """Conversations an incident held go back (`open`: to the queue; `resolved` when the
    incident closed and nothing else is open in them)."""
    ids = set(conversation_ids)
    if not ids:
        return
    for conv in session.scalars(select(Conversation).where(Conversation.id.in_(ids))):
        if conv.status == Status.SNOOZED and conv.merged_into_id is None:
            set_status(session, conv, status, Actor("system", "incidents"))
    session.execute(update(IncidentPost).where(IncidentPost.conversation_id.in_(ids),
                                               IncidentPost.held.is_(True)).values(held=False))


def after_join(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
               joined: list[Joined], *, received: list[uuid.UUID]) -> None:
    """After the detector placed a conversation's new posts: hold those of open incidents
    and send them the current answer; a held conversation whose customer wrote something
    else goes back to the queue."""
    by_incident: dict[uuid.UUID, set[uuid.UUID]] = {}
    for j in joined:
        by_incident.setdefault(j.incident_id, set()).add(j.conversation_id)
    for incident in session.scalars(select(Incident).where(Incident.id.in_(by_incident))):
        if incident.status != IncidentStatus.OPEN:
            continue
        hold(session, incident, by_incident[incident.id])
        if incident.answer_state == AnswerState.APPROVED:
            fan_out(session, incident, "answer")
    members = {j.message_id for j in joined}
    others = [m for m in received if m not in members]
    if not others:
        return
    held = session.scalar(select(IncidentPost.seq).where(
        IncidentPost.conversation_id == conversation_id, IncidentPost.held.is_(True)).limit(1))
    if held is None:
        return
    # a message of the customer that is not a post of the burst (a DM, a new question)
    outside = session.scalar(select(Message.id).where(
        Message.id.in_(others), Message.direction == "inbound").limit(1))
    if outside is not None:
        release(session, [conversation_id])
