"""REST: incidents (docs/incidents.md). Any member reads; supervisors and admins declare,
confirm, dismiss, answer, approve and close (403 `insufficient_role` otherwise); another
workspace's incident is a 404; a change in the wrong state a 409 `incident_state`; an answer
with personal data a 422 `pii_public`; nobody approves his own answer under an approval policy
that holds public replies (403 `own_reply`). The settings: read by supervisors, written by
admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from threadline.errors import Conflict, NotFound
from threadline.incidents import service
from threadline.incidents.models import Incident, IncidentStatus
from threadline.incidents.settings import (
    IncidentSettings,
    incident_settings,
    set_incident_settings,
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

router = APIRouter(tags=["incidents"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Member = Annotated[Principal, Depends(current_principal)]
StatusName = Literal["suggested", "open", "closed", "dismissed"]


class IncidentOut(BaseModel):
    id: uuid.UUID
    status: StatusName
    origin: str
    title: str
    terms: list[str]
    member_count: int
    first_post_at: datetime
    last_post_at: datetime
    answer_state: str
    answer_text: str | None = Field(description="the approved answer members get")
    draft_text: str | None = Field(description="a written answer waiting for approval")
    answer_version: int
    followup_text: str | None
    declared_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls(id=incident.id, status=incident.status,  # type: ignore[arg-type]
                   origin=incident.origin, title=incident.title,
                   terms=[str(t) for t in incident.terms or []],
                   member_count=incident.member_count, first_post_at=incident.first_post_at,
                   last_post_at=incident.last_post_at, answer_state=incident.answer_state,
                   answer_text=incident.answer_text, draft_text=incident.draft_text,
                   answer_version=incident.answer_version,
                   followup_text=incident.followup_text, declared_at=incident.declared_at,
                   closed_at=incident.closed_at)


class IncidentList(BaseModel):
    incidents: list[IncidentOut]


class SampleOut(BaseModel):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    channel: str
    text: str
    at: datetime


class EventOut(BaseModel):
    kind: str
    at: datetime
    actor_id: uuid.UUID | None
    data: dict[str, object]


class IncidentDetail(IncidentOut):
    samples: list[SampleOut]
    timeline: list[EventOut]
    members_by_state: dict[str, int]
    members_by_channel: dict[str, int]
    answers_by_delivery: dict[str, int]
    followups_by_delivery: dict[str, int]
    private_conversation_ids: list[uuid.UUID] = Field(
        description="conversations the members also opened privately (they keep them)")


class DeclareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=service.MAX_TITLE)
    conversation_ids: list[uuid.UUID] = Field(min_length=1, max_length=service.MAX_DECLARED)


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


def _detail(session: ReadSession, workspace_id: uuid.UUID,
            incident_id: uuid.UUID) -> IncidentDetail:
    view = service.incident_view(session, workspace_id, incident_id)
    base = IncidentOut.of(view.incident).model_dump()
    return IncidentDetail(
        **base, samples=[SampleOut(message_id=s.message_id, conversation_id=s.conversation_id,
                                   channel=s.channel, text=s.text, at=s.at)
                         for s in view.samples],
        timeline=[EventOut(kind=e.kind, at=e.at, actor_id=e.actor_id, data=dict(e.data or {}))
                  for e in view.events],
        members_by_state=view.states, members_by_channel=view.channels,
        answers_by_delivery=view.deliveries, followups_by_delivery=view.followups,
        private_conversation_ids=[c for c, _ in view.private_conversations])


@router.get("/incidents", response_model=IncidentList, responses=errors())
def list_incidents(principal: Member, session: ReadSession,
                   status: Annotated[list[StatusName] | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50) -> IncidentList:
    found = service.list_incidents(session, principal.workspace_id,
                                   statuses=tuple(status) if status else
                                   IncidentStatus.ALL, limit=limit)
    return IncidentList(incidents=[IncidentOut.of(i) for i in found])


@router.get("/incidents/{incident_id}", response_model=IncidentDetail,
            responses=errors(NotFound))
def get_incident(incident_id: uuid.UUID, principal: Member,
                 session: ReadSession) -> IncidentDetail:
    return _detail(session, principal.workspace_id, incident_id)


@router.post("/incidents", response_model=IncidentOut, status_code=201,
             responses=errors(NotFound, role=True))
def declare(body: DeclareIn, principal: Supervisor, session: WriteSession) -> IncidentOut:
    incident = service.declare(session, principal.workspace_id, principal.actor,
                               principal.role, title=body.title,
                               conversation_ids=body.conversation_ids)
    return IncidentOut.of(incident)


@router.post("/incidents/{incident_id}/confirm", response_model=IncidentOut,
             responses=errors(NotFound, Conflict, role=True))
def confirm(incident_id: uuid.UUID, principal: Supervisor,
            session: WriteSession) -> IncidentOut:
    return IncidentOut.of(service.confirm(session, principal.workspace_id, incident_id,
                                          principal.actor, principal.role))


@router.post("/incidents/{incident_id}/dismiss", response_model=IncidentOut,
             responses=errors(NotFound, Conflict, role=True))
def dismiss(incident_id: uuid.UUID, principal: Supervisor,
            session: WriteSession) -> IncidentOut:
    return IncidentOut.of(service.dismiss(session, principal.workspace_id, incident_id,
                                          principal.actor, principal.role))


@router.put("/incidents/{incident_id}/answer", response_model=IncidentOut,
            responses=errors(NotFound, Conflict, role=True))
def write_answer(incident_id: uuid.UUID, body: TextIn, principal: Supervisor,
                 session: WriteSession) -> IncidentOut:
    return IncidentOut.of(service.write_answer(session, principal.workspace_id, incident_id,
                                               principal.actor, principal.role, body.text))


@router.post("/incidents/{incident_id}/answer/approve", response_model=IncidentOut,
             responses=errors(NotFound, Conflict, role=True))
def approve_answer(incident_id: uuid.UUID, principal: Supervisor,
                   session: WriteSession) -> IncidentOut:
    return IncidentOut.of(service.approve_answer(session, principal.workspace_id, incident_id,
                                                 principal.actor, principal.role))


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut,
             responses=errors(NotFound, Conflict, role=True))
def close(incident_id: uuid.UUID, body: TextIn, principal: Supervisor,
          session: WriteSession) -> IncidentOut:
    return IncidentOut.of(service.close(session, principal.workspace_id, incident_id,
                                        principal.actor, principal.role, body.text))


@router.get("/settings/incidents", response_model=IncidentSettings, responses=errors(role=True))
def get_settings(principal: Supervisor, session: ReadSession) -> IncidentSettings:
    return incident_settings(session, principal.workspace_id)


@router.put("/settings/incidents", response_model=IncidentSettings,
            responses=errors(role=True))
def put_settings(body: IncidentSettings, principal: Admin,
                 session: WriteSession) -> IncidentSettings:
    return set_incident_settings(session, principal.workspace_id, body, principal.actor)
