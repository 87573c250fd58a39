"""Running the rules: the conversation hook at stage AUTOMATION.

For each event of a conversation job, in order, the active rules of the event's trigger run in
position order. A rule whose conditions hold fires its actions in order, inside
`acting_for_rules(chain + [rule id])`: every conversation event its actions cause carries the
chain, and a rule already in a job's chain is never evaluated for that job. A chain only
grows, by a rule not yet in it, so a cascade of rules ends after at most as many steps as
there are rules: a loop is impossible by construction.

Exactly once per event: a firing is recorded in `automation_runs`, unique on (rule, job,
event index), before the job's transaction commits; a job run again skips what it recorded.
Each rule runs in a savepoint: an action that fails (the guard refuses a template, an agent
was deleted) rolls back that rule's actions only; the run records the reason and the other
rules go on.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.automation.actions import automation_actor, perform
from threadline.automation.models import AutomationRule, AutomationRun
from threadline.automation.schemas import Action, RuleIn
from threadline.conversations.models import Conversation, Status
from threadline.db.base import utcnow
from threadline.errors import ThreadlineError
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, acting_for_rules, audit, publish
from threadline.jobs.hooks import AUTOMATION, ConversationEvents, conversation_hook
from threadline.routing.conditions import facts_for, matches, parse_conditions

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.automation")
FIRED_ACTION = Live.AUTOMATION_FIRED
MAX_ERROR = 500
_TRIGGER_OF = {ConversationEvent.MESSAGE_RECEIVED: "message_received",
               ConversationEvent.CREATED: "conversation_created",
               ConversationEvent.SLA_WARNING: "sla_warning",
               ConversationEvent.SLA_BREACH: "sla_breach"}


def trigger_of(event: dict[str, Any]) -> str | None:
    """The rules' trigger an event is, if any."""
    name = event.get("event")
    if name == ConversationEvent.STATUS_CHANGED:
        return "conversation_resolved" if event.get("to") == Status.RESOLVED else None
    return _TRIGGER_OF.get(str(name))


def _message_id(event: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(event["message_id"])) if event.get("message_id") else None
    except ValueError:
        return None


def _actions(rule: AutomationRule) -> list[Action]:
    return RuleIn.model_validate({"name": rule.name, "trigger": rule.trigger,
                                  "conditions": rule.conditions,
                                  "actions": rule.actions}).actions


@conversation_hook(AUTOMATION, "automation")
def run_rules(_runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    triggers = [trigger_of(event) for event in batch.events]
    if not any(triggers):
        return
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id:
        return
    by_trigger: dict[str, list[AutomationRule]] = defaultdict(list)
    for rule in session.scalars(
            select(AutomationRule).where(AutomationRule.workspace_id == batch.workspace_id,
                                         AutomationRule.active.is_(True),
                                         AutomationRule.trigger.in_(
                                             {t for t in triggers if t}))
            .order_by(AutomationRule.position, AutomationRule.created_at)):
        if str(rule.id) not in batch.chain:  # never again in the chain it caused
            by_trigger[rule.trigger].append(rule)
    if not by_trigger:
        return
    done: set[tuple[uuid.UUID, int]] = set()
    if batch.job_id is not None:
        done = {(rule_id, index) for rule_id, index in session.execute(
            select(AutomationRun.rule_id, AutomationRun.event_index)
            .where(AutomationRun.job_id == batch.job_id))}
    for index, (event, trigger) in enumerate(zip(batch.events, triggers, strict=True)):
        facts = None  # read once per event, again after a rule has changed the conversation
        for rule in by_trigger.get(trigger or "", ()):
            if (rule.id, index) in done or conv.merged_into_id is not None:
                continue
            if facts is None:
                facts = facts_for(session, conv, _message_id(event))
            name = str(event.get("event"))
            try:
                conditions, actions = parse_conditions(rule.conditions), _actions(rule)
            except ValidationError:  # stored before a check it fails: it must not block
                _record(session, conv, rule, batch, index, name, [],  # routing and SLAs
                        "invalid_rule: the stored rule is no longer valid; edit it")
                continue
            if matches(conditions, facts):
                _fire(session, conv, rule, actions, batch, index, name)
                facts = None


def _fire(session: Session, conv: Conversation, rule: AutomationRule, actions: list[Action],
          batch: ConversationEvents, index: int, event: str) -> None:
    actor = automation_actor(rule.id)
    results: list[dict[str, Any]] = []
    error: str | None = None
    try:
        with session.begin_nested(), acting_for_rules(session, [*batch.chain, str(rule.id)]):
            for action in actions:
                results.append(perform(session, conv, action, actor))
    except ThreadlineError as exc:
        failed = actions[len(results)].type
        error = f"{failed}: {exc.code}: {exc.message}"[:MAX_ERROR]
        results = [*({**r, "undone": True} for r in results),
                   {"type": failed, "error": exc.code}]
        session.refresh(conv)  # the savepoint's rollback expired what the actions changed
    _record(session, conv, rule, batch, index, event, results, error)


def _record(session: Session, conv: Conversation, rule: AutomationRule,
            batch: ConversationEvents, index: int, event: str,
            results: list[dict[str, Any]], error: str | None) -> None:
    """The run (unique per rule, job and event), its audit record and the live event."""
    status = "failed" if error else "fired"
    session.add(AutomationRun(workspace_id=conv.workspace_id, rule_id=rule.id,
                              conversation_id=conv.id, job_id=batch.job_id,
                              event_index=index, event=event, status=status, result=results,
                              error=error, created_at=utcnow()))
    session.flush()
    audit(session, conv.workspace_id, FIRED_ACTION, "conversation", conv.id,
          actor_type="system", actor_id=f"automation:{rule.id}",
          data={"rule_id": str(rule.id), "rule": rule.name, "event": event, "status": status,
                "actions": [r["type"] for r in results], "reason": error,
                "chain": [*batch.chain, str(rule.id)]})
    publish(session, conv.workspace_id, FIRED_ACTION,
            {"conversation_id": str(conv.id), "rule_id": str(rule.id), "rule": rule.name,
             "status": status})
    log.info("automation rule fired", extra={"rule_id": str(rule.id), "status": status})
