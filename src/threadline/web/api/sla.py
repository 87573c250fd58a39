"""REST: service levels. Business-hour calendars and policies (read by supervisors, written
by admins; an invalid one is a 422 naming the field and nothing is stored; a team of another
workspace is a 404 naming the field), and a conversation's clocks and attainment (any agent
of the workspace)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from threadline.errors import NotFound
from threadline.sla import service
from threadline.sla.models import SlaPolicy
from threadline.sla.schemas import (
    AttainmentOut,
    CalendarIn,
    CalendarList,
    CalendarOut,
    ConversationSla,
    PolicyIn,
    PolicyList,
    PolicyOrderIn,
    PolicyOut,
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

router = APIRouter(tags=["service levels"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Anyone = Annotated[Principal, Depends(current_principal)]


def _policy(row: SlaPolicy) -> PolicyOut:
    return PolicyOut.model_validate(row, from_attributes=True)


@router.get("/sla/calendars", response_model=CalendarList, responses=errors(role=True))
def list_calendars(principal: Supervisor, session: ReadSession) -> CalendarList:
    """The workspace's business-hour calendars (with the teams that work by each)."""
    teams = service.teams_of(session, principal.workspace_id)
    return CalendarList(calendars=[service.calendar_out(c, teams.get(c.id, []))
                                   for c in service.list_calendars(session,
                                                                   principal.workspace_id)])


@router.post("/sla/calendars", response_model=CalendarOut, status_code=201,
             responses=errors(NotFound, role=True))
def create_calendar(body: CalendarIn, principal: Admin, session: WriteSession) -> CalendarOut:
    """A calendar: IANA time zone, hours per weekday, holidays, teams, default or not."""
    row = service.save_calendar(session, principal.workspace_id, body, principal.actor)
    return service.calendar_out(row, list(body.team_ids))


@router.get("/sla/calendars/{calendar_id}", response_model=CalendarOut,
            responses=errors(NotFound, role=True))
def get_calendar(calendar_id: uuid.UUID, principal: Supervisor,
                 session: ReadSession) -> CalendarOut:
    row = service.access_calendar(session, principal.workspace_id, calendar_id)
    return service.calendar_out(row, service.teams_of(session, principal.workspace_id)
                                .get(row.id, []))


@router.put("/sla/calendars/{calendar_id}", response_model=CalendarOut,
            responses=errors(NotFound, role=True))
def update_calendar(calendar_id: uuid.UUID, body: CalendarIn, principal: Admin,
                    session: WriteSession) -> CalendarOut:
    row = service.save_calendar(session, principal.workspace_id, body, principal.actor,
                                calendar_id)
    return service.calendar_out(row, list(body.team_ids))


@router.delete("/sla/calendars/{calendar_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_calendar(calendar_id: uuid.UUID, principal: Admin,
                    session: WriteSession) -> Response:
    service.delete_calendar(session, principal.workspace_id, calendar_id, principal.actor)
    return Response(status_code=204)


@router.get("/sla/policies", response_model=PolicyList, responses=errors(role=True))
def list_policies(principal: Supervisor, session: ReadSession) -> PolicyList:
    """The policies in order: the first that matches a conversation applies."""
    return PolicyList(policies=[_policy(p) for p in service.list_policies(
        session, principal.workspace_id)])


@router.post("/sla/policies", response_model=PolicyOut, status_code=201,
             responses=errors(NotFound, role=True))
def create_policy(body: PolicyIn, principal: Admin, session: WriteSession) -> PolicyOut:
    """A policy, last in the order (at most 100 per workspace)."""
    return _policy(service.save_policy(session, principal.workspace_id, body, principal.actor))


@router.get("/sla/policies/{policy_id}", response_model=PolicyOut,
            responses=errors(NotFound, role=True))
def get_policy(policy_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> PolicyOut:
    return _policy(service.access_policy(session, principal.workspace_id, policy_id))


@router.put("/sla/policies/{policy_id}", response_model=PolicyOut,
            responses=errors(NotFound, role=True))
def update_policy(policy_id: uuid.UUID, body: PolicyIn, principal: Admin,
                  session: WriteSession) -> PolicyOut:
    """Replace a policy (its place in the order is kept)."""
    return _policy(service.save_policy(session, principal.workspace_id, body, principal.actor,
                                       policy_id))


@router.delete("/sla/policies/{policy_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_policy(policy_id: uuid.UUID, principal: Admin, session: WriteSession) -> Response:
    service.delete_policy(session, principal.workspace_id, policy_id, principal.actor)
    return Response(status_code=204)


@router.put("/sla/order", response_model=PolicyList, responses=errors(role=True))
def reorder_policies(body: PolicyOrderIn, principal: Admin,
                     session: WriteSession) -> PolicyList:
    """Every policy id of the workspace, each once, in the new order."""
    rows = service.reorder_policies(session, principal.workspace_id, list(body.policy_ids),
                                    principal.actor)
    return PolicyList(policies=[_policy(p) for p in rows])


@router.get("/conversations/{conversation_id}/sla", response_model=ConversationSla,
            responses=errors(NotFound))
def conversation_sla(conversation_id: uuid.UUID, principal: Anyone,
                     session: ReadSession) -> ConversationSla:
    """The conversation's clocks (due times, paused or running, warned, breached), the
    policy and calendar that apply, and its attainment so far (met or breached per target)."""
    return service.conversation_sla(session, principal.workspace_id, conversation_id)


@router.get("/sla/attainment", response_model=AttainmentOut, responses=errors(role=True))
def attainment(principal: Supervisor, session: ReadSession,
               days: Annotated[int, Query(ge=1, le=366)] = 30) -> AttainmentOut:
    """Targets met and breached over the last `days` days, per target (the KPIs)."""
    return service.attainment(session, principal.workspace_id, days)
