"""The review of held public replies (docs/approval.md): supervisors and admins approve a
reply as written, edit and approve it, or reject it with a reason its author sees.

Approval releases the reply: the guard and the channel's rules run again on the text that
will go out, the conversation is answered (REPLIED), and the send job the reply was written
with is enqueued: the provider is called only then. A rejected reply is never sent. A review
is decided once (a second decision is a 409, even when two supervisors click at once: the
state changes by a conditional UPDATE). Nobody approves his own reply.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from threadline.conversations.approvals import ApprovalState, ReplyApproval
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import utcnow
from threadline.errors import Conflict, Forbidden, NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.outbound.approval_rules import HELD, REJECTED
from threadline.outbound.replies import recheck, release
from threadline.workspace.models import Agent, Role

MAX_TEXT = 20_000  # as a reply written through the API
MAX_REASON = 500
LIST_LIMIT = 200


@dataclass(frozen=True)
class Review:
    """One approval with what a reviewer needs beside it."""

    approval: ReplyApproval
    message: Message
    conversation: Conversation
    author_name: str | None
    reviewer_name: str | None


def access_approval(session: Session, workspace_id: uuid.UUID,
                    approval_id: uuid.UUID) -> ReplyApproval:
    approval = session.scalar(select(ReplyApproval).where(
        ReplyApproval.id == approval_id, ReplyApproval.workspace_id == workspace_id))
    if approval is None:
        raise NotFound("approval not found", code="approval_not_found")
    return approval


def _reviews(session: Session, rows: list[ReplyApproval]) -> list[Review]:
    if not rows:
        return []
    messages = {m.id: m for m in session.scalars(select(Message).where(
        Message.id.in_([r.message_id for r in rows])))}
    convs = {c.id: c for c in session.scalars(select(Conversation).where(
        Conversation.id.in_({r.conversation_id for r in rows})))}
    agent_ids = {r.author_agent_id for r in rows} | {r.reviewer_id for r in rows}
    names: dict[uuid.UUID | None, str] = {
        agent_id: name for agent_id, name in session.execute(select(Agent.id, Agent.name).where(
            Agent.id.in_(agent_ids - {None})))}
    return [Review(r, messages[r.message_id], convs[r.conversation_id],
                   names.get(r.author_agent_id) if r.author_agent_id else r.author_actor,
                   names.get(r.reviewer_id) if r.reviewer_id else None)
            for r in rows if r.message_id in messages and r.conversation_id in convs]


def list_reviews(session: Session, workspace_id: uuid.UUID, *, state: str | None = "pending",
                 conversation_id: uuid.UUID | None = None,
                 limit: int = LIST_LIMIT) -> list[Review]:
    """Pending reviews oldest first (the queue); decided ones newest first."""
    stmt = select(ReplyApproval).where(ReplyApproval.workspace_id == workspace_id)
    if state is not None:
        if state not in ApprovalState.ALL:
            raise ValidationFailed(f"state is one of {', '.join(ApprovalState.ALL)}",
                                   code="invalid_state", details={"field": "state"})
        stmt = stmt.where(ReplyApproval.state == state)
    if conversation_id is not None:
        stmt = stmt.where(ReplyApproval.conversation_id == conversation_id)
    order = (ReplyApproval.created_at.asc() if state == ApprovalState.PENDING
             else ReplyApproval.created_at.desc())
    rows = list(session.scalars(stmt.order_by(order, ReplyApproval.id)
                                .limit(max(1, min(limit, LIST_LIMIT)))))
    return _reviews(session, rows)


def get_review(session: Session, workspace_id: uuid.UUID, approval_id: uuid.UUID) -> Review:
    return _reviews(session, [access_approval(session, workspace_id, approval_id)])[0]


def _reviewer(session: Session, workspace_id: uuid.UUID, actor: Actor, role: str,
              approval: ReplyApproval) -> uuid.UUID | None:
    if Role.RANK.get(role, 0) < Role.RANK[Role.SUPERVISOR]:
        raise Forbidden("only supervisors and admins review public replies",
                        code="approval_role")
    if actor.agent_id is not None and actor.agent_id == approval.author_agent_id:
        raise Forbidden("another supervisor must review your own reply", code="own_reply")
    if actor.agent_id is not None:
        agent = session.get(Agent, actor.agent_id)
        if agent is None or agent.workspace_id != workspace_id:
            raise NotFound("agent not found")
    return actor.agent_id


def _claim(session: Session, approval: ReplyApproval, state: str,
           reviewer_id: uuid.UUID | None, **values: object) -> None:
    """Decide once: the row changes only while it is pending (two reviewers: one wins)."""
    now = utcnow()
    result = session.execute(
        update(ReplyApproval).where(ReplyApproval.id == approval.id,
                                    ReplyApproval.state == ApprovalState.PENDING)
        .values(state=state, reviewer_id=reviewer_id, decided_at=now, **values)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        session.refresh(approval)
        raise Conflict(f"this reply was already {approval.state}", code="already_decided",
                       details={"state": approval.state})
    session.refresh(approval)


def _pending(approval: ReplyApproval) -> None:
    if approval.state != ApprovalState.PENDING:
        raise Conflict(f"this reply was already {approval.state}", code="already_decided",
                       details={"state": approval.state})


def _published(session: Session, approval: ReplyApproval, message: Message) -> None:
    payload = {"approval_id": str(approval.id), "conversation_id": str(approval.conversation_id),
               "message_id": str(message.id), "state": approval.state}
    publish(session, approval.workspace_id, Live.APPROVAL_CHANGED, payload)
    publish(session, approval.workspace_id, Live.MESSAGE_UPDATED,
            {"conversation_id": str(approval.conversation_id), "message_id": str(message.id),
             "delivery": message.delivery})


def approve(session: Session, workspace_id: uuid.UUID, approval_id: uuid.UUID, actor: Actor,
            role: str, *, text: str | None = None) -> Review:
    """Approve the held reply as written, or with `text` (an edit, checked again by the
    guard and the channel's rules); it is then sent like any reply."""
    approval = access_approval(session, workspace_id, approval_id)
    reviewer_id = _reviewer(session, workspace_id, actor, role, approval)
    _pending(approval)
    message = session.get(Message, approval.message_id)
    if message is None or message.delivery != HELD:
        raise Conflict("this reply is no longer held", code="already_decided")
    conv = access_conversation(session, workspace_id, approval.conversation_id)
    edited = None
    if text is not None:
        edited = text.strip()
        if not edited:
            raise ValidationFailed("a reply needs text", code="empty_message",
                                   details={"field": "text"})
        if len(edited) > MAX_TEXT:
            raise ValidationFailed(f"at most {MAX_TEXT} characters", code="text_too_long",
                                   details={"field": "text"})
        if edited == message.text:
            edited = None
    final = edited if edited is not None else message.text
    recheck(session, conv, message, final)  # the guard applies to what goes out
    _claim(session, approval, ApprovalState.APPROVED, reviewer_id, edited_text=edited)
    now = utcnow()
    message.delivery = "pending"
    if edited is not None:
        message.text = edited
        message.edited_at = now
    author_type = {"automation": "system"}.get(approval.author_type, approval.author_type)
    release(session, conv, message, by=author_type)
    enqueue(session, approval.send_job, {**approval.job_payload, "message_id": str(message.id)},
            workspace_id=workspace_id)
    session.flush()
    audit(session, workspace_id, "reply.approved", "message", message.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"conversation_id": str(conv.id), "approval_id": str(approval.id),
                "edited": edited is not None})
    _published(session, approval, message)
    return get_review(session, workspace_id, approval.id)


