"""Incidents, the supervisors' side: list and read (with a live count, sample posts and the
timeline), declare by hand, confirm or dismiss a suggested burst, write the one answer, approve
it, close with a follow-up. Services take a session and never commit."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.privacy import masked_text
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.db.locks import workspace_lock
from threadline.errors import Conflict, Forbidden, NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.incidents import members
from threadline.incidents.detection import changed, forget, recount, timeline
from threadline.incidents.models import (
    AnswerState,
    Incident,
    IncidentEvent,
    IncidentPost,
    IncidentStatus,
    PostState,
)
from threadline.jobs.hooks import OPERATIONS_LOCK
from threadline.outbound.approval_rules import approval_policy
from threadline.outbound.policy import check_outbound_text
from threadline.workspace.models import Agent, Role

MAX_TEXT = 2000
MAX_TITLE = 200
MAX_DECLARED = 500
CHANNEL_LIMITS = {"x": 280}  # the strictest public limit of a channel in the incident
SAMPLES = 5


def _supervisor(role: str) -> None:
    if Role.RANK.get(role, 0) < Role.RANK[Role.SUPERVISOR]:
        raise Forbidden("only supervisors and admins handle incidents", code="incident_role")


def access_incident(session: Session, workspace_id: uuid.UUID,
                    incident_id: uuid.UUID) -> Incident:
    incident = session.scalar(select(Incident).where(Incident.id == incident_id,
                                                     Incident.workspace_id == workspace_id))
    if incident is None:
        raise NotFound("incident not found", code="incident_not_found")
    return incident


def list_incidents(session: Session, workspace_id: uuid.UUID, *,
                   statuses: tuple[str, ...] = IncidentStatus.ALL,
                   limit: int = 50) -> list[Incident]:
    bad = set(statuses) - set(IncidentStatus.ALL)
    if bad:
        raise ValidationFailed(f"status is one of {', '.join(IncidentStatus.ALL)}",
                               code="bad_status", details={"field": "status"})
    order = (Incident.status != IncidentStatus.OPEN, Incident.last_post_at.desc())
    return list(session.scalars(select(Incident).where(
        Incident.workspace_id == workspace_id, Incident.status.in_(statuses))
        .order_by(*order).limit(max(1, min(limit, 200)))))


@dataclass
class Sample:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    channel: str
    text: str
    at: Any


@dataclass
class IncidentView:
    incident: Incident
    samples: list[Sample]
    events: list[IncidentEvent]
    states: dict[str, int]
    deliveries: dict[str, int]  # the answers' deliveries: pending, sent, failed ...
    followups: dict[str, int]
    channels: dict[str, int]
    private_conversations: list[tuple[uuid.UUID, str | None]]  # (conversation, customer)
    names: dict[uuid.UUID, str] = field(default_factory=dict)


def incident_view(session: Session, workspace_id: uuid.UUID,
                  incident_id: uuid.UUID) -> IncidentView:
    incident = access_incident(session, workspace_id, incident_id)
    samples = [Sample(m.id, m.conversation_id, m.channel, masked_text(m), m.created_at)
               for m in session.scalars(
                   select(Message).join(IncidentPost, IncidentPost.message_id == Message.id)
                   .where(IncidentPost.incident_id == incident.id)
                   .order_by(IncidentPost.seq.desc()).limit(SAMPLES))]
    events = list(session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id.desc()).limit(50)))
    states = Counter({s: int(n) for s, n in session.execute(
        select(IncidentPost.state, func.count()).where(IncidentPost.incident_id == incident.id)
        .group_by(IncidentPost.state))})
    channels = Counter({c: int(n) for c, n in session.execute(
        select(IncidentPost.channel, func.count()).where(
            IncidentPost.incident_id == incident.id).group_by(IncidentPost.channel))})

    def deliveries(column: Any) -> dict[str, int]:
        return {d: int(n) for d, n in session.execute(
            select(Message.delivery, func.count()).join(IncidentPost, column == Message.id)
            .where(IncidentPost.incident_id == incident.id).group_by(Message.delivery))}

    customers = select(IncidentPost.customer_id).where(
        IncidentPost.incident_id == incident.id, IncidentPost.customer_id.is_not(None))
    private = [(cid, name) for cid, name in session.execute(
        select(Conversation.id, Customer.name)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.workspace_id == workspace_id,
               Conversation.customer_id.in_(customers),
               Conversation.origin_visibility == "private",
               Conversation.merged_into_id.is_(None))
        .order_by(Conversation.last_message_at.desc()).limit(20))]
    agents = {a for a in (incident.declared_by, incident.draft_by, incident.approved_by,
                          incident.closed_by) if a}
    agents |= {e.actor_id for e in events if e.actor_id}
    names = {a: n for a, n in session.execute(select(Agent.id, Agent.name).where(
        Agent.id.in_(agents)))} if agents else {}
    return IncidentView(incident, samples, events, dict(states),
                        deliveries(IncidentPost.answer_message_id),
                        deliveries(IncidentPost.followup_message_id), dict(channels), private,
                        names)


# --- changes ----------------------------------------------------------------------------------


def _check_text(session: Session, incident: Incident, text: str, field_name: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise ValidationFailed("write the text customers will read", code="empty_message",
                               details={"field": field_name})
    kinds = set(session.scalars(select(IncidentPost.channel).where(
        IncidentPost.incident_id == incident.id).distinct()))
    limit = min([MAX_TEXT, *(CHANNEL_LIMITS[k] for k in kinds if k in CHANNEL_LIMITS)])
    if len(clean) > limit:
        raise ValidationFailed(f"at most {limit} characters (the strictest channel of this "
                               "incident)", code="text_too_long",
                               details={"field": field_name, "limit": limit})
    check_outbound_text(session, incident.workspace_id, clean, "public")
    return clean


def _audit(session: Session, incident: Incident, action: str, actor: Actor,
           **data: Any) -> None:
    audit(session, incident.workspace_id, f"incident.{action}", "incident", incident.id,
          actor_type=actor.type, actor_id=actor.id, data=data)


def _open(session: Session, incident: Incident, actor: Actor) -> None:
    now = utcnow()
    incident.status = IncidentStatus.OPEN
    incident.declared_at = now
    incident.declared_by = actor.agent_id
    conversations = set(session.scalars(select(IncidentPost.conversation_id).where(
        IncidentPost.incident_id == incident.id)))
    members.hold(session, incident, conversations)
    if incident.answer_state == AnswerState.APPROVED:
        members.fan_out(session, incident, "answer")
    forget(incident.workspace_id)


def confirm(session: Session, workspace_id: uuid.UUID, incident_id: uuid.UUID, actor: Actor,
            role: str) -> Incident:
    """A suggested burst becomes an open incident: its conversations leave the queue."""
    _supervisor(role)
    workspace_lock(session, workspace_id, OPERATIONS_LOCK)
    incident = access_incident(session, workspace_id, incident_id)
    if incident.status != IncidentStatus.SUGGESTED:
        raise Conflict(f"this incident is {incident.status}", code="incident_state",
                       details={"status": incident.status})
    _open(session, incident, actor)
    timeline(session, incident, "declared", actor_id=actor.agent_id,
             members=incident.member_count)
    _audit(session, incident, "declared", actor, members=incident.member_count)
    changed(session, incident, "status")
    return incident


def declare(session: Session, workspace_id: uuid.UUID, actor: Actor, role: str, *,
            title: str, conversation_ids: list[uuid.UUID]) -> Incident:
    """An incident declared by hand from public conversations: their public posts become its
    members (taken from a suggested burst if they were in one); similar posts join later."""
    _supervisor(role)
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(f"a title of 1-{MAX_TITLE} characters", code="bad_title",
                               details={"field": "title"})
    if not conversation_ids or len(conversation_ids) > MAX_DECLARED:
        raise ValidationFailed(f"choose 1-{MAX_DECLARED} conversations",
                               code="bad_conversations", details={"field": "conversation_ids"})
    workspace_lock(session, workspace_id, OPERATIONS_LOCK)
    ids = set(conversation_ids)
    found = set(session.scalars(select(Conversation.id).where(
        Conversation.id.in_(ids), Conversation.workspace_id == workspace_id)))
    if found != ids:
        raise NotFound("conversation not found")
    posts = list(session.execute(
        select(Message.id, Message.conversation_id, Message.channel_account_id,
               Message.channel, Message.created_at)
        .where(Message.conversation_id.in_(ids), Message.direction == "inbound",
               Message.visibility == "public", Message.author_type == "customer")))
    if not posts:
        raise ValidationFailed("these conversations have no public post of a customer",
                               code="no_public_posts", details={"field": "conversation_ids"})
    now = utcnow()
    incident = Incident(workspace_id=workspace_id, status=IncidentStatus.SUGGESTED,
                        origin="declared", title=title, terms=[], created_at=now,
                        first_post_at=now, last_post_at=now, pace={})
    session.add(incident)
    session.flush()
    cluster = new_id()
    stored = set(session.scalars(select(IncidentPost.message_id).where(
        IncidentPost.message_id.in_([p[0] for p in posts]))))
    session.execute(update(IncidentPost).where(IncidentPost.message_id.in_(stored))
                    .values(incident_id=incident.id, cluster_id=cluster,
                            state=PostState.MEMBER, joined_at=now))
    customers = {c: k for c, k in session.execute(select(
        Conversation.id, Conversation.customer_id).where(Conversation.id.in_(ids)))}
    new_rows = [{"workspace_id": workspace_id, "message_id": m, "conversation_id": c,
                 "channel_account_id": a, "channel": ch, "customer_id": customers.get(c),
                 "posted_at": at, "seen_at": now, "cluster_id": cluster,
                 "incident_id": incident.id, "joined_at": now, "state": PostState.MEMBER,
                 "held": False} for m, c, a, ch, at in posts if m not in stored]
    if new_rows:
        session.execute(IncidentPost.__table__.insert(), new_rows)  # type: ignore[attr-defined]
    recount(session, incident)
    for other in session.scalars(select(Incident).where(
            Incident.workspace_id == workspace_id, Incident.id != incident.id,
            Incident.status == IncidentStatus.SUGGESTED)):
        recount(session, other)
    _open(session, incident, actor)
    timeline(session, incident, "declared", actor_id=actor.agent_id, by_hand=True,
             members=incident.member_count)
    _audit(session, incident, "declared", actor, by_hand=True, members=incident.member_count)
    changed(session, incident, "status")
    return incident


def dismiss(session: Session, workspace_id: uuid.UUID, incident_id: uuid.UUID, actor: Actor,
            role: str) -> Incident:
    """Not an incident: its posts stay ordinary conversations of the queue."""
    _supervisor(role)
    incident = access_incident(session, workspace_id, incident_id)
    if incident.status != IncidentStatus.SUGGESTED:
        raise Conflict(f"this incident is {incident.status}", code="incident_state",
                       details={"status": incident.status})
    incident.status = IncidentStatus.DISMISSED
    incident.closed_at = utcnow()
    incident.closed_by = actor.agent_id
    timeline(session, incident, "dismissed", actor_id=actor.agent_id)
    _audit(session, incident, "dismissed", actor)
    changed(session, incident, "status")
    forget(workspace_id)
    return incident


def write_answer(session: Session, workspace_id: uuid.UUID, incident_id: uuid.UUID,
                 actor: Actor, role: str, text: str) -> Incident:
    """The one answer every member will get, waiting for approval (the guard runs now)."""
    _supervisor(role)
    incident = access_incident(session, workspace_id, incident_id)
    if incident.status not in IncidentStatus.LIVE:
        raise Conflict(f"this incident is {incident.status}", code="incident_state",
                       details={"status": incident.status})
    incident.draft_text = _check_text(session, incident, text, "text")
    incident.draft_by = actor.agent_id
    if incident.answer_state != AnswerState.APPROVED:
        incident.answer_state = AnswerState.PENDING
    timeline(session, incident, "answer_written", actor_id=actor.agent_id,
             length=len(incident.draft_text))
    _audit(session, incident, "answer_written", actor)
    changed(session, incident, "answer")
    return incident


def _needs_second_pair(session: Session, workspace_id: uuid.UUID) -> bool:
    """Under an approval policy that holds public replies, nobody approves his own answer."""
    policy = approval_policy(session, workspace_id)
    return bool(policy.all or policy.categories or policy.not_from_template
                or policy.in_training)


def approve_answer(session: Session, workspace_id: uuid.UUID, incident_id: uuid.UUID,
                   actor: Actor, role: str) -> Incident:
    """The written answer becomes the incident's answer; an open incident sends it now."""
    _supervisor(role)
    incident = access_incident(session, workspace_id, incident_id)
    if not incident.draft_text:
        raise Conflict("no answer is waiting for approval", code="no_answer")
    if incident.status not in IncidentStatus.LIVE:
        raise Conflict(f"this incident is {incident.status}", code="incident_state",
                       details={"status": incident.status})
    if (actor.agent_id is not None and actor.agent_id == incident.draft_by
            and _needs_second_pair(session, workspace_id)):
        raise Forbidden("another supervisor must approve your own answer", code="own_reply")
    text = _check_text(session, incident, incident.draft_text, "text")
    incident.answer_text = text
    incident.answer_version += 1
    incident.answer_state = AnswerState.APPROVED
    incident.approved_by = actor.agent_id
    incident.approved_at = utcnow()
    incident.draft_text = None
    if incident.status == IncidentStatus.OPEN:
        # members answered with an older version are not answered again
        members.fan_out(session, incident, "answer")
    timeline(session, incident, "answer_approved", actor_id=actor.agent_id,
             version=incident.answer_version)
    _audit(session, incident, "answer_approved", actor, version=incident.answer_version)
    changed(session, incident, "answer")
    return incident


