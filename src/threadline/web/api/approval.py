"""REST: approval of public replies. The approval policy and the public-answer topics
(read by supervisors, written by admins), agents' flags (in training, may post in public),
and the approval queue: list, approve (as written or edited), reject with a reason.

An agent may not review (403), nobody reviews his own reply (403 `own_reply`), a review of
another workspace is a 404, a second decision a 409 (`already_decided`), and an edited text
meets the personal-data guard like any public reply (422 `pii_public`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from threadline.errors import Conflict, NotFound, PolicyViolation
from threadline.inbound.public_answers import (
    PublicAnswersIn,
    set_public_answers,
    stored_public_answers,
)
from threadline.outbound import approval as service
from threadline.outbound.approval_rules import (
    ApprovalPolicy,
    access_agent,
    approval_policy,
    set_agent_flags,
    set_approval_policy,
)
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    current_principal,
    supervisor,
)
from threadline.workspace.models import Agent

router = APIRouter(tags=["approval"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Member = Annotated[Principal, Depends(current_principal)]
StateName = Literal["pending", "approved", "rejected"]


class ApprovalOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    state: StateName
    held_for: list[str]
    author_type: str
    author_agent_id: uuid.UUID | None
    author_name: str | None
    text: str = Field(description="the reply as its author wrote it")
    edited_text: str | None = Field(description="the text a reviewer approved instead")
    channel: str
    delivery: str
    category: str | None
    reviewer_id: uuid.UUID | None
    reviewer_name: str | None
    reason: str | None = Field(description="why it was rejected (its author sees it)")
    created_at: datetime
    decided_at: datetime | None


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=service.MAX_TEXT,
                             description="an edited text to send instead (checked again)")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=service.MAX_REASON)


class AgentFlagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    in_training: bool | None = None
    may_post_public: bool | None = None


class AgentFlagsOut(BaseModel):
    agent_id: uuid.UUID
    name: str
    role: str
    in_training: bool
    may_post_public: bool


def _out(review: service.Review) -> ApprovalOut:
    a, m = review.approval, review.message
    return ApprovalOut(
        id=a.id, conversation_id=a.conversation_id, message_id=a.message_id,
        state=a.state,  # type: ignore[arg-type]
        held_for=[str(r) for r in a.held_for], author_type=a.author_type,
        author_agent_id=a.author_agent_id, author_name=review.author_name, text=a.text,
        edited_text=a.edited_text, channel=m.channel, delivery=m.delivery,
        category=review.conversation.category, reviewer_id=a.reviewer_id,
        reviewer_name=review.reviewer_name, reason=a.reason, created_at=a.created_at,
        decided_at=a.decided_at)


def _flags(agent: Agent) -> AgentFlagsOut:
    return AgentFlagsOut(agent_id=agent.id, name=agent.name, role=agent.role,
                         in_training=agent.in_training, may_post_public=agent.may_post_public)


@router.get("/settings/approval-policy", response_model=ApprovalPolicy,
            responses=errors(role=True))
def get_policy(principal: Supervisor, session: ReadSession) -> ApprovalPolicy:
    """Which public replies wait for approval (any part that applies holds the reply)."""
    return approval_policy(session, principal.workspace_id)


@router.put("/settings/approval-policy", response_model=ApprovalPolicy,
            responses=errors(role=True))
def put_policy(body: ApprovalPolicy, principal: Admin, session: WriteSession) -> ApprovalPolicy:
    return set_approval_policy(session, principal.workspace_id, body, principal.actor)


@router.get("/settings/public-answers", response_model=PublicAnswersIn,
            responses=errors(role=True))
def get_public_answers(principal: Supervisor, session: ReadSession) -> PublicAnswersIn:
    """Topics the team may answer in public and topics that always go private."""
    return stored_public_answers(session, principal.workspace_id)


@router.put("/settings/public-answers", response_model=PublicAnswersIn,
            responses=errors(role=True))
def put_public_answers(body: PublicAnswersIn, principal: Admin,
                       session: WriteSession) -> PublicAnswersIn:
    return set_public_answers(session, principal.workspace_id, body, principal.actor)


@router.get("/agents/{agent_id}/approval-flags", response_model=AgentFlagsOut,
            responses=errors(NotFound, role=True))
def get_agent_flags(agent_id: uuid.UUID, principal: Supervisor,
                    session: ReadSession) -> AgentFlagsOut:
    return _flags(access_agent(session, principal.workspace_id, agent_id))


@router.put("/agents/{agent_id}/approval-flags", response_model=AgentFlagsOut,
            responses=errors(NotFound, role=True))
def put_agent_flags(agent_id: uuid.UUID, body: AgentFlagsIn, principal: Admin,
                    session: WriteSession) -> AgentFlagsOut:
    """Mark an agent in training; give or take the permission to post in public."""
    return _flags(set_agent_flags(session, principal.workspace_id, agent_id, principal.actor,
                                  in_training=body.in_training,
                                  may_post_public=body.may_post_public))


@router.get("/approvals", response_model=ApprovalList, responses=errors(role=True))
def list_approvals(principal: Supervisor, session: ReadSession,
                   state: StateName = "pending",
                   conversation_id: uuid.UUID | None = None,
                   limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT)] = 50,
                   ) -> ApprovalList:
    """The approval queue (pending, oldest first) or decided reviews (newest first)."""
    return ApprovalList(approvals=[_out(r) for r in service.list_reviews(
        session, principal.workspace_id, state=state, conversation_id=conversation_id,
        limit=limit)])


@router.get("/approvals/{approval_id}", response_model=ApprovalOut,
            responses=errors(NotFound, role=True))
def get_approval(approval_id: uuid.UUID, principal: Member,
                 session: ReadSession) -> ApprovalOut:
    """One review: supervisors see any; an agent sees his own (with a rejection's reason)."""
    review = service.get_review(session, principal.workspace_id, approval_id)
    if principal.role == "agent" and review.approval.author_agent_id != principal.actor.agent_id:
        raise NotFound("approval not found", code="approval_not_found")
    return _out(review)


@router.post("/approvals/{approval_id}/approve", response_model=ApprovalOut,
             responses=errors(NotFound, Conflict, PolicyViolation, role=True))
def approve(approval_id: uuid.UUID, principal: Member, session: WriteSession,
            body: ApproveIn | None = None) -> ApprovalOut:
    """Approve the held reply (with `text`: edited); it is sent now."""
    return _out(service.approve(session, principal.workspace_id, approval_id, principal.actor,
                                principal.role, text=body.text if body else None))


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalOut,
             responses=errors(NotFound, Conflict, role=True))
def reject(approval_id: uuid.UUID, body: RejectIn, principal: Member,
           session: WriteSession) -> ApprovalOut:
    """Reject the held reply with a reason its author sees; it is never sent."""
    return _out(service.reject(session, principal.workspace_id, approval_id, principal.actor,
                               principal.role, reason=body.reason))
