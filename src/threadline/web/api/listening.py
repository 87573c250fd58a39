"""REST: listening (docs/listening.md). Rules and settings are read by any agent and written by
supervisors; the Listening, Filtered, Opportunities and Defensive views are read by any
agent; converting a listened post or restoring a filtered one (into the queue) is any
agent's one step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from threadline.errors import Conflict, NotFound
from threadline.listening import service
from threadline.listening.models import ListenedPost
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    RuntimeDep,
    WriteSession,
    current_principal,
    supervisor,
)

router = APIRouter(prefix="/listening", tags=["listening"])
Anyone = Annotated[Principal, Depends(current_principal)]
Supervisor = Annotated[Principal, Depends(supervisor)]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: str = Field(max_length=40, description=(
        "keyword | hashtag | brand_name (the brand's names, without @) | competitor_handle "
        "| competitor_name"))
    value: str = Field(max_length=1000, description="1 to 60 characters once normalised")


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    rules: list[RuleIn] = Field(max_length=200)


class RuleOut(BaseModel):
    kind: str
    value: str


class RulesOut(BaseModel):
    rules: list[RuleOut]
    query: str = Field(description="the X recent-search query the rules make")


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    opportunities_enabled: bool | None = None
    opportunity_wait_minutes: int | None = None
    defensive_wait_minutes: int | None = None
    noise_filter: bool | None = None
    search_interval_seconds: int | None = None


class SettingsOut(BaseModel):
    opportunities_enabled: bool
    opportunity_wait_minutes: int
    defensive_wait_minutes: int
    noise_filter: bool
    search_interval_seconds: int


class PostOut(BaseModel):
    id: uuid.UUID
    channel: str
    provider_id: str
    author_handle: str | None
    author_name: str | None
    followers: int | None = Field(description="reach: the author's followers, when known")
    text: str
    posted_at: datetime
    source: str
    matched: list[str]
    competitor: str | None
    category: str | None
    sentiment: str | None
    state: str
    noise_reason: str | None
    conversation_id: uuid.UUID | None


class PostsOut(BaseModel):
    items: list[PostOut]


class OpportunityOut(BaseModel):
    post: PostOut
    waited_seconds: int


class OpportunitiesOut(BaseModel):
    enabled: bool
    items: list[OpportunityOut]


class ExposedOut(BaseModel):
    conversation_id: uuid.UUID
    reach: int | None
    waited_seconds: int
    category: str | None
    sentiment: str | None


class DefensiveOut(BaseModel):
    items: list[ExposedOut]


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    category: str | None = Field(default=None, max_length=40)
    sentiment: str | None = Field(default=None, max_length=40)


class ConversationRef(BaseModel):
    conversation_id: uuid.UUID


class SearchOut(BaseModel):
    scheduled: int = Field(description="listening accounts whose search was scheduled")


def _post(p: ListenedPost) -> PostOut:
    return PostOut(id=p.id, channel=p.channel, provider_id=p.provider_id,
                   author_handle=p.author_handle, author_name=p.author_name,
                   followers=p.followers, text=p.text, posted_at=p.posted_at, source=p.source,
                   matched=list(p.matched or []), competitor=p.competitor, category=p.category,
                   sentiment=p.sentiment, state=p.state, noise_reason=p.noise_reason,
                   conversation_id=p.conversation_id)


def _settings(row: object) -> SettingsOut:
    return SettingsOut.model_validate(row, from_attributes=True)


@router.get("/rules", response_model=RulesOut, responses=errors())
def get_rules(principal: Anyone, session: ReadSession) -> RulesOut:
    rules = service.list_rules(session, principal.workspace_id)
    return RulesOut(rules=[RuleOut(kind=r.kind, value=r.value) for r in rules],
                    query=service.query_of(rules))


@router.put("/rules", response_model=RulesOut, responses=errors(role=True))
def put_rules(body: RulesIn, principal: Supervisor, session: WriteSession) -> RulesOut:
    rules = service.replace_rules(session, principal.workspace_id,
                                  [r.model_dump() for r in body.rules], principal.actor)
    return RulesOut(rules=[RuleOut(kind=r.kind, value=r.value) for r in rules],
                    query=service.query_of(rules))


@router.get("/settings", response_model=SettingsOut, responses=errors())
def get_settings(principal: Anyone, session: ReadSession) -> SettingsOut:
    return _settings(service.get_settings(session, principal.workspace_id))


@router.patch("/settings", response_model=SettingsOut, responses=errors(role=True))
def patch_settings(body: SettingsIn, principal: Supervisor,
                   session: WriteSession) -> SettingsOut:
    changes = body.model_dump(exclude_none=True)
    return _settings(service.update_settings(session, principal.workspace_id, changes,
                                             principal.actor))


@router.get("/posts", response_model=PostsOut, responses=errors())
def list_posts(principal: Anyone, session: ReadSession,
               view: Annotated[Literal["listening", "filtered"], Query(description=(
                   "`listening` (posts that matched a rule) or `filtered` (the noise)"))]
               = "listening",
               reason: Annotated[str | None, Query(max_length=40, description=(
                   "filtered only: retweet | promotion | spam | not_for_brand"))] = None,
               ) -> PostsOut:
    if view == "filtered":
        posts = service.filtered_view(session, principal.workspace_id, reason=reason)
    else:
        posts = service.listening_view(session, principal.workspace_id)
    return PostsOut(items=[_post(p) for p in posts])


@router.get("/opportunities", response_model=OpportunitiesOut, responses=errors())
def list_opportunities(principal: Anyone, session: ReadSession) -> OpportunitiesOut:
    enabled = service.get_settings(session, principal.workspace_id).opportunities_enabled
    found = service.opportunities(session, principal.workspace_id)
    return OpportunitiesOut(enabled=enabled, items=[
        OpportunityOut(post=_post(o.post), waited_seconds=int(o.waited.total_seconds()))
        for o in found])


@router.get("/defensive", response_model=DefensiveOut, responses=errors())
def list_defensive(principal: Anyone, session: ReadSession) -> DefensiveOut:
    return DefensiveOut(items=[
        ExposedOut(conversation_id=e.conversation.id, reach=e.reach,
                   waited_seconds=int(e.waited.total_seconds()),
                   category=e.conversation.category, sentiment=e.conversation.sentiment)
        for e in service.defensive_view(session, principal.workspace_id)])


@router.post("/posts/{post_id}/convert", response_model=ConversationRef,
             responses=errors(NotFound, Conflict))
def convert(post_id: uuid.UUID, principal: Anyone, session: WriteSession,
            runtime: RuntimeDep) -> ConversationRef:
    conv = service.convert_post(session, runtime.settings, principal.workspace_id, post_id,
                                principal.actor)
    return ConversationRef(conversation_id=conv.id)


@router.post("/posts/{post_id}/restore", response_model=ConversationRef,
             responses=errors(NotFound, Conflict))
def restore(post_id: uuid.UUID, principal: Anyone, session: WriteSession,
            runtime: RuntimeDep, body: RestoreIn | None = None) -> ConversationRef:
    body = body or RestoreIn()
    conv = service.restore_post(session, runtime.settings, principal.workspace_id, post_id,
                                principal.actor, category=body.category,
                                sentiment=body.sentiment)
    return ConversationRef(conversation_id=conv.id)


@router.post("/search", status_code=202, response_model=SearchOut, responses=errors(role=True))
def search_now(principal: Supervisor, session: WriteSession) -> SearchOut:
    return SearchOut(scheduled=service.schedule_search(session, principal.workspace_id))