def close(session: Session, workspace_id: uuid.UUID, incident_id: uuid.UUID, actor: Actor,
          role: str, text: str) -> Incident:
    """Over: one follow-up to every member, and the conversations the incident held (nothing
    else open in them) are resolved."""
    _supervisor(role)
    workspace_lock(session, workspace_id, OPERATIONS_LOCK)
    incident = access_incident(session, workspace_id, incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"this incident is {incident.status}", code="incident_state",
                       details={"status": incident.status})
    incident.followup_text = _check_text(session, incident, text, "text")
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = utcnow()
    incident.closed_by = actor.agent_id
    held = set(session.scalars(select(IncidentPost.conversation_id).where(
        IncidentPost.incident_id == incident.id, IncidentPost.held.is_(True))))
    members.release(session, held, status=Status.RESOLVED)
    members.fan_out(session, incident, "followup")
    timeline(session, incident, "closed", actor_id=actor.agent_id, resolved=len(held))
    _audit(session, incident, "closed", actor, resolved=len(held))
    changed(session, incident, "status")
    forget(workspace_id)
    return incident


def live_cards(session: Session, workspace_id: uuid.UUID) -> list[Incident]:
    """The inbox's cards: suggested and open incidents, open first, busiest first."""
    return list(session.scalars(select(Incident).where(
        Incident.workspace_id == workspace_id, Incident.status.in_(IncidentStatus.LIVE))
        .order_by(Incident.status != IncidentStatus.OPEN, Incident.member_count.desc())
        .limit(5)))
