"""Automation rules of a workspace: read, save (validated, other workspaces' ids refused),
enable, reorder, delete, and the recent firings of a rule. Services never commit."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.automation.models import AutomationRule, AutomationRun
from threadline.automation.schemas import ACTION_TYPES, MAX_RULES, RuleIn
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed, validated
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.routing import ordering
from threadline.workspace.models import Agent, Team, Template

RUNS_SHOWN = 50
# The action fields that name a row of the workspace, and the table it must be found in.
_REFERENCES: dict[str, tuple[str, type[Any]]] = {
    "assign_team": ("team_id", Team), "assign_agent": ("agent_id", Agent),
    "send_template": ("template_id", Template)}


def field_of(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as the dotted field name an admin reads ("actions.0.priority"):
    the union's tag (the action type) is left out."""
    return ".".join(str(part) for part in loc if part not in ACTION_TYPES)


def parse_rule(raw: Any) -> RuleIn:
    """A rule from untrusted JSON (the settings form); a typed 422 naming the field."""
    return validated(RuleIn, raw, "invalid_rule", what="rule", field_of=field_of)


def _check_references(session: Session, workspace_id: uuid.UUID, rule: RuleIn) -> None:
    """Every team, agent and template an action names is of this workspace (404 naming the
    field otherwise: nothing tells whether it exists elsewhere)."""
    for index, action in enumerate(rule.actions):
        ref = _REFERENCES.get(action.type)
        if ref is None:
            continue
        attribute, model = ref
        row_id = getattr(action, attribute)
        found = session.scalar(select(model.id).where(model.id == row_id,
                                                      model.workspace_id == workspace_id))
        if found is None:
            field = f"actions.{index}.{attribute}"
            raise NotFound(f"{field}: no such {attribute.removesuffix('_id')} in this workspace",
                           code=f"{attribute.removesuffix('_id')}_not_found",
                           details={"field": field})


def list_rules(session: Session, workspace_id: uuid.UUID) -> list[AutomationRule]:
    return ordering.in_order(session, AutomationRule, workspace_id)


def access_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> AutomationRule:
    rule: AutomationRule = ordering.access(session, AutomationRule, workspace_id, rule_id,
                                           message="automation rule not found",
                                           code="rule_not_found")
    return rule


def _stored(rule: RuleIn) -> dict[str, Any]:
    return {"name": rule.name, "trigger": rule.trigger, "active": rule.active,
            "conditions": [c.model_dump(mode="json") for c in rule.conditions],
            "actions": [a.model_dump(mode="json") for a in rule.actions]}


def _changed(session: Session, rule: AutomationRule, action: str, actor: Actor,
             data: dict[str, Any] | None = None) -> None:
    audit(session, rule.workspace_id, action, "automation_rule", rule.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"name": rule.name, "trigger": rule.trigger, **(data or {})})
    publish(session, rule.workspace_id, Live.AUTOMATION_RULES_CHANGED,
            {"rule_id": str(rule.id), "action": action})


def create_rule(session: Session, workspace_id: uuid.UUID, data: RuleIn,
                actor: Actor) -> AutomationRule:
    """A new rule, last in the order."""
    count, last = session.execute(
        select(func.count(AutomationRule.id), func.max(AutomationRule.position))
        .where(AutomationRule.workspace_id == workspace_id)).one()
    if int(count or 0) >= MAX_RULES:
        raise ValidationFailed(f"at most {MAX_RULES} automation rules per workspace",
                               code="too_many_rules", details={"field": "rules"})
    _check_references(session, workspace_id, data)
    now = utcnow()
    rule = AutomationRule(id=new_id(), workspace_id=workspace_id,
                          position=(int(last) + 1) if last is not None else 0,
                          created_at=now, updated_at=now, **_stored(data))
    session.add(rule)
    session.flush()
    _changed(session, rule, "automation.rule_created", actor,
             {"actions": [a.type for a in data.actions]})
    return rule


