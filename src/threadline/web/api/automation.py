"""REST: automation rules (read by supervisors, written by admins) and their recent firings.
An invalid rule is a 422 naming the field; a team, agent or template of another workspace is
a 404 naming the field; nothing is stored either way."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from threadline.automation import service
from threadline.automation.models import AutomationRule, AutomationRun
from threadline.automation.schemas import (
    ActiveIn,
    OrderIn,
    RuleIn,
    RuleList,
    RuleOut,
    RunList,
    RunOut,
)
from threadline.errors import NotFound
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, admin, supervisor

router = APIRouter(tags=["automation"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]


def _out(rule: AutomationRule) -> RuleOut:
    return RuleOut.model_validate(rule, from_attributes=True)


@router.get("/automation/rules", response_model=RuleList, responses=errors(role=True))
def list_rules(principal: Supervisor, session: ReadSession) -> RuleList:
    """The workspace's rules in the order they run."""
    return RuleList(rules=[_out(r) for r in service.list_rules(session, principal.workspace_id)])


@router.post("/automation/rules", response_model=RuleOut, status_code=201,
             responses=errors(NotFound, role=True))
def create_rule(body: RuleIn, principal: Admin, session: WriteSession) -> RuleOut:
    """A new rule, last in the order (at most 200 per workspace)."""
    return _out(service.create_rule(session, principal.workspace_id, body, principal.actor))


@router.get("/automation/rules/{rule_id}", response_model=RuleOut,
            responses=errors(NotFound, role=True))
def get_rule(rule_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> RuleOut:
    return _out(service.access_rule(session, principal.workspace_id, rule_id))


@router.put("/automation/rules/{rule_id}", response_model=RuleOut,
            responses=errors(NotFound, role=True))
def update_rule(rule_id: uuid.UUID, body: RuleIn, principal: Admin,
                session: WriteSession) -> RuleOut:
    """Replace a rule's name, trigger, conditions, actions and state (its place is kept)."""
    return _out(service.update_rule(session, principal.workspace_id, rule_id, body,
                                    principal.actor))


@router.put("/automation/rules/{rule_id}/active", response_model=RuleOut,
            responses=errors(NotFound, role=True))
def set_active(rule_id: uuid.UUID, body: ActiveIn, principal: Admin,
               session: WriteSession) -> RuleOut:
    return _out(service.set_active(session, principal.workspace_id, rule_id, body.active,
                                   principal.actor))


@router.delete("/automation/rules/{rule_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_rule(rule_id: uuid.UUID, principal: Admin, session: WriteSession) -> Response:
    service.delete_rule(session, principal.workspace_id, rule_id, principal.actor)
    return Response(status_code=204)


@router.put("/automation/order", response_model=RuleList, responses=errors(role=True))
def reorder(body: OrderIn, principal: Admin, session: WriteSession) -> RuleList:
    """Every rule id of the workspace, each once, in the new order."""
    rules = service.reorder(session, principal.workspace_id, list(body.rule_ids),
                            principal.actor)
    return RuleList(rules=[_out(r) for r in rules])


def _run(run: AutomationRun) -> RunOut:
    return RunOut.model_validate(run, from_attributes=True)


@router.get("/automation/rules/{rule_id}/runs", response_model=RunList,
            responses=errors(NotFound, role=True))
def list_runs(rule_id: uuid.UUID, principal: Supervisor, session: ReadSession) -> RunList:
    """The rule's 50 most recent firings, newest first (failed ones say why)."""
    return RunList(runs=[_run(r) for r in service.recent_runs(session, principal.workspace_id,
                                                              rule_id)])
