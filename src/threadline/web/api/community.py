"""REST: the peer community (docs/community.md). The workspace's escalation rules (read by
supervisors, changed by admins: a 422 naming the field, nothing stored), a conversation's
community state, an accepted answer turned into a draft article, and marking a post of the
topic as its solution on the forum."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from threadline.community import service
from threadline.community.settings import (
    MAX_HOURS,
    MIN_HOURS,
    CommunitySettings,
    community_settings,
    set_community_settings,
)
from threadline.conversations.schemas import StrictInput
from threadline.conversations.service import access_conversation
from threadline.errors import NotFound, ValidationFailed
from threadline.schema_types import UUIDIn
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    current_principal,
    supervisor,
)

router = APIRouter(tags=["community"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Anyone = Annotated[Principal, Depends(current_principal)]


class CommunitySettingsIn(StrictInput):
    """Only the rules given change."""

    enabled: bool | None = None
    escalate_after_hours: float | None = Field(default=None, ge=MIN_HOURS, le=MAX_HOURS)
    escalate_on_negative: bool | None = None
    escalate_on_complaint: bool | None = None
    article_category: str | None = Field(default=None, min_length=1, max_length=80,
                                         pattern=r"^[^\x00-\x1f<>/]+$")


class CommunityStateOut(BaseModel):
    state: str = Field(description="community (peers have it) | escalated | solved | "
                                   "answered (by staff in time) | taken (by an agent early)")
    deadline: datetime | None
    reason: str | None = Field(description="why it was escalated: no_answer | "
                                            "negative_sentiment | complaint")
    solution_message_id: uuid.UUID | None
    topic_id: int | None


class ArticleMade(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    status: str
    category: str
    language: str


class SolutionIn(StrictInput):
    message_id: UUIDIn


class SolutionQueued(BaseModel):
    message_id: uuid.UUID
    state: str = "queued"


@router.get("/community/settings", response_model=CommunitySettings,
            responses=errors(role=True))
def get_settings(principal: Supervisor, session: ReadSession) -> CommunitySettings:
    return community_settings(session, principal.workspace_id)


@router.put("/community/settings", response_model=CommunitySettings,
            responses=errors(ValidationFailed, role=True))
def put_settings(body: CommunitySettingsIn, principal: Admin,
                 session: WriteSession) -> CommunitySettings:
    return set_community_settings(session, principal.workspace_id,
                                  body.model_dump(exclude_none=True), principal.actor)


@router.get("/conversations/{conversation_id}/community", response_model=CommunityStateOut,
            responses=errors(NotFound))
def get_state(conversation_id: uuid.UUID, principal: Anyone,
              session: ReadSession) -> CommunityStateOut:
    conv = access_conversation(session, principal.workspace_id, conversation_id)
    state = service.state_of(session, conv)
    if state is None:
        raise NotFound("this conversation is not a community topic", code="not_community")
    return CommunityStateOut(**state.__dict__)


@router.post("/conversations/{conversation_id}/community/article", response_model=ArticleMade,
             status_code=201, responses=errors(NotFound, ValidationFailed))
def make_article(conversation_id: uuid.UUID, principal: Anyone,
                 session: WriteSession) -> ArticleMade:
    """The accepted answer as a draft knowledge base article, in one step."""
    article = service.article_from_answer(session, principal.workspace_id, conversation_id,
                                          principal.actor)
    return ArticleMade(id=article.id, slug=article.slug, title=article.title,
                       status=article.status, category=article.category,
                       language=article.language)


@router.post("/conversations/{conversation_id}/community/solution",
             response_model=SolutionQueued, status_code=202,
             responses=errors(NotFound, ValidationFailed))
def mark_solution(conversation_id: uuid.UUID, body: SolutionIn, principal: Anyone,
                  session: WriteSession) -> SolutionQueued:
    """Mark a post of the topic as its solution on the forum (queued for the worker)."""
    message = service.request_solution(session, principal.workspace_id, conversation_id,
                                       body.message_id, principal.actor)
    return SolutionQueued(message_id=message.id)
