"""REST: teams (members, skills), agents' routing profiles (skills, capacity, presence),
presence, routing rules (ordered, first match wins) and why a conversation went where it did.
Read by supervisors, written by admins; an agent sets his own presence. Invalid input is a 422
naming the field, an id of another workspace a 404; nothing is stored either way."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from threadline.errors import Conflict, Forbidden, NotFound
from threadline.routing import admin as service
from threadline.routing.models import RoutingRule
from threadline.routing.presence import set_presence
from threadline.routing.schemas import (
    OrderIn,
    PresenceIn,
    ProfileIn,
    ProfileList,
    ProfileOut,
    RoutingOut,
    RuleIn,
    RuleList,
    RuleOut,
    TeamIn,
    TeamList,
    TeamOut,
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
from threadline.workspace.models import Role

router = APIRouter(tags=["routing"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Anyone = Annotated[Principal, Depends(current_principal)]


# --- teams -----------------------------------------------------------------------------------


@router.get("/teams", response_model=TeamList, responses=errors(role=True))
def list_teams(principal: Supervisor, session: ReadSession) -> TeamList:
    """Teams with their skills and members."""
    return TeamList(teams=service.teams_out(session, service.list_teams(
        session, principal.workspace_id)))


@router.post("/teams", response_model=TeamOut, status_code=201,
             responses=errors(NotFound, Conflict, role=True))
def create_team(body: TeamIn, principal: Admin, session: WriteSession) -> TeamOut:
    """A team: its skills (languages such as `es`, `vip`, `channel:<name>`,
    `category:<name>`, `custom:<name>`) and members (with skills of their own in it)."""
    team = service.create_team(session, principal.workspace_id, body, principal.actor)
    return service.team_out(session, team)


@router.get("/teams/{team_id}", response_model=TeamOut, responses=errors(NotFound, role=True))
def get_team(team_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> TeamOut:
    return service.team_out(session, service.access_team(session, principal.workspace_id,
                                                         team_id))


@router.put("/teams/{team_id}", response_model=TeamOut,
            responses=errors(NotFound, Conflict, role=True))
def update_team(team_id: uuid.UUID, body: TeamIn, principal: Admin,
                session: WriteSession) -> TeamOut:
    """Replace name, skills and language requirement; `members`, when given, replaces the
    members."""
    team = service.update_team(session, principal.workspace_id, team_id, body, principal.actor)
    return service.team_out(session, team)


@router.delete("/teams/{team_id}", status_code=204,
               responses=errors(NotFound, Conflict, role=True))
def delete_team(team_id: uuid.UUID, principal: Admin, session: WriteSession) -> Response:
    """A team without active conversations; its members and rules go with it."""
    service.delete_team(session, principal.workspace_id, team_id, principal.actor)
    return Response(status_code=204)


# --- agents' routing profiles and presence --------------------------------------------------


@router.get("/routing/agents", response_model=ProfileList, responses=errors(role=True))
def list_profiles(principal: Supervisor, session: ReadSession) -> ProfileList:
    """Every active agent: skills, capacity and load per kind of work, presence, teams."""
    return ProfileList(agents=service.profiles(session, principal.workspace_id))


@router.get("/routing/agents/{agent_id}", response_model=ProfileOut,
            responses=errors(NotFound, role=True))
def get_profile(agent_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> ProfileOut:
    agent = service.access_agent(session, principal.workspace_id, agent_id)
    return service.profiles(session, principal.workspace_id, [agent])[0]


@router.patch("/routing/agents/{agent_id}", response_model=ProfileOut,
              responses=errors(NotFound, role=True))
def update_profile(agent_id: uuid.UUID, body: ProfileIn, principal: Admin,
                   session: WriteSession) -> ProfileOut:
    """Skills, capacity per kind of work (real-time, delayed) and presence; fields left out
    are kept."""
    agent = service.update_profile(session, principal.workspace_id, agent_id, body,
                                   principal.actor)
    return service.profiles(session, principal.workspace_id, [agent])[0]


@router.put("/routing/agents/{agent_id}/presence", response_model=ProfileOut,
            responses=errors(NotFound, Forbidden))
def put_presence(agent_id: uuid.UUID, body: PresenceIn, principal: Anyone,
                 session: WriteSession) -> ProfileOut:
    """Online, away or offline: an agent's token sets its own agent's, a supervisor's any.
    Offline hands the agent's real-time conversations back to the queue; online routes his
    teams' queues. Also counts as the agent being seen (call it to stay online without a
    desktop)."""
    if principal.actor.agent_id != agent_id:
        principal.require(Role.SUPERVISOR)
    agent = service.access_agent(session, principal.workspace_id, agent_id)
    set_presence(session, agent, body.presence, principal.actor)
    return service.profiles(session, principal.workspace_id, [agent])[0]


# --- routing rules ---------------------------------------------------------------------------


def _rule(rule: RoutingRule) -> RuleOut:
    return RuleOut.model_validate(rule, from_attributes=True)


@router.get("/routing/rules", response_model=RuleList, responses=errors(role=True))
def list_rules(principal: Supervisor, session: ReadSession) -> RuleList:
    """The rules in the order they are tried (the first that matches wins)."""
    return RuleList(rules=[_rule(r) for r in service.list_rules(session,
                                                                principal.workspace_id)])


@router.post("/routing/rules", response_model=RuleOut, status_code=201,
             responses=errors(NotFound, role=True))
def create_rule(body: RuleIn, principal: Admin, session: WriteSession) -> RuleOut:
    """A new rule, last in the order (at most 200 per workspace)."""
    return _rule(service.create_rule(session, principal.workspace_id, body, principal.actor))


@router.get("/routing/rules/{rule_id}", response_model=RuleOut,
            responses=errors(NotFound, role=True))
def get_rule(rule_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> RuleOut:
    return _rule(service.access_rule(session, principal.workspace_id, rule_id))


@router.put("/routing/rules/{rule_id}", response_model=RuleOut,
            responses=errors(NotFound, role=True))
def update_rule(rule_id: uuid.UUID, body: RuleIn, principal: Admin,
                session: WriteSession) -> RuleOut:
    """Replace a rule (its place in the order is kept)."""
    return _rule(service.update_rule(session, principal.workspace_id, rule_id, body,
                                     principal.actor))


@router.delete("/routing/rules/{rule_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_rule(rule_id: uuid.UUID, principal: Admin, session: WriteSession) -> Response:
    service.delete_rule(session, principal.workspace_id, rule_id, principal.actor)
    return Response(status_code=204)


@router.put("/routing/order", response_model=RuleList, responses=errors(role=True))
def reorder(body: OrderIn, principal: Admin, session: WriteSession) -> RuleList:
    """Every rule id of the workspace, each once, in the new order."""
    return RuleList(rules=[_rule(r) for r in service.reorder(
        session, principal.workspace_id, list(body.rule_ids), principal.actor)])


@router.get("/conversations/{conversation_id}/routing", response_model=RoutingOut,
            responses=errors(NotFound))
def conversation_routing(conversation_id: uuid.UUID, principal: Anyone,
                         session: ReadSession) -> RoutingOut:
    """Why the conversation is where it is: kind of work, skills needed, who assigned it,
    and the router's decisions with their reasons, newest first."""
    return service.routing_of(session, principal.workspace_id, conversation_id)