def update_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, data: RuleIn,
                actor: Actor) -> AutomationRule:
    rule = access_rule(session, workspace_id, rule_id)
    _check_references(session, workspace_id, data)
    for key, value in _stored(data).items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    session.flush()
    _changed(session, rule, "automation.rule_updated", actor,
             {"actions": [a.type for a in data.actions]})
    return rule


def set_active(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, active: bool,
               actor: Actor) -> AutomationRule:
    rule = access_rule(session, workspace_id, rule_id)
    if rule.active != active:
        rule.active = active
        rule.updated_at = utcnow()
        _changed(session, rule, "automation.rule_enabled" if active
                 else "automation.rule_disabled", actor)
    return rule


def delete_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID,
                actor: Actor) -> None:
    rule = access_rule(session, workspace_id, rule_id)
    _changed(session, rule, "automation.rule_deleted", actor)
    session.delete(rule)
    session.flush()


def reorder(session: Session, workspace_id: uuid.UUID, rule_ids: list[uuid.UUID],
            actor: Actor) -> list[AutomationRule]:
    """Put the rules in the order given: every rule of the workspace, each once."""
    return ordering.reorder(session, workspace_id, list_rules(session, workspace_id), rule_ids,
                            actor, field="rule_ids", what="automation rule",
                            action="automation.rules_reordered",
                            topic=Live.AUTOMATION_RULES_CHANGED)


def move(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, step: int,
         actor: Actor) -> list[AutomationRule]:
    """Move a rule one place up (step -1) or down (+1); at an end it stays."""
    access_rule(session, workspace_id, rule_id)
    ids = [rule.id for rule in list_rules(session, workspace_id)]
    return reorder(session, workspace_id, ordering.moved(ids, rule_id, step), actor)


def recent_runs(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID,
                limit: int = RUNS_SHOWN) -> list[AutomationRun]:
    access_rule(session, workspace_id, rule_id)
    return list(session.scalars(
        select(AutomationRun).where(AutomationRun.rule_id == rule_id,
                                    AutomationRun.workspace_id == workspace_id)
        .order_by(AutomationRun.created_at.desc(), AutomationRun.id.desc()).limit(limit)))


# --- the settings page ---------------------------------------------------------------------

MAX_FORM_FIELD = 50_000  # characters of one JSON field of the settings form


@dataclass(frozen=True)
class SettingsView:
    """What the settings page shows: the rules in order, and the teams, agents and
    templates an action may name (with their ids)."""

    rules: list[AutomationRule]
    teams: list[Team]
    agents: list[Agent]
    templates: list[Template]


def settings_view(session: Session, workspace_id: uuid.UUID) -> SettingsView:
    return SettingsView(
        rules=list_rules(session, workspace_id),
        teams=list(session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                   .order_by(Team.name))),
        agents=list(session.scalars(select(Agent).where(Agent.workspace_id == workspace_id)
                                    .order_by(Agent.name))),
        templates=list(session.scalars(select(Template).where(
            Template.workspace_id == workspace_id).order_by(Template.name))))


def _json_field(fields: dict[str, str], name: str) -> Any:
    raw = fields.get(name, "").strip() or "[]"
    if len(raw) > MAX_FORM_FIELD:
        raise ValidationFailed(f"{name}: at most {MAX_FORM_FIELD} characters",
                               code="invalid_rule", details={"field": name})
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: not valid JSON ({exc.args[0][:80]})",
                               code="invalid_rule", details={"field": name}) from None


def save_rule_form(session: Session, workspace_id: uuid.UUID, fields: dict[str, str],
                   actor: Actor, rule_id: uuid.UUID | None = None) -> AutomationRule:
    """A rule from the settings form (name, trigger, active, and conditions and actions as
    JSON): created, or `rule_id` replaced. Same checks as the API."""
    data = parse_rule({"name": fields.get("name", ""), "trigger": fields.get("trigger", ""),
                       "active": fields.get("active") in ("on", "true", "1"),
                       "conditions": _json_field(fields, "conditions"),
                       "actions": _json_field(fields, "actions")})
    if rule_id is None:
        return create_rule(session, workspace_id, data, actor)
    return update_rule(session, workspace_id, rule_id, data, actor)