def reject(session: Session, workspace_id: uuid.UUID, approval_id: uuid.UUID, actor: Actor,
           role: str, *, reason: str) -> Review:
    """Reject the held reply: it is never sent; its author sees the reason on it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say why the reply is rejected: its author sees it",
                               code="reason_required", details={"field": "reason"})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"a reason has at most {MAX_REASON} characters",
                               code="reason_too_long", details={"field": "reason"})
    approval = access_approval(session, workspace_id, approval_id)
    reviewer_id = _reviewer(session, workspace_id, actor, role, approval)
    _pending(approval)
    message = session.get(Message, approval.message_id)
    if message is None or message.delivery != HELD:
        raise Conflict("this reply is no longer held", code="already_decided")
    _claim(session, approval, ApprovalState.REJECTED, reviewer_id, reason=reason)
    message.delivery = REJECTED
    message.delivery_error = f"Rejected: {reason}"
    session.flush()
    audit(session, workspace_id, "reply.rejected", "message", message.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"conversation_id": str(approval.conversation_id),
                "approval_id": str(approval.id)})
    _published(session, approval, message)
    return get_review(session, workspace_id, approval.id)


def pending_count(session: Session, workspace_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.count()).select_from(ReplyApproval).where(
        ReplyApproval.workspace_id == workspace_id,
        ReplyApproval.state == ApprovalState.PENDING)) or 0)
